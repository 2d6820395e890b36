/**
 * `npm run bench`: measures ingest, warm reads, peak RSS and the codecs against the issue's
 * targets on generated data (generate.ts), served on 127.0.0.1 only, in temp dirs under
 * os.tmpdir() that are removed at the end; writes bench/RESULTS.md (results.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dataset } from '../lib/domain/kline.ts';
import { createBenchService } from './bench-service.ts';
import { benchCodecs } from './codec.ts';
import { benchColdStart } from './cold-start.ts';
import { benchS3Read } from './s3-read.ts';
import { benchSideBySide } from './side-by-side.ts';
import { generateVisionMonths } from './generate.ts';
import { benchIngestPipeline, benchServiceCold } from './ingest.ts';
import { timed } from './measure.ts';
import { benchWarmRead } from './read.ts';
import { writeVerifyResults } from './verify.ts';
import { renderResults, type BenchResults } from './results.ts';
import { bundleRssChild, runRssChild } from './rss.ts';
import { startBenchVisionServer } from './vision-server.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const MINUTE_1: Dataset = { market: 'spot', symbol: 'BENCHUSDT', interval: '1m' };
const HOUR_1: Dataset = { market: 'spot', symbol: 'BENCHUSDT', interval: '1h' };
/** The service's clock: long after 2023, so every 2023 month is a closed, published monthly file. */
const NOW_MS = Date.UTC(2024, 5, 1);
const YEAR_2023 = { startMs: Date.UTC(2023, 0, 1), endMs: Date.UTC(2024, 0, 1) };
const JANUARY_2023 = { startMs: Date.UTC(2023, 0, 1), endMs: Date.UTC(2023, 1, 1) };

const log = (message: string): void => void process.stderr.write(`bench: ${message}\n`);

const loadAverage = (): string => os.loadavg().map((load) => load.toFixed(2)).join(', ');

function machine(loadBefore: string): BenchResults['machine'] {
  let nproc = String(os.availableParallelism());
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // os.availableParallelism() is what nproc prints on Linux.
  }
  return {
    nproc, node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown', totalMemMb: Math.round(os.totalmem() / 2 ** 20),
    platform: `${os.platform()} ${os.release()}`, date: new Date().toISOString(),
    loadBefore, loadAfter: loadAverage(),
  };
}

async function main(): Promise<void> {
  const startedMs = performance.now();
  const loadBefore = loadAverage();
  const tempRoot = await mkdtemp(path.join(os.tmpdir(), 'klines-bench-'));
  try {
    log('generating 24 months of 1m and 12 months of 1h (BENCHUSDT, spot format) ...');
    const generated = await timed(async () => ({
      minutes: await generateVisionMonths(MINUTE_1, Date.UTC(2022, 0, 1), 24),
      hours: await generateVisionMonths(HOUR_1, Date.UTC(2023, 0, 1), 12),
    }));
    const { minutes, hours } = generated.value;
    const january = minutes.find((file) => file.startMs === JANUARY_2023.startMs)!;

    log('codecs (one month of 1m) ...');
    const codecs = await benchCodecs(january);

    log(`ingest pipeline (${minutes.length} monthly 1m files) ...`);
    const ingest = await benchIngestPipeline(minutes, path.join(tempRoot, 'ingest'));

    const server = await startBenchVisionServer([...minutes, ...hours]);
    try {
      const cacheDir = path.join(tempRoot, 'service');
      const service = createBenchService(cacheDir, server.url, NOW_MS);
      log('cold getKlines, a year of 1m, through HTTP ...');
      const cold = await benchServiceCold(service, MINUTE_1, YEAR_2023, 525_600);
      log('warm reads ...');
      const warmMonth = await benchWarmRead(service, MINUTE_1, JANUARY_2023, 44_640, server.total);
      const coldHours = await benchServiceCold(service, HOUR_1, YEAR_2023, 8_760);
      const warmYearHours = await benchWarmRead(service, HOUR_1, YEAR_2023, 8_760, server.total);

      log('peak RSS in fresh child processes ...');
      const rssDir = path.join(tempRoot, 'rss');
      const script = await bundleRssChild(tempRoot);
      const child = { script, cacheDir: rssDir, upstreamUrl: server.url, nowMs: NOW_MS, ...YEAR_2023, expectedRows: 525_600 };
      const baseline = await runRssChild({ ...child, mode: 'baseline' });
      let before = server.total();
      const rssCold = await runRssChild({ ...child, mode: 'cold' });
      const coldRequests = server.total() - before;
      before = server.total();
      const rssWarm = await runRssChild({ ...child, mode: 'warm' });
      const warmRequests = server.total() - before;
      if (warmRequests !== 0) throw new Error(`bench: the warm child made ${warmRequests} upstream requests`);

      log('Lambda bundles: cold-start import in fresh processes ...');
      const coldStart = await benchColdStart();

      log('S3 + DynamoDB read cost of a year of 1m (local s3rver and dynalite) ...');
      const s3Read = await benchS3Read(server.url, NOW_MS, MINUTE_1, YEAR_2023, 525_600);

      log('side by side with DuckDB ...');
      execFileSync(process.execPath, [path.join(BENCH_DIR, '..', 'scripts', 'build.mjs')]); // the CLI in dist/, as `klines` runs
      const sideDir = path.join(tempRoot, 'side');
      await mkdir(sideDir, { recursive: true });
      const sideBySide = await benchSideBySide({
        cacheDir, tempDir: sideDir, upstreamUrl: server.url, nowMs: NOW_MS, dataset: MINUTE_1, year: YEAR_2023, month: JANUARY_2023, files: minutes,
      }, log);

      const results: BenchResults = {
        machine: machine(loadBefore),
        generation: { files: minutes.length + hours.length, rows: [...minutes, ...hours].reduce((n, f) => n + f.rows, 0), elapsedMs: generated.elapsedMs, zipBytes: january.zip.length, csvBytes: january.csvBytes },
        codecs, ingest, cold, coldHours, warmMonth, warmYearHours,
        rss: { baseline, cold: rssCold, warm: rssWarm, coldRequests, warmRequests },
        coldStart,
        s3Read,
        sideBySide,
        totalMs: performance.now() - startedMs,
      };
      const markdown = renderResults(results);
      await writeFile(path.join(BENCH_DIR, 'RESULTS.md'), markdown);
      process.stdout.write(markdown);
    } finally {
      await server.close();
    }
  } finally {
    await rm(tempRoot, { recursive: true, force: true });
  }
}

await main();
await writeVerifyResults(); // bench/VERIFY.md: verify on read against a warm read (issue 8)
