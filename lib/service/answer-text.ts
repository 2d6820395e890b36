/**
 * CSV and JSON text of klines, written as bytes into large Buffers (batches) straight from the
 * columns: no string per number, per row or per chunk (number-text.ts prints each number as
 * String(x) would). A writer is fed column chunks in open_time order (a whole answer, or one
 * period after another when an answer streams) and hands each full batch to `emit`.
 */
import { KLINE_COLUMNS } from '../domain/kline.ts';
import { ORIGINS, type SourcedColumns } from '../domain/kline-columns.ts';
import { MAX_NUMBER_BYTES, writeNumber } from './number-text.ts';

/** The text formats. */
export type TextFormat = 'csv' | 'json';

/** Receives each batch of bytes; may return a promise (back-pressure), which the writer awaits. */
export type EmitBytes = (chunk: Uint8Array) => unknown;

/** Bytes per batch handed to `emit` (a new Buffer each time, so the receiver may keep it). */
const BATCH_BYTES = 256 * 1024;
/**
 * The highWaterMark for a file stream fed by a writer: 16 batches (4 MiB). With
 * fs.createWriteStream's default (16 KiB) every batch is over the mark, so the writer waited for
 * each write to reach the disk before formatting the next; with room for many it formats while
 * earlier batches are written (one writev each time). A year of 1m as JSON (128 MB) to a file in
 * process, medians of 7: 1 MiB 640-780 ms, 4 MiB 500-630, 8 MiB 520-620, 16 MiB 466-486. Peak
 * RSS of six years warm to a file (bench:six-years), CSV / JSON: 1 MiB 165 / 168 MiB, 4 MiB
 * 177 / 173-178, 16 MiB 189 / 198.
 */
export const TEXT_SINK_HIGH_WATER_MARK = 16 * BATCH_BYTES;
/** Room one row needs at most: 11 numbers, their keys or separators, and a source. */
const ROW_BYTES = KLINE_COLUMNS.length * MAX_NUMBER_BYTES + 320;

const SOURCE_CSV = ORIGINS.map((origin) => Buffer.from(`,${origin}\n`, 'latin1'));
const SOURCE_JSON = ORIGINS.map((origin) => Buffer.from(`,"source":"${origin}"}`, 'latin1'));
// fields() writes the columns by name in this order, which must be KLINE_COLUMNS'.
const WRITTEN_ORDER = 'open_time,open,high,low,close,volume,close_time,quote_volume,trades,taker_buy_volume,taker_buy_quote_volume';
if (KLINE_COLUMNS.join(',') !== WRITTEN_ORDER) throw new Error(`answer-text: rows are written as ${WRITTEN_ORDER}, KLINE_COLUMNS is ${KLINE_COLUMNS.join(',')}`);
const latin1 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
/** What precedes each column's value in a CSV line: nothing for the first, a comma for the others. */
const CSV_PREFIXES = KLINE_COLUMNS.map((_, k) => latin1(k === 0 ? '' : ','));
/** The JSON key before each column: `{"open_time":` for the first, `,"open":` and so on for the others. */
const JSON_PREFIXES = KLINE_COLUMNS.map((name, k) => latin1(`${k === 0 ? '{' : ','}"${name}":`));

/** Places `bytes` at `p` of `b`; returns the position after them. A CSV comma is one store, not a TypedArray set call. */
function put(b: Buffer, p: number, bytes: Uint8Array): number {
  const n = bytes.length;
  if (n > 1) b.set(bytes, p);
  else if (n === 1) b[p] = bytes[0]!;
  return p + n;
}

/** Writes rows as CSV or JSON text batch by batch. */
export class AnswerTextWriter {
  private buf = Buffer.allocUnsafe(BATCH_BYTES);
  private pos = 0;
  private rows = 0;

  /** `isoTimes`: open_time and close_time as ISO-8601 UTC (`2024-01-15T10:00:00.000Z`, a string in JSON) instead of epoch ms. */
  constructor(private readonly format: TextFormat, private readonly withSource: boolean, private readonly emit: EmitBytes, private readonly isoTimes = false) {}

  /** Writes the CSV header line or the JSON opening bracket. */
  async begin(): Promise<void> {
    const head = this.format === 'csv' ? `${[...KLINE_COLUMNS, ...(this.withSource ? ['source'] : [])].join(',')}\n` : '[';
    this.pos += this.buf.write(head, this.pos, 'latin1');
  }

  /** Writes every row of `chunk` (rows must follow those written before, in open_time order). */
  async write(chunk: SourcedColumns): Promise<void> {
    const n = chunk.columns.length;
    for (let i = 0; i < n; i++) {
      if (this.pos > BATCH_BYTES - ROW_BYTES) await this.flush();
      this.pos = this.format === 'csv' ? this.csvRow(chunk, i) : this.jsonRow(chunk, i);
      this.rows++;
    }
  }

  /** Writes the JSON closing bracket (and `trailer`, e.g. a newline) and emits what is left. */
  async end(trailer = ''): Promise<void> {
    if (this.format === 'json') this.buf[this.pos++] = 0x5d; // ]
    this.pos += this.buf.write(trailer, this.pos, 'latin1');
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pos === 0) return;
    const full = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(BATCH_BYTES);
    this.pos = 0;
    await this.emit(full);
  }

  private csvRow({ columns, sources }: SourcedColumns, i: number): number {
    const b = this.buf;
    const p = this.fields(b, this.pos, CSV_PREFIXES, columns, i);
    if (this.withSource) return p + SOURCE_CSV[sources[i]!]!.copy(b, p);
    b[p] = 0x0a;
    return p + 1;
  }

  private jsonRow({ columns, sources }: SourcedColumns, i: number): number {
    const b = this.buf;
    let p = this.pos;
    if (this.rows > 0) b[p++] = 0x2c;
    p = this.fields(b, p, JSON_PREFIXES, columns, i);
    if (this.withSource) return p + SOURCE_JSON[sources[i]!]!.copy(b, p);
    b[p] = 0x7d; // }
    return p + 1;
  }

  /**
   * Row `i`'s values at `p`, each after its prefix (CSV_PREFIXES or JSON_PREFIXES); returns the
   * end. Unrolled by column name, each prefix placed by `put` (a one-byte CSV comma as one store,
   * a JSON key by TypedArray set): the JSON-only unrolled version of this was about a fifth faster
   * than a loop over the columns with Buffer.copy (a year of 1m: ~470 → ~380 ms); sharing it with
   * CSV measured the same within noise (CSV formatting of 3 months 38 → 39-41 ms).
   */
  private fields(b: Buffer, p: number, prefixes: readonly Uint8Array[], c: SourcedColumns['columns'], i: number): number {
    p = this.writeTime(b, put(b, p, prefixes[0]!), c.open_time[i]!);
    p = writeNumber(b, put(b, p, prefixes[1]!), c.open[i]!);
    p = writeNumber(b, put(b, p, prefixes[2]!), c.high[i]!);
    p = writeNumber(b, put(b, p, prefixes[3]!), c.low[i]!);
    p = writeNumber(b, put(b, p, prefixes[4]!), c.close[i]!);
    p = writeNumber(b, put(b, p, prefixes[5]!), c.volume[i]!);
    p = this.writeTime(b, put(b, p, prefixes[6]!), c.close_time[i]!);
    p = writeNumber(b, put(b, p, prefixes[7]!), c.quote_volume[i]!);
    p = writeNumber(b, put(b, p, prefixes[8]!), c.trades[i]!);
    p = writeNumber(b, put(b, p, prefixes[9]!), c.taker_buy_volume[i]!);
    return writeNumber(b, put(b, p, prefixes[10]!), c.taker_buy_quote_volume[i]!);
  }

  private writeTime(b: Buffer, p: number, ms: number): number {
    if (!this.isoTimes) return writeNumber(b, p, ms);
    const text = new Date(ms).toISOString();
    return this.format === 'json' ? p + b.write(`"${text}"`, p, 'latin1') : p + b.write(text, p, 'latin1');
  }
}
