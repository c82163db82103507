import { Link, useLocation, useParams } from 'react-router-dom';
import { useGetEmailsQuery, useGetOrderQuery, useGetPaymentsQuery } from '../api/shopApi';
import type { Order } from '../api/types';
import { ErrorNote } from '../components/ErrorNote';
import { Money } from '../components/Money';
import { Spinner } from '../components/Spinner';
import { StatusBadge, StatusTimeline } from '../components/StatusTimeline';
import { failureText } from '../lib/cards';
import { formatDateTime } from '../lib/dates';
import { statusOf } from '../lib/problem';
import { usePollWhile } from '../lib/usePollWhile';

const KIND: Record<string, string> = {
  welcome: 'Welcome',
  order_confirmed: 'Order confirmation',
  order_failed: 'Payment failed',
};

function Headline({ order }: { order: Order }) {
  if (order.status === 'pending') {
    return (
      <div className="headline headline-pending" role="status" aria-live="polite">
        <span className="spinner-dot" aria-hidden="true" />
        <div>
          <h2>Thank you! We are processing your payment…</h2>
          <p>This page updates by itself.</p>
        </div>
      </div>
    );
  }
  if (order.status === 'confirmed') {
    return (
      <div className="headline headline-confirmed" role="status" aria-live="polite">
        <h2>Your order is confirmed</h2>
        <p>The payment went through. A confirmation email is on its way.</p>
      </div>
    );
  }
  return (
    <div className="headline headline-failed" role="alert">
      <h2>Your payment failed</h2>
      <p>
        We could not charge your card: {failureText(order.payment?.failure_reason)}. Nothing was charged and the order
        is cancelled. <Link to="/cart">Back to your cart</Link>
      </p>
    </div>
  );
}

function PaymentInfo({ order }: { order: Order }) {
  const final = order.status !== 'pending';
  const { data } = useGetPaymentsQuery(order.id, { skip: !final });
  const p = data?.items[0];
  if (!final) return <p className="muted">Waiting for the payment processor.</p>;
  if (!p) return <p className="muted">Loading the payment…</p>;
  return (
    <dl className="facts" data-testid="payment">
      <dt>Result</dt>
      <dd className={p.status === 'succeeded' ? 'ok' : 'bad'}>
        {p.status === 'succeeded' ? 'Succeeded' : `Declined: ${failureText(p.failure_reason)}`}
      </dd>
      <dt>Amount</dt>
      <dd>
        <Money cents={p.amount_cents} currency={p.currency} />
      </dd>
      {p.provider_ref && (
        <>
          <dt>Reference</dt>
          <dd className="mono">{p.provider_ref}</dd>
        </>
      )}
      <dt>When</dt>
      <dd>{formatDateTime(p.created_at)}</dd>
    </dl>
  );
}

function EmailsInfo({ order }: { order: Order }) {
  const final = order.status !== 'pending';
  const emails = useGetEmailsQuery(order.id, { skip: !final });
  const items = emails.data?.items ?? [];
  const settled = items.some((e) => e.status !== 'queued');
  // the mail follows the order's outcome by a moment: ask again until it is sent
  usePollWhile(final && !settled && !emails.isError, emails.fulfilledTimeStamp, emails.refetch, {
    first: 700,
    max: 5000,
    maxPolls: 12,
  });
  if (!final) return <p className="muted">An email follows once the payment is through.</p>;
  if (emails.isLoading) return <p className="muted">Loading…</p>;
  if (items.length === 0) return <p className="muted">The email is being prepared…</p>;
  return (
    <ul className="emails" data-testid="emails">
      {items.map((e) => (
        <li key={e.id}>
          <strong>{KIND[e.kind] ?? e.kind}</strong>: “{e.subject}” to {e.to}{' '}
          <span className={`pill pill-${e.status}`}>{e.status}</span>
          {e.sent_at && <span className="muted small"> {formatDateTime(e.sent_at)}</span>}
        </li>
      ))}
    </ul>
  );
}

export function OrderPage() {
  const { id = '' } = useParams();
  const location = useLocation();
  const placed = (location.state as { placed?: boolean } | null)?.placed;
  const q = useGetOrderQuery(id);
  const order = q.data;
  usePollWhile(order?.status === 'pending', q.fulfilledTimeStamp, q.refetch);

  if (q.isLoading) return <Spinner label="Loading your order…" />;
  if (statusOf(q.error) === 404 || statusOf(q.error) === 400) {
    return (
      <div className="page narrow">
        <h1>Order not found</h1>
        <Link to="/orders" className="btn">
          Your orders
        </Link>
      </div>
    );
  }
  if (!order) return <ErrorNote error={q.error} onRetry={q.refetch} />;
  const a = order.shipping_address;
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/orders">Your orders</Link>
      </nav>
      <div className="order-head">
        <h1>
          Order <span className="mono">{order.id.slice(0, 8)}</span>
        </h1>
        <StatusBadge status={order.status} />
      </div>
      {placed && order.status === 'pending' && <p className="muted">Your order is placed.</p>}
      <Headline order={order} />
      <ErrorNote error={q.error} onRetry={q.refetch} />
      <div className="order-grid">
        <section className="panel">
          <h2>Items</h2>
          <ul className="summary-lines">
            {order.items.map((l) => (
              <li key={l.product_id}>
                <span>
                  {l.quantity} × <Link to={`/products/${l.product_id}`}>{l.name}</Link>
                </span>
                <Money cents={l.line_total_cents} currency={order.currency} />
              </li>
            ))}
          </ul>
          <p className="summary-row total">
            <span>Total</span>
            <Money cents={order.total_cents} currency={order.currency} />
          </p>
        </section>
        <section className="panel">
          <h2>Status</h2>
          <StatusTimeline order={order} />
        </section>
        <section className="panel">
          <h2>Payment</h2>
          <PaymentInfo order={order} />
        </section>
        <section className="panel">
          <h2>Emails</h2>
          <EmailsInfo order={order} />
        </section>
        <section className="panel">
          <h2>Shipping to</h2>
          <address>
            {a.name}
            <br />
            {a.line1}
            {a.line2 && (
              <>
                <br />
                {a.line2}
              </>
            )}
            <br />
            {a.postal_code} {a.city}
            <br />
            {a.country}
          </address>
          <p className="muted small">Placed {formatDateTime(order.created_at)}</p>
        </section>
      </div>
    </div>
  );
}
