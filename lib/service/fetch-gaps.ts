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
import { formatRange, subtractRanges, type Range } from '../domain/ranges.ts';
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

/** A range that stayed a gap, and why. */
export interface FetchFailure {
  readonly range: Range;
  readonly error: unknown;
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
      const completion = result.origin === 'vision' ? completionFetch(fetch.range, lastOpenTime, dataset.interval) : undefined;
      // A short file answers only up to its last row: the tail stays a gap until REST answers it
      // (with `source: 'vision'` it stays a gap, so a later request can complete it).
      const answered = completion ? subtractRanges(result.answered, [completion.range]) : result.answered;
      // A piece parsed before the deadline is stored even if the deadline passed meanwhile: it is verified and complete.
      await deps.cache.appendColumns(dataset, columns, answered, [result.origin]);
      fresh.push({ columns, sources: uniformSources(columns.length, result.origin), answered });
      if (completion && source !== 'vision') await schedule([completion]);
    } catch (error) {
      if (error instanceof KlinesError && error.code === 'STORE_FAILED') throw error;
      failures.push({ range: fetch.range, error });
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
    const fallback = fallbackFetches(fetch, dataset.interval, nowMs, source);
    let fileRows: KlineColumns | undefined;
    try {
      fileRows = await deps.visionLimit(() => {
        job.signal?.throwIfAborted();
        return deps.vision.fetchFile({ dataset, kind, periodStartMs: fetch.fileStartMs }, stats, job.signal);
      });
    } catch (error) {
      if (source === 'vision' || fallback.length === 0 || job.signal?.aborted) throw error;
      stats.visionFallbacks++;
      return fallback;
    }
    if (fileRows === undefined) {
      if (fallback.length === 0) {
        throw new UpstreamError(`Vision: no ${kind} file for ${formatRange(fetch.range)} (404, not published)`, { details: { range: fetch.range } });
      }
      return fallback;
    }
    return { columns: columnsInRange(fileRows, fetch.range.startMs, fetch.range.endMs), answered: [fetch.range], origin: 'vision' };
  };

  await schedule(job.fetches);
  return { fresh, failures };
}
