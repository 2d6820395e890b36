/**
 * A Parquet writer for one shape of file: flat, all columns required, 8-byte physical types
 * (INT64 or DOUBLE), PLAIN encoding, UNCOMPRESSED, one row group, one DataPage v1 per column.
 * Layout and field ids follow the Parquet format spec (apache/parquet-format, README "File
 * Format" and src/main/thrift/parquet.thrift). Required top-level columns have max definition
 * and repetition level 0, so a page is its header followed by the raw values; every size is
 * known from the row count, so the file is allocated once and the caller writes values in place.
 */
import { DataValidationError } from '../domain/errors.ts';
import { CompactType, ThriftCompactWriter } from './thrift-compact.ts';

/** One column of a flat file; `statistics: true` reserves min_value/max_value in its metadata. */
export interface PlainColumnSpec {
  readonly name: string;
  readonly type: 'INT64' | 'DOUBLE';
  readonly statistics?: boolean;
}

/** Column-chunk bounds (INT64: safe integers; DOUBLE: finite numbers). */
export interface ColumnStatistics {
  readonly min: number;
  readonly max: number;
}

/** A file laid out for a known row count: write the values through `view`, then `finish`. */
export interface PlainParquetFile {
  /** The whole file, exactly sized; the footer is written by `finish`. */
  readonly bytes: Uint8Array;
  /** A DataView over `bytes` (write little-endian). */
  readonly view: DataView;
  /** Byte offset (in `bytes`) of each column's first value; value `i` is at `+ 8 * i`. */
  readonly valueOffsets: readonly number[];
  /**
   * Writes the footer with the statistics of the columns that asked for them and returns
   * `bytes`. Throws Error when one of those is missing (zero-row files need none).
   */
  finish(statistics: ReadonlyMap<string, ColumnStatistics>): Uint8Array;
}

/** parquet.thrift enums, as numbers. */
const PHYSICAL_TYPE = { INT64: 2, DOUBLE: 5 } as const;
const REQUIRED = 0;
const ENCODING_PLAIN = 0;
const ENCODING_RLE = 3;
const CODEC_UNCOMPRESSED = 0;
const PAGE_DATA = 0;
/** FileMetaData.version: the file uses nothing newer than format 1.0. */
const FORMAT_VERSION = 1;
const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"
const I32_MAX = 0x7fff_ffff;
const TWO_POW_32 = 4_294_967_296;
/** Any 8 bytes: placeholder statistics, the same length as the real ones. */
const PLACEHOLDER_BOUNDS: ColumnStatistics = { min: 0, max: 0 };

interface ChunkLayout {
  readonly offset: number;
  readonly size: number;
}

/**
 * Lays out a file of `numRows` rows: `PAR1`, per column one page (header + `numRows` × 8
 * bytes), the Thrift compact FileMetaData, its length (u32 LE) and `PAR1`. Zero rows lay out
 * no row group (the schema only). Throws DataValidationError when a page would exceed
 * Parquet's i32 page size (more than 268,435,455 rows).
 */
export function layoutPlainParquet(columns: readonly PlainColumnSpec[], numRows: number, createdBy: string): PlainParquetFile {
  const pageBytes = numRows * 8;
  if (pageBytes > I32_MAX) {
    throw new DataValidationError(`parquet-writer: ${numRows} rows exceed one Parquet page (at most ${Math.floor(I32_MAX / 8)})`, { rows: numRows });
  }
  const header = numRows > 0 ? pageHeader(numRows) : new Uint8Array(0);
  const chunks: ChunkLayout[] = [];
  let offset = MAGIC.length;
  if (numRows > 0) {
    for (const _ of columns) {
      chunks.push({ offset, size: header.byteLength + pageBytes });
      offset += header.byteLength + pageBytes;
    }
  }
  const dataEnd = offset;
  const placeholders = new Map(columns.map((column) => [column.name, PLACEHOLDER_BOUNDS]));
  const footerLength = fileMetaData(columns, chunks, numRows, createdBy, placeholders).byteLength;
  const bytes = new Uint8Array(dataEnd + footerLength + 4 + MAGIC.length);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  for (const chunk of chunks) bytes.set(header, chunk.offset);
  view.setUint32(dataEnd + footerLength, footerLength, true);
  bytes.set(MAGIC, dataEnd + footerLength + 4);
  return {
    bytes,
    view,
    valueOffsets: chunks.map((chunk) => chunk.offset + header.byteLength),
    finish(statistics) {
      const footer = fileMetaData(columns, chunks, numRows, createdBy, statistics);
      // Statistics are fixed-width, so the footer cannot change length; guard the layout anyway.
      if (footer.byteLength !== footerLength) throw new Error(`parquet-writer: footer is ${footer.byteLength} bytes, laid out ${footerLength}`);
      bytes.set(footer, dataEnd);
      return bytes;
    },
  };
}

/** PageHeader{1 type, 2 uncompressed_page_size, 3 compressed_page_size, 5 DataPageHeader}. */
function pageHeader(numRows: number): Uint8Array {
  const t = new ThriftCompactWriter();
  t.beginStruct();
  t.i32Field(1, PAGE_DATA);
  t.i32Field(2, numRows * 8);
  t.i32Field(3, numRows * 8);
  t.beginStructField(5);
  t.i32Field(1, numRows);
  t.i32Field(2, ENCODING_PLAIN);
  // No levels are written (required columns); RLE is the level encoding readers expect named.
  t.i32Field(3, ENCODING_RLE);
  t.i32Field(4, ENCODING_RLE);
  t.endStruct();
  t.endStruct();
  return t.toBytes();
}

/** FileMetaData{1 version, 2 schema, 3 num_rows, 4 row_groups, 6 created_by, 7 column_orders}. */
function fileMetaData(
  columns: readonly PlainColumnSpec[], chunks: readonly ChunkLayout[], numRows: number, createdBy: string,
  statistics: ReadonlyMap<string, ColumnStatistics>,
): Uint8Array {
  const t = new ThriftCompactWriter();
  t.beginStruct();
  t.i32Field(1, FORMAT_VERSION);
  t.beginListField(2, CompactType.STRUCT, columns.length + 1);
  t.beginStruct();
  t.stringField(4, 'schema');
  t.i32Field(5, columns.length);
  t.endStruct();
  for (const column of columns) {
    t.beginStruct();
    t.i32Field(1, PHYSICAL_TYPE[column.type]);
    t.i32Field(3, REQUIRED);
    t.stringField(4, column.name);
    t.endStruct();
  }
  t.i64Field(3, numRows);
  t.beginListField(4, CompactType.STRUCT, chunks.length > 0 ? 1 : 0);
  if (chunks.length > 0) {
    const totalBytes = chunks.reduce((sum, chunk) => sum + chunk.size, 0);
    // RowGroup{1 columns, 2 total_byte_size, 3 num_rows, 5 file_offset, 6 total_compressed_size}
    t.beginStruct();
    t.beginListField(1, CompactType.STRUCT, columns.length);
    columns.forEach((column, i) => writeColumnChunk(t, column, chunks[i]!, numRows, statistics));
    t.i64Field(2, totalBytes);
    t.i64Field(3, numRows);
    t.i64Field(5, chunks[0]!.offset);
    t.i64Field(6, totalBytes);
    t.endStruct();
  }
  t.stringField(6, createdBy);
  // ColumnOrder TYPE_ORDER for every leaf: min/max use signed int64 and IEEE double order.
  t.beginListField(7, CompactType.STRUCT, columns.length);
  for (const _ of columns) {
    t.beginStruct();
    t.beginStructField(1);
    t.endStruct();
    t.endStruct();
  }
  t.endStruct();
  return t.toBytes();
}

/** ColumnChunk{2 file_offset, 3 ColumnMetaData{1, 2, 3, 4, 5, 6, 7, 9, 12 Statistics{3, 5, 6}}}. */
function writeColumnChunk(
  t: ThriftCompactWriter, column: PlainColumnSpec, chunk: ChunkLayout, numRows: number,
  statistics: ReadonlyMap<string, ColumnStatistics>,
): void {
  t.beginStruct();
  // Deprecated; like parquet-mr, the chunk's first byte (no ColumnMetaData outside the footer).
  t.i64Field(2, chunk.offset);
  t.beginStructField(3);
  t.i32Field(1, PHYSICAL_TYPE[column.type]);
  t.beginListField(2, CompactType.I32, 2);
  t.i32(ENCODING_PLAIN);
  t.i32(ENCODING_RLE);
  t.beginListField(3, CompactType.BINARY, 1);
  t.string(column.name);
  t.i32Field(4, CODEC_UNCOMPRESSED);
  t.i64Field(5, numRows);
  t.i64Field(6, chunk.size);
  t.i64Field(7, chunk.size);
  t.i64Field(9, chunk.offset);
  if (column.statistics) {
    const bounds = statistics.get(column.name);
    if (!bounds) throw new Error(`parquet-writer: no statistics given for column ${column.name}`);
    t.beginStructField(12);
    t.i64Field(3, 0); // null_count: the column is required
    t.binaryField(5, plainBytes(column.type, bounds.max, 'max'));
    t.binaryField(6, plainBytes(column.type, bounds.min, 'min'));
    t.endStruct();
  }
  t.endStruct();
  t.endStruct();
}

/** PLAIN bytes of one value; a DOUBLE zero bound is written as -0 (min) or +0 (max), as the spec asks. */
function plainBytes(type: PlainColumnSpec['type'], value: number, bound: 'min' | 'max'): Uint8Array {
  const view = new DataView(new ArrayBuffer(8));
  if (type === 'DOUBLE') {
    view.setFloat64(0, value === 0 ? (bound === 'min' ? -0 : 0) : value, true);
  } else {
    view.setInt32(0, value, true);
    view.setInt32(4, Math.floor(value / TWO_POW_32), true);
  }
  return new Uint8Array(view.buffer);
}
