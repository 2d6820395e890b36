/**
 * The refresh worker (SQS → this function, with a dead-letter queue on the queue): each record
 * is one dataset (see shared/refresh-message.ts), refreshed by appending the candles closed since
 * its coverage ends, or the fill of a range that an HTTP or invoke request handed over when it
 * reached its deadline (issue 11; only the range's gaps are fetched). Records that fail (a bad body, an upstream failure) are reported as
 * `batchItemFailures` (partial batch response; the event source mapping needs
 * `ReportBatchItemFailures`), so only they return to the queue and, after maxReceiveCount, to
 * the dead-letter queue. Reruns are idempotent: a second run of the same message fetches nothing.
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { observe } from '../lib/observability.ts';
import { decodeQueueMessage, type QueueWork } from './shared/refresh-message.ts';
import { runFill, runRefresh } from './shared/refresh-runner.ts';
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
      const work = decodeMessage(record);
      if (work.kind === 'fill') await runFill(runtime, work.dataset, work.range, signal);
      else await runRefresh(runtime, work.entry, signal);
    } catch {
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

function decodeMessage(record: SQSRecord): QueueWork {
  try {
    return decodeQueueMessage(record.body);
  } catch (error) {
    runtime.obs.logger.error('bad refresh message', { messageId: record.messageId, reason: (error as Error).message });
    throw error;
  }
}

/** The Lambda handler. */
export const handler = middy<SQSEvent, SQSBatchResponse>().use(observe(runtime.obs)).handler(refreshBatch);
