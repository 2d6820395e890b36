/**
 * The funding-rate answer of the HTTP and invoke handlers (issue 10, item 5: `data_type=fundingRate`):
 * resolve the query, ask the funding service, and shape the events. JSON and CSV come inline when
 * they fit the inline limit, else (and Parquet always) as a result object by URL, like klines.
 * No deadline hand-off: a funding fill is at most a few Vision files and REST pages.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { InvokeFundingResult } from '../../lib/client/klines-client.ts';
import { CONTENT_TYPES } from '../../lib/service/format.ts';
import { fundingCsv, fundingJson, fundingRecords, resolveFundingQuery, type PublicFundingQuery } from '../../lib/service/funding-request.ts';
import type { FundingAnswer } from '../../lib/service/funding-service.ts';
import { encodeFundingColumns } from '../../lib/store/funding-codec.ts';
import { byUrlResponse, rowHeaders } from './http-answer.ts';
import type { Runtime } from './runtime.ts';

/** Answers a funding query. Throws InvalidInputError for bad input, UpstreamError / StoreError as the service does. */
export async function answerFunding(runtime: Runtime, query: PublicFundingQuery): Promise<FundingAnswer> {
  return runtime.funding.getFundingRates(resolveFundingQuery(query, runtime.nowMs()));
}

/** The HTTP response of a funding answer in `format`. */
export async function fundingHttpResponse(runtime: Runtime, answer: FundingAnswer, format: 'json' | 'csv' | 'parquet'): Promise<APIGatewayProxyStructuredResultV2> {
  const rows = answer.columns.length;
  const headers = rowHeaders(rows, answer.stats.rowsFromCache);
  const body = format === 'csv' ? fundingCsv(answer.columns, false) : format === 'json' ? fundingJson(answer.columns, false) : undefined;
  if (body !== undefined && Buffer.byteLength(body) <= runtime.config.inlineLimitBytes) {
    return { statusCode: 200, headers: { 'content-type': CONTENT_TYPES[format], ...headers }, body };
  }
  const stored = body !== undefined
    ? await runtime.results.put(body, format, CONTENT_TYPES[format])
    : await runtime.results.put(encodeFundingColumns(answer.columns), 'parquet', CONTENT_TYPES.parquet);
  return byUrlResponse(stored, headers, rows, format);
}

/** The invoke result of a funding answer: the events inline (NaN as null), or a Parquet `uri` past the inline limit. */
export async function fundingInvokeResult(runtime: Runtime, answer: FundingAnswer): Promise<InvokeFundingResult> {
  const count = answer.columns.length;
  // With numeric times every field is a number or null, the invoke rows' shape.
  const rows = fundingRecords(answer.columns, false) as unknown as NonNullable<Extract<InvokeFundingResult, { ok: true }>['rows']>;
  if (Buffer.byteLength(JSON.stringify(rows)) <= runtime.config.inlineLimitBytes) return { ok: true, count, rows };
  return { ok: true, count, uri: (await runtime.results.put(encodeFundingColumns(answer.columns), 'parquet', CONTENT_TYPES.parquet)).uri };
}
