/**
 * `GET /coverage?market&symbol&interval&data_type` behind API Gateway (HTTP API, payload v2): what
 * the cache holds of one dataset, from one coverage-index query over all its periods.
 * `data_type` is a series of data-types.ts (default klines); `fundingRate` takes no interval and
 * answers without one (its periods are months; issue 10, item 5).
 * 200 `{ datasetId, market, dataType, symbol, interval?, granularity, covered, rows, periods }`:
 * - `covered`: the merged covered ranges, each `{ startMs, endMs, start, end }` where `end`/`endMs`
 *   is exclusive (the open_time after the last covered candle), UTC epoch ms and ISO-8601;
 * - `rows`: rows stored (canonical files plus parts);
 * - `periods`: per period `{ period, covered, rows, sources, parts, compacted }`.
 * A dataset never fetched answers 200 with empty lists. 400 `{error:{code,message}}` for bad input.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as v from 'valibot';
import { InvalidInputError } from '../lib/domain/errors.ts';
import { parseDataType } from '../lib/domain/data-types.ts';
import { fundingDatasetId } from '../lib/domain/funding-rate.ts';
import { parseInterval } from '../lib/domain/intervals.ts';
import { datasetId, datasetOf } from '../lib/domain/kline.ts';
import { parseMarket } from '../lib/domain/markets.ts';
import { granularityFor } from '../lib/domain/periods.ts';
import { normalizeRanges, type Range } from '../lib/domain/ranges.ts';
import { parseSymbol } from '../lib/domain/symbols.ts';
import { observe } from '../lib/observability.ts';
import { objectMessages } from '../lib/service/validation.ts';
import type { PeriodRecord } from '../lib/store/types.ts';
import { httpErrors } from './middleware/http-errors.ts';
import { createIndexRuntime } from './shared/index-runtime.ts';

const REQUIRED = { symbol: 'symbol is required, e.g. BTCUSDT' };
const QuerySchema = v.object({
  market: v.optional(v.string(), 'spot'),
  symbol: v.string(REQUIRED.symbol),
  interval: v.optional(v.string()),
  data_type: v.optional(v.string()),
}, objectMessages(REQUIRED));

// Period keys (`2024`, `2024-01`, `2024-01-15`) sort as text between these; lease and statistics keys start with `#`.
const FIRST_PERIOD = '0000';
const LAST_PERIOD = '9999-99-99';

const runtime = createIndexRuntime();

async function getCoverage(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const parsed = v.safeParse(QuerySchema, event.queryStringParameters ?? {});
  if (!parsed.success) throw new InvalidInputError(`query: ${parsed.issues.map((issue) => issue.message).join('; ')}`);
  const { id, named, granularity } = datasetOfQuery(parsed.output);
  const records = await runtime.index.query(id, FIRST_PERIOD, LAST_PERIOD);
  const periods = records.map(describePeriod);
  const body = {
    datasetId: id, ...named, granularity,
    covered: normalizeRanges(records.flatMap((r) => r.covered)).map(describeRange),
    rows: periods.reduce((sum, p) => sum + p.rows, 0),
    periods,
  };
  runtime.obs.metrics.addMetric('CoverageRequests', MetricUnit.Count, 1);
  runtime.obs.logger.info('coverage answered', { datasetId: id, periods: periods.length });
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** The dataset a query names: its id, the fields the answer repeats, and its period granularity. Throws InvalidInputError. */
function datasetOfQuery(query: v.InferOutput<typeof QuerySchema>): { id: string; named: Record<string, string>; granularity: string } {
  const market = parseMarket(query.market);
  const symbol = parseSymbol(query.symbol);
  const dataType = parseDataType(query.data_type, market);
  if (dataType === 'fundingRate') {
    if (query.interval !== undefined) throw new InvalidInputError('query: a fundingRate dataset has no interval; leave interval out');
    return { id: fundingDatasetId({ market: market as 'um' | 'cm', symbol }), named: { market, dataType, symbol }, granularity: 'monthly' };
  }
  if (query.interval === undefined) throw new InvalidInputError('query: interval is required, e.g. 1h (only data_type=fundingRate takes none)');
  const interval = parseInterval(query.interval, market);
  return { id: datasetId(datasetOf(market, symbol, interval, dataType)), named: { market, dataType, symbol, interval }, granularity: granularityFor(interval) };
}

function describePeriod(record: PeriodRecord): { period: string; covered: ReturnType<typeof describeRange>[]; rows: number; sources: string[]; parts: number; compacted: boolean } {
  const refs = record.canonical ? [record.canonical, ...record.parts] : [...record.parts];
  return {
    period: record.period,
    covered: record.covered.map(describeRange),
    rows: refs.reduce((sum, ref) => sum + ref.rows, 0),
    sources: [...new Set(refs.flatMap((ref) => ref.sources))].sort(),
    parts: record.parts.length,
    compacted: record.canonical !== undefined,
  };
}

function describeRange(range: Range): { startMs: number; endMs: number; start: string; end: string } {
  return { startMs: range.startMs, endMs: range.endMs, start: new Date(range.startMs).toISOString(), end: new Date(range.endMs).toISOString() };
}

/** The Lambda handler. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(observe(runtime.obs))
  .use(httpErrors(runtime.obs.logger))
  .handler(getCoverage);
