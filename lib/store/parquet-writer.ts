/**
 * A Parquet writer for one shape of file: flat, all columns required, 8-byte physical types
 * (INT64 or DOUBLE), one DataPage v1 per column whose payload the caller has
 * already encoded and compressed (parquet-page-codecs.ts). Layout and field ids follow the Parquet
 * format spec (apache/parquet-format, README "File Format" and src/main/thrift/parquet.thrift).
 * Required top-level columns have max definition and repetition level 0, so a page is its header
 * followed by the (compressed) values, with no level bytes. A file is written whole
 * (`writeParquetFile`: one row group) or row group by row group (`encodeRowGroup`, then
 * `parquetFooter`), so a long answer need not be in memory at once.
 */
import { CompactType, ThriftCompactWriter } from './thrift-compact.ts';

/** Column-chunk bounds (INT64: safe integers; DOUBLE: finite numbers). */
export interface ColumnStatistics {
  readonly min: number;
  readonly max: number;
}

/** Value encodings this writer names (parquet.thrift Encoding). */
export type PageEncoding = 'PLAIN' | 'DELTA_BINARY_PACKED' | 'BYTE_STREAM_SPLIT';
/** Compression codecs this writer names (parquet.thrift CompressionCodec). */
export type PageCodec = 'UNCOMPRESSED' | 'ZSTD';

/** One column of the file and its single page, ready to be laid out. */
export interface ColumnChunkInput {
  readonly name: string;
  readonly type: 'INT64' | 'DOUBLE';
  /** INT64 only: annotate as TIMESTAMP(MILLIS, isAdjustedToUTC=true), UTC epoch ms. */
  readonly timestampMillis?: boolean;
  readonly encoding: PageEncoding;
  readonly codec: PageCodec;
  /** The page's values as stored: encoded, then compressed by `codec`. */
  readonly page: Uint8Array;
  /** Length of the encoded values before compression. */
  readonly uncompressedSize: number;
  /** Min/max of the column, written as the chunk's Statistics when given. */
  readonly statistics?: ColumnStatistics;
}

/** parquet.thrift enums, as numbers. */
const PHYSICAL_TYPE = { INT64: 2, DOUBLE: 5 } as const;
const ENCODING = { PLAIN: 0, RLE: 3, DELTA_BINARY_PACKED: 5, BYTE_STREAM_SPLIT: 9 } as const;
const CODEC = { UNCOMPRESSED: 0, ZSTD: 6 } as const;
const REQUIRED = 0;
const PAGE_DATA = 0;
const CONVERTED_TIMESTAMP_MILLIS = 9;
/** FileMetaData.version: 2, as the file may use encodings added in format 2.x (DELTA, BYTE_STREAM_SPLIT). */
const FORMAT_VERSION = 2;
const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"
const I32_MAX = 0x7fff_ffff;
const TWO_POW_32 = 4_294_967_296;

interface ChunkLayout {
  readonly offset: number;
  readonly size: number;
  readonly uncompressedSize: number;
}

/** What the footer needs of one column chunk once its page is written (the page itself is not kept). */
type WrittenChunk = Omit<ColumnChunkInput, 'page' | 'uncompressedSize'> & ChunkLayout;

/** A row group written by `encodeRowGroup`: its bytes, as pieces to write in order, and what the footer says of it. */
export interface RowGroupBytes {
  /** Per column, the page header and the page, in column order (not joined: the caller writes or places them). */
  readonly pieces: readonly Uint8Array[];
  /** The pieces' total length. */
  readonly byteLength: number;
  readonly layout: RowGroupLayout;
}

/** A written row group as the footer describes it. */
export interface RowGroupLayout {
  readonly numRows: number;
  readonly chunks: readonly WrittenChunk[];
}

/** A leaf of the schema (the same in every row group). */
export type ColumnSchema = Pick<ColumnChunkInput, 'name' | 'type' | 'timestampMillis'>;

/** Bytes every Parquet file starts with ("PAR1"). */
export const PARQUET_MAGIC: Uint8Array = Uint8Array.from(MAGIC);

/**
 * The whole file for `numRows` rows: `PAR1`, one row group (per column one page: header +
 * `page`), the Thrift compact FileMetaData, its length (u32 LE) and `PAR1`. Zero rows write no
 * row group (the schema only; pages are ignored). `createdBy` follows the spec's
 * "<app> version <semver>" form. Throws RangeError when a page exceeds Parquet's i32 page size.
 */
export function writeParquetFile(columns: readonly ColumnChunkInput[], numRows: number, createdBy: string): Uint8Array {
  const group = numRows > 0 ? encodeRowGroup(columns, numRows, MAGIC.length) : undefined;
  const footer = parquetFooter(columns, group ? [group.layout] : [], createdBy);
  const bytes = new Uint8Array(MAGIC.length + (group?.byteLength ?? 0) + footer.byteLength);
  let at = 0;
  for (const piece of [PARQUET_MAGIC, ...(group?.pieces ?? []), footer]) {
    bytes.set(piece, at);
    at += piece.byteLength;
  }
  return bytes;
}

/**
 * One row group of `numRows` (> 0) rows whose first byte will be at `offset` in the file: per
 * column its page header and page. Files of several row groups are `PAR1`, each group's bytes
 * (offsets following on), then `parquetFooter` of every layout. Throws RangeError when a page
 * exceeds Parquet's i32 page size.
 */
export function encodeRowGroup(columns: readonly ColumnChunkInput[], numRows: number, offset: number): RowGroupBytes {
  const pieces: Uint8Array[] = [];
  const chunks: WrittenChunk[] = [];
  let at = offset;
  for (const { page, ...column } of columns) {
    if (column.uncompressedSize > I32_MAX || page.byteLength > I32_MAX) {
      throw new RangeError(`parquet-writer: column ${column.name} page of ${column.uncompressedSize} bytes exceeds Parquet's i32 page size`);
    }
    const header = pageHeader(column, page.byteLength, numRows);
    pieces.push(header, page);
    const size = header.byteLength + page.byteLength;
    chunks.push({ ...column, offset: at, size, uncompressedSize: header.byteLength + column.uncompressedSize });
    at += size;
  }
  return { pieces, byteLength: at - offset, layout: { numRows, chunks } };
}

/** The end of a file: Thrift compact FileMetaData of `schema` and `rowGroups`, its length (u32 LE) and `PAR1`. */
export function parquetFooter(schema: readonly ColumnSchema[], rowGroups: readonly RowGroupLayout[], createdBy: string): Uint8Array {
  const metadata = fileMetaData(schema, rowGroups, createdBy);
  const bytes = new Uint8Array(metadata.byteLength + 4 + MAGIC.length);
  bytes.set(metadata, 0);
  new DataView(bytes.buffer).setUint32(metadata.byteLength, metadata.byteLength, true);
  bytes.set(MAGIC, metadata.byteLength + 4);
  return bytes;
}

/** PageHeader{1 type, 2 uncompressed_page_size, 3 compressed_page_size, 5 DataPageHeader}. */
function pageHeader(column: Omit<ColumnChunkInput, 'page'>, pageBytes: number, numRows: number): Uint8Array {
  const t = new ThriftCompactWriter();
  t.beginStruct();
  t.i32Field(1, PAGE_DATA);
  t.i32Field(2, column.uncompressedSize);
  t.i32Field(3, pageBytes);
  t.beginStructField(5);
  t.i32Field(1, numRows);
  t.i32Field(2, ENCODING[column.encoding]);
  // No levels are written (required columns); RLE is the level encoding readers expect named.
  t.i32Field(3, ENCODING.RLE);
  t.i32Field(4, ENCODING.RLE);
  t.endStruct();
  t.endStruct();
  return t.toBytes();
}

/** FileMetaData{1 version, 2 schema, 3 num_rows, 4 row_groups, 6 created_by, 7 column_orders}. */
function fileMetaData(schema: readonly ColumnSchema[], rowGroups: readonly RowGroupLayout[], createdBy: string): Uint8Array {
  const t = new ThriftCompactWriter();
  t.beginStruct();
  t.i32Field(1, FORMAT_VERSION);
  t.beginListField(2, CompactType.STRUCT, schema.length + 1);
  t.beginStruct();
  t.stringField(4, 'schema');
  t.i32Field(5, schema.length);
  t.endStruct();
  for (const column of schema) writeSchemaElement(t, column);
  t.i64Field(3, rowGroups.reduce((sum, group) => sum + group.numRows, 0));
  t.beginListField(4, CompactType.STRUCT, rowGroups.length);
  for (const { numRows, chunks } of rowGroups) {
    const total = (key: 'size' | 'uncompressedSize'): number => chunks.reduce((sum, chunk) => sum + chunk[key], 0);
    // RowGroup{1 columns, 2 total_byte_size (uncompressed), 3 num_rows, 5 file_offset, 6 total_compressed_size}
    t.beginStruct();
    t.beginListField(1, CompactType.STRUCT, chunks.length);
    for (const chunk of chunks) writeColumnChunk(t, chunk, numRows);
    t.i64Field(2, total('uncompressedSize'));
    t.i64Field(3, numRows);
    t.i64Field(5, chunks[0]!.offset);
    t.i64Field(6, total('size'));
    t.endStruct();
  }
  t.stringField(6, createdBy);
  // ColumnOrder TYPE_ORDER for every leaf: min/max use signed int64 and IEEE double order.
  t.beginListField(7, CompactType.STRUCT, schema.length);
  for (const _ of schema) {
    t.beginStruct();
    t.beginStructField(1);
    t.endStruct();
    t.endStruct();
  }
  t.endStruct();
  return t.toBytes();
}

/**
 * SchemaElement{1 type, 3 repetition_type, 4 name, 6 converted_type, 10 logicalType}. Timestamps
 * carry both: LogicalType{8 TIMESTAMP: TimestampType{1 isAdjustedToUTC, 2 unit{1 MILLIS}}} and the
 * legacy TIMESTAMP_MILLIS converted type older readers look for.
 */
function writeSchemaElement(t: ThriftCompactWriter, column: ColumnSchema): void {
  t.beginStruct();
  t.i32Field(1, PHYSICAL_TYPE[column.type]);
  t.i32Field(3, REQUIRED);
  t.stringField(4, column.name);
  if (column.timestampMillis) {
    t.i32Field(6, CONVERTED_TIMESTAMP_MILLIS);
    t.beginStructField(10);
    t.beginStructField(8);
    t.boolField(1, true);
    t.beginStructField(2);
    t.beginStructField(1);
    t.endStruct();
    t.endStruct();
    t.endStruct();
    t.endStruct();
  }
  t.endStruct();
}

/** ColumnChunk{2 file_offset, 3 ColumnMetaData{1, 2, 3, 4, 5, 6, 7, 9, 12 Statistics{3, 5, 6, 7, 8}}}. */
function writeColumnChunk(t: ThriftCompactWriter, column: WrittenChunk, numRows: number): void {
  t.beginStruct();
  // Deprecated; like parquet-mr, the chunk's first byte (no ColumnMetaData outside the footer).
  t.i64Field(2, column.offset);
  t.beginStructField(3);
  t.i32Field(1, PHYSICAL_TYPE[column.type]);
  const encodings = column.encoding === 'PLAIN' ? [ENCODING.PLAIN, ENCODING.RLE] : [ENCODING[column.encoding], ENCODING.RLE];
  t.beginListField(2, CompactType.I32, encodings.length);
  for (const encoding of encodings) t.i32(encoding);
  t.beginListField(3, CompactType.BINARY, 1);
  t.string(column.name);
  t.i32Field(4, CODEC[column.codec]);
  t.i64Field(5, numRows);
  t.i64Field(6, column.uncompressedSize);
  t.i64Field(7, column.size);
  t.i64Field(9, column.offset);
  if (column.statistics) {
    t.beginStructField(12);
    t.i64Field(3, 0); // null_count: the column is required
    t.binaryField(5, plainBytes(column.type, column.statistics.max, 'max'));
    t.binaryField(6, plainBytes(column.type, column.statistics.min, 'min'));
    t.boolField(7, true);
    t.boolField(8, true);
    t.endStruct();
  }
  t.endStruct();
  t.endStruct();
}

/** PLAIN bytes of one value; a DOUBLE zero bound is written as -0 (min) or +0 (max), as the spec asks. */
function plainBytes(type: ColumnChunkInput['type'], value: number, bound: 'min' | 'max'): Uint8Array {
  const view = new DataView(new ArrayBuffer(8));
  if (type === 'DOUBLE') {
    view.setFloat64(0, value === 0 ? (bound === 'min' ? -0 : 0) : value, true);
  } else {
    view.setInt32(0, value, true);
    view.setInt32(4, Math.floor(value / TWO_POW_32), true);
  }
  return new Uint8Array(view.buffer);
}
