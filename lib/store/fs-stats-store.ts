/**
 * CacheStatsStore on the local file system (issue 3: `klines stats`): one JSON file per dataset,
 * `{rootDir}/_stats/{datasetId}.json` holding `{ datasetId, counters }`. An add re-reads and
 * rewrites the file under its lock (fs-lock.ts), so adds from many processes are never lost.
 */
import path from 'node:path';
import { InvalidInputError, StoreError } from '../domain/errors.ts';
import { validateKey } from './fs-object-store.ts';
import { withFileLock } from './fs-lock.ts';
import { JSON_SUFFIX, readJsonFile, walkJsonFiles, wrapStoreError, writeJsonAtomic } from './fs-json.ts';
import { COUNTER_NAMES, fillCounters } from './cache-counters.ts';
import type { CacheCounters, CacheStatsStore } from './types.ts';

const STATS_FOLDER = '_stats';

/**
 * A CacheStatsStore rooted at `rootDir` (may be the cache root: stats live under `_stats/`).
 * `add` throws InvalidInputError for a bad datasetId or a counter that is not a finite number;
 * both methods throw StoreError on I/O failure or a lock held past the retry budget.
 */
export function createFsStatsStore(rootDir: string): CacheStatsStore {
  const root = path.resolve(rootDir, STATS_FOLDER);

  return {
    async add(datasetId, counters) {
      validateKey(datasetId);
      for (const [name, value] of Object.entries(counters)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw new InvalidInputError(`stats store: counter ${name} must be a finite number, got ${String(value)}`, { datasetId, name });
        }
      }
      const file = path.join(root, ...datasetId.split('/')) + JSON_SUFFIX;
      try {
        await withFileLock(file, async () => {
          const total = (await readStats(file))?.counters ?? fillCounters();
          for (const name of COUNTER_NAMES) total[name] += counters[name] ?? 0;
          await writeJsonAtomic(file, { datasetId, counters: total });
        });
      } catch (cause) {
        throw wrap(cause, `add to ${datasetId}`, { datasetId });
      }
    },

    async read() {
      const out = new Map<string, CacheCounters>();
      try {
        for (const file of await walkJsonFiles(root)) {
          const stats = await readStats(file);
          if (stats) out.set(stats.datasetId, stats.counters);
        }
      } catch (cause) {
        throw wrap(cause, 'read', {});
      }
      return out;
    },
  };
}

async function readStats(file: string): Promise<{ datasetId: string; counters: CacheCounters } | undefined> {
  const parsed = (await readJsonFile(file)) as { datasetId?: unknown; counters?: Partial<CacheCounters> } | undefined;
  if (parsed === undefined) return undefined;
  if (typeof parsed.datasetId !== 'string' || typeof parsed.counters !== 'object' || parsed.counters === null) {
    throw new StoreError(`stats store: ${file} is not a stats file`, { details: { file } });
  }
  return { datasetId: parsed.datasetId, counters: fillCounters(parsed.counters) };
}

function wrap(cause: unknown, action: string, details: Record<string, unknown>): Error {
  return wrapStoreError(cause, {
    store: 'stats store', action, details, lockBusyReason: 'the stats file stayed locked by another process past the retry budget',
  });
}
