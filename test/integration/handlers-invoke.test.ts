/**
 * invoke-get-klines through the typed client of lib/client/klines-client.ts: the client's real
 * InvokeCommand goes over HTTP to a minimal Lambda Invoke API on 127.0.0.1 (this file's
 * `startLambdaApi`: `POST /2015-03-31/functions/{name}/invocations`, the payload as the body, a
 * crash as `X-Amz-Function-Error: Unhandled`) that runs the handler, with the cache and the
 * results on S3 + DynamoDB (s3rver, dynalite) and the fake Binance.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKlinesClient, readResultRows, type KlinesClient } from '../../lib/client/klines-client.ts';
import { lambdaContext } from '../helpers/api-gateway.ts';
import { prepareAwsBackend, type PreparedBackend } from '../helpers/backends.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { startLocalAws, type LocalAws } from '../helpers/local-aws.ts';

/** An AWS SDK S3 client for s3rver: the caller's library (lib/client/klines-client.ts) stays on the SDK. */
const sdkS3 = (): S3Client => new S3Client({
  endpoint: aws.s3Endpoint, forcePathStyle: true, region: aws.region, credentials: aws.credentials,
  requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
});

const NOW = '2020-12-15T10:30:00Z';
const t = (iso: string): number => Date.parse(iso);
type Handler = (event: unknown, context: unknown) => Promise<unknown>;

let fake: FakeBinance;
let aws: LocalAws;
let backend: PreparedBackend;
let lambdaApi: { url: string; server: Server };
let client: KlinesClient;

/** A minimal Lambda Invoke API: runs `functions[name]` on the JSON body and answers its result. */
async function startLambdaApi(functions: Record<string, Handler>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const name = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '')?.[1];
      const handler = name ? functions[decodeURIComponent(name)] : undefined;
      if (!handler) {
        res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
        res.end(JSON.stringify({ Type: 'User', message: `Function not found: ${name}` }));
        return;
      }
      try {
        const result = await handler(JSON.parse(Buffer.concat(chunks).toString() || 'null'), lambdaContext(name));
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
        res.end(JSON.stringify(result));
      } catch (error) {
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' });
        res.end(JSON.stringify({ errorType: (error as Error).name, errorMessage: (error as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

beforeAll(async () => {
  [fake, aws] = await Promise.all([startFakeBinance({ nowMs: t(NOW) }), startLocalAws()]);
  backend = await prepareAwsBackend(aws);
  Object.assign(process.env, aws.env, backend.env, {
    KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl, BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
    KLINES_INLINE_LIMIT_BYTES: '50000', POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true',
  });
  vi.resetModules();
  const { handler } = (await import('../../functions/invoke-get-klines.ts')) as unknown as { handler: Handler };
  lambdaApi = await startLambdaApi({ 'klines-invoke-get-klines': handler });
  const lambda = new LambdaClient({ endpoint: lambdaApi.url, region: aws.region, credentials: aws.credentials });
  client = createKlinesClient({ functionName: 'klines-invoke-get-klines', lambda, s3: sdkS3() });
});
afterAll(async () => {
  lambdaApi?.server.close();
  await backend?.cleanup();
  await Promise.all([fake?.close(), aws?.close()]);
});

describe('invoke-get-klines with the typed client', () => {
  it('returns small answers inline with stats; epoch-ms bounds work like ISO ones', async () => {
    const result = await client.getKlines({ market: 'spot', symbol: 'BTCUSDT', interval: '1h', start: t('2020-12-14T00:00:00Z'), end: '2020-12-14T05:00:00Z' });
    const expected = expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-14'), t('2020-12-14T05:00:00Z'));
    expect(result).toMatchObject({ ok: true, count: expected.length, rows: expected });
    if (!result.ok || result.accepted) throw new Error(JSON.stringify(result));
    expect(result.uri).toBeUndefined();
    expect(result.stats).toMatchObject({ rowsFromCache: 0, rowsFromRest: 6, restRequests: 1 });
    expect(await client.readRows(result)).toEqual(expected);
  });

  it('returns an s3:// URI of a Parquet result when the rows do not fit inline; readRows decodes the exact rows', async () => {
    const result = await client.getKlines({ symbol: 'BTCUSDT', interval: '1h', start: '2020-11-01', end: '2020-11-30T23:00:00Z' });
    const expected = expectedKlines('spot', 'BTCUSDT', '1h', t('2020-11-01'), t('2020-11-30T23:00:00Z'));
    if (!result.ok) throw new Error(result.error.message);
    if (result.accepted) throw new Error(result.message);
    expect(result.rows).toBeUndefined();
    expect(result.count).toBe(expected.length);
    expect(result.uri).toMatch(/^s3:\/\/klines-test-[\w-]+\/results\/2020-12-15\/[0-9a-f-]{36}\.parquet$/);
    expect(await client.readRows(result)).toEqual(expected);
    expect(await readResultRows(result.uri!, sdkS3())).toEqual(expected);
  });

  it.each<{ payload: unknown; code: string; says: string }>([
    { payload: { symbol: 'BTCUSDT', interval: '1h' }, code: 'INVALID_INPUT', says: 'start' },
    { payload: { symbol: 'BTCUSDT', interval: '1h', start: '2020-12-01', limit: 5 }, code: 'INVALID_INPUT', says: 'limit' },
    { payload: { market: 'xx', symbol: 'BTCUSDT', interval: '1h', start: '2020-12-01' }, code: 'INVALID_INPUT', says: 'market must be spot, um or cm' },
    { payload: { symbol: 'BTCUSDT', interval: '1h', start: '2021-01-01' }, code: 'INVALID_INPUT', says: 'in the future' },
    { payload: { symbol: 'BTCUSDT', interval: '1h', start: 1606780800 }, code: 'INVALID_INPUT', says: 'give epoch milliseconds (e.g. 1606780800000)' },
    { payload: 'BTCUSDT', code: 'INVALID_INPUT', says: 'payload must be an object' },
    { payload: [{ symbol: 'BTCUSDT' }], code: 'INVALID_INPUT', says: 'payload must be an object' },
    { payload: { interval: '1h', start: '2020-12-01' }, code: 'INVALID_INPUT', says: 'symbol is required, e.g. BTCUSDT' },
    { payload: { symbol: 'NOSUCHPAIR', interval: '1h', start: '2020-12-14T00:00:00Z', end: '2020-12-14T01:00:00Z' }, code: 'UNKNOWN_SYMBOL', says: '-1121' },
  ])('returns errors as data: $code for $payload', async ({ payload, code, says }) => {
    const result = await client.getKlines(payload as never);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.code).toBe(code);
    expect(!result.ok && result.error.message).toContain(says);
  });

  it('takes days in place of start, and lists the cached datasets from the DynamoDB index (list-datasets)', async () => {
    const lastDay = await client.getKlines({ symbol: 'BTCUSDT', interval: '1h', days: 1 });
    expect(lastDay).toMatchObject({ ok: true, rows: expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-14T10:00:00Z'), t('2020-12-15T09:00:00Z')) });
    const listing = await client.listDatasets({ market: 'spot', symbol: 'BTCUSDT' });
    if (!listing.ok) throw new Error(listing.error.message);
    expect(listing.datasets).toHaveLength(1);
    expect(listing.datasets[0]).toMatchObject({ datasetId: 'binance/spot/klines/BTCUSDT/1h', dataType: 'klines', lastOpenMs: t('2020-12-15T09:00:00Z') });
    expect(await client.listDatasets({ market: 'cm' })).toEqual({ ok: true, datasets: [] });
    const bad = await client.listDatasets({ interval: '7m' });
    expect(!bad.ok && bad.error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('not a Binance interval') });
  });

  it('throws when the invocation itself fails', async () => {
    const missing = createKlinesClient({ functionName: 'no-such-function', lambda: new LambdaClient({ endpoint: lambdaApi.url, region: aws.region, credentials: aws.credentials }) });
    await expect(missing.getKlines({ symbol: 'BTCUSDT', interval: '1h', start: '2020-12-01' })).rejects.toThrow(/Function not found: no-such-function/);
  });
});
