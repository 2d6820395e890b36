/**
 * Who asks first no longer decides the plan (issue 8, item 1): six `klines get` processes started
 * together on overlapping ranges of BTCUSDT 1h 2019 (12 published monthly files), round after
 * round on a fresh cache, fetch each monthly file once and make at most 14 data requests a round,
 * and every answer is exact. On local files, and on S3 + DynamoDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareAwsBackend, prepareFsBackend, type PreparedBackend } from '../helpers/backends.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { startLocalAws, type LocalAws } from '../helpers/local-aws.ts';
import { expectedBtc1hCsv, runKlines } from '../helpers/run-klines.ts';

const NOW = '2020-12-15T10:30:00Z';
const RANGES: [string, string][] = [
  ['2019-01-01', '2019-12-31T23:00:00Z'], ['2019-03-15', '2019-03-20T00:00:00Z'], ['2019-02-10', '2019-07-05T12:00:00Z'],
  ['2019-06-01', '2019-09-30T23:00:00Z'], ['2019-08-15', '2019-12-15T00:00:00Z'], ['2019-11-20T06:00:00Z', '2019-12-31T23:00:00Z'],
];
const MONTHS = Array.from({ length: 12 }, (_, i) => `BTCUSDT-1h-2019-${String(i + 1).padStart(2, '0')}.zip`);

let fake: FakeBinance;
let aws: LocalAws;

beforeAll(async () => {
  [fake, aws] = await Promise.all([startFakeBinance({ nowMs: Date.parse(NOW) }), startLocalAws()]);
});
afterAll(async () => {
  await Promise.all([fake?.close(), aws?.close()]);
});

// Few rounds keep CI quick (a round is 6 processes); KLINES_RACE_ROUNDS=10 runs more, and prints
// each round's data requests.
const ROUNDS = Number(process.env.KLINES_RACE_ROUNDS ?? '0');

describe.each([
  { backend: 'local files', rounds: ROUNDS || 2, prepare: () => prepareFsBackend() },
  { backend: 's3+dynamodb', rounds: ROUNDS || 1, prepare: () => prepareAwsBackend(aws) },
])('six racing workers on BTCUSDT 1h 2019 ($backend)', ({ rounds, prepare }) => {
  it(`fetch each monthly file once, at most 14 data requests a round, every answer exact (${rounds} rounds)`, { timeout: 120_000 * (ROUNDS || 2) }, async () => {
    for (let round = 1; round <= rounds; round++) {
      const backend: PreparedBackend = await prepare();
      try {
        fake.clearRequests();
        const answers = await Promise.all(RANGES.map(([start, end]) => runKlines(fake, NOW, backend.env, ['get', 'BTCUSDT', '1h', '--start', start, '--end', end])));
        answers.forEach((answer, i) => {
          expect(answer.code, answer.stderr).toBe(0);
          expect(answer.stdout).toBe(expectedBtc1hCsv(...RANGES[i]!));
        });
        const data = fake.requests.filter((r) => r.kind === 'vision-zip' || r.kind === 'rest');
        if (ROUNDS) console.info(`round ${round}: ${data.length} data requests`);
        expect(data.length, `round ${round}: ${data.map((r) => `${r.status} ${r.path.split('/').pop()} ${new URLSearchParams(r.query)}`).join(', ')}`).toBeLessThanOrEqual(14);
        expect(data.filter((r) => r.kind === 'vision-zip').map((r) => r.path.split('/').pop()).sort(), `round ${round}`).toEqual(MONTHS);
      } finally {
        await backend.cleanup();
      }
    }
  });
});
