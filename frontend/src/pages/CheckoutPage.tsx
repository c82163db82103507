import { useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { useAppSelector } from '../app/hooks';
import { useGetCartQuery, usePlaceOrderMutation } from '../api/shopApi';
import type { ShippingAddress } from '../api/types';
import { ErrorNote } from '../components/ErrorNote';
import { Field } from '../components/Field';
import { Money } from '../components/Money';
import { Spinner } from '../components/Spinner';
import { selectUser } from '../features/auth/authSlice';
import { TEST_CARDS } from '../lib/cards';
import { IdempotencyKeys } from '../lib/idempotency';
import { fieldErrorsOf, messageOf, statusOf } from '../lib/problem';

type AddressForm = Required<ShippingAddress>;

export function CheckoutPage() {
  const user = useAppSelector(selectUser);
  const navigate = useNavigate();
  const { data: cart, isLoading, error: cartError, refetch } = useGetCartQuery();
  const [placeOrder, { isLoading: placing, error }] = usePlaceOrderMutation();
  const [address, setAddress] = useState<AddressForm>({
    name: user?.name ?? '',
    line1: '',
    line2: '',
    city: '',
    postal_code: '',
    country: 'US',
  });
  const [card, setCard] = useState(TEST_CARDS[0]!.token);
  const keys = useRef(new IdempotencyKeys());

  if (isLoading) return <Spinner label="Loading your cart…" />;
  if (!cart) return <ErrorNote error={cartError} onRetry={refetch} />;
  if (cart.items.length === 0) {
    return (
      <div className="page narrow">
        <h1>Checkout</h1>
        <div className="empty">
          <h2>Your cart is empty</h2>
          <Link to="/" className="btn btn-accent">
            Start shopping
          </Link>
        </div>
      </div>
    );
  }

  const fields = fieldErrorsOf(error);
  const fieldError = (k: keyof AddressForm) => fields[`shipping_address.${k}`] ?? fields[k];
  const status = statusOf(error);
  const addressErrors = Object.keys(fields).some((k) => k.startsWith('shipping_address'));
  const general = error && (!addressErrors || status !== 400) ? messageOf(error) : null;
  const set = (k: keyof AddressForm) => (e: { target: { value: string } }) =>
    setAddress({ ...address, [k]: k === 'country' ? e.target.value.toUpperCase() : e.target.value });

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const shipping_address: ShippingAddress = {
      name: address.name.trim(),
      line1: address.line1.trim(),
      city: address.city.trim(),
      postal_code: address.postal_code.trim(),
      country: address.country.trim(),
    };
    if (address.line2.trim()) shipping_address.line2 = address.line2.trim();
    const body = { payment_token: card, shipping_address };
    try {
      const order = await placeOrder({ ...body, idempotencyKey: keys.current.keyFor(body) }).unwrap();
      navigate(`/orders/${order.id}`, { state: { placed: true } });
    } catch {
      /* shown below */
    }
  };

  return (
    <div className="page">
      <h1>Checkout</h1>
      <form className="checkout" onSubmit={onSubmit} noValidate aria-label="Checkout">
        <div className="checkout-main">
          <fieldset className="panel">
            <legend>Shipping address</legend>
            <Field id="ship-name" label="Full name" autoComplete="name" value={address.name} error={fieldError('name')} onChange={set('name')} />
            <Field
              id="ship-line1"
              label="Address"
              autoComplete="address-line1"
              value={address.line1}
              error={fieldError('line1')}
              onChange={set('line1')}
            />
            <Field
              id="ship-line2"
              label="Apartment, suite (optional)"
              autoComplete="address-line2"
              value={address.line2}
              error={fieldError('line2')}
              onChange={set('line2')}
            />
            <div className="field-row">
              <Field id="ship-city" label="City" autoComplete="address-level2" value={address.city} error={fieldError('city')} onChange={set('city')} />
              <Field
                id="ship-postal"
                label="Postal code"
                autoComplete="postal-code"
                value={address.postal_code}
                error={fieldError('postal_code')}
                onChange={set('postal_code')}
              />
              <Field
                id="ship-country"
                label="Country"
                autoComplete="country"
                hint="Two letters, e.g. US, DE"
                maxLength={2}
                value={address.country}
                error={fieldError('country')}
                onChange={set('country')}
              />
            </div>
          </fieldset>
          <fieldset className="panel cards">
            <legend>Payment (test cards)</legend>
            {TEST_CARDS.map((c) => (
              <label key={c.token} className={`card-choice ${card === c.token ? 'on' : ''}`}>
                <input type="radio" name="card" value={c.token} checked={card === c.token} onChange={() => setCard(c.token)} />
                <span>
                  <strong>{c.label}</strong> <span className="muted">— {c.hint}</span>
                </span>
              </label>
            ))}
            {fields.payment_token && <span className="error-text">{fields.payment_token}</span>}
          </fieldset>
        </div>
        <aside className="summary" aria-label="Order summary">
          <h2>Your order</h2>
          <ul className="summary-lines">
            {cart.items
              .filter((l) => l.available !== false)
              .map((l) => (
                <li key={l.product_id}>
                  <span>
                    {l.quantity} × {l.name}
                  </span>
                  <Money cents={l.line_total_cents} currency={cart.currency} />
                </li>
              ))}
          </ul>
          <p className="summary-row total">
            <span>Total</span>
            <Money cents={cart.total_cents} currency={cart.currency} />
          </p>
          {general && (
            <p className="error-note" role="alert">
              {general}
              {status === 409 && (
                <>
                  {' '}
                  <Link to="/cart">Review your cart</Link>
                </>
              )}
            </p>
          )}
          <button type="submit" className="btn btn-accent btn-block btn-large" disabled={placing}>
            {placing ? 'Placing your order…' : 'Place order'}
          </button>
          <p className="muted small">No real card is charged: this shop’s payment processor is a simulator.</p>
        </aside>
      </form>
    </div>
  );
}
