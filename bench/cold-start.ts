/**
 * Cold-start import time of each Lambda bundle (issue 4, "Bundles"): what a function's init
 * phase spends loading `dist/functions/<name>/index.mjs` and running its top level (config,
 * clients, middy), measured in a fresh `node` process per run, as a new Lambda container does.
 * The bundles are rebuilt first with scripts/bundle.mjs. No handler is invoked; the clients are
 * configured for a closed port on 127.0.0.1. A bare `node -e 0` runs after each bundle run
 * (interleaved, so both see the same machine load), and each child then makes one request to the
 * closed port with Node's fetch, the client every AWS call goes through (lib/store/aws-http.ts):
 * its time is what the first S3/DynamoDB request of a new container adds (loading Node's HTTP
 * stack), which an import alone does not show.
 * Run alone: `npm run bench:cold-start` (prints the table; writes nothing).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { percentile } from './measure.ts';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FUNCTIONS_DIR = path.join(REPO_ROOT, 'dist', 'functions');

/** One function's figures. Times in ms (performance.now in the child, around `import()`). */
export interface ColdStartRow {
  readonly name: string;
  /** index.mjs and every chunk: the code the zip ships (the budget applies to it). */
  readonly codeBytes: number;
  /** index.mjs and the chunks it imports statically: the code a cold start loads. */
  readonly startBytes: number;
  readonly budgetBytes: number;
  readonly runs: number;
  readonly importMedianMs: number;
  readonly importMinMs: number;
  readonly importMaxMs: number;
  /** Median import time with `--enable-source-maps`, as deployed (serverless.yml NODE_OPTIONS). */
  readonly sourceMapsImportMedianMs: number;
  /** Median wall time of the whole child process (node start, import, exit), for scale. */
  readonly processMedianMs: number;
  /** Median wall time of a bare `node -e 0`, run interleaved with the bundle's runs. */
  readonly bareProcessMedianMs: number;
  /** Median time of the first fetch after the import (to a closed loopback port): the HTTP stack's load. */
  readonly firstRequestMedianMs: number;
}

// Runs in the child: the URL of the bundle is the first argument.
const CHILD_SCRIPT = [
  'const t0 = performance.now(); await import(process.argv[1]); const importMs = performance.now() - t0;',
  "const t1 = performance.now(); await fetch('http://127.0.0.1:9/').catch(() => undefined); const firstRequestMs = performance.now() - t1;",
  'process.stdout.write(JSON.stringify({ importMs, firstRequestMs })); process.exit(0);',
].join(' ');

// What the deployed functions find in their environment (serverless.yml), pointed at a closed
// loopback port so that nothing could leave the machine even if a top level made a request.
export const CHILD_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
  AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
  AWS_EC2_METADATA_DISABLED: 'true',
  KLINES_STORE: 's3://bench-bucket/cache',
  KLINES_INDEX: 'dynamodb://bench-table',
  KLINES_RESULTS: 's3://bench-bucket/results',
  KLINES_REFRESH_QUEUE_URL: 'http://127.0.0.1:9/000000000000/bench-refresh',
  KLINES_WATCHLIST_S3: 's3://bench-bucket/config/watchlist.json',
  POWERTOOLS_SERVICE_NAME: 'klines-cache',
  POWERTOOLS_METRICS_NAMESPACE: 'KlinesCacheBench',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
};

interface SizesFile {
  readonly budgetBytes: number;
  readonly functions: readonly { name: string; bundleBytes: number; chunkBytes: number; startBytes: number }[];
}

interface Sample { importMs: number; firstRequestMs: number; processMs: number }

async function measureOnce(bundle: string, sourceMaps: boolean): Promise<Sample> {
  const args = [...(sourceMaps ? ['--enable-source-maps'] : []), '--input-type=module', '-e', CHILD_SCRIPT, pathToFileURL(bundle).href];
  const startedMs = performance.now();
  const { stdout } = await run(process.execPath, args, { env: CHILD_ENV, cwd: path.dirname(bundle) });
  const processMs = performance.now() - startedMs;
  const { importMs, firstRequestMs } = JSON.parse(stdout) as { importMs: number; firstRequestMs: number };
  // The whole-process time is what a plain import costs: the timed fetch after it is taken out.
  return { importMs, firstRequestMs, processMs: processMs - firstRequestMs };
}

async function measureBare(): Promise<number> {
  const startedMs = performance.now();
  await run(process.execPath, ['-e', '0'], { env: CHILD_ENV });
  return performance.now() - startedMs;
}

/**
 * Rebuilds the bundles (scripts/bundle.mjs; a bundle over budget is still measured) and imports
 * each one `runs` times (default 5) in fresh processes, one at a time, without and then with
 * source maps. Throws when a bundle cannot be built or imported.
 */
export async function benchColdStart(runs = 5): Promise<ColdStartRow[]> {
  await run(process.execPath, [path.join(REPO_ROOT, 'scripts', 'bundle.mjs')], { cwd: REPO_ROOT }).catch((error: { stdout?: string; stderr?: string }) => {
    // Over budget exits 1 after writing everything; any other failure leaves no sizes.json.
    if (!String(error.stderr).includes('over the')) throw error;
  });
  const sizes = JSON.parse(await readFile(path.join(FUNCTIONS_DIR, 'sizes.json'), 'utf8')) as SizesFile;
  const rows: ColdStartRow[] = [];
  for (const { name, bundleBytes, chunkBytes, startBytes } of sizes.functions) {
    const bundle = path.join(FUNCTIONS_DIR, name, 'index.mjs');
    await measureOnce(bundle, false); // warms the OS file cache, as a container's disk would be
    const plain: Sample[] = [];
    const bare: number[] = [];
    const mapped: number[] = [];
    for (let i = 0; i < runs; i++) {
      plain.push(await measureOnce(bundle, false));
      bare.push(await measureBare());
    }
    for (let i = 0; i < runs; i++) mapped.push((await measureOnce(bundle, true)).importMs);
    const imports = plain.map((sample) => sample.importMs);
    rows.push({
      name, codeBytes: bundleBytes + chunkBytes, startBytes, budgetBytes: sizes.budgetBytes, runs,
      importMedianMs: percentile(imports, 50), importMinMs: Math.min(...imports), importMaxMs: Math.max(...imports),
      sourceMapsImportMedianMs: percentile(mapped, 50),
      processMedianMs: percentile(plain.map((sample) => sample.processMs), 50),
      bareProcessMedianMs: percentile(bare, 50),
      firstRequestMedianMs: percentile(plain.map((sample) => sample.firstRequestMs), 50),
    });
  }
  return rows;
}

/** Prints one line per function: sizes, import, whole process against bare node, first request. */
export function formatColdStart(rows: readonly ColdStartRow[]): string {
  const ms = (value: number): string => `${value.toFixed(0)} ms`;
  return rows.map((row) => [
    row.name.padEnd(20), `at start ${(row.startBytes / 1000).toFixed(0)} kB`, `import ${ms(row.importMedianMs)}`,
    `process ${ms(row.processMedianMs)} / bare node ${ms(row.bareProcessMedianMs)} = ${(row.processMedianMs / row.bareProcessMedianMs).toFixed(2)}x`,
    `first request +${ms(row.firstRequestMedianMs)}`, `source maps: import ${ms(row.sourceMapsImportMedianMs)}`,
  ].join('  ')).join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runs = Number(process.env.COLD_START_RUNS ?? 9);
  console.log(formatColdStart(await benchColdStart(runs)));
}
