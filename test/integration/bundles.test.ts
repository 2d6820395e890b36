/**
 * The deployable zips themselves (scripts/bundle.mjs), unzipped as Lambda unzips them and run in
 * fresh `node` processes as new containers: the code a handler loads on first use (the Binance
 * sources, got, yauzl, hyparquet's general reader, and cron-refresh's whole service) sits in
 * chunks beside index.mjs (issue 9, cold starts), so these tests prove that those chunks ship
 * and load: a cold GET /klines fills from the fake Binance, a new container answers it warm with
 * no upstream request, GET /coverage and an inline cron-refresh answer from their zips. They also
 * check what each cold start loads (sizes.json `startInputs`): only what the function uses.
 * The bundles are built into a temporary folder (KLINES_BUNDLE_DIR), not dist/, which the infra
 * test rebuilds at the same time.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpApiEvent } from '../helpers/api-gateway.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NOW = '2020-12-15T10:30:00Z';
const t = (iso: string): number => Date.parse(iso);
const RUN_NAMES = ['http-get-klines', 'http-get-coverage', 'cron-refresh'] as const;

// A container: imports the unzipped index.mjs, calls `handler` once with the event (argv[2]) and
// a 30 s context, and prints the answer after a marker (Powertools logs go to stdout too).
const CONTAINER = [
  'const { handler } = await import(process.argv[1]);',
  'const deadline = Date.now() + 30_000;',
  "const context = { functionName: 'bundle-test', functionVersion: '$LATEST', awsRequestId: 'req-bundle', memoryLimitInMB: '1024', callbackWaitsForEmptyEventLoop: false, getRemainingTimeInMillis: () => deadline - Date.now() };",
  'const answer = await handler(JSON.parse(process.argv[2]), context);',
  "process.stdout.write('\\n@@answer ' + JSON.stringify(answer) + '\\n');",
].join('\n');

interface SizesRow { name: string; startInputs: string[] }

let scratch: string;
let fake: FakeBinance;
let sizes: SizesRow[];
let cacheDir: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'klines-bundles-'));
  const out = path.join(scratch, 'out');
  await run(process.execPath, [path.join(REPO_ROOT, 'scripts', 'bundle.mjs')], { cwd: REPO_ROOT, env: { ...process.env, KLINES_BUNDLE_DIR: out } });
  sizes = (JSON.parse(await readFile(path.join(out, 'sizes.json'), 'utf8')) as { functions: SizesRow[] }).functions;
  for (const name of RUN_NAMES) {
    for (const [file, bytes] of Object.entries(unzipSync(await readFile(path.join(out, `${name}.zip`))))) {
      const target = path.join(scratch, 'task', name, file);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, bytes);
    }
  }
  cacheDir = path.join(scratch, 'cache');
  fake = await startFakeBinance({ nowMs: t(NOW) });
}, 120_000);
afterAll(async () => {
  await fake?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});
beforeEach(() => fake.clearRequests());

/** Runs `name`'s unzipped handler once in a fresh process on the local cache; returns its answer. */
async function invokeZip(name: (typeof RUN_NAMES)[number], event: unknown, env: Record<string, string> = {}): Promise<any> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CONTAINER, pathToFileURL(path.join(scratch, 'task', name, 'index.mjs')).href, JSON.stringify(event)], {
    cwd: path.join(scratch, 'task', name),
    env: {
      PATH: process.env.PATH ?? '', HOME: scratch, KLINES_CACHE_DIR: cacheDir, KLINES_NOW: NOW,
      BINANCE_VISION_URL: fake.visionUrl, BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
      POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true', AWS_LAMBDA_FUNCTION_NAME: name, ...env,
    },
  });
  const line = stdout.split('\n').find((text) => text.startsWith('@@answer '));
  if (!line) throw new Error(`${name} printed no answer: ${stdout.slice(-2000)}`);
  return JSON.parse(line.slice('@@answer '.length));
}

const NOVEMBER = { symbol: 'BTCUSDT', interval: '1h', start: '2020-11-01T00:00:00Z', end: '2020-11-30T23:00:00Z' };

describe('the zips, unzipped and run as Lambda containers', () => {
  it('GET /klines fills cold from the fake Binance (loading its chunks), then a new container answers warm with no request', async () => {
    const expected = expectedKlines('spot', 'BTCUSDT', '1h', t('2020-11-01'), t('2020-11-30T23:00:00Z'));
    const cold = await invokeZip('http-get-klines', httpApiEvent('/klines', NOVEMBER));
    expect(cold.statusCode).toBe(200);
    expect(JSON.parse(cold.body)).toEqual(expected);
    expect(fake.requests.filter((r) => r.kind === 'vision-zip').length).toBeGreaterThan(0);

    fake.clearRequests();
    const warm = await invokeZip('http-get-klines', httpApiEvent('/klines', NOVEMBER));
    expect(warm.statusCode).toBe(200);
    expect(JSON.parse(warm.body)).toEqual(expected);
    expect(fake.requests).toEqual([]);

    const coverage = await invokeZip('http-get-coverage', httpApiEvent('/coverage', { symbol: 'BTCUSDT', interval: '1h' }));
    expect(coverage.statusCode).toBe(200);
    expect(JSON.parse(coverage.body)).toMatchObject({ datasetId: 'binance/spot/klines/BTCUSDT/1h', rows: expected.length });
  });

  it('GET /klines answers a funding-rate request through the chunks it imports for it (the funding service and answer)', async () => {
    const fundingNow = '2024-02-04T12:00:00Z';
    fake.setNow(t(fundingNow));
    try {
      const query = { market: 'um', symbol: 'BTCUSDT', data_type: 'fundingRate', start: '2023-12-01T00:00:00Z', end: '2024-01-31T23:59:59Z' };
      const answer = await invokeZip('http-get-klines', httpApiEvent('/klines', query), { KLINES_NOW: fundingNow });
      expect(answer.statusCode).toBe(200);
      const events = JSON.parse(answer.body) as { calc_time: number }[];
      // The fixtures' December and January files (SOURCES.md, "Synthetic series"): 93 events each.
      expect(events).toHaveLength(186);
      expect(events.every((e, i) => e.calc_time >= t('2023-12-01') && e.calc_time < t('2024-02-01') && (i === 0 || e.calc_time > events[i - 1]!.calc_time))).toBe(true);
      expect(fake.requests.filter((r) => r.kind === 'vision-zip' && r.status === 200).map((r) => r.path.split('/').pop()).sort())
        .toEqual(['BTCUSDT-fundingRate-2023-12.zip', 'BTCUSDT-fundingRate-2024-01.zip']);
    } finally {
      fake.setNow(t(NOW));
    }
  });

  it('cron-refresh without a queue builds the service from its chunk and refreshes inline', async () => {
    const watchlist = JSON.stringify([{ market: 'spot', symbol: 'BTCUSDT', interval: '1h', since: '2020-12-10' }]);
    const answer = await invokeZip('cron-refresh', { 'detail-type': 'Scheduled Event', source: 'aws.events', time: NOW, resources: [], detail: {} }, { KLINES_WATCHLIST: watchlist });
    const rows = expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-10'), t('2020-12-15T09:00:00Z'));
    expect(rows.length).toBeGreaterThan(0);
    expect(answer).toMatchObject({ mode: 'inline', datasets: 1, results: [{ rowsAppended: rows.length }] });
  });
});

describe('what a cold start loads (sizes.json startInputs)', () => {
  const startOf = (name: string): string[] => sizes.find((row) => row.name === name)!.startInputs;
  const FILL_ONLY = ['lib/sources/vision-client.ts', 'lib/sources/funding-sources.ts', 'lib/sources/vision-csv.ts', 'lib/sources/rest-client.ts', 'lib/sources/zip-member.ts', 'lib/sources/http-client.ts', 'node_modules/got/', 'node_modules/yauzl/', 'node_modules/hyparquet/src/read.js'];
  const FUNDING = ['lib/open-funding.ts', 'lib/service/funding-service.ts', 'lib/store/funding-cache.ts', 'lib/store/funding-codec.ts', 'functions/shared/funding-answer.ts'];
  const SERVICE = ['lib/service/klines-service.ts', 'lib/store/kline-cache.ts', 'lib/store/parquet-codec.ts', 'node_modules/hyparquet/'];

  it('the index-only handlers and the queueing cron load no service, cache or Parquet code', () => {
    for (const name of ['http-get-coverage', 'http-get-datasets', 'cron-refresh']) {
      const start = startOf(name);
      expect(start.length).toBeGreaterThan(10);
      for (const prefix of [...SERVICE, ...FILL_ONLY]) expect(start.filter((input) => input.startsWith(prefix)), `${name}: ${prefix}`).toEqual([]);
    }
  });

  it('the klines handlers load the read path at start and the fill path (sources, got, yauzl, hyparquet reader) on first use', () => {
    for (const name of ['http-get-klines', 'invoke-get-klines', 'sqs-refresh-dataset']) {
      const start = startOf(name);
      expect(start).toEqual(expect.arrayContaining(['lib/service/klines-service.ts', 'lib/store/parquet-fast-reader.ts']));
      for (const prefix of FILL_ONLY) expect(start.filter((input) => input.startsWith(prefix)), `${name}: ${prefix}`).toEqual([]);
      // Funding rates load with the first funding request.
      for (const prefix of FUNDING) expect(start.filter((input) => input.startsWith(prefix)), `${name}: ${prefix}`).toEqual([]);
    }
  });
});

describe('KLINES_BUNDLE_DIR (emptied before the build)', () => {
  // A copy of the script in a scratch "repository" (the script takes the folder above scripts/ as
  // the repository), so a check that breaks could only ever empty scratch folders.
  let outer: string;
  let repo: string;
  const markers = (): string[] => [path.join(repo, 'lib', 'marker.ts'), path.join(repo, '..lib', 'marker.ts')];
  beforeAll(async () => {
    outer = await mkdtemp(path.join(tmpdir(), 'klines-bundle-dir-'));
    repo = path.join(outer, 'repo');
    await mkdir(path.join(repo, 'scripts'), { recursive: true });
    await copyFile(path.join(REPO_ROOT, 'scripts', 'bundle.mjs'), path.join(repo, 'scripts', 'bundle.mjs'));
    await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(repo, 'node_modules'), 'dir');
    for (const marker of markers()) {
      await mkdir(path.dirname(marker), { recursive: true });
      await writeFile(marker, 'kept');
    }
  });
  afterAll(async () => {
    if (outer) await rm(outer, { recursive: true, force: true });
  });

  it.each([
    ['a folder inside the repository', () => path.join(repo, 'lib')],
    ['a folder inside it whose name starts with two dots', () => path.join(repo, '..lib')],
    ['the repository itself', () => repo],
    ['a folder holding the repository', () => outer],
    ['a relative path', () => 'out'],
  ])('refuses %s with exit 2 and leaves it alone', async (_label, dir) => {
    const failed = await run(process.execPath, [path.join(repo, 'scripts', 'bundle.mjs')], { cwd: repo, env: { ...process.env, KLINES_BUNDLE_DIR: dir() } }).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('KLINES_BUNDLE_DIR must be an absolute folder outside the repository');
    for (const marker of markers()) expect(await readFile(marker, 'utf8')).toBe('kept');
  });
});
