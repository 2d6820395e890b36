/**
 * The refresh worker (SQS → this function, with a dead-letter queue on the queue): each record
 * is one dataset (see shared/refresh-message.ts), refreshed by appending the candles closed since
 * its coverage ends. Records that fail (a bad body, an upstream failure) are reported as
 * `batchItemFailures` (partial batch response; the event source mapping needs
 * `ReportBatchItemFailures`), so only they return to the queue and, after maxReceiveCount, to
 * the dead-letter queue. Reruns are idempotent: a second run of the same message fetches nothing.
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { observe } from '../lib/observability.ts';
import type { WatchlistEntry } from '../lib/service/watchlist.ts';
import { decodeRefreshMessage } from './shared/refresh-message.ts';
import { runRefresh } from './shared/refresh-runner.ts';
import { createRuntime } from './shared/runtime.ts';

const runtime = createRuntime();

async function refreshBatch(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const remainingMs = context.getRemainingTimeInMillis?.();
  const signal = remainingMs === undefined ? undefined : AbortSignal.timeout(Math.max(1, remainingMs - 5_000));
  // One at a time: the service already fetches each dataset's gaps concurrently, and REST weight is per IP.
  for (const record of event.Records) {
    // A partial batch response is the documented way to fail one record; the others are kept.
    try {
      await runRefresh(runtime, decodeMessage(record), signal);
    } catch {
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

function decodeMessage(record: SQSRecord): WatchlistEntry {
  try {
    return decodeRefreshMessage(record.body);
  } catch (error) {
    runtime.obs.logger.error('bad refresh message', { messageId: record.messageId, reason: (error as Error).message });
    throw error;
  }
}

/** The Lambda handler. */
export const handler = middy<SQSEvent, SQSBatchResponse>().use(observe(runtime.obs)).handler(refreshBatch);
