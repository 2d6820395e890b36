/**
 * Shapes a klines answer for API Gateway (issue 4): inline when the serialized Lambda response
 * fits `inlineLimitBytes` (Lambda's 6 MB limit minus headroom), otherwise, and always for
 * Parquet, written to the results location and answered `200 { url, expiresAt, rows, format }`.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { SourcedColumns } from '../../lib/domain/kline-columns.ts';
import { columnsToParquet, writeCsv, writeJson, type OutputFormat } from '../../lib/service/format.ts';
import type { ResultsLocation } from './results.ts';

const CONTENT_TYPES: Record<OutputFormat, string> = {
  json: 'application/json', csv: 'text/csv; charset=utf-8', parquet: 'application/vnd.apache.parquet',
};

/** A shaped answer and how it went out. */
export interface HttpAnswer {
  readonly response: APIGatewayProxyStructuredResultV2;
  readonly delivery: 'inline' | 'url';
}

/** Options: the answer (columns, never row objects), the format, whether to keep the `source` column, the inline limit in bytes. */
export interface HttpAnswerInput {
  readonly answer: SourcedColumns;
  readonly format: OutputFormat;
  readonly withSource: boolean;
  readonly inlineLimitBytes: number;
  readonly headers: Record<string, string>;
}

/** Builds the answer; throws StoreError when a large answer cannot be written. */
export async function shapeHttpAnswer(input: HttpAnswerInput, results: ResultsLocation): Promise<HttpAnswer> {
  const { answer, format, withSource } = input;
  if (format !== 'parquet') {
    const chunks: string[] = [];
    const collect = (chunk: string): void => void chunks.push(chunk);
    if (format === 'csv') await writeCsv(answer, withSource, collect);
    else await writeJson(answer, withSource, collect);
    const body = chunks.join('');
    const response = { statusCode: 200, headers: { ...input.headers, 'content-type': CONTENT_TYPES[format] }, body };
    // Escaping only grows the body, so a body already over the limit is not serialized twice.
    if (Buffer.byteLength(body) <= input.inlineLimitBytes && Buffer.byteLength(JSON.stringify(response)) <= input.inlineLimitBytes) {
      return { response, delivery: 'inline' };
    }
    return { response: await byUrl(body, input, results), delivery: 'url' };
  }
  return { response: await byUrl(columnsToParquet(answer), input, results), delivery: 'url' };
}

async function byUrl(body: string | Uint8Array, input: HttpAnswerInput, results: ResultsLocation): Promise<APIGatewayProxyStructuredResultV2> {
  const stored = await results.put(body, input.format, CONTENT_TYPES[input.format]);
  return {
    statusCode: 200,
    headers: { ...input.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ url: stored.url, expiresAt: stored.expiresAt, rows: input.answer.columns.length, format: input.format }),
  };
}
