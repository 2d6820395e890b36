/**
 * CoverageIndex on the local file system (DESIGN.md, Storage: "an embedded file-backed index
 * locally"): one JSON file per dataset period at `{rootDir}/_index/{datasetId}/{period}.json`.
 * Conditional puts are safe across processes: the writer takes a proper-lockfile lock on the
 * record (an atomic `mkdir` of `{period}.json.lock`), re-reads the stored version, compares,
 * writes a temp file and renames it over the record, then releases the lock. A lock whose
 * holder was killed goes stale after LOCK_STALE_MS and is taken over.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { ConflictError, InvalidInputError, StoreError } from '../domain/errors.ts';
import { hasErrorCode, TEMP_MARKER, validateKey, writeFileAtomic } from './fs-object-store.ts';
import type { CoverageIndex, PeriodRecord } from './types.ts';

/** A lock not refreshed for this long belongs to a dead process and may be broken (proper-lockfile `stale`). */
export const LOCK_STALE_MS = 10_000;

/**
 * Lock acquisition retries with jittered exponential backoff (10 ms … 500 ms) for about 25 s
 * in all: long enough to outlive a stale lock, bounded so a stuck writer fails instead of hanging.
 */
const LOCK_RETRIES = { retries: 60, factor: 1.5, minTimeout: 10, maxTimeout: 500, randomize: true };

const INDEX_FOLDER = '_index';
const RECORD_SUFFIX = '.json';

/**
 * A CoverageIndex rooted at `rootDir` (may be the same folder as the object store: records live
 * under `_index/`, which is not a dataset key prefix).
 * - `query` reads every record file of the dataset whose period key is in
 *   `[fromPeriod, toPeriod]` (text order), sorted by period.
 * - `put` throws ConflictError when the stored version is not `record.version - 1`,
 *   InvalidInputError for a bad datasetId/period/version, StoreError on I/O failure or when the
 *   lock cannot be taken in time.
 */
export function createFsCoverageIndex(rootDir: string): CoverageIndex {
  const root = path.resolve(rootDir, INDEX_FOLDER);
  const folderOf = (datasetId: string): string => path.join(root, ...datasetId.split('/'));
  const fileOf = (datasetId: string, period: string): string => path.join(folderOf(datasetId), `${period}${RECORD_SUFFIX}`);

  return {
    async query(datasetId, fromPeriod, toPeriod) {
      validateKey(datasetId);
      const folder = folderOf(datasetId);
      try {
        const periods = (await listNames(folder))
          .filter((name) => name.endsWith(RECORD_SUFFIX) && !name.includes(TEMP_MARKER))
          .map((name) => name.slice(0, -RECORD_SUFFIX.length))
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
      let release: (() => Promise<void>) | undefined;
      let compromised: Error | undefined;
      try {
        await mkdir(path.dirname(file), { recursive: true });
        release = await lockfile.lock(file, {
          realpath: false,
          stale: LOCK_STALE_MS,
          retries: LOCK_RETRIES,
          onCompromised: (error) => { compromised = error; },
        });
        const storedVersion = (await readRecord(file))?.version ?? 0;
        if (storedVersion !== record.version - 1) {
          throw new ConflictError(
            `coverage index: ${what} is at version ${storedVersion}, the write expected ${record.version - 1}; re-read and retry`,
            { datasetId: record.datasetId, period: record.period, storedVersion, version: record.version },
          );
        }
        await writeFileAtomic(file, `${JSON.stringify(record)}\n`);
        if (compromised) throw compromised;
      } catch (cause) {
        throw wrap(cause, `put ${what} v${record.version}`, { datasetId: record.datasetId, period: record.period });
      } finally {
        await release?.().catch(() => undefined);
      }
    },
  };
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
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  const record = JSON.parse(text) as PeriodRecord;
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
  if (!Number.isInteger(record.version) || record.version < 1) {
    throw new InvalidInputError(`coverage index: version must be an integer ≥ 1, got ${String(record.version)}`, { version: record.version });
  }
}

function wrap(cause: unknown, action: string, details: Record<string, unknown>): Error {
  if (cause instanceof ConflictError || cause instanceof InvalidInputError || cause instanceof StoreError) return cause;
  const locked = hasErrorCode(cause, 'ELOCKED');
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new StoreError(
    `coverage index: cannot ${action}: ${locked ? 'the record stayed locked by another writer past the retry budget' : reason}`,
    { cause, details },
  );
}
