/**
 * The `klines` command as a user runs it: the built bin in a child process, configured by
 * environment, against the fake Binance serving the real files.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeKlines } from '../../lib/store/parquet-codec.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { expectedBtc1hCsv, runKlines } from '../helpers/run-klines.ts';

const NOW = '2020-12-15T10:30:00Z';
const t = (iso: string): number => Date.parse(iso);

let fake: FakeBinance;
let cacheDir: string;

const klines = (args: string[]) => runKlines(fake, NOW, { KLINES_CACHE_DIR: cacheDir }, args);
const expectedCsv = expectedBtc1hCsv;

beforeAll(async () => {
  fake = await startFakeBinance({ nowMs: t(NOW) });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'klines-cli-'));
  fake.clearRequests();
  return () => rm(cacheDir, { recursive: true, force: true });
});

describe('klines get', () => {
  it('prints the exact real candles as CSV, then answers the same request from the cache', async () => {
    const args = ['get', 'BTCUSDT', '1h', '--market', 'spot', '--start', '2020-11-20', '--end', '2020-12-15T09:00:00Z', '--stats'];
    const cold = await klines(args);
    expect(cold.code).toBe(0);
    expect(cold.stdout).toBe(expectedCsv('2020-11-20', '2020-12-15T09:00:00Z'));
    const coldStats = JSON.parse(cold.stderr.trim().split('\n').at(-1)!);
    expect(coldStats).toMatchObject({ rowsFromCache: 0, restRequests: 1, restWeight: 2 });
    expect(coldStats.visionFiles).toBeGreaterThan(0);

    fake.clearRequests();
    const warm = await klines(args);
    expect(warm.stdout).toBe(cold.stdout);
    expect(fake.requests).toEqual([]);
    expect(JSON.parse(warm.stderr.trim().split('\n').at(-1)!)).toMatchObject({ rowsFromVision: 0, rowsFromRest: 0, restRequests: 0, visionFiles: 0 });

    // Each run's statistics, summed in memory, are written as the process ends (open-service.ts).
    const stats = await klines(['stats', '--json']);
    expect(stats.code).toBe(0);
    const rows = cold.stdout.trim().split('\n').length - 1;
    expect(JSON.parse(stats.stdout).datasets).toEqual([expect.objectContaining({
      datasetId: 'binance/spot/klines/BTCUSDT/1h',
      counters: expect.objectContaining({ requests: 2, misses: 1, hits: 1, errors: 0, rowsServed: 2 * rows, rowsFromCache: rows }),
    })]);
  });

  it('clamps an end past the last closed candle and defaults the end to it', async () => {
    const clamped = await klines(['get', 'BTCUSDT', '1h', '--start', '2020-12-15T05:00:00Z', '--end', '2030-01-01']);
    const defaulted = await klines(['get', 'BTCUSDT', '1h', '--start', '2020-12-15T05:00:00Z']);
    expect(clamped.stdout).toBe(expectedCsv('2020-12-15T05:00:00Z', '2020-12-15T09:00:00Z'));
    expect(defaulted.stdout).toBe(clamped.stdout);
  });

  it('writes JSON with sources, and Parquet that reads back to the same rows', async () => {
    const json = await klines(['get', 'BTCUSDT', '1h', '--start', '2020-12-14T00:00:00Z', '--end', '2020-12-14T02:00:00Z', '--format', 'json', '--with-source']);
    expect(JSON.parse(json.stdout)).toEqual(
      expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-14'), t('2020-12-14T02:00:00Z')).map((row) => ({ ...row, source: 'rest' })),
    );
    const out = join(cacheDir, 'answer.parquet');
    const parquet = await klines(['get', 'BTCUSDT', '1h', '--start', '2020-12-14T00:00:00Z', '--end', '2020-12-14T02:00:00Z', '--format', 'parquet', '--out', out]);
    expect(parquet.code).toBe(0);
    expect(await decodeKlines(new Uint8Array(await readFile(out)))).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-14'), t('2020-12-14T02:00:00Z')));
  });

  it.each([
    { args: ['get', 'BTC/USDT', '1h', '--start', '2020-01-01'], says: 'use 2-30 characters of A-Z, 0-9 and _' },
    { args: ['get', 'BTCUSDT', '2m', '--start', '2020-01-01'], says: 'use one of 1s 1m 3m' },
    { args: ['get', 'BTCUSDT', '1s', '--market', 'um', '--start', '2020-01-01'], says: '1s exists only on spot' },
    { args: ['get', 'BTCUSDT', '1h', '--start', 'yesterday'], says: 'use ISO-8601' },
    { args: ['get', 'BTCUSDT', '1h', '--start', '2020-12-10', '--end', '2020-12-01'], says: 'start must be at or before end' },
    { args: ['get', 'BTCUSDT', '1h', '--start', '2021-01-01'], says: 'is in the future' },
    { args: ['get', 'BTCUSDT', '1h', '--market', 'margin', '--start', '2020-01-01'], says: 'Allowed choices are spot, um, cm' },
    { args: ['get', 'BTCUSDT', '1h', '--start', '2020-12-01', '--format', 'parquet'], says: 'give --out FILE' },
  ])('bad input $args exits 2 and says what is accepted', async ({ args, says }) => {
    const result = await klines(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(says);
    expect(result.stdout).toBe('');
    expect(fake.requests).toEqual([]);
  });

  it('a symbol Binance does not have exits 2 naming the range and Binance\'s message', async () => {
    const result = await klines(['get', 'NOSUCHPAIR', '1h', '--start', '2020-12-14T00:00:00Z', '--end', '2020-12-14T05:00:00Z']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('-1121');
    expect(result.stderr).toContain('2020-12-14T00:00:00.000Z');
  });

  it('two processes filling the same range at once both answer exactly, and the cache holds each row once', async () => {
    const args = ['get', 'BTCUSDT', '1h', '--start', '2020-09-01', '--end', '2020-12-15T09:00:00Z'];
    const [a, b] = await Promise.all([klines(args), klines(['get', 'BTCUSDT', '1h', '--start', '2020-10-15', '--end', '2020-12-15T09:00:00Z'])]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.stdout).toBe(expectedCsv('2020-09-01', '2020-12-15T09:00:00Z'));
    expect(b.stdout).toBe(expectedCsv('2020-10-15', '2020-12-15T09:00:00Z'));
    fake.clearRequests();
    const after = await klines(args);
    expect(fake.requests).toEqual([]);
    expect(after.stdout).toBe(a.stdout);
  });
});
