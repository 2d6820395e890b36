/**
 * Parquet answers written row group by row group (lib/store/parquet-stream.ts, `klines get
 * --format parquet` and the handlers' Parquet results): the real spot BTCUSDT 1h recording
 * (test/fixtures/binance, ~29,000 rows, parsed by the test helpers, not lib/sources) streamed
 * month by month into a file of several row groups, and an empty answer, read back exactly by
 * DuckDB (`@duckdb/node-api`), by hyparquet with hyparquet-compressors and by our own decoder;
 * each row group carries its own open_time statistics. A single chunk gives the very bytes of
 * the whole-file writer the cache uses.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KLINE_COLUMNS } from '../../lib/domain/kline.ts';
import { allocateColumns, sliceColumns, type KlineColumns } from '../../lib/domain/kline-columns.ts';
import { granularityFor, periodOf } from '../../lib/domain/periods.ts';
import { CREATED_BY, decodeKlineColumns, encodeKlineColumns } from '../../lib/store/parquet-codec.ts';
import { klineParquetBytes, ROW_GROUP_MIN_ROWS } from '../../lib/store/parquet-stream.ts';
import { hyparquetColumns, metadataOf, type NumberColumns } from '../helpers/parquet-pages.ts';
import { findRealDataset, loadRealUniverse } from '../helpers/real-data.ts';

const FIELD = { open: 1, high: 2, low: 3, close: 4, volume: 5, quote_volume: 7, trades: 8, taker_buy_volume: 9, taker_buy_quote_volume: 10 } as const;

let root: string;
let instance: DuckDBInstance;
let connection: DuckDBConnection;
let all: KlineColumns;
let months: KlineColumns[];

beforeAll(async () => {
  const rows = findRealDataset(loadRealUniverse(), 'spot', 'BTCUSDT', '1h')!.rows;
  all = allocateColumns(rows.length);
  rows.forEach((row, i) => {
    all.open_time[i] = row.openMs;
    all.close_time[i] = row.closeMs;
    for (const [name, field] of Object.entries(FIELD)) all[name as keyof typeof FIELD][i] = Number(row.fields[field]);
  });
  months = [];
  let from = 0;
  for (let i = 1; i <= rows.length; i++) {
    const period = (at: number) => periodOf(all.open_time[at]!, granularityFor('1h')).key;
    if (i === rows.length || period(i) !== period(from)) {
      months.push(sliceColumns(all, from, i));
      from = i;
    }
  }
  root = await mkdtemp(path.join(os.tmpdir(), 'klines-parquet-stream-'));
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});

afterAll(async () => {
  connection?.closeSync();
  instance?.closeSync();
  if (root) await rm(root, { recursive: true, force: true });
});

async function fileOf(name: string, chunks: Iterable<KlineColumns>, minRows?: number): Promise<{ file: string; bytes: Uint8Array }> {
  const parts: Uint8Array[] = [];
  for await (const part of klineParquetBytes(chunks, minRows)) parts.push(part);
  const bytes = new Uint8Array(Buffer.concat(parts));
  const file = path.join(root, name);
  await writeFile(file, bytes);
  return { file, bytes };
}

async function duckdbColumns(file: string): Promise<NumberColumns> {
  const select = KLINE_COLUMNS.map((name) => (name.endsWith('_time') ? `epoch_ms(${name}) AS ${name}` : name)).join(', ');
  const result = (await connection.runAndReadAll(`SELECT ${select} FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`)).getColumnsObjectJS();
  return Object.fromEntries(KLINE_COLUMNS.map((name) => [name, (result[name] as (number | bigint)[]).map(Number)])) as unknown as NumberColumns;
}

/** Asserts `actual` holds exactly (Object.is, so -0 counts) the expected numbers. */
function expectSame(reader: string, actual: NumberColumns, expected: KlineColumns): void {
  for (const name of KLINE_COLUMNS) {
    const a = Array.from(actual[name]);
    expect(a.length, `${reader} ${name}`).toBe(expected.length);
    const bad = a.findIndex((value, i) => !Object.is(value, expected[name][i]));
    expect(bad === -1 ? 'same' : `row ${bad}: ${a[bad]} vs ${expected[name][bad]}`, `${reader} ${name}`).toBe('same');
  }
}

describe('klineParquetBytes', () => {
  it('writes the months of the real recording as several row groups that DuckDB, hyparquet and our decoder read exactly', async () => {
    expect(months.length).toBeGreaterThan(30);
    const { file, bytes } = await fileOf('months.parquet', months, 2_000);
    const metadata = metadataOf(bytes);
    expect(metadata.row_groups.length).toBeGreaterThan(10);
    expect(Number(metadata.num_rows)).toBe(all.length);
    expect(metadata.created_by).toBe(CREATED_BY);
    let first = 0;
    for (const [i, group] of metadata.row_groups.entries()) {
      const rows = Number(group.num_rows);
      if (i < metadata.row_groups.length - 1) expect(rows).toBeGreaterThanOrEqual(2_000); // the last one holds what is left
      const openTime = group.columns[0]!.meta_data!;
      expect(openTime.codec).toBe('ZSTD');
      expect(openTime.statistics).toMatchObject({ min_value: BigInt(all.open_time[first]!), max_value: BigInt(all.open_time[first + rows - 1]!) });
      first += rows;
    }
    expect(first).toBe(all.length);
    const types = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
    expect(types.getRowObjectsJS().map((row) => `${row.column_name} ${row.column_type}`)).toEqual(KLINE_COLUMNS.map((name) =>
      `${name} ${name.endsWith('_time') ? 'TIMESTAMP WITH TIME ZONE' : name === 'trades' ? 'BIGINT' : 'DOUBLE'}`));
    expectSame('DuckDB', await duckdbColumns(file), all);
    expectSame('hyparquet', await hyparquetColumns(bytes), all);
    expectSame('decodeKlineColumns', await decodeKlineColumns(bytes), all);
  });

  it('gives a chunk of ROW_GROUP_MIN_ROWS or more its own row group and joins shorter ones to the next', async () => {
    const sizes = [10, ROW_GROUP_MIN_ROWS, 0, 5, 7];
    const chunks: KlineColumns[] = [];
    let at = 0;
    for (const size of sizes) {
      const chunk = allocateColumns(size);
      for (let i = 0; i < size; i++, at++) {
        for (const name of KLINE_COLUMNS) chunk[name][i] = all[name][at % all.length]!;
        chunk.open_time[i] = at * 60_000;
        chunk.close_time[i] = at * 60_000 + 59_999;
      }
      chunks.push(chunk);
    }
    const { file, bytes } = await fileOf('sizes.parquet', chunks);
    expect(metadataOf(bytes).row_groups.map((group) => Number(group.num_rows))).toEqual([10 + ROW_GROUP_MIN_ROWS, 12]);
    const opens = (await duckdbColumns(file)).open_time;
    expect(Array.from(opens)).toEqual(Array.from({ length: at }, (_, i) => i * 60_000));
  });

  it('writes an empty answer as a file of the schema and no row group, read as 0 rows; it is the whole-file writer\'s', async () => {
    const { file, bytes } = await fileOf('empty.parquet', [allocateColumns(0)]);
    expect(bytes).toEqual(encodeKlineColumns(allocateColumns(0)));
    expect(metadataOf(bytes).row_groups).toEqual([]);
    const types = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
    expect(types.getRowObjectsJS().map((row) => row.column_name)).toEqual([...KLINE_COLUMNS]);
    expectSame('DuckDB', await duckdbColumns(file), allocateColumns(0));
    expectSame('hyparquet', await hyparquetColumns(bytes), allocateColumns(0));
  });

  it('a single chunk gives the bytes of the whole-file writer', async () => {
    const { bytes } = await fileOf('one.parquet', [months[5]!]);
    expect(Buffer.from(bytes).equals(Buffer.from(encodeKlineColumns(months[5]!)))).toBe(true);
  });
});
