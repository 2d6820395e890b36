/**
 * The kline cache's read path with verify on read (issue 8, item 3): every object a record names
 * is checked against its ref (object-verify.ts) before anything from it is decoded, so a
 * corrupt or missing object is never served. A bad object is looked at again against the
 * record as it is now (a compaction may have replaced it); a period still bad at an unchanged
 * record is dropped and CorruptPeriodError thrown (cache-integrity.ts), for the service to fetch
 * it again.
 */
import pLimit from 'p-limit';
import { StoreError } from '../domain/errors.ts';
import type { Dataset } from '../domain/kline.ts';
import { columnsInRange, concatColumns, emptyColumns, type KlineColumns } from '../domain/kline-columns.ts';
import { datasetFolder } from '../domain/periods.ts';
import { intersectRanges, subtractRanges, type Range } from '../domain/ranges.ts';
import { sleep } from '../domain/sleep.ts';
import { dropCorruptPeriod, refsOf, type KlineCacheEvents } from './cache-integrity.ts';
import { mergePieces } from './cache-pieces.ts';
import { verifyObject } from './object-verify.ts';
import { decodeKlineColumns } from './parquet-codec.ts';
import type { RecordWriter } from './record-writer.ts';
import type { ObjectStore, PeriodRecord } from './types.ts';

/**
 * Waits (ms) for a compaction in flight to commit, when a canonical file differs from the record
 * that names it: a compactor writes the file, then switches the index (about 1.5 s in all).
 */
const CANONICAL_SETTLE_MS = [50, 100, 200, 400, 800] as const;
/** Periods read at once. */
const PERIOD_CONCURRENCY = 4;

/** A bad object of a record: its key and what is wrong with it. */
export interface BadObject { readonly key: string; readonly reason: string }

/** The verified reads the cache is built on. */
export interface CacheReader {
  /**
   * Each object of a record (canonical first, then parts in order), verified against its ref and
   * decoded as columns within `range`; `{ bad }` names the first object missing or unlike its ref.
   */
  readRecordPieces(record: PeriodRecord, range: Range): Promise<KlineColumns[] | { bad: BadObject }>;
  /** KlineCache.readColumns: the records' rows in `range`, verified, one row per open_time. */
  readColumns(dataset: Dataset, records: readonly PeriodRecord[], range: Range): Promise<KlineColumns>;
}

/** Builds the reader over a store and the cache's record writer (used to drop a corrupt period). */
export function createCacheReader(store: ObjectStore, writer: RecordWriter, events: KlineCacheEvents): CacheReader {
  const readRecordPieces = (record: PeriodRecord, range: Range): Promise<KlineColumns[] | { bad: BadObject }> =>
    readVerifiedPieces(store, record, async (body) => columnsInRange(await decodeKlineColumns(body), range.startMs, range.endMs));

  /** A record's rows in `range`: its objects read and verified, then merged. */
  const readRecordColumns = async (record: PeriodRecord, range: Range): Promise<KlineColumns | { bad: BadObject }> => {
    const pieces = await readRecordPieces(record, range);
    return 'bad' in pieces ? pieces : mergePieces(pieces);
  };

  const readPeriod = (dataset: Dataset, record: PeriodRecord, range: Range): Promise<KlineColumns> => readPeriodVerified(
    { writer, store, events, cacheName: 'kline cache', canonicalKey: (fresh) => `${datasetFolder(dataset, fresh.granularity)}/${fresh.period}.parquet` }, // periods.ts canonicalKey
    record, range, (current) => readRecordColumns(current, range),
  );

  const readColumns = async (dataset: Dataset, records: readonly PeriodRecord[], range: Range): Promise<KlineColumns> => {
    const perPeriod = await readPeriods(records, range, (record) => readPeriod(dataset, record, range));
    return perPeriod.length === 0 ? emptyColumns() : concatColumns(perPeriod);
  };

  return { readRecordPieces, readColumns };
}

/**
 * `read` of each record whose coverage meets `range`, in period order, PERIOD_CONCURRENCY at a
 * time. When one fails, the others are let finish before the first failure (in period order) is
 * thrown: a request answered again after a dropped corrupt period (answerAgainOnCorrupt) must not
 * race its own first attempt, still dropping another bad period of the range. Shared by the kline
 * and the funding caches.
 */
export async function readPeriods<T>(records: readonly PeriodRecord[], range: Range, read: (record: PeriodRecord) => Promise<T>): Promise<T[]> {
  const relevant = records
    .filter((record) => intersectRanges(record.covered, [range]).length > 0)
    .sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1 : 0));
  const limit = pLimit(PERIOD_CONCURRENCY);
  const settled = await Promise.allSettled(relevant.map((record) => limit(() => read(record))));
  const failed = settled.find((one): one is PromiseRejectedResult => one.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((one) => (one as PromiseFulfilledResult<T>).value);
}

/**
 * Each object of `record` (canonical first, then parts in order), verified against its ref and
 * then decoded by `decode`; `{ bad }` names the first object missing or unlike its ref. A
 * verified object is the bytes written, so a decoding failure is not damage: it propagates.
 * Shared by the kline and the funding caches.
 */
export async function readVerifiedPieces<T>(store: ObjectStore, record: PeriodRecord, decode: (body: Uint8Array) => Promise<T>): Promise<T[] | { bad: BadObject }> {
  const read = await Promise.all(refsOf(record).map(async (ref): Promise<{ piece: T } | { bad: BadObject }> => {
    const body = await store.get(ref.key);
    const reason = verifyObject(body, ref);
    return reason || !body ? { bad: { key: ref.key, reason: reason ?? 'the object does not exist' } } : { piece: await decode(body) };
  }));
  const bad = read.find((one): one is { bad: BadObject } => 'bad' in one);
  return bad ?? read.map((one) => (one as { piece: T }).piece);
}

/** What readPeriodVerified needs of its cache. */
export interface VerifiedPeriodContext {
  readonly writer: RecordWriter;
  readonly store: ObjectStore;
  readonly events: KlineCacheEvents;
  /** Begins the messages: `kline cache`, `funding cache`. */
  readonly cacheName: string;
  /** The canonical key of a record's period (deleted with the period when it is dropped). */
  readonly canonicalKey: (record: PeriodRecord) => string;
}

/**
 * One period's content from `record` through `read` (its objects verified against their refs and
 * decoded, or `{ bad }` naming the first object missing or unlike its ref). On a bad object, the
 * record as it is now is read again (a compaction may have replaced the object, or be about to
 * commit a canonical file it just wrote: then waited for, CANONICAL_SETTLE_MS). Still bad at an
 * unchanged record → the period is dropped and CorruptPeriodError thrown; a period whose
 * coverage of `range` shrank meanwhile (a repair) → StoreError. Shared by the kline and the
 * funding caches.
 */
export async function readPeriodVerified<T extends object>(
  context: VerifiedPeriodContext, record: PeriodRecord, range: Range, read: (record: PeriodRecord) => Promise<T | { bad: BadObject }>,
): Promise<T> {
  const { writer, store, events, cacheName } = context;
  const id = record.datasetId;
  let result = await read(record);
  let current = record;
  for (let wait = 0; 'bad' in result; wait++) {
    const bad = result.bad as BadObject;
    const badCanonical = bad.key === current.canonical?.key;
    const fresh = await writer.read(id, record.period);
    // A period whose coverage shrank meanwhile (`klines repair` dropped it) must not be served
    // as empty: that would be a partial answer passed off as complete.
    const stillCovered = fresh !== undefined && subtractRanges(intersectRanges(record.covered, [range]), fresh.covered).length === 0;
    if (!stillCovered) {
      throw new StoreError(`${cacheName}: ${id} ${record.period} was dropped from the cache while being read (a repair?); ask again to fetch it anew`, {
        details: { datasetId: id, period: record.period },
      });
    }
    if (fresh.version === current.version) {
      const settle = CANONICAL_SETTLE_MS[wait];
      if (!badCanonical || settle === undefined) throw await dropCorruptPeriod(writer, store, fresh, bad, context.canonicalKey(fresh), events, cacheName);
      await sleep(settle);
    }
    current = fresh;
    result = await read(fresh);
  }
  return result;
}
