import type { AuthAnswer, Cart, Order, Product, User } from '../api/types';
import type { AuthState } from '../features/auth/authSlice';

export const user: User = {
  id: '11111111-1111-4111-8111-111111111111',
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  role: 'customer',
  created_at: '2026-12-01T10:00:00Z',
};

export function session(overrides: Partial<AuthState> = {}): AuthState {
  return { token: 'token-1', user, expiresAt: Date.now() + 15 * 60 * 1000, notice: null, ...overrides };
}

export function authAnswer(token = 'token-1'): AuthAnswer {
  return { user, access_token: token, token_type: 'Bearer', expires_in: 900 };
}

export function product(n: number, overrides: Partial<Product> = {}): Product {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    sku: `SKU-${n}`,
    name: `Product ${n}`,
    description: `The description of product ${n}.`,
    category: 'audio',
    price_cents: 1000 + n,
    currency: 'USD',
    image_url: '',
    stock: 10,
    created_at: '2026-12-01T10:00:00Z',
    updated_at: '2026-12-01T10:00:00Z',
    ...overrides,
  };
}

export function cart(lines: { p: Product; quantity: number }[]): Cart {
  const items = lines.map(({ p, quantity }) => ({
    product_id: p.id,
    sku: p.sku,
    name: p.name,
    unit_price_cents: p.price_cents,
    added_price_cents: p.price_cents,
    quantity,
    line_total_cents: p.price_cents * quantity,
    available: true,
  }));
  return {
    items,
    item_count: items.reduce((n, l) => n + l.quantity, 0),
    total_cents: items.reduce((n, l) => n + l.line_total_cents, 0),
    currency: 'USD',
    updated_at: '2026-12-01T10:00:00Z',
    prices: 'current',
  };
}

export function order(status: Order['status'], c: Cart, overrides: Partial<Order> = {}): Order {
  const history: Order['status_history'] = [{ status: 'pending', at: '2026-12-01T10:00:00Z' }];
  if (status !== 'pending') history.push({ status, at: '2026-12-01T10:00:01Z' });
  return {
    id: '22222222-2222-4222-8222-222222222222',
    user_id: user.id,
    status,
    items: c.items.map(({ added_price_cents: _a, available: _b, ...l }) => l),
    total_cents: c.total_cents,
    currency: c.currency,
    shipping_address: { name: 'Ada Lovelace', line1: '1 Main St', city: 'London', postal_code: 'N1 9GU', country: 'GB' },
    payment:
      status === 'pending'
        ? null
        : {
            status: status === 'confirmed' ? 'succeeded' : 'declined',
            payment_id: '33333333-3333-4333-8333-333333333333',
            failure_reason: status === 'failed' ? 'card_declined' : null,
          },
    status_history: history,
    created_at: '2026-12-01T10:00:00Z',
    updated_at: '2026-12-01T10:00:01Z',
    ...overrides,
  };
}
