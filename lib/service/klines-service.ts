/**
 * The service that answers a klines request (DESIGN.md, The flow): read coverage (one index
 * query), plan, take the leases of the gap periods, fetch the gaps, store each verified piece
 * (data, then coverage), compact closed periods, and merge cache and fresh rows into one answer.
 * Periods leased by another worker are not fetched twice: their coverage is re-read until that
 * worker has filled them (or its lease expired and this worker takes over).
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { DeadlineReachedError, InvalidInputError, KlinesError, UpstreamError } from '../domain/errors.ts';
import { sleep } from '../domain/sleep.ts';
import { datasetId, datasetLabel, type Dataset, type SourcedKline } from '../domain/kline.ts';
import {
  emptyColumns, lowerBoundColumns, mergeSourcedColumns, sliceColumns, sourcedRowsFromColumns, uniformSources, type SourcedColumns,
} from '../domain/kline-columns.ts';
import { granularityFor, periodsInRange, type Period } from '../domain/periods.ts';
import { coversRange, formatRange, intersectRanges, normalizeRanges, subtractRanges, unionRanges, type Range } from '../domain/ranges.ts';
import { CorruptPeriodError, MAX_OPEN_PARTS, type KlineCache } from '../store/kline-cache.ts';
import { answerAgainOnCorrupt } from '../store/cache-integrity.ts';
import type { CacheStatsStore, LeaseStore, PeriodRecord } from '../store/types.ts';
import { createUpstreamStats, type RestSource, type UpstreamStats, type VisionSource } from '../sources/types.ts';
import { createBoundsResolver, lastCandleOfEnded, type BoundsStore } from './dataset-bounds.ts';
import { fetchGaps, gapError, type FetchFailure } from './fetch-gaps.ts';
import { acquireLeases } from './leases.ts';
import { planFetches, type Plan, type SourceMode } from './plan.ts';

/** A request: a dataset and a half-open open_time range `[startMs, endMs)` in UTC epoch ms. */
export interface KlinesRequest {
  readonly dataset: Dataset;
  readonly range: Range;
  readonly source?: SourceMode;
  /** Called after each finished fetch with (done, total) fetches, for progress bars. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * The caller's deadline: once aborted, no new fetch starts, fetches in flight are cancelled
   * (nothing partial is stored), and getKlines throws DeadlineReachedError naming what remains.
   * Pieces stored before it stay cached.
   */
  readonly signal?: AbortSignal;
  /**
   * Fill the cache only (issue 10, `klines sync`, the refresh): cached rows are not read back, so
   * the answer holds just the rows fetched by this call (its stats still count them).
   */
  readonly fillOnly?: boolean;
  /** false: leave this request out of the cache statistics (a streamed answer adds itself once). Default true. */
  readonly recordStats?: boolean;
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
  /** Times this request waited for another worker's lease. */
  leaseWaits: number;
  elapsedMs: number;
  /** open_time of the dataset's first candle, when this request knows it (it had a gap to plan). */
  dataStartMs?: number;
  /** open_time of a delisted dataset's last candle, when this request knows the dataset ended. */
  dataEndMs?: number;
}

/**
 * An answer: klines sorted by open_time, one per open_time, each tagged with its source.
 * `columns` and `sources` (codes into ORIGINS) hold them compactly; `rows` builds the row
 * objects on first access (about 300 bytes a row in V8), so large answers that are only written
 * out (CLI, files) never pay for them.
 */
export interface KlinesAnswer extends SourcedColumns {
  readonly rows: SourcedKline[];
  readonly plan: Plan;
  readonly stats: KlinesStats;
}

/** The service. */
export interface KlinesService {
  /**
   * Answers a request with every closed candle Binance has in the range. Throws UpstreamError
   * naming the failed ranges when an upstream failure leaves a gap (pieces fetched before the
   * failure are kept in the cache), or when another worker's lease outlives `leaseWaitMs`;
   * DeadlineReachedError when `request.signal` aborts before the gaps are filled;
   * InvalidInputError for an empty range; StoreError when the cache cannot be read or written.
   * A cached object that fails verification is never served: the cache drops its period and the
   * request is answered again from the top, so the period is fetched anew (at most
   * CORRUPT_RETRIES times, cache-integrity.ts; issue 8, item 3).
   */
  getKlines(request: KlinesRequest): Promise<KlinesAnswer>;
}

/** What the service is built from; `nowMs` is the injectable clock (KLINES_NOW). */
export interface KlinesServiceDeps {
  readonly cache: KlineCache;
  readonly leases: LeaseStore;
  readonly stats?: CacheStatsStore;
  readonly vision: VisionSource;
  readonly rest: RestSource;
  readonly nowMs: () => number;
  /** Vision files downloaded at once (default 8). */
  readonly visionConcurrency?: number;
  /** REST requests at once (default 2: REST is weight-limited per IP). */
  readonly restConcurrency?: number;
  /** Lease length; renewed every third of it while held (default 60 s). */
  readonly leaseTtlMs?: number;
  /** How long to wait for periods another worker is filling before failing (default 120 s). */
  readonly leaseWaitMs?: number;
  /** Where each dataset's first and last candle are kept (the coverage index); absent: looked up per request. */
  readonly bounds?: BoundsStore;
}

/** Builds the service. */
export function createKlinesService(deps: KlinesServiceDeps): KlinesService {
  const fetchDeps = { ...deps, visionLimit: pLimit(deps.visionConcurrency ?? 8), restLimit: pLimit(deps.restConcurrency ?? 2) };
  const leaseTtlMs = deps.leaseTtlMs ?? 60_000;
  const leaseWaitMs = deps.leaseWaitMs ?? 120_000;

  function getVerifiedKlines(request: KlinesRequest): Promise<KlinesAnswer> {
    return answerAgainOnCorrupt((mayRetry) => getKlines(request, mayRetry));
  }

  async function getKlines(request: KlinesRequest, mayRetry: boolean): Promise<KlinesAnswer> {
    const startedMs = performance.now();
    const { dataset, range } = request;
    const source = request.source ?? 'auto';
    if (!(range.endMs > range.startMs)) throw new InvalidInputError(`range: ${formatRange(range)} is empty; end must be after start`, { ...range });
    const nowMs = deps.nowMs();
    const id = datasetId(dataset);
    const owner = randomUUID();
    const granularity = granularityFor(dataset.interval);
    const stats = createKlinesStats();
    const periodKeys = (ranges: readonly Range[]) => ranges.flatMap((r) => periodsInRange(r, granularity).map((p) => p.key));

    let records = await deps.cache.readCoverage(dataset, range);
    const dataSeen = records.filter((r) => (r.canonical?.rows ?? 0) + r.parts.reduce((sum, p) => sum + p.rows, 0) > 0).flatMap((r) => r.covered);
    const bounds = createBoundsResolver({ store: deps.bounds, rest: deps.rest, dataset, nowMs, stats, signal: request.signal, dataSeen });
    const planNow = (covered: Range[]): Plan => planFetches({ dataset, range, covered, nowMs, source, knownEmpty: bounds.knownEmpty() });
    let firstPlan = planNow(coverageOf(records));
    if (firstPlan.fetches.length > 0) {
      await bounds.prepare(firstPlan.gaps);
      firstPlan = planNow(coverageOf(records));
    }
    stats.gaps = firstPlan.gaps.length;
    stats.fetchesPlanned = firstPlan.fetches.length;
    const cachedColumns = request.fillOnly ? Promise.resolve([]) : Promise.all(firstPlan.cached.map((piece) => deps.cache.readColumns(dataset, records, piece)));
    cachedColumns.catch(() => undefined); // awaited (and its error thrown) after the fetches
    let have: Range[] = unionRanges(firstPlan.cached, bounds.knownEmpty());
    const fresh: SourcedColumns[] = [];
    const failures: FetchFailure[] = [];
    const touched = new Set<string>();
    const deadlineMs = Date.now() + leaseWaitMs;

    try {
      for (let plan = firstPlan; plan.fetches.length > 0;) {
        if (request.signal?.aborted) throw deadlineReached(dataset, firstPlan, unionRanges(coverageOf(records), have));
        const held = await acquireLeases(deps.leases, id, periodKeys(plan.fetches.map((f) => f.range)), owner, leaseTtlMs);
        try {
          if (held.keys.size > 0) {
            // Another worker may have filled these periods between our read and our lease.
            records = await deps.cache.readCoverage(dataset, range);
            plan = planNow(unionRanges(coverageOf(records), have));
          }
          const runnable = plan.fetches.filter((f) => periodKeys([f.range]).every((key) => held.keys.has(key)));
          if (runnable.length > 0) {
            const job = { dataset, fetches: runnable, nowMs, source, stats, signal: request.signal, onProgress: request.onProgress, explainMissing: bounds.explainMissing };
            const result = await fetchGaps(job, fetchDeps);
            fresh.push(...result.fresh);
            failures.push(...result.failures);
            have = unionRanges(have, [...result.fresh.flatMap((r) => r.answered), ...bounds.knownEmpty()]);
            for (const key of held.keys) touched.add(key);
          }
          if (request.signal?.aborted) throw deadlineReached(dataset, firstPlan, unionRanges(coverageOf(records), have));
          if (failures.length > 0 || runnable.length === plan.fetches.length) break;
        } finally {
          await held.release();
        }
        // Another worker holds some periods: wait for it, then plan what is still a gap.
        if (Date.now() > deadlineMs) throw leaseTimeout(dataset, plan);
        stats.leaseWaits++;
        await sleep(100 + Math.random() * 400);
        if (request.signal?.aborted) throw deadlineReached(dataset, firstPlan, unionRanges(coverageOf(records), have));
        records = await deps.cache.readCoverage(dataset, range);
        plan = planNow(unionRanges(coverageOf(records), have));
      }
      if (failures.length > 0) throw gapError(datasetLabel(dataset), failures);
      // What the dataset's bounds explain is covered, answered empty, like any range Binance
      // answered with no rows (so `klines ls` shows it, and later requests plan nothing there).
      const explained = subtractRanges(intersectRanges([firstPlan.requested], bounds.knownEmpty()), coverageOf(records));
      if (explained.length > 0) await deps.cache.appendColumns(dataset, emptyColumns(), explained, ['rest']);

      // Ranges another worker filled while this one waited are read back from the cache.
      const filledByOthers = request.fillOnly ? [] : subtractRanges([firstPlan.requested], have);
      const otherColumns = await Promise.all(filledByOthers.map((piece) => deps.cache.readColumns(dataset, records, piece)));
      await compactClosedPeriods(dataset, records, touched, firstPlan.requested, firstPlan.closedEndMs, owner);

      const cached = [...(await cachedColumns), ...otherColumns].map((columns) => ({ columns, sources: uniformSources(columns.length, 'cache') }));
      // Whole files bring rows beyond the request and over ranges already read from the cache.
      const wanted = subtractRanges([firstPlan.requested], firstPlan.cached);
      const merged = mergeSourcedColumns([...cached, ...fresh.flatMap((piece) => piecesInRanges(piece, wanted))]);
      const from = lowerBoundColumns(merged.columns, range.startMs);
      const to = lowerBoundColumns(merged.columns, Math.min(range.endMs, firstPlan.closedEndMs));
      const answer = { columns: sliceColumns(merged.columns, from, to), sources: merged.sources.subarray(from, to) };
      countSources(stats, answer.sources);
      // An answer that starts after the requested start may be a listing: say where the data starts.
      const startsLate = answer.columns.length === 0 || answer.columns.open_time[0]! > firstPlan.requested.startMs;
      const known = startsLate ? await bounds.read() : bounds.current();
      if (typeof known?.first?.openMs === 'number') stats.dataStartMs = known.first.openMs;
      const lastMs = lastCandleOfEnded(known, dataset.interval);
      if (lastMs !== undefined) stats.dataEndMs = lastMs;
      stats.elapsedMs = Math.round(performance.now() - startedMs);
      await recordStats(id, stats, answer.columns.length, undefined, request);
      let rows: SourcedKline[] | undefined;
      return {
        ...answer,
        plan: firstPlan,
        stats,
        get rows() {
          rows ??= sourcedRowsFromColumns(answer);
          return rows;
        },
      };
    } catch (error) {
      if (!(mayRetry && error instanceof CorruptPeriodError)) await recordStats(id, stats, 0, error, request);
      throw error;
    }
  }

  /**
   * Compacts, under their leases, the periods this request appended to and those the first index
   * read showed with parts to compact: closed, fully covered periods into their canonical file,
   * open periods with more than MAX_OPEN_PARTS parts into one merged part.
   */
  async function compactClosedPeriods(dataset: Dataset, records: readonly PeriodRecord[], touched: ReadonlySet<string>, requested: Range, closedEndMs: number, owner: string): Promise<void> {
    const byPeriod = new Map(records.map((r) => [r.period, r]));
    const candidates: Period[] = periodsInRange(requested, granularityFor(dataset.interval)).filter((p) => {
      const record = byPeriod.get(p.key);
      if (touched.has(p.key)) return true; // compact() decides: canonical file, merged parts, or nothing
      return record !== undefined && record.parts.length > 0
        && ((p.range.endMs <= closedEndMs && coversRange(record.covered, p.range)) || record.parts.length > MAX_OPEN_PARTS);
    });
    if (candidates.length === 0) return;
    const held = await acquireLeases(deps.leases, datasetId(dataset), candidates.map((p) => p.key), owner, leaseTtlMs);
    try {
      await deps.cache.compact(dataset, candidates.filter((p) => held.keys.has(p.key)), closedEndMs);
    } finally {
      await held.release();
    }
  }

  /** Adds the request to the cache statistics; a failure to record them never fails the request. */
  async function recordStats(id: string, stats: KlinesStats, rowsServed: number, error: unknown, request: KlinesRequest): Promise<void> {
    if (!deps.stats || request.recordStats === false) return;
    const fetched = stats.visionFiles + stats.visionNotFound + stats.restRequests > 0;
    await deps.stats.add(id, {
      requests: 1, hits: !error && !fetched ? 1 : 0, misses: fetched ? 1 : 0, errors: error ? 1 : 0,
      rowsServed, rowsFromCache: stats.rowsFromCache, visionFiles: stats.visionFiles, restRequests: stats.restRequests, restWeight: stats.restWeight,
    }).catch(() => undefined);
  }

  return { getKlines: getVerifiedKlines };
}


/** The rows of `piece` inside `ranges` (normalized), one chunk per range that holds any. */
function piecesInRanges(piece: SourcedColumns, ranges: readonly Range[]): SourcedColumns[] {
  const out: SourcedColumns[] = [];
  for (const range of ranges) {
    const from = lowerBoundColumns(piece.columns, range.startMs);
    const to = lowerBoundColumns(piece.columns, range.endMs);
    if (to > from) out.push({ columns: sliceColumns(piece.columns, from, to), sources: piece.sources.subarray(from, to) });
  }
  return out;
}

function coverageOf(records: readonly PeriodRecord[]): Range[] {
  return normalizeRanges(records.flatMap((r) => r.covered));
}

function deadlineReached(dataset: Dataset, plan: Plan, have: readonly Range[]): DeadlineReachedError {
  const closed = { startMs: plan.requested.startMs, endMs: Math.min(plan.requested.endMs, plan.closedEndMs) };
  const remaining = subtractRanges([closed], have);
  return new DeadlineReachedError(
    `${datasetLabel(dataset)}: the deadline came before ${remaining.map(formatRange).join(', ')} could be filled; what was fetched is kept`,
    { remaining },
  );
}

function leaseTimeout(dataset: Dataset, plan: Plan): UpstreamError {
  const ranges = normalizeRanges(plan.fetches.map((f) => f.range));
  return new UpstreamError(
    `${datasetLabel(dataset)}: another worker is still filling ${ranges.map(formatRange).join(', ')}; try again shortly`,
    { code: 'UPSTREAM_FAILED', details: { ranges } },
  );
}

/** Statistics of a request before it has done anything: every count 0. */
export function createKlinesStats(): KlinesStats {
  return {
    ...createUpstreamStats(), rowsFromCache: 0, rowsFromVision: 0, rowsFromRest: 0, gaps: 0, fetchesPlanned: 0, visionFallbacks: 0, leaseWaits: 0, elapsedMs: 0,
  };
}

/** Adds each row's source (codes of kline-columns.ts: 0 cache, 1 vision, else rest) to the row counts of `stats`. */
export function countSources(stats: KlinesStats, sources: Uint8Array): void {
  for (const code of sources) {
    if (code === 0) stats.rowsFromCache++;
    else if (code === 1) stats.rowsFromVision++;
    else stats.rowsFromRest++;
  }
}
