/**
 * The kline cache the service reads and fills (DESIGN.md, Storage): Parquet objects in an
 * ObjectStore, their coverage in a CoverageIndex. Appends write a new immutable part per period
 * and only then claim coverage (data first, never the reverse); closed, fully covered periods
 * are compacted into their canonical file. Index updates are conditional and retried, so
 * concurrent writers (other processes, other Lambdas) never lose each other's rows.
 */
import pLimit from 'p-limit';
import { ConflictError, StoreError } from '../domain/errors.ts';
import { sleep } from '../domain/sleep.ts';
import { datasetId, type Dataset, type Kline } from '../domain/kline.ts';
import { canonicalKey, granularityFor, partKey, periodsInRange, type Period } from '../domain/periods.ts';
import { coversRange, intersectRanges, normalizeRanges, sameRanges, subtractRanges, unionRanges, type Range } from '../domain/ranges.ts';
import { decodeKlineColumns, encodeKlineColumns } from './parquet-codec.ts';
import { sha256Hex } from '../domain/sha256.ts';
import { checkRowsInside, mergePieces, newPartId } from './cache-pieces.ts';
import {
  columnsInRange, concatColumns, emptyColumns, rowsFromColumns, type KlineColumns,
} from '../domain/kline-columns.ts';
import type { CoverageIndex, ObjectRef, ObjectStore, PeriodRecord, UpstreamName } from './types.ts';

/** The cache used by the service. Times are UTC epoch ms; ranges are half-open on open_time. */
export interface KlineCache {
  /** One index query for the periods overlapping `range`: their records in period order. */
  readCoverage(dataset: Dataset, range: Range): Promise<PeriodRecord[]>;
  /**
   * Rows with open_time in `range` from the records' canonical and part objects, merged (one row
   * per open_time, sorted; a later part wins over an earlier one and over the canonical file).
   * An object missing or changed (compacted meanwhile) makes it re-query that period once and
   * retry; still missing → StoreError naming the key.
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
   * the superseded parts deleted. A period that is open or partly covered and has more than
   * MAX_OPEN_PARTS parts gets them merged into one new part instead. A lost race is not an error.
   */
  compact(dataset: Dataset, periods: readonly Period[], closedEndMs: number): Promise<void>;
}

/** Conditional index updates tried at most this often before the ConflictError is thrown. */
const MAX_UPDATE_TRIES = 20;
/** Compaction attempts per period; a period still racing after them is left for the next run. */
const MAX_COMPACT_TRIES = 5;
/** Parts an open period may gather before they are merged into one (see mergeOpenParts). */
export const MAX_OPEN_PARTS = 16;
/** Periods written or read at once. */
const PERIOD_CONCURRENCY = 4;

/** Builds the cache over a store and an index (the same code runs on fs, S3 and DynamoDB). */
export function createKlineCache(options: { store: ObjectStore; index: CoverageIndex }): KlineCache {
  const { store, index } = options;

  const queryOne = async (id: string, period: string): Promise<PeriodRecord | undefined> =>
    (await index.query(id, period, period))[0];

  /** A record's rows in `range`: its objects read (readRecordPieces) and merged. */
  const readRecordColumns = async (record: PeriodRecord, range: Range): Promise<KlineColumns | { missing: string }> => {
    const pieces = await readRecordPieces(record, range);
    return 'missing' in pieces ? pieces : mergePieces(pieces);
  };

  /**
   * Each object of a record (canonical first, then parts in order), as columns within `range`;
   * `{ missing }` names the first absent one. Parts are immutable, so a part whose size or sha256
   * differs from its ref counts as missing. The canonical file is rewritten in place by each
   * compaction, always as a superset of the one before, so a newer canonical is accepted.
   */
  const readRecordPieces = async (record: PeriodRecord, range: Range): Promise<KlineColumns[] | { missing: string }> => {
    const refs = record.canonical ? [record.canonical, ...record.parts] : [...record.parts];
    const lists = await Promise.all(refs.map(async (ref) => {
      const body = await store.get(ref.key);
      const changed = body && ref !== record.canonical && (body.byteLength !== ref.sizeBytes || sha256Hex(body) !== ref.sha256);
      if (!body || changed) return { missing: ref.key };
      return columnsInRange(await decodeKlineColumns(body), range.startMs, range.endMs);
    }));
    const missing = lists.find((list): list is { missing: string } => 'missing' in list);
    return missing ?? (lists as KlineColumns[]);
  };

  /** Re-reads a record, applies `change`, and stores it conditionally, retrying lost races. */
  const updateRecord = async (
    id: string, period: Period, change: (current: PeriodRecord | undefined) => Omit<PeriodRecord, 'version'> | undefined,
  ): Promise<PeriodRecord | undefined> => {
    for (let attempt = 1; ; attempt++) {
      const current = await queryOne(id, period.key);
      const next = change(current);
      if (!next) return current;
      const record: PeriodRecord = { ...next, version: (current?.version ?? 0) + 1 };
      try {
        await index.put(record);
        return record;
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= MAX_UPDATE_TRIES) throw error;
        // Full jitter, growing to 1 s: many fetches of one period (a month of daily fallbacks) land
        // together, and a short flat backoff let some writers lose every one of their tries.
        await sleep(Math.random() * Math.min(1_000, 10 * 2 ** attempt));
      }
    }
  };

  const writeObject = async (key: string, columns: KlineColumns, sources: readonly UpstreamName[]): Promise<ObjectRef> => {
    const body = encodeKlineColumns(columns);
    await store.put(key, body);
    const bounds = columns.length > 0 ? { firstOpenMs: columns.open_time[0], lastOpenMs: columns.open_time[columns.length - 1] } : {};
    return { key, rows: columns.length, sha256: sha256Hex(body), sizeBytes: body.byteLength, sources: [...new Set(sources)].sort(), ...bounds };
  };

  const appendPeriod = async (
    dataset: Dataset, period: Period, columns: KlineColumns, covered: Range[], sources: readonly UpstreamName[],
  ): Promise<void> => {
    const id = datasetId(dataset);
    if (columns.length > 0 && coversRange(covered, period.range) && (await writeWholePeriod(dataset, period, columns, covered, sources))) return;
    const ref = columns.length > 0 ? await writeObject(partKey(dataset, period, newPartId()), columns, sources) : undefined;
    try {
      await updateRecord(id, period, (current) => {
        const nextCovered = unionRanges(current?.covered ?? [], covered);
        // Already recorded: a retried write whose first attempt succeeded must not list the part twice.
        const recorded = ref !== undefined && (current?.parts ?? []).some((part) => part.key === ref.key);
        if ((!ref || recorded) && current && sameRanges(nextCovered, current.covered)) return undefined;
        return {
          datasetId: id, period: period.key, granularity: period.granularity, covered: nextCovered,
          parts: ref && !recorded ? [...(current?.parts ?? []), ref] : current?.parts ?? [], canonical: current?.canonical,
        };
      });
    } catch (error) {
      // Delete the part only when the index surely does not point at it, so no reader can need it.
      if (ref && error instanceof ConflictError) {
        const latest = await queryOne(id, period.key).catch(() => undefined);
        if (latest && !latest.parts.some((part) => part.key === ref.key)) await store.delete(ref.key).catch(() => undefined);
      }
      throw error;
    }
  };

  /**
   * Rows answering a whole period (a Vision file whose period is the cache period) into a period
   * holding no object yet go straight to the canonical object (issue 9: no part, no compaction
   * rewrite): data first, then a conditional index write. Returns false, having written nothing
   * the index points at, when the period holds objects or another writer got there first; the
   * caller then appends a part (compaction merges whatever file sits at the canonical key, and
   * this one holds the same whole period).
   */
  const writeWholePeriod = async (
    dataset: Dataset, period: Period, columns: KlineColumns, covered: Range[], sources: readonly UpstreamName[],
  ): Promise<boolean> => {
    const id = datasetId(dataset);
    const current = await queryOne(id, period.key);
    if (current && (current.canonical || current.parts.length > 0)) return false;
    const canonical = await writeObject(canonicalKey(dataset, period), columns, sources);
    try {
      await index.put({
        datasetId: id, period: period.key, granularity: period.granularity, covered: unionRanges(current?.covered ?? [], covered),
        parts: [], canonical, version: (current?.version ?? 0) + 1,
      });
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  };

  /**
   * Merges the file now at the canonical key (whatever compaction wrote it) with the record's
   * parts, so the new canonical file never holds fewer rows than the one it replaces.
   */
  const compactPeriod = async (dataset: Dataset, period: Period, closedEndMs: number): Promise<void> => {
    const id = datasetId(dataset);
    const key = canonicalKey(dataset, period);
    for (let attempt = 1; attempt <= MAX_COMPACT_TRIES; attempt++) {
      const record = await queryOne(id, period.key);
      if (!record || record.parts.length === 0) return;
      if (period.range.endMs > closedEndMs || !coversRange(record.covered, period.range)) {
        if (record.parts.length > MAX_OPEN_PARTS && !(await mergeOpenParts(dataset, period, record))) continue;
        return;
      }
      const current = await store.get(key);
      const parts = await readRecordPieces({ ...record, canonical: undefined }, period.range);
      if (!Array.isArray(parts)) continue; // someone compacted it meanwhile: look again
      const rows = mergePieces([current ? await decodeKlineColumns(current) : emptyColumns(), ...parts]);
      // Narrows (cannot close: the store has no compare-and-swap) the window in which a slower
      // compactor could overwrite a newer canonical file with an older merge.
      if ((await queryOne(id, period.key))?.version !== record.version) continue;
      const sources = [record.canonical, ...record.parts].flatMap((ref) => ref?.sources ?? []);
      const canonical = await writeObject(key, rows, sources);
      try {
        await index.put({ ...record, canonical, parts: [], version: record.version + 1 });
      } catch (error) {
        if (error instanceof ConflictError) continue;
        throw error;
      }
      await Promise.all(record.parts.map((part) => store.delete(part.key)));
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
    if (!Array.isArray(pieces)) return false;
    const merged = await writeObject(partKey(dataset, period, newPartId()), mergePieces(pieces), record.parts.flatMap((part) => part.sources));
    try {
      await index.put({ ...record, parts: [merged], version: record.version + 1 });
    } catch (error) {
      await store.delete(merged.key).catch(() => undefined);
      if (error instanceof ConflictError) return false;
      throw error;
    }
    await Promise.all(record.parts.map((part) => store.delete(part.key)));
    return true;
  };

  const readColumns = async (dataset: Dataset, records: readonly PeriodRecord[], range: Range): Promise<KlineColumns> => {
    const id = datasetId(dataset);
    const relevant = [...records]
      .filter((record) => intersectRanges(record.covered, [range]).length > 0)
      .sort((a, b) => (a.period < b.period ? -1 : a.period > b.period ? 1 : 0));
    const limit = pLimit(PERIOD_CONCURRENCY);
    const perPeriod = await Promise.all(relevant.map((record) => limit(async () => {
      const first = await readRecordColumns(record, range);
      if (!('missing' in first)) return first;
      const fresh = await queryOne(id, record.period);
      // A period whose coverage shrank meanwhile (`klines repair` dropped it) must not be served
      // as empty: that would be a partial answer passed off as complete.
      const stillCovered = fresh !== undefined && subtractRanges(intersectRanges(record.covered, [range]), fresh.covered).length === 0;
      if (!stillCovered) {
        throw new StoreError(`kline cache: ${id} ${record.period} was dropped from the cache while being read (a repair?); ask again to fetch it anew`, {
          details: { datasetId: id, period: record.period },
        });
      }
      const second = await readRecordColumns(fresh, range);
      if (!('missing' in second)) return second;
      throw new StoreError(`kline cache: object ${second.missing} of ${id} ${record.period} is missing or changed, even after re-reading the index`, {
        details: { key: second.missing, datasetId: id, period: record.period },
      });
    })));
    return perPeriod.length === 0 ? emptyColumns() : concatColumns(perPeriod);
  };

  return {
    async readCoverage(dataset, range) {
      const periods = periodsInRange(range, granularityFor(dataset.interval));
      const first = periods[0];
      const last = periods[periods.length - 1];
      if (!first || !last) return [];
      return index.query(datasetId(dataset), first.key, last.key);
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
