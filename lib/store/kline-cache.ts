/**
 * The kline cache the service reads and fills (DESIGN.md, Storage): Parquet objects in an
 * ObjectStore, their coverage in a CoverageIndex. Appends write a new immutable part per period
 * and only then claim coverage (data first, never the reverse); closed, fully covered periods
 * are compacted into their canonical file. Index updates are conditional and retried, so
 * concurrent writers (other processes, other Lambdas) never lose each other's rows.
 */
import pLimit from 'p-limit';
import { ConflictError } from '../domain/errors.ts';
import { datasetId, type Dataset, type Kline } from '../domain/kline.ts';
import { canonicalKey, granularityFor, partKey, periodsInRange, type Period } from '../domain/periods.ts';
import { coversRange, intersectRanges, normalizeRanges, type Range } from '../domain/ranges.ts';
import { decodeKlineColumns, encodeKlineColumns } from './parquet-codec.ts';
import { sleep } from '../domain/sleep.ts';
import { appendPartToRecord, checkRowsInside, describeObject, mergePieces, newPartId, unchangedSince, writeWholePeriodObject } from './cache-pieces.ts';
import { deleteSuperseded, refsOf, type KlineCacheEvents } from './cache-integrity.ts';
import { createCacheReader } from './cache-reader.ts';
import { verifyObject } from './object-verify.ts';
import { conflictBackoffMs, createRecordWriter } from './record-writer.ts';
import {
  columnsInRange, emptyColumns, rowsFromColumns, type KlineColumns,
} from '../domain/kline-columns.ts';
import type { CoverageIndex, ObjectRef, ObjectStore, PeriodRecord, UpstreamName } from './types.ts';

export { CorruptPeriodError, type KlineCacheEvents } from './cache-integrity.ts';

/** The cache used by the service. Times are UTC epoch ms; ranges are half-open on open_time. */
export interface KlineCache {
  /** One index query for the periods overlapping `range`: their records in period order. */
  readCoverage(dataset: Dataset, range: Range): Promise<PeriodRecord[]>;
  /**
   * Rows with open_time in `range` from the records' canonical and part objects, merged (one row
   * per open_time, sorted; a later part wins over an earlier one and over the canonical file).
   * Every object is verified against its ref (object-verify.ts) before anything from it is used.
   * An object missing or unlike its ref makes it re-query that period and retry (a compaction
   * may have replaced it); still bad at the same record → the period is dropped and
   * CorruptPeriodError (a StoreError naming the key) is thrown; the period shrunk meanwhile
   * (`klines repair`) → StoreError.
   */
  readRows(dataset: Dataset, records: readonly PeriodRecord[], range: Range): Promise<Kline[]>;
  /**
   * The same rows as columns (see kline-columns.ts): a compacted period is decoded straight into
   * columns and sliced without building row objects. Same errors as readRows.
   */
  readColumns(dataset: Dataset, records: readonly PeriodRecord[], range: Range): Promise<KlineColumns>;
  /**
   * Caches freshly fetched rows, as columns (kline-columns.ts: sorted, one per open_time).
   * `answered` are the ranges the upstream answered; every row must lie inside them, else
   * DataValidationError (nothing written). Per period: a new part object (the period's rows as
   * views on the columns, encoded by encodeKlineColumns), then a conditional index update adding
   * the part and `answered ∩ period` to the coverage. A period answered whole (a Vision file
   * covering its cache period) that holds no object yet gets its canonical object directly
   * instead, with no part and no later compaction. A period answered with no rows gets coverage
   * and no object.
   */
  appendColumns(dataset: Dataset, columns: KlineColumns, answered: readonly Range[], sources: readonly UpstreamName[]): Promise<void>;
  /**
   * Compacts each period that is closed (`range.endMs <= closedEndMs`), fully covered and has
   * parts: canonical + parts merged into the canonical object, the index switched to it, then
   * the superseded parts deleted (best effort: a failed delete leaves an orphan, reported via
   * KlineCacheEvents). A period that is open or partly covered and has more than
   * MAX_OPEN_PARTS parts gets them merged into one new part instead. A lost race is not an error.
   * The canonical write is conditional (see writeCanonical), so a slow compactor never
   * overwrites a newer compaction.
   */
  compact(dataset: Dataset, periods: readonly Period[], closedEndMs: number): Promise<void>;
}

/** Compaction attempts per period; a period still racing after them is left for the next run. */
const MAX_COMPACT_TRIES = 5;
/** Parts an open period may gather before they are merged into one (see mergeOpenParts). */
export const MAX_OPEN_PARTS = 16;
/** Periods written or compacted at once. */
const PERIOD_CONCURRENCY = 4;

/**
 * Builds the cache over a store and an index (the same code runs on fs, S3 and DynamoDB).
 * `events` receives verification failures and failed clean-ups (for counting and logging).
 */
export function createKlineCache(options: { store: ObjectStore; index: CoverageIndex; events?: KlineCacheEvents | undefined }): KlineCache {
  const { store } = options;
  const events = options.events ?? {};
  const writer = createRecordWriter(options.index);
  const { readRecordPieces, readColumns } = createCacheReader(store, writer, events);

  const describe = (key: string, columns: KlineColumns, body: Uint8Array, sources: readonly UpstreamName[]): ObjectRef =>
    describeObject(key, body, columns.open_time, columns.length, sources);

  const writePart = async (key: string, columns: KlineColumns, sources: readonly UpstreamName[]): Promise<ObjectRef> => {
    const body = encodeKlineColumns(columns);
    await store.put(key, body);
    return describe(key, columns, body, sources);
  };

  const appendPeriod = async (
    dataset: Dataset, period: Period, columns: KlineColumns, covered: Range[], sources: readonly UpstreamName[],
  ): Promise<void> => {
    const id = datasetId(dataset);
    if (columns.length > 0 && coversRange(covered, period.range) && (await writeWholePeriod(dataset, period, columns, covered, sources))) return;
    const ref = columns.length > 0 ? await writePart(partKey(dataset, period, newPartId()), columns, sources) : undefined;
    await appendPartToRecord(writer, store, { datasetId: id, period: period.key, granularity: period.granularity }, covered, ref);
  };

  /** A whole period into an empty one, straight to its canonical object (writeWholePeriodObject). */
  const writeWholePeriod = (dataset: Dataset, period: Period, columns: KlineColumns, covered: Range[], sources: readonly UpstreamName[]): Promise<boolean> => {
    const key = canonicalKey(dataset, period);
    return writeWholePeriodObject({ writer, store, index: options.index }, { datasetId: datasetId(dataset), period: period.key, granularity: period.granularity }, key, covered, () => {
      const body = encodeKlineColumns(columns);
      return { body, ref: describe(key, columns, body, sources) };
    });
  };

  /**
   * Writes a period's canonical file so that it never replaces bytes this compactor did not
   * verify: the file at the key was read (with its tag) before the record, and is replaced only
   * if still that version (If-Match), or created only if there was none (If-None-Match). The
   * file at the key is trusted only when it is the record's canonical (verified) or this
   * compactor's own earlier write; anything else (a crashed compactor's leftover) is just
   * overwritten. Returns the new ref, or undefined on a lost race (re-read and retry).
   */
  const writeCanonical = async (dataset: Dataset, period: Period, own: ObjectRef | undefined): Promise<{ ref: ObjectRef; record: PeriodRecord } | undefined> => {
    const key = canonicalKey(dataset, period);
    const existing = await store.getTagged(key);
    const record = await writer.read(datasetId(dataset), period.key);
    if (!record || record.parts.length === 0) return undefined;
    let base = emptyColumns();
    if (record.canonical) {
      const trusted = [record.canonical, own].some((ref) => ref !== undefined && verifyObject(existing?.body, ref) === undefined);
      if (!trusted || !existing) return undefined; // another compaction is in flight, or damage: the reader's check handles it
      base = await decodeKlineColumns(existing.body);
    }
    const parts = await readRecordPieces({ ...record, canonical: undefined }, period.range);
    if ('bad' in parts) return undefined; // a part changed meanwhile: look again
    const rows = mergePieces([base, ...parts]);
    const body = encodeKlineColumns(rows);
    try {
      await store.put(key, body, unchangedSince(existing));
    } catch (error) {
      if (error instanceof ConflictError) return undefined;
      throw error;
    }
    return { ref: describe(key, rows, body, refsOf(record).flatMap((ref) => ref.sources)), record };
  };

  const compactPeriod = async (dataset: Dataset, period: Period, closedEndMs: number): Promise<void> => {
    const id = datasetId(dataset);
    let own: ObjectRef | undefined;
    for (let attempt = 1; attempt <= MAX_COMPACT_TRIES; attempt++) {
      const record = await writer.read(id, period.key);
      if (!record || record.parts.length === 0) return;
      if (period.range.endMs > closedEndMs || !coversRange(record.covered, period.range)) {
        if (record.parts.length > MAX_OPEN_PARTS && !(await mergeOpenParts(dataset, period, record))) continue;
        return;
      }
      const written = await writeCanonical(dataset, period, own);
      if (!written) {
        await sleep(conflictBackoffMs(attempt));
        continue;
      }
      own = written.ref;
      const committed = await writer.exclusive(id, period.key, async () => {
        try {
          await options.index.put({ ...written.record, canonical: written.ref, parts: [], version: written.record.version + 1 });
          return true;
        } catch (error) {
          if (error instanceof ConflictError) return false;
          throw error;
        }
      });
      if (!committed) continue;
      await deleteSuperseded(store, written.record, written.record.parts.map((part) => part.key), events);
      return;
    }
  };

  /**
   * An open (or partly covered) period keeps growing by parts, one per refresh near "now"; past
   * MAX_OPEN_PARTS they are merged into one new immutable part, so its index item stays small
   * (DynamoDB's 400 KB item limit) and a read needs few GETs. Returns false on a lost race.
   */
  const mergeOpenParts = async (dataset: Dataset, period: Period, record: PeriodRecord): Promise<boolean> => {
    const pieces = await readRecordPieces({ ...record, canonical: undefined }, period.range);
    if ('bad' in pieces) return false;
    const merged = await writePart(partKey(dataset, period, newPartId()), mergePieces(pieces), record.parts.flatMap((part) => part.sources));
    try {
      await writer.exclusive(record.datasetId, record.period, () => options.index.put({ ...record, parts: [merged], version: record.version + 1 }));
    } catch (error) {
      await store.delete(merged.key).catch(() => undefined);
      if (error instanceof ConflictError) return false;
      throw error;
    }
    await deleteSuperseded(store, record, record.parts.map((part) => part.key), events);
    return true;
  };

  return {
    async readCoverage(dataset, range) {
      const periods = periodsInRange(range, granularityFor(dataset.interval));
      const first = periods[0];
      const last = periods[periods.length - 1];
      if (!first || !last) return [];
      return options.index.query(datasetId(dataset), first.key, last.key);
    },

    async readRows(dataset, records, range) {
      return rowsFromColumns(await readColumns(dataset, records, range));
    },

    readColumns,

    async appendColumns(dataset, columns, answered, sources) {
      const ranges = normalizeRanges(answered);
      checkRowsInside(columns.open_time.subarray(0, columns.length), ranges);
      const granularity = granularityFor(dataset.interval);
      const periods = new Map<string, Period>();
      for (const r of ranges) for (const p of periodsInRange(r, granularity)) periods.set(p.key, p);
      const limit = pLimit(PERIOD_CONCURRENCY);
      await Promise.all([...periods.values()].map((period) => limit(() => appendPeriod(
        dataset, period, columnsInRange(columns, period.range.startMs, period.range.endMs), intersectRanges(ranges, [period.range]), sources,
      ))));
    },

    async compact(dataset, periods, closedEndMs) {
      const limit = pLimit(PERIOD_CONCURRENCY);
      await Promise.all(periods.map((period) => limit(() => compactPeriod(dataset, period, closedEndMs))));
    },
  };
}
