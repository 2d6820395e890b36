/**
 * The issue-9 figures, each measured for the project and for DuckDB (@duckdb/node-api, a dev
 * dependency used by the bench only) on the same files in the same run, interleaved
 * (project, DuckDB, project, …) so that the shared machine's load hits both alike:
 * a year of 1m written as CSV and JSON in process, the same as whole processes, a cold fill
 * against the reference shell pipeline (curl + sha256sum + unzip + DuckDB → ZSTD), a warm month
 * in process, bytes per row, and start-up times against a bare `node -e 0`.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Dataset } from '../lib/domain/kline.ts';
import { canonicalKey, granularityFor, periodsInRange } from '../lib/domain/periods.ts';
import type { Range } from '../lib/domain/ranges.ts';
import { TEXT_SINK_HIGH_WATER_MARK } from '../lib/service/answer-text.ts';
import { writeCsv, writeJson } from '../lib/service/format.ts';
import { parseVisionCsvBytes } from '../lib/sources/vision-csv.ts';
import { readSingleCsvMember } from '../lib/sources/zip-member.ts';
import { encodeKlineColumns } from '../lib/store/parquet-codec.ts';
import { createBenchService, createBenchStreamer } from './bench-service.ts';
import { CHILD_ENV } from './cold-start.ts';
import type { GeneratedFile } from './generate.ts';
import { median, timeProcess, type ProcessRun } from './process-time.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');
/** Interleaved runs of the warm year as whole processes (project, DuckDB). */
const WARM_YEAR_RUNS = 3;
/** Interleaved runs of each start-up figure (bundles, `klines --help`). */
const START_RUNS = 9;
const execFileAsync = promisify(execFile);

/** Samples in ms of the project and of its reference. */
export interface Paired {
  readonly project: readonly number[];
  readonly reference: readonly number[];
}

/** Bytes per row of one file set: the project's cache file, the Vision zip, DuckDB's ZSTD Parquet. */
export interface BytesPerRow {
  readonly name: string;
  readonly rows: number;
  readonly project: number;
  readonly zip: number;
  readonly duckdb: number;
}

/** Everything side by side. */
export interface SideBySideResults {
  readonly duckdbVersion: string;
  readonly bytesPerRow: readonly BytesPerRow[];
  readonly csvInProcess: Paired;
  readonly jsonInProcess: Paired;
  readonly warmMonth: Paired;
  readonly warmYearProcess: { readonly project: ProcessRun; readonly reference: ProcessRun; readonly runs: number };
  readonly coldProcess: { readonly project: ProcessRun; readonly reference: ProcessRun; readonly months: number };
  readonly bundles: readonly BundleStart[];
  readonly help: { readonly wall: Paired; readonly cpu: Paired };
}

/**
 * Start-up samples of one Lambda bundle, each from a fresh process, interleaved run by run with its
 * references. Wall times in ms from the bench's clock around the spawn (ms resolution); CPU times
 * in ms from the child's own `process.cpuUsage()` at its end (µs resolution).
 */
export interface BundleStart {
  readonly name: string;
  /** Bytes of code the cold start loads (scripts/bundle.mjs sizes.json `startBytes`). */
  readonly startBytes: number;
  /**
   * The issue's figure ("Lambda bundle import", as its 386 ms and its 324 ms breakdown were taken):
   * the `await import()` of index.mjs timed in the child, against the wall time of a bare `node -e`.
   */
  readonly importMs: Paired;
  /** Wall: the whole process, node + import of index.mjs, against a bare `node -e`. */
  readonly project: Paired;
  /** CPU of the same two processes. */
  readonly cpu: Paired;
  /**
   * Wall: a Lambda-runtime-like start + the import, against that start alone. The start is an ESM
   * entry loading the builtins the runtime interface client loads before any handler (http, net,
   * util, fs, path, assert, module: aws-lambda-nodejs-runtime-interface-client src/), as Lambda's
   * `/var/runtime/index.mjs` does.
   */
  readonly runtimeLike: Paired;
  /** Wall: node + import + one fetch to a closed loopback port (the first AWS call loads undici). */
  readonly withFirstRequest: readonly number[];
}

/** What the side-by-side figures run on: the bench's filled cache, its Vision server and data. */
export interface SideBySideInput {
  readonly cacheDir: string;
  readonly tempDir: string;
  readonly upstreamUrl: string;
  readonly nowMs: number;
  readonly dataset: Dataset;
  readonly year: Range;
  readonly month: Range;
  /** The generated monthly files (the cold figure fills them all). */
  readonly files: readonly GeneratedFile[];
}

const sql = (text: string): string => text.replaceAll("'", "''");

async function interleave(rounds: number, project: () => Promise<number>, reference: () => Promise<number>): Promise<Paired> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i++) {
    a.push(await project());
    b.push(await reference());
  }
  return { project: a, reference: b };
}

async function elapsed(body: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await body();
  return performance.now() - started;
}

/** Streams the answer to a file as `klines get --out` does. */
async function writeStreamed(format: 'csv' | 'json', input: SideBySideInput, file: string): Promise<void> {
  const stream = createBenchStreamer(input.cacheDir, input.upstreamUrl, input.nowMs)({ dataset: input.dataset, range: input.year });
  const sink = createWriteStream(file, { highWaterMark: TEXT_SINK_HIGH_WATER_MARK }); // as `klines get --out` (cli/get.ts)
  const write = (chunk: Uint8Array): Promise<void> | void => (sink.write(chunk) ? undefined : once(sink, 'drain').then(() => undefined));
  if (format === 'csv') await writeCsv(stream, false, write);
  else await writeJson(stream, false, write, 'ms', '\n');
  await new Promise<void>((resolve, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

function parquetList(input: SideBySideInput, range: Range): string {
  const files = periodsInRange(range, granularityFor(input.dataset.interval)).map((p) => path.join(input.cacheDir, canonicalKey(input.dataset, p)));
  return `[${files.map((f) => `'${sql(f)}'`).join(', ')}]`;
}

async function bytesPerRow(db: DuckDBConnection, name: string, zip: Uint8Array, tempDir: string): Promise<BytesPerRow> {
  const csv = await readSingleCsvMember(Buffer.from(zip), name);
  const columns = parseVisionCsvBytes(csv, name);
  const csvFile = path.join(tempDir, 'bytes.csv');
  const parquetFile = path.join(tempDir, 'bytes.parquet');
  await writeFile(csvFile, csv);
  await db.run(`COPY (SELECT * FROM read_csv('${sql(csvFile)}', auto_detect=true)) TO '${sql(parquetFile)}' (FORMAT parquet, COMPRESSION zstd)`);
  const duckdb = (await stat(parquetFile)).size;
  return { name, rows: columns.length, project: encodeKlineColumns(columns).length / columns.length, zip: zip.length / columns.length, duckdb: duckdb / columns.length };
}

// Children print, last, their own CPU time (user + system, ms) and the time their `await import()`
// of the bundle took (ms, performance.now around it; absent for bare node); the parent times the wall clock.
const PRINT_CPU = 'const u = process.cpuUsage(); process.stdout.write("\\n" + JSON.stringify({ cpuMs: (u.user + u.system) / 1000, importMs: globalThis.importMs }));';
const RUNTIME_LIKE_START = "import 'node:http'; import 'node:net'; import 'node:util'; import 'node:fs'; import 'node:path'; import 'node:assert'; import 'node:module';";
const FIRST_REQUEST = "await fetch('http://127.0.0.1:9/').catch(() => undefined);";

/** One fresh `node` process: its wall time (ms, the bench's clock) and what it printed. */
async function wallTime(node: string, args: readonly string[]): Promise<{ wallMs: number; stdout: string }> {
  const startedMs = performance.now();
  const { stdout } = await execFileAsync(node, args, { env: CHILD_ENV });
  return { wallMs: performance.now() - startedMs, stdout };
}

/** One fresh `node` process: wall (ms, the bench's clock), and the CPU and import time the child reports. */
async function timeStart(node: string, args: readonly string[]): Promise<{ wallMs: number; cpuMs: number; importMs: number }> {
  const { wallMs, stdout } = await wallTime(node, args);
  const reported = JSON.parse(stdout.trim().split('\n').pop()!) as { cpuMs: number; importMs?: number };
  return { wallMs, cpuMs: reported.cpuMs, importMs: reported.importMs ?? Number.NaN };
}

async function startTimes(node: string, runs: number): Promise<Pick<SideBySideResults, 'bundles' | 'help'>> {
  const sizes = JSON.parse(await readFile(path.join(REPO_ROOT, 'dist', 'functions', 'sizes.json'), 'utf8')) as { functions: { name: string; startBytes: number }[] };
  const esm = (code: string): string[] => ['--input-type=module', '-e', code];
  const bundles: BundleStart[] = [];
  for (const { name } of sizes.functions) {
    const url = JSON.stringify(pathToFileURL(path.join(REPO_ROOT, 'dist', 'functions', name, 'index.mjs')).href);
    const importIt = `const t0 = performance.now(); await import(${url}); globalThis.importMs = performance.now() - t0;`;
    const samples = { p: [] as { wallMs: number; cpuMs: number; importMs: number }[], b: [] as { wallMs: number; cpuMs: number }[], rp: [] as number[], rb: [] as number[], fr: [] as number[] };
    await timeStart(node, esm(importIt + PRINT_CPU)); // warms the OS file cache, as a container's disk would be
    for (let i = 0; i < runs; i++) {
      samples.p.push(await timeStart(node, esm(importIt + PRINT_CPU)));
      samples.b.push(await timeStart(node, ['-e', PRINT_CPU]));
      samples.rp.push((await timeStart(node, esm(RUNTIME_LIKE_START + importIt + PRINT_CPU))).wallMs);
      samples.rb.push((await timeStart(node, esm(RUNTIME_LIKE_START + PRINT_CPU))).wallMs);
      samples.fr.push((await timeStart(node, esm(importIt + FIRST_REQUEST + PRINT_CPU))).wallMs);
    }
    bundles.push({
      name,
      startBytes: sizes.functions.find((row) => row.name === name)?.startBytes ?? Number.NaN,
      importMs: { project: samples.p.map((r) => r.importMs), reference: samples.b.map((r) => r.wallMs) },
      project: { project: samples.p.map((r) => r.wallMs), reference: samples.b.map((r) => r.wallMs) },
      cpu: { project: samples.p.map((r) => r.cpuMs), reference: samples.b.map((r) => r.cpuMs) },
      runtimeLike: { project: samples.rp, reference: samples.rb },
      withFirstRequest: samples.fr,
    });
  }
  // Wall times on the bench's clock (GNU time's are in 10 ms steps, half a bare start on a quiet
  // machine); CPU from GNU time in separate runs, since the child cannot report its own here.
  const helpArgs = [path.join(REPO_ROOT, 'bin', 'klines.mjs'), '--help'];
  const wall = async (args: readonly string[]): Promise<number> => (await wallTime(node, args)).wallMs;
  const help = { p: [] as number[], b: [] as number[], pCpu: [] as number[], bCpu: [] as number[] };
  await wall(helpArgs); // warms the OS file cache
  for (let i = 0; i < runs; i++) {
    help.p.push(await wall(helpArgs));
    help.b.push(await wall(['-e', '0']));
    help.pCpu.push((await timeProcess(node, helpArgs, CHILD_ENV)).cpuMs);
    help.bCpu.push((await timeProcess(node, ['-e', '0'], CHILD_ENV)).cpuMs);
  }
  return {
    bundles,
    help: { wall: { project: help.p, reference: help.b }, cpu: { project: help.pCpu, reference: help.bCpu } },
  };
}

/** Runs every side-by-side figure. The bundles (npm run bundle) and the CLI (npm run build) must be built. */
export async function benchSideBySide(input: SideBySideInput, log: (message: string) => void): Promise<SideBySideResults> {
  const node = process.execPath;
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    const duckdbVersion = String((await db.runAndReadAll('SELECT version()')).getRows()[0]?.[0]);
    const out = path.join(input.tempDir, 'out');
    const year = parquetList(input, input.year);
    const month = parquetList(input, input.month);

    log('side by side: bytes per row ...');
    const real = path.join(REPO_ROOT, 'test/fixtures/binance/vision/data/futures/um/daily/klines/BTCUSDT/1m');
    const january = input.files.find((f) => f.startMs === input.month.startMs)!;
    const perRow = [
      await bytesPerRow(db, 'real um BTCUSDT 1m 2022-09-05', await readFile(path.join(real, 'BTCUSDT-1m-2022-09-05.zip')), input.tempDir),
      await bytesPerRow(db, 'real um BTCUSDT 1m 2022-09-06', await readFile(path.join(real, 'BTCUSDT-1m-2022-09-06.zip')), input.tempDir),
      await bytesPerRow(db, `generated ${january.name}`, january.zip, input.tempDir),
    ];

    log('side by side: a year of 1m to CSV and JSON in process ...');
    const csvInProcess = await interleave(3, () => elapsed(() => writeStreamed('csv', input, `${out}.csv`)),
      () => elapsed(() => db.run(`COPY (SELECT * FROM read_parquet(${year}) ORDER BY open_time) TO '${sql(out)}.duck.csv' (HEADER, DELIMITER ',')`)));
    const jsonInProcess = await interleave(3, () => elapsed(() => writeStreamed('json', input, `${out}.json`)),
      () => elapsed(() => db.run(`COPY (SELECT * FROM read_parquet(${year}) ORDER BY open_time) TO '${sql(out)}.duck.json' (FORMAT json, ARRAY true)`)));

    log('side by side: warm month in process ...');
    const service = createBenchService(input.cacheDir, input.upstreamUrl, input.nowMs);
    const readMonth = () => elapsed(() => service.getKlines({ dataset: input.dataset, range: input.month }));
    const duckMonth = () => elapsed(() => db.runAndReadAll(`SELECT * FROM read_parquet(${month}) ORDER BY open_time`));
    // Untimed passes first, for both: a fresh service's first reads load code and warm the JIT.
    await interleave(3, readMonth, duckMonth);
    const warmMonth = await interleave(20, readMonth, duckMonth);

    log('side by side: warm year to CSV as whole processes ...');
    const env = {
      KLINES_CACHE_DIR: input.cacheDir, KLINES_NOW: String(input.nowMs), BINANCE_VISION_URL: input.upstreamUrl,
      BINANCE_SPOT_API_URL: input.upstreamUrl, BINANCE_UM_API_URL: input.upstreamUrl, BINANCE_CM_API_URL: input.upstreamUrl,
    };
    const iso = (ms: number): string => new Date(ms).toISOString();
    const getArgs = (range: Range): string[] => [path.join(REPO_ROOT, 'bin', 'klines.mjs'), 'get', input.dataset.symbol, input.dataset.interval,
      '--start', iso(range.startMs), '--end', iso(range.endMs - 60_000), '--out', `${out}.cli.csv`];
    // The run of median wall time of each, over WARM_YEAR_RUNS interleaved pairs: one process is one sample.
    const warmYear = { project: [] as ProcessRun[], reference: [] as ProcessRun[] };
    for (let i = 0; i < WARM_YEAR_RUNS; i++) {
      warmYear.project.push(await timeProcess(node, getArgs(input.year), env));
      warmYear.reference.push(await timeProcess(node, [path.join(BENCH_DIR, 'duckdb-run.mjs'), `COPY (SELECT * FROM read_parquet(${year}) ORDER BY open_time) TO '${sql(out)}.duck.csv' (HEADER, DELIMITER ',')`]));
    }
    const medianRun = (runs: readonly ProcessRun[]): ProcessRun => [...runs].sort((a, b) => a.wallMs - b.wallMs)[Math.ceil(runs.length / 2) - 1]!;
    const warmYearProcess = { project: medianRun(warmYear.project), reference: medianRun(warmYear.reference), runs: WARM_YEAR_RUNS };

    log(`side by side: cold ${input.files.length} months of 1m to CSV, one process each ...`);
    const all = { startMs: Math.min(...input.files.map((f) => f.startMs)), endMs: Math.max(...input.files.map((f) => f.endMs)) };
    const coldDir = path.join(input.tempDir, 'cold');
    const coldProcess = {
      months: input.files.length,
      project: await timeProcess(node, getArgs(all), { ...env, KLINES_CACHE_DIR: coldDir }),
      reference: await timeProcess(path.join(BENCH_DIR, 'reference-pipeline.sh'), [input.upstreamUrl, path.join(input.tempDir, 'reference'), `${out}.ref.csv`, ...input.files.map((f) => f.path)],
        { NODE: node, DUCKDB_RUN: path.join(BENCH_DIR, 'duckdb-run.mjs') }),
    };
    await rm(coldDir, { recursive: true, force: true });

    log('side by side: start-up times against node -e 0 ...');
    const starts = await startTimes(node, START_RUNS);
    return { duckdbVersion, bytesPerRow: perRow, csvInProcess, jsonInProcess, warmMonth, warmYearProcess, coldProcess, ...starts };
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

export { median };
