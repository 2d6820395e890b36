/**
 * Parser of the CSV inside a Binance Vision klines zip. Formats as seen in the real files
 * (SOURCES.md, "What the real files show about the formats"):
 * - 12 columns: open_time, open, high, low, close, volume, close_time, quote_volume, count,
 *   taker_buy_volume, taker_buy_quote_volume, ignore (the last is dropped);
 * - an optional header row (futures files from mid-2022 on), detected per file by the first
 *   character of the first line;
 * - open_time/close_time in ms, or in µs for spot files from 2025-01-01 (16-digit open_time),
 *   detected per file by content and floored to ms;
 * - LF or CRLF line endings, trailing newline optional.
 * Candles are kept exactly as published: off-grid, truncated, zero-volume, close-before-open.
 * One pass over the characters (no regex, no split, no substring per field): over 1M rows/s.
 */
import { DataValidationError } from '../domain/errors.ts';
import type { Kline } from '../domain/kline.ts';

const COLUMNS = 12;
/** open_time at or above this is µs: 1e14 ms is year 5138, 1e14 µs is 1973. */
const MICROS_THRESHOLD = 1e14;

/**
 * Parses one Vision klines CSV into rows in file order (times in UTC epoch ms).
 * `context` names the file in error messages (e.g. its URL).
 * Throws DataValidationError naming `context` and the 1-based line for a line that does not
 * hold 12 plain decimal fields, an empty line, or a file that mixes ms and µs timestamps.
 * Does not check order or OHLC sanity: that is validateKlines' job.
 */
export function parseVisionCsv(text: string, context: string): Kline[] {
  const rows: Kline[] = [];
  const length = text.length;
  let position = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let lineNumber = 0;
  let micros: boolean | undefined;
  while (position < length) {
    lineNumber++;
    if (lineNumber === 1 && isHeaderStart(text.charCodeAt(position))) {
      const newline = text.indexOf('\n', position);
      position = newline === -1 ? length : newline + 1;
      continue;
    }
    const lineStart = position;
    position = parseLine(text, position);
    if (position < 0) fail(text, lineStart, context, lineNumber, describeBadLine(text, lineStart));
    const row = toKline();
    const rowMicros = row.open_time >= MICROS_THRESHOLD;
    if (micros === undefined) micros = rowMicros;
    else if (micros !== rowMicros) {
      fail(text, lineStart, context, lineNumber, `has open_time in ${rowMicros ? 'µs' : 'ms'} while the file's first row is in ${micros ? 'µs' : 'ms'}`);
    }
    if (micros) {
      row.open_time = Math.floor(row.open_time / 1000);
      row.close_time = Math.floor(row.close_time / 1000);
    }
    rows.push(row);
  }
  return rows;
}

/** A header starts with a letter (`open_time,...`); data rows start with a digit. */
function isHeaderStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

/** Values of the line just parsed (the parser is synchronous, so one buffer suffices). */
const scratch = new Float64Array(COLUMNS);
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Parses the line at `start` into `scratch` in one pass over its characters, and returns the
 * position after its line break, or -1 when the line is not 12 plain decimals
 * (`-?digits[.digits]`, as Binance writes every field). Numbers: while the digit string's
 * integer value is at most 2^53 - 1 and it has at most 22 decimals, `mantissa` and 10^decimals
 * are exact doubles, so one IEEE division gives the correctly rounded value, the same double as
 * Number() (Clinger's fast path); longer digit strings go through Number().
 */
function parseLine(text: string, start: number): number {
  const length = text.length;
  let i = start;
  for (let column = 0; column < COLUMNS; column++) {
    const fieldStart = i;
    const negative = i < length && text.charCodeAt(i) === 45;
    if (negative) i++;
    const digitsStart = i;
    let mantissa = 0;
    let dotAt = -1;
    let code = -1;
    for (; i < length; i++) {
      code = text.charCodeAt(i);
      if (code >= 48 && code <= 57) mantissa = mantissa * 10 + (code - 48);
      else if (code === 46 && dotAt === -1) dotAt = i;
      else break;
    }
    if (i >= length) code = -1;
    const decimals = dotAt === -1 ? 0 : i - dotAt - 1;
    if (i - digitsStart - (dotAt === -1 ? 0 : 1) === 0) return -1;
    if (mantissa > Number.MAX_SAFE_INTEGER || decimals > 22) {
      scratch[column] = Number(text.slice(fieldStart, i));
    } else {
      const value = decimals === 0 ? mantissa : mantissa / POW10[decimals]!;
      scratch[column] = negative ? -value : value;
    }
    if (column < COLUMNS - 1) {
      if (code !== 44) return -1;
      i++;
    } else if (code === -1) {
      return length;
    } else if (code === 10) {
      return i + 1;
    } else if (code === 13 && (i + 1 === length || text.charCodeAt(i + 1) === 10)) {
      return i + 2;
    }
  }
  return -1;
}

function toKline(): Kline {
  return {
    open_time: scratch[0]!,
    open: scratch[1]!,
    high: scratch[2]!,
    low: scratch[3]!,
    close: scratch[4]!,
    volume: scratch[5]!,
    close_time: scratch[6]!,
    quote_volume: scratch[7]!,
    trades: scratch[8]!,
    taker_buy_volume: scratch[9]!,
    taker_buy_quote_volume: scratch[10]!,
  };
}

/** Says what is wrong with a line parseLine refused (slow path, errors only). */
function describeBadLine(text: string, start: number): string {
  const line = lineAt(text, start);
  if (line === '') return 'is empty';
  if (line.includes('\r')) return 'has a stray carriage return';
  const fields = line.split(',');
  if (fields.length !== COLUMNS) return `has ${fields.length} fields, expected ${COLUMNS}`;
  const bad = fields.findIndex((field) => !/^-?(\d+\.?\d*|\.\d+)$/.test(field));
  return bad === -1 ? 'is malformed' : `has a non-numeric field ${bad + 1}: "${fields[bad] ?? ''}"`;
}

function lineAt(text: string, start: number): string {
  const newline = text.indexOf('\n', start);
  const line = text.slice(start, newline === -1 ? text.length : newline);
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function fail(text: string, start: number, context: string, lineNumber: number, problem: string): never {
  const line = lineAt(text, start);
  const shown = line.length > 160 ? `${line.slice(0, 160)}…` : line;
  throw new DataValidationError(`${context}: line ${lineNumber} ${problem}${shown ? `: "${shown}"` : ''}`, { file: context, line: lineNumber });
}
