/**
 * What the service needs from Binance: whole Vision files and REST pages. Implementations:
 * vision-client.ts and rest-client.ts; tests run both against the fake Binance on 127.0.0.1.
 */
import type { Dataset } from '../domain/kline.ts';
import type { KlineColumns } from '../domain/kline-columns.ts';
import type { Range } from '../domain/ranges.ts';
import { UpstreamError } from '../domain/errors.ts';

/** Counters of upstream work, shared by the clients of one request (for `--stats` and metrics). */
export interface UpstreamStats {
  visionFiles: number;
  visionBytes: number;
  visionNotFound: number;
  restRequests: number;
  /** Sum of the documented weights of the REST requests made. */
  restWeight: number;
  /** Last `x-mbx-used-weight-1m` header seen (the IP's used weight in the current minute). */
  usedWeight1m?: number;
}

/** A fresh counters object. */
export function createUpstreamStats(): UpstreamStats {
  return { visionFiles: 0, visionBytes: 0, visionNotFound: 0, restRequests: 0, restWeight: 0 };
}

/**
 * Adds one REST request's cost to `stats`: `attempts` requests (retries included; after a failure,
 * the attempts its UpstreamError counted in `details.attempts`, else 1), each of `weight`. Failed
 * and retried requests cost weight too (Binance counts them).
 */
export function countRestRequest(stats: UpstreamStats, attempts: number | { readonly failure: unknown }, weight: number): void {
  const failure = typeof attempts === 'number' ? undefined : attempts.failure;
  const n = typeof attempts === 'number' ? attempts
    : failure instanceof UpstreamError && typeof failure.details.attempts === 'number' ? failure.details.attempts : 1;
  stats.restRequests += n;
  stats.restWeight += n * weight;
}

/** One Vision file: daily (`periodStartMs` a UTC day start) or monthly (a UTC month start). */
export interface VisionFileRequest {
  readonly dataset: Dataset;
  readonly kind: 'daily' | 'monthly';
  readonly periodStartMs: number;
}

/** Reads Vision files. */
export interface VisionSource {
  /**
   * Downloads one file and its `.CHECKSUM`, verifies sha256, unzips, parses and validates it.
   * Returns its rows as columns (kline-columns.ts: one Float64Array per column, sorted by
   * open_time, one row per open_time, times UTC epoch ms; validated with validateKlineColumns),
   * or `undefined` when the file is not published (404).
   * Throws ChecksumMismatchError, DataValidationError, or UpstreamError (code UPSTREAM_FAILED;
   * UPSTREAM_RESTRICTED for an HTTP 451, Binance refusing the caller's location).
   */
  fetchFile(request: VisionFileRequest, stats: UpstreamStats, signal?: AbortSignal): Promise<KlineColumns | undefined>;
}

/** Reads REST pages. */
export interface RestSource {
  /**
   * Fetches every closed candle with open_time in `range` (half-open), paging as needed, and
   * drops any candle whose close_time is not before `nowMs` (the unfinished one).
   * Returns the rows as columns (kline-columns.ts), sorted by open_time, one per open_time,
   * validated with validateKlineColumns. The whole range counts as answered.
   * Throws UpstreamError: code UPSTREAM_REJECTED for 4xx (e.g. -1121 Invalid symbol),
   * UPSTREAM_RESTRICTED for 451 (restricted location), RATE_LIMITED when a 429/418 Retry-After
   * is too long to wait, UPSTREAM_FAILED otherwise.
   */
  fetchRange(dataset: Dataset, range: Range, nowMs: number, stats: UpstreamStats, signal?: AbortSignal): Promise<KlineColumns>;
  /**
   * The open_time (UTC epoch ms) of the dataset's first candle (`edge: 'first'`, REST
   * `startTime=0&limit=1`) or of the latest candle opened by `nowMs` (`'last'`, `endTime=nowMs&limit=1`:
   * the unfinished candle of a listed dataset, the last candle of a delisted one); undefined
   * when Binance returns none. One request; same errors as fetchRange.
   */
  fetchEdgeCandle(dataset: Dataset, edge: 'first' | 'last', nowMs: number, stats: UpstreamStats, signal?: AbortSignal): Promise<number | undefined>;
}
