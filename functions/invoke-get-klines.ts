/**
 * Direct invoke from other Lambdas (InvokeCommand), typed by lib/client/klines-client.ts:
 * payload `{ market?, symbol, interval, start | days, end?, source? }` (validated with zod; inclusive
 * bounds, ISO-8601 or epoch ms; `days` N = the last N days), or `{ action: 'list-datasets',
 * market?, symbol?, interval?, dataType? }` answered `{ ok: true, datasets }` (issue 10, the
 * listing of `klines ls`). Result `{ ok: true, count, rows | uri, stats }`: rows inline
 * when the serialized result fits `KLINES_INLINE_LIMIT_BYTES`, else the `s3://` URI (a `file://`
 * URL locally) of a Parquet result in the results location. Errors are returned as data,
 * `{ ok: false, error: { code, message } }`, so callers branch on `ok` instead of parsing
 * FunctionError; errors that are not explained (not a KlinesError with a known code) come back
 * as `INTERNAL` without details, and are logged with the request id.
 * Deadline (issue 11): the function's own remaining time minus `KLINES_ANSWER_MARGIN_MS`. A fill
 * that cannot finish by then answers `{ ok: true, accepted: true, retryAfterSeconds, covered,
 * remaining, ... }` (not an error): the rest is queued for the refresh worker. Answers longer than
 * `KLINES_MAX_INLINE_ROWS` rows always come as a `uri`; a range longer than that is filled first,
 * then its answer streams from the cache into the Parquet result (shared/invoke-answer.ts).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import type { InvokeFundingResult, InvokeKlinesResult, InvokeKlinesStats, InvokeListDatasetsResult } from '../lib/client/klines-client.ts';
import { InvalidInputError } from '../lib/domain/errors.ts';
import { observe, recordKlinesRequest } from '../lib/observability.ts';
import { listDatasets, parseDatasetFilter } from '../lib/service/datasets.ts';
import { resolveQuery } from '../lib/service/request.ts';
import { startDeadline } from './middleware/deadline.ts';
import { explainError, INTERNAL_ERROR } from './middleware/http-errors.ts';
import { fillWithinDeadline } from './shared/fill-within-deadline.ts';
import { answerFunding, fundingInvokeResult } from './shared/funding-answer.ts';
import { streamsAnswer } from './shared/http-answer.ts';
import { shapeInvokeAnswer } from './shared/invoke-answer.ts';
import { createRuntime } from './shared/runtime.ts';

const time = z.union([z.string(), z.number().int().nonnegative()], { error: 'must be ISO-8601 or epoch ms' }).transform(String);
const market = z.enum(['spot', 'um', 'cm'], { error: 'market must be spot, um or cm' });
const PayloadSchema = z.object({
  action: z.literal('get-klines').optional(),
  market: market.optional(),
  symbol: z.string({ error: 'symbol is required, e.g. BTCUSDT' }),
  interval: z.string().optional(),
  start: time.optional(),
  end: time.optional(),
  days: z.number().int().transform(String).optional(),
  source: z.enum(['auto', 'vision', 'rest'], { error: 'source must be auto, vision or rest' }).optional(),
  dataType: z.string().optional(),
}, { error: (issue) => (issue.code === 'invalid_type' ? 'payload must be an object {market?,symbol,interval,start|days,end?,source?,dataType?}' : undefined) }).strict();
const ListDatasetsSchema = z.object({
  action: z.literal('list-datasets'),
  market: market.optional(),
  symbol: z.string().optional(),
  interval: z.string().optional(),
  dataType: z.string().optional(),
}).strict();

const runtime = createRuntime();

async function invokeGetKlines(payload: unknown, context: Context): Promise<InvokeKlinesResult | InvokeFundingResult | InvokeListDatasetsResult> {
  if ((payload as { action?: unknown } | null)?.action === 'list-datasets') {
    const filter = parseOrThrow(ListDatasetsSchema, payload);
    return { ok: true, datasets: await listDatasets(runtime.handles.index, parseDatasetFilter(filter)) };
  }
  const startedMs = performance.now();
  const deadline = startDeadline(context, { marginMs: runtime.config.answerMarginMs });
  try {
    const { action: _action, ...query } = parseOrThrow(PayloadSchema, payload);
    if (query.dataType === 'fundingRate') return fundingInvokeResult(runtime, await answerFunding(runtime, query));
    if (query.interval === undefined) throw new InvalidInputError('payload: interval is required, e.g. 1h (only dataType fundingRate takes none)');
    const resolved = resolveQuery({ ...query, interval: query.interval }, runtime.nowMs());
    const outcome = streamsAnswer(resolved, runtime.config.maxInlineRows)
      ? await fillWithinDeadline(runtime, resolved, deadline, runtime.prepareStream)
      : await fillWithinDeadline(runtime, resolved, deadline);
    if (outcome.kind === 'accepted') return { ok: true, accepted: true, ...outcome.accepted };
    const { result, delivery } = await shapeInvokeAnswer(outcome.answer, runtime.config, runtime.results);
    recordKlinesRequest(runtime.obs, { stats: outcome.answer.stats, rowsServed: result.count, durationMs: performance.now() - startedMs, delivery });
    return result;
  } finally {
    deadline.dispose();
  }
}

/** The payload parsed by `schema`; InvalidInputError listing every issue (with its field) otherwise. */
function parseOrThrow<T extends z.ZodType>(schema: T, payload: unknown): z.output<T> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    throw new InvalidInputError(`payload: ${parsed.error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Middy middleware: errors become `{ ok: false, error }` (explained ones in full, others as INTERNAL). */
function errorsAsData(): middy.MiddlewareObj<unknown, InvokeKlinesResult | InvokeFundingResult | InvokeListDatasetsResult, Error, Context> {
  return {
    onError: async (request) => {
      const explained = explainError(request.error);
      if (explained) runtime.obs.logger.warn('request failed', { code: explained.error.code, reason: explained.error.message });
      else runtime.obs.logger.error('unhandled error', { requestId: request.context?.awsRequestId, error: request.error as Error });
      const retry = explained?.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: explained.retryAfterSeconds };
      request.response = { ok: false, error: explained?.error ?? INTERNAL_ERROR, ...retry };
    },
  };
}

/** The Lambda handler. */
export const handler = middy<unknown, InvokeKlinesResult | InvokeFundingResult | InvokeListDatasetsResult, Error, Context>().use(observe(runtime.obs)).use(errorsAsData()).handler(invokeGetKlines);
