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
 * - warm month through the service (`getKlines` on the local cache, after a cold fill from a
 *   loopback Vision server) against DuckDB reading that month's cache file.
 * Medians of `RUNS` after `WARMUPS` untimed passes; the load average is printed with them.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { unzipSync } from 'fflate';
import type { Dataset } from '../lib/domain/kline.ts';
import { concatColumns, type KlineColumns } from '../lib/domain/kline-columns.ts';
import { canonicalKey, periodOf } from '../lib/domain/periods.ts';
import { parseVisionCsvBytes, parseVisionCsvColumns } from '../lib/sources/vision-csv.ts';
import { decodeKlineColumns, encodeKlineColumns } from '../lib/store/parquet-codec.ts';
import { createBenchService } from './bench-service.ts';
import { generateMonthCsv, generateVisionMonth } from './generate.ts';
import { formatCount, percentile } from './measure.ts';
import { startBenchVisionServer } from './vision-server.ts';

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

/** Medians (ms) of each body, run in turn `RUNS` times after `WARMUPS` untimed rounds. */
async function interleave(bodies: readonly (() => Promise<unknown>)[]): Promise<number[]> {
  for (let i = 0; i < WARMUPS; i++) for (const body of bodies) await body();
  const samples = bodies.map((): number[] => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [k, body] of bodies.entries()) samples[k]!.push(await timeAsync(body));
  }
  return samples.map(median);
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
  const [o, d, dj] = (await interleave([ours, duck, duckJs])) as [number, number, number];
  connection.closeSync();
  instance.closeSync();
  console.log(`${label}: ${n} rows, ${(bytes.byteLength / n).toFixed(1)} B/row`);
  console.log(`  encode: ${encodeMs.toFixed(2)} ms = ${formatCount(n / (encodeMs / 1000))} rows/s`);
  console.log(`  warm read (readFile + decode): ours ${o.toFixed(2)} ms = ${formatCount(n / (o / 1000))} rows/s`);
  console.log(`  DuckDB read_parquet materialized: ${d.toFixed(2)} ms (ours / DuckDB = ${(o / d).toFixed(2)})`);
  console.log(`  DuckDB + getColumnsJS: ${dj.toFixed(2)} ms (ours / DuckDB = ${(o / dj).toFixed(2)})`);
}

/** getKlines of a warm month of 1m through the service, against DuckDB reading the month's cache file. */
async function measureServiceMonth(dir: string): Promise<void> {
  const dataset: Dataset = { market: 'spot', symbol: 'BENCHUSDT', interval: '1m' };
  const file = await generateVisionMonth(dataset, Date.UTC(2023, 0, 1));
  const server = await startBenchVisionServer([file]);
  const cacheDir = path.join(dir, 'service');
  try {
    const service = createBenchService(cacheDir, server.url, Date.UTC(2024, 5, 1));
    const range = { startMs: file.startMs, endMs: file.endMs };
    const cold = await service.getKlines({ dataset, range });
    const cacheFile = path.join(cacheDir, canonicalKey(dataset, periodOf(file.startMs, 'monthly')));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const sql = `SELECT * FROM read_parquet('${cacheFile}') ORDER BY open_time`;
    const [ours, duck, duckJs] = (await interleave([
      () => service.getKlines({ dataset, range }),
      () => connection.runAndReadAll(sql),
      async () => (await connection.runAndReadAll(sql)).getColumnsJS(),
    ])) as [number, number, number];
    connection.closeSync();
    instance.closeSync();
    const bytes = (await readFile(cacheFile)).byteLength;
    console.log(`warm month through the service: ${cold.columns.length} rows, cache file ${(bytes / cold.columns.length).toFixed(1)} B/row`);
    console.log(`  getKlines ${ours.toFixed(2)} ms; DuckDB materialized ${duck.toFixed(2)} ms (ratio ${(ours / duck).toFixed(2)}); + getColumnsJS ${duckJs.toFixed(2)} ms (ratio ${(ours / duckJs).toFixed(2)})`);
  } finally {
    await server.close();
  }
}

console.log(`load average before: ${os.loadavg().map((load) => load.toFixed(2)).join(', ')}; ${RUNS} runs each`);
const dir = await mkdtemp(path.join(os.tmpdir(), 'klines-parquet-speed-'));
try {
  const month = generateMonthCsv('1m', Date.UTC(2024, 0, 1), 1);
  await measure('generated spot 1m 2024-01', parseVisionCsvColumns(month.csv, 'generated'), dir);
  const days = ['2022-09-05', '2022-09-06'].map((day) => {
    const zip = readFileSync(path.join(fixtures, `vision/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-${day}.zip`));
    return parseVisionCsvBytes(Object.values(unzipSync(zip))[0]!, day);
  });
  await measure('real um BTCUSDT 1m 2022-09-05..06', concatColumns(days), dir);
  await measureServiceMonth(dir);
  console.log(`load average after: ${os.loadavg().map((load) => load.toFixed(2)).join(', ')}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
