/**
 * The delay before the n-th (0-based) poll of something that is still
 * pending: first, first*factor, ... up to max. The live order page polls
 * with it until the order leaves `pending`.
 */
export function pollDelay(n: number, first = 500, factor = 1.6, max = 5000): number {
  if (!Number.isFinite(n) || n < 0) return first;
  return Math.min(max, Math.round(first * factor ** n));
}
