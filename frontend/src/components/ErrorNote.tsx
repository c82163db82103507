import type { FetchBaseQueryError } from '@reduxjs/toolkit/query';
import type { SerializedError } from '@reduxjs/toolkit';
import { messageOf } from '../lib/problem';

/** A failed request, in words: the problem's detail, and a retry. */
export function ErrorNote({
  error,
  onRetry,
  fallback,
}: {
  error: FetchBaseQueryError | SerializedError | undefined;
  onRetry?: () => void;
  fallback?: string;
}) {
  if (!error) return null;
  return (
    <div className="error-note" role="alert">
      <span>{messageOf(error, fallback)}</span>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
