/**
 * `data_type` on the handlers (issue 10, item 5): GET /klines and the invoke function answer a
 * mark-price and a funding-rate request from the fake Binance's synthetic files on the local
 * default, and answer them again from the cache alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { httpApiEvent, lambdaContext } from '../helpers/api-gateway.ts';
import { prepareFsBackend, type PreparedBackend } from '../helpers/backends.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { realDataDir } from '../helpers/real-data.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const NOW = '2024-02-04T12:00:00Z';
let fake: FakeBinance;
let backend: PreparedBackend;

async function coldStart(module: () => Promise<unknown>): Promise<Handler> {
  const saved = { ...process.env };
  Object.assign(process.env, {
    KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl, POWERTOOLS_LOG_LEVEL: 'WARN', ...backend.env,
  });
  vi.resetModules();
  try {
    return ((await module()) as { handler: Handler }).handler;
  } finally {
    process.env = saved;
  }
}

beforeAll(async () => {
  fake = await startFakeBinance({ nowMs: Date.parse(NOW) });
  backend = await prepareFsBackend();
});
afterAll(async () => {
  await backend?.cleanup();
  await fake?.close();
});

describe('data_type on the handlers', () => {
  it('GET /klines data_type=markPriceKlines answers the fake rows, then from the cache alone', async () => {
    const klines = await coldStart(() => import('../../functions/http-get-klines.ts'));
    const query = { market: 'um', symbol: 'BTCUSDT', interval: '1h', start: '2024-02-01T00:00:00Z', end: '2024-02-01T23:00:00Z', data_type: 'markPriceKlines' };
    const response = await klines(httpApiEvent('/klines', query), lambdaContext()) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(200);
    const rows = JSON.parse(String(response.body)) as { open_time: number; close: number }[];
    expect(rows).toHaveLength(24);
    expect(fake.requests.some((r) => r.path.includes('/daily/markPriceKlines/BTCUSDT/1h/BTCUSDT-1h-2024-02-01.zip'))).toBe(true);
    fake.clearRequests();
    const again = await klines(httpApiEvent('/klines', query), lambdaContext()) as APIGatewayProxyStructuredResultV2;
    expect(JSON.parse(String(again.body))).toEqual(rows);
    expect(fake.requests).toEqual([]);
    const bad = await klines(httpApiEvent('/klines', { ...query, market: 'spot' }), lambdaContext()) as APIGatewayProxyStructuredResultV2;
    expect(bad.statusCode).toBe(400);
    expect(String(bad.body)).toContain('um and cm only');
  });

  it('GET /klines and invoke with fundingRate (no interval) answer the events, NaN as null / empty', async () => {
    const klines = await coldStart(() => import('../../functions/http-get-klines.ts'));
    const query = { market: 'um', symbol: 'BTCUSDT', start: '2024-02-01T00:00:00Z', data_type: 'fundingRate', format: 'csv' };
    const response = await klines(httpApiEvent('/klines', query), lambdaContext()) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('text/csv; charset=utf-8'); // as the klines' CSV
    const events = (JSON.parse(readFileSync(join(realDataDir(), 'synthetic/rest/fapi-v1-fundingRate-BTCUSDT.json'), 'utf8')) as { fundingTime: number; fundingRate: string; markPrice: string }[])
      .filter((e) => e.fundingTime >= Date.parse('2024-02-01') && e.fundingTime <= Date.parse(NOW));
    expect(response.body).toBe(`${['calc_time,funding_interval_hours,last_funding_rate,mark_price', ...events.map((e) => `${e.fundingTime},,${Number(e.fundingRate)},${Number(e.markPrice)}`)].join('\n')}\n`);

    fake.clearRequests();
    const invoke = await coldStart(() => import('../../functions/invoke-get-klines.ts'));
    const result = await invoke({ market: 'um', symbol: 'BTCUSDT', start: '2024-02-01T00:00:00Z', dataType: 'fundingRate' }, lambdaContext('klines-invoke')) as { ok: boolean; rows: unknown[] };
    expect(result.ok).toBe(true);
    expect(result.rows).toEqual(events.map((e) => ({ calc_time: e.fundingTime, funding_interval_hours: null, last_funding_rate: Number(e.fundingRate), mark_price: Number(e.markPrice) })));
    expect(fake.requests).toEqual([]);
  });

  it('GET /coverage takes data_type: a mark-price and a funding-rate dataset each report their own id and rows; fundingRate refuses an interval', async () => {
    const klines = await coldStart(() => import('../../functions/http-get-klines.ts'));
    const coverage = await coldStart(() => import('../../functions/http-get-coverage.ts'));
    const mark = { market: 'um', symbol: 'BTCUSDT', interval: '1h', start: '2024-02-02T00:00:00Z', end: '2024-02-02T23:00:00Z', data_type: 'markPriceKlines' };
    const markRows = JSON.parse(String(((await klines(httpApiEvent('/klines', mark), lambdaContext())) as APIGatewayProxyStructuredResultV2).body)) as unknown[];
    const funding = { market: 'um', symbol: 'BTCUSDT', start: '2024-02-01T00:00:00Z', data_type: 'fundingRate' };
    const events = JSON.parse(String(((await klines(httpApiEvent('/klines', funding), lambdaContext())) as APIGatewayProxyStructuredResultV2).body)) as unknown[];
    expect(markRows).toHaveLength(24);
    expect(events.length).toBeGreaterThan(0);

    const ask = async (query: Record<string, string>) => {
      const response = await coverage(httpApiEvent('/coverage', query), lambdaContext('klines-http-get-coverage')) as APIGatewayProxyStructuredResultV2;
      return { status: response.statusCode, body: JSON.parse(String(response.body)) };
    };
    const markCoverage = await ask({ market: 'um', symbol: 'BTCUSDT', interval: '1h', data_type: 'markPriceKlines' });
    expect(markCoverage.status).toBe(200);
    expect(markCoverage.body).toMatchObject({ datasetId: 'binance/um/markPriceKlines/BTCUSDT/1h', dataType: 'markPriceKlines', interval: '1h' });
    expect(markCoverage.body.rows).toBeGreaterThanOrEqual(markRows.length);
    const fundingCoverage = await ask({ market: 'um', symbol: 'BTCUSDT', data_type: 'fundingRate' });
    expect(fundingCoverage.status).toBe(200);
    expect(fundingCoverage.body).toMatchObject({ datasetId: 'binance/um/fundingRate/BTCUSDT', dataType: 'fundingRate', granularity: 'monthly' });
    expect(fundingCoverage.body.interval).toBeUndefined();
    expect(fundingCoverage.body.rows).toBeGreaterThanOrEqual(events.length);
    // The klines dataset of the same symbol is another dataset: nothing of it was fetched here.
    expect((await ask({ market: 'um', symbol: 'BTCUSDT', interval: '1h' })).body).toMatchObject({ datasetId: 'binance/um/klines/BTCUSDT/1h', rows: 0 });
    const withInterval = await ask({ market: 'um', symbol: 'BTCUSDT', interval: '1h', data_type: 'fundingRate' });
    expect(withInterval.status).toBe(400);
    expect(withInterval.body.error.message).toContain('no interval');
    const spot = await ask({ market: 'spot', symbol: 'BTCUSDT', interval: '1h', data_type: 'markPriceKlines' });
    expect(spot.status).toBe(400);
    expect(spot.body.error.message).toContain('um and cm only');
  });

  it('the scheduled refresh keeps a fundingRate and a markPriceKlines watchlist entry fresh; a rerun asks nothing; the worker takes a funding message', async () => {
    const fresh = await prepareFsBackend();
    const watchlist = JSON.stringify([
      { market: 'um', symbol: 'BTCUSDT', data_type: 'fundingRate', since: '2024-01-01' },
      { market: 'um', symbols: ['BTCUSDT'], intervals: ['1h'], data_type: 'markPriceKlines', since: '2024-02-01' },
    ]);
    const saved = backend;
    backend = { ...fresh, env: { ...fresh.env, KLINES_WATCHLIST: watchlist, POWERTOOLS_METRICS_DISABLED: 'true' } };
    try {
      fake.clearRequests();
      const cron = await coldStart(() => import('../../functions/cron-refresh.ts'));
      const first = await cron({ time: NOW, resources: [] }, lambdaContext('klines-cron-refresh')) as { results: { datasetId: string; rowsAppended: number; upToDate: boolean }[] };
      expect(first.results.map((r) => [r.datasetId, r.rowsAppended, r.upToDate])).toEqual([
        ['binance/um/fundingRate/BTCUSDT', 93 + 11, false],
        ['binance/um/markPriceKlines/BTCUSDT/1h', 3 * 24 + 12, false],
      ]);
      fake.clearRequests();
      const rerun = await cron({ time: NOW, resources: [] }, lambdaContext('klines-cron-refresh')) as { results: { upToDate: boolean }[] };
      expect(rerun.results.every((r) => r.upToDate)).toBe(true);
      expect(fake.requests).toEqual([]);
      const worker = await coldStart(() => import('../../functions/sqs-refresh-dataset.ts'));
      const body = JSON.stringify({ market: 'um', symbol: 'BTCUSDT', dataType: 'fundingRate' });
      expect(await worker({ Records: [{ messageId: 'm1', body }] }, lambdaContext('klines-sqs-refresh'))).toEqual({ batchItemFailures: [] });
      expect(fake.requests).toEqual([]);
    } finally {
      backend = saved;
      await fresh.cleanup();
    }
  });
});
