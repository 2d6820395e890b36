/**
 * Parquet encoding of klines (DESIGN.md, Storage): one flat schema in KLINE_COLUMNS order,
 * `open_time`, `close_time` (TIMESTAMP(MILLIS, UTC-adjusted)) and `trades` as required INT64 and
 * every other column as required DOUBLE, so DuckDB, Athena or pandas read the cache files
 * directly and see timestamps.
 * Encoding is this project's own writer (parquet-writer.ts: one row group, one v1 data page per
 * column, every page ZSTD-compressed by Node's native zlib, min/max statistics on every column,
 * `created_by` naming the package version):
 * - open_time, close_time, trades: DELTA_BINARY_PACKED (PLAIN when a delta would not be exact);
 * - doubles: PLAIN or BYTE_STREAM_SPLIT, whichever ZSTD makes smaller on a sample of the column.
 *   Prices with few digits compress best PLAIN, many-digit volumes split by byte.
 * Decoding reads files of our layouts (this one, and the first release's PLAIN, UNCOMPRESSED
 * files, which are rewritten at their next compaction) straight from their pages
 * (parquet-fast-reader.ts) and hands any other Parquet file to hyparquet.
 *
 * Choices measured on the real recordings (test/fixtures/binance; README "Cache layout"): ZSTD
 * level 3 (levels 5-9 are 1-7 % smaller at 2-3x the time, level 1 up to 4 % larger); DELTA
 * over PLAIN+ZSTD for times (0.01 against 2.75 bytes a row) and trades; a dictionary lost to the
 * better of PLAIN and BYTE_STREAM_SPLIT on every double column. The files come out at
 * 0.80-0.94x the bytes of Vision's zips of the same rows (bench/parquet-size.ts).
 */
import { parquetMetadata } from 'hyparquet/src/metadata.js';
import type { Compressors, DecodedArray, FileMetaData } from 'hyparquet';
import zlib from 'node:zlib';
import packageJson from '../../package.json' with { type: 'json' };
import { DataValidationError } from '../domain/errors.ts';
import { INTEGER_COLUMNS, KLINE_COLUMNS, type Kline } from '../domain/kline.ts';
import { allocateColumns, columnsFromRows, type KlineColumns } from '../domain/kline-columns.ts';
import { canDeltaEncode, encodeDeltaInt64 } from './parquet-delta.ts';
import { fastReadableChunks, readKlineColumnsFast } from './parquet-fast-reader.ts';
import { encodeByteStreamSplit, encodePlainDouble, encodePlainInt64, zstdCompress } from './parquet-page-codecs.ts';
import { writeParquetFile, type ColumnChunkInput, type ColumnSchema } from './parquet-writer.ts';
import { parquetReadLazily } from './parquet-read-lazy.ts';

type Column = (typeof KLINE_COLUMNS)[number];

/** The writer named in every file's footer, in the form the Parquet spec gives ("<app> version <semver>"). */
export const CREATED_BY = `klines-cache version ${packageJson.version}`;
const TIMESTAMP_COLUMNS: ReadonlySet<string> = new Set(['open_time', 'close_time']);
/** Rows of a double column compressed both ways to choose its layout; smaller columns are tried whole. */
const LAYOUT_SAMPLE_ROWS = 4096;

/**
 * Encodes rows (in the order given) as a standard Parquet file: the bytes of
 * encodeKlineColumns(columnsFromRows(rows)). Integer columns must hold safe integers (as
 * `validateKlines` guarantees); a non-integer time or trade count throws DataValidationError
 * naming the row. An integer -0 is written as 0 (int64 has no negative zero); doubles, -0 and
 * subnormals included, keep their exact bits.
 */
export function encodeKlines(rows: readonly Kline[]): Uint8Array {
  return encodeKlineColumns(columnsFromRows(rows));
}

/**
 * Encodes columns (rows in the order given) as the same file as encodeKlines, about 30-45 bytes a
 * row for real 1m data plus ~1.5 KB of footer. Same errors as encodeKlines.
 */
export function encodeKlineColumns(c: KlineColumns): Uint8Array {
  return writeParquetFile(c.length === 0 ? KLINE_SCHEMA.map(emptyChunk) : encodeKlineChunks(c), c.length, CREATED_BY);
}

/** The schema of every file: KLINE_COLUMNS in order, times TIMESTAMP(MILLIS, UTC), trades INT64, the rest DOUBLE. */
export const KLINE_SCHEMA: readonly ColumnSchema[] = KLINE_COLUMNS.map((name) => ({
  name, type: INTEGER_COLUMNS.has(name) ? 'INT64' : 'DOUBLE', timestampMillis: TIMESTAMP_COLUMNS.has(name),
}));

/**
 * The column chunks (one compressed page each, with min/max) of `c.length` > 0 rows, as
 * encodeKlineColumns writes them: one row group's worth for parquet-writer.ts. Same errors.
 */
export function encodeKlineChunks(c: KlineColumns): ColumnChunkInput[] {
  const n = c.length;
  for (let i = 0; i < n; i++) {
    const ot = c.open_time[i]!;
    const ct = c.close_time[i]!;
    const tr = c.trades[i]!;
    if (!Number.isSafeInteger(ot) || !Number.isSafeInteger(ct) || !Number.isSafeInteger(tr)) {
      throw new DataValidationError(`parquet-codec: row ${i} has a non-integer open_time, close_time or trades: ${ot}, ${ct}, ${tr}`, { row: i });
    }
  }
  return KLINE_COLUMNS.map((name) => encodeChunk(name, c[name], n));
}

function emptyChunk(column: ColumnSchema): ColumnChunkInput {
  return { ...column, encoding: 'PLAIN', codec: 'ZSTD', page: new Uint8Array(0), uncompressedSize: 0 };
}

/** One column's page: encoded as described at the top, ZSTD-compressed, with its min/max. */
function encodeChunk(name: Column, values: Float64Array, n: number): ColumnChunkInput {
  const statistics = bounds(values, n);
  if (INTEGER_COLUMNS.has(name)) {
    const delta = canDeltaEncode(values, n);
    const encoded = delta ? encodeDeltaInt64(values, n) : encodePlainInt64(values, n);
    return {
      name, type: 'INT64', timestampMillis: TIMESTAMP_COLUMNS.has(name), encoding: delta ? 'DELTA_BINARY_PACKED' : 'PLAIN',
      codec: 'ZSTD', page: zstdCompress(encoded), uncompressedSize: encoded.byteLength, statistics,
    };
  }
  const plain = encodePlainDouble(values, n);
  const sampleRows = Math.min(n, LAYOUT_SAMPLE_ROWS);
  const splitSample = encodeByteStreamSplit(values, sampleRows);
  const plainPage = zstdCompress(plain.subarray(0, 8 * sampleRows));
  const splitPage = zstdCompress(splitSample);
  const useSplit = splitPage.byteLength < plainPage.byteLength;
  let page = useSplit ? splitPage : plainPage;
  if (n > sampleRows) page = zstdCompress(useSplit ? encodeByteStreamSplit(values, n) : plain);
  return { name, type: 'DOUBLE', encoding: useSplit ? 'BYTE_STREAM_SPLIT' : 'PLAIN', codec: 'ZSTD', page, uncompressedSize: 8 * n, statistics };
}

function bounds(values: Float64Array, n: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const value = values[i]!;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { min, max };
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
 * Files in this project's layouts (isFastReadableKlinesFile, and each chunk one v1 page) are read
 * directly from their pages (parquet-fast-reader.ts); any other file goes through hyparquet
 * (ZSTD, GZIP and BROTLI pages by node:zlib, SNAPPY by hyparquet), which copies `bytes` when it is
 * a window on a larger buffer. Both give the same numbers (int64 rounded to the nearest double,
 * timestamps as epoch ms). Same errors as `decodeKlines`, and DataValidationError when hyparquet
 * cannot read the file.
 */
export async function decodeKlineColumns(bytes: Uint8Array): Promise<KlineColumns> {
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(bytes, { parsers: TIMESTAMPS_AS_NUMBERS });
  } catch (cause) {
    throw new DataValidationError(`parquet-codec: not a Parquet file (${bytes.byteLength} bytes): ${String(cause)}`, { sizeBytes: bytes.byteLength });
  }
  return readKlineColumnsFast(bytes, metadata) ?? decodeWithHyparquet(bytes, metadata);
}

/**
 * Whether `metadata` describes a file decodeKlineColumns reads without hyparquet (the page
 * headers are checked when the values are read): either layout this project writes; see
 * fastReadableChunks in parquet-fast-reader.ts for the exact shape.
 */
export function isFastReadableKlinesFile(metadata: FileMetaData): boolean {
  return fastReadableChunks(metadata) !== undefined;
}

/** TIMESTAMP(MILLIS) values as epoch ms numbers (hyparquet's default is a Date, invalid past ±8.64e15 ms). */
const TIMESTAMPS_AS_NUMBERS = { timestampFromMilliseconds: (millis: bigint): number => Number(millis) };

/** Page decompressors handed to hyparquet for files outside our layouts (it reads SNAPPY itself). */
const NATIVE_COMPRESSORS: Compressors = {
  ZSTD: (input) => zlib.zstdDecompressSync(input),
  GZIP: (input) => zlib.gunzipSync(input),
  BROTLI: (input) => zlib.brotliDecompressSync(input),
};

/** The general path: any Parquet file hyparquet reads, columns converted with Number(). */
async function decodeWithHyparquet(bytes: Uint8Array, metadata: FileMetaData): Promise<KlineColumns> {
  // hyparquet takes an ArrayBuffer; copy only when `bytes` is a window on a larger buffer.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  const file = whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const n = Number(metadata.num_rows);
  const columns = allocateColumns(n);
  const present = new Set(metadata.schema.slice(1).map((element) => element.name));
  const missing = KLINE_COLUMNS.filter((name) => !present.has(name));
  if (missing.length > 0) {
    throw new DataValidationError(`parquet-codec: file lacks column(s) ${missing.join(', ')}`, { missing });
  }
  try {
    await parquetReadLazily({
      file,
      metadata,
      columns: [...KLINE_COLUMNS],
      compressors: NATIVE_COMPRESSORS,
      parsers: TIMESTAMPS_AS_NUMBERS,
      onChunk: ({ columnName, columnData, rowStart }) => {
        if ((KLINE_COLUMNS as readonly string[]).includes(columnName)) copyNumbers(columnData, columns[columnName as Column], rowStart);
      },
    });
  } catch (cause) {
    throw new DataValidationError(`parquet-codec: cannot read the file's kline columns (${bytes.byteLength} bytes): ${String(cause)}`, { sizeBytes: bytes.byteLength });
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
