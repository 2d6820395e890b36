/**
 * The kline cache's integrity events (issue 8, items 3 and 5) turned into statistics and logs.
 */
import type { KlineCacheEvents } from './kline-cache.ts';
import type { CacheStatsStore } from './types.ts';

/**
 * Counts the cache's integrity events in the statistics (`corruptObjects`, `cleanupFailures`:
 * `klines stats` shows them) and logs each as one JSON line on stderr (CloudWatch in Lambda),
 * naming the object's key.
 */
export function countingCacheEvents(stats: CacheStatsStore, writeLine: (line: string) => void = (line) => void process.stderr.write(line)): KlineCacheEvents {
  const log = (message: string, fields: Record<string, unknown>): void => writeLine(`${JSON.stringify({ level: 'WARN', message, ...fields })}\n`);
  return {
    async onCorruptObject(event) {
      log('kline cache: object failed verification and was not served; its period was dropped and is fetched again', { ...event });
      await stats.add(event.datasetId, { corruptObjects: 1 });
    },
    async onCleanupFailed(event) {
      const reason = event.error instanceof Error ? event.error.message : String(event.error);
      log('kline cache: could not delete a superseded object; it is left as an orphan for `klines repair --orphans`', {
        datasetId: event.datasetId, period: event.period, key: event.key, error: reason,
      });
      await stats.add(event.datasetId, { cleanupFailures: 1 });
    },
  };
}
