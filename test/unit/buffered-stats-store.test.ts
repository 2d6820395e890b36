/**
 * buffered-stats-store.ts over the local stats store: adds are summed in memory and written in
 * one add per dataset when enough requests are pending, when the oldest is old enough, on
 * flush() and before read(); nothing is lost or counted twice, and a failed write stays pending.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../lib/domain/errors.ts';
import { createBufferedStatsStore } from '../../lib/store/buffered-stats-store.ts';
import { createFsStatsStore } from '../../lib/store/fs-stats-store.ts';
import type { CacheCounters, CacheStatsStore } from '../../lib/store/types.ts';

const A = 'binance/spot/klines/BTCUSDT/1m';
const B = 'binance/um/klines/ETHUSDT/1h';
let dir: string;
let inner: CacheStatsStore;
let writes: { id: string; counters: Partial<CacheCounters> }[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'klines-stats-'));
  const fs = createFsStatsStore(dir);
  writes = [];
  inner = { add: async (id, counters) => (writes.push({ id, counters }), fs.add(id, counters)), read: () => fs.read() };
  return () => rm(dir, { recursive: true, force: true });
});

describe('createBufferedStatsStore', () => {
  it('writes nothing per request, then one add per dataset with the sums after maxRequests requests', async () => {
    const stats = createBufferedStatsStore(inner, { maxRequests: 5, maxAgeMs: 3_600_000 });
    for (let i = 0; i < 4; i++) await stats.add(A, { requests: 1, hits: 1, rowsServed: 100 });
    expect(writes).toEqual([]);
    expect(stats.pendingRequests).toBe(4);
    await stats.add(B, { requests: 1, misses: 1, visionFiles: 2 });
    expect(writes.map((w) => w.id).sort()).toEqual([A, B]);
    const totals = await createFsStatsStore(dir).read();
    expect(totals.get(A)).toMatchObject({ requests: 4, hits: 4, rowsServed: 400, misses: 0 });
    expect(totals.get(B)).toMatchObject({ requests: 1, misses: 1, visionFiles: 2 });
    expect(stats.pendingRequests).toBe(0);
  });

  it('flushes when the oldest pending add is maxAgeMs old, and before a read', async () => {
    let now = 1_000;
    const stats = createBufferedStatsStore(inner, { maxRequests: 1_000, maxAgeMs: 60_000, nowMs: () => now });
    await stats.add(A, { requests: 1 });
    now += 59_999;
    await stats.add(A, { requests: 1 });
    expect(writes).toHaveLength(0);
    now += 1;
    await stats.add(A, { requests: 1 });
    expect(writes).toEqual([{ id: A, counters: expect.objectContaining({ requests: 3 }) }]);
    await stats.add(B, { requests: 2 });
    expect((await stats.read()).get(B)?.requests).toBe(2);
    expect((await stats.read()).get(A)?.requests).toBe(3);
  });

  it('keeps the counters of a failed write pending and writes them at the next flush', async () => {
    let fail = true;
    const flaky: CacheStatsStore = { add: async (id, c) => { if (fail) throw new Error('throttled'); await inner.add(id, c); }, read: () => inner.read() };
    const stats = createBufferedStatsStore(flaky, { maxRequests: 2 });
    await stats.add(A, { requests: 1 });
    await expect(stats.add(A, { requests: 1 })).rejects.toThrow('throttled');
    expect(stats.pendingRequests).toBe(2);
    fail = false;
    await stats.flush();
    expect((await inner.read()).get(A)?.requests).toBe(2);
  });

  it('refuses a counter that is not a finite number at once', async () => {
    const stats = createBufferedStatsStore(inner);
    await expect(stats.add(A, { requests: Number.NaN })).rejects.toBeInstanceOf(InvalidInputError);
    expect(stats.pendingRequests).toBe(0);
  });

  describe('flushBeforeExit', () => {
    const worker = resolve(import.meta.dirname, '../helpers/stats-exit-worker.ts');
    const run = (mode: 'ok' | 'failing' | 'removed') => promisify(execFile)(process.execPath, ['--import', 'tsx', worker, JSON.stringify({ dir, mode })], { timeout: 15_000 });

    it('writes what is pending when the process ends on its own, one add per dataset', async () => {
      const { stdout, stderr } = await run('ok');
      expect(stderr).toBe('');
      expect(stdout).toBe('adds=2\n');
      const totals = await createFsStatsStore(dir).read();
      expect(totals.get(A)).toMatchObject({ requests: 3, hits: 3, rowsServed: 30 });
      expect(totals.get(B)).toMatchObject({ requests: 0, corruptObjects: 1 });
    });

    it('reports a failed flush at exit once, and the process still ends', async () => {
      const { stderr } = await run('failing');
      expect(stderr).toBe('not saved: disk full\n');
      expect((await createFsStatsStore(dir).read()).size).toBe(0);
    });

    it('does not bring back a local cache folder deleted before the process ends', async () => {
      const { stderr } = await run('removed');
      expect(stderr).toBe('');
      expect(existsSync(dir)).toBe(false);
    });
  });
});
