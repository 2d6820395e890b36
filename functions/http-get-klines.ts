/**
 * `GET /klines?market&symbol&interval&start&end&format=json|csv&source` behind API Gateway
 * (HTTP API, payload v2). Thin: validate the query, call the library, shape the answer.
 * 200 with the rows (JSON array of row objects, or CSV with a header); 400 with
 * `{error:{code,message}}` for bad input; 502 naming the failed range when an upstream fails.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { loadConfig } from '../lib/config.ts';
import { createServiceFromConfig } from '../lib/create-service.ts';
import { InvalidInputError } from '../lib/domain/errors.ts';
import type { KlinesService } from '../lib/service/klines-service.ts';
import { formatCsv, formatJson } from '../lib/service/format.ts';
import { resolveQuery } from '../lib/service/request.ts';
import { httpErrors } from './middleware/http-errors.ts';

const QuerySchema = z.object({
  market: z.string().optional(),
  symbol: z.string({ error: 'symbol is required, e.g. BTCUSDT' }),
  interval: z.string({ error: 'interval is required, e.g. 1m' }),
  start: z.string({ error: 'start is required: ISO-8601 or epoch ms' }),
  end: z.string().optional(),
  source: z.string().optional(),
  format: z.enum(['json', 'csv'], { error: 'format must be json or csv' }).default('json'),
  with_source: z.enum(['true', 'false'], { error: 'with_source must be true or false' }).default('false'),
});

// Built once per cold start and shared by every invocation of this container.
const config = loadConfig();
let service: KlinesService | undefined;

async function getKlines(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const parsed = QuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) {
    throw new InvalidInputError(`query: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  }
  const query = parsed.data;
  const nowMs = config.nowMs ?? Date.now();
  const resolved = resolveQuery(query, nowMs);
  service ??= createServiceFromConfig(config);
  const answer = await service.getKlines(resolved);
  const withSource = query.with_source === 'true';
  return {
    statusCode: 200,
    headers: {
      'content-type': query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json',
      'x-klines-rows': String(answer.rows.length),
      'x-klines-rows-from-cache': String(answer.stats.rowsFromCache),
    },
    body: query.format === 'csv' ? formatCsv(answer.rows, withSource) : formatJson(answer.rows, withSource),
  };
}

/** The Lambda handler. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().use(httpErrors()).handler(getKlines);
