/**
 * A long answer (more candles than `KLINES_MAX_INLINE_ROWS`, here 1,000) keeps the deadline
 * contract of issue 11 on the streamed path (prepare-stream.ts): on the local default without a
 * queue, with Vision slowed, GET /klines answers 202 before the deadline with the fill going on
 * in-process, and once the cache covers the request the same request answers 200 with the exact
 * rows, streamed from the cache into the result.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Range } from '../../lib/domain/ranges.ts';
import { httpApiEvent, lambdaContext } from '../helpers/api-gateway.ts';
import { prepareFsBackend, type PreparedBackend } from '../helpers/backends.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';

type Handler = (event: unknown, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;
const NOW = '2020-12-15T10:30:00Z';
const t = (iso: string): number => Date.parse(iso);
const QUERY = { symbol: 'BTCUSDT', interval: '1h', start: '2017-08-01', end: '2020-12-15T09:00:00Z' };
const REQUESTED: Range = { startMs: t('2017-08-01'), endMs: t('2020-12-15T09:00:00Z') + 1 };
const REMAINING_MS = 6_000;

let fake: FakeBinance;
let backend: PreparedBackend;
let klines: Handler;
let coverage: Handler;
let settleFills: (() => Promise<void>) | undefined;
const saved = { ...process.env };

beforeAll(async () => {
  fake = await startFakeBinance({ nowMs: t(NOW) });
  backend = await prepareFsBackend();
  Object.assign(process.env, backend.env, {
    KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl, BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
    POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true', KLINES_ANSWER_MARGIN_MS: '4000', KLINES_MAX_INLINE_ROWS: '1000',
  });
  vi.resetModules();
  klines = ((await import('../../functions/http-get-klines.ts')) as unknown as { handler: Handler }).handler;
  coverage = ((await import('../../functions/http-get-coverage.ts')) as unknown as { handler: Handler }).handler;
  settleFills = (await import('../../functions/shared/fill-within-deadline.ts')).settleFills;
});
afterAll(async () => {
  process.env = saved;
  // The 202 left its fill going on in this process: let it finish writing before the cache goes.
  await settleFills?.();
  await backend?.cleanup();
  await fake?.close();
});

const json = (response: APIGatewayProxyStructuredResultV2): any => JSON.parse(response.body!);

describe('GET /klines, a long answer under the deadline (no queue)', () => {
  it('answers 202 with the fill going on in-process, then 200 with the exact rows streamed from the cache', async () => {
    fake.inject('/data/spot/monthly/klines/BTCUSDT/1h/', { kind: 'delay', ms: 1_000 }, 40);
    const startedMs = performance.now();
    const first = await klines(httpApiEvent('/klines', QUERY), lambdaContext('klines-http-get-klines', REMAINING_MS));
    expect(performance.now() - startedMs).toBeLessThan(REMAINING_MS);
    expect(first.statusCode).toBe(202);
    expect(json(first)).toMatchObject({ status: 'accepted', continuation: 'in-process', queuedMessages: 0 });
    expect(json(first).remaining.length).toBeGreaterThan(0);

    await vi.waitFor(async () => {
      const held = json(await coverage(httpApiEvent('/coverage', { symbol: 'BTCUSDT', interval: '1h' }), lambdaContext('klines-http-get-coverage')));
      expect(held.covered.some((c: Range) => c.startMs <= REQUESTED.startMs && c.endMs >= REQUESTED.endMs)).toBe(true);
    }, { timeout: 60_000, interval: 500 });
    fake.clearRequests();
    const done = await klines(httpApiEvent('/klines', QUERY), lambdaContext());
    expect(done.statusCode).toBe(200);
    const expected = expectedKlines('spot', 'BTCUSDT', '1h', REQUESTED.startMs, REQUESTED.endMs - 1);
    expect(done.headers).toMatchObject({ 'x-klines-rows': String(expected.length), 'x-klines-rows-from-cache': String(expected.length) });
    expect(JSON.parse(await readFile(fileURLToPath(json(done).url), 'utf8'))).toEqual(expected);
    expect(fake.requests).toEqual([]);
  }, 90_000);
});
