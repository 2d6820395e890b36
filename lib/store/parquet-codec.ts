/**
 * Parquet encoding of klines (DESIGN.md, Storage): one flat schema in KLINE_COLUMNS order,
 * `open_time`, `close_time`, `trades` as required INT64 and every other column as required
 * DOUBLE, so DuckDB, Athena or pandas read the cache files directly.
 * Encoding is this project's own writer (parquet-writer.ts: PLAIN, UNCOMPRESSED, one row group,
 * one v1 data page per column, min/max statistics on open_time); decoding uses hyparquet.
 *
 * Encoding choice: hyparquet-writer (integers DELTA_BINARY_PACKED, doubles PLAIN) wrote
 * ~0.8M rows/s at 66 bytes/row on a generated month of 1m (44,640 rows), most of it in its BigInt
 * INT64 path; its JS snappy was slower still for ~1 % smaller files (float columns barely
 * compress). Writing PLAIN values in place through a DataView encodes that month at ~7-25M
 * rows/s (machine load dependent) for 88 bytes/row; the 22 extra bytes a row buy the speed.
 */
import { parquetMetadata, parquetRead } from 'hyparquet';
import type { DecodedArray, FileMetaData } from 'hyparquet';
import { DataValidationError } from '../domain/errors.ts';
import { INTEGER_COLUMNS, KLINE_COLUMNS, type Kline } from '../domain/kline.ts';
import { allocateColumns, columnsFromRows, type KlineColumns } from '../domain/kline-columns.ts';
import { layoutPlainParquet, type PlainColumnSpec } from './parquet-writer.ts';

type Column = (typeof KLINE_COLUMNS)[number];

const CREATED_BY = 'klines-cache';
const TWO_POW_32 = 4_294_967_296;
const COLUMN_SPECS: readonly PlainColumnSpec[] = KLINE_COLUMNS.map((name) => ({
  name,
  type: INTEGER_COLUMNS.has(name) ? 'INT64' : 'DOUBLE',
  statistics: name === 'open_time',
}));

/**
 * Encodes rows (in the order given) as a standard Parquet file of 88 bytes a row plus ~1 KB:
 * the bytes of encodeKlineColumns(columnsFromRows(rows)). Integer columns must hold safe
 * integers (as `validateKlines` guarantees); a non-integer time or trade count throws
 * DataValidationError naming the row. An integer -0 is written as 0 (int64 has no negative zero);
 * doubles, -0 and subnormals included, keep their exact bits.
 */
export function encodeKlines(rows: readonly Kline[]): Uint8Array {
  return encodeKlineColumns(columnsFromRows(rows));
}

/** Float64Array bytes are the PLAIN DOUBLE bytes (IEEE little-endian) on a little-endian host. */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/**
 * Encodes columns (rows in the order given) as the same file as encodeKlines: DOUBLE columns are
 * copied byte for byte (on a little-endian host), INT64 columns converted value by value.
 * Same errors as encodeKlines.
 */
export function encodeKlineColumns(c: KlineColumns): Uint8Array {
  const n = c.length;
  const file = layoutPlainParquet(COLUMN_SPECS, n, CREATED_BY);
  if (n === 0) return file.finish(new Map());
  const { view, bytes } = file;
  let minOpen = Infinity;
  let maxOpen = -Infinity;
  const openTime = c.open_time;
  const closeTime = c.close_time;
  const trades = c.trades;
  for (let i = 0; i < n; i++) {
    const ot = openTime[i]!;
    const ct = closeTime[i]!;
    const tr = trades[i]!;
    if (!Number.isSafeInteger(ot) || !Number.isSafeInteger(ct) || !Number.isSafeInteger(tr)) {
      throw new DataValidationError(`parquet-codec: row ${i} has a non-integer open_time, close_time or trades: ${ot}, ${ct}, ${tr}`, { row: i });
    }
    if (ot < minOpen) minOpen = ot;
    if (ot > maxOpen) maxOpen = ot;
  }
  KLINE_COLUMNS.forEach((name, k) => {
    const offset = file.valueOffsets[k]!;
    const values = c[name];
    if (INTEGER_COLUMNS.has(name)) writeInt64(view, offset, values, n);
    else if (LITTLE_ENDIAN_HOST) bytes.set(new Uint8Array(values.buffer, values.byteOffset, n * 8), offset);
    else for (let i = 0; i < n; i++) view.setFloat64(offset + 8 * i, values[i]!, true);
  });
  return file.finish(new Map([['open_time', { min: minOpen, max: maxOpen }]]));
}

/**
 * int64 as two little-endian int32 halves: setInt32 keeps the low 32 bits (ToInt32 is modular)
 * and the floored quotient is the high word, exact for safe integers (checked by the caller).
 */
function writeInt64(view: DataView, offset: number, values: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const value = values[i]!;
    view.setInt32(offset + 8 * i, value, true);
    view.setInt32(offset + 8 * i + 4, Math.floor(value / TWO_POW_32), true);
  }
}

/**
 * Decodes a file written by `encodeKlines` (or any Parquet file with those 11 columns, INT64 or
 * DOUBLE/INT32 integers) into Kline objects in file order. Throws DataValidationError when the
 * bytes are not Parquet or a column is missing.
 */
export async function decodeKlines(bytes: Uint8Array): Promise<Kline[]> {
  return buildRows(await decodeKlineColumns(bytes));
}

/**
 * The same decoding as `decodeKlines`, as one Float64Array per column (kline-columns.ts) in file
 * order, without building row objects (files written by the cache are sorted by open_time).
 * Same errors as `decodeKlines`.
 */
export async function decodeKlineColumns(bytes: Uint8Array): Promise<KlineColumns> {
  // hyparquet takes an ArrayBuffer; copy only when `bytes` is a window on a larger buffer.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  const file = whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(file);
  } catch (cause) {
    throw new DataValidationError(`parquet-codec: not a Parquet file (${bytes.byteLength} bytes): ${String(cause)}`, { sizeBytes: bytes.byteLength });
  }
  const n = Number(metadata.num_rows);
  const columns = allocateColumns(n);
  await parquetRead({
    file,
    metadata,
    columns: [...KLINE_COLUMNS],
    onChunk: ({ columnName, columnData, rowStart }) => {
      if ((KLINE_COLUMNS as readonly string[]).includes(columnName)) copyNumbers(columnData, columns[columnName as Column], rowStart);
    },
  });
  const present = new Set(metadata.schema.slice(1).map((element) => element.name));
  const missing = KLINE_COLUMNS.filter((name) => !present.has(name));
  if (missing.length > 0) {
    throw new DataValidationError(`parquet-codec: file lacks column(s) ${missing.join(', ')}`, { missing });
  }
  return columns;
}

function copyNumbers(source: DecodedArray, target: Float64Array, rowStart: number): void {
  if (source instanceof Float64Array) {
    target.set(source, rowStart);
    return;
  }
  for (let i = 0; i < source.length; i++) target[rowStart + i] = Number(source[i]);
}

function buildRows(columns: KlineColumns): Kline[] {
  const n = columns.length;
  const {
    open_time: openTime, open, high, low, close, volume, close_time: closeTime, quote_volume: quoteVolume, trades,
    taker_buy_volume: takerBuyVolume, taker_buy_quote_volume: takerBuyQuoteVolume,
  } = columns;
  const rows = new Array<Kline>(n);
  for (let i = 0; i < n; i++) {
    rows[i] = {
      open_time: openTime[i]!,
      open: open[i]!,
      high: high[i]!,
      low: low[i]!,
      close: close[i]!,
      volume: volume[i]!,
      close_time: closeTime[i]!,
      quote_volume: quoteVolume[i]!,
      trades: trades[i]!,
      taker_buy_volume: takerBuyVolume[i]!,
      taker_buy_quote_volume: takerBuyQuoteVolume[i]!,
    };
  }
  return rows;
}
