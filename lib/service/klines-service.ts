/**
 * The service that answers a klines request (DESIGN.md, The flow): read coverage (one index
 * query), plan, fetch the gaps with bounded concurrency, store each verified piece (data, then
 * coverage), compact closed periods, and merge cache and fresh rows into one sorted answer.
 */
import pLimit from 'p-limit';
import { UpstreamError, KlinesError, InvalidInputError } from '../domain/errors.ts';
import { INTERVAL_MS } from '../domain/intervals.ts';
import { mergeKlines, type Dataset, type Kline, type SourcedKline } from '../domain/kline.ts';
import { granularityFor, periodsInRange } from '../domain/periods.ts';
import { formatRange, normalizeRanges, unionRanges, type Range } from '../domain/ranges.ts';
import type { KlineCache } from '../store/kline-cache.ts';
import { createUpstreamStats, type RestSource, type UpstreamStats, type VisionSource } from '../sources/types.ts';
import { completionFetch, fallbackFetches, planFetches, type Fetch, type Plan, type SourceMode } from './plan.ts';

/** A request: a dataset and a half-open open_time range `[startMs, endMs)` in UTC epoch ms. */
export interface KlinesRequest {
  readonly dataset: Dataset;
  readonly range: Range;
  readonly source?: SourceMode;
  /** Called after each finished fetch with (done, total) fetches, for progress bars. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Figures of one answered request (for `--stats`, logs and metrics). */
export interface KlinesStats extends UpstreamStats {
  rowsFromCache: number;
  rowsFromVision: number;
  rowsFromRest: number;
  gaps: number;
  fetchesPlanned: number;
  /** Vision fetches that failed (not 404) and fell back to another upstream. */
  visionFallbacks: number;
  elapsedMs: number;
}

/** An answer: rows sorted by open_time, one per open_time, each tagged with its source. */
export interface KlinesAnswer {
  readonly rows: SourcedKline[];
  readonly plan: Plan;
  readonly stats: KlinesStats;
}

/** The service. */
export interface KlinesService {
  /**
   * Answers a request with every closed candle Binance has in the range. Throws UpstreamError
   * naming the failed ranges when an upstream failure leaves a gap (pieces fetched before the
   * failure are kept in the cache), InvalidInputError for a bad range.
   */
  getKlines(request: KlinesRequest): Promise<KlinesAnswer>;
}

/** What the service is built from; `nowMs` is the injectable clock (KLINES_NOW). */
export interface KlinesServiceDeps {
  readonly cache: KlineCache;
  readonly vision: VisionSource;
  readonly rest: RestSource;
  readonly nowMs: () => number;
  /** Vision files downloaded at once (default 8). */
  readonly visionConcurrency?: number;
  /** REST requests at once (default 2: REST is weight-limited per IP). */
  readonly restConcurrency?: number;
}

interface FetchResult {
  readonly rows: Kline[];
  readonly answered: Range[];
  readonly origin: 'vision' | 'rest';
}

/** Builds the service. */
export function createKlinesService(deps: KlinesServiceDeps): KlinesService {
  const visionLimit = pLimit(deps.visionConcurrency ?? 8);
  const restLimit = pLimit(deps.restConcurrency ?? 2);

  async function getKlines(request: KlinesRequest): Promise<KlinesAnswer> {
    const startedMs = performance.now();
    const { dataset, range } = request;
    const source = request.source ?? 'auto';
    if (!(range.endMs > range.startMs)) {
      throw new InvalidInputError(`range: ${formatRange(range)} is empty; end must be after start`, { ...range });
    }
    const nowMs = deps.nowMs();
    const stats: KlinesStats = {
      ...createUpstreamStats(), rowsFromCache: 0, rowsFromVision: 0, rowsFromRest: 0, gaps: 0, fetchesPlanned: 0, visionFallbacks: 0, elapsedMs: 0,
    };
    const records = await deps.cache.readCoverage(dataset, range);
    const covered = unionRanges([], records.flatMap((r) => r.covered));
    const plan = planFetches({ dataset, range, covered, nowMs, source });
    stats.gaps = plan.gaps.length;
    stats.fetchesPlanned = plan.fetches.length;

    const cachedRowsPromise = Promise.all(plan.cached.map((piece) => deps.cache.readRows(dataset, records, piece)));
    const failures: { range: Range; error: unknown }[] = [];
    const fresh: FetchResult[] = [];
    let done = 0;
    let total = 0;

    const run = async (fetch: Fetch): Promise<void> => {
      try {
        const result = await execute(fetch);
        if (result.kind === 'rows') {
          await deps.cache.appendRows(dataset, result.value.rows, result.value.answered, [result.value.origin]);
          fresh.push(result.value);
          const completion = result.value.origin === 'vision' && source !== 'vision'
            ? completionFetch(fetch.range, result.value.rows.at(-1)?.open_time, dataset.interval) : undefined;
          if (completion) await schedule([completion]);
        } else {
          await schedule(result.value);
        }
      } catch (error) {
        if (error instanceof KlinesError && error.code === 'STORE_FAILED') throw error;
        failures.push({ range: fetch.range, error });
      } finally {
        done++;
        request.onProgress?.(done, total);
      }
    };
    const schedule = async (fetches: readonly Fetch[]): Promise<void> => {
      total += fetches.length;
      await Promise.all(fetches.map(run));
    };

    /** Runs one fetch: its rows, or the fetches that replace it (fallback). */
    const execute = async (fetch: Fetch): Promise<{ kind: 'rows'; value: FetchResult } | { kind: 'fallback'; value: Fetch[] }> => {
      if (fetch.kind === 'rest') {
        const rows = await restLimit(() => deps.rest.fetchRange(dataset, fetch.range, nowMs, stats, request.signal));
        return { kind: 'rows', value: { rows, answered: [fetch.range], origin: 'rest' } };
      }
      const fallback = fallbackFetches(fetch, dataset.interval, nowMs, source);
      let fileRows: Kline[] | undefined;
      try {
        fileRows = await visionLimit(() => deps.vision.fetchFile(
          { dataset, kind: fetch.kind === 'vision-monthly' ? 'monthly' : 'daily', periodStartMs: fetch.fileStartMs }, stats, request.signal));
      } catch (error) {
        if (source === 'vision' || fallback.length === 0) throw error;
        stats.visionFallbacks++;
        return { kind: 'fallback', value: fallback };
      }
      if (fileRows === undefined) {
        if (fallback.length === 0) throw new UpstreamError(`Vision: no ${fetch.kind === 'vision-monthly' ? 'monthly' : 'daily'} file for ${formatRange(fetch.range)} (404, not published)`, { details: { range: fetch.range } });
        return { kind: 'fallback', value: fallback };
      }
      const rows = fileRows.filter((row) => row.open_time >= fetch.range.startMs && row.open_time < fetch.range.endMs);
      return { kind: 'rows', value: { rows, answered: [fetch.range], origin: 'vision' } };
    };

    await schedule(plan.fetches);
    const cachedRows = await cachedRowsPromise;

    if (failures.length > 0) throw gapError(dataset, failures);

    const granularity = granularityFor(dataset.interval);
    await deps.cache.compact(dataset, periodsInRange(plan.requested, granularity), plan.closedEndMs);

    const rows = mergeKlines<SourcedKline>([
      ...cachedRows.map((list) => list.map((row) => ({ ...row, source: 'cache' as const }))),
      ...fresh.map((result) => result.rows.map((row) => ({ ...row, source: result.origin }))),
    ]).filter((row) => row.open_time >= range.startMs && row.open_time < Math.min(range.endMs, plan.closedEndMs));
    for (const row of rows) {
      if (row.source === 'cache') stats.rowsFromCache++;
      else if (row.source === 'vision') stats.rowsFromVision++;
      else stats.rowsFromRest++;
    }
    stats.elapsedMs = Math.round(performance.now() - startedMs);
    return { rows, plan, stats };
  }

  return { getKlines };
}

function gapError(dataset: Dataset, failures: { range: Range; error: unknown }[]): UpstreamError {
  const ranges = normalizeRanges(failures.map((f) => f.range));
  const first = failures[0]!.error;
  const reason = first instanceof Error ? first.message : String(first);
  const code = first instanceof KlinesError ? first.code : 'UPSTREAM_FAILED';
  return new UpstreamError(
    `${dataset.symbol} ${dataset.interval} (${dataset.market}): could not fetch ${ranges.map(formatRange).join(', ')}: ${reason}`,
    { cause: first, code, details: { ranges, failures: failures.length, interval_ms: INTERVAL_MS[dataset.interval] } },
  );
}
