/**
 * `klines sync --market M (--symbols A,B | --symbols-regex R) --intervals 1m,1h (--start T |
 * --days N) [--end T] [--source S] [--json]` (issue 10): fills the cache for every dataset
 * (symbols × intervals), one progress bar for the whole job on a terminal, then a summary
 * table (or JSON) on stdout. Exit 0 when every dataset is filled, 1 when any failed (the others
 * are kept, and so is what the failed one fetched), 2 for bad input.
 */
import { SingleBar } from 'cli-progress';
import { loadConfig } from '../lib/config.ts';
import { createCacheHandles, createServiceFromConfig } from '../lib/create-service.ts';
import { createSymbolDirectoryFromConfig } from '../lib/service/symbols.ts';
import type { Range } from '../lib/domain/ranges.ts';
import { resolveSyncQuery, runSync, type PublicSyncQuery, type SyncProgress, type SyncResult } from '../lib/service/sync.ts';
import type { Market } from '../lib/domain/markets.ts';
import { buildFundingService } from '../lib/open-funding.ts';
import { formatTable } from './table.ts';

/** Options of `klines sync` as commander parses them. */
export interface SyncCommandOptions extends PublicSyncQuery {
  readonly json: boolean;
}

/** Runs `klines sync`; returns the exit code. Throws KlinesError (bad input) for the caller to report. */
export async function runSyncCommand(options: SyncCommandOptions): Promise<number> {
  const config = loadConfig();
  const nowMs = config.nowMs ?? Date.now();
  const handles = createCacheHandles(config);
  const directory = createSymbolDirectoryFromConfig(config, handles.store);
  const resolveSymbols = (market: Market, pattern: string) => directory.resolve(market, pattern);
  let results: SyncResult[];
  if (options.dataType === 'fundingRate') {
    const { resolveFundingSyncQuery, runFundingSync } = await import('../lib/service/funding-sync.ts');
    const queries = await resolveFundingSyncQuery(options, nowMs, resolveSymbols);
    const bar = process.stderr.isTTY ? startBar(queries.length) : undefined;
    results = await runFundingSync(buildFundingService(config, handles), queries, { onProgress: bar?.update }).finally(() => bar?.stop());
  } else {
    const queries = await resolveSyncQuery(options, nowMs, resolveSymbols);
    const bar = process.stderr.isTTY ? startBar(queries.length) : undefined;
    results = await runSync(createServiceFromConfig(config, handles), queries, { onProgress: bar?.update }).finally(() => bar?.stop());
  }
  process.stdout.write(options.json ? `${JSON.stringify(results.map(toJson), null, 2)}\n` : formatSummary(results));
  return results.some((result) => result.error !== undefined) ? 1 : 0;
}

/** One progress bar on stderr: datasets done/total, rows and files so far, ETA. */
function startBar(total: number): { update: (progress: SyncProgress) => void; stop: () => void } {
  const bar = new SingleBar({
    format: 'sync {bar} {value}/{total} datasets | {rows} rows | {files} files, {requests} REST | ETA {eta_formatted}',
    hideCursor: true, clearOnComplete: true, stream: process.stderr,
  });
  bar.start(total, 0, { rows: 0, files: 0, requests: 0 });
  return {
    update: (p) => bar.update(p.datasetsDone, { rows: p.rowsAdded, files: p.visionFiles, requests: p.restRequests }),
    stop: () => bar.stop(),
  };
}

function toJson(result: SyncResult): Record<string, unknown> {
  const { dataset, range } = result.query;
  return {
    datasetId: result.datasetId, market: dataset.market, dataType: result.dataType, symbol: dataset.symbol, ...('interval' in dataset ? { interval: dataset.interval } : {}),
    startMs: range.startMs, endMs: range.endMs, rowsAdded: result.rowsAdded, visionFiles: result.visionFiles,
    restRequests: result.restRequests, restWeight: result.restWeight,
    ...(result.error === undefined ? {} : { error: { code: result.errorCode, message: result.error } }),
  };
}

function formatSummary(results: readonly SyncResult[]): string {
  const rows = results.map((r) => [
    describeDataset(r), describeRange(r.query.range),
    r.rowsAdded, r.visionFiles, r.restRequests, r.restWeight, r.error ?? '',
  ]);
  const failed = results.filter((r) => r.error !== undefined).length;
  const total = ['total', '', sumOf(results, 'rowsAdded'), sumOf(results, 'visionFiles'), sumOf(results, 'restRequests'), sumOf(results, 'restWeight'), failed > 0 ? `${failed} failed` : ''];
  return formatTable(['dataset', 'open_time range', 'rows added', 'files', 'REST requests', 'REST weight', 'error'], [...rows, total]);
}

/** `um BTCUSDT 1h`, with the data type when it is not klines: `um BTCUSDT 1h markPriceKlines`, `um BTCUSDT fundingRate`. */
function describeDataset(result: SyncResult): string {
  const { dataset } = result.query;
  const interval = 'interval' in dataset ? ` ${dataset.interval}` : '';
  return `${dataset.market} ${dataset.symbol}${interval}${result.dataType === 'klines' ? '' : ` ${result.dataType}`}`;
}

/** `2022-08-24T00:00Z … 2022-09-06T23:59Z`: the first and the last open_time asked (bounds inclusive, as the user gave them). */
function describeRange(range: Range): string {
  const minute = (ms: number): string => new Date(ms).toISOString().replace(/:00\.000Z$/, 'Z');
  return `${minute(range.startMs)} … ${minute(range.endMs - 1)}`;
}

function sumOf(results: readonly SyncResult[], key: 'rowsAdded' | 'visionFiles' | 'restRequests' | 'restWeight'): number {
  return results.reduce((total, result) => total + result[key], 0);
}
