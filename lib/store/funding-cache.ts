/**
 * The cache of funding-rate events (issue 10, item 5), on the same ObjectStore and CoverageIndex as
 * the klines (DESIGN.md, Storage) and the same rules: monthly partitions keyed by calc_time, data
 * first and coverage second, appends as immutable parts, and a month compacted into its canonical
 * file once it is over and fully covered. Every object is verified against its ref before use; a
 * bad or missing one is never served: its month is dropped (coverage and objects, as the klines'
 * cache-integrity.ts does) and CorruptPeriodError thrown, for the service to fetch the month
 * again. Records and keys:
 * `binance/{market}/fundingRate/{SYMBOL}` / `binance/{market}/fundingRate/monthly/{SYMBOL}/{YYYY-MM}.parquet`.
 */
import { ConflictError } from '../domain/errors.ts';
import {
  fundingCanonicalKey, fundingDatasetId, fundingInRange, fundingPartKey, mergeFunding, type FundingColumns, type FundingDataset,
} from '../domain/funding-rate.ts';
import { periodOf, periodsInRange, type Period } from '../domain/periods.ts';
import { coversRange, intersectRanges, normalizeRanges, unionRanges, type Range } from '../domain/ranges.ts';
import { sha256Hex } from '../domain/sha256.ts';
import { checkRowsInside, newPartId } from './cache-pieces.ts';
import { CorruptPeriodError, dropCorruptPeriod, refsOf } from './cache-integrity.ts';
import { decodeFundingColumns, encodeFundingColumns } from './funding-codec.ts';
import { crc32Of, verifyObject } from './object-verify.ts';
import { createRecordWriter, type RecordWriter } from './record-writer.ts';
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

/** Builds the cache over a store and an index. */
export function createFundingCache(options: { store: ObjectStore; index: CoverageIndex }): FundingCache {
  const { store, index } = options;
  const writer = createRecordWriter(index);

  const describe = (key: string, columns: FundingColumns, body: Uint8Array, sources: readonly UpstreamName[]): ObjectRef => ({
    key, rows: columns.length, sha256: sha256Hex(body), sizeBytes: body.byteLength, crc32: crc32Of(body), sources: [...new Set(sources)].sort(),
    ...(columns.length > 0 ? { firstOpenMs: columns.calc_time[0], lastOpenMs: columns.calc_time[columns.length - 1] } : {}),
  });

  /** The events of one object of `record`; a bad object drops the month (dropCorruptPeriod) and throws CorruptPeriodError. */
  const readRef = async (dataset: FundingDataset, record: PeriodRecord, ref: ObjectRef): Promise<FundingColumns> => {
    const body = await store.get(ref.key);
    const problem = verifyObject(body, ref);
    if (problem) throw await dropMonth(writer, store, dataset, record, { key: ref.key, reason: problem });
    try {
      return await decodeFundingColumns(body!);
    } catch (error) {
      throw await dropMonth(writer, store, dataset, record, { key: ref.key, reason: error instanceof Error ? error.message : String(error) });
    }
  };

  const appendMonth = async (dataset: FundingDataset, period: Period, columns: FundingColumns, covered: Range[], sources: readonly UpstreamName[]): Promise<void> => {
    const id = fundingDatasetId(dataset);
    if (columns.length > 0 && coversRange(covered, period.range) && (await writeWholeMonth(dataset, period, columns, covered, sources))) return;
    let ref: ObjectRef | undefined;
    if (columns.length > 0) {
      const key = fundingPartKey(dataset, period, newPartId());
      const body = encodeFundingColumns(columns);
      await store.put(key, body);
      ref = describe(key, columns, body, sources);
    }
    await writer.update(id, period.key, (current) => ({
      datasetId: id, period: period.key, granularity: 'monthly', covered: unionRanges(current?.covered ?? [], covered),
      parts: ref ? [...(current?.parts ?? []), ref] : current?.parts ?? [], canonical: current?.canonical,
    }));
  };

  /**
   * A whole month answered at once (its Vision file) into a month holding no object yet goes
   * straight to the canonical file (no part, no compaction; as the klines do since issue 9).
   * Returns false, having written nothing the index names, when the month already holds objects
   * or another writer created the file first; the caller then appends a part.
   */
  const writeWholeMonth = async (dataset: FundingDataset, period: Period, columns: FundingColumns, covered: Range[], sources: readonly UpstreamName[]): Promise<boolean> => {
    const id = fundingDatasetId(dataset);
    return writer.exclusive(id, period.key, async () => {
      const current = await writer.read(id, period.key);
      if (current && (current.canonical || current.parts.length > 0)) return false;
      const key = fundingCanonicalKey(dataset, period);
      const body = encodeFundingColumns(columns);
      try {
        await store.put(key, body, { ifNoneMatch: true });
        await index.put({
          datasetId: id, period: period.key, granularity: 'monthly', covered: unionRanges(current?.covered ?? [], covered),
          parts: [], canonical: describe(key, columns, body, sources), version: (current?.version ?? 0) + 1,
        });
        return true;
      } catch (error) {
        if (error instanceof ConflictError) return false;
        throw error;
      }
    });
  };

  const compactMonth = async (dataset: FundingDataset, period: Period): Promise<void> => {
    const id = fundingDatasetId(dataset);
    await writer.exclusive(id, period.key, async () => {
      const record = await writer.read(id, period.key);
      if (!record || record.parts.length === 0 || !coversRange(record.covered, period.range)) return;
      const merged = mergeFunding(await Promise.all(refsOf(record).map((ref) => readRef(dataset, record, ref))));
      const key = fundingCanonicalKey(dataset, period);
      const existing = await store.getTagged(key);
      const body = encodeFundingColumns(merged);
      try {
        await store.put(key, body, existing ? { ifMatch: existing.tag } : { ifNoneMatch: true });
        await index.put({ ...record, parts: [], canonical: describe(key, merged, body, refsOf(record).flatMap((r) => r.sources)), version: record.version + 1 });
      } catch (error) {
        if (error instanceof ConflictError) return; // another compactor won; its file is as good
        throw error;
      }
      await Promise.all(record.parts.map((part) => store.delete(part.key).catch(() => undefined)));
    });
  };

  return {
    async readCoverage(dataset, range) {
      const periods = periodsInRange(range, 'monthly');
      if (periods.length === 0) return [];
      return index.query(fundingDatasetId(dataset), periods[0]!.key, periods[periods.length - 1]!.key);
    },

    async readColumns(dataset, records, range) {
      const wanted = records.filter((r) => intersectRanges(r.covered, [range]).length > 0);
      const pieces = await Promise.all(wanted.flatMap((record) => refsOf(record).map((ref) => readRef(dataset, record, ref))));
      return fundingInRange(mergeFunding(pieces), range.startMs, range.endMs);
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

/** Drops the month of `record` (its coverage and objects, the canonical key included) and returns the error to throw. */
async function dropMonth(writer: RecordWriter, store: ObjectStore, dataset: FundingDataset, record: PeriodRecord, bad: { key: string; reason: string }): Promise<CorruptPeriodError> {
  const month = periodOf(Date.parse(`${record.period}-01T00:00:00Z`), 'monthly');
  return dropCorruptPeriod(writer, store, record, bad, fundingCanonicalKey(dataset, month), {});
}
