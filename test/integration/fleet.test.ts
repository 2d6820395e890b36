/**
 * One cache for the whole fleet (issue 3, "Done when"): with the local S3 and DynamoDB servers and
 * the four variables set, `klines init` then `klines get` answer exactly as the local default,
 * objects land under the seed layout in the bucket, DynamoDB holds the coverage, and six
 * processes started together on overlapping ranges all answer exactly while the upstream serves
 * each needed file once. Issue 8, item 4: ten processes on overlapping ranges, round after round
 * on a fresh cache, on local files and on S3 + DynamoDB: no process fails and no row is wrong.
 * CI runs FLEET_ROUNDS_DEFAULT rounds; `KLINES_FLEET_ROUNDS=20 npx vitest run test/integration/fleet.test.ts`
 * runs the 20.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { createCacheHandles } from '../../lib/create-service.ts';
import { prepareAwsBackend, prepareFsBackend, type PreparedBackend } from '../helpers/backends.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { expectedBtc1hCsv, runKlines } from '../helpers/run-klines.ts';
import { startLocalAws, type LocalAws } from '../helpers/local-aws.ts';

const NOW = '2020-12-15T10:30:00Z';
const t = (iso: string): number => Date.parse(iso);

let fake: FakeBinance;
let aws: LocalAws;
const backends: PreparedBackend[] = [];

beforeAll(async () => {
  [fake, aws] = await Promise.all([startFakeBinance({ nowMs: t(NOW) }), startLocalAws()]);
});
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
  await Promise.all([fake?.close(), aws?.close()]);
});
beforeEach(() => fake.clearRequests());

const klines = (backend: PreparedBackend, args: string[]) => runKlines(fake, NOW, backend.env, args);

async function freshAws(): Promise<PreparedBackend> {
  const backend = await prepareAwsBackend(aws);
  backends.push(backend);
  return backend;
}

const expectedCsv = expectedBtc1hCsv;

/** Rounds of the ten-process race per backend: 2 in CI, the 20 with KLINES_FLEET_ROUNDS=20. */
const FLEET_ROUNDS_DEFAULT = 2;
const fleetRounds = Number(process.env.KLINES_FLEET_ROUNDS ?? FLEET_ROUNDS_DEFAULT);
/** Ten overlapping ranges over whole and partial months, closed and open (2020-12 is still open at NOW). */
const TEN_RANGES: [string, string][] = [
  ['2020-06-01', '2020-08-31T23:00:00Z'], ['2020-07-15', '2020-09-30T23:00:00Z'], ['2020-08-01', '2020-12-15T09:00:00Z'],
  ['2020-06-10', '2020-07-20T23:00:00Z'], ['2020-09-01', '2020-11-15T23:00:00Z'], ['2020-10-20', '2020-12-10T23:00:00Z'],
  ['2020-11-01', '2020-12-15T09:00:00Z'], ['2020-06-01', '2020-12-15T09:00:00Z'], ['2020-08-15', '2020-10-15T23:00:00Z'],
  ['2020-12-01', '2020-12-14T23:00:00Z'],
];

/** Runs `rounds` rounds of ten racing `klines get` on fresh caches; returns the failed runs and the wrong rows, over all rounds. */
async function raceRounds(prepare: () => Promise<PreparedBackend>, rounds: number): Promise<{ runs: number; failures: string[]; wrongRows: number }> {
  const failures: string[] = [];
  let wrongRows = 0;
  for (let round = 1; round <= rounds; round++) {
    const backend = await prepare();
    backends.push(backend);
    const answers = await Promise.all(TEN_RANGES.map(([start, end]) => klines(backend, ['get', 'BTCUSDT', '1h', '--start', start, '--end', end])));
    answers.forEach((answer, i) => {
      if (answer.code !== 0) failures.push(`round ${round}, worker ${i}: exit ${answer.code}: ${answer.stderr.trim()}`);
      const want = expectedCsv(...TEN_RANGES[i]!).split('\n');
      const got = answer.stdout.split('\n');
      for (let line = 0; line < Math.max(want.length, got.length); line++) if (want[line] !== got[line]) wrongRows++;
    });
  }
  return { runs: rounds * TEN_RANGES.length, failures, wrongRows };
}

describe(`ten processes on overlapping ranges, ${fleetRounds} round(s) per backend (KLINES_FLEET_ROUNDS)`, () => {
  it.each([
    { name: 'local files', prepare: () => prepareFsBackend() },
    { name: 'S3 + DynamoDB', prepare: () => prepareAwsBackend(aws) },
  ])('$name: 0 failures, 0 wrong rows', async ({ prepare }) => {
    const result = await raceRounds(prepare, fleetRounds);
    expect(result.failures).toEqual([]);
    expect(result.wrongRows).toBe(0);
    expect(result.runs).toBe(fleetRounds * 10);
  }, 60_000 + fleetRounds * 120_000);
});

describe('S3 + DynamoDB', () => {
  it('klines init creates the bucket and table once, and says so', async () => {
    const backend = await freshAws();
    const env = { ...backend.env, KLINES_STORE: `s3://klines-init-${process.pid}/cache`, KLINES_INDEX: `dynamodb://klines-init-${process.pid}` };
    const first = await klines({ ...backend, env }, ['init']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`bucket s3://klines-init-${process.pid}: created`);
    expect(first.stdout).toContain(`table klines-init-${process.pid}: created`);
    const second = await klines({ ...backend, env }, ['init']);
    expect(second.stdout).toContain('already exists');
    expect(second.stdout).not.toContain('created');
  });

  it('klines get answers exactly as the local default, with objects in the seed layout and coverage in DynamoDB', async () => {
    const backend = await freshAws();
    const local = await prepareFsBackend();
    backends.push(local);
    const args = ['get', 'BTCUSDT', '1h', '--start', '2020-10-01', '--end', '2020-12-15T09:00:00Z'];
    const onAws = await klines(backend, args);
    const onFs = await klines(local, args);
    expect(onAws.code).toBe(0);
    expect(onAws.stdout).toBe(expectedCsv('2020-10-01', '2020-12-15T09:00:00Z'));
    expect(onAws.stdout).toBe(onFs.stdout);

    const bucket = /^s3:\/\/([^/]+)\//.exec(backend.env.KLINES_STORE!)![1]!;
    const listed = await aws.makeS3Client().listObjects(bucket, 'cache/', 1000);
    const keys = listed.objects.map((o) => o.key);
    expect(keys).toEqual(expect.arrayContaining([
      'cache/binance/spot/klines/monthly/BTCUSDT/1h/2020-10.parquet',
      'cache/binance/spot/klines/monthly/BTCUSDT/1h/2020-11.parquet',
    ]));
    expect(keys.filter((k) => k.startsWith('cache/binance/spot/klines/monthly/BTCUSDT/1h/2020-12.parts/')).length).toBeGreaterThan(0);

    const handles = createCacheHandles(loadConfig(backend.env), { s3: aws.makeS3Client(), dynamodb: aws.makeDynamoClient() });
    const records = await handles.index.query('binance/spot/klines/BTCUSDT/1h', '2020-10', '2020-12');
    expect(records.map((r) => r.period)).toEqual(['2020-10', '2020-11', '2020-12']);
    expect(records[0]!.covered).toEqual([{ startMs: t('2020-10-01'), endMs: t('2020-11-01') }]);
    expect(records[2]!.covered).toEqual([{ startMs: t('2020-12-01'), endMs: t('2020-12-15T10:00:00Z') }]);
  });

  it('six processes started together on overlapping ranges all answer exactly; each file is served once', async () => {
    const backend = await freshAws();
    const ranges: [string, string][] = [
      ['2020-08-01', '2020-10-31T23:00:00Z'], ['2020-09-15', '2020-11-30T23:00:00Z'], ['2020-10-01', '2020-12-15T09:00:00Z'],
      ['2020-08-10', '2020-12-10T23:00:00Z'], ['2020-11-01', '2020-12-15T09:00:00Z'], ['2020-08-01', '2020-12-15T09:00:00Z'],
    ];
    const answers = await Promise.all(ranges.map(([start, end]) => klines(backend, ['get', 'BTCUSDT', '1h', '--start', start, '--end', end])));
    answers.forEach((answer, i) => {
      expect(answer.code, answer.stderr).toBe(0);
      expect(answer.stdout).toBe(expectedCsv(...ranges[i]!));
    });
    const served = fake.requests.filter((r) => r.status === 200 && r.kind !== 'vision-checksum');
    const perPath = new Map<string, number>();
    for (const r of served) {
      const key = r.kind === 'rest' ? `${r.path}?${new URLSearchParams(r.query)}` : r.path;
      perPath.set(key, (perPath.get(key) ?? 0) + 1);
    }
    expect([...perPath.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(served.filter((r) => r.kind === 'rest')).toHaveLength(1);

    fake.clearRequests();
    const union = await klines(backend, ['get', 'BTCUSDT', '1h', '--start', '2020-08-01', '--end', '2020-12-15T09:00:00Z']);
    expect(fake.requests).toEqual([]);
    expect(union.stdout).toBe(expectedCsv('2020-08-01', '2020-12-15T09:00:00Z'));
  }, 300_000); // seven CLI processes on a shared 2-core machine: a generous bound, not a speed check
});
