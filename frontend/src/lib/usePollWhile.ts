import { useEffect, useRef } from 'react';
import { pollDelay } from './backoff';

/**
 * Calls refetch after pollDelay(0), pollDelay(1), ... for as long as
 * `while` holds, counting from the answer each call brings (`stamp` changes
 * with every answer, e.g. RTK Query's fulfilledTimeStamp). Stops after
 * maxPolls, when `while` turns false or on unmount.
 */
export function usePollWhile(
  active: boolean,
  stamp: number | undefined,
  refetch: () => unknown,
  opts: { first?: number; factor?: number; max?: number; maxPolls?: number } = {},
): void {
  const n = useRef(0);
  const { first = 500, factor = 1.6, max = 5000, maxPolls = Infinity } = opts;
  useEffect(() => {
    if (!active) {
      n.current = 0;
      return;
    }
    if (n.current >= maxPolls) return;
    const t = setTimeout(() => {
      n.current++;
      refetch();
    }, pollDelay(n.current, first, factor, max));
    return () => clearTimeout(t);
    // stamp: poll again after each answer
  }, [active, stamp, refetch, first, factor, max, maxPolls]);
}
