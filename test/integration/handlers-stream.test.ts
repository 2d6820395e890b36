/**
 * Long answers of the klines handlers stream to the results location (issue 9: memory flat in the
 * range's length), on S3 + DynamoDB (s3rver, dynalite) against the fake Binance serving the real
 * files. With `KLINES_MAX_INLINE_ROWS` at 1,000, the whole real spot BTCUSDT 1h history (~29,000
 * rows) is a long answer: filled first, then read back from the cache period by period into a
 * JSON result of more than 5 MiB (a multipart upload) whose rows are exact; CSV with sources and
 * Parquet likewise; invoke answers with the uri of a Parquet result, or inline when few rows
 * exist. A stream that fails midway (failure injected after more than 5 MiB) leaves no result
 * object, its upload aborted, and the caller gets the stream's own error.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { S3Client } from '../../lib/store/s3-api.ts';
import { awsOperation, requestOf } from '../helpers/aws-fetch.ts';
import { DeadlineReachedError, UpstreamError } from '../../lib/domain/errors.ts';
import { allocateColumns, uniformSources, type SourcedColumns } from '../../lib/domain/kline-columns.ts';
import type { KlinesStream } from '../../lib/service/stream-klines.ts';
import { decodeKlines } from '../../lib/store/parquet-codec.ts';
import { createResultsLocation } from '../../functions/shared/results.ts';
import { shapeHttpAnswer } from '../../functions/shared/http-answer.ts';
import { explainError } from '../../functions/middleware/http-errors.ts';
import { streamUntil } from '../../functions/shared/write-deadline.ts';
import { httpApiEvent, lambdaContext } from '../helpers/api-gateway.ts';
import { prepareAwsBackend, type PreparedBackend } from '../helpers/backends.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { startLocalAws, type LocalAws } from '../helpers/local-aws.ts';

type Handler = (event: unknown, context: unknown) => Promise<any>;
const NOW = '2020-12-15T10:30:00Z';
const t = (iso: string): number => Date.parse(iso);
const HISTORY = { symbol: 'BTCUSDT', interval: '1h', start: '2017-08-01T00:00:00Z', end: '2020-12-15T09:00:00Z' };
const historyRows = () => expectedKlines('spot', 'BTCUSDT', '1h', t(HISTORY.start), t(HISTORY.end));
const MiB = 1024 * 1024;

let fake: FakeBinance;
let aws: LocalAws;
let backend: PreparedBackend;
let bucket: string;
let s3: S3Client;
let http: Handler;
let invoke: Handler;
/** When set, the AWS operations sent for objects under results/ (see beforeAll). */
let resultOperations: string[] | undefined;

beforeAll(async () => {
  [fake, aws] = await Promise.all([startFakeBinance({ nowMs: t(NOW) }), startLocalAws()]);
  backend = await prepareAwsBackend(aws);
  bucket = /^s3:\/\/([^/]+)/.exec(backend.env.KLINES_STORE!)![1]!;
  s3 = aws.makeS3Client();
  // The handlers' S3 client sends with the global fetch it finds at its cold start: a pass-through
  // spy installed first lets a test see what it sends for a result (resultOperations).
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = requestOf(input, init);
    if (resultOperations && new URL(request.url).pathname.includes('/results/')) resultOperations.push(awsOperation(request));
    return realFetch(input, init);
  });
  Object.assign(process.env, aws.env, backend.env, {
    KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl, BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
    KLINES_MAX_INLINE_ROWS: '1000', POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true',
  });
  vi.resetModules();
  http = ((await import('../../functions/http-get-klines.ts')) as unknown as { handler: Handler }).handler;
  invoke = ((await import('../../functions/invoke-get-klines.ts')) as unknown as { handler: Handler }).handler;
}, 60_000);
afterAll(async () => {
  vi.restoreAllMocks();
  await backend?.cleanup();
  await Promise.all([fake?.close(), aws?.close()]);
});

const body = (response: APIGatewayProxyStructuredResultV2): any => JSON.parse(response.body!);
const keyOf = (url: string): string => decodeURIComponent(new URL(url).pathname.split('/').slice(2).join('/'));

describe('GET /klines, a long answer', () => {
  it('streams a JSON result of more than 5 MiB as a multipart upload whose rows are exact', async () => {
    const sent: string[] = [];
    resultOperations = sent;
    onTestFinished(() => { resultOperations = undefined; });
    const response = await http(httpApiEvent('/klines', HISTORY), lambdaContext());
    expect(response.statusCode).toBe(200);
    const expected = historyRows();
    expect(body(response)).toMatchObject({ rows: expected.length, format: 'json' });
    expect(response.headers).toMatchObject({ 'x-klines-rows': String(expected.length), 'x-klines-rows-from-cache': '0' });
    const key = keyOf(body(response).url);
    const [listed] = (await s3.listObjects(bucket, key, 1)).objects;
    expect(listed?.key).toBe(key);
    expect(listed!.sizeBytes).toBeGreaterThan(5 * MiB);
    expect(sent.filter((name) => name.includes('Multipart') || name === 'UploadPart' || name === 'PutObject')).toEqual([
      'CreateMultipartUpload', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload',
    ]);
    expect(await (await fetch(body(response).url)).json()).toEqual(expected);
  }, 120_000);

  it('streams CSV with sources (now all from the cache) and Parquet from the cache, exact', async () => {
    const expected = historyRows();
    const csv = await http(httpApiEvent('/klines', { ...HISTORY, format: 'csv', with_source: 'true' }), lambdaContext());
    expect(csv.headers).toMatchObject({ 'x-klines-rows-from-cache': String(expected.length) });
    const lines = (await (await fetch(body(csv).url)).text()).trim().split('\n');
    expect(lines.slice(1).map((line) => line.split(','))).toEqual(expected.map((row) => [...Object.values(row).map(String), 'cache']));
    const parquet = await http(httpApiEvent('/klines', { ...HISTORY, format: 'parquet' }), lambdaContext());
    expect(body(parquet)).toMatchObject({ rows: expected.length, format: 'parquet' });
    expect(await decodeKlines(new Uint8Array(await (await fetch(body(parquet).url)).arrayBuffer()))).toEqual(expected);
  }, 120_000);
});

describe('invoke, a long answer', () => {
  it('answers with the uri of a Parquet result holding the exact rows', async () => {
    const result = await invoke({ symbol: HISTORY.symbol, interval: HISTORY.interval, start: HISTORY.start, end: HISTORY.end }, lambdaContext('klines-invoke-get-klines'));
    const expected = historyRows();
    expect(result).toMatchObject({ ok: true, count: expected.length, stats: { rowsFromCache: expected.length } });
    expect(result.uri).toMatch(new RegExp(`^s3://${bucket}/results/2020-12-15/[0-9a-f-]{36}\\.parquet$`));
    const object = await s3.getObject(bucket, result.uri.split('/').slice(3).join('/'));
    expect(await decodeKlines(object.body)).toEqual(expected);
  }, 120_000);

  it('still answers inline when a long range holds few rows (before the market opened: none)', async () => {
    const result = await invoke({ symbol: 'BTCUSDT', interval: '1h', start: '2017-06-01T00:00:00Z', end: '2017-08-10T00:00:00Z' }, lambdaContext('klines-invoke-get-klines'));
    expect(result).toMatchObject({ ok: true, count: 0, rows: [] });
    expect(result.uri).toBeUndefined();
  }, 120_000);
});

/** Injected failure: a stand-in stream of `chunks` real-shaped chunks of random values that then throws `error`. */
function failingStream(chunks: number, rowsPerChunk: number, error: Error): KlinesStream {
  let rows = 0;
  return {
    stats: { rowsFromCache: 0 } as KlinesStream['stats'],
    get rows() {
      return rows;
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<SourcedColumns> {
      for (let k = 0; k < chunks; k++) {
        const columns = allocateColumns(rowsPerChunk);
        for (let i = 0; i < rowsPerChunk; i++) {
          const at = k * rowsPerChunk + i;
          columns.open_time[i] = at * 60_000;
          columns.close_time[i] = at * 60_000 + 59_999;
          columns.trades[i] = at;
          for (const name of ['open', 'high', 'low', 'close', 'volume', 'quote_volume', 'taker_buy_volume', 'taker_buy_quote_volume'] as const) columns[name][i] = Math.random() * 1e5;
        }
        rows += rowsPerChunk;
        yield { columns, sources: uniformSources(rowsPerChunk, 'cache') };
      }
      throw error;
    },
  };
}

describe('a streamed result that fails midway', () => {
  it.each([['json', 3], ['parquet', 5]] as const)('%s: the stream\'s own error, the multipart upload aborted, no result object', async (format, chunks) => {
    const sent: string[] = [];
    const client = aws.makeS3Client(async (input, init) => {
      sent.push(awsOperation(requestOf(input, init)));
      return fetch(input, init);
    });
    const location = createResultsLocation({ results: { kind: 's3', bucket, prefix: `failed-${format}` } }, client);
    const failure = new UpstreamError('injected: Binance went away midway');
    // JSON ~10 MiB a chunk, Parquet ~2.5 MiB (random doubles do not compress): past two 5 MiB parts, so the multipart upload has begun.
    const shaped = shapeHttpAnswer({ answer: failingStream(chunks, 40_000, failure), format, withSource: false, inlineLimitBytes: 1000, headers: {} }, location);
    await expect(shaped).rejects.toBe(failure);
    expect(sent).toContain('CreateMultipartUpload');
    expect(sent).toContain('UploadPart');
    expect(sent).toContain('AbortMultipartUpload');
    expect(sent).not.toContain('CompleteMultipartUpload');
    expect(sent).not.toContain('PutObject');
    expect((await s3.listObjects(bucket, `failed-${format}/`, 1000)).objects).toEqual([]);
  }, 120_000);
});

describe('a streamed result still being written at the deadline', () => {
  it('stops before the next chunk: DEADLINE_REACHED (503 with Retry-After on HTTP), the upload aborted, no result object', async () => {
    const sent: string[] = [];
    const client = aws.makeS3Client(async (input, init) => {
      sent.push(awsOperation(requestOf(input, init)));
      return fetch(input, init);
    });
    const location = createResultsLocation({ results: { kind: 's3', bucket, prefix: 'late-json' } }, client);
    // A clock that passes the stop time once 3 chunks (~30 MiB of JSON, past two 5 MiB parts) are out.
    let chunksSeen = 0;
    const inner = failingStream(8, 40_000, new Error('never reached: the deadline stops the stream first'));
    const counted: KlinesStream = {
      get stats() { return inner.stats; },
      get rows() { return inner.rows; },
      async *[Symbol.asyncIterator]() { for await (const chunk of inner) { chunksSeen++; yield chunk; } },
    };
    const answer = streamUntil(counted, 3, () => chunksSeen);
    const shaped = shapeHttpAnswer({ answer, format: 'json', withSource: false, inlineLimitBytes: 1000, headers: {} }, location);
    const error = await shaped.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineReachedError);
    expect((error as DeadlineReachedError).details).toMatchObject({ rowsWritten: 3 * 40_000, remaining: [] });
    expect(explainError(error)).toMatchObject({ status: 503, retryAfterSeconds: expect.any(Number), error: { code: 'DEADLINE_REACHED', message: expect.stringContaining('too long to write before') } });
    expect(sent).toContain('UploadPart');
    expect(sent).toContain('AbortMultipartUpload');
    expect(sent).not.toContain('CompleteMultipartUpload');
    expect((await s3.listObjects(bucket, 'late-json/', 1000)).objects).toEqual([]);
  }, 120_000);
});
