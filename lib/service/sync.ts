/**
 * `klines sync` (issue 10): fill the cache for many datasets (symbols × intervals of one market)
 * in one call, like freqtrade's `download-data` or binance-public-data's `download-kline.py`.
 * Every dataset goes through the service in fill-only mode (cached rows are not read back), in
 * chunks of whole periods (refresh.ts, chunkByPeriods) so memory stays bounded. The datasets run
 * a few at a time on ONE service, so they share its concurrency budget: its Vision limit (files
 * in parallel) and its REST limit, plus the HTTP client's pause after a 429 (REST weight is per
 * IP). A failed dataset is reported and the others go on; what it fetched before failing is kept.
 */
import pLimit from 'p-limit';
import { InvalidInputError, KlinesError } from '../domain/errors.ts';
import type { DataType } from '../domain/data-types.ts';
import { datasetId, dataTypeOf } from '../domain/kline.ts';
import { parseMarket, type Market } from '../domain/markets.ts';
import { parseSymbol } from '../domain/symbols.ts';
import type { KlinesService } from './klines-service.ts';
import { chunkByPeriods } from './refresh.ts';
import type { ResolvedFundingQuery } from './funding-request.ts';
import { resolveQuery, type ResolvedQuery } from './request.ts';

/** The public form of a sync, strings as a user typed them. Give `symbols` or `symbolsRegex`, and `start` or `days`. */
export interface PublicSyncQuery {
  readonly market?: string | undefined;
  /** Comma-separated symbols: `BTCUSDT,ETHUSDT`. */
  readonly symbols?: string | undefined;
  /** A regular expression matched against the whole symbol, resolved to the market's TRADING symbols. */
  readonly symbolsRegex?: string | undefined;
  /** Comma-separated intervals: `1m,1h` (none for fundingRate). */
  readonly intervals?: string | undefined;
  readonly start?: string | undefined;
  readonly end?: string | undefined;
  readonly days?: string | undefined;
  /** `auto` (default), `vision` or `rest`, as for one request. */
  readonly source?: string | undefined;
  /** A kline-shaped series (data-types.ts), default `klines`; the same for every dataset of the sync. */
  readonly dataType?: string | undefined;
}

/** Resolves a symbol pattern to symbols (symbols.ts, SymbolDirectory.resolve). */
export type ResolveSymbols = (market: Market, pattern: string) => Promise<string[]>;

/**
 * The datasets of a sync, symbols × intervals, each with its validated range (request.ts,
 * resolveQuery: bounds inclusive on open_time, the end clamped to the interval's last closed
 * candle). Throws InvalidInputError when symbols are missing, both forms are given, a pattern
 * matches no TRADING symbol, or any symbol, interval or time is malformed.
 */
export async function resolveSyncQuery(query: PublicSyncQuery, nowMs: number, resolveSymbols: ResolveSymbols): Promise<ResolvedQuery[]> {
  const market = parseMarket(query.market ?? 'spot');
  const intervals = splitList(query.intervals ?? '');
  if (intervals.length === 0) throw new InvalidInputError('intervals: give at least one, e.g. --intervals 1m,1h (only --data-type fundingRate takes none)', {});
  const symbols = await resolveSyncSymbols(query, market, resolveSymbols);
  const queries = symbols.flatMap((symbol) => [...new Set(intervals)].map((interval) =>
    resolveQuery({ market, symbol, interval, start: query.start, end: query.end, days: query.days, source: query.source, dataType: query.dataType }, nowMs)));
  return queries;
}

/**
 * The symbols a sync names, parsed and each once: the `symbols` list, or the market's TRADING
 * symbols matching `symbolsRegex` (asked of `resolveSymbols` after `beforeLookup`, which may
 * validate the rest of the query first). Throws InvalidInputError when neither or both forms are
 * given, a symbol is malformed, or the pattern matches nothing.
 */
export async function resolveSyncSymbols(query: PublicSyncQuery, market: Market, resolveSymbols: ResolveSymbols, beforeLookup?: () => void): Promise<string[]> {
  const hasList = (query.symbols ?? '').trim() !== '';
  const hasRegex = (query.symbolsRegex ?? '') !== '';
  if (hasList === hasRegex) throw new InvalidInputError('symbols: give --symbols A,B or --symbols-regex R (one of them)', {});
  if (hasList) return [...new Set(splitList(query.symbols!).map(parseSymbol))];
  beforeLookup?.();
  const symbols = await resolveSymbols(market, query.symbolsRegex!);
  if (symbols.length === 0) {
    throw new InvalidInputError(`symbols regex: "${query.symbolsRegex}" matches no TRADING ${market} symbol`, { symbolsRegex: query.symbolsRegex });
  }
  return [...new Set(symbols)];
}

/** What one dataset's sync did: counts, and `error` (a message) when it failed. */
export interface SyncResult {
  readonly datasetId: string;
  readonly dataType: DataType;
  /** A candle dataset's query, or a funding-rate one's (funding-sync.ts; its dataset has no interval). */
  readonly query: ResolvedQuery | ResolvedFundingQuery;
  /** Rows fetched from an upstream and appended to the cache. */
  rowsAdded: number;
  visionFiles: number;
  restRequests: number;
  restWeight: number;
  error?: string | undefined;
  /** The error's code (KlinesError codes; `INTERNAL` for anything else). */
  errorCode?: string | undefined;
}

/** Progress of a whole sync, for one bar: datasets done of total, rows and files so far. */
export interface SyncProgress {
  readonly datasetsDone: number;
  readonly datasetsTotal: number;
  readonly rowsAdded: number;
  readonly visionFiles: number;
  readonly restRequests: number;
}

/** Options of runSync. */
export interface SyncOptions {
  /** Datasets worked on at once (default 4); their fetches share the service's limits. */
  readonly datasetConcurrency?: number;
  /** Most candles asked of the service in one call (default 200,000). */
  readonly maxRowsPerCall?: number;
  readonly onProgress?: (progress: SyncProgress) => void;
  readonly signal?: AbortSignal;
}

/**
 * Fills every dataset; never throws for a dataset's failure (it is in its result), so the caller
 * decides the exit code. Results come in the order of `queries`.
 */
export async function runSync(service: KlinesService, queries: readonly ResolvedQuery[], options: SyncOptions = {}): Promise<SyncResult[]> {
  const results: SyncResult[] = queries.map((query) => ({
    datasetId: datasetId(query.dataset), dataType: dataTypeOf(query.dataset), query, rowsAdded: 0, visionFiles: 0, restRequests: 0, restWeight: 0,
  }));
  return runDatasets(results, options, async (result, report) => {
    const { dataset, range, source } = result.query as ResolvedQuery;
    for (const chunk of chunkByPeriods(dataset, range, options.maxRowsPerCall ?? 200_000)) {
      const answer = await service.getKlines({ dataset, range: chunk, source, fillOnly: true, signal: options.signal });
      result.rowsAdded += answer.stats.rowsFromVision + answer.stats.rowsFromRest;
      result.visionFiles += answer.stats.visionFiles;
      result.restRequests += answer.stats.restRequests;
      result.restWeight += answer.stats.restWeight;
      report();
    }
  });
}

/**
 * Runs `fill` for every result, `datasetConcurrency` at a time (default 4), reporting progress at
 * the start, whenever `fill` calls `report`, and after each dataset. A dataset's failure is kept
 * in its result (`error`, `errorCode`) and the others go on; never throws. Returns `results`.
 */
export async function runDatasets(
  results: SyncResult[], options: Pick<SyncOptions, 'datasetConcurrency' | 'onProgress'>, fill: (result: SyncResult, report: () => void) => Promise<void>,
): Promise<SyncResult[]> {
  const limit = pLimit(options.datasetConcurrency ?? 4);
  let datasetsDone = 0;
  const report = (): void => options.onProgress?.({
    datasetsDone, datasetsTotal: results.length,
    rowsAdded: sum(results, 'rowsAdded'), visionFiles: sum(results, 'visionFiles'), restRequests: sum(results, 'restRequests'),
  });
  report();
  await Promise.all(results.map((result) => limit(async () => {
    try {
      await fill(result, report);
    } catch (error) {
      result.error = error instanceof Error ? error.message : String(error);
      result.errorCode = error instanceof KlinesError ? error.code : 'INTERNAL';
    }
    datasetsDone++;
    report();
  })));
  return results;
}

function splitList(text: string): string[] {
  return text.split(/[\s,]+/).map((item) => item.trim()).filter((item) => item !== '');
}

function sum(results: readonly SyncResult[], key: 'rowsAdded' | 'visionFiles' | 'restRequests'): number {
  return results.reduce((total, result) => total + result[key], 0);
}
