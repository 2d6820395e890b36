/**
 * Output formats of an answer, written straight from its columns: CSV (header = column names,
 * times in epoch ms), JSON (an array of objects keyed by column name) and Parquet (the cache's
 * schema; streamed row group by row group). Used by the CLI and the handlers.
 * Numbers are written as JavaScript prints them (the shortest text that reads back to the same
 * float64; number-text.ts), so CSV, JSON and the published values agree. That is not always the
 * text Binance printed (Vision writes `0.01000000`, we write `0.01`): the value is the same float64.
 */
import type { KlineColumns, SourcedColumns } from '../domain/kline-columns.ts';
import { klineParquetBytes } from '../store/parquet-stream.ts';
import { AnswerTextWriter, type EmitBytes } from './answer-text.ts';

/** Accepted output formats. */
export const OUTPUT_FORMATS = ['csv', 'json', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The media type of each output format, as the HTTP answers and result objects carry it (Parquet: the IANA registration). */
export const CONTENT_TYPES: Record<OutputFormat, string> = {
  json: 'application/json', csv: 'text/csv; charset=utf-8', parquet: 'application/vnd.apache.parquet',
};

/**
 * How times (open_time, close_time) are written in CSV and JSON: `ms` UTC epoch milliseconds (the
 * default, as Binance publishes them), `iso` ISO-8601 UTC with milliseconds and a `Z`
 * (`2024-01-15T10:00:00.000Z`; a JSON string).
 */
export const TIME_FORMATS = ['ms', 'iso'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

/** Column chunks in open_time order: one answer, or an answer streamed period by period. */
export type ColumnChunks = SourcedColumns | AsyncIterable<SourcedColumns> | Iterable<SourcedColumns>;

/**
 * Writes klines as CSV (a header row, then one line per kline), in batches of bytes straight
 * from the columns (times as `timeFormat` says), so a year of 1m never exists as row objects or
 * as one string. `write` may return a promise (back-pressure). `trailer` is appended at the end.
 */
export async function writeCsv(chunks: ColumnChunks, withSource: boolean, write: EmitBytes, timeFormat: TimeFormat = 'ms', trailer = ''): Promise<void> {
  await writeText('csv', chunks, withSource, write, timeFormat, trailer);
}

/** Writes klines as JSON (an array of objects keyed by column name, as JSON.stringify would
 * write the rows) in batches of bytes, straight from the columns; `iso` times are strings. */
export async function writeJson(chunks: ColumnChunks, withSource: boolean, write: EmitBytes, timeFormat: TimeFormat = 'ms', trailer = ''): Promise<void> {
  await writeText('json', chunks, withSource, write, timeFormat, trailer);
}

/**
 * Parquet bytes of klines (no source column) as they are encoded, one row group per period (or
 * per few short periods; parquet-stream.ts), so an answer streamed period by period is written
 * without being whole in memory. The same schema and encodings as the cache files. Throws what
 * iterating `chunks` throws; the bytes already yielded are then not a complete file.
 */
export function parquetBytes(chunks: ColumnChunks): AsyncGenerator<Uint8Array> {
  return klineParquetBytes('columns' in chunks ? [chunks.columns] : columnsOf(chunks));
}

async function* columnsOf(chunks: AsyncIterable<SourcedColumns> | Iterable<SourcedColumns>): AsyncGenerator<KlineColumns> {
  for await (const chunk of chunks) yield chunk.columns;
}

async function writeText(format: 'csv' | 'json', chunks: ColumnChunks, withSource: boolean, write: EmitBytes, timeFormat: TimeFormat, trailer: string): Promise<void> {
  const writer = new AnswerTextWriter(format, withSource, write, timeFormat === 'iso');
  await writer.begin();
  if ('columns' in chunks) await writer.write(chunks);
  else for await (const chunk of chunks) await writer.write(chunk);
  await writer.end(trailer);
}
