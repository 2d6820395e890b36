/**
 * Deadline-aware answers (issue 11) with real event shapes, against the fake Binance (slowed
 * down: every monthly Vision request of the first 20 files waits 2 s, so a cold fill of 40
 * months needs at least 12 s however fast the machine is) and S3 + DynamoDB on s3rver and
 * dynalite. A context with 10 s left (the fill stops 4.5 s before, leaving the handoff time on a
 * loaded machine): the HTTP handler answers 202 with Retry-After before the
 * deadline, says what is covered and what remains, and queues one message per remaining month
 * (SQS is the fake SendMessageBatch endpoint of test/helpers/fake-sqs.ts, as no SQS server is installed; the captured
 * bodies go to the real worker as an SQS event). A repeated request queues nothing new; after the
 * worker's fill the same request answers 200 with the exact rows, from the cache alone.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SendMessageBatchInput } from '../../functions/shared/sqs-client.ts';
import { normalizeRanges, type Range } from '../../lib/domain/ranges.ts';
import { httpApiEvent, lambdaContext } from '../helpers/api-gateway.ts';
import { prepareAwsBackend, prepareFsBackend, type PreparedBackend } from '../helpers/backends.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { startFakeSqs, type FakeSqs } from '../helpers/fake-sqs.ts';
import { startLocalAws, type LocalAws } from '../helpers/local-aws.ts';

const NOW = '2020-12-15T10:30:00Z';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/klines-refresh';
const t = (iso: string): number => Date.parse(iso);
const MODULES = {
  klines: () => import('../../functions/http-get-klines.ts'),
  coverage: () => import('../../functions/http-get-coverage.ts'),
  worker: () => import('../../functions/sqs-refresh-dataset.ts'),
  invoke: () => import('../../functions/invoke-get-klines.ts'),
};
type Handler = (event: unknown, context: unknown) => Promise<any>;

const REMAINING_MS = 10_000;
// 40 monthly files (2017-08 … 2020-11), December's days from daily files and REST.
const QUERY = { symbol: 'BTCUSDT', interval: '1h', start: '2017-08-01', end: '2020-12-15T09:00:00Z' };
const REQUESTED: Range = { startMs: t('2017-08-01'), endMs: t('2020-12-15T09:00:00Z') + 1 };

let fake: FakeBinance;
let aws: LocalAws;
const backends: PreparedBackend[] = [];
let sqs: FakeSqs;

/** The settleFills of each cold-started container's fill module. */
const settlers: (() => Promise<void>)[] = [];

async function coldStart(name: keyof typeof MODULES, env: Record<string, string>): Promise<Handler> {
  const saved = { ...process.env };
  Object.assign(process.env, {
    KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl, BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
    POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true', KLINES_ANSWER_MARGIN_MS: '4000', ...env,
  });
  vi.resetModules();
  try {
    const { handler } = (await MODULES[name]()) as unknown as { handler: Handler };
    // This container's fill module (same module registry): afterAll waits for its in-process fills.
    settlers.push((await import('../../functions/shared/fill-within-deadline.ts')).settleFills);
    return handler;
  } finally {
    process.env = { ...saved, ...aws.env };
  }
}

function slowVision(): void {
  fake.inject('/data/spot/monthly/klines/BTCUSDT/1h/', { kind: 'delay', ms: 2_000 }, 40);
}

function captureBatches(): SendMessageBatchInput[] {
  const calls: SendMessageBatchInput[] = [];
  sqs.answer((input) => {
    calls.push(input);
    return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })), Failed: [] };
  });
  return calls;
}

function sqsEvent(bodies: readonly string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `fill-${i}`, receiptHandle: `rh-${i}`, body, messageAttributes: {}, md5OfBody: 'x', eventSource: 'aws:sqs',
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1607970600000', SenderId: 'AIDAIENQZJOLO23YVJ4VO', ApproximateFirstReceiveTimestamp: '1607970600010' },
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:klines-refresh', awsRegion: 'eu-west-1',
    })),
  };
}

/** Calls `handler` and measures how long it took, in ms. */
async function timed<T>(call: () => Promise<T>): Promise<{ value: T; elapsedMs: number }> {
  const startedMs = performance.now();
  const value = await call();
  return { value, elapsedMs: performance.now() - startedMs };
}

/** The UTC months (as `[start, end)` ∩ REQUESTED) that `ranges` touch. */
function monthsTouched(ranges: readonly Range[]): Range[] {
  const months: Range[] = [];
  for (let d = new Date(REQUESTED.startMs); d.getTime() < REQUESTED.endMs; d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))) {
    const month = { startMs: d.getTime(), endMs: Math.min(REQUESTED.endMs, Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)) };
    if (ranges.some((r) => r.startMs < month.endMs && r.endMs > month.startMs)) months.push(month);
  }
  return months;
}

const json = (response: APIGatewayProxyStructuredResultV2): any => JSON.parse(response.body!);
const bare = (ranges: readonly { startMs: number; endMs: number }[]): Range[] => ranges.map(({ startMs, endMs }) => ({ startMs, endMs }));

beforeAll(async () => {
  [fake, aws, sqs] = await Promise.all([startFakeBinance({ nowMs: t(NOW) }), startLocalAws(), startFakeSqs()]);
  Object.assign(process.env, aws.env, { AWS_ENDPOINT_URL_SQS: sqs.url });
});
afterAll(async () => {
  await sqs?.close();
  // A 202 `in-process` leaves its fill writing (leases, parts) after the test has its answer.
  await Promise.all(settlers.map((settle) => settle()));
  await Promise.all(backends.map((b) => b.cleanup()));
  await Promise.all([fake?.close(), aws?.close()]);
});
beforeEach(() => fake.clearRequests());
afterEach(() => {
  sqs.reset();
  fake.clearFaults();
});

describe('GET /klines with a short deadline, cold 3½ years of 1h (S3 + DynamoDB, queue)', () => {
  it('answers 202 before the deadline, queues the rest once, and answers 200 with the exact rows after the worker', async () => {
    const backend = await prepareAwsBackend(aws);
    backends.push(backend);
    const env = { ...backend.env, KLINES_REFRESH_QUEUE_URL: QUEUE };
    const [klines, coverage, worker] = [await coldStart('klines', env), await coldStart('coverage', env), await coldStart('worker', env)];
    const calls = captureBatches();
    slowVision();

    const first = await timed(() => klines(httpApiEvent('/klines', QUERY), lambdaContext('klines-http-get-klines', REMAINING_MS)));
    expect(first.value.statusCode).toBe(202);
    expect(first.elapsedMs).toBeLessThan(REMAINING_MS);
    const accepted = json(first.value);
    expect(first.value.headers['retry-after']).toBe(String(accepted.retryAfterSeconds));
    // `next-request` when the handoff could not be confirmed before the deadline (a loaded machine); it still completes.
    expect(accepted).toMatchObject({ status: 'accepted', requested: { startMs: REQUESTED.startMs, endMs: REQUESTED.endMs } });
    expect(['queue', 'next-request']).toContain(accepted.continuation);
    expect(accepted.retryAfterSeconds).toBeGreaterThanOrEqual(2);
    // Covered and remaining split the request exactly; at least 20 slow months cannot be done yet.
    expect(normalizeRanges([...bare(accepted.covered), ...bare(accepted.remaining)])).toEqual([REQUESTED]);
    expect(monthsTouched(bare(accepted.remaining)).length).toBeGreaterThanOrEqual(20);

    // What was fetched before the deadline is in the cache.
    const held = json(await coverage(httpApiEvent('/coverage', { symbol: 'BTCUSDT', interval: '1h' }), lambdaContext('klines-http-get-coverage')));
    for (const piece of bare(accepted.covered)) expect(held.covered.some((c: Range) => c.startMs <= piece.startMs && c.endMs >= piece.endMs)).toBe(true);

    // One message per remaining month, clipped to the request.
    const expectedMessages = monthsTouched(bare(accepted.remaining)).map((m) => ({ market: 'spot', symbol: 'BTCUSDT', interval: '1h', ...m }));
    const sent = (): unknown[] => calls.flatMap((c) => c.Entries!.map((e) => JSON.parse(e.MessageBody!)));
    await vi.waitFor(() => expect(sent()).toHaveLength(expectedMessages.length), { timeout: 60_000, interval: 200 });
    expect(sent()).toEqual(expectedMessages);
    if (accepted.continuation === 'queue') expect(accepted).toMatchObject({ queuedMessages: expectedMessages.length, alreadyQueued: 0 });

    // Asked again before the worker ran, Binance still slow (the first call used up most of the
    // injected delays): nothing new is queued (its months are a subset of those already queued).
    slowVision();
    const again = json(await klines(httpApiEvent('/klines', QUERY), lambdaContext('klines-http-get-klines', REMAINING_MS)));
    expect(again.status).toBe('accepted');
    if (again.continuation === 'queue') expect(again).toMatchObject({ queuedMessages: 0, alreadyQueued: monthsTouched(bare(again.remaining)).length });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(sent()).toHaveLength(expectedMessages.length);
    const bodies = calls.flatMap((c) => c.Entries!.map((e) => e.MessageBody!));
    fake.clearFaults(); // Binance is quick again by the time the worker runs (it takes messages one by one)

    const batch: SQSBatchResponse = await worker(sqsEvent(bodies), lambdaContext('klines-sqs-refresh-dataset', 300_000));
    expect(batch.batchItemFailures).toEqual([]);

    fake.clearRequests();
    const done = await klines(httpApiEvent('/klines', QUERY), lambdaContext('klines-http-get-klines', REMAINING_MS));
    expect(done.statusCode).toBe(200);
    const expected = expectedKlines('spot', 'BTCUSDT', '1h', REQUESTED.startMs, REQUESTED.endMs - 1);
    expect(done.headers?.['x-klines-rows-from-cache']).toBe(String(expected.length));
    expect(fake.requests).toEqual([]);
    const fetched = await fetch(json(done).url);
    expect(await fetched.json()).toEqual(expected);
  }, 180_000);
});

describe('direct invoke with a short deadline', () => {
  it('returns the accepted result type (not an error) before the deadline, with the remaining months queued', async () => {
    const backend = await prepareAwsBackend(aws);
    backends.push(backend);
    const invoke = await coldStart('invoke', { ...backend.env, KLINES_REFRESH_QUEUE_URL: QUEUE });
    const calls = captureBatches();
    slowVision();
    const result = await timed(() => invoke({ symbol: 'BTCUSDT', interval: '1h', start: QUERY.start, end: QUERY.end }, lambdaContext('klines-invoke-get-klines', REMAINING_MS)));
    expect(result.elapsedMs).toBeLessThan(REMAINING_MS);
    expect(result.value).toMatchObject({ ok: true, accepted: true });
    expect(['queue', 'next-request']).toContain(result.value.continuation);
    expect(result.value.retryAfterSeconds).toBeGreaterThanOrEqual(2);
    await vi.waitFor(() => expect(calls.flatMap((c) => c.Entries!)).toHaveLength(monthsTouched(bare(result.value.remaining)).length), { timeout: 60_000, interval: 200 });
  });
});

describe('without a queue (local serving)', () => {
  it('answers 202 with the fill going on in-process; once it is done the same request answers 200 exactly', async () => {
    const backend = await prepareFsBackend();
    backends.push(backend);
    const [klines, coverage] = [await coldStart('klines', backend.env), await coldStart('coverage', backend.env)];
    slowVision();
    const first = await timed(() => klines(httpApiEvent('/klines', QUERY), lambdaContext('klines-http-get-klines', REMAINING_MS)));
    expect(first.value.statusCode).toBe(202);
    expect(first.elapsedMs).toBeLessThan(REMAINING_MS);
    expect(json(first.value)).toMatchObject({ continuation: 'in-process', queuedMessages: 0 });

    // The fill was not stopped: wait (bounded) until the cache covers the request.
    await vi.waitFor(async () => {
      const held = json(await coverage(httpApiEvent('/coverage', { symbol: 'BTCUSDT', interval: '1h' }), lambdaContext('klines-http-get-coverage')));
      expect(held.covered.some((c: Range) => c.startMs <= REQUESTED.startMs && c.endMs >= REQUESTED.endMs)).toBe(true);
    }, { timeout: 60_000, interval: 500 });
    const done = await klines(httpApiEvent('/klines', QUERY), lambdaContext());
    expect(done.statusCode).toBe(200);
    expect(JSON.parse(await readFile(fileURLToPath(json(done).url), 'utf8'))).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', REQUESTED.startMs, REQUESTED.endMs - 1));
  });
});
