/**
 * The order statistics every report shares (fuzz's lost-write distribution, compare's and fuzz
 * --variant's table), so one figure means one thing wherever it is printed.
 *
 * - median: the middle value of the sorted sample, or the mean of the two middle values when
 *   the sample has an even size (the textbook median; it may be fractional: 0, 1 → 0.5);
 * - percentile: nearest rank, the smallest value with at least p% of the sample at or below it
 *   (always a value of the sample);
 * an empty sample gives 0 for both.
 */

/** The median of `xs` (unsorted; not modified). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The nearest-rank p-th percentile of `xs` (0 < p ≤ 100; unsorted; not modified). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
