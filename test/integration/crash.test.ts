/**
 * Crash safety (issue 3, item 6): a worker killed at each step of filling the cache leaves at
 * worst unreferenced objects; the index never claims rows that are not stored, the next worker
 * answers exactly, and `validate` finds no problem. Run on S3 + DynamoDB and on local files.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { createCacheHandles, createServiceFromConfig } from '../../lib/create-service.ts';
import { validateCache } from '../../lib/service/integrity.ts';
import { prepareAwsBackend, prepareFsBackend, type PreparedBackend } from '../helpers/backends.ts';
import { expectedKlines, withoutSource } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { startLocalAws, type LocalAws } from '../helpers/local-aws.ts';

const run = promisify(execFile);
const WORKER = resolve(import.meta.dirname, '../helpers/crash-worker.ts');
const NOW = '2020-12-15T10:30:00Z';
const START = '2020-10-01T00:00:00Z';
// Two whole closed months: October's monthly file goes straight to its canonical object; November's
// is short (injected below), so it and its REST completion become parts that are then compacted.
// Every step a worker is killed at happens on one of the two paths.
const END = '2020-11-30T23:00:00Z';
const t = (iso: string): number => Date.parse(iso);

let fake: FakeBinance;
let aws: LocalAws;

beforeAll(async () => {
  [fake, aws] = await Promise.all([startFakeBinance({ nowMs: t(NOW) }), startLocalAws()]);
});
afterAll(async () => {
  await Promise.all([fake?.close(), aws?.close()]);
});

function baseEnv(backend: PreparedBackend): Record<string, string> {
  return {
    ...backend.env, KLINES_NOW: NOW, KLINES_LEASE_TTL_MS: '1500', BINANCE_VISION_URL: fake.visionUrl,
    BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
  };
}

/** Runs the crash worker; resolves with the signal that ended it (null when it exited). */
async function crashAt(step: string, env: Record<string, string>): Promise<{ signal: string | null; code: number | null }> {
  try {
    await run(process.execPath, ['--import', 'tsx', WORKER, step, 'spot', 'BTCUSDT', '1h', START, END], { env: { PATH: process.env.PATH, ...env } });
    return { signal: null, code: 0 };
  } catch (error) {
    const e = error as { signal: string | null; code: number | null };
    return { signal: e.signal, code: e.code };
  }
}

describe.each([
  { backend: 's3+dynamodb', prepare: () => prepareAwsBackend(aws), clients: () => ({ s3: aws.makeS3Client(), dynamodb: aws.makeDynamoClient() }) },
  { backend: 'local files', prepare: prepareFsBackend, clients: () => ({}) },
])('a worker killed mid-fill ($backend)', ({ prepare, clients }) => {
  it.each(['after-part-put', 'after-coverage-put', 'after-canonical-put', 'after-compaction-put', 'holding-lease'])('at %s leaves a cache the next worker completes exactly', async (step) => {
    const backend = await prepare();
    try {
      const env = baseEnv(backend);
      fake.inject('BTCUSDT-1h-2020-11.zip', { kind: 'truncate-rows', rows: 100 });
      expect(await crashAt(step, env)).toEqual({ signal: 'SIGKILL', code: null });

      const config = loadConfig(env);
      const handles = createCacheHandles(config, clients());
      const afterCrash = await validateCache(handles);
      expect(afterCrash.problems).toEqual([]); // the index claims nothing that is not stored

      const answer = await createServiceFromConfig(config, handles).getKlines({
        dataset: { market: 'spot', symbol: 'BTCUSDT', interval: '1h' }, range: { startMs: t(START), endMs: t(END) + 1 },
      });
      expect(withoutSource(answer.rows)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t(START), t(END)));
      if (step === 'holding-lease') expect(answer.stats.leaseWaits).toBeGreaterThan(0);

      // Compaction is opportunistic and needs the period's lease, which a killed worker may still
      // hold: once it has expired, the next request compacts the closed, covered periods.
      await new Promise((r) => setTimeout(r, 1600));
      const again = await createServiceFromConfig(config, handles).getKlines({
        dataset: { market: 'spot', symbol: 'BTCUSDT', interval: '1h' }, range: { startMs: t(START), endMs: t(END) + 1 },
      });
      expect(again.rows).toEqual(answer.rows.map((row) => ({ ...row, source: 'cache' })));

      const final = await validateCache(handles);
      expect(final.problems).toEqual([]);
      expect(final.records).toBe(2);
      const records = await handles.index.query('binance/spot/klines/BTCUSDT/1h', '2020-10', '2020-11');
      expect(records.map((r) => ({ period: r.period, parts: r.parts.length, compacted: r.canonical !== undefined }))).toEqual([
        { period: '2020-10', parts: 0, compacted: true },
        { period: '2020-11', parts: 0, compacted: true },
      ]);
    } finally {
      await backend.cleanup();
    }
  });
});
