/**
 * `npm run bench:six-years`: the memory figure of issue 9 on six years of 1m (3,155,040 rows of
 * generated BENCHUSDT spot data, 72 monthly files served by bench/vision-server.ts on 127.0.0.1).
 * Runs `klines get` (the built CLI, bin/klines.mjs) under `/usr/bin/time -v`: cold into an empty
 * cache, then warm, writing CSV to a file; then the reference shell pipeline (curl + sha256sum +
 * unzip + DuckDB) on the same files; then `--format parquet` cold (its own empty cache) and warm,
 * the file checked from its footer (rows, row groups). Writes bench/RESULTS-six-years.md.
 * `npm run bench:six-years -- --only parquet` runs only the Parquet runs and rewrites only their
 * section of that file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { generateVisionMonths } from './generate.ts';
import { HANDLERS_END, HANDLERS_START, handlerRuns } from './handler-rss.ts';
import { timeProcess, type ProcessRun } from './process-time.ts';
import { startBenchVisionServer } from './vision-server.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const NOW_MS = Date.UTC(2024, 5, 1);
const FIRST = Date.UTC(2018, 0, 1);
const MONTHS = 72;
const log = (message: string): void => void process.stderr.write(`bench: ${message}\n`);

const line = (label: string, run: ProcessRun): string =>
  `| ${label} | ${(run.wallMs / 1000).toFixed(1)} s | ${(run.cpuMs / 1000).toFixed(1)} s | ${(run.maxRssKb / 1024).toFixed(0)} MiB |`;

const loadNow = (): string => os.loadavg().map((l) => l.toFixed(2)).join(', ');
const loadBefore = loadNow();
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (only !== undefined && only !== 'parquet' && only !== 'handlers') throw new Error('usage: six-years.ts [--only parquet|handlers]');
const RESULTS = path.join(BENCH_DIR, 'RESULTS-six-years.md');
const PARQUET_START = '<!-- parquet: written by bench/six-years.ts -->';
const PARQUET_END = '<!-- /parquet -->';
const tempRoot = await mkdtemp(path.join(os.tmpdir(), 'klines-six-years-'));
try {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')]);
  log(`generating ${MONTHS} months of 1m ...`);
  const files = await generateVisionMonths({ market: 'spot', symbol: 'BENCHUSDT', interval: '1m' }, FIRST, MONTHS);
  const rows = files.reduce((n, f) => n + f.rows, 0);
  const server = await startBenchVisionServer(files);
  try {
    const env: Record<string, string> = {
      KLINES_CACHE_DIR: path.join(tempRoot, 'cache'), KLINES_NOW: String(NOW_MS), BINANCE_VISION_URL: server.url,
      BINANCE_SPOT_API_URL: server.url, BINANCE_UM_API_URL: server.url, BINANCE_CM_API_URL: server.url,
    };
    const args = (format: string, cacheEnv = env): [string[], Record<string, string>] => [[path.join(REPO_ROOT, 'bin', 'klines.mjs'), 'get', 'BENCHUSDT', '1m', '--start', '2018-01-01', '--end', '2023-12-31T23:59:00Z',
      '--format', format, '--out', path.join(tempRoot, `out.${format}`), '--stats'], cacheEnv];
    const parquetEnv = { ...env, KLINES_CACHE_DIR: path.join(tempRoot, 'cache-parquet') };
    const handlersInput = {
      tempRoot, env: { ...env, KLINES_CACHE_DIR: path.join(tempRoot, 'cache-handlers') }, start: '2018-01-01T00:00:00Z', end: '2023-12-31T23:59:00Z', rows, log,
    };
    if (only) {
      const section = only === 'parquet' ? await parquetRuns(args, parquetEnv, rows, server.total) : await handlerRuns(handlersInput);
      const [start, end] = only === 'parquet' ? [PARQUET_START, PARQUET_END] : [HANDLERS_START, HANDLERS_END];
      await writeFile(RESULTS, replaceSection(await readFile(RESULTS, 'utf8').catch(() => ''), start, end, section));
      process.stdout.write(section);
    } else {
      log('cold klines get (CSV) ...');
      const cold = await timeProcess(process.execPath, ...args('csv'));
      const upstream = server.total();
      log('warm klines get (CSV, JSON) ...');
      const warm = await timeProcess(process.execPath, ...args('csv'));
      const warmJson = await timeProcess(process.execPath, ...args('json'));
      if (server.total() !== upstream) throw new Error('bench: the warm runs made upstream requests');
      log('reference pipeline ...');
      const reference = await timeProcess(path.join(BENCH_DIR, 'reference-pipeline.sh'), [server.url, path.join(tempRoot, 'reference'), path.join(tempRoot, 'ref.csv'), ...files.map((f) => f.path)],
        { NODE: process.execPath, DUCKDB_RUN: path.join(BENCH_DIR, 'duckdb-run.mjs') });
      const parquet = await parquetRuns(args, parquetEnv, rows, server.total);
      const handlers = await handlerRuns(handlersInput);
      const markdown = `# Six years of 1m: time and peak memory

Written by \`npm run bench:six-years\` (bench/six-years.ts) on ${new Date().toISOString()}; ${os.availableParallelism()} cores, load average before / after:
${loadBefore} / ${loadNow()} (the machine is shared: times are loaded, peak memory is not).
Generated BENCHUSDT spot 1m, ${MONTHS} monthly Vision files (${rows.toLocaleString('en-US')} rows) on 127.0.0.1;
each command in a fresh process under GNU time (maximum resident set size = peak RSS).

| run | wall | CPU (user + system) | peak RSS |
|---|---|---|---|
${line(`\`klines get\` cold, CSV to a file (empty cache; ${upstream} upstream requests)`, cold)}
${line('`klines get` warm, CSV to a file', warm)}
${line('`klines get` warm, JSON to a file', warmJson)}
${line('reference: curl + sha256sum + unzip (8 at a time), DuckDB → ZSTD Parquet + CSV', reference)}

Cold / reference time: ${(cold.wallMs / reference.wallMs).toFixed(2)}. Target: peak RSS ≤ 256 MiB cold and warm.
The reference loads all rows into one in-memory DuckDB table before writing, so its memory is
not a streaming reference (the issue's pipeline peaked at 154 MiB); its time is the comparison.

${parquet}
${handlers}`;
      await writeFile(RESULTS, markdown);
      process.stdout.write(markdown);
    }
  } finally {
    await server.close();
  }
} finally {
  await rm(tempRoot, { recursive: true, force: true });
}

/**
 * `klines get --format parquet` cold (into the empty cache of `env`) and warm, each checked from
 * the file's footer: every row, in row groups. The markdown section of RESULTS-six-years.md.
 */
async function parquetRuns(args: (format: string, env: Record<string, string>) => [string[], Record<string, string>], env: Record<string, string>, rows: number, upstreamTotal: () => number): Promise<string> {
  const startLoad = loadNow();
  const before = upstreamTotal();
  log('cold klines get (Parquet) ...');
  const cold = await timeProcess(process.execPath, ...args('parquet', env));
  const upstream = upstreamTotal() - before;
  const out = path.join(tempRoot, 'out.parquet');
  const check = async (): Promise<string> => {
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(out));
    if (Number(metadata.num_rows) !== rows) throw new Error(`bench: the Parquet answer has ${metadata.num_rows} rows, not ${rows}`);
    return `${Number(metadata.num_rows).toLocaleString('en-US')} rows in ${metadata.row_groups.length} row groups, ${((await stat(out)).size / 1024 / 1024).toFixed(1)} MiB`;
  };
  const coldFile = await check();
  log('warm klines get (Parquet) ...');
  const warm = await timeProcess(process.execPath, ...args('parquet', env));
  if (upstreamTotal() - before !== upstream) throw new Error('bench: the warm Parquet run made upstream requests');
  const warmFile = await check();
  return `${PARQUET_START}
## \`--format parquet\`, written row group by row group

On ${new Date().toISOString()}, load average before / after: ${startLoad} / ${loadNow()}; its own empty cache.

| run | wall | CPU (user + system) | peak RSS |
|---|---|---|---|
${line(`\`klines get --format parquet\` cold (empty cache; ${upstream} upstream requests)`, cold)}
${line('`klines get --format parquet` warm', warm)}

Files (read back from their footers): cold ${coldFile}; warm ${warmFile}. Target: peak RSS ≤ 256 MiB cold and warm.
${PARQUET_END}
`;
}

/** `markdown` with the part from `start` to `end` (markers included) replaced by `section`, or `section` appended. */
function replaceSection(markdown: string, start: string, end: string, section: string): string {
  const at = markdown.indexOf(start);
  const until = markdown.indexOf(end);
  if (at < 0 || until < at) return `${markdown}\n${section}`;
  return `${markdown.slice(0, at)}${section}${markdown.slice(until + end.length + 1)}`;
}
