/**
 * LeaseStore on the local file system (issue 3: workers racing for one gap fetch it once): one
 * JSON file `{rootDir}/_leases/{datasetId}/{encoded key}.json` holding `{ owner, expiresAtMs }`,
 * read and changed only under the file's lock (fs-lock.ts), so acquire is atomic across
 * processes. Expiries are UTC epoch ms of the system clock (never KLINES_NOW).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, StoreError } from '../domain/errors.ts';
import { validateKey } from './fs-object-store.ts';
import { withFileLock } from './fs-lock.ts';
import { JSON_SUFFIX, readJsonFile, wrapStoreError, writeJsonAtomic } from './fs-json.ts';
import type { LeaseStore } from './types.ts';

const LEASE_FOLDER = '_leases';

/** What a lease file holds. */
interface LeaseFile {
  readonly owner: string;
  readonly expiresAtMs: number;
}

/**
 * A LeaseStore rooted at `rootDir` (may be the cache root: leases live under `_leases/`).
 * `key` may be any non-empty text (it is percent-encoded into one file name).
 * Throws InvalidInputError for a bad datasetId, an empty key or owner, or a ttlMs that is not a
 * positive finite number; StoreError on I/O failure or a lock held past the retry budget.
 */
export function createFsLeaseStore(rootDir: string): LeaseStore {
  const root = path.resolve(rootDir, LEASE_FOLDER);
  const fileOf = (datasetId: string, key: string, owner: string): string => {
    validateKey(datasetId);
    if (key === '') throw new InvalidInputError('lease store: the lease key must not be empty', { datasetId });
    if (owner === '') throw new InvalidInputError('lease store: the owner must not be empty', { datasetId, key });
    return path.join(root, ...datasetId.split('/'), `${encodeURIComponent(key)}${JSON_SUFFIX}`);
  };

  return {
    async acquire(datasetId, key, owner, ttlMs) {
      const file = fileOf(datasetId, key, owner);
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
        throw new InvalidInputError(`lease store: ttlMs must be a positive number of ms, got ${String(ttlMs)}`, { ttlMs });
      }
      try {
        return await withFileLock(file, async () => {
          const current = await readLease(file);
          const nowMs = Date.now();
          if (current && current.owner !== owner && current.expiresAtMs > nowMs) return false;
          const lease: LeaseFile = { owner, expiresAtMs: nowMs + ttlMs };
          await writeJsonAtomic(file, lease);
          return true;
        });
      } catch (cause) {
        throw wrap(cause, `acquire ${datasetId} ${key} for ${owner}`, { datasetId, key, owner });
      }
    },

    async release(datasetId, key, owner) {
      const file = fileOf(datasetId, key, owner);
      try {
        await withFileLock(file, async () => {
          if ((await readLease(file))?.owner === owner) await rm(file, { force: true });
        });
      } catch (cause) {
        throw wrap(cause, `release ${datasetId} ${key} for ${owner}`, { datasetId, key, owner });
      }
    },
  };
}

async function readLease(file: string): Promise<LeaseFile | undefined> {
  const lease = (await readJsonFile(file)) as LeaseFile | undefined;
  if (lease === undefined) return undefined;
  if (typeof lease.owner !== 'string' || !Number.isFinite(lease.expiresAtMs)) {
    throw new StoreError(`lease store: ${file} is not a lease`, { details: { file } });
  }
  return lease;
}

function wrap(cause: unknown, action: string, details: Record<string, unknown>): Error {
  return wrapStoreError(cause, {
    store: 'lease store', action, details, lockBusyReason: 'the lease stayed locked by another process past the retry budget',
  });
}
