/**
 * Issue 11's "must show", on the bundled handlers (dist/functions/…/index.mjs from
 * `npm run bundle`; built first when missing): GET /klines for a cold 5 years of spot BTCUSDT 1m
 * (2017-08 … 2022-07, 2.6M candles of generated Vision monthly files served on 127.0.0.1) with a
 * Lambda context that has 8 s left must answer 202 with Retry-After within 8 s and queue the rest;
 * the bundled worker then fills the queued months; the same call then answers 200 whose Parquet
 * result holds exactly the generated candles (checked column by column against the CSV text).
 * The queue is bench/sqs-server.ts (the bundles carry their own SDK). Prints one JSON summary;
 * exits 1 when a check fails. Run: `npm exec -- node --import tsx bench/deadline.ts`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KLINE_COLUMNS } from '../lib/domain/kline.ts';
import { utcMonthStart } from '../lib/domain/ranges.ts';
import { decodeKlineColumns } from '../lib/store/parquet-codec.ts';
import { httpApiEvent, lambdaContext } from '../test/helpers/api-gateway.ts';
import { generateMonthCsv, generateVisionMonths } from './generate.ts';
import { startBenchSqsServer } from './sqs-server.ts';
import { startBenchVisionServer } from './vision-server.ts';

type Handler = (event: unknown, context: unknown) => Promise<any>;
const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const DATASET = { market: 'spot', symbol: 'BTCUSDT', interval: '1m' } as const;
const FIRST_MONTH_MS = Date.UTC(2017, 7, 1);
const MONTHS = 60;
const END_MS = utcMonthStart(FIRST_MONTH_MS, MONTHS);
const REMAINING_MS = 8_000;
const QUERY = { symbol: 'BTCUSDT', interval: '1m', start: '2017-08-01', end: '2022-07-31T23:59:00Z', format: 'parquet' };

async function loadBundle(name: string): Promise<Handler> {
  return ((await import(pathToFileURL(join(ROOT, 'dist', 'functions', name, 'index.mjs')).href)) as { handler: Handler }).handler;
}

/** Compares decoded answer columns with the generated CSV text of every month; returns the first difference. */
function firstDifference(columns: Awaited<ReturnType<typeof decodeKlineColumns>>): string | undefined {
  let row = 0;
  for (let month = 0; month < MONTHS; month++) {
    const startMs = utcMonthStart(FIRST_MONTH_MS, month);
    const { csv } = generateMonthCsv(DATASET.interval, startMs, (startMs / 60_000) ^ DATASET.interval.length);
    for (const line of csv.split('\n')) {
      if (line === '') continue;
      const fields = line.split(',');
      for (let c = 0; c < KLINE_COLUMNS.length; c++) {
        const name = KLINE_COLUMNS[c]!;
        if (columns[name][row] !== Number(fields[c])) return `row ${row} ${name}: answer ${columns[name][row]}, file ${fields[c]}`;
      }
      row++;
    }
  }
  return row === columns.length ? undefined : `answer has ${columns.length} rows, files ${row}`;
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'functions', 'http-get-klines', 'index.mjs'))) {
    const built = spawnSync('npm', ['run', '-s', 'bundle'], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('bench deadline: npm run bundle failed');
  }
  let startedMs = performance.now();
  const files = await generateVisionMonths(DATASET, FIRST_MONTH_MS, MONTHS);
  const generateMs = performance.now() - startedMs;
  const [vision, sqs] = await Promise.all([startBenchVisionServer(files), startBenchSqsServer()]);
  const dir = await mkdtemp(join(tmpdir(), 'klines-bench-deadline-'));
  Object.assign(process.env, {
    KLINES_CACHE_DIR: join(dir, 'cache'), KLINES_RESULTS: join(dir, 'results'), KLINES_NOW: '2022-08-05T00:00:00Z',
    BINANCE_VISION_URL: vision.url, BINANCE_SPOT_API_URL: vision.url, BINANCE_UM_API_URL: vision.url, BINANCE_CM_API_URL: vision.url,
    KLINES_REFRESH_QUEUE_URL: `${sqs.url}/123456789012/klines-refresh`, AWS_ENDPOINT_URL_SQS: sqs.url,
    AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true',
  });
  try {
    const [klines, worker] = [await loadBundle('http-get-klines'), await loadBundle('sqs-refresh-dataset')];
    startedMs = performance.now();
    const first = await klines(httpApiEvent('/klines', QUERY), lambdaContext('klines-http-get-klines', REMAINING_MS));
    const firstMs = performance.now() - startedMs;
    const accepted = JSON.parse(first.body);

    // A handoff still running when the 202 went out (continuation `next-request`) lands shortly after.
    const waitUntilMs = performance.now() + 120_000;
    for (let seen = -1; (seen !== sqs.bodies.length || seen === 0) && performance.now() < waitUntilMs;) {
      seen = sqs.bodies.length;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    startedMs = performance.now();
    const records = sqs.bodies.map((body, i) => ({ messageId: `m-${i}`, receiptHandle: `r-${i}`, body, attributes: {}, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:klines-refresh', awsRegion: 'eu-west-1' }));
    const batch = await worker({ Records: records }, lambdaContext('klines-sqs-refresh-dataset', 300_000));
    const workerMs = performance.now() - startedMs;

    startedMs = performance.now();
    const done = await klines(httpApiEvent('/klines', QUERY), lambdaContext('klines-http-get-klines', REMAINING_MS));
    const doneMs = performance.now() - startedMs;
    const answer = done.statusCode === 200 ? await decodeKlineColumns(new Uint8Array(await readFile(fileURLToPath(JSON.parse(done.body).url)))) : undefined;
    const difference = answer ? firstDifference(answer) : 'no 200 answer';
    const expectedRows = files.reduce((sum, f) => sum + f.rows, 0);
    const summary = {
      generated: { months: MONTHS, rows: expectedRows, ms: Math.round(generateMs) },
      first: {
        status: first.statusCode, retryAfter: first.headers?.['retry-after'], ms: Math.round(firstMs), continuation: accepted.continuation,
        covered: accepted.covered?.length, remainingRanges: accepted.remaining?.length, queuedMessages: accepted.queuedMessages, visionRequestsSoFar: vision.total(),
      },
      worker: { messages: sqs.bodies.length, batchItemFailures: batch.batchItemFailures.length, ms: Math.round(workerMs) },
      repeated: { status: done.statusCode, ms: Math.round(doneMs), rows: answer?.length, exact: difference === undefined, difference },
    };
    console.log(JSON.stringify(summary, null, 2));
    const ok = first.statusCode === 202 && firstMs < REMAINING_MS && Number(first.headers?.['retry-after']) > 0
      && batch.batchItemFailures.length === 0 && done.statusCode === 200 && difference === undefined && answer?.length === expectedRows;
    if (!ok) process.exitCode = 1;
  } finally {
    await Promise.all([vision.close(), sqs.close()]);
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

await main();
