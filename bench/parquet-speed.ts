/**
 * Speed of the cache's Parquet codec against DuckDB (`@duckdb/node-api`) on the same file: a
 * generated month of 1m (44,640 rows, bench/generate.ts) and the real um BTCUSDT 1m days.
 * Self-contained: `npm run -s bench:parquet-speed`; prints one line per figure.
 *
 * - encode: encodeKlineColumns, rows/s.
 * - warm read in process, interleaved (ours, DuckDB, ours, …) so machine load hits both alike:
 *   ours = readFile + decodeKlineColumns (Float64Array columns, what the cache serves from);
 *   DuckDB = `SELECT * FROM read_parquet(file)` fully materialized (runAndReadAll), and the same
 *   plus getColumnsJS() (its columns as JS values, the nearest to what we return).
 * Medians of `RUNS` after `WARMUPS` untimed passes.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { unzipSync } from 'fflate';
import { concatColumns, type KlineColumns } from '../lib/domain/kline-columns.ts';
import { parseVisionCsvBytes, parseVisionCsvColumns } from '../lib/sources/vision-csv.ts';
import { decodeKlineColumns, encodeKlineColumns } from '../lib/store/parquet-codec.ts';
import { generateMonthCsv } from './generate.ts';
import { formatCount, percentile } from './measure.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUPS = 5;
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/binance');

function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

function timeSync(body: () => unknown): number {
  const startedMs = performance.now();
  body();
  return performance.now() - startedMs;
}

async function timeAsync(body: () => Promise<unknown>): Promise<number> {
  const startedMs = performance.now();
  await body();
  return performance.now() - startedMs;
}

async function measure(label: string, columns: KlineColumns, dir: string): Promise<void> {
  const n = columns.length;
  for (let i = 0; i < WARMUPS; i++) encodeKlineColumns(columns);
  const encodeMs = median(Array.from({ length: RUNS }, () => timeSync(() => encodeKlineColumns(columns))));
  const bytes = encodeKlineColumns(columns);
  const file = path.join(dir, `${label.replace(/\W+/g, '-')}.parquet`);
  await writeFile(file, bytes);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const sql = `SELECT * FROM read_parquet('${file}')`;
  const ours = async (): Promise<unknown> => decodeKlineColumns(await readFile(file));
  const duck = async (): Promise<unknown> => connection.runAndReadAll(sql);
  const duckJs = async (): Promise<unknown> => (await connection.runAndReadAll(sql)).getColumnsJS();
  for (let i = 0; i < WARMUPS; i++) {
    await ours();
    await duck();
    await duckJs();
  }
  const samples = { ours: [] as number[], duck: [] as number[], duckJs: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    samples.ours.push(await timeAsync(ours));
    samples.duck.push(await timeAsync(duck));
    samples.duckJs.push(await timeAsync(duckJs));
  }
  connection.closeSync();
  instance.closeSync();
  const [o, d, dj] = [median(samples.ours), median(samples.duck), median(samples.duckJs)];
  console.log(`${label}: ${n} rows, ${(bytes.byteLength / n).toFixed(1)} B/row`);
  console.log(`  encode: ${encodeMs.toFixed(2)} ms = ${formatCount(n / (encodeMs / 1000))} rows/s`);
  console.log(`  warm read (readFile + decode): ours ${o.toFixed(2)} ms = ${formatCount(n / (o / 1000))} rows/s`);
  console.log(`  DuckDB read_parquet materialized: ${d.toFixed(2)} ms (ours / DuckDB = ${(o / d).toFixed(2)})`);
  console.log(`  DuckDB + getColumnsJS: ${dj.toFixed(2)} ms (ours / DuckDB = ${(o / dj).toFixed(2)})`);
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'klines-parquet-speed-'));
try {
  const month = generateMonthCsv('1m', Date.UTC(2024, 0, 1), 1);
  await measure('generated spot 1m 2024-01', parseVisionCsvColumns(month.csv, 'generated'), dir);
  const days = ['2022-09-05', '2022-09-06'].map((day) => {
    const zip = readFileSync(path.join(fixtures, `vision/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-${day}.zip`));
    return parseVisionCsvBytes(Object.values(unzipSync(zip))[0]!, day);
  });
  await measure('real um BTCUSDT 1m 2022-09-05..06', concatColumns(days), dir);
} finally {
  await rm(dir, { recursive: true, force: true });
}
