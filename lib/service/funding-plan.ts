/**
 * The funding-rate planner (issue 10, item 5): a pure function from (request, coverage, now) to
 * the cached pieces and the fetches for the gaps, with the publication rules of events rather
 * than candle intervals:
 * - an event at calc_time t is final once t has passed: the requested range is clipped to
 *   calc_time ≤ now, and REST answers a range up to now for good;
 * - Vision publishes funding monthly only; a month's file is assumed published
 *   VISION_MONTHLY_LAG_MS after the month ends (plan.ts), and then answers its whole month.
 * For each month a gap touches: its Vision file when published (unless `source: 'rest'`), else
 * REST for the gap pieces (adjacent pieces merged). `source: 'vision'` never plans REST: an
 * unpublished month still asks its file (a 404 is then an error).
 */
import { intersectRanges, splitByMonth, subtractRanges, utcMonthStart, type Range } from '../domain/ranges.ts';
import { groupBy, restFetches, VISION_MONTHLY_LAG_MS, type SourceMode } from './plan.ts';

/** A fetch: a month's Vision file (`range` its whole month, `need` the gap pieces in it) or a REST range. */
export type FundingFetch =
  | { readonly kind: 'vision-monthly'; readonly monthStartMs: number; readonly range: Range; readonly need: readonly Range[] }
  | { readonly kind: 'rest'; readonly range: Range };

/** A funding plan. Ranges are half-open on calc_time, UTC epoch ms. */
export interface FundingPlan {
  /** The range asked, clipped to events that have happened (calc_time ≤ now). */
  readonly requested: Range;
  readonly cached: readonly Range[];
  readonly gaps: readonly Range[];
  readonly fetches: readonly FundingFetch[];
}

/** Plans a request. Pure. */
export function planFundingFetches(input: { range: Range; covered: readonly Range[]; nowMs: number; source: SourceMode }): FundingPlan {
  const requested = { startMs: input.range.startMs, endMs: Math.max(input.range.startMs, Math.min(input.range.endMs, input.nowMs + 1)) };
  const cached = intersectRanges([requested], input.covered);
  const gaps = subtractRanges([requested], input.covered);
  if (input.source === 'rest') return { requested, cached, gaps, fetches: restFetches(gaps) };
  const fetches: FundingFetch[] = [];
  const rest: Range[] = [];
  for (const [monthStartMs, pieces] of groupBy(gaps.flatMap(splitByMonth), utcMonthStart)) {
    const month = { startMs: monthStartMs, endMs: utcMonthStart(monthStartMs, 1) };
    if (month.endMs + VISION_MONTHLY_LAG_MS <= input.nowMs || input.source === 'vision') {
      fetches.push({ kind: 'vision-monthly', monthStartMs, range: month, need: pieces });
    } else {
      rest.push(...pieces);
    }
  }
  return { requested, cached, gaps, fetches: [...fetches, ...restFetches(rest)] };
}
