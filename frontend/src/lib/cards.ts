// The mock processor's test cards (API.md, Payments).
export interface TestCard {
  token: string;
  label: string;
  hint: string;
}

export const TEST_CARDS: TestCard[] = [
  { token: 'tok_visa', label: 'Visa ending 4242', hint: 'succeeds' },
  { token: 'tok_mastercard', label: 'Mastercard ending 4444', hint: 'succeeds' },
  { token: 'tok_chargeDeclined', label: 'Visa ending 0002', hint: 'is declined' },
  { token: 'tok_insufficientFunds', label: 'Visa ending 9995', hint: 'has insufficient funds' },
];

const REASONS: Record<string, string> = {
  card_declined: 'the card was declined',
  insufficient_funds: 'the card has insufficient funds',
  amount_limit_exceeded: 'the amount is over the card’s limit',
};

export function failureText(reason: string | null | undefined): string {
  if (!reason) return 'the payment did not go through';
  return REASONS[reason] ?? reason.replace(/_/g, ' ');
}
