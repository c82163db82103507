import type { AppStore } from '../app/store';
import { shopApi } from './shopApi';

type Endpoint = { initiate: (arg: unknown, opts: { forceRefetch: boolean; subscribe: boolean }) => unknown };

/** Asks again every query whose last answer was an error. Returns how many. */
export function retryFailedQueries(store: AppStore): number {
  const queries = store.getState()[shopApi.reducerPath].queries;
  let n = 0;
  for (const q of Object.values(queries)) {
    if (!q || q.status !== 'rejected') continue;
    const ep = (shopApi.endpoints as unknown as Record<string, Endpoint>)[q.endpointName];
    if (!ep) continue;
    store.dispatch(ep.initiate(q.originalArgs, { forceRefetch: true, subscribe: false }) as never);
    n++;
  }
  return n;
}
