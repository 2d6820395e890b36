/**
 * The planner: a pure function from (request, coverage, now) to the cached pieces to read and the
 * cheapest fetches for each gap (DESIGN.md, The flow, step 2). No I/O, so it is table-tested.
 *
 * Rules, in order, for each gap (requested ∩ closed − covered):
 * - a whole UTC month whose monthly Vision file should be published → one `vision-monthly` fetch;
 * - else each whole UTC day whose daily file should be published (intervals `1s` … `1d` only)
 *   → one `vision-daily` fetch;
 * - the rest (recent unpublished days, partial-day edges) → `rest` fetches, adjacent pieces merged.
 * `source: 'rest'` plans REST only. `source: 'vision'` plans Vision only: partial days and
 * unpublished periods use the file that contains them, and the executor keeps the rows inside
 * the piece. Fallbacks on 404 or failure are the executor's (see fallbackFetches).
 */
import { alignRangeToInterval, closedEndMs, hasVisionDailyFiles, INTERVAL_MS, type Interval } from '../domain/intervals.ts';
import type { Dataset } from '../domain/kline.ts';
import {
  intersectRanges, normalizeRanges, splitByDay, splitByMonth, subtractRanges, utcDayStart, utcMonthStart, type Range,
} from '../domain/ranges.ts';

/** Which upstreams a request may use (the seed docs' `enforce_source`). */
export type SourceMode = 'auto' | 'vision' | 'rest';

/**
 * One upstream fetch. `range` is the gap piece it fills (half-open open_time range). For Vision,
 * `fileStartMs` is the start of the UTC day or month whose file holds the piece.
 */
export type Fetch =
  | { readonly kind: 'vision-monthly' | 'vision-daily'; readonly range: Range; readonly fileStartMs: number }
  | { readonly kind: 'rest'; readonly range: Range };

/** A plan: what the cache answers and what must be fetched. */
export interface Plan {
  /** The requested range rounded out to the interval's grid and clipped to closed candles. */
  readonly requested: Range;
  /** open_time before which every candle is closed (the unfinished candle opens at or after it). */
  readonly closedEndMs: number;
  /** requested ∩ covered: read from the cache. */
  readonly cached: readonly Range[];
  /** requested ∩ closed − covered. */
  readonly gaps: readonly Range[];
  readonly fetches: readonly Fetch[];
}

/** Input of planFetches. `range` is half-open; `covered` is the union of the periods' coverage. */
export interface PlanInput {
  readonly dataset: Dataset;
  readonly range: Range;
  readonly covered: readonly Range[];
  readonly nowMs: number;
  readonly source: SourceMode;
}

/**
 * How long after its day ends a daily Vision file is assumed published ("roughly a day after the
 * day", DESIGN.md). Being wrong costs one 404 and a fallback, never a wrong answer.
 */
export const VISION_DAILY_LAG_MS = 30 * 3_600_000;
/** How long after its month ends a monthly Vision file is assumed published ("early in the next month"). */
export const VISION_MONTHLY_LAG_MS = 3 * 86_400_000;

/** Plans a request. Pure. */
export function planFetches(input: PlanInput): Plan {
  const closedEnd = closedEndMs(input.nowMs, input.dataset.interval);
  const aligned = alignRangeToInterval(input.range, input.dataset.interval);
  const requested = { startMs: aligned.startMs, endMs: Math.max(aligned.startMs, Math.min(aligned.endMs, closedEnd)) };
  const cached = intersectRanges([requested], input.covered);
  const gaps = subtractRanges([requested], input.covered);
  const fetches = gaps.flatMap((gap) => planGap(gap, input.dataset.interval, input.nowMs, input.source));
  return { requested, closedEndMs: closedEnd, cached, gaps, fetches };
}

function planGap(gap: Range, interval: Interval, nowMs: number, source: SourceMode): Fetch[] {
  if (source === 'rest') return restFetches([gap]);
  const fetches: Fetch[] = [];
  const rest: Range[] = [];
  for (const month of splitByMonth(gap)) {
    const monthStart = utcMonthStart(month.startMs);
    const monthEnd = utcMonthStart(month.startMs, 1);
    const wholeMonth = month.startMs === monthStart && month.endMs === monthEnd;
    if (wholeMonth && monthEnd + VISION_MONTHLY_LAG_MS <= nowMs) {
      fetches.push({ kind: 'vision-monthly', range: month, fileStartMs: monthStart });
      continue;
    }
    if (!hasVisionDailyFiles(interval)) {
      if (source === 'vision') fetches.push({ kind: 'vision-monthly', range: month, fileStartMs: monthStart });
      else rest.push(month);
      continue;
    }
    const { vision, other } = planDays(month, nowMs, source);
    fetches.push(...vision);
    rest.push(...other);
  }
  return [...fetches, ...restFetches(rest)];
}

function planDays(range: Range, nowMs: number, source: SourceMode): { vision: Fetch[]; other: Range[] } {
  const vision: Fetch[] = [];
  const other: Range[] = [];
  for (const day of splitByDay(range)) {
    const dayStart = utcDayStart(day.startMs);
    const dayEnd = dayStart + 86_400_000;
    const wholeDay = day.startMs === dayStart && day.endMs === dayEnd;
    if (source === 'vision' || (wholeDay && dayEnd + VISION_DAILY_LAG_MS <= nowMs)) {
      vision.push({ kind: 'vision-daily', range: day, fileStartMs: dayStart });
    } else {
      other.push(day);
    }
  }
  return { vision, other };
}

function restFetches(ranges: readonly Range[]): Fetch[] {
  return normalizeRanges(ranges).map((range) => ({ kind: 'rest' as const, range }));
}

/**
 * What replaces a Vision fetch that found no file (404) or failed (DESIGN.md: "Vision 404 or
 * failure falls back to daily files, then REST, for that range only"): a monthly file falls back
 * to the daily files of its whole published days and REST for the rest; a daily file to REST.
 * With `source: 'vision'` a daily file has no fallback (returns []: the caller reports the gap).
 */
export function fallbackFetches(fetch: Fetch, interval: Interval, nowMs: number, source: SourceMode): Fetch[] {
  if (fetch.kind === 'rest') return [];
  if (fetch.kind === 'vision-monthly' && hasVisionDailyFiles(interval)) {
    const { vision, other } = planDays(fetch.range, nowMs, source);
    return [...vision, ...(source === 'vision' ? [] : restFetches(other))];
  }
  return source === 'vision' ? [] : restFetches([fetch.range]);
}

/**
 * The REST fetch that completes a Vision file whose rows stop early (DESIGN.md: "a file whose rows
 * stop early is completed from REST for the rest of its range"): rows end before the last candle
 * of the piece when `lastOpen + interval < piece end`. Returns undefined when the file is complete.
 * Outage holes inside a file are real (SOURCES.md) and are not re-fetched; only the tail is.
 */
export function completionFetch(piece: Range, lastOpenMs: number | undefined, interval: Interval): Fetch | undefined {
  const startMs = lastOpenMs === undefined ? piece.startMs : lastOpenMs + 1;
  if (lastOpenMs !== undefined && lastOpenMs + INTERVAL_MS[interval] >= piece.endMs) return undefined;
  if (startMs >= piece.endMs) return undefined;
  return { kind: 'rest', range: { startMs, endMs: piece.endMs } };
}
