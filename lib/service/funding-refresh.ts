/**
 * Keeps a watched funding-rate dataset fresh (issue 10, item 5, the scheduled refresh): ask the
 * funding service for the events from the dataset's coverage end (one index query over the
 * months from `since` to now; `since` for a dataset never fetched) up to now. The service fetches
 * only what is not covered; an event is final once its time has passed, so a rerun at the same
 * clock asks no upstream.
 */
import { fundingDatasetId } from '../domain/funding-rate.ts';
import type { CoverageIndex } from '../store/types.ts';
import type { FundingService } from './funding-service.ts';
import { findCoverageEnd, refreshSinceMs, type RefreshResult } from './refresh.ts';
import type { FundingWatchEntry } from './watchlist.ts';

/** What a funding refresh needs; `nowMs` is the injectable clock. */
export interface FundingRefreshDeps {
  readonly funding: FundingService;
  readonly index: CoverageIndex;
  readonly nowMs: () => number;
  /** Start for entries without `since`; default 7 UTC days before now. */
  readonly defaultSinceMs?: number | undefined;
}

/** Refreshes one funding dataset. Throws what the funding service throws. */
export async function refreshFunding(entry: FundingWatchEntry, deps: FundingRefreshDeps): Promise<RefreshResult> {
  const nowMs = deps.nowMs();
  const sinceMs = refreshSinceMs(entry.sinceMs, deps.defaultSinceMs, nowMs);
  const toMs = nowMs + 1; // events at or before now are final
  const id = fundingDatasetId(entry.funding);
  const coverageEndMs = Math.max(sinceMs, (await findCoverageEnd(deps.index, id, 'monthly', { startMs: sinceMs, endMs: Math.max(toMs, sinceMs + 1) })) ?? sinceMs);
  const result = { datasetId: id, fromMs: coverageEndMs, toMs, upToDate: true, calls: 0, rowsAppended: 0, visionFiles: 0, restRequests: 0, restWeight: 0 };
  if (coverageEndMs >= toMs) return result;
  const { stats } = await deps.funding.getFundingRates({ dataset: entry.funding, range: { startMs: coverageEndMs, endMs: toMs }, fillOnly: true });
  return {
    ...result, calls: 1, rowsAppended: stats.rowsFetched, visionFiles: stats.visionFiles, restRequests: stats.restRequests, restWeight: stats.restWeight,
    upToDate: stats.visionFiles + stats.restRequests === 0,
  };
}
