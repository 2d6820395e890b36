import { InvalidInputError } from './errors.ts';
import type { Market } from './markets.ts';

/** Every Binance kline interval (Binance API docs, "Kline/Candlestick chart intervals"). */
export const INTERVALS = ['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M'] as const;
export type Interval = (typeof INTERVALS)[number];

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Nominal length of a candle in ms; `1M` is given as 31 days (its longest month). */
export const INTERVAL_MS: Record<Interval, number> = {
  '1s': 1000, '1m': MINUTE_MS, '3m': 3 * MINUTE_MS, '5m': 5 * MINUTE_MS, '15m': 15 * MINUTE_MS,
  '30m': 30 * MINUTE_MS, '1h': HOUR_MS, '2h': 2 * HOUR_MS, '4h': 4 * HOUR_MS, '6h': 6 * HOUR_MS,
  '8h': 8 * HOUR_MS, '12h': 12 * HOUR_MS, '1d': DAY_MS, '3d': 3 * DAY_MS, '1w': 7 * DAY_MS, '1M': 31 * DAY_MS,
};

/** Parses an interval for a market. `1s` exists only on spot. Case matters (`1m` ≠ `1M`). */
export function parseInterval(value: string, market: Market): Interval {
  const interval = value.trim();
  if (!(INTERVALS as readonly string[]).includes(interval)) {
    throw new InvalidInputError(`interval: "${value}" is not a Binance interval; use one of ${INTERVALS.join(' ')}`, { interval: value });
  }
  if (interval === '1s' && market !== 'spot') {
    throw new InvalidInputError(`interval: 1s exists only on spot, not on ${market}`, { interval: value, market });
  }
  return interval as Interval;
}

/** The interval as Vision spells it in paths and file names: `1M` is `1mo` (DESIGN.md, Words). */
export function visionIntervalName(interval: Interval): string {
  return interval === '1M' ? '1mo' : interval;
}

/** Vision publishes daily files only for `1s` … `1d` (DESIGN.md, Words); longer intervals are monthly only. */
export function hasVisionDailyFiles(interval: Interval): boolean {
  return INTERVAL_MS[interval] <= DAY_MS;
}

const MONDAY_OFFSET_MS = 4 * DAY_MS; // 1970-01-05 was the first Monday; weekly candles open on Mondays.

/**
 * The open_time (UTC epoch ms) before which every candle of this interval has closed at `nowMs`:
 * candles with `open_time < closedEndMs(...)` are closed, the candle opening at it is the
 * unfinished one. Grid-aligned for fixed intervals, month starts for `1M`, Mondays for `1w`.
 * For `3d` Binance's grid is not documented, so it is `nowMs - 3d + 1` (conservative: it never
 * calls an open candle closed).
 */
export function closedEndMs(nowMs: number, interval: Interval): number {
  if (interval === '1M') {
    const d = new Date(nowMs);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  if (interval === '1w') return nowMs - mod(nowMs - MONDAY_OFFSET_MS, INTERVAL_MS['1w']);
  if (interval === '3d') return nowMs - INTERVAL_MS['3d'] + 1;
  return nowMs - mod(nowMs, INTERVAL_MS[interval]);
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/**
 * Rounds a half-open open_time range outward to the interval's grid: the start down and the end
 * up to a candle boundary (month starts for `1M`, Mondays for `1w`, UTC days for `3d`, whose grid
 * Binance does not document). Planning on the aligned range lets an inclusive public end such as
 * `23:59` (range end `23:59:00.001`) fill, and cover, its whole day or month; the answer is still
 * filtered to the requested range.
 */
export function alignRangeToInterval(range: { startMs: number; endMs: number }, interval: Interval): { startMs: number; endMs: number } {
  const floor = (ms: number): number => gridFloor(ms, interval);
  const step = (ms: number): number => gridNext(ms, interval);
  const startMs = floor(range.startMs);
  const lastStart = floor(range.endMs - 1);
  return { startMs, endMs: Math.max(startMs, step(lastStart)) };
}

function gridFloor(ms: number, interval: Interval): number {
  if (interval === '1M') {
    const d = new Date(ms);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  if (interval === '1w') return ms - mod(ms - MONDAY_OFFSET_MS, INTERVAL_MS['1w']);
  if (interval === '3d') return ms - mod(ms, DAY_MS);
  return ms - mod(ms, INTERVAL_MS[interval]);
}

function gridNext(gridMs: number, interval: Interval): number {
  if (interval === '1M') {
    const d = new Date(gridMs);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  return gridMs + (interval === '3d' ? DAY_MS : INTERVAL_MS[interval]);
}
