import { describe, expect, it } from 'vitest';
import { pollDelay } from './backoff';
import { failureText } from './cards';
import { IdempotencyKeys } from './idempotency';
import { formatMoney } from './money';
import { safeNext } from './next';
import { fieldErrorsOf, isUnreachable, messageOf, problemOf, statusOf } from './problem';

describe('formatMoney', () => {
  it('formats cents in their currency', () => {
    expect(formatMoney(14999, 'USD')).toBe('$149.99');
    expect(formatMoney(0, 'USD')).toBe('$0.00');
    expect(formatMoney(5, 'USD')).toBe('$0.05');
    expect(formatMoney(123456789, 'USD')).toBe('$1,234,567.89');
    expect(formatMoney(1999, 'EUR')).toBe('€19.99');
  });
  it('knows currencies without minor units', () => {
    expect(formatMoney(500, 'JPY')).toBe('¥500');
  });
  it('shows an unknown code as it is instead of throwing', () => {
    expect(formatMoney(1234, 'NOT-A-CODE')).toBe('12.34 NOT-A-CODE');
  });
});

describe('problem+json', () => {
  const validation = {
    status: 400,
    data: {
      type: '/problems/validation-error',
      title: 'Bad Request',
      status: 400,
      detail: 'the order is invalid',
      errors: [
        { field: 'shipping_address.city', message: 'must be 1 to 100 characters' },
        { field: 'shipping_address.country', message: 'must be an ISO 3166-1 alpha-2 code such as DE or US' },
      ],
    },
  } as const;

  it('reads the detail, capitalized', () => {
    expect(messageOf(validation)).toBe('The order is invalid');
    expect(problemOf(validation)?.type).toBe('/problems/validation-error');
    expect(statusOf(validation)).toBe(400);
  });
  it('keys the field errors by field', () => {
    expect(fieldErrorsOf(validation)).toEqual({
      'shipping_address.city': 'must be 1 to 100 characters',
      'shipping_address.country': 'must be an ISO 3166-1 alpha-2 code such as DE or US',
    });
    expect(fieldErrorsOf(undefined)).toEqual({});
  });
  it('says what happened when there is no problem body', () => {
    expect(messageOf({ status: 'FETCH_ERROR', error: 'TypeError: Failed to fetch' })).toMatch(/cannot be reached/);
    expect(messageOf({ status: 'TIMEOUT_ERROR', error: 'timeout' })).toMatch(/too long/);
    expect(messageOf({ status: 500, data: 'oops' })).toBe('Something went wrong. Please try again.');
    expect(messageOf({ message: 'boom' })).toBe('boom');
  });
  it('tells an unreachable platform from a refusal', () => {
    expect(isUnreachable({ status: 'FETCH_ERROR', error: 'x' })).toBe(true);
    expect(isUnreachable({ status: 502, data: null })).toBe(true);
    expect(isUnreachable({ status: 503, data: null })).toBe(true);
    expect(isUnreachable({ status: 504, data: null })).toBe(true);
    expect(isUnreachable({ status: 409, data: null })).toBe(false);
    expect(isUnreachable({ status: 401, data: null })).toBe(false);
    expect(isUnreachable(undefined)).toBe(false);
  });
});

describe('pollDelay', () => {
  it('grows from the first delay up to the cap', () => {
    const d = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => pollDelay(n));
    expect(d[0]).toBe(500);
    for (let i = 1; i < d.length; i++) expect(d[i]!).toBeGreaterThanOrEqual(d[i - 1]!);
    expect(d[1]).toBe(800);
    expect(d.at(-1)).toBe(5000);
    expect(pollDelay(100)).toBe(5000);
    expect(pollDelay(-1)).toBe(500);
  });
});

describe('IdempotencyKeys', () => {
  it('keeps the key while the body is the same, and changes it with the body', () => {
    let n = 0;
    const keys = new IdempotencyKeys(() => `k${++n}`);
    const a = { payment_token: 'tok_visa', shipping_address: { city: 'Paris' } };
    expect(keys.keyFor(a)).toBe('k1');
    expect(keys.keyFor({ ...a })).toBe('k1');
    expect(keys.keyFor({ ...a, payment_token: 'tok_chargeDeclined' })).toBe('k2');
    expect(keys.keyFor(a)).toBe('k3');
  });
  it('makes UUIDs by default', () => {
    expect(new IdempotencyKeys().keyFor({})).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('safeNext', () => {
  it('only lets paths of this site through', () => {
    expect(safeNext('/checkout')).toBe('/checkout');
    expect(safeNext('/?q=lamp')).toBe('/?q=lamp');
    expect(safeNext('//evil.example/x')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
    expect(safeNext('https://evil.example')).toBe('/');
    expect(safeNext('/login?next=/cart')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });
});

describe('failureText', () => {
  it('explains the processor’s reasons', () => {
    expect(failureText('card_declined')).toBe('the card was declined');
    expect(failureText('insufficient_funds')).toBe('the card has insufficient funds');
    expect(failureText('something_new')).toBe('something new');
    expect(failureText(null)).toBe('the payment did not go through');
  });
});
