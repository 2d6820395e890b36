/**
 * The scheduled refresh end to end with real event shapes: an EventBridge Scheduled Event into
 * cron-refresh, SQS batches into sqs-refresh-dataset, against the fake Binance and the caches
 * (local default; S3 + DynamoDB on s3rver and dynalite). No SQS server is installed, so the
 * queue is a fake SendMessageBatch endpoint (test/helpers/fake-sqs.ts): it captures what a queue would receive
 * and injects the per-entry failures a real queue can report; the captured bodies are then
 * delivered to the worker as a real SQS event.
 */
import type { ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SendMessageBatchInput } from '../../functions/shared/sqs-client.ts';
import { lambdaContext } from '../helpers/api-gateway.ts';
import { prepareAwsBackend, prepareFsBackend, type PreparedBackend } from '../helpers/backends.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { startFakeSqs, type FakeSqs } from '../helpers/fake-sqs.ts';
import { startLocalAws, type LocalAws } from '../helpers/local-aws.ts';

const NOW = '2020-12-15T10:30:00Z';
const t = (iso: string): number => Date.parse(iso);
const MODULES = {
  cron: () => import('../../functions/cron-refresh.ts'),
  worker: () => import('../../functions/sqs-refresh-dataset.ts'),
  klines: () => import('../../functions/http-get-klines.ts'),
};
type Handler = (event: unknown, context: unknown) => Promise<any>;

let fake: FakeBinance;
let aws: LocalAws;
const backends: PreparedBackend[] = [];
let sqs: FakeSqs;

/** A fresh Lambda container of `name` whose cold start reads `env` (with KLINES_NOW = `now`). */
async function coldStart(name: keyof typeof MODULES, env: Record<string, string>, now = NOW): Promise<Handler> {
  const saved = { ...process.env };
  Object.assign(process.env, {
    BINANCE_VISION_URL: fake.visionUrl, BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
    POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true', ...env, KLINES_NOW: now,
  });
  vi.resetModules();
  try {
    return ((await MODULES[name]()) as unknown as { handler: Handler }).handler;
  } finally {
    process.env = { ...saved, ...aws.env };
  }
}

/** An EventBridge scheduled event as the rule `klines-refresh` delivers it. */
function scheduledEvent(time: string): ScheduledEvent {
  return {
    version: '0', id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa', 'detail-type': 'Scheduled Event', source: 'aws.events',
    account: '123456789012', time, region: 'us-east-1', resources: ['arn:aws:events:us-east-1:123456789012:rule/klines-refresh'], detail: {},
  };
}

/** An SQS event as the event source mapping delivers it, one record per body. */
function sqsEvent(bodies: readonly string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `059f36b4-87a3-44ab-83d2-66197${String(i).padStart(7, '0')}`,
      receiptHandle: `AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a${i}`,
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1607970600000', SenderId: 'AIDAIENQZJOLO23YVJ4VO', ApproximateFirstReceiveTimestamp: '1607970600010' },
      messageAttributes: {},
      md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:klines-refresh',
      awsRegion: 'us-east-1',
    })),
  };
}

beforeAll(async () => {
  [fake, aws, sqs] = await Promise.all([startFakeBinance({ nowMs: t(NOW) }), startLocalAws(), startFakeSqs()]);
  Object.assign(process.env, aws.env, { AWS_ENDPOINT_URL_SQS: sqs.url });
});
afterAll(async () => {
  await sqs?.close();
  await Promise.all(backends.map((b) => b.cleanup()));
  await Promise.all([fake?.close(), aws?.close()]);
});
beforeEach(() => {
  fake.clearRequests();
  fake.setNow(t(NOW));
});
afterEach(() => sqs.reset());

const restRequestsFor = (symbol: string) => fake.requests.filter((r) => r.kind === 'rest' && r.query.symbol === symbol);

describe('cron-refresh without a queue (local default): refreshes inline', () => {
  let env: Record<string, string>;
  beforeAll(async () => {
    const backend = await prepareFsBackend();
    backends.push(backend);
    env = { ...backend.env, KLINES_WATCHLIST: JSON.stringify([{ market: 'spot', symbol: 'BTCUSDT', interval: '1h', since: '2020-12-10' }]) };
  });

  it('fills from `since`, fetches nothing on a rerun, and appends only the candles closed since', async () => {
    const cron = await coldStart('cron', env);
    const first = await cron(scheduledEvent(NOW), lambdaContext('klines-cron-refresh'));
    const untilTen = expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-10'), t('2020-12-15T09:00:00Z'));
    expect(first).toMatchObject({ mode: 'inline', datasets: 1 });
    expect(first.results[0]).toMatchObject({ fromMs: t('2020-12-10'), toMs: t('2020-12-15T10:00:00Z'), upToDate: false, rowsAppended: untilTen.length });

    fake.clearRequests();
    const rerun = await cron(scheduledEvent(NOW), lambdaContext('klines-cron-refresh'));
    expect(rerun.results[0]).toMatchObject({ fromMs: t('2020-12-15T10:00:00Z'), upToDate: true, calls: 0, rowsAppended: 0 });
    expect(fake.requests).toEqual([]);

    // Four hours later (a new container, as the clock is read at cold start): only 10:00 … 13:00 are new.
    const later = '2020-12-15T14:30:00Z';
    fake.setNow(t(later));
    const next = await (await coldStart('cron', env, later))(scheduledEvent(later), lambdaContext('klines-cron-refresh'));
    const newRows = expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-15T10:00:00Z'), t('2020-12-15T13:00:00Z'));
    expect(newRows).toHaveLength(4);
    expect(next.results[0]).toMatchObject({ fromMs: t('2020-12-15T10:00:00Z'), toMs: t('2020-12-15T14:00:00Z'), rowsAppended: 4, restRequests: 1 });
    expect(fake.requests.map((r) => [r.kind, r.query.startTime])).toEqual([['rest', String(t('2020-12-15T10:00:00Z'))]]);

    // The cache now answers the whole refreshed range without Binance.
    fake.clearRequests();
    const klines = await coldStart('klines', env, later);
    const answer = await klines({ version: '2.0', rawPath: '/klines', queryStringParameters: { symbol: 'BTCUSDT', interval: '1h', start: '2020-12-10', end: '2020-12-15T13:00:00Z' } }, lambdaContext());
    expect(JSON.parse(answer.body)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-10'), t('2020-12-15T13:00:00Z')));
    expect(fake.requests).toEqual([]);
  });

  it('fails the invocation with the entry named when the watchlist is invalid', async () => {
    const cron = await coldStart('cron', { ...env, KLINES_WATCHLIST: '[{"symbol":"BTCUSDT","interval":"1h"},{"symbol":"BTCUSDT","interval":"7m"}]' });
    await expect(cron(scheduledEvent(NOW), lambdaContext())).rejects.toThrow(/watchlist KLINES_WATCHLIST: \[1\] interval: "7m" is not a Binance interval/);
  });
});

describe('cron-refresh with a queue fans out; sqs-refresh-dataset works the batch (S3 + DynamoDB)', () => {
  let env: Record<string, string>;
  const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/klines-refresh';
  beforeAll(async () => {
    const backend = await prepareAwsBackend(aws);
    backends.push(backend);
    const bucket = /^s3:\/\/([^/]+)/.exec(backend.env.KLINES_STORE!)![1]!;
    const watchlist = [
      { market: 'spot', symbol: 'BTCUSDT', interval: '1h', since: '2020-12-14' },
      { market: 'spot', symbol: 'NOSUCHPAIR', interval: '1h', since: '2020-12-14' },
      ...Array.from({ length: 21 }, (_, i) => ({ market: 'um', symbol: `FAKE${i}USDT`, interval: '4h' })),
    ];
    await aws.makeS3Client().putObject(bucket, 'config/watchlist.json', JSON.stringify(watchlist));
    env = { ...backend.env, KLINES_WATCHLIST_S3: `s3://${bucket}/config/watchlist.json`, KLINES_REFRESH_QUEUE_URL: QUEUE };
  });

  /** Accepts every entry except the ids in `failIds` on the first call that carries them. */
  function captureBatches(failOnce: ReadonlySet<string> = new Set(), failAlways: ReadonlySet<string> = new Set()): SendMessageBatchInput[] {
    const calls: SendMessageBatchInput[] = [];
    const failedBefore = new Set<string>();
    sqs.answer((input) => {
      calls.push(input);
      const entries = input.Entries ?? [];
      const fails = entries.filter((e) => failAlways.has(e.Id!) || (failOnce.has(e.Id!) && !failedBefore.has(e.Id!)));
      for (const e of fails) failedBefore.add(e.Id!);
      return {
        Successful: entries.filter((e) => !fails.includes(e)).map((e) => ({ Id: e.Id!, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })),
        Failed: fails.map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'InternalError', Message: 'try again' })),
      };
    });
    return calls;
  }

  it('sends one message per dataset in batches of 10, resending what SQS refused once', async () => {
    const calls = captureBatches(new Set(['12']));
    const cron = await coldStart('cron', env);
    const result = await cron(scheduledEvent(NOW), lambdaContext('klines-cron-refresh'));
    expect(result).toEqual({ mode: 'queue', datasets: 23, messages: 23 });
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 10, 1, 3]);
    expect(calls.every((c) => c.QueueUrl === QUEUE)).toBe(true);
    expect(calls[2]!.Entries!.map((e) => e.Id)).toEqual(['12']);
    expect(JSON.parse(calls[0]!.Entries![0]!.MessageBody!)).toEqual({ market: 'spot', symbol: 'BTCUSDT', interval: '1h', sinceMs: t('2020-12-14') });
    expect(fake.requests).toEqual([]);
  });

  it('expands symbol lists, symbols_regex (exchangeInfo, TRADING only) and interval lists into one message per dataset', async () => {
    const calls = captureBatches();
    const watchlist = [
      { market: 'um', symbols_regex: '.*USDT', intervals: ['1h', '4h'], since: '2020-12-14' },
      { market: 'spot', symbols: ['BTCUSDT', 'ETHBTC'], interval: '1d' },
    ];
    const cron = await coldStart('cron', { ...env, KLINES_WATCHLIST_S3: '', KLINES_WATCHLIST: JSON.stringify(watchlist) });
    const result = await cron(scheduledEvent(NOW), lambdaContext('klines-cron-refresh'));
    expect(result).toEqual({ mode: 'queue', datasets: 6, messages: 6 });
    const bodies = calls.flatMap((c) => c.Entries!.map((e) => JSON.parse(e.MessageBody!)));
    const since = t('2020-12-14');
    expect(bodies).toEqual([
      { market: 'um', symbol: 'BTCUSDT', interval: '1h', sinceMs: since }, { market: 'um', symbol: 'BTCUSDT', interval: '4h', sinceMs: since },
      { market: 'um', symbol: 'ETHUSDT', interval: '1h', sinceMs: since }, { market: 'um', symbol: 'ETHUSDT', interval: '4h', sinceMs: since },
      { market: 'spot', symbol: 'BTCUSDT', interval: '1d' }, { market: 'spot', symbol: 'ETHBTC', interval: '1d' },
    ]);
    expect(fake.requests.map((r) => r.path)).toEqual(['/fapi/v1/exchangeInfo']);
    const invalid = await coldStart('cron', { ...env, KLINES_WATCHLIST_S3: '', KLINES_WATCHLIST: '[{"symbol":"BTCUSDT","symbols_regex":"BTC.*","interval":"1h"}]' });
    await expect(invalid(scheduledEvent(NOW), lambdaContext())).rejects.toThrow(/give one of symbol, symbols or symbols_regex/);
  });

  it('fails the invocation when SQS refuses an entry twice', async () => {
    captureBatches(new Set(), new Set(['21']));
    const cron = await coldStart('cron', env);
    await expect(cron(scheduledEvent(NOW), lambdaContext())).rejects.toThrow(/SQS refused 1 messages after a retry: binance\/um\/klines\/FAKE19USDT\/4h: InternalError/);
  });

  it('works a batch with a failing record as a partial batch failure; a rerun fetches only the failed one', async () => {
    const calls = captureBatches();
    await (await coldStart('cron', env))(scheduledEvent(NOW), lambdaContext());
    const bodies = calls.flatMap((c) => c.Entries!.map((e) => e.MessageBody!)).slice(0, 2);
    const worker = await coldStart('worker', env);
    const event = sqsEvent([...bodies, '{"symbol":']);
    const failedIds = [event.Records[1]!.messageId, event.Records[2]!.messageId];

    const first: SQSBatchResponse = await worker(event, lambdaContext('klines-sqs-refresh-dataset'));
    expect(first.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(failedIds);
    expect(restRequestsFor('BTCUSDT').length).toBeGreaterThan(0);
    expect(restRequestsFor('NOSUCHPAIR').length).toBeGreaterThan(0);

    fake.clearRequests();
    const rerun: SQSBatchResponse = await worker(event, lambdaContext('klines-sqs-refresh-dataset'));
    expect(rerun.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(failedIds);
    expect(restRequestsFor('BTCUSDT')).toEqual([]);
    expect(fake.requests.filter((r) => r.kind === 'vision-zip' && r.path.includes('BTCUSDT'))).toEqual([]);

    const klines = await coldStart('klines', env);
    fake.clearRequests();
    const answer = await klines({ version: '2.0', rawPath: '/klines', queryStringParameters: { symbol: 'BTCUSDT', interval: '1h', start: '2020-12-14' } }, lambdaContext());
    expect(JSON.parse(answer.body)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-14'), t('2020-12-15T09:00:00Z')));
    expect(fake.requests).toEqual([]);
  });
});
