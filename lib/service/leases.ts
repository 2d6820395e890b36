/**
 * Period leases held while a worker fetches or compacts (issue 3): workers racing for the same
 * gap fetch it once, and a crashed worker blocks the others only until its lease expires.
 */
import type { LeaseStore } from '../store/types.ts';

/** Leases one worker holds on periods of one dataset, renewed until released. */
export interface HeldLeases {
  /** Period keys held. */
  readonly keys: ReadonlySet<string>;
  /** Stops renewing and frees every lease held. Never throws: an unreleased lease just expires. */
  release(): Promise<void>;
}

/**
 * Tries to take the lease of each period key (one conditional write each, in key order) and
 * renews the ones taken every `ttlMs / 3` until released. Keys held by another live worker are
 * skipped, not waited for: the caller re-reads the coverage later and plans what is still a gap.
 */
export async function acquireLeases(leases: LeaseStore, datasetId: string, keys: Iterable<string>, owner: string, ttlMs: number): Promise<HeldLeases> {
  const held = new Set<string>();
  for (const key of [...new Set(keys)].sort()) {
    if (await leases.acquire(datasetId, key, owner, ttlMs)) held.add(key);
  }
  let released = false;
  let renewing: Promise<unknown> = Promise.resolve();
  const renew = setInterval(() => {
    // One renewal round at a time, and none after release: a renewal landing after the delete
    // would recreate the lease for a finished worker.
    renewing = renewing.then(() => Promise.all([...held].map((key) => (released ? undefined
      : leases.acquire(datasetId, key, owner, ttlMs).catch(() => undefined)))));
  }, Math.max(1, Math.floor(ttlMs / 3)));
  renew.unref();
  return {
    keys: held,
    async release() {
      released = true;
      clearInterval(renew);
      await renewing;
      await Promise.all([...held].map((key) => leases.release(datasetId, key, owner).catch(() => undefined)));
    },
  };
}
