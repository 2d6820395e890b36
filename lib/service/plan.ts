/**
 * The planner: a pure function from (request, coverage, now) to the cached pieces to read and the
 * cheapest fetches for each gap (DESIGN.md, The flow, step 2). No I/O, so it is table-tested.
 *
 * Cost model (plan-cost.ts, README "Decisions"): one unit is an HTTP request, a unit of REST
 * weight, or a MiB downloaded. A Vision file costs 2 requests (zip and `.CHECKSUM`), no weight and
 * ~42 bytes a row; a REST page 1 request, its weight (2) and ~180 bytes a row.
 *
 * Whole files (issue 8): when a published Vision file touches a gap, the whole file is fetched
 * and all its rows are kept; it answers (covers) its whole period, so the plan does not depend
 * on which request came first and no file is ever needed twice. For each UTC month a gap touches:
 * - the month's file, when published, unless the month's days cost less (plan-cost.ts) by more
 *   than LARGER_FILE_CREDIT;
 * - else, per day (intervals `1s` … `1d`): the day's file when published and not dearer than the
 *   REST pages for that day's gap plus LARGER_FILE_CREDIT, else REST;
 * - intervals without daily files: REST for the gap when the month's file is not chosen.
 * A gap starting off the grid (the tail of a short file) is REST to the end of its day.
 * Adjacent REST pieces are merged. `source: 'rest'` plans REST only (for the gap itself).
 * `source: 'vision'` never plans REST: a day or month not yet published uses the file that holds
 * it anyway (a 404 is then an error). `knownEmpty` (before the listing, after a delisting) is
 * never fetched. Fallbacks on 404 or failure are the executor's (see fallbackFetches).
 */
import { alignRangeToInterval, closedEndMs, hasVisionDailyFiles, INTERVAL_MS, type Interval } from '../domain/intervals.ts';
import type { Dataset } from '../domain/kline.ts';
import {
  intersectRanges, normalizeRanges, splitByDay, splitByMonth, subtractRanges, unionRanges, utcDayStart, utcMonthStart, type Range,
} from '../domain/ranges.ts';
import { LARGER_FILE_CREDIT, restCost, visionFileCost } from './plan-cost.ts';

/** Which upstreams a request may use (the seed docs' `enforce_source`). */
export type SourceMode = 'auto' | 'vision' | 'rest';

/**
 * One upstream fetch (half-open open_time ranges, UTC epoch ms). A REST fetch asks for `range`.
 * A Vision fetch downloads the file of the UTC day or month starting at `fileStartMs`; `range` is
 * that file's whole period (clipped to closed candles), which it answers; `need` are the gap
 * pieces inside `range` it was planned for (what a fallback must still fill).
 */
export type Fetch =
  | { readonly kind: 'vision-monthly' | 'vision-daily'; readonly range: Range; readonly fileStartMs: number; readonly need: readonly Range[] }
  | { readonly kind: 'rest'; readonly range: Range };

/** A plan: what the cache answers and what must be fetched. */
export interface Plan {
  /** The requested range rounded out to the interval's grid and clipped to closed candles. */
  readonly requested: Range;
  /** open_time before which every candle is closed (the unfinished candle opens at or after it). */
  readonly closedEndMs: number;
  /** requested ∩ covered: read from the cache. */
  readonly cached: readonly Range[];
  /** requested ∩ closed − covered − knownEmpty. */
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
  /** Ranges known to hold no candle (before the first, after a delisted dataset's last): never fetched. */
  readonly knownEmpty?: readonly Range[];
}

/**
 * How long after its day ends a daily Vision file is assumed published ("roughly a day after the
 * day", DESIGN.md). Being wrong costs one 404 and a fallback, never a wrong answer.
 */
export const VISION_DAILY_LAG_MS = 30 * 3_600_000;
/** How long after its month ends a monthly Vision file is assumed published ("early in the next month"). */
export const VISION_MONTHLY_LAG_MS = 3 * 86_400_000;

/** What planning one gap needs besides the gap. */
interface PlanContext {
  readonly dataset: Dataset;
  readonly nowMs: number;
  readonly closedEndMs: number;
  readonly source: SourceMode;
}

/** Plans a request. Pure. */
export function planFetches(input: PlanInput): Plan {
  const closedEnd = closedEndMs(input.nowMs, input.dataset.interval);
  const aligned = alignRangeToInterval(input.range, input.dataset.interval);
  const requested = { startMs: aligned.startMs, endMs: Math.max(aligned.startMs, Math.min(aligned.endMs, closedEnd)) };
  const cached = intersectRanges([requested], input.covered);
  const gaps = subtractRanges([requested], unionRanges(input.covered, input.knownEmpty ?? []));
  const context: PlanContext = { dataset: input.dataset, nowMs: input.nowMs, closedEndMs: closedEnd, source: input.source };
  const fetches = planGaps(gaps, context);
  return { requested, closedEndMs: closedEnd, cached, gaps, fetches };
}

function planGaps(gaps: readonly Range[], context: PlanContext): Fetch[] {
  if (context.source === 'rest') return restFetches(gaps);
  const vision: Fetch[] = [];
  const rest: Range[] = [];
  const tails = context.source === 'vision' ? [] : shortFileTails(gaps, context.dataset.interval);
  rest.push(...tails);
  for (const [monthStart, pieces] of groupBy(subtractRanges(gaps, tails).flatMap(splitByMonth), utcMonthStart)) {
    const month = planMonth(monthStart, pieces, context);
    vision.push(...month.vision);
    rest.push(...month.rest);
  }
  return [...vision, ...restFetches(rest)];
}

/** A month's share of the gaps: its monthly file, or its days (daily files and REST). */
function planMonth(monthStart: number, pieces: Range[], context: PlanContext): { vision: Fetch[]; rest: Range[] } {
  const { interval } = context.dataset;
  const month = { startMs: monthStart, endMs: utcMonthStart(monthStart, 1) };
  const monthPublished = month.endMs + VISION_MONTHLY_LAG_MS <= context.nowMs;
  const days = hasVisionDailyFiles(interval) ? planDays(pieces, context) : restOnly(pieces, context);
  const monthly = monthPublished || (context.source === 'vision' && !hasVisionDailyFiles(interval));
  if (monthly && visionFileCost(month, interval) <= days.cost + LARGER_FILE_CREDIT) {
    return { vision: [visionFetch('vision-monthly', month, pieces, context)], rest: [] };
  }
  return days;
}

/** Gap pieces by UTC day: the day's whole file when it is worth it (see the module comment), else REST. */
function planDays(pieces: readonly Range[], context: PlanContext): { vision: Fetch[]; rest: Range[]; cost: number } {
  const { market, interval } = context.dataset;
  const vision: Fetch[] = [];
  const rest: Range[] = [];
  let cost = 0;
  for (const [dayStart, dayPieces] of groupBy(pieces.flatMap(splitByDay), utcDayStart)) {
    const day = { startMs: dayStart, endMs: dayStart + 86_400_000 };
    const published = day.endMs + VISION_DAILY_LAG_MS <= context.nowMs;
    const viaRest = context.source === 'vision' ? Infinity : restCost(dayPieces, market, interval);
    const viaFile = published || context.source === 'vision' ? visionFileCost(day, interval) : Infinity;
    if (viaFile <= viaRest + LARGER_FILE_CREDIT) {
      vision.push(visionFetch('vision-daily', day, dayPieces, context));
      cost += viaFile;
    } else {
      rest.push(...dayPieces);
      cost += viaRest;
    }
  }
  return { vision, rest, cost };
}

/** Intervals without daily files: REST for the pieces (never with `source: 'vision'`). */
function restOnly(pieces: readonly Range[], context: PlanContext): { vision: Fetch[]; rest: Range[]; cost: number } {
  if (context.source === 'vision') return { vision: [], rest: [], cost: Infinity };
  return { vision: [], rest: [...pieces], cost: restCost(pieces, context.dataset.market, context.dataset.interval) };
}

/**
 * Gaps that start off the interval's grid follow a short Vision file's last row (its coverage
 * ends at that row's open_time + 1 ms; every other coverage edge is on the grid). That file was
 * downloaded and was short, so the rest of its day is completed from REST, never downloaded again.
 */
function shortFileTails(gaps: readonly Range[], interval: Interval): Range[] {
  return gaps
    .filter((gap) => alignRangeToInterval({ startMs: gap.startMs, endMs: gap.startMs + 1 }, interval).startMs !== gap.startMs)
    .map((gap) => ({ startMs: gap.startMs, endMs: Math.min(gap.endMs, utcDayStart(gap.startMs) + 86_400_000) }));
}

/** Ranges grouped by the start of the file (day or month, `fileStart`) holding each one's start, in first-seen order. */
export function groupBy(ranges: readonly Range[], fileStart: (ms: number) => number): Map<number, Range[]> {
  const groups = new Map<number, Range[]>();
  for (const range of ranges) {
    const key = fileStart(range.startMs);
    groups.set(key, [...(groups.get(key) ?? []), range]);
  }
  return groups;
}

function visionFetch(kind: 'vision-monthly' | 'vision-daily', file: Range, need: Range[], context: PlanContext): Fetch {
  const range = { startMs: file.startMs, endMs: Math.min(file.endMs, Math.max(file.startMs, context.closedEndMs)) };
  return { kind, range, fileStartMs: file.startMs, need: intersectRanges(need, [range]) };
}

/** One REST fetch per range of `ranges` normalized (klines and funding rates alike). */
export function restFetches(ranges: readonly Range[]): { kind: 'rest'; range: Range }[] {
  return normalizeRanges(ranges).map((range) => ({ kind: 'rest' as const, range }));
}

/**
 * What replaces a Vision fetch that found no file (404) or failed (DESIGN.md: "Vision 404 or
 * failure falls back to daily files, then REST, for that range only"), for its `need` only: a
 * monthly file falls back to the days of its need (daily files where published and worth it,
 * else REST); a daily file, or a monthly one of an interval without daily files, to REST.
 * With `source: 'vision'` nothing replaces a daily file (returns []: the caller reports the gap).
 */
export function fallbackFetches(fetch: Fetch, dataset: Dataset, nowMs: number, source: SourceMode): Fetch[] {
  if (fetch.kind === 'rest') return [];
  const context: PlanContext = { dataset, nowMs, closedEndMs: closedEndMs(nowMs, dataset.interval), source };
  if (fetch.kind === 'vision-monthly' && hasVisionDailyFiles(dataset.interval)) {
    const days = planDays(fetch.need, context);
    return [...days.vision, ...restFetches(days.rest)];
  }
  return source === 'vision' ? [] : restFetches(fetch.need);
}

/**
 * The tail of a Vision file whose rows stop early (DESIGN.md: "a file whose rows stop early is
 * completed from REST for the rest of its range"), as a REST fetch: rows end before the last
 * candle of `fileRange` when `lastOpen + interval < end`. Returns undefined when the file is
 * complete. The caller claims coverage only up to the last row and asks REST for the tail's part
 * that a request needs. Outage holes inside a file are real (SOURCES.md) and are not re-fetched.
 */
export function completionFetch(fileRange: Range, lastOpenMs: number | undefined, interval: Interval): Fetch | undefined {
  const startMs = lastOpenMs === undefined ? fileRange.startMs : lastOpenMs + 1;
  if (lastOpenMs !== undefined && lastOpenMs + INTERVAL_MS[interval] >= fileRange.endMs) return undefined;
  if (startMs >= fileRange.endMs) return undefined;
  return { kind: 'rest', range: { startMs, endMs: fileRange.endMs } };
}
