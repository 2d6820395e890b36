/**
 * Independent views of the cache's Parquet files for the codec tests: metadata and page headers
 * parsed by hyparquet's own Thrift reader, pages decompressed by hyparquet-compressors (a JS
 * ZSTD, not node:zlib) and decoded by hyparquet's own DELTA and BYTE_STREAM_SPLIT decoders, plus
 * oracles built without any Parquet code (BigInt64Array / Float64Array bytes).
 */
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetHeader } from 'hyparquet/src/column.js';
import { deltaBinaryUnpack } from 'hyparquet/src/delta.js';
import { byteStreamSplit } from 'hyparquet/src/encoding.js';
import { KLINE_COLUMNS, type Kline } from '../../lib/domain/kline.ts';

export type KlineColumnName = (typeof KLINE_COLUMNS)[number];
export type NumberColumns = { readonly [C in KlineColumnName]: ArrayLike<number> };

export const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
/** hyparquet parses TIMESTAMP(MILLIS) values as Date; these keep the stored int64 (Dates stop at ±8.64e15 ms). */
const RAW_TIMESTAMPS = { timestampFromMilliseconds: (millis: bigint): bigint => millis };
/** The footer as hyparquet parses it, timestamps (statistics included) as bigint. */
export const metadataOf = (bytes: Uint8Array): FileMetaData => parquetMetadata(toArrayBuffer(bytes), { parsers: RAW_TIMESTAMPS });
export const isInteger = (name: string): boolean => ['open_time', 'close_time', 'trades'].includes(name);

/** One column chunk's single page: its header fields and its payload after decompression. */
export interface PageView {
  readonly encoding: string;
  readonly codec: string;
  readonly headerEnd: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly numValues: number;
  readonly payload: Uint8Array;
}

/** The page of column `column` (index in the row group), located through the footer. */
export function pageOf(bytes: Uint8Array, metadata: FileMetaData, column: number): PageView {
  const meta = metadata.row_groups[0]!.columns[column]!.meta_data!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = { view, offset: Number(meta.data_page_offset) };
  const header = parquetHeader(reader);
  const stored = bytes.subarray(reader.offset, reader.offset + header.compressed_page_size);
  const payload = meta.codec === 'ZSTD' ? compressors.ZSTD!(stored, header.uncompressed_page_size) : stored;
  return {
    encoding: header.data_page_header!.encoding, codec: meta.codec, headerEnd: reader.offset,
    compressedSize: header.compressed_page_size, uncompressedSize: header.uncompressed_page_size,
    numValues: header.data_page_header!.num_values, payload,
  };
}

/** What PLAIN must hold, built without the encoder: int64 via BigInt, doubles via Float64Array. */
export function expectedPlainBytes(rows: readonly Kline[], name: KlineColumnName): Uint8Array {
  const values = rows.map((row) => row[name]);
  const array = isInteger(name) ? BigInt64Array.from(values, (value) => BigInt(value)) : Float64Array.from(values);
  return new Uint8Array(array.buffer);
}

/**
 * The PLAIN bytes a page stands for, decoded by hyparquet's decoders (DELTA_BINARY_PACKED,
 * BYTE_STREAM_SPLIT) or taken as they are (PLAIN); compare with expectedPlainBytes.
 */
export function pagePlainBytes(page: PageView, name: KlineColumnName): Uint8Array {
  const reader = { view: new DataView(page.payload.buffer, page.payload.byteOffset, page.payload.byteLength), offset: 0 };
  if (page.encoding === 'DELTA_BINARY_PACKED') {
    const out = new BigInt64Array(page.numValues);
    deltaBinaryUnpack(reader, page.numValues, out);
    return new Uint8Array(out.buffer);
  }
  if (page.encoding === 'BYTE_STREAM_SPLIT') {
    const out = byteStreamSplit(reader, page.numValues, isInteger(name) ? 'INT64' : 'DOUBLE', undefined);
    return new Uint8Array((out as Float64Array | BigInt64Array).buffer);
  }
  return page.payload;
}

/** Index of the first byte where `a` and `b` differ (or the shorter length), -1 when identical. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)) return -1;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** hyparquet's own reading of `bytes` (with hyparquet-compressors), INT64 values and timestamps as Number. */
export async function hyparquetColumns(bytes: Uint8Array): Promise<NumberColumns> {
  const objects = await parquetReadObjects({ file: toArrayBuffer(bytes), columns: [...KLINE_COLUMNS], compressors, parsers: RAW_TIMESTAMPS });
  const columns: Partial<Record<KlineColumnName, number[]>> = {};
  for (const name of KLINE_COLUMNS) columns[name] = objects.map((row) => Number(row[name]));
  return columns as NumberColumns;
}
