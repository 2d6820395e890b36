/**
 * A process that adds to a buffered stats store flushed before exit (buffered-stats-store.ts),
 * then ends on its own. argv[2]: JSON `{ dir, failing }`: statistics under `dir`, or (`failing`)
 * an inner store whose every add throws. Prints `not saved: <message>` on stderr when the flush
 * at exit fails.
 */
import { createBufferedStatsStore } from '../../lib/store/buffered-stats-store.ts';
import { createFsStatsStore } from '../../lib/store/fs-stats-store.ts';
import type { CacheStatsStore } from '../../lib/store/types.ts';

const { dir, failing } = JSON.parse(process.argv[2]!) as { dir: string; failing: boolean };
const fs = createFsStatsStore(dir);
// The failing add waits on a timer first, as a real write waits on I/O: work that keeps the process alive.
const fail = async (): Promise<never> => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  throw new Error('disk full');
};
const inner: CacheStatsStore = failing ? { add: fail, read: () => fs.read() } : fs;
const stats = createBufferedStatsStore(inner, {
  maxRequests: 100, maxAgeMs: 3_600_000,
  flushBeforeExit: { onError: (error) => process.stderr.write(`not saved: ${(error as Error).message}\n`) },
});
for (let i = 0; i < 3; i++) await stats.add('binance/spot/klines/BTCUSDT/1m', { requests: 1, hits: 1, rowsServed: 10 });
await stats.add('binance/um/klines/ETHUSDT/1h', { corruptObjects: 1 });
