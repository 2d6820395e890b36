/**
 * The service that answers a funding-rate request (issue 10, item 5), the klines flow for events:
 * read coverage (one index query), plan (funding-plan.ts), fetch the gaps (Vision monthly files,
 * REST pages; a 404 or failed file falls back to REST for its need), store each verified piece
 * (data, then coverage), compact the months that are over, and answer cache + fresh events merged.
 * No leases: two workers filling the same month at once both store it, and the merge keeps one
 * row per event (a fill costs at most a page or a file twice, never a wrong answer).
 */
import pLimit from 'p-limit';
import { InvalidInputError, KlinesError, UpstreamError } from '../domain/errors.ts';
import { fundingInRange, mergeFunding, type FundingColumns, type FundingDataset } from '../domain/funding-rate.ts';
import { periodsInRange } from '../domain/periods.ts';
import { formatRange, normalizeRanges, type Range } from '../domain/ranges.ts';
import { answerAgainOnCorrupt } from '../store/cache-integrity.ts';
import type { FundingCache } from '../store/funding-cache.ts';
import type { FundingSources } from '../sources/funding-sources.ts';
import { createUpstreamStats, type UpstreamStats } from '../sources/types.ts';
import { planFundingFetches, type FundingFetch, type FundingPlan } from './funding-plan.ts';
import { gapError, type FetchFailure } from './fetch-gaps.ts';
import type { SourceMode } from './plan.ts';

/** A request: calc_time range half-open, UTC epoch ms. */
export interface FundingRequest {
  readonly dataset: FundingDataset;
  readonly range: Range;
  readonly source?: SourceMode;
  /**
   * Fill the gaps only (sync, refresh, repair; as KlinesRequest.fillOnly): the cached events are
   * not read back, `columns` holds the fetched events in the range, and `rowsFetched` counts the
   * fetched events inside the gaps.
   */
  readonly fillOnly?: boolean;
}

/** Figures of one answer. */
export interface FundingStats extends UpstreamStats {
  rowsFromCache: number;
  rowsFetched: number;
}

/** The events in the range, sorted, one per calc_time; the plan and the figures. */
export interface FundingAnswer {
  readonly columns: FundingColumns;
  readonly plan: FundingPlan;
  readonly stats: FundingStats;
}

/** Answers funding-rate requests. */
export interface FundingService {
  /**
   * Every event Binance has published with calc_time in the range and at or before now. Throws
   * InvalidInputError for an empty range; UpstreamError naming the ranges an upstream failure
   * left unfilled (what was fetched before is kept); StoreError when the cache fails.
   */
  getFundingRates(request: FundingRequest): Promise<FundingAnswer>;
}

/** Builds the service; `nowMs` is the injectable clock (KLINES_NOW). */
export function createFundingService(deps: { cache: FundingCache; sources: FundingSources; nowMs: () => number }): FundingService {
  const limit = pLimit(4);
  return {
    // A corrupt or missing object drops its month (funding-cache.ts): the request is answered
    // again, which fetches that month anew, as the klines service does.
    getFundingRates: (request) => answerAgainOnCorrupt(() => answer(request)),
  };

  /** One answer: the plan, the cached months, the fetches, the appends and compaction. Throws CorruptPeriodError after dropping a bad month. */
  async function answer(request: FundingRequest): Promise<FundingAnswer> {
    const { dataset, range } = request;
    const source = request.source ?? 'auto';
    if (!(range.endMs > range.startMs)) throw new InvalidInputError(`range: ${formatRange(range)} is empty; end must be after start`, { ...range });
    const nowMs = deps.nowMs();
    const stats: FundingStats = { ...createUpstreamStats(), rowsFromCache: 0, rowsFetched: 0 };
    const records = await deps.cache.readCoverage(dataset, range);
    const plan = planFundingFetches({ range, covered: normalizeRanges(records.flatMap((r) => r.covered)), nowMs, source });
    const cached = request.fillOnly ? [] : await Promise.all(plan.cached.map((piece) => deps.cache.readColumns(dataset, records, piece)));
    const fresh: FundingColumns[] = [];
    const answered: Range[] = [];
    const failures: FetchFailure[] = [];

    const run = async (fetch: FundingFetch): Promise<void> => {
      try {
        const got = await limit(() => executeFetch(fetch, { sources: deps.sources, dataset, nowMs, source, stats }));
        if (Array.isArray(got)) return void (await Promise.all(got.map(run)));
        await deps.cache.append(dataset, got.columns, [got.answered], [got.origin]);
        fresh.push(got.columns);
        answered.push(got.answered);
      } catch (error) {
        if (error instanceof KlinesError && error.code === 'STORE_FAILED') throw error;
        for (const piece of fetch.kind === 'rest' ? [fetch.range] : fetch.need) failures.push({ range: piece, error });
      }
    };
    await Promise.all(plan.fetches.map(run));
    if (failures.length > 0) throw gapError(`${dataset.symbol} fundingRate (${dataset.market})`, failures);
    // Only months this request appended to, or that held parts when read: a warm read compacts nothing.
    const withParts = new Set(records.filter((r) => r.parts.length > 0).map((r) => r.period));
    const touched = new Set(answered.flatMap((r) => periodsInRange(r, 'monthly').map((p) => p.key)));
    await deps.cache.compact(dataset, periodsInRange(plan.requested, 'monthly').filter((p) => withParts.has(p.key) || touched.has(p.key)), nowMs);
    if (request.fillOnly) {
      const fetched = mergeFunding(fresh);
      stats.rowsFetched = plan.gaps.reduce((n, gap) => n + fundingInRange(fetched, gap.startMs, gap.endMs).length, 0);
      return { columns: fundingInRange(fetched, plan.requested.startMs, plan.requested.endMs), plan, stats };
    }
    // The cached pieces are the plan's disjoint cached ranges, each read within its range.
    stats.rowsFromCache = cached.reduce((n, piece) => n + piece.length, 0);
    const columns = fundingInRange(mergeFunding([...cached, ...fresh]), plan.requested.startMs, plan.requested.endMs);
    stats.rowsFetched = columns.length - stats.rowsFromCache;
    return { columns, plan, stats };
  }
}

/** What one fetch needs. */
interface FetchContext {
  readonly sources: FundingSources;
  readonly dataset: FundingDataset;
  readonly nowMs: number;
  readonly source: SourceMode;
  readonly stats: FundingStats;
}

/**
 * One fetch: its rows and the range they answer (REST: up to now; a Vision file: its month), or
 * the REST fetches replacing a file that is missing (404) or failed (not with `source: 'vision'`).
 */
async function executeFetch(fetch: FundingFetch, context: FetchContext): Promise<{ columns: FundingColumns; answered: Range; origin: 'vision' | 'rest' } | FundingFetch[]> {
  const { sources, dataset, nowMs, source, stats } = context;
  if (fetch.kind === 'rest') {
    const columns = await sources.fetchRange(dataset, fetch.range, nowMs, stats);
    return { columns, answered: fetch.range, origin: 'rest' }; // the plan ends REST ranges at now + 1
  }
  let file: FundingColumns | undefined;
  try {
    file = await sources.fetchMonth(dataset, fetch.monthStartMs, stats);
  } catch (error) {
    if (source === 'vision') throw error;
    return fetch.need.map((piece) => ({ kind: 'rest', range: piece }));
  }
  if (file === undefined) {
    if (source === 'vision') throw new UpstreamError(`Vision: no fundingRate file for ${formatRange(fetch.range)} (404, not published)`, { details: { range: fetch.range } });
    return fetch.need.map((piece) => ({ kind: 'rest', range: piece }));
  }
  return { columns: file, answered: fetch.range, origin: 'vision' };
}
