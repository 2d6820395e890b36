/**
 * Direct invoke from other Lambdas (InvokeCommand), typed by lib/client/klines-client.ts:
 * payload `{ market?, symbol, interval, start | days, end?, source? }` (validated with valibot; inclusive
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
import * as v from 'valibot';
import type { InvokeFundingResult, InvokeKlinesResult, InvokeKlinesStats, InvokeListDatasetsResult } from '../lib/client/klines-client.ts';
import { InvalidInputError } from '../lib/domain/errors.ts';
import { observe, recordKlinesRequest } from '../lib/observability.ts';
import { listDatasets, parseDatasetFilter } from '../lib/service/datasets.ts';
import { resolveQuery } from '../lib/service/request.ts';
import { objectMessages } from '../lib/service/validation.ts';
import { startDeadline } from './middleware/deadline.ts';
import { explainError, INTERNAL_ERROR } from './middleware/http-errors.ts';
import { shapeInvokeAnswer } from './shared/invoke-answer.ts';
import { createRuntime } from './shared/runtime.ts';
import { answerWithinDeadline } from './shared/write-deadline.ts';

const TIME_ERROR = 'must be ISO-8601 or epoch ms';
const time = v.pipe(v.union([v.string(), v.pipe(v.number(), v.integer(TIME_ERROR), v.minValue(0, TIME_ERROR))], TIME_ERROR), v.transform(String));
const REQUIRED = { symbol: 'symbol is required, e.g. BTCUSDT' };
const market = v.picklist(['spot', 'um', 'cm'], 'market must be spot, um or cm');
const PayloadSchema = v.strictObject({
  action: v.optional(v.literal('get-klines')),
  market: v.optional(market),
  symbol: v.string(REQUIRED.symbol),
  interval: v.optional(v.string()),
  start: v.optional(time),
  end: v.optional(time),
  days: v.optional(v.pipe(v.number(), v.integer(), v.transform(String))),
  source: v.optional(v.picklist(['auto', 'vision', 'rest'], 'source must be auto, vision or rest')),
  dataType: v.optional(v.string()),
}, objectMessages(REQUIRED, 'payload must be an object {market?,symbol,interval,start|days,end?,source?,dataType?}'));
const ListDatasetsSchema = v.strictObject({
  action: v.literal('list-datasets'),
  market: v.optional(market),
  symbol: v.optional(v.string()),
  interval: v.optional(v.string()),
  dataType: v.optional(v.string()),
}, objectMessages());

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
    if (query.dataType === 'fundingRate') {
      const { answerFunding, fundingInvokeResult } = await import('./shared/funding-answer.ts'); // with the first funding request (cold start)
      return fundingInvokeResult(runtime, await answerFunding(runtime, query));
    }
    if (query.interval === undefined) throw new InvalidInputError('payload: interval is required, e.g. 1h (only dataType fundingRate takes none)');
    const resolved = resolveQuery({ ...query, interval: query.interval }, runtime.nowMs());
    const outcome = await answerWithinDeadline(runtime, resolved, deadline);
    if (outcome.kind === 'accepted') return { ok: true, accepted: true, ...outcome.accepted };
    const { answer } = outcome;
    const { result, delivery } = await shapeInvokeAnswer(answer, runtime.config, runtime.results);
    recordKlinesRequest(runtime.obs, { stats: answer.stats, rowsServed: result.count, durationMs: performance.now() - startedMs, delivery });
    return result;
  } finally {
    deadline.dispose();
  }
}

/** The payload parsed by `schema`; InvalidInputError listing every issue (with its field) otherwise. */
function parseOrThrow<T extends v.GenericSchema>(schema: T, payload: unknown): v.InferOutput<T> {
  // valibot's object schemas take arrays as objects; a payload must be a JSON object, as before.
  const parsed = v.safeParse(schema, Array.isArray(payload) ? undefined : payload);
  if (!parsed.success) {
    throw new InvalidInputError(`payload: ${parsed.issues.map((i) => `${v.getDotPath(i) ? `${v.getDotPath(i)}: ` : ''}${i.message}`).join('; ')}`);
  }
  return parsed.output;
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
