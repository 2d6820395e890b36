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
 * One pass over the bytes (no text decode, regex, split or substring per field) straight into
 * one Float64Array per column: about 2-3M rows/s for 1m files (bench/RESULTS.md).
 */
import { DataValidationError } from '../domain/errors.ts';
import type { Kline } from '../domain/kline.ts';
import { rowsFromColumns, type KlineColumns } from '../domain/kline-columns.ts';

const COLUMNS = 12;
/** open_time at or above this is µs: 1e14 ms is year 5138, 1e14 µs is 1973. */
const MICROS_THRESHOLD = 1e14;
/** Rows allocated before the first line is seen, and the least a buffer grows by. */
const MIN_CAPACITY = 64;

/**
 * Parses one Vision klines CSV into rows in file order (times in UTC epoch ms): the rows of
 * parseVisionCsvColumns as Kline objects. Same errors.
 */
export function parseVisionCsv(text: string, context: string): Kline[] {
  return rowsFromColumns(parseVisionCsvColumns(text, context));
}

/**
 * Parses one Vision klines CSV straight into columns (one Float64Array per kline column, in file
 * order; times in UTC epoch ms, µs files floored to ms), without a row object per line.
 * `context` names the file in error messages (e.g. its URL).
 * Throws DataValidationError naming `context` and the 1-based line for a line that does not
 * hold 12 plain decimal fields, an empty line, or a file that mixes ms and µs timestamps.
 * Does not check order or OHLC sanity: that is validateKlineColumns' job.
 */
export function parseVisionCsvColumns(text: string, context: string): KlineColumns {
  // UTF-8 keeps every ASCII character a byte of its own and turns others into bytes ≥ 0x80,
  // which are never digits, separators or line breaks: the same lines parse or fail.
  return parseVisionCsvBytes(Buffer.from(text, 'utf8'), context, 'utf8');
}

/**
 * The same parse over the CSV's bytes as unzipped (ASCII; no text decode needed), the fast path
 * of vision-client.ts: about twice the speed of parsing per-row objects. `encoding` only
 * decodes the offending line for error messages (`latin1` shows any byte as one character).
 * A leading UTF-8 byte order mark is skipped. Same errors as parseVisionCsvColumns.
 * The columns returned may be views on slightly larger buffers (sized from the first line's
 * length, doubled when short).
 */
export function parseVisionCsvBytes(bytes: Uint8Array, context: string, encoding: 'latin1' | 'utf8' = 'latin1'): KlineColumns {
  const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = data.length;
  let position = data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
  let lineNumber = 0;
  if (position < length && isHeaderStart(data[position]!)) {
    lineNumber = 1;
    const newline = data.indexOf(10, position);
    position = newline === -1 ? length : newline + 1;
  }
  const buffers = new Buffers(estimateRows(data, position));
  let n = 0;
  let micros: boolean | undefined;
  while (position < length) {
    lineNumber++;
    const lineStart = position;
    position = parseLine(data, position);
    if (position < 0) fail(data, lineStart, encoding, context, lineNumber, describeBadLine(lineAt(data, lineStart, encoding)));
    const rowMicros = scratch[0]! >= MICROS_THRESHOLD;
    if (micros === undefined) micros = rowMicros;
    else if (micros !== rowMicros) {
      fail(data, lineStart, encoding, context, lineNumber, `has open_time in ${rowMicros ? 'µs' : 'ms'} while the file's first row is in ${micros ? 'µs' : 'ms'}`);
    }
    if (micros) {
      scratch[0] = Math.floor(scratch[0]! / 1000);
      scratch[6] = Math.floor(scratch[6]! / 1000);
    }
    if (n === buffers.capacity) buffers.grow(n);
    buffers.store(n);
    n++;
  }
  return buffers.columns(n);
}

/** Rows the file holds, estimated from its first data line's length (plus a margin). */
function estimateRows(data: Buffer, position: number): number {
  const newline = data.indexOf(10, position);
  if (newline === -1) return MIN_CAPACITY;
  const lineLength = newline + 1 - position;
  return Math.ceil(((data.length - position) / lineLength) * 1.02) + MIN_CAPACITY;
}

/** The eleven column buffers being filled (the twelfth field, `ignore`, is dropped). */
class Buffers {
  capacity: number;
  openTime: Float64Array; open: Float64Array; high: Float64Array; low: Float64Array; close: Float64Array;
  volume: Float64Array; closeTime: Float64Array; quoteVolume: Float64Array; trades: Float64Array;
  takerBuyVolume: Float64Array; takerBuyQuoteVolume: Float64Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.openTime = new Float64Array(capacity); this.open = new Float64Array(capacity); this.high = new Float64Array(capacity);
    this.low = new Float64Array(capacity); this.close = new Float64Array(capacity); this.volume = new Float64Array(capacity);
    this.closeTime = new Float64Array(capacity); this.quoteVolume = new Float64Array(capacity); this.trades = new Float64Array(capacity);
    this.takerBuyVolume = new Float64Array(capacity); this.takerBuyQuoteVolume = new Float64Array(capacity);
  }

  /** Copies the line in `scratch` into row `i`. */
  store(i: number): void {
    this.openTime[i] = scratch[0]!; this.open[i] = scratch[1]!; this.high[i] = scratch[2]!; this.low[i] = scratch[3]!;
    this.close[i] = scratch[4]!; this.volume[i] = scratch[5]!; this.closeTime[i] = scratch[6]!; this.quoteVolume[i] = scratch[7]!;
    this.trades[i] = scratch[8]!; this.takerBuyVolume[i] = scratch[9]!; this.takerBuyQuoteVolume[i] = scratch[10]!;
  }

  /** Doubles the capacity, keeping the first `used` rows. */
  grow(used: number): void {
    const capacity = Math.max(MIN_CAPACITY, this.capacity * 2);
    const more = (old: Float64Array): Float64Array => {
      const next = new Float64Array(capacity);
      next.set(old.subarray(0, used));
      return next;
    };
    this.openTime = more(this.openTime); this.open = more(this.open); this.high = more(this.high); this.low = more(this.low);
    this.close = more(this.close); this.volume = more(this.volume); this.closeTime = more(this.closeTime);
    this.quoteVolume = more(this.quoteVolume); this.trades = more(this.trades); this.takerBuyVolume = more(this.takerBuyVolume);
    this.takerBuyQuoteVolume = more(this.takerBuyQuoteVolume);
    this.capacity = capacity;
  }

  /** The first `n` rows as columns: views when the buffers are nearly full, else trimmed copies. */
  columns(n: number): KlineColumns {
    const trim = n < this.capacity * 0.9;
    const cut = (column: Float64Array): Float64Array => (trim ? column.slice(0, n) : column.subarray(0, n));
    return {
      length: n, open_time: cut(this.openTime), open: cut(this.open), high: cut(this.high), low: cut(this.low), close: cut(this.close),
      volume: cut(this.volume), close_time: cut(this.closeTime), quote_volume: cut(this.quoteVolume), trades: cut(this.trades),
      taker_buy_volume: cut(this.takerBuyVolume), taker_buy_quote_volume: cut(this.takerBuyQuoteVolume),
    };
  }
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
function parseLine(data: Buffer, start: number): number {
  const length = data.length;
  let i = start;
  let code = i < length ? data[i]! : -1;
  for (let column = 0; column < COLUMNS; column++) {
    const fieldStart = i;
    const negative = code === 45;
    if (negative) code = ++i < length ? data[i]! : -1;
    const digitsStart = i;
    let mantissa = 0;
    while (code >= 48 && code <= 57) {
      mantissa = mantissa * 10 + (code - 48);
      code = ++i < length ? data[i]! : -1;
    }
    let digits = i - digitsStart;
    let decimals = 0;
    if (code === 46) {
      const fractionStart = ++i;
      code = i < length ? data[i]! : -1;
      while (code >= 48 && code <= 57) {
        mantissa = mantissa * 10 + (code - 48);
        code = ++i < length ? data[i]! : -1;
      }
      decimals = i - fractionStart;
      digits += decimals;
    }
    if (digits === 0) return -1;
    if (mantissa > Number.MAX_SAFE_INTEGER || decimals > 22) {
      scratch[column] = Number(data.toString('latin1', fieldStart, i));
    } else {
      const value = decimals === 0 ? mantissa : mantissa / POW10[decimals]!;
      scratch[column] = negative ? -value : value;
    }
    if (column < COLUMNS - 1) {
      if (code !== 44) return -1;
      code = ++i < length ? data[i]! : -1;
    } else if (code === -1) {
      return length;
    } else if (code === 10) {
      return i + 1;
    } else if (code === 13 && (i + 1 === length || data[i + 1] === 10)) {
      return i + 2;
    }
  }
  return -1;
}

/** Says what is wrong with a line parseLine refused (slow path, errors only). */
function describeBadLine(line: string): string {
  if (line === '') return 'is empty';
  if (line.includes('\r')) return 'has a stray carriage return';
  const fields = line.split(',');
  if (fields.length !== COLUMNS) return `has ${fields.length} fields, expected ${COLUMNS}`;
  const bad = fields.findIndex((field) => !/^-?(\d+\.?\d*|\.\d+)$/.test(field));
  return bad === -1 ? 'is malformed' : `has a non-numeric field ${bad + 1}: "${fields[bad] ?? ''}"`;
}

function lineAt(data: Buffer, start: number, encoding: 'latin1' | 'utf8'): string {
  const newline = data.indexOf(10, start);
  const line = data.toString(encoding, start, newline === -1 ? data.length : newline);
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function fail(data: Buffer, start: number, encoding: 'latin1' | 'utf8', context: string, lineNumber: number, problem: string): never {
  const line = lineAt(data, start, encoding);
  const shown = line.length > 160 ? `${line.slice(0, 160)}…` : line;
  throw new DataValidationError(`${context}: line ${lineNumber} ${problem}${shown ? `: "${shown}"` : ''}`, { file: context, line: lineNumber });
}
