/**
 * `GET /klines?market&symbol&interval&start|days&end&format=json|csv|parquet&source&with_source&data_type`
 * (`data_type`: klines (default), or on um/cm markPriceKlines, indexPriceKlines, premiumIndexKlines,
 * or fundingRate without `interval`: its events, shared/funding-answer.ts)
 * (`days=N`: the last N days up to `end`, default the last closed candle)
 * behind API Gateway (HTTP API, payload v2). Thin: validate the query, call the library, shape
 * the answer.
 * - 200 with the rows inline (JSON array of row objects, or CSV with a header) when the Lambda
 *   response fits `KLINES_INLINE_LIMIT_BYTES` (default 6 MB minus 256 KiB);
 * - 200 `{ url, expiresAt, rows, format }` for larger answers and every Parquet answer: `url` is a
 *   presigned GET (15 min) of the result in the results location (a `file://` URL locally);
 *   Answers longer than `KLINES_MAX_INLINE_ROWS` rows always go by URL; a range longer than that
 *   is filled first, then its answer streams from the cache to the results location, period by
 *   period (shared/http-answer.ts), so memory does not grow with the range.
 * - 202 Accepted with `Retry-After` when the fill cannot finish before the deadline (the Lambda's
 *   remaining time capped at API Gateway's 30 s, minus `KLINES_ANSWER_MARGIN_MS`): the body
 *   (shared/fill-within-deadline.ts) says what is covered and what remains, and the rest is
 *   queued for the refresh worker; the same request answers 200 once it is filled (issue 11).
 * - 400 / 404 / 502 `{ error: { code, message } }` for bad input / an unknown symbol / an upstream
 *   failure (naming the failed ranges); 503 with `Retry-After` for failures a retry may get past;
 *   a generic 500 only for a bug (logged with the request id).
 * A bound moved to what exists (a start before the market opened, an end after the last closed
 * candle) is said in the `x-klines-notice` header.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as v from 'valibot';
import { InvalidInputError } from '../lib/domain/errors.ts';
import { observe, recordKlinesRequest } from '../lib/observability.ts';
import { resolveQuery } from '../lib/service/request.ts';
import { objectMessages } from '../lib/service/validation.ts';
import { API_GATEWAY_TIMEOUT_MS, startDeadline } from './middleware/deadline.ts';
import { httpErrors } from './middleware/http-errors.ts';
import type { AcceptedFill } from './shared/fill-within-deadline.ts';
import { answerRows, shapeHttpAnswer } from './shared/http-answer.ts';
import { createRuntime } from './shared/runtime.ts';
import { answerWithinDeadline } from './shared/write-deadline.ts';

const REQUIRED = { symbol: 'symbol is required, e.g. BTCUSDT' };
const QuerySchema = v.object({
  market: v.optional(v.string()),
  symbol: v.string(REQUIRED.symbol),
  interval: v.optional(v.string()),
  start: v.optional(v.string()),
  end: v.optional(v.string()),
  days: v.optional(v.string()),
  source: v.optional(v.string()),
  data_type: v.optional(v.string()),
  format: v.optional(v.picklist(['json', 'csv', 'parquet'], 'format must be json or csv (inline when small, else by URL) or parquet (always by URL)'), 'json'),
  with_source: v.optional(v.picklist(['true', 'false'], 'with_source must be true or false'), 'false'),
}, objectMessages(REQUIRED));

// Built once per cold start and shared by every invocation of this container.
const runtime = createRuntime();

async function getKlines(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  const startedMs = performance.now();
  const deadline = startDeadline(context, { capMs: API_GATEWAY_TIMEOUT_MS, marginMs: runtime.config.answerMarginMs });
  try {
    const parsed = v.safeParse(QuerySchema, event.queryStringParameters ?? {});
    if (!parsed.success) {
      throw new InvalidInputError(`query: ${parsed.issues.map((issue) => issue.message).join('; ')}`);
    }
    const query = parsed.output;
    if (query.data_type === 'fundingRate') {
      const { answerFunding, fundingHttpResponse } = await import('./shared/funding-answer.ts'); // with the first funding request (cold start)
      return await fundingHttpResponse(runtime, await answerFunding(runtime, query), query.format);
    }
    if (query.interval === undefined) throw new InvalidInputError('query: interval is required, e.g. 1m (only data_type=fundingRate takes none)');
    const resolved = resolveQuery({ ...query, interval: query.interval, dataType: query.data_type }, runtime.nowMs());
    const notice = resolved.notices.length > 0 ? { 'x-klines-notice': resolved.notices.join('; ') } : undefined;
    const outcome = await answerWithinDeadline(runtime, resolved, deadline);
    if (outcome.kind === 'accepted') return acceptedResponse(outcome.accepted, notice);
    const { answer } = outcome;
    const { response, delivery } = await shapeHttpAnswer({
      answer,
      format: query.format,
      withSource: query.with_source === 'true',
      inlineLimitBytes: runtime.config.inlineLimitBytes,
      // Past the row cap the answer goes by URL whatever its size.
      maxInlineRows: runtime.config.maxInlineRows,
      headers: { ...notice },
    }, runtime.results);
    recordKlinesRequest(runtime.obs, { stats: answer.stats, rowsServed: answerRows(answer), durationMs: performance.now() - startedMs, delivery });
    return response;
  } finally {
    deadline.dispose();
  }
}

function acceptedResponse(accepted: AcceptedFill, notice: Record<string, string> | undefined): APIGatewayProxyStructuredResultV2 {
  runtime.obs.logger.info('fill accepted', { remaining: accepted.remaining.length, continuation: accepted.continuation, queuedMessages: accepted.queuedMessages });
  return {
    statusCode: 202,
    headers: { 'content-type': 'application/json', 'retry-after': String(accepted.retryAfterSeconds), ...notice },
    body: JSON.stringify({ status: 'accepted', ...accepted }),
  };
}

/** The Lambda handler. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
  .use(observe(runtime.obs))
  .use(httpErrors(runtime.obs.logger))
  .handler(getKlines);
