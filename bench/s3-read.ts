/**
 * S3 read cost (issue 3, item 8): a year of 1m klines read from S3 + DynamoDB on the local servers
 * (s3rver, dynalite on 127.0.0.1), counting the requests each AWS client sends with a counting
 * middleware (no mock: the servers answer every request). The year is first filled through the
 * service from the bench Vision server (12 monthly files → parts → compacted canonical files),
 * then read warm a few times.
 */
import { loadConfig } from '../lib/config.ts';
import { createCacheHandles, createServiceFromConfig } from '../lib/create-service.ts';
import type { Dataset } from '../lib/domain/kline.ts';
import type { Range } from '../lib/domain/ranges.ts';
import { ensureBucket, ensureTable } from '../lib/store/aws-setup.ts';
import { createBufferedStatsStore } from '../lib/store/buffered-stats-store.ts';
import { recordingFetch } from '../test/helpers/aws-fetch.ts';
import { startLocalAws } from '../test/helpers/local-aws.ts';
import { percentile } from './measure.ts';

/** Requests per AWS operation (`GetObject`, `Query`, ...). */
export type RequestCounts = Record<string, number>;

/** What one warm read of the year cost, and the cold fill before it. */
export interface S3ReadResult {
  readonly rows: number;
  readonly coldMs: number;
  readonly coldRequests: RequestCounts;
  readonly warmRequests: RequestCounts;
  readonly warmMedianMs: number;
  readonly warmRuns: number;
  /** Requests of flushing the statistics of every run once at the end (as a Lambda container does every 100 requests or 60 s). */
  readonly flushRequests: RequestCounts;
}

/** Fills then reads `range` of `dataset` (expected `expectedRows` rows) on local S3 + DynamoDB. */
export async function benchS3Read(upstreamUrl: string, nowMs: number, dataset: Dataset, range: Range, expectedRows: number, runs = 5): Promise<S3ReadResult> {
  const aws = await startLocalAws();
  try {
    const counts: RequestCounts = {};
    const log: string[] = [];
    const count = recordingFetch(log, async (input, init) => {
      const name = log.pop()!;
      counts[name] = (counts[name] ?? 0) + 1;
      return fetch(input, init);
    });
    const s3 = aws.makeS3Client(count);
    const dynamodb = aws.makeDynamoClient(count);
    await ensureBucket(s3, 'klines-bench');
    await ensureTable(dynamodb, 'klines-bench');
    for (const name of Object.keys(counts)) delete counts[name]; // the setup is not the read
    const config = loadConfig({
      ...aws.env, KLINES_STORE: 's3://klines-bench/cache', KLINES_INDEX: 'dynamodb://klines-bench', KLINES_NOW: String(nowMs),
      BINANCE_VISION_URL: upstreamUrl, BINANCE_SPOT_API_URL: upstreamUrl, BINANCE_UM_API_URL: upstreamUrl, BINANCE_CM_API_URL: upstreamUrl,
    });
    // As the Lambdas build it (functions/shared/runtime.ts): statistics buffered per container.
    const handles = createCacheHandles(config, { s3, dynamodb });
    const stats = createBufferedStatsStore(handles.stats);
    const service = createServiceFromConfig(config, { ...handles, stats });

    const coldStarted = performance.now();
    const cold = await service.getKlines({ dataset, range });
    const coldMs = performance.now() - coldStarted;
    if (cold.columns.length !== expectedRows) throw new Error(`bench: S3 cold read returned ${cold.columns.length} rows, expected ${expectedRows}`);
    const coldRequests = { ...counts };

    const samples: number[] = [];
    let warmRequests: RequestCounts = {};
    for (let i = 0; i < runs; i++) {
      for (const key of Object.keys(counts)) delete counts[key];
      const started = performance.now();
      const warm = await service.getKlines({ dataset, range });
      samples.push(performance.now() - started);
      if (warm.columns.length !== expectedRows || warm.stats.rowsFromCache !== expectedRows) throw new Error('bench: S3 warm read was not served from the cache');
      warmRequests = { ...counts };
    }
    for (const key of Object.keys(counts)) delete counts[key];
    await stats.flush();
    const flushRequests = { ...counts };
    return { rows: expectedRows, coldMs, coldRequests, warmRequests, warmMedianMs: percentile(samples, 50), warmRuns: runs, flushRequests };
  } finally {
    await aws.close();
  }
}
