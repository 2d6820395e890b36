/**
 * Answers a klines request within the handler's deadline (issue 11). The service fills the gaps
 * until the deadline's fill stop; a fill that cannot finish by then becomes an "accepted" outcome:
 * what the cache covers of the request now, what remains, when to ask again, and who goes on:
 * - `queue`: with `KLINES_REFRESH_QUEUE_URL` set (AWS), the fill is stopped at the deadline
 *   (nothing partial is cached; every stored piece stays) and the remaining periods are queued
 *   for the refresh worker (fill-handoff.ts, deduplicated);
 * - `in-process`: without a queue (local serving), the fill goes on in this process under the
 *   leases it holds, and the answer goes out without waiting for it;
 * - `next-request`: the queue refused the messages; a repeated request continues the fill.
 */
import type { Dataset } from '../../lib/domain/kline.ts';
import { datasetId, datasetLabel } from '../../lib/domain/kline.ts';
import { INTERVAL_MS } from '../../lib/domain/intervals.ts';
import { KlinesError } from '../../lib/domain/errors.ts';
import { granularityFor, periodsInRange } from '../../lib/domain/periods.ts';
import { intersectRanges, normalizeRanges, subtractRanges, totalMs, type Range } from '../../lib/domain/ranges.ts';
import type { KlinesAnswer, KlinesRequest } from '../../lib/service/klines-service.ts';
import type { ResolvedQuery } from '../../lib/service/request.ts';
import type { Deadline } from '../middleware/deadline.ts';
import { handOffFill } from './fill-handoff.ts';
import type { Runtime } from './runtime.ts';

/** A range as answered: half-open UTC epoch ms and ISO-8601 (`end` exclusive: the open_time after the last candle). */
export interface DescribedRange {
  readonly startMs: number;
  readonly endMs: number;
  readonly start: string;
  readonly end: string;
}

/** The body of a 202 (and the invoke client's accepted result). */
export interface AcceptedFill {
  readonly message: string;
  /** When to ask again, in seconds (also the Retry-After header). */
  readonly retryAfterSeconds: number;
  readonly requested: DescribedRange;
  /** The parts of the request the cache holds now. */
  readonly covered: DescribedRange[];
  /** The parts still to fill. */
  readonly remaining: DescribedRange[];
  readonly continuation: 'queue' | 'in-process' | 'next-request';
  /** Messages queued by this request, and periods an earlier request had queued already. */
  readonly queuedMessages: number;
  readonly alreadyQueued: number;
}

/** Either the answer, or the fill accepted and going on. */
export type FillOutcome<A = KlinesAnswer> = { readonly kind: 'answered'; readonly answer: A } | { readonly kind: 'accepted'; readonly accepted: AcceptedFill };

// Once the fill is told to stop, it gets a quarter of the shaping margin to release its leases
// before the answer goes out without it; the rest is for the coverage read and the handoff.
const WIND_DOWN_SHARE = 0.25;
// Kept for writing the 202 itself after the coverage read and the handoff.
const ANSWER_RESERVE_MS = 200;
// Rough pace of the worker's fill (Vision files parse at several 100k candles/s), for Retry-After.
const WORKER_CANDLES_PER_SECOND = 50_000;

/** Fills started here that have not settled: after a 202 `in-process`, the fill goes on in this process. */
const running = new Set<Promise<unknown>>();

/**
 * Resolves once every fill this module started has settled (never rejects): for a process that
 * must not stop, or remove its cache, while a fill it answered 202 for is still writing (a
 * graceful shutdown; tests that clean their cache folder up after an in-process continuation).
 */
export async function settleFills(): Promise<void> {
  while (running.size > 0) await Promise.allSettled([...running]);
}

/**
 * Runs the request within `deadline`. Resolves `answered` when the service answered in time,
 * `accepted` when the deadline came first. Rethrows any other error of the service. `answer`
 * builds the answer (default the whole answer, `getKlines`; a long answer is a stream prepared
 * by `runtime.prepareStream`, whose fill is what the deadline bounds).
 */
export async function fillWithinDeadline<A = KlinesAnswer>(
  runtime: Runtime, query: ResolvedQuery, deadline: Deadline,
  answer: (request: KlinesRequest) => Promise<A> = (request) => runtime.service.getKlines(request) as Promise<A>,
): Promise<FillOutcome<A>> {
  const queueUrl = runtime.config.refreshQueueUrl;
  const fill = answer({ ...query, signal: queueUrl ? deadline.signal : undefined });
  running.add(fill);
  fill.then(() => running.delete(fill), () => running.delete(fill));
  let answeredWithout = false;
  fill.catch((error: unknown) => {
    // Errors before the answer are the answer's; after it, only the log can say.
    if (answeredWithout && !isDeadline(error)) runtime.obs.logger.warn('fill ended after the answer', { datasetId: datasetId(query.dataset), reason: (error as Error)?.message });
  });
  const late = deadline.reached.then(() => new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), queueUrl ? runtime.config.answerMarginMs * WIND_DOWN_SHARE : 0).unref()));
  try {
    const first = await Promise.race([fill, late]);
    if (first !== 'late') return { kind: 'answered', answer: first };
  } catch (error) {
    if (!isDeadline(error)) throw error;
  }
  const accepted = await describeAccepted(runtime, query, deadline, queueUrl);
  if (accepted.remaining.length === 0) {
    // Nothing is left to fetch, only to read: the answer may still make it, with half the margin kept to shape it.
    const read = await beforeDeadline(fill, deadline.remainingMs() - runtime.config.answerMarginMs / 2).catch(() => 'late' as const);
    if (read !== 'late') return { kind: 'answered', answer: read };
  }
  answeredWithout = true;
  return { kind: 'accepted', accepted };
}

function isDeadline(error: unknown): boolean {
  return error instanceof KlinesError && error.code === 'DEADLINE_REACHED';
}

async function describeAccepted(runtime: Runtime, query: ResolvedQuery, deadline: Deadline, queueUrl: string | undefined): Promise<AcceptedFill> {
  const { dataset, range } = query;
  // Each step gets what is left before the answer is due (less a little for writing it); a step
  // that cannot finish in time is answered without: covered unknown (all remains), or not queued.
  const inTime = <T>(work: Promise<T>): Promise<T | 'late'> => beforeDeadline(work, deadline.remainingMs() - ANSWER_RESERVE_MS);
  const read = await inTime(readCovered(runtime, dataset, range)).catch(() => 'late' as const);
  const covered = read === 'late' ? [] : intersectRanges([range], read);
  const remaining = subtractRanges([range], covered);
  let continuation: AcceptedFill['continuation'] = queueUrl ? 'queue' : 'in-process';
  let handoff = { messages: 0, alreadyQueued: 0 };
  if (queueUrl) {
    const queued = await inTime(handOffFill(runtime, queueUrl, dataset, range, remaining)).catch((error: unknown) => {
      runtime.obs.logger.error('fill handoff failed', { datasetId: datasetId(dataset), reason: (error as Error)?.message });
      return 'late' as const;
    });
    if (queued === 'late') continuation = 'next-request';
    else handoff = queued;
  }
  const candles = totalMs(remaining) / INTERVAL_MS[dataset.interval];
  const retryAfterSeconds = Math.min(300, Math.max(2, Math.ceil(candles / WORKER_CANDLES_PER_SECOND)));
  return {
    message: `${datasetLabel(dataset)}: the fill could not finish before the deadline; ${remaining.length === 0 ? 'it has just finished' : `${Math.round(candles)} candles remain`}. What was fetched is kept; ask again in ${retryAfterSeconds} s.`,
    retryAfterSeconds,
    requested: describeRange(range),
    covered: covered.map(describeRange),
    remaining: remaining.map(describeRange),
    continuation,
    queuedMessages: handoff.messages,
    alreadyQueued: handoff.alreadyQueued,
  };
}

/** `work`'s result, or 'late' when it has not settled within `ms` (the work goes on unobserved). */
async function beforeDeadline<T>(work: Promise<T>, ms: number): Promise<T | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, ms))));
  work.catch(() => undefined);
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The covered ranges of the dataset's periods overlapping `range`, from one index query. */
async function readCovered(runtime: Runtime, dataset: Dataset, range: Range): Promise<Range[]> {
  const periods = periodsInRange(range, granularityFor(dataset.interval));
  const first = periods[0];
  const last = periods[periods.length - 1];
  if (!first || !last) return [];
  const records = await runtime.handles.index.query(datasetId(dataset), first.key, last.key);
  return normalizeRanges(records.flatMap((record) => record.covered));
}

/** A range with its ISO-8601 form. */
export function describeRange(range: Range): DescribedRange {
  return { startMs: range.startMs, endMs: range.endMs, start: new Date(range.startMs).toISOString(), end: new Date(range.endMs).toISOString() };
}
