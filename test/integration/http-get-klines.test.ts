/**
 * The HTTP handler with real API Gateway v2 events against the local default and the fake Binance.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KLINE_COLUMNS } from '../../lib/domain/kline.ts';
import { httpApiEvent, lambdaContext } from '../helpers/api-gateway.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';

const NOW = '2020-12-15T10:30:00Z';
/** Binance's real 451 body (Binance API docs, "General API Information"). */
const RESTRICTED_BODY = '{"code":0,"msg":"Service unavailable from a restricted location according to \'b. Eligibility\' in https://www.binance.com/en/terms. Please contact customer service if you believe you received this message in error."}';
const t = (iso: string): number => Date.parse(iso);
let fake: FakeBinance;
let cacheDir: string;
let handler: (event: unknown, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

beforeAll(async () => {
  fake = await startFakeBinance({ nowMs: t(NOW) });
  cacheDir = await mkdtemp(join(tmpdir(), 'klines-http-'));
  // The handler reads its configuration once, at cold start, like a Lambda container.
  Object.assign(process.env, {
    KLINES_CACHE_DIR: cacheDir, KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl,
    BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
  });
  ({ handler } = (await import('../../functions/http-get-klines.ts')) as unknown as { handler: typeof handler });
});
afterAll(async () => {
  await fake.close();
  await rm(cacheDir, { recursive: true, force: true });
});
beforeEach(() => fake.clearRequests());

const invoke = (query: Record<string, string>) => handler(httpApiEvent('/klines', query), lambdaContext());

describe('GET /klines', () => {
  it('200 with the exact rows as JSON, then the same answer from the cache', async () => {
    const query = { market: 'spot', symbol: 'BTCUSDT', interval: '1h', start: '2020-12-01T00:00:00Z', end: '2020-12-15T09:00:00Z' };
    const cold = await invoke(query);
    expect(cold.statusCode).toBe(200);
    expect(cold.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(cold.body!)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-01'), t('2020-12-15T09:00:00Z')));
    fake.clearRequests();
    const warm = await invoke(query);
    expect(warm.body).toBe(cold.body);
    expect(warm.headers?.['x-klines-rows-from-cache']).toBe(String(JSON.parse(cold.body!).length));
    expect(fake.requests).toEqual([]);
  });

  it('200 with CSV and a source column', async () => {
    const response = await invoke({ symbol: 'BTCUSDT', interval: '1h', start: '2020-11-30T00:00:00Z', end: '2020-11-30T01:00:00Z', format: 'csv', with_source: 'true' });
    expect(response.statusCode).toBe(200);
    const lines = response.body!.trim().split('\n');
    expect(lines[0]).toBe([...KLINE_COLUMNS, 'source'].join(','));
    expect(lines).toHaveLength(3);
    // Two hours of a published month come from the whole monthly file (issue 8, whole files).
    expect(lines[1]!.endsWith(',vision')).toBe(true);
  });

  it.each<{ query: Record<string, string>; says: string }>([
    { query: { interval: '1h', start: '2020-12-01' }, says: 'symbol is required' },
    { query: { symbol: 'BTCUSDT', interval: '7m', start: '2020-12-01' }, says: 'not a Binance interval' },
    { query: { symbol: 'BTCUSDT', interval: '1h', start: '2020-12-01', format: 'xml' }, says: 'format must be json or csv' },
    { query: { symbol: 'BTCUSDT', interval: '1h', start: '2020-12-10', end: '2020-12-01' }, says: 'start must be at or before end' },
    { query: { symbol: '../etc', interval: '1h', start: '2020-12-01' }, says: 'is not a symbol' },
    { query: { symbol: 'BTCUSDT', interval: '1h', start: '1606780800' }, says: 'give epoch milliseconds (e.g. 1606780800000)' },
  ])('400 with {error:{code,message}} for $query', async ({ query, says }) => {
    const response = await invoke(query);
    expect(response.statusCode).toBe(400);
    const body = JSON.parse(response.body!);
    expect(body.error.code).toBe('INVALID_INPUT');
    expect(body.error.message).toContain(says);
    expect(fake.requests).toEqual([]);
  });

  it('404 naming the range for a symbol Binance does not have', async () => {
    const response = await invoke({ symbol: 'NOSUCHPAIR', interval: '1h', start: '2020-12-14T00:00:00Z', end: '2020-12-14T05:00:00Z' });
    expect(response.statusCode).toBe(404);
    const body = JSON.parse(response.body!);
    expect(body.error.code).toBe('UNKNOWN_SYMBOL');
    expect(body.error.message).toContain('-1121');
    expect(body.error.ranges).toEqual([{ startMs: t('2020-12-14T00:00:00Z'), endMs: t('2020-12-14T06:00:00Z') }]);
  });

  it('502 naming the failed range when an upstream fails', async () => {
    fake.inject('/api/v3/klines', { kind: 'status', status: 400, body: '{"code":-1100,"msg":"Illegal characters found in a parameter."}' });
    const response = await invoke({ symbol: 'ETHBTC', interval: '1h', start: '2020-12-14T00:00:00Z', end: '2020-12-14T05:00:00Z' });
    expect(response.statusCode).toBe(502);
    const body = JSON.parse(response.body!);
    expect(body.error.code).toBe('UPSTREAM_REJECTED');
    expect(body.error.message).toContain('-1100');
    expect(body.error.ranges).toEqual([{ startMs: t('2020-12-14T00:00:00Z'), endMs: t('2020-12-14T06:00:00Z') }]);
  });

  it('502 UPSTREAM_RESTRICTED for an HTTP 451, naming the host and the fix, asked once', async () => {
    fake.inject('/api/v3/klines', { kind: 'status', status: 451, body: RESTRICTED_BODY });
    const response = await invoke({ symbol: 'ETHBTC', interval: '1h', start: '2020-12-14T00:00:00Z', end: '2020-12-14T05:00:00Z' });
    expect(response.statusCode).toBe(502);
    const body = JSON.parse(response.body!);
    expect(body.error.code).toBe('UPSTREAM_RESTRICTED');
    expect(body.error.message).toContain(`HTTP 451 from ${new URL(fake.spotApiUrl).host}`);
    expect(body.error.message).toContain('BINANCE_SPOT_API_URL=https://data-api.binance.vision');
    expect(fake.requests.map((r) => r.status)).toEqual([451]);
  });

});
