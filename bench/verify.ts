/**
 * Cost of verify on read (issue 8, item 3: at most 5% of warm-read time). A month of generated
 * 1m (44,640 rows, one compacted Parquet file) is filled through the service, then read warm;
 * the verification a read adds is the CRC-32 of each object it reads (lib/store/object-verify.ts),
 * timed on the same bytes, with sha256 (what `klines validate` checks) beside it for comparison.
 * Writes bench/VERIFY.md. Run alone with `node --import tsx bench/verify.ts`, or from bench/run.ts.
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dataset } from '../lib/domain/kline.ts';
import { canonicalKey, periodOf } from '../lib/domain/periods.ts';
import { sha256Hex } from '../lib/domain/sha256.ts';
import { crc32Of } from '../lib/store/object-verify.ts';
import { createBenchService } from './bench-service.ts';
import { generateVisionMonth } from './generate.ts';
import { formatMs, percentile, settle } from './measure.ts';
import { benchWarmRead } from './read.ts';
import { startBenchVisionServer } from './vision-server.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const MINUTE_1: Dataset = { market: 'spot', symbol: 'VERIFYUSDT', interval: '1m' };
const JANUARY_2023 = { startMs: Date.UTC(2023, 0, 1), endMs: Date.UTC(2023, 1, 1) };
const NOW_MS = Date.UTC(2024, 5, 1);
const RUNS = 30;
/** The budget: verification costs at most this share of a warm read. */
export const VERIFY_BUDGET = 0.05;

/** What bench/verify.ts measured (ms, medians of RUNS). */
export interface VerifyResult {
  readonly rows: number;
  readonly objectBytes: number;
  readonly warmReadMedianMs: number;
  readonly crc32MedianMs: number;
  readonly sha256MedianMs: number;
  readonly runs: number;
}

/** Median time of `runs` calls of `body` after 3 untimed ones. */
function medianMs(body: () => unknown, runs: number): number {
  for (let i = 0; i < 3; i++) body();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const startedMs = performance.now();
    body();
    samples.push(performance.now() - startedMs);
  }
  return percentile(samples, 50);
}

/** Fills a month of 1m in a fresh cache under `workDir` and measures the warm read and the hashes. */
export async function benchVerify(workDir: string): Promise<VerifyResult> {
  const file = await generateVisionMonth(MINUTE_1, JANUARY_2023.startMs);
  const server = await startBenchVisionServer([file]);
  try {
    const service = createBenchService(workDir, server.url, NOW_MS);
    await service.getKlines({ dataset: MINUTE_1, range: JANUARY_2023 }); // cold: fetched and compacted
    const warm = await benchWarmRead(service, MINUTE_1, JANUARY_2023, file.rows, server.total, RUNS);
    const body = await readFile(path.join(workDir, ...canonicalKey(MINUTE_1, periodOf(JANUARY_2023.startMs, 'monthly')).split('/')));
    await settle();
    return {
      rows: file.rows, objectBytes: body.byteLength, warmReadMedianMs: warm.medianMs, runs: RUNS,
      crc32MedianMs: medianMs(() => crc32Of(body), RUNS), sha256MedianMs: medianMs(() => sha256Hex(body), RUNS),
    };
  } finally {
    await server.close();
  }
}

/** The markdown of bench/VERIFY.md. */
export function renderVerify(r: VerifyResult, date: string): string {
  const share = (ms: number): string => `${((100 * ms) / r.warmReadMedianMs).toFixed(1)} %`;
  const crcShare = r.crc32MedianMs / r.warmReadMedianMs;
  return `# Verify on read: cost (bench/verify.ts)

Measured on ${date}, Node ${process.version}, ${os.availableParallelism()} cores (load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}).
Generated data (bench/generate.ts): one month of 1m, ${r.rows.toLocaleString('en-US')} rows, one compacted Parquet file of ${(r.objectBytes / 1e6).toFixed(2)} MB.

| figure | median of ${r.runs} | share of a warm read |
|---|---|---|
| warm read (\`getKlines\`, verification included) | ${formatMs(r.warmReadMedianMs)} | 100 % |
| CRC-32 of the object (what a read verifies) | ${formatMs(r.crc32MedianMs)} | ${share(r.crc32MedianMs)} (budget ${VERIFY_BUDGET * 100} %: **${crcShare <= VERIFY_BUDGET ? 'pass' : 'FAIL'}**) |
| sha256 of the object (what \`klines validate\` checks) | ${formatMs(r.sha256MedianMs)} | ${share(r.sha256MedianMs)} |

A read verifies each object's size and CRC-32 against its index record before decoding it; refs
written before the CRC-32 was kept fall back to sha256.
`;
}

/** Runs the bench in a temp folder and writes bench/VERIFY.md; returns the figures. */
export async function writeVerifyResults(): Promise<VerifyResult> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'klines-bench-verify-'));
  try {
    const result = await benchVerify(workDir);
    const markdown = renderVerify(result, new Date().toISOString());
    await writeFile(path.join(BENCH_DIR, 'VERIFY.md'), markdown);
    process.stdout.write(markdown);
    return result;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await writeVerifyResults();
