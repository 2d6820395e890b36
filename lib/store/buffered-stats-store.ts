/**
 * Cache statistics added up in memory and written in one add per dataset now and then (issue 9,
 * item 6): a warm read then costs no DynamoDB write, and 1,000 requests/s on one dataset no
 * longer all update one item (which throttles past DynamoDB's 1,000 writes/s per partition).
 * Used by the Lambdas (one buffer per container); a CLI run is one request and adds once.
 *
 * Counters are flushed when `maxRequests` requests are pending or the oldest pending add is
 * `maxAgeMs` old (checked on each add), on `flush()`, and before `read()`. Counters not yet
 * flushed when a container is shut down are lost: statistics are approximate by at most one
 * buffer per container, never counted twice.
 */
import { InvalidInputError } from '../domain/errors.ts';
import { COUNTER_NAMES, fillCounters } from './cache-counters.ts';
import type { CacheCounters, CacheStatsStore } from './types.ts';

/** A stats store that buffers adds; `flush` writes what is pending. */
export interface BufferedStatsStore extends CacheStatsStore {
  /** Writes every pending dataset's counters (one add each). Throws the first add's error; failed counters stay pending. */
  flush(): Promise<void>;
  /** Requests added since the last flush. */
  readonly pendingRequests: number;
}

/** When to flush: after this many requests or this long after the oldest pending add (ms). */
export interface BufferOptions {
  readonly maxRequests?: number;
  readonly maxAgeMs?: number;
  /** The clock (epoch ms). */
  readonly nowMs?: () => number;
}

/** Defaults: 100 requests or 60 s (one write per dataset per minute at most, per container, under steady load). */
export const STATS_FLUSH_REQUESTS = 100;
export const STATS_FLUSH_MS = 60_000;

/** Wraps `inner` so that adds are summed in memory and flushed now and then. */
export function createBufferedStatsStore(inner: CacheStatsStore, options: BufferOptions = {}): BufferedStatsStore {
  const maxRequests = options.maxRequests ?? STATS_FLUSH_REQUESTS;
  const maxAgeMs = options.maxAgeMs ?? STATS_FLUSH_MS;
  const nowMs = options.nowMs ?? Date.now;
  let pending = new Map<string, CacheCounters>();
  let pendingRequests = 0;
  let oldestMs: number | undefined;

  async function flush(): Promise<void> {
    const batch = pending;
    pending = new Map();
    pendingRequests = 0;
    oldestMs = undefined;
    const failed: unknown[] = [];
    for (const [id, counters] of batch) {
      try {
        await inner.add(id, counters);
      } catch (error) {
        failed.push(error);
        merge(id, counters);
      }
    }
    if (failed.length > 0) throw failed[0];
  }

  function merge(id: string, counters: Partial<CacheCounters>): void {
    const total = pending.get(id) ?? fillCounters();
    for (const name of COUNTER_NAMES) total[name] += counters[name] ?? 0;
    pending.set(id, total);
    pendingRequests += counters.requests ?? 0;
    oldestMs ??= nowMs();
  }

  return {
    get pendingRequests() {
      return pendingRequests;
    },
    async add(datasetId, counters) {
      for (const [name, value] of Object.entries(counters)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw new InvalidInputError(`stats: counter ${name} must be a finite number, got ${String(value)}`, { datasetId, name });
        }
      }
      merge(datasetId, counters);
      if (pendingRequests >= maxRequests || nowMs() - oldestMs! >= maxAgeMs) await flush();
    },
    async read() {
      await flush();
      return inner.read();
    },
    flush,
  };
}
