/**
 * CoverageIndex on the local file system (DESIGN.md, Storage: "an embedded file-backed index
 * locally"): one JSON file per dataset period at `{rootDir}/_index/{datasetId}/{period}.json`.
 * Conditional puts are safe across processes: the writer takes a proper-lockfile lock on the
 * record (fs-lock.ts: an atomic `mkdir` of `{period}.json.lock`), re-reads the stored version,
 * compares, writes a temp file and renames it over the record, then releases the lock. A lock
 * whose holder was killed goes stale after LOCK_STALE_MS and is taken over.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, InvalidInputError, StoreError } from '../domain/errors.ts';
import { hasErrorCode, TEMP_MARKER, validateKey } from './fs-object-store.ts';
import { withFileLock } from './fs-lock.ts';
import { isJsonRecordName, JSON_SUFFIX, readJsonFile, walkJsonFiles, wrapStoreError, writeJsonAtomic } from './fs-json.ts';
import type { CoverageIndex, DatasetBounds, PeriodRecord } from './types.ts';

export { LOCK_STALE_MS } from './fs-lock.ts';

const INDEX_FOLDER = '_index';
/** Names starting with this are dataset-level records, never periods (as `#` sort keys in DynamoDB). */
const RESERVED_MARK = '#';
/** The dataset bounds record's name: `{rootDir}/_index/{datasetId}/#bounds.json`. */
const BOUNDS_NAME = '#bounds';

/**
 * A CoverageIndex rooted at `rootDir` (may be the same folder as the object store: records live
 * under `_index/`, which is not a dataset key prefix).
 * - `query` reads every record file of the dataset whose period key is in
 *   `[fromPeriod, toPeriod]` (text order), sorted by period.
 * - `put` throws ConflictError when the stored version is not `record.version - 1`,
 *   InvalidInputError for a bad datasetId/period/version, StoreError on I/O failure or when the
 *   lock cannot be taken in time.
 * - `scan` walks every folder under `_index/` and yields each record (dataset by dataset, in
 *   path order); a record file that vanishes mid-walk is skipped; StoreError on I/O failure.
 * - `readBounds`/`putBounds`: the dataset's `#bounds.json` beside its period records (never
 *   returned by `query` or `scan`), versioned like them.
 */
export function createFsCoverageIndex(rootDir: string): CoverageIndex {
  const root = path.resolve(rootDir, INDEX_FOLDER);
  const folderOf = (datasetId: string): string => path.join(root, ...datasetId.split('/'));
  const fileOf = (datasetId: string, period: string): string => path.join(folderOf(datasetId), `${period}${JSON_SUFFIX}`);

  return {
    async query(datasetId, fromPeriod, toPeriod) {
      validateKey(datasetId);
      const folder = folderOf(datasetId);
      try {
        const periods = (await listNames(folder))
          .filter((name) => isJsonRecordName(name) && !name.startsWith(RESERVED_MARK))
          .map((name) => name.slice(0, -JSON_SUFFIX.length))
          .filter((period) => period >= fromPeriod && period <= toPeriod)
          .sort();
        const records = await Promise.all(periods.map((period) => readRecord(fileOf(datasetId, period))));
        return records.filter((record): record is PeriodRecord => record !== undefined);
      } catch (cause) {
        throw wrap(cause, `query ${datasetId} ${fromPeriod}..${toPeriod}`, { datasetId, fromPeriod, toPeriod });
      }
    },

    async put(record) {
      validateRecord(record);
      const file = fileOf(record.datasetId, record.period);
      const what = `${record.datasetId} ${record.period}`;
      try {
        await putVersioned(file, record, what, async () => (await readRecord(file))?.version ?? 0, { period: record.period });
      } catch (cause) {
        throw wrap(cause, `put ${what} v${record.version}`, { datasetId: record.datasetId, period: record.period });
      }
    },

    async readBounds(datasetId) {
      validateKey(datasetId);
      try {
        return await readBoundsFile(fileOf(datasetId, BOUNDS_NAME));
      } catch (cause) {
        throw wrap(cause, `read the bounds of ${datasetId}`, { datasetId });
      }
    },

    async putBounds(bounds) {
      validateKey(bounds.datasetId);
      validateVersion(bounds.version);
      const file = fileOf(bounds.datasetId, BOUNDS_NAME);
      const what = `${bounds.datasetId} ${BOUNDS_NAME}`;
      try {
        await putVersioned(file, bounds, what, async () => (await readBoundsFile(file))?.version ?? 0, {});
      } catch (cause) {
        throw wrap(cause, `put ${what} v${bounds.version}`, { datasetId: bounds.datasetId });
      }
    },

    async *scan() {
      let files: string[];
      try {
        files = await walkJsonFiles(root);
      } catch (cause) {
        throw wrap(cause, 'scan', {});
      }
      for (const file of files.filter((f) => !path.basename(f).startsWith(RESERVED_MARK))) {
        let record: PeriodRecord | undefined;
        try {
          record = await readRecord(file);
        } catch (cause) {
          throw wrap(cause, `scan ${file}`, { file });
        }
        if (record) yield record;
      }
    },
  };
}

/**
 * Writes `value` to `file` under the file's lock when the stored version (read by `storedVersion`)
 * is `value.version - 1`; else ConflictError.
 */
async function putVersioned(
  file: string, value: { datasetId: string; version: number }, what: string, storedVersion: () => Promise<number>, details: Record<string, unknown>,
): Promise<void> {
  await withFileLock(file, async () => {
    const stored = await storedVersion();
    if (stored !== value.version - 1) {
      throw new ConflictError(
        `coverage index: ${what} is at version ${stored}, the write expected ${value.version - 1}; re-read and retry`,
        { datasetId: value.datasetId, ...details, storedVersion: stored, version: value.version },
      );
    }
    await writeJsonAtomic(file, value);
  });
}

async function readBoundsFile(file: string): Promise<DatasetBounds | undefined> {
  const bounds = (await readJsonFile(file)) as DatasetBounds | undefined;
  if (bounds === undefined) return undefined;
  if (!Number.isInteger(bounds.version) || typeof bounds.datasetId !== 'string') {
    throw new StoreError(`coverage index: ${file} is not a dataset bounds record`, { details: { file } });
  }
  return bounds;
}

async function listNames(folder: string): Promise<string[]> {
  try {
    return await readdir(folder);
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return [];
    throw error;
  }
}

async function readRecord(file: string): Promise<PeriodRecord | undefined> {
  const record = (await readJsonFile(file)) as PeriodRecord | undefined;
  if (record === undefined) return undefined;
  if (!Number.isInteger(record.version) || !Array.isArray(record.covered) || !Array.isArray(record.parts)) {
    throw new StoreError(`coverage index: ${file} is not a period record`, { details: { file } });
  }
  return record;
}

function validateRecord(record: PeriodRecord): void {
  validateKey(record.datasetId);
  validateKey(record.period);
  if (record.period.includes('/') || record.period.includes(TEMP_MARKER)) {
    throw new InvalidInputError(`coverage index: period ${JSON.stringify(record.period)} must be one path segment`, { period: record.period });
  }
  if (record.period.startsWith(RESERVED_MARK)) {
    throw new InvalidInputError(`coverage index: period ${JSON.stringify(record.period)} must not start with '#'`, { period: record.period });
  }
  validateVersion(record.version);
}

function validateVersion(version: number): void {
  if (!Number.isInteger(version) || version < 1) {
    throw new InvalidInputError(`coverage index: version must be an integer ≥ 1, got ${String(version)}`, { version });
  }
}

function wrap(cause: unknown, action: string, details: Record<string, unknown>): Error {
  return wrapStoreError(cause, {
    store: 'coverage index', action, details, lockBusyReason: 'the record stayed locked by another writer past the retry budget',
  });
}
