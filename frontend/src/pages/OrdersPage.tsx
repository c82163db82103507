import { Link, useSearchParams } from 'react-router-dom';
import { useGetOrdersQuery } from '../api/shopApi';
import { ErrorNote } from '../components/ErrorNote';
import { Money } from '../components/Money';
import { Pagination } from '../components/Pagination';
import { Spinner } from '../components/Spinner';
import { StatusBadge } from '../components/StatusTimeline';
import { formatDateTime } from '../lib/dates';

export function OrdersPage() {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  const { data, error, isLoading, refetch } = useGetOrdersQuery({ page, page_size: 10 }, { refetchOnMountOrArgChange: true });
  if (isLoading) return <Spinner label="Loading your orders…" />;
  return (
    <div className="page">
      <h1>Your orders</h1>
      <ErrorNote error={error} onRetry={refetch} />
      {data && data.items.length === 0 && (
        <div className="empty">
          <h2>No orders yet</h2>
          <Link to="/" className="btn btn-accent">
            Start shopping
          </Link>
        </div>
      )}
      {data && data.items.length > 0 && (
        <>
          <ul className="orders" aria-label="Orders">
            {data.items.map((o) => (
              <li key={o.id} className="order-row" data-testid="order-row">
                <Link to={`/orders/${o.id}`} className="order-link">
                  <span className="mono">{o.id.slice(0, 8)}</span>
                  <span className="muted">{formatDateTime(o.created_at)}</span>
                  <span>
                    {o.items.reduce((n, l) => n + l.quantity, 0)} item
                    {o.items.reduce((n, l) => n + l.quantity, 0) === 1 ? '' : 's'}
                  </span>
                  <Money cents={o.total_cents} currency={o.currency} className="price" />
                  <StatusBadge status={o.status} />
                </Link>
              </li>
            ))}
          </ul>
          <Pagination
            page={data.page}
            pageSize={data.page_size}
            total={data.total}
            onPage={(p) => setParams(p > 1 ? { page: String(p) } : {})}
          />
        </>
      )}
    </div>
  );
}
