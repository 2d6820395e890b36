/**
 * A process that adds to a buffered stats store flushed before exit (buffered-stats-store.ts),
 * then ends on its own. argv[2]: JSON `{ dir, mode }`:
 * - `ok`: statistics under `dir`; prints `adds=<n>` (the inner store's adds) as the process exits;
 * - `failing`: an inner store whose every add throws; prints `not saved: <message>` on stderr
 *   when the flush at exit fails;
 * - `removed`: the local cache's handles on `dir` (open-service.ts), and `dir` deleted before the end.
 */
import { rmSync, writeSync } from 'node:fs';
import { loadConfig } from '../../lib/config.ts';
import { createFsCacheHandles } from '../../lib/open-service.ts';
import { createBufferedStatsStore } from '../../lib/store/buffered-stats-store.ts';
import { createFsStatsStore } from '../../lib/store/fs-stats-store.ts';
import type { CacheStatsStore } from '../../lib/store/types.ts';

const { dir, mode } = JSON.parse(process.argv[2]!) as { dir: string; mode: 'ok' | 'failing' | 'removed' };
const fs = createFsStatsStore(dir);
let adds = 0;
// The failing add waits on a timer first, as a real write waits on I/O: work that keeps the process alive.
const fail = async (): Promise<never> => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  throw new Error('disk full');
};
const inner: CacheStatsStore = mode === 'failing' ? { add: fail, read: () => fs.read() } : { add: (id, counters) => (adds++, fs.add(id, counters)), read: () => fs.read() };
const stats = mode === 'removed'
  ? createFsCacheHandles(loadConfig({ KLINES_CACHE_DIR: dir })).stats
  : createBufferedStatsStore(inner, {
    maxRequests: 100, maxAgeMs: 3_600_000,
    flushBeforeExit: { onError: (error) => process.stderr.write(`not saved: ${(error as Error).message}\n`) },
  });
process.on('exit', () => void (mode === 'ok' && writeSync(1, `adds=${adds}\n`)));
for (let i = 0; i < 3; i++) await stats.add('binance/spot/klines/BTCUSDT/1m', { requests: 1, hits: 1, rowsServed: 10 });
await stats.add('binance/um/klines/ETHUSDT/1h', { corruptObjects: 1 });
if (mode === 'removed') rmSync(dir, { recursive: true, force: true });
