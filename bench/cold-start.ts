/**
 * Cold-start import time of each Lambda bundle (issue 4, "Bundles"): what a function's init
 * phase spends loading `dist/functions/<name>/index.mjs` and running its top level (config,
 * clients, middy), measured in a fresh `node` process per run, as a new Lambda container does.
 * The bundles are rebuilt first with scripts/bundle.mjs. Nothing is contacted: the clients are
 * configured for 127.0.0.1 and no handler is invoked.
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
  /** Size of index.mjs in bytes (the 1 MB budget applies to it). */
  readonly bundleBytes: number;
  readonly budgetBytes: number;
  readonly runs: number;
  readonly importMedianMs: number;
  readonly importMinMs: number;
  readonly importMaxMs: number;
  /** Median import time with `--enable-source-maps`, as deployed (serverless.yml NODE_OPTIONS). */
  readonly sourceMapsImportMedianMs: number;
  /** Median wall time of the whole child process (node start, import, exit), for scale. */
  readonly processMedianMs: number;
}

// Runs in the child: the URL of the bundle is the first argument.
const CHILD_SCRIPT = 'const t0 = performance.now(); await import(process.argv[1]); process.stdout.write(JSON.stringify({ importMs: performance.now() - t0 }));';

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
  readonly functions: readonly { name: string; bundleBytes: number }[];
}

async function measureOnce(bundle: string, sourceMaps: boolean): Promise<{ importMs: number; processMs: number }> {
  const args = [...(sourceMaps ? ['--enable-source-maps'] : []), '--input-type=module', '-e', CHILD_SCRIPT, pathToFileURL(bundle).href];
  const startedMs = performance.now();
  const { stdout } = await run(process.execPath, args, { env: CHILD_ENV, cwd: path.dirname(bundle) });
  const processMs = performance.now() - startedMs;
  const { importMs } = JSON.parse(stdout) as { importMs: number };
  return { importMs, processMs };
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
  for (const { name, bundleBytes } of sizes.functions) {
    const bundle = path.join(FUNCTIONS_DIR, name, 'index.mjs');
    await measureOnce(bundle, false); // warms the OS file cache, as a container's disk would be
    const plain: { importMs: number; processMs: number }[] = [];
    const mapped: number[] = [];
    for (let i = 0; i < runs; i++) plain.push(await measureOnce(bundle, false));
    for (let i = 0; i < runs; i++) mapped.push((await measureOnce(bundle, true)).importMs);
    const imports = plain.map((sample) => sample.importMs);
    rows.push({
      name, bundleBytes, budgetBytes: sizes.budgetBytes, runs,
      importMedianMs: percentile(imports, 50), importMinMs: Math.min(...imports), importMaxMs: Math.max(...imports),
      sourceMapsImportMedianMs: percentile(mapped, 50),
      processMedianMs: percentile(plain.map((sample) => sample.processMs), 50),
    });
  }
  return rows;
}
