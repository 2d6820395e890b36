/**
 * Answers that stream period by period (issue 9, "memory flat in the range's length"): the rows
 * of a request as an async iterator of column chunks in open_time order, one per period of the
 * dataset's granularity (a month for 1m…12h), each already merged and clipped to the request.
 * Only a few periods are in memory at once, so a CLI or a result writer that writes each chunk
 * out keeps its memory flat however long the range.
 *
 * - Warm (the first index read shows nothing to fetch): one index Query, then each period's
 *   objects are read (GET) a few periods ahead of the consumer: a warm year of 1m is 1 Query + 12 GETs.
 * - Otherwise: one `getKlines` per period (consecutive short periods, up to a month of 1m in
 *   candles, in one), a few at once; each fetches its own gaps under its own leases, stores and
 *   compacts them, exactly as a whole request would.
 * The cache statistics get one add for the whole stream, as for one `getKlines`.
 */
import { InvalidInputError } from '../domain/errors.ts';
import { INTERVAL_MS } from '../domain/intervals.ts';
import { datasetId } from '../domain/kline.ts';
import { columnsInRange, uniformSources, type SourcedColumns } from '../domain/kline-columns.ts';
import { granularityFor, periodsInRange } from '../domain/periods.ts';
import { formatRange, intersectRanges, normalizeRanges, type Range } from '../domain/ranges.ts';
import { CorruptPeriodError, type KlineCache } from '../store/kline-cache.ts';
import type { CacheStatsStore, PeriodRecord } from '../store/types.ts';
import { countSources, createKlinesStats, type KlinesRequest, type KlinesService, type KlinesStats } from './klines-service.ts';
import { planFetches } from './plan.ts';
import type { SourceRuns } from './source-runs.ts';

/** Most candles one request of a cold stream covers (a 31-day month of 1m). */
const BATCH_ROWS = 44_640;

/** What a stream is built from: the service (for periods with gaps) and the cache it uses. */
export interface KlinesStreamDeps {
  readonly service: KlinesService;
  readonly cache: KlineCache;
  readonly stats?: CacheStatsStore | undefined;
  readonly nowMs: () => number;
  /** Periods read or answered ahead of the consumer (default 3). */
  readonly readAhead?: number;
}

/**
 * What a stream may start from (prepare-stream.ts): the coverage records already read (so a warm
 * stream costs one index query in all), the sources of rows fetched just before the stream (its
 * rows are then read back from the cache, and keep the source they were fetched from), and the
 * upstream statistics of that fill.
 */
export interface StreamStart {
  readonly records?: readonly PeriodRecord[];
  readonly fetched?: SourceRuns;
  readonly stats?: KlinesStats;
}

/** A streamed answer: iterate it once; `stats` is complete when the iteration has ended. */
export interface KlinesStream extends AsyncIterable<SourcedColumns> {
  readonly stats: KlinesStats;
  /** Rows yielded so far. */
  readonly rows: number;
}

/**
 * Streams the answer to `request` (same rows, sources and errors as `getKlines`, in chunks),
 * from `start` when prepare-stream.ts has already read the coverage or filled the gaps.
 * Throws InvalidInputError for an empty range (at once); UpstreamError or StoreError while
 * iterating, as `getKlines` would (rows already yielded were exact).
 */
export function streamKlines(deps: KlinesStreamDeps, request: KlinesRequest, start: StreamStart = {}): KlinesStream {
  const { range } = request;
  if (!(range.endMs > range.startMs)) throw new InvalidInputError(`range: ${formatRange(range)} is empty; end must be after start`, { ...range });
  const stats = createKlinesStats();
  if (start.stats) addStats(stats, start.stats);
  const state = { rows: 0 };
  const stream = {
    stats,
    get rows() {
      return state.rows;
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<SourcedColumns> {
      const startedMs = performance.now();
      let error: unknown;
      try {
        for await (const chunk of periodChunks(deps, request, stats, start.records)) {
          start.fetched?.label(chunk);
          countSources(stats, chunk.sources);
          state.rows += chunk.columns.length;
          yield chunk;
        }
      } catch (caught) {
        error = caught;
        throw caught;
      } finally {
        stats.elapsedMs = (start.stats?.elapsedMs ?? 0) + Math.round(performance.now() - startedMs);
        await recordStreamStats(deps.stats, datasetId(request.dataset), stats, state.rows, error);
      }
    },
  };
  return stream;
}

async function* periodChunks(deps: KlinesStreamDeps, request: KlinesRequest, stats: KlinesStats, read?: readonly PeriodRecord[]): AsyncGenerator<SourcedColumns> {
  const { dataset, range } = request;
  const records = read ?? await deps.cache.readCoverage(dataset, range);
  const plan = planFetches({ dataset, range, covered: normalizeRanges(records.flatMap((r) => r.covered)), nowMs: deps.nowMs(), source: request.source ?? 'auto' });
  const periods = periodsInRange(range, granularityFor(dataset.interval))
    .map((period) => intersectRanges([period.range], [range])[0]!);
  const readAhead = deps.readAhead ?? 3;
  if (plan.fetches.length === 0) {
    const answerEnd = Math.min(range.endMs, plan.closedEndMs);
    const pieces = periods.flatMap((piece) => intersectRanges(plan.cached, [piece]));
    yield* inOrder(pieces, readAhead, async (piece) => {
      try {
        const columns = columnsInRange(await deps.cache.readColumns(dataset, records, piece), range.startMs, answerEnd);
        return { columns, sources: uniformSources(columns.length, 'cache') };
      } catch (error) {
        // The cache dropped a period whose object failed verification (issue 8, item 3): the
        // service plans it again and fetches it, so the streamed answer stays exact.
        if (!(error instanceof CorruptPeriodError)) throw error;
        const answer = await deps.service.getKlines({ ...request, range: piece, recordStats: false, onProgress: undefined });
        addStats(stats, answer.stats);
        return { columns: answer.columns, sources: answer.sources };
      }
    });
    return;
  }
  const batches = batchPeriods(periods, INTERVAL_MS[dataset.interval]);
  let done = 0;
  yield* inOrder(batches, readAhead, async (piece: Range) => {
    const answer = await deps.service.getKlines({ ...request, range: piece, recordStats: false, onProgress: undefined });
    addStats(stats, answer.stats);
    request.onProgress?.(++done, batches.length);
    return { columns: answer.columns, sources: answer.sources };
  });
}

/**
 * Consecutive periods joined while the batch holds at most BATCH_ROWS candles (a month of 1m),
 * so that short periods (a month of 1h is 744 candles) are asked for in one request, with one
 * set of leases, while a period of 1m or 1s stays a request of its own.
 */
export function batchPeriods(periods: readonly Range[], intervalMs: number): Range[] {
  const batches: Range[] = [];
  for (const period of periods) {
    const last = batches[batches.length - 1];
    if (last && (period.endMs - last.startMs) / intervalMs <= BATCH_ROWS) batches[batches.length - 1] = { startMs: last.startMs, endMs: period.endMs };
    else batches.push(period);
  }
  return batches;
}

/** Runs `work` on `items` with at most `ahead` running beyond the one being yielded; yields results in order. */
export async function* inOrder<T, R>(items: readonly T[], ahead: number, work: (item: T) => Promise<R>): AsyncGenerator<R> {
  const pending: Promise<R>[] = [];
  let next = 0;
  const start = (): void => {
    const promise = work(items[next++]!);
    promise.catch(() => undefined); // awaited (and its error thrown) in order below
    pending.push(promise);
  };
  while (next < items.length && pending.length <= ahead) start();
  while (pending.length > 0) {
    const result = await pending.shift()!;
    if (next < items.length) start();
    yield result;
  }
}

/** Adds the upstream counters of `part` to `total` (rows are counted from the chunks' sources). */
export function addStats(total: KlinesStats, part: KlinesStats): void {
  total.visionFiles += part.visionFiles;
  total.visionBytes += part.visionBytes;
  total.visionNotFound += part.visionNotFound;
  total.restRequests += part.restRequests;
  total.restWeight += part.restWeight;
  total.gaps += part.gaps;
  total.fetchesPlanned += part.fetchesPlanned;
  total.visionFallbacks += part.visionFallbacks;
  total.leaseWaits += part.leaseWaits;
  if (part.usedWeight1m !== undefined) total.usedWeight1m = part.usedWeight1m;
  if (part.dataStartMs !== undefined) total.dataStartMs = part.dataStartMs;
  if (part.dataEndMs !== undefined) total.dataEndMs = part.dataEndMs;
}

/** One add to the cache statistics for the whole stream; a failure to record them is ignored. */
async function recordStreamStats(store: CacheStatsStore | undefined, id: string, stats: KlinesStats, rowsServed: number, error: unknown): Promise<void> {
  if (!store) return;
  const fetched = stats.visionFiles + stats.visionNotFound + stats.restRequests > 0;
  await store.add(id, {
    requests: 1, hits: !error && !fetched ? 1 : 0, misses: fetched ? 1 : 0, errors: error ? 1 : 0,
    rowsServed, rowsFromCache: stats.rowsFromCache, visionFiles: stats.visionFiles, restRequests: stats.restRequests, restWeight: stats.restWeight,
  }).catch(() => undefined);
}
