/**
 * Small measuring helpers shared by the benchmarks: wall-clock timing (performance.now, ms),
 * percentiles by the nearest-rank method, and rows/s.
 */

/** Runs `body` and returns its result with the elapsed wall time in ms. */
export async function timed<T>(body: () => Promise<T> | T): Promise<{ value: T; elapsedMs: number }> {
  const startedMs = performance.now();
  const value = await body();
  return { value, elapsedMs: performance.now() - startedMs };
}

/** The nearest-rank percentile `p` (0–100) of `samples` (ms); NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** Rows per second for `rows` rows in `elapsedMs` ms. */
export function rowsPerSecond(rows: number, elapsedMs: number): number {
  return rows / (elapsedMs / 1000);
}

/** `1234567` → `1,234,567` (rounded). */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Milliseconds with one decimal: `12.3 ms`. */
export function formatMs(value: number): string {
  return `${value.toFixed(1)} ms`;
}

/** Lets the event loop and a pending GC settle between phases (needs --expose-gc for the GC). */
export async function settle(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, 20));
}
