/**
 * Parquet encoding of klines (DESIGN.md, Storage): one flat schema in KLINE_COLUMNS order,
 * `open_time`, `close_time`, `trades` as required INT64 and every other column as required
 * DOUBLE, so DuckDB, Athena or pandas read the cache files directly.
 * Encoding is this project's own writer (parquet-writer.ts: PLAIN, UNCOMPRESSED, one row group,
 * one v1 data page per column, min/max statistics on open_time). Decoding reads files of that
 * shape straight from their PLAIN pages (isPlainKlinesFile) and hands any other Parquet file to
 * hyparquet.
 *
 * Encoding choice: hyparquet-writer (integers DELTA_BINARY_PACKED, doubles PLAIN) wrote
 * ~0.8M rows/s at 66 bytes/row on a generated month of 1m (44,640 rows), most of it in its BigInt
 * INT64 path; its JS snappy was slower still for ~1 % smaller files (float columns barely
 * compress). Writing PLAIN values in place through a DataView encodes that month at ~7-25M
 * rows/s (machine load dependent) for 88 bytes/row; the 22 extra bytes a row buy the speed.
 */
import { parquetMetadata, parquetRead } from 'hyparquet';
import type { ColumnMetaData, DecodedArray, FileMetaData } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
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
 * Files in this project's layout (isPlainKlinesFile, and each chunk one PLAIN v1 page) are read
 * directly from their value bytes; any other file goes through hyparquet, which copies `bytes`
 * when it is a window on a larger buffer. Both give the same numbers (int64 rounded to the
 * nearest double). Same errors as `decodeKlines`.
 */
export async function decodeKlineColumns(bytes: Uint8Array): Promise<KlineColumns> {
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(bytes);
  } catch (cause) {
    throw new DataValidationError(`parquet-codec: not a Parquet file (${bytes.byteLength} bytes): ${String(cause)}`, { sizeBytes: bytes.byteLength });
  }
  return readPlainColumns(bytes, metadata) ?? decodeWithHyparquet(bytes, metadata);
}

/** Column encodings a chunk of our layout may list: PLAIN values, plus the (absent) level encodings. */
const PLAIN_ENCODINGS: ReadonlySet<string> = new Set(['PLAIN', 'RLE', 'BIT_PACKED']);

/**
 * Whether `metadata` has the shape parquet-writer.ts writes, which decodeKlineColumns reads
 * without hyparquet: a flat schema; exactly one row group of num_rows (> 0) rows; for each of
 * KLINE_COLUMNS a top-level REQUIRED column of physical type INT64 (open_time, close_time,
 * trades) or DOUBLE (the rest) with no converted or logical type, whose chunk is in this file,
 * UNCOMPRESSED, lists only PLAIN/RLE/BIT_PACKED encodings, has no dictionary page, holds
 * num_rows values and is longer than num_rows × 8 bytes (a page header before the values).
 * Other columns may be present. The page headers are checked when the values are read.
 */
export function isPlainKlinesFile(metadata: FileMetaData): boolean {
  return plainChunks(metadata) !== undefined;
}

/** Every chunk's metadata by column name when isPlainKlinesFile holds, else undefined. */
function plainChunks(metadata: FileMetaData): Map<string, ColumnMetaData> | undefined {
  const { schema, row_groups: rowGroups } = metadata;
  const n = Number(metadata.num_rows);
  const rowGroup = rowGroups[0];
  if (rowGroups.length !== 1 || !rowGroup || n <= 0 || Number(rowGroup.num_rows) !== n) return undefined;
  if (schema[0]?.num_children !== schema.length - 1) return undefined; // every other element a top-level leaf
  const elements = new Map(schema.slice(1).map((element) => [element.name, element]));
  const chunks = new Map<string, ColumnMetaData>();
  for (const chunk of rowGroup.columns) {
    const meta = chunk.meta_data;
    if (chunk.file_path !== undefined || meta?.path_in_schema.length !== 1) return undefined;
    chunks.set(meta.path_in_schema[0]!, meta);
  }
  for (const name of KLINE_COLUMNS) {
    const type = INTEGER_COLUMNS.has(name) ? 'INT64' : 'DOUBLE';
    const element = elements.get(name);
    const meta = chunks.get(name);
    const plainElement = element?.type === type && element.repetition_type === 'REQUIRED'
      && element.converted_type === undefined && element.logical_type === undefined;
    const plainChunk = meta?.type === type && meta.codec === 'UNCOMPRESSED' && meta.dictionary_page_offset === undefined
      && meta.encodings.every((encoding) => PLAIN_ENCODINGS.has(encoding))
      && Number(meta.num_values) === n && Number(meta.total_compressed_size) > 8 * n;
    if (!plainElement || !plainChunk) return undefined;
  }
  return chunks;
}

/**
 * The columns of a file in our layout, read from each chunk's last num_rows × 8 bytes after
 * checking that the chunk is one PLAIN DATA_PAGE (v1) header followed by exactly those bytes and
 * lies before the footer; undefined when anything differs (the caller falls back to hyparquet).
 */
function readPlainColumns(bytes: Uint8Array, metadata: FileMetaData): KlineColumns | undefined {
  const chunks = plainChunks(metadata);
  if (!chunks) return undefined;
  const n = Number(metadata.num_rows);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerStart = bytes.byteLength - 8 - view.getUint32(bytes.byteLength - 8, true);
  const valueStarts = new Map<string, number>();
  for (const [name, meta] of chunks) {
    if (!(KLINE_COLUMNS as readonly string[]).includes(name)) continue;
    const start = Number(meta.data_page_offset);
    const end = start + Number(meta.total_compressed_size);
    if (start < 0 || end > footerStart) return undefined;
    const reader = { view, offset: start };
    let header: ReturnType<typeof parquetHeader>;
    try {
      header = parquetHeader(reader);
    } catch {
      return undefined;
    }
    const { type, compressed_page_size: size, uncompressed_page_size: rawSize, data_page_header: page } = header;
    const onePlainPage = type === 'DATA_PAGE' && size === 8 * n && rawSize === 8 * n
      && page?.num_values === n && page.encoding === 'PLAIN' && reader.offset === end - 8 * n;
    if (!onePlainPage) return undefined;
    valueStarts.set(name, reader.offset);
  }
  const columns = allocateColumns(n);
  for (const name of KLINE_COLUMNS) {
    const start = valueStarts.get(name)!;
    const target = columns[name];
    if (INTEGER_COLUMNS.has(name)) readInt64(view, start, target);
    else if (LITTLE_ENDIAN_HOST) new Uint8Array(target.buffer).set(bytes.subarray(start, start + 8 * target.length));
    else for (let i = 0; i < target.length; i++) target[i] = view.getFloat64(start + 8 * i, true);
  }
  return columns;
}

/** PLAIN int64 values (little-endian halves, signed high word) as doubles: exact for safe integers, else rounded once like Number(bigint). */
function readInt64(view: DataView, start: number, target: Float64Array): void {
  for (let i = 0, p = start; i < target.length; i++, p += 8) {
    target[i] = view.getInt32(p + 4, true) * TWO_POW_32 + view.getUint32(p, true);
  }
}

/** The general path: any Parquet file hyparquet reads, columns converted with Number(). */
async function decodeWithHyparquet(bytes: Uint8Array, metadata: FileMetaData): Promise<KlineColumns> {
  // hyparquet takes an ArrayBuffer; copy only when `bytes` is a window on a larger buffer.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  const file = whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
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
