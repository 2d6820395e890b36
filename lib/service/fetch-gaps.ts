/**
 * Executes the fetches of a plan (DESIGN.md, The flow, step 3): bounded concurrency per upstream,
 * Vision 404 or failure replaced by its fallbacks, a Vision file whose rows stop early completed
 * from REST, and every verified piece stored (data, then coverage) as soon as it arrives, so a
 * later failure never loses it.
 */
import type { LimitFunction } from 'p-limit';
import { KlinesError, UpstreamError } from '../domain/errors.ts';
import type { Dataset } from '../domain/kline.ts';
import { columnsInRange, uniformSources, type KlineColumns, type SourcedColumns } from '../domain/kline-columns.ts';
import { formatRange, intersectRanges, normalizeRanges, subtractRanges, type Range } from '../domain/ranges.ts';
import type { KlineCache } from '../store/kline-cache.ts';
import type { RestSource, UpstreamStats, VisionSource } from '../sources/types.ts';
import { completionFetch, fallbackFetches, type Fetch, type SourceMode } from './plan.ts';

/** Rows one fetch brought (as columns), the range they answer, and their upstream. */
interface FetchedRows {
  readonly columns: KlineColumns;
  readonly answered: Range[];
  readonly origin: 'vision' | 'rest';
}

/**
 * What one fetch stored, kept as columns (46 MB for a year of 1m, where row objects would hold
 * about 160 MB until the answer is built). The fetch path builds no row objects: sources return
 * columns, the cache encodes them, and these are the same buffers.
 */
export interface FetchResult extends SourcedColumns {
  readonly answered: Range[];
}

/** A Vision fetch (see plan.ts). */
export type VisionFetch = Extract<Fetch, { need: unknown }>;

/** From the first to just after the last open_time of the fetched rows; undefined when there are none. */
function spanOf(pieces: readonly FetchResult[]): Range | undefined {
  let startMs = Infinity;
  let endMs = -Infinity;
  for (const { columns } of pieces) {
    if (columns.length === 0) continue;
    startMs = Math.min(startMs, columns.open_time[0]!);
    endMs = Math.max(endMs, columns.open_time[columns.length - 1]! + 1);
  }
  return endMs > startMs ? { startMs, endMs } : undefined;
}

/** A range that stayed a gap, and why. */
export interface FetchFailure {
  readonly range: Range;
  readonly error: unknown;
}

/**
 * The error of a request whose `failures` left gaps, naming the dataset (`label`, e.g.
 * `BTCUSDT 1h (um)`), every range not fetched and the first reason; a restricted location
 * (HTTP 451) is named first, as the one failure whose fix is the caller's. Its code is the
 * failure's own (a lost index race, CONFLICT, is not an upstream's: UPSTREAM_FAILED then).
 * Klines and funding rates alike.
 */
export function gapError(label: string, failures: readonly FetchFailure[]): UpstreamError {
  const ranges = normalizeRanges(failures.map((f) => f.range));
  const restricted = failures.find((f) => f.error instanceof KlinesError && f.error.code === 'UPSTREAM_RESTRICTED');
  const first = (restricted ?? failures[0]!).error;
  const reason = first instanceof Error ? first.message : String(first);
  const code = first instanceof KlinesError && first.code !== 'CONFLICT' ? first.code : 'UPSTREAM_FAILED';
  return new UpstreamError(`${label}: could not fetch ${ranges.map(formatRange).join(', ')}: ${reason}`, {
    cause: first, code, details: { ranges, failures: failures.length },
  });
}

/** What fetchGaps needs. The limits are shared by all requests of a service. */
export interface FetchGapsDeps {
  readonly cache: KlineCache;
  readonly vision: VisionSource;
  readonly rest: RestSource;
  readonly visionLimit: LimitFunction;
  readonly restLimit: LimitFunction;
}

/** One batch of fetches of one dataset. `nowMs` is the request's clock. */
export interface FetchGapsJob {
  readonly dataset: Dataset;
  readonly fetches: readonly Fetch[];
  readonly nowMs: number;
  readonly source: SourceMode;
  readonly stats: UpstreamStats & { visionFallbacks: number };
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
  /**
   * Called for each Vision file that was not found (404), once the fetches around it are done:
   * the parts of its `need` known to hold no candle (before the dataset's first, after a delisted
   * one's last), which need no fallback. `seen` spans the open_times of the rows this job fetched
   * (undefined if none): a missing file between rows is a hole, not an edge. Absent: every 404
   * falls back.
   */
  readonly explainMissing?: ((fetch: VisionFetch, seen: Range | undefined) => Promise<Range[]>) | undefined;
}

/**
 * Runs the fetches and stores what they bring. Returns the stored pieces and the ranges that
 * failed (an upstream error); a store failure (STORE_FAILED) is thrown at once.
 */
export async function fetchGaps(job: FetchGapsJob, deps: FetchGapsDeps): Promise<{ fresh: FetchResult[]; failures: FetchFailure[] }> {
  const { dataset, nowMs, source, stats } = job;
  const fresh: FetchResult[] = [];
  const failures: FetchFailure[] = [];
  let done = 0;
  let total = 0;

  const missing: VisionFetch[] = [];
  const run = async (fetch: Fetch): Promise<void> => {
    try {
      // Past the caller's deadline no new fetch (fallback or completion included) starts.
      job.signal?.throwIfAborted();
      const result = await execute(fetch);
      if (Array.isArray(result)) {
        await schedule(result);
        return;
      }
      const { columns } = result;
      const lastOpenTime = columns.length > 0 ? columns.open_time[columns.length - 1] : undefined;
      const tail = fetch.kind === 'rest' ? undefined : completionFetch(fetch.range, lastOpenTime, dataset.interval);
      // A short file answers only up to its last row: the tail stays a gap, and REST completes
      // the part of it this request needs (with `source: 'vision'` it stays a gap).
      const answered = tail ? subtractRanges(result.answered, [tail.range]) : result.answered;
      // A piece parsed before the deadline is stored even if the deadline passed meanwhile: it is verified and complete.
      await deps.cache.appendColumns(dataset, columns, answered, [result.origin]);
      fresh.push({ columns, sources: uniformSources(columns.length, result.origin), answered });
      const completion = tail && fetch.kind !== 'rest' ? intersectRanges(fetch.need, [tail.range]) : [];
      if (completion.length > 0 && source !== 'vision') await schedule(completion.map((range) => ({ kind: 'rest' as const, range })));
    } catch (error) {
      if (error instanceof KlinesError && error.code === 'STORE_FAILED') throw error;
      for (const range of fetch.kind === 'rest' ? [fetch.range] : fetch.need) failures.push({ range, error });
    } finally {
      done++;
      job.onProgress?.(done, total);
    }
  };

  const schedule = async (fetches: readonly Fetch[]): Promise<void> => {
    total += fetches.length;
    await Promise.all(fetches.map(run));
  };

  /** One fetch: its rows, or the fetches that replace it (a fallback). */
  const execute = async (fetch: Fetch): Promise<FetchedRows | Fetch[]> => {
    if (fetch.kind === 'rest') {
      const columns = await deps.restLimit(() => {
        // Fetches queued behind the limit when the deadline came fail at once, without a request.
        job.signal?.throwIfAborted();
        return deps.rest.fetchRange(dataset, fetch.range, nowMs, stats, job.signal);
      });
      return { columns, answered: [fetch.range], origin: 'rest' };
    }
    const kind = fetch.kind === 'vision-monthly' ? 'monthly' : 'daily';
    let fileRows: KlineColumns | undefined;
    try {
      fileRows = await deps.visionLimit(() => {
        job.signal?.throwIfAborted();
        return deps.vision.fetchFile({ dataset, kind, periodStartMs: fetch.fileStartMs }, stats, job.signal);
      });
    } catch (error) {
      const fallback = fallbackFetches(fetch, dataset, nowMs, source);
      if (source === 'vision' || fallback.length === 0 || job.signal?.aborted) throw error;
      stats.visionFallbacks++;
      return fallback;
    }
    if (fileRows === undefined) {
      if (!job.explainMissing) return replaceMissing(fetch, []);
      missing.push(fetch); // explained once the fetches around it are done
      return [];
    }
    // The whole file is kept (clipped to closed candles) and answers its whole period.
    return { columns: columnsInRange(fileRows, fetch.range.startMs, fetch.range.endMs), answered: [fetch.range], origin: 'vision' };
  };

  /** A 404: the fetches that still fill the need not known to be empty (none if all of it is). */
  const replaceMissing = async (fetch: VisionFetch, empty: readonly Range[]): Promise<Fetch[]> => {
    const need = subtractRanges(fetch.need, empty);
    if (need.length === 0) return [];
    const rest = { ...fetch, need: normalizeRanges(need) };
    const fallback = fallbackFetches(rest, dataset, nowMs, source);
    if (fallback.length === 0) {
      throw new UpstreamError(`Vision: no ${fetch.kind === 'vision-monthly' ? 'monthly' : 'daily'} file for ${need.map(formatRange).join(', ')} (404, not published)`, { details: { range: need[0] } });
    }
    return fallback;
  };

  await schedule(job.fetches);
  while (missing.length > 0) {
    const seen = spanOf(fresh);
    await Promise.all(missing.splice(0).map(async (fetch) => {
      try {
        await schedule(await replaceMissing(fetch, await job.explainMissing!(fetch, seen)));
      } catch (error) {
        if (error instanceof KlinesError && error.code === 'STORE_FAILED') throw error;
        for (const range of fetch.need) failures.push({ range, error });
      }
    }));
  }
  return { fresh, failures };
}
