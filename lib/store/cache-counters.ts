/**
 * The cache statistics counters (types.ts, CacheCounters; the seed docs' `get_cache_stats`):
 * their names in display order and a helper that fills missing ones with 0. Shared by every
 * CacheStatsStore implementation and by `klines stats`.
 */
import type { CacheCounters } from './types.ts';

/** The counter names, in display order. */
export const COUNTER_NAMES = [
  'requests', 'hits', 'misses', 'errors', 'rowsServed', 'rowsFromCache', 'visionFiles', 'restRequests', 'restWeight',
  'corruptObjects', 'cleanupFailures',
] as const satisfies readonly (keyof CacheCounters)[];

/** All counters: those of `partial` that are finite numbers, every other one 0. */
export function fillCounters(partial: Partial<Record<keyof CacheCounters, unknown>> = {}): CacheCounters {
  const out = {} as CacheCounters;
  for (const name of COUNTER_NAMES) {
    const value = partial[name];
    out[name] = typeof value === 'number' && Number.isFinite(value) ? value : 0;
  }
  return out;
}
