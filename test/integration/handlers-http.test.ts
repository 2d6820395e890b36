/**
 * The HTTP handlers (GET /klines, GET /coverage) with real API Gateway v2 events, against the
 * fake Binance and both backends: the local default (results as file:// URLs) and S3 + DynamoDB
 * on s3rver and dynalite (results by presigned URL, fetched back from s3rver). Also the
 * Powertools output: a JSON log line with the request id and EMF metrics per request.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { KLINE_COLUMNS } from '../../lib/domain/kline.ts';
import { decodeKlines } from '../../lib/store/parquet-codec.ts';
import { httpApiEvent, lambdaContext } from '../helpers/api-gateway.ts';
import { prepareAwsBackend, prepareFsBackend, type PreparedBackend } from '../helpers/backends.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { startLocalAws, type LocalAws } from '../helpers/local-aws.ts';

type HttpHandler = (event: unknown, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;
const NOW = '2020-12-15T10:30:00Z';
const t = (iso: string): number => Date.parse(iso);
const MODULES = {
  klines: () => import('../../functions/http-get-klines.ts'),
  coverage: () => import('../../functions/http-get-coverage.ts'),
  datasets: () => import('../../functions/http-get-datasets.ts'),
};

let fake: FakeBinance;
let aws: LocalAws;
const backends: PreparedBackend[] = [];

/** Imports a handler as a fresh Lambda container would: module state rebuilt from `env` at load. */
async function coldStart(name: keyof typeof MODULES, env: Record<string, string>): Promise<HttpHandler> {
  const saved = { ...process.env };
  Object.assign(process.env, {
    KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl, BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
    POWERTOOLS_LOG_LEVEL: 'WARN', ...env,
  });
  vi.resetModules();
  try {
    return ((await MODULES[name]()) as unknown as { handler: HttpHandler }).handler;
  } finally {
    process.env = { ...saved, ...aws.env };
  }
}

beforeAll(async () => {
  [fake, aws] = await Promise.all([startFakeBinance({ nowMs: t(NOW) }), startLocalAws()]);
  // The SDK resolves credentials lazily, at the first call, from the environment (as in Lambda).
  Object.assign(process.env, aws.env);
});
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
  await Promise.all([fake?.close(), aws?.close()]);
});
beforeEach(() => fake.clearRequests());

const NOVEMBER = { symbol: 'BTCUSDT', interval: '1h', start: '2020-11-01T00:00:00Z', end: '2020-11-30T23:00:00Z' };
const novemberRows = () => expectedKlines('spot', 'BTCUSDT', '1h', t('2020-11-01'), t('2020-11-30T23:00:00Z'));
const json = (response: APIGatewayProxyStructuredResultV2): any => JSON.parse(response.body!);

describe('on the local default', () => {
  let klines: HttpHandler;
  let coverage: HttpHandler;
  let datasets: HttpHandler;
  beforeAll(async () => {
    const backend = await prepareFsBackend();
    backends.push(backend);
    klines = await coldStart('klines', backend.env);
    coverage = await coldStart('coverage', backend.env);
    datasets = await coldStart('datasets', backend.env);
  });

  it('answers format=parquet with a file:// URL whose Parquet decodes to the exact rows', async () => {
    const response = await klines(httpApiEvent('/klines', { ...NOVEMBER, format: 'parquet' }), lambdaContext());
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body).toMatchObject({ rows: novemberRows().length, format: 'parquet' });
    expect(body.url).toMatch(/^file:\/\/.*_results\/2020-12-15\/[0-9a-f-]{36}\.parquet$/);
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
    expect(await decodeKlines(new Uint8Array(await readFile(fileURLToPath(body.url))))).toEqual(novemberRows());
  });

  it('GET /coverage lists the covered ranges (ISO and ms), row counts and sources of what was fetched', async () => {
    await klines(httpApiEvent('/klines', { symbol: 'BTCUSDT', interval: '1h', start: '2020-12-01', end: '2020-12-15T09:00:00Z' }), lambdaContext());
    const response = await coverage(httpApiEvent('/coverage', { market: 'spot', symbol: 'BTCUSDT', interval: '1h' }), lambdaContext('klines-http-get-coverage'));
    expect(response.statusCode).toBe(200);
    const body = json(response);
    const december = expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-01'), t('2020-12-15T09:00:00Z'));
    // November (fetched by the test before) and December touch, so they merge into one range.
    expect(body.covered).toEqual([
      { startMs: t('2020-11-01'), endMs: t('2020-12-15T10:00:00Z'), start: '2020-11-01T00:00:00.000Z', end: '2020-12-15T10:00:00.000Z' },
    ]);
    expect(body.rows).toBe(novemberRows().length + december.length);
    expect(body.periods.map((p: { period: string }) => p.period)).toEqual(['2020-11', '2020-12']);
    const [november, decemberPeriod] = body.periods;
    expect(november).toMatchObject({ rows: novemberRows().length, sources: ['vision'], compacted: true, parts: 0 });
    expect(decemberPeriod.rows).toBe(december.length);
    expect(decemberPeriod.sources).toEqual(['rest', 'vision']);
  });

  it('GET /coverage of a dataset never fetched is 200 with empty lists; a bad interval is 400', async () => {
    const empty = await coverage(httpApiEvent('/coverage', { market: 'um', symbol: 'ETHUSDT', interval: '1h' }), lambdaContext());
    expect(empty.statusCode).toBe(200);
    expect(json(empty)).toMatchObject({ datasetId: expect.stringContaining('ETHUSDT'), covered: [], rows: 0, periods: [] });
    const bad = await coverage(httpApiEvent('/coverage', { symbol: 'BTCUSDT', interval: '7m' }), lambdaContext());
    expect(bad.statusCode).toBe(400);
    expect(json(bad).error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('not a Binance interval') });
  });

  it('GET /datasets lists what is cached with its first and last open_time, from the index alone; days= works on GET /klines', async () => {
    const lastDay = await klines(httpApiEvent('/klines', { symbol: 'BTCUSDT', interval: '1h', days: '1' }), lambdaContext());
    expect(json(lastDay)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-14T10:00:00Z'), t('2020-12-15T09:00:00Z')));
    const response = await datasets(httpApiEvent('/datasets', { market: 'spot' }), lambdaContext('klines-http-get-datasets'));
    expect(response.statusCode).toBe(200);
    const [btc, ...others] = json(response).datasets;
    expect(others).toEqual([]);
    const first = Math.min(t('2020-11-01'), ...novemberRows().map((row) => row.open_time));
    expect(btc).toMatchObject({
      datasetId: 'binance/spot/klines/BTCUSDT/1h', market: 'spot', dataType: 'klines', symbol: 'BTCUSDT', interval: '1h',
      firstOpenMs: first, lastOpenMs: t('2020-12-15T09:00:00Z'), last: '2020-12-15T09:00:00.000Z', sources: ['rest', 'vision'], neverFetched: [],
    });
    expect(json(await datasets(httpApiEvent('/datasets', { market: 'um' }), lambdaContext())).datasets).toEqual([]);
    const bad = await datasets(httpApiEvent('/datasets', { market: 'spot', data_type: 'fundingRate' }), lambdaContext());
    expect(bad.statusCode).toBe(400);
    expect(json(bad).error.message).toContain('um and cm only');
  });

  it('logs JSON with the request id and emits EMF metrics for each request', async () => {
    const served = await captureStdout(() => klines(httpApiEvent('/klines', NOVEMBER), { ...lambdaContext(), awsRequestId: 'req-obs-1' }));
    const emf = served.find((r) => r._aws && 'RowsServed' in r);
    expect(emf).toMatchObject({ RowsServed: novemberRows().length, CacheHit: 1, CacheHitRatio: 100, UpstreamRequests: 0, UpstreamWeight: 0, LargeAnswers: 0, service: 'klines-cache' });
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('KlinesCache');
    expect(typeof emf.Duration).toBe('number');

    const failed = await captureStdout(() => klines(httpApiEvent('/klines', { symbol: 'BTCUSDT', interval: '1h', start: 'yesterday' }), { ...lambdaContext(), awsRequestId: 'req-obs-2' }));
    expect(failed.find((r) => r.level === 'WARN')).toMatchObject({
      message: 'request failed', function_request_id: 'req-obs-2', service: 'klines-cache', status: 400, code: 'INVALID_INPUT',
    });
    expect(failed.find((r) => r._aws)).toMatchObject({ Errors: 1 });
  });
});

/** The JSON lines a call writes to stdout and stderr (Powertools writes logs and EMF there). */
async function captureStdout(action: () => Promise<unknown>): Promise<any[]> {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => (chunks.push(String(chunk)), true);
  const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(capture), vi.spyOn(process.stderr, 'write').mockImplementation(capture)];
  try {
    await action();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return chunks.join('').split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
}

describe('on S3 and DynamoDB (s3rver, dynalite)', () => {
  let klines: HttpHandler;
  let bucket: string;
  beforeAll(async () => {
    const backend = await prepareAwsBackend(aws);
    backends.push(backend);
    bucket = /^s3:\/\/([^/]+)/.exec(backend.env.KLINES_STORE!)![1]!;
    klines = await coldStart('klines', { ...backend.env, KLINES_INLINE_LIMIT_BYTES: '20000' });
  });

  it('sends an answer over the inline limit by presigned URL; fetching it from s3rver gives the exact rows', async () => {
    const response = await klines(httpApiEvent('/klines', NOVEMBER), lambdaContext());
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body).toMatchObject({ rows: novemberRows().length, format: 'json' });
    const url = new URL(body.url);
    expect(url.origin).toBe(aws.s3Endpoint);
    expect(url.pathname).toMatch(new RegExp(`^/${bucket}/results/2020-12-15/[0-9a-f-]{36}\\.json$`));
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    const fetched = await fetch(body.url);
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toEqual(novemberRows());
  });

  it('answers a small request inline, and the second time from the cache alone', async () => {
    const query = { symbol: 'BTCUSDT', interval: '1h', start: '2020-11-02T00:00:00Z', end: '2020-11-02T03:00:00Z' };
    const response = await klines(httpApiEvent('/klines', query), lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['x-klines-rows-from-cache']).toBe('4');
    expect(json(response)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2020-11-02'), t('2020-11-02T03:00:00Z')));
    expect(fake.requests).toEqual([]);
  });

  it('answers parquet by presigned URL even when small, and CSV over the limit by URL too', async () => {
    const parquet = json(await klines(httpApiEvent('/klines', { ...NOVEMBER, end: '2020-11-01T01:00:00Z', format: 'parquet' }), lambdaContext()));
    expect(parquet).toMatchObject({ rows: 2, format: 'parquet' });
    const bytes = new Uint8Array(await (await fetch(parquet.url)).arrayBuffer());
    expect(await decodeKlines(bytes)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2020-11-01'), t('2020-11-01T01:00:00Z')));

    const csv = json(await klines(httpApiEvent('/klines', { ...NOVEMBER, format: 'csv' }), lambdaContext()));
    expect(csv).toMatchObject({ rows: novemberRows().length, format: 'csv' });
    const lines = (await (await fetch(csv.url)).text()).trim().split('\n');
    expect(lines[0]).toBe(KLINE_COLUMNS.join(','));
    expect(lines.slice(1).map((line) => Number(line.split(',')[0]))).toEqual(novemberRows().map((row) => row.open_time));

    const listed = await aws.makeS3Client().listObjects(bucket, 'results/', 1000);
    expect(listed.objects.map((o) => o.key.split('.').pop()).sort()).toEqual(['csv', 'json', 'parquet']);
  });

  it('keeps the error contract: 400 explained, 404 for an unknown symbol, 502 naming the range', async () => {
    const bad = await klines(httpApiEvent('/klines', { symbol: 'BTCUSDT', interval: '1h', start: '2020-12-01', format: 'xlsx' }), lambdaContext());
    expect(bad.statusCode).toBe(400);
    expect(json(bad).error.message).toContain('format must be json or csv');
    const unknown = await klines(httpApiEvent('/klines', { symbol: 'NOSUCHPAIR', interval: '1h', start: '2020-12-14T00:00:00Z', end: '2020-12-14T01:00:00Z' }), lambdaContext());
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown).error).toMatchObject({ code: 'UNKNOWN_SYMBOL', ranges: [{ startMs: t('2020-12-14T00:00:00Z'), endMs: t('2020-12-14T02:00:00Z') }] });
    fake.inject('/api/v3/klines', { kind: 'status', status: 400, body: '{"code":-1100,"msg":"Illegal characters found in a parameter."}' });
    const upstream = await klines(httpApiEvent('/klines', { symbol: 'ETHBTC', interval: '1h', start: '2020-12-14T00:00:00Z', end: '2020-12-14T01:00:00Z' }), lambdaContext());
    expect(upstream.statusCode).toBe(502);
    expect(json(upstream).error).toMatchObject({ code: 'UPSTREAM_REJECTED', ranges: [{ startMs: t('2020-12-14T00:00:00Z'), endMs: t('2020-12-14T02:00:00Z') }] });
  });
});
