/**
 * Reads kline Parquet files in the two layouts this project has written, straight into
 * Float64Array columns, without hyparquet's general machinery:
 * - today's (parquet-codec.ts): per column one DataPage v1, ZSTD, times and trades
 *   DELTA_BINARY_PACKED (or PLAIN), doubles PLAIN or BYTE_STREAM_SPLIT, times annotated
 *   TIMESTAMP(MILLIS);
 * - the first release's: per column one PLAIN, UNCOMPRESSED DataPage v1 and no logical types.
 * Any file whose footer or page headers differ from these shapes is left to the caller's general
 * reader (readKlineColumnsFast returns undefined), so an unknown layout is never misread.
 */
import type { ColumnMetaData, FileMetaData, SchemaElement } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { INTEGER_COLUMNS, KLINE_COLUMNS } from '../domain/kline.ts';
import type { KlineColumns } from '../domain/kline-columns.ts';
import { decodeDeltaInt64 } from './parquet-delta.ts';
import { LITTLE_ENDIAN_HOST, decodeByteStreamSplit, decodePlainDouble, decodePlainInt64, zstdDecompress } from './parquet-page-codecs.ts';
import { ZLIB_OUTPUT_SLACK } from '../zlib-output.ts';

/** Encodings a chunk may list, per physical type (RLE and BIT_PACKED name the absent levels). */
const CHUNK_ENCODINGS: Readonly<Record<'INT64' | 'DOUBLE', ReadonlySet<string>>> = {
  INT64: new Set(['PLAIN', 'DELTA_BINARY_PACKED', 'RLE', 'BIT_PACKED']),
  DOUBLE: new Set(['PLAIN', 'BYTE_STREAM_SPLIT', 'RLE', 'BIT_PACKED']),
};
const CODECS: ReadonlySet<string> = new Set(['UNCOMPRESSED', 'ZSTD']);
const TIMESTAMP_COLUMNS: ReadonlySet<string> = new Set(['open_time', 'close_time']);

/**
 * Every kline column's chunk metadata when `metadata` has a shape readKlineColumnsFast reads:
 * a flat schema; exactly one row group of num_rows (> 0) rows; for each of KLINE_COLUMNS a
 * top-level REQUIRED column of physical type INT64 (open_time, close_time, trades) or DOUBLE
 * (the rest), with no logical type except TIMESTAMP(MILLIS) on open_time and close_time, whose chunk is in this
 * file, UNCOMPRESSED or ZSTD, lists only the encodings above, has no dictionary page and holds
 * num_rows values. Other columns may be present. Undefined otherwise.
 */
export function fastReadableChunks(metadata: FileMetaData): Map<string, ColumnMetaData> | undefined {
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
  const kline = new Map<string, ColumnMetaData>();
  for (const name of KLINE_COLUMNS) {
    const type = INTEGER_COLUMNS.has(name) ? 'INT64' : 'DOUBLE';
    const element = elements.get(name);
    const meta = chunks.get(name);
    const chunkOk = meta?.type === type && CODECS.has(meta.codec) && meta.dictionary_page_offset === undefined
      && meta.encodings.every((encoding) => CHUNK_ENCODINGS[type].has(encoding)) && Number(meta.num_values) === n;
    if (!element || !isPlainOrTimestamp(element, type, TIMESTAMP_COLUMNS.has(name)) || !chunkOk) return undefined;
    kline.set(name, meta);
  }
  return kline;
}

/** A REQUIRED leaf of `type` with no annotation, or (`mayBeTimestamp`) an INT64 annotated TIMESTAMP(MILLIS) only. */
function isPlainOrTimestamp(element: SchemaElement, type: 'INT64' | 'DOUBLE', mayBeTimestamp: boolean): boolean {
  if (element.type !== type || element.repetition_type !== 'REQUIRED') return false;
  const { converted_type: converted, logical_type: logical } = element;
  if (converted === undefined && logical === undefined) return true;
  const millis = (converted === undefined || converted === 'TIMESTAMP_MILLIS')
    && (logical === undefined || (logical.type === 'TIMESTAMP' && logical.unit === 'MILLIS'));
  return mayBeTimestamp && type === 'INT64' && millis;
}

/**
 * The kline columns of `bytes` when its footer (`metadata`) passes fastReadableChunks and every
 * chunk is exactly one data page (v1) of num_rows values in a layout above, lying before the
 * footer; undefined when anything differs, including a page that fails to decompress or decode
 * (the caller's general reader then reports what is wrong).
 */
export function readKlineColumnsFast(bytes: Uint8Array, metadata: FileMetaData): KlineColumns | undefined {
  const chunks = fastReadableChunks(metadata);
  if (!chunks) return undefined;
  const n = Number(metadata.num_rows);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerStart = bytes.byteLength - 8 - view.getUint32(bytes.byteLength - 8, true);
  const columns: Record<string, unknown> = { length: n };
  for (const name of KLINE_COLUMNS) {
    const values = readChunk(bytes, view, footerStart, chunks.get(name)!, n);
    if (!values) return undefined;
    columns[name] = values;
  }
  return columns as KlineColumns;
}

/** One chunk's n values; undefined when it is not one page in a layout we read. */
function readChunk(bytes: Uint8Array, view: DataView, footerStart: number, meta: ColumnMetaData, n: number): Float64Array | undefined {
  const start = Number(meta.data_page_offset);
  const end = start + Number(meta.total_compressed_size);
  if (!(start >= 4 && end <= footerStart)) return undefined;
  const reader = { view, offset: start };
  let header: ReturnType<typeof parquetHeader>;
  try {
    header = parquetHeader(reader);
  } catch {
    return undefined;
  }
  const { type, compressed_page_size: size, uncompressed_page_size: rawSize, data_page_header: page } = header;
  if (type !== 'DATA_PAGE' || page?.num_values !== n || reader.offset + size !== end) return undefined;
  if (meta.codec === 'UNCOMPRESSED' && size !== rawSize) return undefined;
  const stored = bytes.subarray(reader.offset, end);
  if (meta.codec === 'UNCOMPRESSED') return decodePage(stored, page.encoding, meta.type, n, false);
  let payload: Uint8Array;
  try {
    payload = zstdDecompress(stored, rawSize);
  } catch {
    return undefined;
  }
  return decodePage(payload, page.encoding, meta.type, n, true);
}

/**
 * Decodes one page's n values (all of them, nothing after) by its encoding; undefined when it
 * cannot. A PLAIN double page we own (`owned`: a fresh decompression output) that starts its
 * buffer and fills it but for zlib's slack (not a slice of Buffer's shared pool) becomes the
 * column itself, with no copy.
 */
function decodePage(payload: Uint8Array, encoding: string, type: string, n: number, owned: boolean): Float64Array | undefined {
  const fixedWidth = payload.byteLength === 8 * n;
  if (encoding === 'DELTA_BINARY_PACKED' && type === 'INT64') {
    const target = new Float64Array(n);
    return decodeDeltaInt64(payload, 0, target) === payload.byteLength ? target : undefined;
  }
  if (!fixedWidth) return undefined;
  if (encoding === 'PLAIN' && type === 'DOUBLE' && owned && LITTLE_ENDIAN_HOST && payload.byteOffset === 0
    && payload.buffer.byteLength - payload.byteLength <= ZLIB_OUTPUT_SLACK && payload.buffer instanceof ArrayBuffer) {
    return new Float64Array(payload.buffer, payload.byteOffset, n);
  }
  const target = new Float64Array(n);
  if (encoding === 'PLAIN' && type === 'INT64') decodePlainInt64(new DataView(payload.buffer, payload.byteOffset, payload.byteLength), 0, target);
  else if (encoding === 'PLAIN' && type === 'DOUBLE') decodePlainDouble(payload, 0, target);
  else if (encoding === 'BYTE_STREAM_SPLIT' && type === 'DOUBLE') decodeByteStreamSplit(payload, 0, target);
  else return undefined;
  return target;
}
