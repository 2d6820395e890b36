/**
 * `GET /klines?market&symbol&interval&start|days&end&format=json|csv|parquet&source&with_source`
 * (`days=N`: the last N days up to `end`, default the last closed candle)
 * behind API Gateway (HTTP API, payload v2). Thin: validate the query, call the library, shape
 * the answer.
 * - 200 with the rows inline (JSON array of row objects, or CSV with a header) when the Lambda
 *   response fits `KLINES_INLINE_LIMIT_BYTES` (default 6 MB minus 256 KiB);
 * - 200 `{ url, expiresAt, rows, format }` for larger answers and every Parquet answer: `url` is a
 *   presigned GET (15 min) of the result in the results location (a `file://` URL locally);
 * - 400 / 502 `{ error: { code, message } }` for bad input / an upstream failure (naming the
 *   failed ranges); anything else a generic 500.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { InvalidInputError } from '../lib/domain/errors.ts';
import { observe, recordKlinesRequest } from '../lib/observability.ts';
import { resolveQuery } from '../lib/service/request.ts';
import { httpErrors } from './middleware/http-errors.ts';
import { shapeHttpAnswer } from './shared/http-answer.ts';
import { createRuntime } from './shared/runtime.ts';

const QuerySchema = z.object({
  market: z.string().optional(),
  symbol: z.string({ error: 'symbol is required, e.g. BTCUSDT' }),
  interval: z.string({ error: 'interval is required, e.g. 1m' }),
  start: z.string().optional(),
  end: z.string().optional(),
  days: z.string().optional(),
  source: z.string().optional(),
  format: z.enum(['json', 'csv', 'parquet'], { error: 'format must be json or csv (inline when small, else by URL) or parquet (always by URL)' }).default('json'),
  with_source: z.enum(['true', 'false'], { error: 'with_source must be true or false' }).default('false'),
});

// Built once per cold start and shared by every invocation of this container.
const runtime = createRuntime();

async function getKlines(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const startedMs = performance.now();
  const parsed = QuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) {
    throw new InvalidInputError(`query: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  }
  const query = parsed.data;
  const resolved = resolveQuery(query, runtime.nowMs());
  const answer = await runtime.service.getKlines(resolved);
  const { response, delivery } = await shapeHttpAnswer({
    answer,
    format: query.format,
    withSource: query.with_source === 'true',
    inlineLimitBytes: runtime.config.inlineLimitBytes,
    headers: { 'x-klines-rows': String(answer.columns.length), 'x-klines-rows-from-cache': String(answer.stats.rowsFromCache) },
  }, runtime.results);
  recordKlinesRequest(runtime.obs, { stats: answer.stats, rowsServed: answer.columns.length, durationMs: performance.now() - startedMs, delivery });
  return response;
}

/** The Lambda handler. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(observe(runtime.obs))
  .use(httpErrors(runtime.obs.logger))
  .handler(getKlines);
