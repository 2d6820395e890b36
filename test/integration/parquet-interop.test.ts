/**
 * Other readers see the cache's files exactly: every real recording (test/fixtures/binance,
 * SOURCES.md; rows parsed by the fake Binance's own loader, not by lib/sources) is written as the
 * cache writes it, one file per dataset period under its canonical key, and read back by DuckDB
 * (`@duckdb/node-api`) and by hyparquet with hyparquet-compressors. Every value must match: times
 * as epoch ms (DuckDB sees TIMESTAMP WITH TIME ZONE; epoch_ms() gives the stored int64), trades
 * as int64, doubles bit for bit. And the other way: files DuckDB writes (other codecs, encodings
 * and timestamp units) decode through the codec's general path (hyparquet, node:zlib codecs).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parquetMetadata } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KLINE_COLUMNS } from '../../lib/domain/kline.ts';
import { allocateColumns, type KlineColumns } from '../../lib/domain/kline-columns.ts';
import { canonicalKey, granularityFor, periodOf } from '../../lib/domain/periods.ts';
import { decodeKlineColumns, encodeKlineColumns, isFastReadableKlinesFile } from '../../lib/store/parquet-codec.ts';
import { hyparquetColumns, type NumberColumns } from '../helpers/parquet-pages.ts';
import { loadRealUniverse, type RealRow } from '../helpers/real-data.ts';

/** Field index in a Vision/REST row of each kline column (the 12th, "ignore", is not stored). */
const FIELD = { open: 1, high: 2, low: 3, close: 4, volume: 5, quote_volume: 7, trades: 8, taker_buy_volume: 9, taker_buy_quote_volume: 10 } as const;

function columnsOf(rows: readonly RealRow[]): KlineColumns {
  const c = allocateColumns(rows.length);
  rows.forEach((row, i) => {
    c.open_time[i] = row.openMs;
    c.close_time[i] = row.closeMs;
    for (const [name, field] of Object.entries(FIELD)) c[name as keyof typeof FIELD][i] = Number(row.fields[field]);
  });
  return c;
}

interface WrittenFile { readonly key: string; readonly expected: KlineColumns }

let root: string;
let connection: DuckDBConnection;
let instance: DuckDBInstance;
const written: WrittenFile[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'klines-interop-'));
  for (const dataset of loadRealUniverse().datasets.values()) {
    const granularity = granularityFor(dataset.interval);
    const byPeriod = new Map<string, RealRow[]>();
    for (const row of dataset.rows) {
      const key = canonicalKey(dataset, periodOf(row.openMs, granularity));
      byPeriod.set(key, [...(byPeriod.get(key) ?? []), row]);
    }
    for (const [key, rows] of byPeriod) {
      const expected = columnsOf(rows);
      await mkdir(path.dirname(path.join(root, key)), { recursive: true });
      await writeFile(path.join(root, key), encodeKlineColumns(expected));
      written.push({ key, expected });
    }
  }
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});

afterAll(async () => {
  connection?.closeSync();
  instance?.closeSync();
  await rm(root, { recursive: true, force: true });
});

/** Asserts `actual` holds exactly (Object.is, so -0 counts) the expected numbers. */
function expectSame(file: string, actual: NumberColumns, expected: KlineColumns): void {
  for (const name of KLINE_COLUMNS) {
    const a = Array.from(actual[name]);
    expect(a.length, `${file} ${name}`).toBe(expected.length);
    const bad = a.findIndex((value, i) => !Object.is(value, expected[name][i]));
    expect(bad === -1 ? 'same' : `row ${bad}: ${a[bad]} vs ${expected[name][bad]}`, `${file} ${name}`).toBe('same');
  }
}

describe('cache files of every real recording, read by other Parquet readers', () => {
  it('writes files for many datasets and periods (1s, 1m, 5m, 1h, 1d …)', () => {
    expect(written.length).toBeGreaterThan(40);
    expect(new Set(written.map((file) => file.key.split('/').at(-2))).size).toBeGreaterThanOrEqual(4);
  });

  it('DuckDB reads every value of every file exactly, times as TIMESTAMP WITH TIME ZONE', async () => {
    const types = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path.join(root, written[0]!.key)}')`);
    expect(types.getRowObjectsJS().map((row) => `${row.column_name} ${row.column_type}`)).toEqual(KLINE_COLUMNS.map((name) =>
      `${name} ${name.endsWith('_time') ? 'TIMESTAMP WITH TIME ZONE' : name === 'trades' ? 'BIGINT' : 'DOUBLE'}`));
    const columns = KLINE_COLUMNS.map((name) => (name.endsWith('_time') ? `epoch_ms(${name}) AS ${name}` : name)).join(', ');
    const result = await connection.runAndReadAll(
      `SELECT filename, ${columns} FROM read_parquet('${root}/**/*.parquet', filename = true, file_row_number = true) ORDER BY filename, file_row_number`,
    );
    const all = result.getColumnsObjectJS();
    const filenames = all.filename as string[];
    let at = 0;
    for (const file of [...written].sort((a, b) => (path.join(root, a.key) < path.join(root, b.key) ? -1 : 1))) {
      expect(filenames[at]).toBe(path.join(root, file.key));
      const slice = Object.fromEntries(KLINE_COLUMNS.map((name) => [name, (all[name] as (number | bigint)[]).slice(at, at + file.expected.length).map(Number)]));
      expectSame(file.key, slice as unknown as NumberColumns, file.expected);
      at += file.expected.length;
    }
    expect(at).toBe(filenames.length);
  });

  it('DuckDB prunes by the open_time statistics: a filter past the data reads no row group', async () => {
    const file = path.join(root, written[0]!.key);
    const plan = await connection.runAndReadAll(`EXPLAIN ANALYZE SELECT count(*) FROM read_parquet('${file}') WHERE open_time >= TIMESTAMPTZ '2100-01-01'`);
    expect(String(plan.getRowObjectsJS()[0]!.explain_value)).toContain('EMPTY_RESULT');
  });

  it.each(['ZSTD', 'GZIP', 'SNAPPY', 'BROTLI'])('a file DuckDB writes from ours (%s, its own encodings, µs timestamps) decodes through the hyparquet path to the same values', async (codec) => {
    const file = written.find((candidate) => candidate.key.includes('/1m/') && candidate.expected.length > 1000)!;
    const copy = path.join(root, `duckdb-${codec}.parquet`.toLowerCase());
    await connection.run(`COPY (SELECT * FROM read_parquet('${path.join(root, file.key)}')) TO '${copy}' (FORMAT parquet, COMPRESSION ${codec})`);
    const bytes = new Uint8Array(await readFile(copy));
    await rm(copy);
    const metadata = parquetMetadata(bytes.buffer as ArrayBuffer);
    expect(metadata.row_groups[0]!.columns.every((chunk) => chunk.meta_data!.codec === codec)).toBe(true);
    expect(metadata.schema.find((element) => element.name === 'open_time')?.logical_type).toMatchObject({ type: 'TIMESTAMP', unit: 'MICROS' });
    expect(isFastReadableKlinesFile(metadata)).toBe(false);
    expectSame(`${file.key} via DuckDB ${codec}`, await decodeKlineColumns(bytes), file.expected);
  });

  it('hyparquet with hyparquet-compressors reads every value of every file exactly', async () => {
    for (const file of written) expectSame(file.key, await hyparquetColumns(await readFile(path.join(root, file.key))), file.expected);
  });
});
