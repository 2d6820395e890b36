/**
 * Hands the rest of a fill to the refresh worker when a request reaches its deadline (issue 11):
 * one SQS message per dataset period still to fill (the period's range within the request, so a
 * month of 1m is one Vision file's worth of work), sent to `KLINES_REFRESH_QUEUE_URL`.
 * Repeated requests do not multiply the work: before a message is sent, a short-lived marker
 * (a lease with key `fill:{period}:{startMs}-{endMs}` in the cache's lease store: a conditional
 * write in DynamoDB, a locked file locally) is taken; a message whose marker is still held by an
 * earlier request is not sent again. The marker is never released early: it expires.
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { datasetId, type Dataset } from '../../lib/domain/kline.ts';
import { granularityFor, periodsInRange } from '../../lib/domain/periods.ts';
import { intersectRanges, type Range } from '../../lib/domain/ranges.ts';
import { encodeFillMessage } from './refresh-message.ts';
import type { Runtime } from './runtime.ts';
import { createSqsClientFromConfig, SQS_BATCH_SIZE, type SqsClient } from './sqs-client.ts';

/** How long a queued fill's marker keeps an identical message from being sent again: 10 minutes. */
export const FILL_MARKER_TTL_MS = 10 * 60_000;

/** What was handed over: messages sent now, and periods an earlier request had already queued. */
export interface HandoffResult {
  readonly messages: number;
  readonly alreadyQueued: number;
}

let sqs: SqsClient | undefined;

/**
 * Queues the fill of `remaining` (half-open ranges, UTC epoch ms) of `dataset`, one message per
 * period, each clipped to `requested`. Throws (an AwsRequestError, or Error naming the refused entries)
 * when SQS does not take the messages; the markers of unsent messages are then released, so a
 * retried request queues them.
 */
export async function handOffFill(runtime: Runtime, queueUrl: string, dataset: Dataset, requested: Range, remaining: readonly Range[]): Promise<HandoffResult> {
  if (remaining.length === 0) return { messages: 0, alreadyQueued: 0 };
  const id = datasetId(dataset);
  const owner = randomUUID();
  const pieces = new Map<string, Range>();
  for (const period of periodsInRange({ startMs: Math.min(...remaining.map((r) => r.startMs)), endMs: Math.max(...remaining.map((r) => r.endMs)) }, granularityFor(dataset.interval))) {
    const [piece] = intersectRanges([period.range], [requested]);
    if (piece && intersectRanges([piece], remaining).length > 0) pieces.set(`fill:${period.key}:${piece.startMs}-${piece.endMs}`, piece);
  }
  const limit = pLimit(16);
  const taken = (await Promise.all([...pieces].map(([key, range]) => limit(async () => (
    (await runtime.handles.leases.acquire(id, key, owner, FILL_MARKER_TTL_MS)) ? [{ key, range }] : []))))).flat();
  sqs ??= createSqsClientFromConfig(runtime.config);
  let sent = 0;
  try {
    for (let i = 0; i < taken.length; i += SQS_BATCH_SIZE) {
      const batch = taken.slice(i, i + SQS_BATCH_SIZE);
      const answer = await sqs.sendMessageBatch({
        QueueUrl: queueUrl, Entries: batch.map((piece, j) => ({ Id: String(j), MessageBody: encodeFillMessage(dataset, piece.range) })),
      });
      if ((answer.Failed ?? []).length > 0) {
        throw new Error(`fill handoff: SQS refused ${answer.Failed!.length} messages: ${answer.Failed!.map((f) => `${f.Code} ${f.Message ?? ''}`.trim()).join('; ')}`);
      }
      sent += batch.length;
    }
  } catch (error) {
    await Promise.all(taken.slice(sent).map((piece) => runtime.handles.leases.release(id, piece.key, owner).catch(() => undefined)));
    throw error;
  }
  return { messages: sent, alreadyQueued: pieces.size - taken.length };
}
