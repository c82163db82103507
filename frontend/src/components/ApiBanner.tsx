import { useAppDispatch, useAppSelector, useAppStore } from '../app/hooks';
import { retryFailedQueries } from '../api/retry';
import { apiReachable } from '../features/ui/uiSlice';

/** Shown while the platform cannot be reached; Retry asks again. */
export function ApiBanner() {
  const { apiDown, apiDownDetail } = useAppSelector((s) => s.ui);
  const dispatch = useAppDispatch();
  const store = useAppStore();
  if (!apiDown) return null;
  const retry = () => {
    dispatch(apiReachable());
    retryFailedQueries(store);
  };
  return (
    <div className="api-banner" role="alert">
      <span>
        <strong>The shop is having trouble right now.</strong> {apiDownDetail}
      </span>
      <button type="button" className="btn btn-small btn-light" onClick={retry}>
        Retry
      </button>
    </div>
  );
}
