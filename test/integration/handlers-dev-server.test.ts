/**
 * `npm run dev`'s server: real HTTP requests on 127.0.0.1 reach the handlers through the API
 * Gateway v2 adapter, on the local default with the fake Binance.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeKlines } from '../../lib/store/parquet-codec.ts';
import { curlExamples, startDevServer, type DevServer } from '../../scripts/dev-server.ts';
import { prepareFsBackend, type PreparedBackend } from '../helpers/backends.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';

const NOW = '2020-12-15T10:30:00Z';
const t = (iso: string): number => Date.parse(iso);
let fake: FakeBinance;
let backend: PreparedBackend;
let server: DevServer;

beforeAll(async () => {
  fake = await startFakeBinance({ nowMs: t(NOW) });
  backend = await prepareFsBackend();
  Object.assign(process.env, backend.env, {
    KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl, BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
    POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true',
  });
  vi.resetModules();
  server = await startDevServer({ port: 0 });
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
  await backend?.cleanup();
});

describe('npm run dev', () => {
  it('serves GET /klines inline and as a file:// URL for parquet, and GET /coverage', async () => {
    const small = await fetch(`${server.url}/klines?symbol=BTCUSDT&interval=1h&start=2020-12-01&end=2020-12-01T05:00:00Z`);
    expect(small.status).toBe(200);
    expect(small.headers.get('content-type')).toBe('application/json');
    expect(await small.json()).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-01'), t('2020-12-01T05:00:00Z')));

    const parquet: any = await (await fetch(`${server.url}/klines?symbol=BTCUSDT&interval=1h&start=2020-12-01&end=2020-12-01T05:00:00Z&format=parquet`)).json();
    expect(parquet).toMatchObject({ rows: 6, format: 'parquet', url: expect.stringMatching(/^file:\/\//) });
    expect(await decodeKlines(new Uint8Array(await readFile(fileURLToPath(parquet.url))))).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-01'), t('2020-12-01T05:00:00Z')));

    const coverage: any = await (await fetch(`${server.url}/coverage?symbol=BTCUSDT&interval=1h`)).json();
    // Six hours of a published day come from the day's whole file, which covers the whole day (issue 8).
    expect(coverage.covered).toEqual([{ startMs: t('2020-12-01'), endMs: t('2020-12-02'), start: '2020-12-01T00:00:00.000Z', end: '2020-12-02T00:00:00.000Z' }]);
  });

  it('answers 400 explained, and 404 for an unknown route', async () => {
    const bad = await fetch(`${server.url}/klines?symbol=BTCUSDT&interval=7m&start=2020-12-01`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe('INVALID_INPUT');
    const missing = await fetch(`${server.url}/candles`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('GET /candles') });
  });

  it('prints curl examples that use its address', () => {
    expect(curlExamples(server.url)).toContain(`curl '${server.url}/klines?symbol=BTCUSDT`);
  });
});
