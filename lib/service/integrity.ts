/**
 * Cache integrity and repair (issue 3, item 7; the seed docs' validate_cache_integrity and
 * repair_cache), over any ObjectStore and CoverageIndex (fs, S3, DynamoDB).
 * - `validateCache` checks every indexed object (integrity-check.ts) and lists orphans: objects
 *   of the cache layout no record names (parts of a worker killed before its index write,
 *   canonical files of a compaction killed before its index write).
 * - `repairCache` drops the coverage and objects of each bad period with a conditional index
 *   update, so the next `getKlines` fetches it again, and deletes orphans past a grace period.
 */
import pLimit from 'p-limit';
import { ConflictError } from '../domain/errors.ts';
import type { Range } from '../domain/ranges.ts';
import type { CoverageIndex, ObjectStore, PeriodRecord } from '../store/types.ts';
import { CACHE_PREFIX, canonicalKeyOfId, datasetIdPrefix, parseCacheObjectKey, parsePeriodKey } from './cache-layout.ts';
import { checkRecord, type IntegrityProblem } from './integrity-check.ts';

export type { IntegrityProblem, ProblemKind } from './integrity-check.ts';

/** The store and index to check (any implementation). */
export interface CacheHandles {
  readonly store: ObjectStore;
  readonly index: CoverageIndex;
}

/** An object of the cache layout that no record names. */
export interface OrphanObject {
  readonly key: string;
  readonly datasetId?: string | undefined;
  readonly period?: string | undefined;
  /** When it was written (UTC epoch ms), from a part id's time prefix; undefined for canonical files. */
  readonly createdAtMs?: number | undefined;
  /** `nowMs - createdAtMs` at validation time. */
  readonly ageMs?: number | undefined;
}

/** What `validateCache` found. `problems` is empty and the cache clean when `problems.length === 0`. */
export interface IntegrityReport {
  readonly records: number;
  readonly objects: number;
  readonly rowsChecked: number;
  readonly problems: IntegrityProblem[];
  /** Not problems for readers (no record names them), but space to reclaim; see repairCache. */
  readonly orphans: OrphanObject[];
}

/** Query bounds that hold every period key (`2024`, `2024-01`, `2024-01-15` sort between them). */
const ALL_PERIODS = { from: '0000', to: '9999-99-99' };

/** Options of validateCache. */
export interface ValidateOptions {
  /** Only this dataset (`binance/spot/klines/BTCUSDT/1m`); InvalidInputError when malformed. */
  readonly datasetId?: string | undefined;
  /** Called after each record is checked. */
  readonly onProgress?: ((doneRecords: number, totalRecords: number) => void) | undefined;
  /** Records checked at once (default 4). */
  readonly concurrency?: number | undefined;
  /** Clock for orphan ages (UTC epoch ms; default the system clock, never KLINES_NOW). */
  readonly nowMs?: number | undefined;
}

/**
 * Checks every record (of one dataset, or all) and every object it names, and lists orphans.
 * A record whose check finds problems is re-read once and, if it changed meanwhile (an append
 * or a compaction racing the check), checked again at its new version, so live traffic does
 * not show up as damage. Throws StoreError when the store or index cannot be read.
 */
export async function validateCache(handles: CacheHandles, options: ValidateOptions = {}): Promise<IntegrityReport> {
  const { store, index } = handles;
  const prefix = options.datasetId === undefined ? CACHE_PREFIX : datasetIdPrefix(options.datasetId);
  // Listed before the scan: an object written after the listing is never taken for an orphan.
  const keys = await store.list(prefix);
  const records: PeriodRecord[] = [];
  if (options.datasetId !== undefined) records.push(...(await index.query(options.datasetId, ALL_PERIODS.from, ALL_PERIODS.to)));
  else for await (const record of index.scan()) records.push(record);
  const limit = pLimit(options.concurrency ?? 4);
  let done = 0;
  const checks = await Promise.all(records.map((record) => limit(async () => {
    let check = await checkRecord(store, record);
    let current = record;
    if (check.problems.length > 0) {
      const fresh = (await index.query(record.datasetId, record.period, record.period))[0];
      if (fresh && fresh.version !== record.version) {
        current = fresh;
        check = await checkRecord(store, fresh);
      }
    }
    options.onProgress?.(++done, records.length);
    return { record: current, check };
  })));

  const referenced = new Set<string>();
  for (const { record } of checks) for (const ref of refsOf(record)) referenced.add(ref.key);
  const nowMs = options.nowMs ?? Date.now();
  const orphans = keys.filter((key) => !referenced.has(key)).map((key): OrphanObject => {
    const parsed = parseCacheObjectKey(key);
    const createdAtMs = parsed?.createdAtMs;
    return { key, datasetId: parsed?.datasetId, period: parsed?.period, createdAtMs, ageMs: createdAtMs === undefined ? undefined : nowMs - createdAtMs };
  });
  return {
    records: records.length,
    objects: checks.reduce((sum, { check }) => sum + check.objects, 0),
    rowsChecked: checks.reduce((sum, { check }) => sum + check.rows, 0),
    problems: checks.flatMap(({ check }) => check.problems),
    orphans,
  };
}

/** Default age an orphan must reach before repair deletes it: a live writer is long done by then. */
export const ORPHAN_GRACE_MS = 3_600_000;

/** Options of repairCache. */
export interface RepairOptions {
  /** Orphans (from validateCache) to delete when older than `orphanGraceMs`; none when absent. */
  readonly orphans?: readonly OrphanObject[] | undefined;
  readonly orphanGraceMs?: number | undefined;
  /** Clock for orphan ages (UTC epoch ms; default the system clock). */
  readonly nowMs?: number | undefined;
}

/** A period whose coverage was dropped; `range` is its open_time range, to fetch again. */
export interface DroppedPeriod {
  readonly datasetId: string;
  readonly period: string;
  readonly range: Range;
  /** The version written (the empty record). */
  readonly version: number;
  readonly objectsDeleted: string[];
}

/** What repairCache did. */
export interface RepairResult {
  readonly dropped: DroppedPeriod[];
  /** Bad periods left alone: no record any more, or clean when re-checked. */
  readonly skipped: { datasetId: string; period: string; reason: string }[];
  readonly orphansDeleted: string[];
  readonly orphansKept: { key: string; reason: string }[];
}

/** Conditional updates tried per period before the ConflictError is thrown. */
const MAX_REPAIR_TRIES = 10;

/**
 * For each period named in `problems`: re-reads and re-checks its record; if still bad, stores
 * it with no coverage and no objects (conditional on the version just read, retried on
 * conflict), then deletes every object the old record named and the file at the period's
 * canonical key (compaction would otherwise merge a bad canonical file back in). Then deletes
 * the given orphans that are older than the grace period, have a known age, and are still
 * unreferenced. Throws StoreError on store/index failure, ConflictError after repeated races.
 */
export async function repairCache(handles: CacheHandles, problems: readonly IntegrityProblem[], options: RepairOptions = {}): Promise<RepairResult> {
  const result: RepairResult = { dropped: [], skipped: [], orphansDeleted: [], orphansKept: [] };
  const periods = new Map<string, { datasetId: string; period: string }>();
  for (const p of problems) periods.set(`${p.datasetId}\u0000${p.period}`, { datasetId: p.datasetId, period: p.period });
  for (const { datasetId, period } of periods.values()) {
    const outcome = await dropPeriod(handles, datasetId, period);
    if ('reason' in outcome) result.skipped.push(outcome);
    else result.dropped.push(outcome);
  }
  const nowMs = options.nowMs ?? Date.now();
  const graceMs = options.orphanGraceMs ?? ORPHAN_GRACE_MS;
  for (const orphan of options.orphans ?? []) {
    const reason = await keepReason(handles.index, orphan, nowMs, graceMs);
    if (reason) {
      result.orphansKept.push({ key: orphan.key, reason });
    } else {
      await handles.store.delete(orphan.key);
      result.orphansDeleted.push(orphan.key);
    }
  }
  return result;
}

async function dropPeriod(
  { store, index }: CacheHandles, datasetId: string, period: string,
): Promise<DroppedPeriod | { datasetId: string; period: string; reason: string }> {
  for (let attempt = 1; ; attempt++) {
    const current = (await index.query(datasetId, period, period))[0];
    if (!current) return { datasetId, period, reason: 'no record any more' };
    if ((await checkRecord(store, current)).problems.length === 0) return { datasetId, period, reason: 'clean when checked again' };
    try {
      await index.put({ ...current, covered: [], parts: [], canonical: undefined, version: current.version + 1 });
    } catch (error) {
      if (error instanceof ConflictError && attempt < MAX_REPAIR_TRIES) continue;
      throw error;
    }
    const periodOfRecord = parsePeriodKey(period, current.granularity);
    const keys = new Set(refsOf(current).map((ref) => ref.key));
    if (periodOfRecord) {
      try {
        keys.add(canonicalKeyOfId(datasetId, periodOfRecord.key));
      } catch {
        // A malformed dataset id has no canonical key to clear.
      }
    }
    for (const key of keys) await store.delete(key); // one at a time: parallel sibling deletes upset s3rver (cache-integrity.ts)
    const range = periodOfRecord?.range ?? { startMs: 0, endMs: 0 };
    return { datasetId, period, range, version: current.version + 1, objectsDeleted: [...keys].sort() };
  }
}

/** Why an orphan must stay, or undefined when it may be deleted. */
async function keepReason(index: CoverageIndex, orphan: OrphanObject, nowMs: number, graceMs: number): Promise<string | undefined> {
  const parsed = parseCacheObjectKey(orphan.key);
  if (!parsed) return 'not a key of the cache layout';
  if (parsed.createdAtMs === undefined) return 'age unknown (a canonical file, merged by the next compaction)';
  if (nowMs - parsed.createdAtMs < graceMs) return `younger than the grace period (${Math.round((nowMs - parsed.createdAtMs) / 1000)} s < ${Math.round(graceMs / 1000)} s)`;
  const record = (await index.query(parsed.datasetId, parsed.period, parsed.period))[0];
  if (record && refsOf(record).some((ref) => ref.key === orphan.key)) return 'referenced by the index now';
  return undefined;
}

function refsOf(record: PeriodRecord): { key: string }[] {
  return record.canonical ? [record.canonical, ...record.parts] : [...record.parts];
}
