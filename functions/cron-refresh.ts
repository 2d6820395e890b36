/**
 * The scheduled refresh (EventBridge Scheduler/rule → this function): reads the watchlist
 * (`KLINES_WATCHLIST` or `KLINES_WATCHLIST_S3`; entries may list `symbols` and `intervals` or a
 * `symbols_regex`, resolved against exchangeInfo) and fans out one SQS message per dataset to
 * `KLINES_REFRESH_QUEUE_URL` (SendMessageBatch, 10 per batch; entries SQS reports as failed
 * are resent once), for sqs-refresh-dataset to work on. Without a queue (local), refreshes the
 * datasets inline, one after another. Either way a rerun is idempotent: a refresh only fetches
 * candles closed since the dataset's coverage ends.
 * Returns `{ mode: 'queue', datasets, messages }` or `{ mode: 'inline', datasets, results }`;
 * throws (so EventBridge retries) when messages could not be sent or an inline refresh failed.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { awsOptions, loadConfig } from '../lib/config.ts';
import { once } from '../lib/lazy.ts';
import { createObservability, observe } from '../lib/observability.ts';
import type { RefreshResult } from '../lib/service/refresh.ts';
import { createSymbolDirectoryFromConfig } from '../lib/service/symbols.ts';
import { loadWatchlist, watchEntryId, type WatchlistEntry } from '../lib/service/watchlist.ts';
import { createS3Client } from '../lib/store/s3-api.ts';
import { encodeRefreshMessage } from './shared/refresh-message.ts';
import { s3ObjectReader } from './shared/s3-object-reader.ts';
import { createSqsClientFromConfig, SQS_BATCH_SIZE, type SendMessageBatchEntry, type SqsClient } from './shared/sqs-client.ts';

/** What one scheduled run did. */
export type CronRefreshResult =
  | { readonly mode: 'queue'; readonly datasets: number; readonly messages: number }
  | { readonly mode: 'inline'; readonly datasets: number; readonly results: readonly RefreshResult[] };

// Deployed with a queue, this function reads the watchlist and sends messages: it builds the
// configuration, the watchlist's S3 client and the SQS client, and no cache or service (issue 9,
// cold starts). Without a queue (local), the whole runtime is built on the first inline refresh.
const config = loadConfig();
const obs = createObservability(config);
const readS3Object = s3ObjectReader(config.watchlist?.kind === 's3' ? createS3Client(awsOptions(config, config.aws.s3Endpoint)) : undefined);
// exchangeInfo for `symbols_regex` entries, kept a day in this container's memory.
const symbols = createSymbolDirectoryFromConfig(config);
const queueUrl = config.refreshQueueUrl;
const sqs = queueUrl ? createSqsClientFromConfig(config) : undefined;
// The full runtime and the refresh runner, imported and built once, for inline refreshes.
const loadInlineRuntime = once(() => Promise.all([import('./shared/runtime.ts'), import('./shared/refresh-runner.ts')])
  .then(([{ createRuntime }, { runRefresh }]) => ({ runtime: createRuntime(config, obs), runRefresh })));

async function cronRefresh(event: ScheduledEvent, context: Context): Promise<CronRefreshResult> {
  const entries = await loadWatchlist(config.watchlist, readS3Object, (market, pattern) => symbols.resolve(market, pattern));
  obs.logger.info('scheduled refresh', { scheduledAt: event.time, rule: event.resources?.[0], datasets: entries.length, mode: sqs ? 'queue' : 'inline' });
  obs.metrics.addMetric('WatchedDatasets', MetricUnit.Count, entries.length);
  if (sqs && queueUrl) {
    const messages = await fanOut(sqs, queueUrl, entries);
    return { mode: 'queue', datasets: entries.length, messages };
  }
  const results: RefreshResult[] = [];
  const failed: string[] = [];
  const { runtime, runRefresh } = await loadInlineRuntime();
  for (const entry of entries) {
    try {
      results.push(await runRefresh(runtime, entry, abortBeforeTimeout(context)));
    } catch {
      failed.push(watchEntryId(entry)); // logged by runRefresh; the other datasets still run
    }
  }
  if (failed.length > 0) throw new Error(`cron-refresh: ${failed.length} of ${entries.length} datasets failed: ${failed.join(', ')}`);
  return { mode: 'inline', datasets: entries.length, results };
}

/** Sends one message per entry in batches of 10; resends failed entries once; returns messages sent. */
async function fanOut(client: SqsClient, url: string, entries: readonly WatchlistEntry[]): Promise<number> {
  let sent = 0;
  for (let i = 0; i < entries.length; i += SQS_BATCH_SIZE) {
    let batch: SendMessageBatchEntry[] = entries.slice(i, i + SQS_BATCH_SIZE).map((entry, j) => ({ Id: String(i + j), MessageBody: encodeRefreshMessage(entry) }));
    for (let attempt = 1; batch.length > 0; attempt++) {
      const answer = await client.sendMessageBatch({ QueueUrl: url, Entries: batch });
      sent += answer.Successful?.length ?? 0;
      const failedIds = new Set((answer.Failed ?? []).map((f) => f.Id));
      const failedEntries = batch.filter((entry) => failedIds.has(entry.Id));
      if (failedEntries.length > 0 && attempt >= 2) {
        const reasons = (answer.Failed ?? []).map((f) => `${entries[Number(f.Id)] ? watchEntryId(entries[Number(f.Id)]!) : f.Id}: ${f.Code} ${f.Message ?? ''}`.trim());
        throw new Error(`cron-refresh: SQS refused ${failedEntries.length} messages after a retry: ${reasons.join('; ')}`);
      }
      batch = failedEntries;
    }
  }
  obs.metrics.addMetric('RefreshMessagesSent', MetricUnit.Count, sent);
  return sent;
}

/** An AbortSignal that fires 5 s before the Lambda's deadline (Middy's habit: stop cleanly, not be killed). */
function abortBeforeTimeout(context: Context): AbortSignal | undefined {
  const remainingMs = context.getRemainingTimeInMillis?.();
  return remainingMs === undefined ? undefined : AbortSignal.timeout(Math.max(1, remainingMs - 5_000));
}

/** The Lambda handler. */
export const handler = middy<ScheduledEvent, CronRefreshResult>().use(observe(obs)).handler(cronRefresh);
