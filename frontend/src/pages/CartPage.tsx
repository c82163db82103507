import { useState } from 'react';
import { Link } from 'react-router-dom';
import { useAppDispatch } from '../app/hooks';
import { useClearCartMutation, useGetCartQuery, useRemoveLineMutation, useSetQuantityMutation } from '../api/shopApi';
import type { CartLine } from '../api/types';
import { ErrorNote } from '../components/ErrorNote';
import { Money } from '../components/Money';
import { Spinner } from '../components/Spinner';
import { toastShown } from '../features/ui/uiSlice';
import { messageOf } from '../lib/problem';

export const MAX_QUANTITY = 99;

function Line({ line, currency }: { line: CartLine; currency: string }) {
  const dispatch = useAppDispatch();
  const [setQuantity, setState] = useSetQuantityMutation();
  const [remove, removeState] = useRemoveLineMutation();
  const busy = setState.isLoading || removeState.isLoading;
  // what the shopper is typing; sent on Enter or when the field loses focus
  const [typed, setTyped] = useState<string | null>(null);
  const change = async (quantity: number) => {
    try {
      await setQuantity({ product_id: line.product_id, quantity }).unwrap();
    } catch (e) {
      dispatch(toastShown(messageOf(e as never), 'error'));
    }
  };
  const commit = () => {
    if (typed === null) return;
    const n = Number(typed);
    setTyped(null);
    if (!Number.isInteger(n) || n < 0 || n > MAX_QUANTITY) {
      dispatch(toastShown(`A quantity is a whole number from 0 to ${MAX_QUANTITY}.`, 'error'));
      return;
    }
    if (n !== line.quantity) void change(n);
  };
  return (
    <li className="cart-line" data-testid="cart-line">
      <div className="cart-line-main">
        <Link to={`/products/${line.product_id}`} className="cart-line-name">
          {line.name}
        </Link>
        <span className="muted small">
          <Money cents={line.unit_price_cents} currency={currency} /> each
        </span>
        {line.available === false && <span className="warn small">No longer available: remove it to check out.</span>}
        {line.available !== false &&
          line.added_price_cents !== undefined &&
          line.added_price_cents !== line.unit_price_cents && (
            <span className="warn small">
              The price changed since you added it (it was <Money cents={line.added_price_cents} currency={currency} />).
            </span>
          )}
      </div>
      <div className="qty" role="group" aria-label={`Change the quantity of ${line.name}`}>
        <button
          type="button"
          className="btn btn-ghost btn-small"
          aria-label={`One fewer ${line.name}`}
          disabled={busy}
          onClick={() => change(line.quantity - 1)}
        >
          −
        </button>
        <label className="visually-hidden" htmlFor={`qty-${line.product_id}`}>
          Quantity of {line.name}
        </label>
        <input
          id={`qty-${line.product_id}`}
          type="number"
          inputMode="numeric"
          min={0}
          max={MAX_QUANTITY}
          value={typed ?? String(line.quantity)}
          disabled={busy}
          onChange={(e) => setTyped(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commit();
            if (e.key === 'Escape') setTyped(null);
          }}
          onBlur={commit}
        />
        <button
          type="button"
          className="btn btn-ghost btn-small"
          aria-label={`One more ${line.name}`}
          disabled={busy || line.quantity >= MAX_QUANTITY}
          onClick={() => change(line.quantity + 1)}
        >
          +
        </button>
      </div>
      <Money cents={line.line_total_cents} currency={currency} className="cart-line-total" />
      <button
        type="button"
        className="btn btn-ghost btn-small remove"
        aria-label={`Remove ${line.name}`}
        disabled={busy}
        onClick={async () => {
          try {
            await remove(line.product_id).unwrap();
          } catch (e) {
            dispatch(toastShown(messageOf(e as never), 'error'));
          }
        }}
      >
        Remove
      </button>
    </li>
  );
}

export function CartPage() {
  const { data: cart, error, isLoading, refetch } = useGetCartQuery();
  const [clear, clearState] = useClearCartMutation();
  if (isLoading) return <Spinner label="Loading your cart…" />;
  if (!cart) return <ErrorNote error={error} onRetry={refetch} />;
  if (cart.items.length === 0) {
    return (
      <div className="page narrow">
        <h1>Your cart</h1>
        <div className="empty">
          <h2>Your cart is empty</h2>
          <p className="muted">Find something you like in the catalog.</p>
          <Link to="/" className="btn btn-accent">
            Start shopping
          </Link>
        </div>
      </div>
    );
  }
  return (
    <div className="page">
      <h1>Your cart</h1>
      <ErrorNote error={error} onRetry={refetch} />
      {cart.prices === 'stored' && (
        <p className="notice">Today’s prices cannot be checked right now: these are the prices when you added each item.</p>
      )}
      <div className="cart-layout">
        <ul className="cart-lines" aria-label="Cart items">
          {cart.items.map((l) => (
            <Line key={l.product_id} line={l} currency={cart.currency} />
          ))}
        </ul>
        <aside className="summary" aria-label="Order summary">
          <h2>Summary</h2>
          <p className="summary-row">
            <span>
              Items (<span data-testid="summary-count">{cart.item_count}</span>)
            </span>
            <Money cents={cart.total_cents} currency={cart.currency} />
          </p>
          <p className="summary-row">
            <span>Shipping</span>
            <span>Free</span>
          </p>
          <p className="summary-row total">
            <span>Total</span>
            <Money cents={cart.total_cents} currency={cart.currency} className="" />
          </p>
          <Link to="/checkout" className="btn btn-accent btn-block btn-large">
            Check out
          </Link>
          <button
            type="button"
            className="btn btn-ghost btn-block"
            disabled={clearState.isLoading}
            onClick={() => void clear()}
          >
            Empty cart
          </button>
          <p className="muted small">Prices are today’s; they are fixed when you place the order.</p>
        </aside>
      </div>
    </div>
  );
}
