/**
 * Output formats of an answer, written straight from its columns: CSV (header = column names,
 * times in epoch ms), JSON (an array of objects keyed by column name) and Parquet (the cache's
 * schema). Used by the CLI and the handlers.
 * Numbers are written as JavaScript prints them (the shortest text that reads back to the same
 * float64), so CSV, JSON and the published values agree.
 */
import { KLINE_COLUMNS } from '../domain/kline.ts';
import { ORIGINS, type SourcedColumns } from '../domain/kline-columns.ts';
import { encodeKlineColumns } from '../store/parquet-codec.ts';

/** Accepted output formats. */
export const OUTPUT_FORMATS = ['csv', 'json', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * How times (open_time, close_time) are written in CSV and JSON: `ms` UTC epoch milliseconds (the
 * default, as Binance publishes them), `iso` ISO-8601 UTC with milliseconds and a `Z`
 * (`2024-01-15T10:00:00.000Z`; a JSON string).
 */
export const TIME_FORMATS = ['ms', 'iso'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

const isoTime = (ms: number): string => new Date(ms).toISOString();
const quotedIsoTime = (ms: number): string => `"${new Date(ms).toISOString()}"`;

/** Rows per text chunk when an answer is written piece by piece. */
const CHUNK_ROWS = 1_024;

/**
 * Writes an answer as CSV in chunks of rows (a header row, then one line per kline), straight
 * from its columns (times as `timeFormat` says), so a year of 1m never exists as row objects or
 * as one string. `write` may return a promise (back-pressure).
 */
export async function writeCsv(answer: SourcedColumns, withSource: boolean, write: (chunk: string) => unknown, timeFormat: TimeFormat = 'ms'): Promise<void> {
  await write(`${[...KLINE_COLUMNS, ...(withSource ? ['source'] : [])].join(',')}\n`);
  const time = timeFormat === 'iso' ? isoTime : (ms: number): number => ms;
  await writeChunks(answer, write, (i, c, sources) => {
    let line = `${time(c.open_time[i]!)},${c.open[i]},${c.high[i]},${c.low[i]},${c.close[i]},${c.volume[i]},${time(c.close_time[i]!)},${c.quote_volume[i]},${c.trades[i]},${c.taker_buy_volume[i]},${c.taker_buy_quote_volume[i]}`;
    if (withSource) line += `,${ORIGINS[sources[i]!]}`;
    return `${line}\n`;
  });
}

/** Writes an answer as JSON (an array of objects keyed by column name, as JSON.stringify would
 * write the rows) in chunks, straight from its columns; `iso` times are strings. */
export async function writeJson(answer: SourcedColumns, withSource: boolean, write: (chunk: string) => unknown, timeFormat: TimeFormat = 'ms'): Promise<void> {
  await write('[');
  const time = timeFormat === 'iso' ? quotedIsoTime : (ms: number): number => ms;
  await writeChunks(answer, write, (i, c, sources) => {
    const text = `${i === 0 ? '' : ','}{"open_time":${time(c.open_time[i]!)},"open":${c.open[i]},"high":${c.high[i]},"low":${c.low[i]},"close":${c.close[i]},"volume":${c.volume[i]},"close_time":${time(c.close_time[i]!)},"quote_volume":${c.quote_volume[i]},"trades":${c.trades[i]},"taker_buy_volume":${c.taker_buy_volume[i]},"taker_buy_quote_volume":${c.taker_buy_quote_volume[i]}`;
    return withSource ? `${text},"source":"${ORIGINS[sources[i]!]}"}` : `${text}}`;
  });
  await write(']');
}

/** Parquet bytes of an answer's columns (no source column). */
export function columnsToParquet(answer: SourcedColumns): Uint8Array {
  return encodeKlineColumns(answer.columns);
}

async function writeChunks(
  { columns, sources }: SourcedColumns, write: (chunk: string) => unknown,
  line: (i: number, c: SourcedColumns['columns'], sources: Uint8Array) => string,
): Promise<void> {
  for (let start = 0; start < columns.length; start += CHUNK_ROWS) {
    let text = '';
    const end = Math.min(columns.length, start + CHUNK_ROWS);
    for (let i = start; i < end; i++) text += line(i, columns, sources);
    await write(text);
  }
}
