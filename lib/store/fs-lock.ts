/**
 * Cross-process locking for the file-backed stores (coverage index, leases, stats): a
 * proper-lockfile lock on a file (an atomic `mkdir` of `{file}.lock`, refreshed while held).
 * A lock whose holder was killed goes stale after LOCK_STALE_MS and is taken over.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type lockfileModule from 'proper-lockfile';
import { once } from '../lazy.ts';
import { hasErrorCode } from './fs-object-store.ts';

/** A lock not refreshed for this long belongs to a dead process and may be broken (proper-lockfile `stale`). */
export const LOCK_STALE_MS = 10_000;

/**
 * Lock acquisition retries with jittered exponential backoff (10 ms … 500 ms) for about 25 s
 * in all: long enough to outlive a stale lock, bounded so a stuck writer fails instead of hanging.
 */
const LOCK_RETRIES = { retries: 60, factor: 1.5, minTimeout: 10, maxTimeout: 500, randomize: true };

/**
 * proper-lockfile (with graceful-fs and signal-exit, which patch fs and process at load), loaded
 * on the first lock: a process whose stores are S3 and DynamoDB (a deployed Lambda) never takes
 * a file lock, so it does not pay for them at cold start (issue 9).
 */
const loadLockfile = once((): Promise<typeof lockfileModule> => import('proper-lockfile').then((module) => module.default));

/** The last queued action per locked file in this process; see `withFileLock`. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `action` while holding the lock of `file` (whose folder is created first; the file itself
 * need not exist) and returns its result. Callers in one process are queued per file, so they
 * do not spin against each other's lock; other processes are kept out by the lock itself.
 * Throws what `action` throws; proper-lockfile's `ELOCKED` error when the lock stays held past
 * the retry budget (see `isLockBusy`); or the compromise error when the lock was lost while
 * `action` ran (its writes may then have raced another holder's).
 */
export function withFileLock<T>(file: string, action: () => Promise<T>): Promise<T> {
  const previous = queues.get(file) ?? Promise.resolve();
  const run = previous.then(() => lockAndRun(file, action));
  const tail = run.catch(() => undefined);
  queues.set(file, tail);
  void tail.then(() => {
    if (queues.get(file) === tail) queues.delete(file);
  });
  return run;
}

async function lockAndRun<T>(file: string, action: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(file), { recursive: true });
  let compromised: Error | undefined;
  const release = await (await loadLockfile()).lock(file, {
    realpath: false,
    stale: LOCK_STALE_MS,
    retries: LOCK_RETRIES,
    onCompromised: (error) => { compromised = error; },
  });
  try {
    const result = await action();
    if (compromised) throw compromised;
    return result;
  } finally {
    await release().catch(() => undefined);
  }
}

/** True for the error `withFileLock` throws when another holder kept the lock past the retry budget. */
export function isLockBusy(error: unknown): boolean {
  return hasErrorCode(error, 'ELOCKED');
}
