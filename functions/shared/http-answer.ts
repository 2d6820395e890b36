/**
 * Shapes a klines answer for API Gateway (issue 4): inline when the serialized Lambda response
 * fits `inlineLimitBytes` (Lambda's 6 MB limit minus headroom), otherwise, and always for
 * Parquet, written to the results location and answered `200 { url, expiresAt, rows, format }`.
 * CSV and JSON text is written in batches: it is held only up to the inline limit; past it the
 * batches go on to the results location as they are written (an S3 multipart upload). Parquet
 * goes there row group by row group (parquet-stream.ts). An answer streamed period by period is
 * thus never whole in memory; one that fails midway leaves no result (the upload is aborted).
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { SourcedColumns } from '../../lib/domain/kline-columns.ts';
import { INTERVAL_MS } from '../../lib/domain/intervals.ts';
import type { KlinesStats } from '../../lib/service/klines-service.ts';
import type { ResolvedQuery } from '../../lib/service/request.ts';
import type { KlinesStream } from '../../lib/service/stream-klines.ts';
import { CONTENT_TYPES, parquetBytes, writeCsv, writeJson, type OutputFormat } from '../../lib/service/format.ts';
import type { ResultsLocation, StoredResult } from './results.ts';

/** A shaped answer and how it went out. */
export interface HttpAnswer {
  readonly response: APIGatewayProxyStructuredResultV2;
  readonly delivery: 'inline' | 'url';
}

/** A whole answer (columns, never row objects) or one streamed period by period. */
export type HttpAnswerSource = (SourcedColumns & { readonly stats: KlinesStats }) | KlinesStream;

/**
 * Whether the answer to `query` is built as a stream: its range holds more candles than
 * `maxInlineRows`, so it goes by URL unless the market has few of them. Its gaps are then filled
 * first, under the deadline, and the answer is read back from the cache period by period
 * (prepare-stream.ts), never whole in memory. Shorter ranges are answered whole, as before.
 */
export function streamsAnswer(query: ResolvedQuery, maxInlineRows: number): boolean {
  return (query.range.endMs - query.range.startMs) / INTERVAL_MS[query.dataset.interval] > maxInlineRows;
}

/** Rows of an answer (of a stream: those written so far, all of them once it is written). */
export function answerRows(answer: HttpAnswerSource): number {
  return 'columns' in answer ? answer.columns.length : answer.rows;
}

/**
 * Options: the answer, the format, whether to keep the `source` column, the inline limit in
 * bytes, extra headers (`x-klines-rows` and `x-klines-rows-from-cache` are added once the answer is written).
 */
export interface HttpAnswerInput {
  readonly answer: HttpAnswerSource;
  readonly format: OutputFormat;
  readonly withSource: boolean;
  readonly inlineLimitBytes: number;
  /** Most rows sent inline (a streamed answer past it goes by URL, whatever its size); default no cap. */
  readonly maxInlineRows?: number;
  readonly headers: Record<string, string>;
}

/** Builds the answer; throws StoreError when a large answer cannot be written. */
export async function shapeHttpAnswer(input: HttpAnswerInput, results: ResultsLocation): Promise<HttpAnswer> {
  const { answer, format, withSource } = input;
  if (format === 'parquet') return { response: byUrl(await putStreamed(results, parquetBytes(answer), format), input), delivery: 'url' };
  const tooManyRows = (): boolean => answerRows(answer) > (input.maxInlineRows ?? Infinity);
  const spill = new SpillingText(input.inlineLimitBytes, tooManyRows, () => results.put(spill.stream, format, CONTENT_TYPES[format]));
  try {
    if (format === 'csv') await writeCsv(answer, withSource, (chunk) => spill.write(chunk));
    else await writeJson(answer, withSource, (chunk) => spill.write(chunk));
  } catch (error) {
    await spill.fail(error);
    throw error;
  }
  if (!spill.spilled) {
    const response = { statusCode: 200, headers: { ...headersOf(input), 'content-type': CONTENT_TYPES[format] }, body: spill.text() };
    if (Buffer.byteLength(JSON.stringify(response)) <= input.inlineLimitBytes && !tooManyRows()) return { response, delivery: 'inline' };
    return { response: byUrl(await results.put(response.body, format, CONTENT_TYPES[format]), input), delivery: 'url' };
  }
  return { response: byUrl(await spill.finish(), input), delivery: 'url' };
}

/**
 * Puts `bytes` (produced as they are uploaded) in the results location. When producing them
 * fails, the upload is aborted (no result is left) and that error is thrown, not the location's
 * StoreError, so an upstream failure midway answers as it would before any byte was written.
 */
export async function putStreamed(results: ResultsLocation, bytes: AsyncIterable<Uint8Array>, format: OutputFormat): Promise<StoredResult> {
  let failure: { readonly error: unknown } | undefined;
  async function* watched(): AsyncGenerator<Uint8Array> {
    try {
      yield* bytes;
    } catch (error) {
      failure = { error };
      throw error;
    }
  }
  try {
    return await results.put(watched(), format, CONTENT_TYPES[format]);
  } catch (error) {
    throw failure ? failure.error : error;
  }
}

/** Holds text batches up to `limit` bytes (and while `tooManyRows` is false); past it, starts `upload` of `stream` and feeds the batches to it. */
class SpillingText {
  readonly stream = new PassThrough();
  private held: Uint8Array[] = [];
  private bytes = 0;
  private upload: Promise<StoredResult> | undefined;

  constructor(private readonly limit: number, private readonly tooManyRows: () => boolean, private readonly startUpload: () => Promise<StoredResult>) {}

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
      if (this.bytes <= this.limit && !this.tooManyRows()) return;
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

  /** Ends a started upload with `error` (a multipart upload is aborted) and waits for it to settle. */
  async fail(error: unknown): Promise<void> {
    if (!this.upload) return;
    this.stream.destroy(error instanceof Error ? error : new Error(String(error)));
    await this.upload.catch(() => undefined);
  }

  async finish(): Promise<StoredResult> {
    this.stream.end();
    return this.upload!;
  }
}

function headersOf(input: HttpAnswerInput): Record<string, string> {
  return rowHeaders(answerRows(input.answer), input.answer.stats.rowsFromCache, input.headers);
}

function byUrl(stored: StoredResult, input: HttpAnswerInput): APIGatewayProxyStructuredResultV2 {
  return byUrlResponse(stored, headersOf(input), answerRows(input.answer), input.format);
}

/** `headers` and the row headers of an answer (klines and funding rates): `x-klines-rows`, `x-klines-rows-from-cache`. */
export function rowHeaders(rows: number, rowsFromCache: number, headers: Record<string, string> = {}): Record<string, string> {
  return { ...headers, 'x-klines-rows': String(rows), 'x-klines-rows-from-cache': String(rowsFromCache) };
}

/** The 200 of an answer that went to a results object: `{ url, expiresAt, rows, format }` as JSON, with `headers`. */
export function byUrlResponse(stored: StoredResult, headers: Record<string, string>, rows: number, format: OutputFormat): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 200,
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ url: stored.url, expiresAt: stored.expiresAt, rows, format }),
  };
}
