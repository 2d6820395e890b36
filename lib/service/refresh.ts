/**
 * Keeps a watched dataset fresh (issue 4, the scheduled refresh): append the candles that
 * closed since the dataset's coverage ends. Coverage end comes from one coverage-index query
 * over the periods from the dataset's `since` to now; a dataset never fetched starts at `since`.
 * The gap up to the last closed candle is then filled through the service in fill-only mode
 * (leases, the planner's Vision/REST choice and data-before-coverage all apply; cached rows are
 * not read back). Idempotent: a rerun finds
 * coverage ending at the last closed candle and asks no upstream.
 */
import { INTERVAL_MS, closedEndMs } from '../domain/intervals.ts';
import { datasetId, type Dataset } from '../domain/kline.ts';
import { granularityFor, periodsInRange, type Granularity } from '../domain/periods.ts';
import { utcDayStart, type Range } from '../domain/ranges.ts';
import type { CoverageIndex } from '../store/types.ts';
import type { KlinesService } from './klines-service.ts';
import type { KlinesWatchEntry } from './watchlist.ts';

/** What a refresh needs; `nowMs` is the injectable clock (KLINES_NOW). */
export interface RefreshDeps {
  readonly service: KlinesService;
  readonly index: CoverageIndex;
  readonly nowMs: () => number;
  /** Start for entries without `since` (`KLINES_REFRESH_SINCE`); default 7 UTC days before now. */
  readonly defaultSinceMs?: number | undefined;
  /** Most candles asked of the service in one call (bounds the fetched rows held until the call ends); default 200,000. */
  readonly maxRowsPerCall?: number;
  readonly signal?: AbortSignal;
}

/** Outcome of one dataset's refresh. Times are UTC epoch ms; `[fromMs, toMs)` is what was asked. */
export interface RefreshResult {
  readonly datasetId: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** True when nothing had to be fetched (coverage already reached the last closed candle). */
  readonly upToDate: boolean;
  /** Service calls made (one per chunk of whole periods). */
  readonly calls: number;
  /** Rows that came from an upstream (Vision or REST) and were appended to the cache. */
  readonly rowsAppended: number;
  readonly visionFiles: number;
  readonly restRequests: number;
  readonly restWeight: number;
}

/** Default start of a never-fetched dataset without `since`: 7 UTC days before now. */
export const DEFAULT_REFRESH_LOOKBACK_MS = 7 * 86_400_000;
const DEFAULT_MAX_ROWS_PER_CALL = 200_000;

/**
 * Refreshes one dataset. Throws what the service throws (UpstreamError naming the failed range;
 * the pieces fetched before it stay cached, so a retry continues from the new coverage end).
 */
export async function refreshDataset(entry: KlinesWatchEntry, deps: RefreshDeps): Promise<RefreshResult> {
  const { dataset } = entry;
  const nowMs = deps.nowMs();
  const sinceMs = refreshSinceMs(entry.sinceMs, deps.defaultSinceMs, nowMs);
  const toMs = closedEndMs(nowMs, dataset.interval);
  const coverageEndMs = await findCoverageEnd(deps.index, datasetId(dataset), granularityFor(dataset.interval), { startMs: sinceMs, endMs: Math.max(toMs, sinceMs + 1) });
  const fromMs = Math.max(sinceMs, coverageEndMs ?? sinceMs);
  const result = { datasetId: datasetId(dataset), fromMs, toMs, upToDate: true, calls: 0, rowsAppended: 0, visionFiles: 0, restRequests: 0, restWeight: 0 };
  if (fromMs >= toMs) return result;

  const filled = await fillRange(dataset, { startMs: fromMs, endMs: toMs }, deps);
  return { ...result, ...filled, upToDate: filled.visionFiles + filled.restRequests === 0 };
}

/** What fillRange did: service calls, rows appended from upstreams, upstream requests and weight. */
export type FillResult = Pick<RefreshResult, 'calls' | 'rowsAppended' | 'visionFiles' | 'restRequests' | 'restWeight'>;

/**
 * Fills the gaps of `range` (half-open, UTC epoch ms) through the service, in chunks of whole
 * periods of at most `maxRowsPerCall` candles (so memory stays bounded); what is cached already is
 * not fetched again. Used by the refresh and by the worker that finishes a fill an HTTP or invoke
 * request handed over at its deadline (issue 11). Throws what the service throws; chunks filled
 * before a failure stay cached.
 */
export async function fillRange(dataset: Dataset, range: Range, deps: Pick<RefreshDeps, 'service' | 'maxRowsPerCall' | 'signal'>): Promise<FillResult> {
  const result = { calls: 0, rowsAppended: 0, visionFiles: 0, restRequests: 0, restWeight: 0 };
  for (const chunk of chunkByPeriods(dataset, range, deps.maxRowsPerCall ?? DEFAULT_MAX_ROWS_PER_CALL)) {
    const answer = await deps.service.getKlines({ dataset, range: chunk, signal: deps.signal, fillOnly: true });
    result.calls++;
    result.rowsAppended += answer.stats.rowsFromVision + answer.stats.rowsFromRest;
    result.visionFiles += answer.stats.visionFiles;
    result.restRequests += answer.stats.restRequests;
    result.restWeight += answer.stats.restWeight;
  }
  return result;
}

/** Where a refresh starts: the entry's `since`, else the deployment's default, else 7 UTC days (whole days) before `nowMs`. */
export function refreshSinceMs(entrySinceMs: number | undefined, defaultSinceMs: number | undefined, nowMs: number): number {
  return entrySinceMs ?? defaultSinceMs ?? utcDayStart(nowMs - DEFAULT_REFRESH_LOOKBACK_MS);
}

/**
 * The end (exclusive open_time or calc_time, UTC epoch ms) of the last covered range of dataset
 * `id`'s periods (of `granularity`) overlapping `window`, from one index query; undefined when
 * none of them has coverage. Klines and funding rates alike.
 */
export async function findCoverageEnd(index: CoverageIndex, id: string, granularity: Granularity, window: Range): Promise<number | undefined> {
  const periods = periodsInRange(window, granularity);
  const first = periods[0];
  const last = periods[periods.length - 1];
  if (!first || !last) return undefined;
  const records = await index.query(id, first.key, last.key);
  let endMs: number | undefined;
  for (const record of records) for (const range of record.covered) endMs = Math.max(endMs ?? -Infinity, range.endMs);
  return endMs;
}

/**
 * Splits `range` on period boundaries into pieces of whole periods (the first and last clipped)
 * holding at most `maxRows` candles each, at least one period: chunks never cut a month, so the
 * planner can still use one Vision monthly file for it.
 */
export function chunkByPeriods(dataset: Dataset, range: Range, maxRows: number): Range[] {
  const spanMs = maxRows * INTERVAL_MS[dataset.interval];
  const chunks: { startMs: number; endMs: number }[] = [];
  let current: { startMs: number; endMs: number } | undefined;
  for (const period of periodsInRange(range, granularityFor(dataset.interval))) {
    const piece = { startMs: Math.max(period.range.startMs, range.startMs), endMs: Math.min(period.range.endMs, range.endMs) };
    if (current && piece.endMs - current.startMs <= spanMs) current.endMs = piece.endMs;
    else chunks.push((current = { ...piece }));
  }
  return chunks;
}
