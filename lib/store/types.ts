/**
 * The cache's two storage roles (DESIGN.md, Storage): an object store for immutable Parquet
 * objects and a coverage index with one record per dataset period. Local files implement both
 * now; S3 and DynamoDB implement the same interfaces and pass the same contract tests.
 */
import type { Granularity } from '../domain/periods.ts';
import type { Range } from '../domain/ranges.ts';

/**
 * A precondition on a write (S3 conditional writes, supported by AWS S3 since 2024):
 * `ifNoneMatch` → only if no object exists at the key; `ifMatch` → only if the object is still
 * the version whose `tag` (ObjectVersion) was read. A false precondition throws ConflictError.
 */
export type PutCondition = { readonly ifNoneMatch: true } | { readonly ifMatch: string };

/** An object's bytes and the opaque tag of that version (S3 ETag; inode, mtime and size on files). */
export interface TaggedObject {
  readonly body: Uint8Array;
  readonly tag: string;
}

/** Objects by key (`binance/spot/klines/monthly/BTCUSDT/1m/2024-01.parquet`); parts are immutable. */
export interface ObjectStore {
  /**
   * Writes the whole object atomically: readers see all of it or nothing. Overwrites an existing
   * key unless `condition` says otherwise; a false condition throws ConflictError. Stores that
   * cannot enforce conditions (s3rver ignores the headers) write anyway: callers keep a lease too.
   */
  put(key: string, body: Uint8Array, condition?: PutCondition): Promise<void>;
  /** Reads a whole object; `undefined` when the key does not exist. Throws StoreError on I/O failure. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Like `get`, with the tag of the version read (for a later conditional `put`). */
  getTagged(key: string): Promise<TaggedObject | undefined>;
  /** Deletes an object; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
}

/** Which upstream filled an object. */
export type UpstreamName = 'vision' | 'rest';

/**
 * An object the index points to: its key, row count, sha256 (hex), size and CRC-32, for
 * integrity checks. Reads verify size and CRC-32 (object-verify.ts: cheap enough for every read),
 * or sha256 for refs written before the CRC-32 was kept; `klines validate` checks all of them.
 */
export interface ObjectRef {
  readonly key: string;
  readonly rows: number;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** CRC-32 (zlib, unsigned) of the bytes; absent in refs written before it was recorded. */
  readonly crc32?: number | undefined;
  /** Upstreams that produced its rows. */
  readonly sources: readonly UpstreamName[];
  /**
   * open_time (UTC epoch ms) of its first and last row, when it has rows. Written since issue 10
   * so `klines ls` can tell a dataset's first and last candle from the index alone; absent on
   * objects written before.
   */
  readonly firstOpenMs?: number | undefined;
  readonly lastOpenMs?: number | undefined;
}

/**
 * The coverage record of one dataset period (one DynamoDB item in AWS).
 * - `covered`: ranges of open_time an upstream has answered and the cache holds (normalized);
 *   a range answered with no rows is covered too (DESIGN.md, Words: "coverage").
 * - `parts`: immutable objects appended since the last compaction; `canonical`: the compacted file.
 *   The period's rows are the union of canonical and parts, one row per open_time.
 * - `version`: 1 for the first stored record, +1 on every write (conditional updates).
 */
export interface PeriodRecord {
  readonly datasetId: string;
  readonly period: string;
  readonly granularity: Granularity;
  readonly covered: readonly Range[];
  readonly parts: readonly ObjectRef[];
  readonly canonical?: ObjectRef | undefined;
  readonly version: number;
}

/**
 * One end of a dataset's history as a REST lookup saw it: the open_time of the first (or latest)
 * candle Binance returned, or `null` when it returned none, and when the lookup ran (UTC epoch ms
 * of the request's clock).
 */
export interface EdgeCandle {
  readonly openMs: number | null;
  readonly checkedAtMs: number;
}

/**
 * Where a dataset's candles start and end (issue 8, "Listing dates"): one record per dataset,
 * beside its period records (DynamoDB sort key `#bounds`; `#bounds.json` locally), so period
 * queries never see it. `first`: REST `startTime=0&limit=1` (no candle opens before it). `last`:
 * REST `endTime=now&limit=1` (no candle opened after it until `checkedAtMs`; for a listed
 * dataset that is the unfinished candle, for a delisted one its last candle).
 * `version`: 1 for the first stored record, +1 on every write (conditional updates).
 */
export interface DatasetBounds {
  readonly datasetId: string;
  readonly first?: EdgeCandle | undefined;
  readonly last?: EdgeCandle | undefined;
  readonly version: number;
}

/** The coverage index. */
export interface CoverageIndex {
  /**
   * All records of a dataset whose period key is between `fromPeriod` and `toPeriod` inclusive
   * (keys of one granularity sort as text), in period order: one query in DynamoDB.
   */
  query(datasetId: string, fromPeriod: string, toPeriod: string): Promise<PeriodRecord[]>;
  /**
   * Stores `record` only if the stored version is `record.version - 1` (0 = no record yet).
   * Throws ConflictError when another writer got there first; the caller re-reads and retries.
   */
  put(record: PeriodRecord): Promise<void>;
  /** Every record of every dataset (for `klines validate`, `repair` and `stats`), in no set order. */
  scan(): AsyncIterable<PeriodRecord>;
  /** The dataset's bounds record, or `undefined` when none was stored. StoreError on failure. */
  readBounds(datasetId: string): Promise<DatasetBounds | undefined>;
  /**
   * Stores `bounds` only if the stored version is `bounds.version - 1` (0 = none yet); throws
   * ConflictError when another writer got there first.
   */
  putBounds(bounds: DatasetBounds): Promise<void>;
}

/**
 * Leases with an expiry, so that workers racing for the same gap fetch it from upstream once and
 * a crashed worker blocks the others only until its lease expires (issue 3). Expiries use the
 * system clock (never KLINES_NOW, which may be frozen for replays).
 */
export interface LeaseStore {
  /**
   * Takes lease `key` of a dataset for `owner` until now + `ttlMs` when it is free, expired, or
   * already held by `owner` (which renews it). Returns true when `owner` holds it afterwards.
   */
  acquire(datasetId: string, key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Frees the lease if `owner` still holds it; otherwise does nothing. */
  release(datasetId: string, key: string, owner: string): Promise<void>;
}

/** Cache statistics kept per dataset (the seed docs' `get_cache_stats`). All counts. */
export interface CacheCounters {
  /** Requests answered (or failed). */
  requests: number;
  /** Requests answered from the cache alone. */
  hits: number;
  /** Requests that needed at least one upstream fetch. */
  misses: number;
  /** Requests that failed. */
  errors: number;
  rowsServed: number;
  rowsFromCache: number;
  visionFiles: number;
  restRequests: number;
  /** Sum of the documented weights of the REST requests made. */
  restWeight: number;
  /**
   * Cached objects that failed verification on read (missing, or bytes unlike their index
   * record): never served; their period's coverage was dropped and fetched again.
   */
  corruptObjects: number;
  /** Superseded objects whose delete failed after a compaction: left as orphans for `klines repair --orphans`. */
  cleanupFailures: number;
}

/** Where cache statistics are kept: atomic counters (DynamoDB ADD; a locked file locally). */
export interface CacheStatsStore {
  /** Adds `counters` to the dataset's totals atomically; missing counters count as 0. */
  add(datasetId: string, counters: Partial<CacheCounters>): Promise<void>;
  /** The totals of every dataset that has any. */
  read(): Promise<Map<string, CacheCounters>>;
}
