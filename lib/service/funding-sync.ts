/**
 * `klines sync --data-type fundingRate` (issue 10, items 1 and 5): fill the funding-rate events
 * of many futures symbols in one call. No intervals (a funding-rate dataset has none); one
 * service call per symbol (a symbol's whole history is a few thousand events), a few symbols at
 * a time on ONE funding service, sharing its upstream limits. Results as for klines (sync.ts).
 */
import pLimit from 'p-limit';
import { InvalidInputError, KlinesError } from '../domain/errors.ts';
import { fundingDatasetId } from '../domain/funding-rate.ts';
import { parseMarket } from '../domain/markets.ts';
import { parseSymbol } from '../domain/symbols.ts';
import type { FundingService } from './funding-service.ts';
import { resolveFundingQuery, type ResolvedFundingQuery } from './funding-request.ts';
import type { PublicSyncQuery, ResolveSymbols, SyncOptions, SyncResult } from './sync.ts';

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
  const hasList = (query.symbols ?? '').trim() !== '';
  const hasRegex = (query.symbolsRegex ?? '') !== '';
  if (hasList === hasRegex) throw new InvalidInputError('symbols: give --symbols A,B or --symbols-regex R (one of them)', {});
  const resolve = (symbol: string) => resolveFundingQuery({ market, symbol, start: query.start, end: query.end, days: query.days, source: query.source }, nowMs);
  if (hasList) return [...new Set(query.symbols!.split(/[\s,]+/).filter((s) => s !== '').map(parseSymbol))].map(resolve);
  resolve('BTCUSDT'); // validates market, times and source before exchangeInfo is asked
  const symbols = await resolveSymbols(market, query.symbolsRegex!);
  if (symbols.length === 0) throw new InvalidInputError(`symbols regex: "${query.symbolsRegex}" matches no TRADING ${market} symbol`, { symbolsRegex: query.symbolsRegex });
  return symbols.map(resolve);
}

/** Fills every funding dataset; never throws for a dataset's failure (it is in its result). Results in the order of `queries`. */
export async function runFundingSync(service: FundingService, queries: readonly ResolvedFundingQuery[], options: Pick<SyncOptions, 'datasetConcurrency' | 'onProgress'> = {}): Promise<SyncResult[]> {
  const limit = pLimit(options.datasetConcurrency ?? 4);
  const results: SyncResult[] = queries.map((query) => ({
    datasetId: fundingDatasetId(query.dataset), dataType: 'fundingRate', query, rowsAdded: 0, visionFiles: 0, restRequests: 0, restWeight: 0,
  }));
  let datasetsDone = 0;
  const total = (key: 'rowsAdded' | 'visionFiles' | 'restRequests'): number => results.reduce((sum, result) => sum + result[key], 0);
  const report = (): void => options.onProgress?.({
    datasetsDone, datasetsTotal: results.length, rowsAdded: total('rowsAdded'), visionFiles: total('visionFiles'), restRequests: total('restRequests'),
  });
  report();
  await Promise.all(results.map((result) => limit(async () => {
    const query = result.query as ResolvedFundingQuery;
    try {
      const { stats } = await service.getFundingRates(query);
      result.rowsAdded = stats.rowsFetched;
      result.visionFiles = stats.visionFiles;
      result.restRequests = stats.restRequests;
      result.restWeight = stats.restWeight;
    } catch (error) {
      result.error = error instanceof Error ? error.message : String(error);
      result.errorCode = error instanceof KlinesError ? error.code : 'INTERNAL';
    }
    datasetsDone++;
    report();
  })));
  return results;
}
