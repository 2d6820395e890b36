/**
 * `klines` facing the common mistakes of issue 7 and Binance's HTTP 451, as a user runs it: the
 * built bin in a child process against the fake Binance serving the real files.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { expectedBtc1hCsv, runKlines } from '../helpers/run-klines.ts';

const NOW = '2020-12-15T10:30:00Z';
const BIN = resolve(import.meta.dirname, '../../bin/klines.mjs');
/** Binance's real 451 body (Binance API docs, "General API Information"). */
const RESTRICTED_BODY = '{"code":0,"msg":"Service unavailable from a restricted location according to \'b. Eligibility\' in https://www.binance.com/en/terms. Please contact customer service if you believe you received this message in error."}';

let fake: FakeBinance;
let cacheDir: string;
const klines = (args: string[]) => runKlines(fake, NOW, { KLINES_CACHE_DIR: cacheDir }, args);

beforeAll(async () => {
  fake = await startFakeBinance({ nowMs: Date.parse(NOW) });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'klines-mistakes-'));
  fake.clearRequests();
  return () => rm(cacheDir, { recursive: true, force: true });
});

describe('HTTP 451 (restricted location)', () => {
  it('from REST: exit 1 with UPSTREAM_RESTRICTED naming the host, asked once; the range is fetched by the next run', async () => {
    fake.inject('/api/v3/klines', { kind: 'status', status: 451, body: RESTRICTED_BODY });
    const args = ['get', 'BTCUSDT', '1h', '--start', '2020-12-14T00:00:00Z', '--end', '2020-12-14T05:00:00Z'];
    const refused = await klines(args);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('klines: UPSTREAM_RESTRICTED: ');
    expect(refused.stderr).toContain(`HTTP 451 from ${new URL(fake.spotApiUrl).host}`);
    expect(refused.stderr).toContain('BINANCE_SPOT_API_URL=https://data-api.binance.vision');
    expect(fake.requests.map((r) => `${r.kind} ${r.status}`)).toEqual(['rest 451']);

    fake.clearRequests();
    const later = await klines(args);
    expect(later.code).toBe(0);
    expect(later.stdout).toBe(expectedBtc1hCsv('2020-12-14T00:00:00Z', '2020-12-14T05:00:00Z'));
    expect(fake.requests.map((r) => `${r.kind} ${r.status}`)).toEqual(['rest 200']);
  });

  it('from Vision: exit 1 with UPSTREAM_RESTRICTED, nothing recorded as covered, the next run fetches the month', async () => {
    fake.inject('/data/spot/monthly/klines/BTCUSDT/1h/', { kind: 'status', status: 451, body: RESTRICTED_BODY });
    const args = ['get', 'BTCUSDT', '1h', '--start', '2020-10-01', '--end', '2020-10-31T23:00:00Z', '--source', 'vision'];
    const refused = await klines(args);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('klines: UPSTREAM_RESTRICTED: ');
    expect(refused.stderr).toContain(`HTTP 451 from ${new URL(fake.visionUrl).host}`);
    // The CHECKSUM is asked first; after its 451 nothing else is asked (no retry, no REST with --source vision).
    expect(fake.requests.map((r) => `${r.kind} ${r.status}`)).toEqual(['vision-checksum 451']);

    fake.clearRequests();
    const later = await klines(args);
    expect(later.code).toBe(0);
    expect(later.stdout).toBe(expectedBtc1hCsv('2020-10-01', '2020-10-31T23:00:00Z'));
    expect(fake.requests.filter((r) => r.kind === 'vision-zip').map((r) => r.status)).toEqual([200]);
  });
});

describe('common mistakes', () => {
  it('--start in epoch seconds exits 2 at once suggesting milliseconds, asking Binance nothing', async () => {
    const result = await klines(['get', 'BTCUSDT', '1h', '--start', '1606780800']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('start: 1606780800 is too small for epoch milliseconds');
    expect(result.stderr).toContain('e.g. 1606780800000');
    expect(fake.requests).toEqual([]);
  });

  it('--out into a missing folder exits 2 naming it, asking Binance nothing', async () => {
    const out = join(cacheDir, 'no-such-folder', 'a.csv');
    const result = await klines(['get', 'BTCUSDT', '1h', '--start', '2020-12-01', '--out', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--out: the folder ${join(cacheDir, 'no-such-folder')} does not exist`);
    expect(result.stderr).not.toContain('unexpected');
    expect(fake.requests).toEqual([]);
  });

  it('--version prints the version of package.json', async () => {
    const result = await klines(['--version']);
    const { version } = JSON.parse(await readFile(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('a reader that closes the pipe early (klines get … | head) ends it quietly with exit 0', async () => {
    const env = {
      PATH: process.env.PATH, KLINES_CACHE_DIR: cacheDir, KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl,
      BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
    };
    // Three years of 1h is about 2.7 MB of CSV, far more than a pipe buffers.
    const child = spawn(process.execPath, [BIN, 'get', 'BTCUSDT', '1h', '--start', '2017-09-01', '--end', '2020-11-30T23:00:00Z'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const firstChunk = await new Promise<string>((resolveChunk) => child.stdout.once('data', (chunk: Buffer) => resolveChunk(chunk.toString())));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolveCode) => child.once('close', (exitCode) => resolveCode(exitCode)));
    expect(firstChunk.startsWith('open_time,open,high')).toBe(true);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
