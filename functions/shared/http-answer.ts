/**
 * Shapes a klines answer for API Gateway (issue 4): inline when the serialized Lambda response
 * fits `inlineLimitBytes` (Lambda's 6 MB limit minus headroom), otherwise, and always for
 * Parquet, written to the results location and answered `200 { url, expiresAt, rows, format }`.
 * CSV and JSON text is written in batches: it is held only up to the inline limit; past it the
 * batches go on to the results location as they are written (an S3 multipart upload).
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { SourcedColumns } from '../../lib/domain/kline-columns.ts';
import { columnsToParquet, writeCsv, writeJson, type OutputFormat } from '../../lib/service/format.ts';
import type { ResultsLocation, StoredResult } from './results.ts';

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
  if (format === 'parquet') return { response: byUrl(await results.put(columnsToParquet(answer), format, CONTENT_TYPES[format]), input), delivery: 'url' };
  const spill = new SpillingText(input.inlineLimitBytes, () => results.put(spill.stream, format, CONTENT_TYPES[format]));
  if (format === 'csv') await writeCsv(answer, withSource, (chunk) => spill.write(chunk));
  else await writeJson(answer, withSource, (chunk) => spill.write(chunk));
  if (!spill.spilled) {
    const response = { statusCode: 200, headers: { ...input.headers, 'content-type': CONTENT_TYPES[format] }, body: spill.text() };
    if (Buffer.byteLength(JSON.stringify(response)) <= input.inlineLimitBytes) return { response, delivery: 'inline' };
    return { response: byUrl(await results.put(response.body, format, CONTENT_TYPES[format]), input), delivery: 'url' };
  }
  return { response: byUrl(await spill.finish(), input), delivery: 'url' };
}

/** Holds text batches up to `limit` bytes; past it, starts `upload` of `stream` and feeds the batches to it. */
class SpillingText {
  readonly stream = new PassThrough();
  private held: Uint8Array[] = [];
  private bytes = 0;
  private upload: Promise<StoredResult> | undefined;

  constructor(private readonly limit: number, private readonly startUpload: () => Promise<StoredResult>) {}

  get spilled(): boolean {
    return this.upload !== undefined;
  }

  text(): string {
    return Buffer.concat(this.held).toString('utf8');
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (!this.upload) {
      this.held.push(chunk);
      this.bytes += chunk.length;
      if (this.bytes <= this.limit) return;
      this.upload = this.startUpload();
      this.upload.catch(() => undefined); // awaited in finish()
      for (const held of this.held) this.stream.write(held);
      this.held = [];
      return;
    }
    if (!this.stream.write(chunk)) {
      // A failed upload stops reading: wait for whichever comes first.
      await Promise.race([once(this.stream, 'drain'), this.upload.then(() => Promise.reject(new Error('results: the upload ended before the answer was written')))]);
    }
  }

  async finish(): Promise<StoredResult> {
    this.stream.end();
    return this.upload!;
  }
}

function byUrl(stored: StoredResult, input: HttpAnswerInput): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 200,
    headers: { ...input.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ url: stored.url, expiresAt: stored.expiresAt, rows: input.answer.columns.length, format: input.format }),
  };
}
