/**
 * `GET /datasets?market&symbol&interval&data_type` behind API Gateway (HTTP API, payload v2): every
 * cached dataset (issue 10; the same listing as `klines ls --json`), built from one scan of the
 * coverage index, with no object read. 200 `{ datasets: DatasetSummary[] }` (lib/service/datasets.ts:
 * first and last open_time, rows, bytes, sources, covered ranges, holes never fetched and periods
 * Binance answered with fewer candles than the grid); 400 `{error:{code,message}}` for a bad filter.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as v from 'valibot';
import { InvalidInputError } from '../lib/domain/errors.ts';
import { listDatasets, parseDatasetFilter } from '../lib/service/datasets.ts';
import { observe } from '../lib/observability.ts';
import { httpErrors } from './middleware/http-errors.ts';
import { createIndexRuntime } from './shared/index-runtime.ts';

const QuerySchema = v.strictObject({
  market: v.optional(v.string()),
  symbol: v.optional(v.string()),
  interval: v.optional(v.string()),
  data_type: v.optional(v.string()),
}, 'query parameters: use market, symbol, interval, data_type');

const runtime = createIndexRuntime();

async function getDatasets(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const parsed = v.safeParse(QuerySchema, event.queryStringParameters ?? {});
  if (!parsed.success) throw new InvalidInputError(`query: ${parsed.issues.map((issue) => issue.message).join('; ')}`);
  const { data_type: dataType, ...rest } = parsed.output;
  const datasets = await listDatasets(runtime.index, parseDatasetFilter({ ...rest, dataType }));
  runtime.obs.metrics.addMetric('DatasetListings', MetricUnit.Count, 1);
  runtime.obs.logger.info('datasets listed', { datasets: datasets.length });
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ datasets }) };
}

/** The Lambda handler. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(observe(runtime.obs))
  .use(httpErrors(runtime.obs.logger))
  .handler(getDatasets);
