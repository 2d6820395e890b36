/**
 * encodeKlines/decodeKlines: exact round trips of real Binance rows (read in place from
 * test/fixtures/binance, see SOURCES.md) and of generated extremes, and the file other
 * Parquet readers see: metadata and page headers parsed by hyparquet's own Thrift reader, and
 * the PLAIN value bytes checked against an independent oracle (BigInt64Array/Float64Array).
 * decodeKlineColumns reads our own layout directly; its columns are compared with hyparquet's
 * reading of the same bytes, and files outside that layout (altered metadata, a handmade file of
 * two pages per column) are shown to take the hyparquet path.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataValidationError } from '../../lib/domain/errors.ts';
import { KLINE_COLUMNS, type Kline } from '../../lib/domain/kline.ts';
import { parseVisionCsv } from '../../lib/sources/vision-csv.ts';
import { columnsFromRows, rowsFromColumns, sliceColumns } from '../../lib/domain/kline-columns.ts';
import {
  CREATED_BY, decodeKlineColumns, decodeKlines, encodeKlineColumns, encodeKlines, isFastReadableKlinesFile,
} from '../../lib/store/parquet-codec.ts';
import { zstdCompress, zstdDecompress } from '../../lib/store/parquet-page-codecs.ts';
import { ZLIB_OUTPUT_SLACK } from '../../lib/zlib-output.ts';
import { twoPageFile } from '../helpers/legacy-parquet.ts';
import {
  expectedPlainBytes, firstDifference, hyparquetColumns, isInteger, metadataOf, pageOf, pagePlainBytes, type NumberColumns,
} from '../helpers/parquet-pages.ts';
import { realDataDir } from '../helpers/real-data.ts';

const realCsv = path.join(realDataDir(), 'csv');
const readReal = (relative: string): Kline[] => parseVisionCsv(readFileSync(path.join(realCsv, relative), 'utf8'), relative);

/** Every column's page decoded by hyparquet's decoders equals the oracle's PLAIN bytes. */
function expectOracleBytes(rows: readonly Kline[], bytes: Uint8Array): void {
  const metadata = metadataOf(bytes);
  KLINE_COLUMNS.forEach((name, column) => {
    expect(firstDifference(pagePlainBytes(pageOf(bytes, metadata, column), name), expectedPlainBytes(rows, name)), name).toBe(-1);
  });
}

const SPOT_1H_2020_12 = 'spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-12.csv';
const SPOT_1H_2018_02 = 'spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2018-02.csv';
const SPOT_1M_2025_US = 'spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-07-13.csv';
const UM_5M_2022_04 = 'futures/um/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2022-04.csv';

describe('parquet codec on real rows', () => {
  it.each([SPOT_1H_2020_12, SPOT_1H_2018_02, SPOT_1M_2025_US, UM_5M_2022_04])('round-trips %s exactly', async (file) => {
    const rows = readReal(file);
    expect(rows.length).toBeGreaterThan(0);
    expect(await decodeKlines(encodeKlines(rows))).toEqual(rows);
  });

  it('decodes to columns holding the same values as the rows', async () => {
    const rows = readReal(SPOT_1H_2018_02);
    const columns = await decodeKlineColumns(encodeKlines(rows));
    expect(columns.length).toBe(rows.length);
    for (const name of KLINE_COLUMNS) expect([...columns[name]], name).toEqual(rows.map((row) => row[name]));
  });

  it('keeps the 2020-12-21 14:00 maintenance candle whose close_time is before its open_time', async () => {
    const decoded = await decodeKlines(encodeKlines(readReal(SPOT_1H_2020_12)));
    const candle = decoded.find((row) => row.open_time === Date.UTC(2020, 11, 21, 14));
    // SOURCES.md: closes at 13:47:20.521, volume 0, count 0.
    expect(candle).toEqual({
      open_time: 1_608_559_200_000, open: 22646.53, high: 22646.53, low: 22646.53, close: 22646.53, volume: 0,
      close_time: 1_608_558_440_521, quote_volume: 0, trades: 0, taker_buy_volume: 0, taker_buy_quote_volume: 0,
    });
  });

  it('keeps the 2025 spot rows (µs in the file, ms after parsing) and their odd close times', async () => {
    const decoded = await decodeKlines(encodeKlines(readReal(SPOT_1M_2025_US)));
    expect(decoded[0]).toMatchObject({ open_time: 1_752_364_800_000, close_time: 1_752_364_859_999, trades: 975, quote_volume: 92325.7304999 });
    expect(decoded).toHaveLength(1440);
  });

  it('writes the schema other readers see: KLINE_COLUMNS in order, times and trades INT64, the rest DOUBLE, one row group', () => {
    const bytes = encodeKlines(readReal(UM_5M_2022_04));
    const metadata = metadataOf(bytes);
    expect(metadata.schema.slice(1).map((element) => [element.name, element.type, element.repetition_type])).toEqual(
      KLINE_COLUMNS.map((name) => [name, ['open_time', 'close_time', 'trades'].includes(name) ? 'INT64' : 'DOUBLE', 'REQUIRED']),
    );
    expect(Number(metadata.num_rows)).toBe(8640);
    expect(metadata.row_groups).toHaveLength(1);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('PAR1');
    expect(new TextDecoder().decode(bytes.subarray(bytes.byteLength - 4))).toBe('PAR1');
  });

  it('types open_time and close_time as TIMESTAMP(MILLIS, UTC-adjusted) and names the package version in created_by', () => {
    const metadata = metadataOf(encodeKlines(readReal(SPOT_1H_2020_12)));
    const version = (JSON.parse(readFileSync(path.join(realDataDir(), '../../../package.json'), 'utf8')) as { version: string }).version;
    expect(metadata.created_by).toBe(`klines-cache version ${version}`);
    expect(CREATED_BY).toBe(metadata.created_by);
    for (const element of metadata.schema.slice(1)) {
      const timestamp = element.name === 'open_time' || element.name === 'close_time';
      expect(element.logical_type, element.name).toEqual(timestamp ? { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } : undefined);
      expect(element.converted_type, element.name).toBe(timestamp ? 'TIMESTAMP_MILLIS' : undefined);
    }
  });

  it('writes one ZSTD v1 data page per column: DELTA_BINARY_PACKED times and trades, doubles PLAIN or BYTE_STREAM_SPLIT, min/max on every column', () => {
    const rows = readReal(UM_5M_2022_04);
    const bytes = encodeKlines(rows);
    const metadata = metadataOf(bytes);
    const chunks = metadata.row_groups[0]!.columns;
    expect(chunks.map((chunk) => chunk.meta_data!.path_in_schema)).toEqual(KLINE_COLUMNS.map((name) => [name]));
    let expectedOffset = 4;
    KLINE_COLUMNS.forEach((name, column) => {
      const meta = chunks[column]!.meta_data!;
      expect(meta.codec).toBe('ZSTD');
      expect(Number(meta.num_values)).toBe(rows.length);
      expect(Number(meta.data_page_offset)).toBe(expectedOffset);
      const page = pageOf(bytes, metadata, column);
      expect(page.numValues).toBe(rows.length);
      expect(page.encoding).toMatch(isInteger(name) ? /^DELTA_BINARY_PACKED$/ : /^(PLAIN|BYTE_STREAM_SPLIT)$/);
      expect(meta.encodings).toEqual([page.encoding, 'RLE']);
      if (!isInteger(name)) expect(page.uncompressedSize).toBe(8 * rows.length);
      // The page (header + compressed values) is the whole chunk: no dictionary, no levels, no second page.
      expect(page.headerEnd - expectedOffset + page.compressedSize).toBe(Number(meta.total_compressed_size));
      expect(page.headerEnd - expectedOffset + page.uncompressedSize).toBe(Number(meta.total_uncompressed_size));
      const values = rows.map((row) => row[name]);
      // The spec's rule for a zero bound of a double: min is written -0, max +0.
      const cast = (value: number, zero: number): bigint | number => (isInteger(name) ? BigInt(value) : value === 0 ? zero : value);
      expect(meta.statistics?.min_value, name).toBe(cast(Math.min(...values), -0));
      expect(meta.statistics?.max_value, name).toBe(cast(Math.max(...values), 0));
      expect(Number(meta.statistics?.null_count)).toBe(0);
      expectedOffset += Number(meta.total_compressed_size);
    });
    // Footer right after the last chunk: 4-byte length, then PAR1.
    const footerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.byteLength - 8, true);
    expect(expectedOffset + footerLength + 8).toBe(bytes.byteLength);
  });

  it.each([SPOT_1H_2020_12, SPOT_1M_2025_US, UM_5M_2022_04])('stores %s in at most 0.6 of the bytes of PLAIN (88 a row)', (file) => {
    const rows = readReal(file);
    expect(encodeKlines(rows).byteLength / rows.length).toBeLessThan(0.6 * 88);
  });

  it('stores every value of a real file as the exact int64 / IEEE 754 bytes once hyparquet decodes the pages', () => {
    const rows = readReal(SPOT_1M_2025_US);
    expectOracleBytes(rows, encodeKlines(rows));
  });
});

describe('parquet codec edge cases', () => {
  it('round-trips zero rows as a schema-only file', async () => {
    const bytes = encodeKlines([]);
    expect(await decodeKlines(bytes)).toEqual([]);
    const metadata = metadataOf(bytes);
    expect(Number(metadata.num_rows)).toBe(0);
    expect(metadata.row_groups).toEqual([]);
    expect(metadata.schema.slice(1).map((element) => element.name)).toEqual([...KLINE_COLUMNS]);
  });

  it('keeps the exact bits of edge values: -0, subnormals, ±max double, ±max safe integer, 2^32 boundaries', async () => {
    const M = Number.MAX_SAFE_INTEGER;
    const rows: Kline[] = [
      { open_time: -M, open: -0, high: Number.MIN_VALUE, low: -Number.MIN_VALUE, close: 2.2250738585072009e-308, volume: Number.MAX_VALUE,
        close_time: M, quote_volume: -Number.MAX_VALUE, trades: 0, taker_buy_volume: 0.1, taker_buy_quote_volume: 1e-300 },
      { open_time: M, open: 0, high: -0, low: 1 / 3, close: -2.5e-320, volume: 5e-324,
        close_time: -1, quote_volume: 123456789.12345679, trades: 2 ** 32, taker_buy_volume: -(2 ** 32) - 1, taker_buy_quote_volume: Math.PI },
      { open_time: -(2 ** 31) - 1, open: 1, high: 2, low: 3, close: 4, volume: 5,
        close_time: 2 ** 31, quote_volume: 6, trades: 2 ** 32 - 1, taker_buy_volume: 7, taker_buy_quote_volume: 8 },
    ];
    const bytes = encodeKlines(rows);
    const metadata = metadataOf(bytes);
    expectOracleBytes(rows, bytes);
    const decoded = await decodeKlines(bytes);
    for (const [i, row] of rows.entries()) {
      for (const name of KLINE_COLUMNS) expect(Object.is(decoded[i]![name], row[name]), `row ${i} ${name}`).toBe(true);
    }
    const stats = metadata.row_groups[0]!.columns[0]!.meta_data!.statistics;
    expect([stats?.min_value, stats?.max_value]).toEqual([BigInt(-M), BigInt(M)]);
  });

  it.each([
    ['any safe integers', fc.array(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), { minLength: 1, maxLength: 200 })],
    // Running sums of int32 steps from a base below 2^50: the DELTA_BINARY_PACKED path, bit widths 0 to 32.
    ['integers that step by any int32', fc.tuple(fc.integer({ min: -(2 ** 50), max: 2 ** 50 }), fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 400 }))
      .map(([base, steps]) => steps.map((_, i) => base + steps.slice(0, i).reduce((sum, step) => sum + step, 0)))],
  ] as const)('writes any rows (unsorted, %s, any finite doubles) as the oracle bytes, with open_time min/max', (_, integers) => {
    const double = fc.double({ noNaN: true, noDefaultInfinity: true });
    const rowsArb = integers.chain((values) => fc.array(fc.record({
      open: double, high: double, low: double, close: double, volume: double, quote_volume: double, taker_buy_volume: double, taker_buy_quote_volume: double,
    }), { minLength: values.length, maxLength: values.length }).map((doubles) => doubles.map((d, i): Kline => ({
      ...d, open_time: values[i]!, close_time: values[values.length - 1 - i]!, trades: values[i]!,
    }))));
    fc.assert(fc.property(rowsArb, (rows) => {
      const bytes = encodeKlines(rows);
      const metadata = metadataOf(bytes);
      expect(Number(metadata.num_rows)).toBe(rows.length);
      expectOracleBytes(rows, bytes);
      const opens = rows.map((r) => r.open_time);
      const stats = metadata.row_groups[0]!.columns[0]!.meta_data!.statistics;
      expect([stats?.min_value, stats?.max_value]).toEqual([BigInt(Math.min(...opens)), BigInt(Math.max(...opens))]);
    }), { numRuns: 100 });
  });

  it('round-trips any finite doubles and safe integers exactly', async () => {
    const safeInt = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
    const double = fc.double({ noNaN: true, noDefaultInfinity: true });
    const row = fc.record({
      open_time: safeInt, open: double, high: double, low: double, close: double, volume: double,
      close_time: safeInt, quote_volume: double, trades: safeInt, taker_buy_volume: double, taker_buy_quote_volume: double,
    });
    await fc.assert(fc.asyncProperty(fc.array(row, { maxLength: 300 }), async (rows) => {
      expect(await decodeKlines(encodeKlines(rows))).toEqual(rows);
    }), { numRuns: 60 });
  });

  it('refuses a non-integer time with DataValidationError naming the row', () => {
    const rows = readReal(SPOT_1H_2020_12).slice(0, 3);
    const bad = [rows[0]!, { ...rows[1]!, open_time: rows[1]!.open_time + 0.5 }, rows[2]!];
    expect(() => encodeKlines(bad)).toThrow(DataValidationError);
    expect(() => encodeKlines(bad)).toThrow(/row 1/);
  });

  it.each([
    ['close_time', 2 ** 53],
    ['trades', Number.NaN],
    ['open_time', -(2 ** 53) - 2],
  ] as const)('refuses %s = %d (not a safe integer) with DataValidationError', (column, value) => {
    const rows = readReal(SPOT_1H_2020_12).slice(0, 2);
    expect(() => encodeKlines([rows[0]!, { ...rows[1]!, [column]: value }])).toThrow(DataValidationError);
  });

  it('refuses bytes that are not Parquet with DataValidationError', async () => {
    await expect(decodeKlines(new TextEncoder().encode('open_time,open\n1,2\n'))).rejects.toBeInstanceOf(DataValidationError);
  });

  it('encodeKlineColumns writes the bytes of encodeKlines, also from a view into larger buffers', async () => {
    const rows = readReal(UM_5M_2022_04);
    const columns = columnsFromRows(rows);
    expect(Buffer.from(encodeKlineColumns(columns)).equals(encodeKlines(rows))).toBe(true);
    const view = sliceColumns(columns, 7, 300);
    const bytes = encodeKlineColumns(view);
    expect(Buffer.from(bytes).equals(encodeKlines(rows.slice(7, 300)))).toBe(true);
    expect(rowsFromColumns(await decodeKlineColumns(bytes))).toEqual(rows.slice(7, 300));
  });

  it('encodeKlineColumns refuses a non-integer trades count with DataValidationError naming the row', () => {
    const columns = columnsFromRows(readReal(SPOT_1H_2020_12).slice(0, 3));
    columns.trades[2] = 1.5;
    expect(() => encodeKlineColumns(columns)).toThrow(DataValidationError);
    expect(() => encodeKlineColumns(columns)).toThrow(/row 2/);
  });
});

/** Asserts decoded columns hold exactly (Object.is, so -0 counts) the expected numbers. */
function expectSameNumbers(actual: NumberColumns, expected: NumberColumns): void {
  for (const name of KLINE_COLUMNS) {
    const a = Array.from(actual[name]);
    const e = Array.from(expected[name]);
    expect(a.length, name).toBe(e.length);
    const bad = a.findIndex((value, i) => !Object.is(value, e[i]));
    expect(bad === -1 ? 'same' : `row ${bad}: ${a[bad]} vs ${e[bad]}`, name).toBe('same');
  }
}

const M = Number.MAX_SAFE_INTEGER;
const EDGE_ROWS: Kline[] = [
  { open_time: -1, open: -0, high: Number.MIN_VALUE, low: -Number.MIN_VALUE, close: 2.2250738585072009e-308, volume: Number.MAX_VALUE,
    close_time: -(2 ** 40), quote_volume: -2.5e-320, trades: M, taker_buy_volume: 0.1, taker_buy_quote_volume: -0 },
  { open_time: -M, open: 0, high: -0, low: 1 / 3, close: -Number.MAX_VALUE, volume: 5e-324,
    close_time: M, quote_volume: 1e-300, trades: -M, taker_buy_volume: -(2 ** 32) - 1, taker_buy_quote_volume: Math.PI },
  { open_time: 2 ** 32 - 1, open: 1, high: 2, low: 3, close: 4, volume: 5,
    close_time: -(2 ** 31) - 1, quote_volume: 6, trades: 2 ** 32, taker_buy_volume: 7, taker_buy_quote_volume: 8 },
];

describe('decodeKlineColumns: direct reading of our layout, hyparquet for anything else', () => {
  it.each([SPOT_1H_2020_12, SPOT_1M_2025_US, UM_5M_2022_04])('%s: our file is recognised and decodes to what hyparquet reads', async (file) => {
    const rows = readReal(file);
    const bytes = encodeKlines(rows);
    expect(isFastReadableKlinesFile(metadataOf(bytes))).toBe(true);
    const columns = await decodeKlineColumns(bytes);
    expectSameNumbers(columns, await hyparquetColumns(bytes));
    expectSameNumbers(columns, columnsFromRows(rows));
  });

  it('decodes edge values (negative int64, ±max safe integer, -0, subnormals, ±max double) as hyparquet does', async () => {
    const bytes = encodeKlines(EDGE_ROWS);
    expect(isFastReadableKlinesFile(metadataOf(bytes))).toBe(true);
    const columns = await decodeKlineColumns(bytes);
    expectSameNumbers(columns, await hyparquetColumns(bytes));
    expectSameNumbers(columns, columnsFromRows(EDGE_ROWS));
  });

  it('decodes a window at an odd offset into a larger, dirty buffer, leaving the buffer as it was', async () => {
    const rows = readReal(SPOT_1M_2025_US);
    const file = encodeKlines(rows);
    const big = new Uint8Array(file.byteLength + 10).fill(0xa5);
    big.set(file, 3);
    const before = Buffer.from(big);
    const columns = await decodeKlineColumns(big.subarray(3, 3 + file.byteLength));
    expectSameNumbers(columns, columnsFromRows(rows));
    expect(Buffer.from(big).equals(before)).toBe(true);
  });

  it('reads a PLAIN double column as its decompressed page itself, with no copy and no second output buffer', async () => {
    const rows = readReal(UM_5M_2022_04); // 8,640 rows: 69 kB a page, past what Buffer's pool serves (< 32 KiB on Node 24)
    const bytes = encodeKlines(rows);
    const plain = metadataOf(bytes).row_groups[0]!.columns
      .filter((chunk) => chunk.meta_data!.type === 'DOUBLE' && !chunk.meta_data!.encodings.includes('BYTE_STREAM_SPLIT'))
      .map((chunk) => chunk.meta_data!.path_in_schema[0]! as (typeof KLINE_COLUMNS)[number]);
    expect(plain.length).toBeGreaterThan(0);
    const columns = await decodeKlineColumns(bytes);
    for (const name of plain) {
      // zlib's output buffer, sized page + slack (a copy would be exactly the page's 8 bytes a row).
      expect(columns[name].buffer.byteLength, name).toBe(8 * rows.length + ZLIB_OUTPUT_SLACK);
      expect(columns[name].byteOffset, name).toBe(0);
    }
    expect(new Set(KLINE_COLUMNS.map((name) => columns[name].buffer)).size).toBe(KLINE_COLUMNS.length);
    expectSameNumbers(columns, columnsFromRows(rows));
  });

  it('zstdDecompress gives the page at offset 0 of a buffer at most ZLIB_OUTPUT_SLACK longer, and refuses a frame holding more or fewer bytes', () => {
    const page = new Uint8Array(100_000).map((_, i) => (i * 31) % 251);
    const frame = zstdCompress(page);
    const out = zstdDecompress(frame, page.byteLength);
    expect(Buffer.from(out).equals(Buffer.from(page))).toBe(true);
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength - out.byteLength).toBeLessThanOrEqual(ZLIB_OUTPUT_SLACK);
    expect(() => zstdDecompress(frame, page.byteLength - 1)).toThrow(RangeError);
    expect(() => zstdDecompress(frame, page.byteLength + 1)).toThrow('zstd page holds 100000 bytes, its header says 100001');
  });

  it('returns columns that do not share memory with the input bytes', async () => {
    const bytes = encodeKlines(EDGE_ROWS);
    const columns = await decodeKlineColumns(bytes);
    bytes.fill(0);
    expectSameNumbers(columns, columnsFromRows(EDGE_ROWS));
  });

  it('any safe integers and finite doubles decode as hyparquet reads them', async () => {
    const safeInt = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
    const double = fc.double({ noNaN: true, noDefaultInfinity: true });
    const row = fc.record({
      open_time: safeInt, open: double, high: double, low: double, close: double, volume: double,
      close_time: safeInt, quote_volume: double, trades: safeInt, taker_buy_volume: double, taker_buy_quote_volume: double,
    });
    await fc.assert(fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 100 }), async (rows) => {
      const bytes = encodeKlines(rows);
      expectSameNumbers(await decodeKlineColumns(bytes), await hyparquetColumns(bytes));
    }), { numRuns: 40 });
  });

  it('decodes a file of two pages per column (metadata alike, page headers not) through hyparquet, exactly', async () => {
    const rows = readReal(SPOT_1H_2018_02).slice(0, 100).concat(EDGE_ROWS);
    const bytes = twoPageFile(rows, 37);
    expect(isFastReadableKlinesFile(metadataOf(bytes))).toBe(true);
    const columns = await decodeKlineColumns(bytes);
    expectSameNumbers(columns, columnsFromRows(rows));
    expectSameNumbers(columns, await hyparquetColumns(bytes));
  });

  type Meta = ReturnType<typeof metadataOf>;
  const chunkOf = (m: Meta, name: string) => m.row_groups[0]!.columns.find((chunk) => chunk.meta_data!.path_in_schema[0] === name)!.meta_data!;
  const elementOf = (m: Meta, name: string) => m.schema.find((element) => element.name === name)!;
  it.each<[string, (m: Meta) => void]>([
    ['a SNAPPY chunk', (m) => { chunkOf(m, 'close').codec = 'SNAPPY'; }],
    ['a dictionary encoding', (m) => { chunkOf(m, 'open_time').encodings.push('RLE_DICTIONARY'); }],
    ['a GZIP chunk', (m) => { chunkOf(m, 'trades').codec = 'GZIP'; }],
    ['a DELTA_BINARY_PACKED double', (m) => { chunkOf(m, 'open').encodings = ['DELTA_BINARY_PACKED']; }],
    ['BYTE_STREAM_SPLIT trades', (m) => { chunkOf(m, 'trades').encodings = ['BYTE_STREAM_SPLIT']; }],
    ['a dictionary page', (m) => { chunkOf(m, 'volume').dictionary_page_offset = 4n; }],
    ['a second row group', (m) => { m.row_groups.push(structuredClone(m.row_groups[0]!)); }],
    ['an OPTIONAL column', (m) => { elementOf(m, 'high').repetition_type = 'OPTIONAL'; }],
    ['trades stored as DOUBLE', (m) => { elementOf(m, 'trades').type = 'DOUBLE'; chunkOf(m, 'trades').type = 'DOUBLE'; }],
    ['open stored as INT64', (m) => { elementOf(m, 'open').type = 'INT64'; chunkOf(m, 'open').type = 'INT64'; }],
    ['a TIMESTAMP(MICROS) open_time', (m) => { elementOf(m, 'open_time').logical_type = { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }; }],
    ['a TIMESTAMP_MICROS close_time', (m) => { elementOf(m, 'close_time').converted_type = 'TIMESTAMP_MICROS'; }],
    ['a TIMESTAMP trades', (m) => { elementOf(m, 'trades').logical_type = { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' }; }],
    ['a missing column', (m) => { m.schema = m.schema.filter((e) => e.name !== 'low'); m.schema[0]!.num_children = m.schema.length - 1; }],
    ['fewer values than rows', (m) => { chunkOf(m, 'close_time').num_values = m.num_rows - 1n; }],
    ['a chunk in another file', (m) => { m.row_groups[0]!.columns[2]!.file_path = 'other.parquet'; }],
    ['a nested schema', (m) => { m.schema[0]!.num_children = 10; }],
  ])('isFastReadableKlinesFile refuses metadata with %s', (_, alter) => {
    const metadata = metadataOf(encodeKlines(readReal(SPOT_1H_2018_02)));
    expect(isFastReadableKlinesFile(metadata)).toBe(true);
    alter(metadata);
    expect(isFastReadableKlinesFile(metadata)).toBe(false);
  });

  it('isFastReadableKlinesFile refuses a zero-row file, which still decodes to empty columns', async () => {
    const bytes = encodeKlines([]);
    expect(isFastReadableKlinesFile(metadataOf(bytes))).toBe(false);
    expect((await decodeKlineColumns(bytes)).length).toBe(0);
  });
});
