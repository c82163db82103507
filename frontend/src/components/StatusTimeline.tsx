import type { Order } from '../api/types';
import { formatDateTime } from '../lib/dates';

const LABEL: Record<string, string> = {
  pending: 'Order placed',
  confirmed: 'Payment received, order confirmed',
  failed: 'Payment failed, order cancelled',
};

export function StatusTimeline({ order }: { order: Order }) {
  return (
    <ol className="timeline" aria-label="Order status history">
      {order.status_history.map((h, i) => (
        <li key={`${h.status}-${i}`} className={`tl-${h.status}`}>
          <span className="tl-dot" aria-hidden="true" />
          <span className="tl-label">{LABEL[h.status] ?? h.status}</span>
          <time dateTime={h.at} className="muted small">
            {formatDateTime(h.at)}
          </time>
        </li>
      ))}
      {order.status === 'pending' && (
        <li className="tl-next">
          <span className="tl-dot" aria-hidden="true" />
          <span className="tl-label muted">Waiting for the payment…</span>
        </li>
      )}
    </ol>
  );
}

export function StatusBadge({ status }: { status: Order['status'] }) {
  const text = status === 'pending' ? 'Processing' : status === 'confirmed' ? 'Confirmed' : 'Failed';
  return (
    <span className={`status status-${status}`} data-testid="order-status">
      {text}
    </span>
  );
}
