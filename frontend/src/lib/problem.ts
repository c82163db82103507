import type { FetchBaseQueryError } from '@reduxjs/toolkit/query';
import type { SerializedError } from '@reduxjs/toolkit';
import type { Problem } from '../api/types';

type AnyError = FetchBaseQueryError | SerializedError | undefined | null;

function isFetchError(e: AnyError): e is FetchBaseQueryError {
  return !!e && typeof e === 'object' && 'status' in e;
}

/** The problem+json body of a failed request, when the server sent one. */
export function problemOf(e: AnyError): Problem | null {
  if (!isFetchError(e)) return null;
  const data = (e as { data?: unknown }).data;
  if (data && typeof data === 'object' && !Array.isArray(data)) return data as Problem;
  return null;
}

/** The HTTP status of a failed request, or null (network error, ...). */
export function statusOf(e: AnyError): number | null {
  if (!isFetchError(e)) return null;
  return typeof e.status === 'number' ? e.status : null;
}

/** True when the request never got an answer from the platform: the
 * network, or the gateway saying the service behind it is away. */
export function isUnreachable(e: AnyError): boolean {
  if (!isFetchError(e)) return false;
  if (e.status === 'FETCH_ERROR' || e.status === 'TIMEOUT_ERROR') return true;
  return e.status === 502 || e.status === 503 || e.status === 504;
}

/** One sentence for the shopper: the problem's detail when there is one. */
export function messageOf(e: AnyError, fallback = 'Something went wrong. Please try again.'): string {
  if (!e) return fallback;
  const p = problemOf(e);
  if (p?.detail) return capitalize(p.detail);
  if (p?.title) return p.title;
  if (isFetchError(e)) {
    if (e.status === 'FETCH_ERROR') return 'The shop cannot be reached. Check your connection and try again.';
    if (e.status === 'TIMEOUT_ERROR') return 'The shop took too long to answer. Please try again.';
    if (e.status === 'PARSING_ERROR') return 'The shop sent an answer this page does not understand.';
  }
  if ('message' in e && typeof e.message === 'string' && e.message) return e.message;
  return fallback;
}

/** Field-level validation errors keyed by field ("shipping_address.city"). */
export function fieldErrorsOf(e: AnyError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const fe of problemOf(e)?.errors ?? []) {
    if (fe && typeof fe.field === 'string' && !(fe.field in out)) out[fe.field] = fe.message;
  }
  return out;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
