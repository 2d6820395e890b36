/**
 * `klines sync --data-type fundingRate` (issue 10, items 1 and 5): fill the funding-rate events
 * of many futures symbols in one call. No intervals (a funding-rate dataset has none); one
 * service call per symbol (a symbol's whole history is a few thousand events), a few symbols at
 * a time on ONE funding service, sharing its upstream limits. Results as for klines (sync.ts).
 */
import { InvalidInputError } from '../domain/errors.ts';
import { fundingDatasetId } from '../domain/funding-rate.ts';
import { parseMarket } from '../domain/markets.ts';
import type { FundingService } from './funding-service.ts';
import { resolveFundingQuery, type ResolvedFundingQuery } from './funding-request.ts';
import { resolveSyncSymbols, runDatasets, type PublicSyncQuery, type ResolveSymbols, type SyncOptions, type SyncResult } from './sync.ts';

/**
 * The funding datasets of a sync, one per symbol, each with its validated range (funding-request.ts).
 * Throws InvalidInputError when intervals are given, symbols are missing or both forms given, a
 * pattern matches no TRADING symbol, or a field is malformed (spot included: no funding there).
 */
export async function resolveFundingSyncQuery(query: PublicSyncQuery, nowMs: number, resolveSymbols: ResolveSymbols): Promise<ResolvedFundingQuery[]> {
  const market = parseMarket(query.market ?? 'um');
  if ((query.intervals ?? '').trim() !== '') {
    throw new InvalidInputError(`intervals: a fundingRate dataset has none; leave --intervals ${query.intervals} out`, { intervals: query.intervals });
  }
  const resolve = (symbol: string) => resolveFundingQuery({ market, symbol, start: query.start, end: query.end, days: query.days, source: query.source }, nowMs);
  // Market, times and source are checked before exchangeInfo is asked.
  const symbols = await resolveSyncSymbols(query, market, resolveSymbols, () => resolve('BTCUSDT'));
  return symbols.map(resolve);
}

/** Fills every funding dataset; never throws for a dataset's failure (it is in its result). Results in the order of `queries`. */
export async function runFundingSync(service: FundingService, queries: readonly ResolvedFundingQuery[], options: Pick<SyncOptions, 'datasetConcurrency' | 'onProgress'> = {}): Promise<SyncResult[]> {
  const results: SyncResult[] = queries.map((query) => ({
    datasetId: fundingDatasetId(query.dataset), dataType: 'fundingRate', query, rowsAdded: 0, visionFiles: 0, restRequests: 0, restWeight: 0,
  }));
  return runDatasets(results, options, async (result) => {
    const { stats } = await service.getFundingRates({ ...(result.query as ResolvedFundingQuery), fillOnly: true });
    result.rowsAdded = stats.rowsFetched;
    result.visionFiles = stats.visionFiles;
    result.restRequests = stats.restRequests;
    result.restWeight = stats.restWeight;
  });
}
