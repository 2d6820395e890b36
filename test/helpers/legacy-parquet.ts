/**
 * Parquet files in the first release's layout (every column PLAIN, UNCOMPRESSED, no logical
 * types), written by hand here, independently of lib/store, for the codec tests: the fast reader
 * must keep reading such files, and a file whose metadata looks alike but whose chunks hold two
 * pages must go to hyparquet.
 */
import { KLINE_COLUMNS, type Kline } from '../../lib/domain/kline.ts';
import { CompactType, ThriftCompactWriter } from '../../lib/store/thrift-compact.ts';
import { expectedPlainBytes, isInteger } from './parquet-pages.ts';

/**
 * A valid Parquet file outside our layout: every column chunk is two PLAIN v1 data pages (rows
 * [0, split) and [split, n)), as the first release wrote them but split in two. Its metadata passes
 * isFastReadableKlinesFile; only the page headers differ.
 */
export function twoPageFile(rows: readonly Kline[], split: number): Uint8Array {
  const n = rows.length;
  const pageHeader = (values: number): Uint8Array => {
    const t = new ThriftCompactWriter();
    t.beginStruct();
    t.i32Field(1, 0); // DATA_PAGE
    t.i32Field(2, 8 * values);
    t.i32Field(3, 8 * values);
    t.beginStructField(5);
    t.i32Field(1, values);
    t.i32Field(2, 0); // PLAIN
    t.i32Field(3, 3); // RLE
    t.i32Field(4, 3);
    t.endStruct();
    t.endStruct();
    return t.toBytes();
  };
  const parts: Uint8Array[] = [new TextEncoder().encode('PAR1')];
  const chunks: { offset: number; size: number }[] = [];
  let offset = 4;
  for (const name of KLINE_COLUMNS) {
    const values = expectedPlainBytes(rows, name);
    const chunk = [pageHeader(split), values.subarray(0, 8 * split), pageHeader(n - split), values.subarray(8 * split)];
    const size = chunk.reduce((sum, part) => sum + part.byteLength, 0);
    parts.push(...chunk);
    chunks.push({ offset, size });
    offset += size;
  }
  const t = new ThriftCompactWriter();
  t.beginStruct();
  t.i32Field(1, 1);
  t.beginListField(2, CompactType.STRUCT, KLINE_COLUMNS.length + 1);
  t.beginStruct();
  t.stringField(4, 'schema');
  t.i32Field(5, KLINE_COLUMNS.length);
  t.endStruct();
  for (const name of KLINE_COLUMNS) {
    t.beginStruct();
    t.i32Field(1, isInteger(name) ? 2 : 5);
    t.i32Field(3, 0);
    t.stringField(4, name);
    t.endStruct();
  }
  t.i64Field(3, n);
  t.beginListField(4, CompactType.STRUCT, 1);
  t.beginStruct();
  t.beginListField(1, CompactType.STRUCT, KLINE_COLUMNS.length);
  KLINE_COLUMNS.forEach((name, i) => {
    const { offset: chunkOffset, size } = chunks[i]!;
    t.beginStruct();
    t.i64Field(2, chunkOffset);
    t.beginStructField(3);
    t.i32Field(1, isInteger(name) ? 2 : 5);
    t.beginListField(2, CompactType.I32, 2);
    t.i32(0);
    t.i32(3);
    t.beginListField(3, CompactType.BINARY, 1);
    t.string(name);
    t.i32Field(4, 0);
    t.i64Field(5, n);
    t.i64Field(6, size);
    t.i64Field(7, size);
    t.i64Field(9, chunkOffset);
    t.endStruct();
    t.endStruct();
  });
  t.i64Field(2, offset - 4);
  t.i64Field(3, n);
  t.endStruct();
  t.endStruct();
  const footer = t.toBytes();
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, footer.byteLength, true);
  parts.push(footer, length, new TextEncoder().encode('PAR1'));
  return Buffer.concat(parts);
}

