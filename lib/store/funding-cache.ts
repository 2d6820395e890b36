/**
 * The cache of funding-rate events (issue 10, item 5), on the same ObjectStore and CoverageIndex as
 * the klines (DESIGN.md, Storage) and the same rules: monthly partitions keyed by calc_time, data
 * first and coverage second, appends as immutable parts, and a month compacted into its canonical
 * file once it is over and fully covered. Every object is verified against its ref before use; a
 * bad or missing one is never served: read through the klines' readPeriodVerified (cache-reader.ts),
 * a month still bad at an unchanged record is dropped (coverage and objects) and CorruptPeriodError
 * thrown, for the service to fetch the month again; compaction leaves a bad month to the reader.
 * Records and keys:
 * `binance/{market}/fundingRate/{SYMBOL}` / `binance/{market}/fundingRate/monthly/{SYMBOL}/{YYYY-MM}.parquet`.
 */
import { ConflictError } from '../domain/errors.ts';
import {
  fundingCanonicalKey, fundingDatasetId, fundingFolder, fundingInRange, fundingPartKey, mergeFunding, type FundingColumns, type FundingDataset,
} from '../domain/funding-rate.ts';
import { periodsInRange, type Period } from '../domain/periods.ts';
import { coversRange, intersectRanges, normalizeRanges, type Range } from '../domain/ranges.ts';
import { appendPartToRecord, checkRowsInside, describeObject, newPartId, unchangedSince, writeWholePeriodObject } from './cache-pieces.ts';
import { deleteSuperseded, refsOf, type KlineCacheEvents } from './cache-integrity.ts';
import { readPeriods, readPeriodVerified, readVerifiedPieces, type BadObject } from './cache-reader.ts';
import { decodeFundingColumns, encodeFundingColumns } from './funding-codec.ts';
import { verifyObject } from './object-verify.ts';
import { createRecordWriter } from './record-writer.ts';
import type { CoverageIndex, ObjectRef, ObjectStore, PeriodRecord, UpstreamName } from './types.ts';

/** The funding cache. Ranges are half-open on calc_time, UTC epoch ms. */
export interface FundingCache {
  /** One index query: the records of the months overlapping `range`, in order. */
  readCoverage(dataset: FundingDataset, range: Range): Promise<PeriodRecord[]>;
  /**
   * The cached events with calc_time in `range`, merged (mergeFunding). An object missing or
   * unlike its ref drops its month from the cache and throws CorruptPeriodError (a StoreError
   * naming the key); other StoreErrors pass through.
   */
  readColumns(dataset: FundingDataset, records: readonly PeriodRecord[], range: Range): Promise<FundingColumns>;
  /**
   * Stores fetched events (sorted, each inside `answered`, else DataValidationError and nothing
   * written): per month a part, then the coverage of `answered` ∩ month; a month answered with
   * no event gets coverage only.
   */
  append(dataset: FundingDataset, columns: FundingColumns, answered: readonly Range[], sources: readonly UpstreamName[]): Promise<void>;
  /** Compacts each month that ended by `nowMs`, is fully covered and has parts, into its canonical file. */
  compact(dataset: FundingDataset, periods: readonly Period[], nowMs: number): Promise<void>;
}

/**
 * Builds the cache over a store and an index; `events` hears of objects that failed verification
 * and of failed clean-ups, as the kline cache's do (the cache statistics count them).
 */
export function createFundingCache(options: { store: ObjectStore; index: CoverageIndex; events?: KlineCacheEvents | undefined }): FundingCache {
  const { store, index } = options;
  const events = options.events ?? {};
  const writer = createRecordWriter(index);

  const describe = (key: string, columns: FundingColumns, body: Uint8Array, sources: readonly UpstreamName[]): ObjectRef =>
    describeObject(key, body, columns.calc_time, columns.length, sources);

  /** The events of each object of `record`, verified (readVerifiedPieces), or `{ bad }`. */
  const readRecord = (record: PeriodRecord): Promise<FundingColumns[] | { bad: BadObject }> => readVerifiedPieces(store, record, decodeFundingColumns);

  /** A month's events from `record`, verified (readPeriodVerified: a month still bad is dropped, CorruptPeriodError). */
  const readMonth = async (dataset: FundingDataset, record: PeriodRecord, range: Range): Promise<FundingColumns> => {
    const canonicalKey = (fresh: PeriodRecord): string => `${fundingFolder(dataset)}/${fresh.period}.parquet`;
    return mergeFunding(await readPeriodVerified({ writer, store, events, cacheName: 'funding cache', canonicalKey }, record, range, readRecord));
  };

  const appendMonth = async (dataset: FundingDataset, period: Period, columns: FundingColumns, covered: Range[], sources: readonly UpstreamName[]): Promise<void> => {
    if (columns.length > 0 && coversRange(covered, period.range) && (await writeWholeMonth(dataset, period, columns, covered, sources))) return;
    let ref: ObjectRef | undefined;
    if (columns.length > 0) {
      const key = fundingPartKey(dataset, period, newPartId());
      const body = encodeFundingColumns(columns);
      await store.put(key, body);
      ref = describe(key, columns, body, sources);
    }
    await appendPartToRecord(writer, store, { datasetId: fundingDatasetId(dataset), period: period.key, granularity: 'monthly' }, covered, ref);
  };

  /** A whole month (its Vision file) into an empty one, straight to its canonical file (writeWholePeriodObject, as the klines). */
  const writeWholeMonth = (dataset: FundingDataset, period: Period, columns: FundingColumns, covered: Range[], sources: readonly UpstreamName[]): Promise<boolean> => {
    const key = fundingCanonicalKey(dataset, period);
    return writeWholePeriodObject({ writer, store, index }, { datasetId: fundingDatasetId(dataset), period: period.key, granularity: 'monthly' }, key, covered, () => {
      const body = encodeFundingColumns(columns);
      return { body, ref: describe(key, columns, body, sources) };
    });
  };

  /**
   * As the kline cache's writeCanonical: the canonical object is read (with its tag) before the
   * record, so a compactor in another process that commits meanwhile makes this conditional put
   * fail instead of being overwritten; its bytes are used only when they verify against the
   * record (else another compaction is in flight, or damage the reader will handle). Superseded
   * parts are deleted one at a time and failures reported (deleteSuperseded).
   */
  const compactMonth = async (dataset: FundingDataset, period: Period): Promise<void> => {
    const id = fundingDatasetId(dataset);
    const key = fundingCanonicalKey(dataset, period);
    await writer.exclusive(id, period.key, async () => {
      const existing = await store.getTagged(key);
      const record = await writer.read(id, period.key);
      if (!record || record.parts.length === 0 || !coversRange(record.covered, period.range)) return;
      if (record.canonical && (!existing || verifyObject(existing.body, record.canonical) !== undefined)) return;
      const parts = await readRecord({ ...record, canonical: undefined });
      if ('bad' in parts) return; // damage is the reader's to drop and fetch again; this month stays as it is
      const merged = mergeFunding(record.canonical && existing ? [await decodeFundingColumns(existing.body), ...parts] : parts);
      const body = encodeFundingColumns(merged);
      try {
        await store.put(key, body, unchangedSince(existing));
        await index.put({ ...record, parts: [], canonical: describe(key, merged, body, refsOf(record).flatMap((r) => r.sources)), version: record.version + 1 });
      } catch (error) {
        if (error instanceof ConflictError) return; // another compactor won; its file is as good
        throw error;
      }
      await deleteSuperseded(store, record, record.parts.map((part) => part.key), events);
    });
  };

  return {
    async readCoverage(dataset, range) {
      const periods = periodsInRange(range, 'monthly');
      if (periods.length === 0) return [];
      return index.query(fundingDatasetId(dataset), periods[0]!.key, periods[periods.length - 1]!.key);
    },

    async readColumns(dataset, records, range) {
      const months = await readPeriods(records, range, (record) => readMonth(dataset, record, range));
      return fundingInRange(mergeFunding(months), range.startMs, range.endMs);
    },

    async append(dataset, columns, answered, sources) {
      const ranges = normalizeRanges(answered);
      checkRowsInside(columns.calc_time.subarray(0, columns.length), ranges);
      const months = new Map<string, Period>();
      for (const range of ranges) for (const period of periodsInRange(range, 'monthly')) months.set(period.key, period);
      for (const period of months.values()) {
        const inMonth = fundingInRange(columns, period.range.startMs, period.range.endMs);
        await appendMonth(dataset, period, inMonth, intersectRanges(ranges, [period.range]), sources);
      }
    },

    async compact(dataset, periods, nowMs) {
      for (const period of periods) if (period.range.endMs <= nowMs) await compactMonth(dataset, period);
    },
  };
}
