/**
 * Verify on read, clean-up and self-conflicts (issue 8, items 3, 4 and 5), end to end on local
 * files and on S3 + DynamoDB (s3rver, dynalite), with the fake Binance serving the real files:
 * - a compacted file with flipped bytes, or a missing part, is never served: the next answer is
 *   exact (the period is fetched again), the error is counted and logged with the key, and
 *   `validate` is clean afterwards;
 * - a failed delete of superseded parts never fails the request (the parts stay as orphans);
 * - one process appending to the same periods from many concurrent fetches never fails on its
 *   own index writes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runStats } from '../../cli/stats.ts';
import { loadConfig } from '../../lib/config.ts';
import { StoreError } from '../../lib/domain/errors.ts';
import { columnsFromRows } from '../../lib/domain/kline-columns.ts';
import type { Dataset, Kline } from '../../lib/domain/kline.ts';
import { canonicalKey, periodOf } from '../../lib/domain/periods.ts';
import { createCacheHandles, createServiceFromConfig, type CacheHandles } from '../../lib/create-service.ts';
import { validateCache } from '../../lib/service/integrity.ts';
import { createKlineCache } from '../../lib/store/kline-cache.ts';
import { prepareAwsBackend, prepareFsBackend, type PreparedBackend } from '../helpers/backends.ts';
import { expectedKlines, withoutSource } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { startLocalAws, type LocalAws } from '../helpers/local-aws.ts';

const NOW = '2020-12-15T10:30:00Z';
const t = (iso: string): number => Date.parse(iso);
const dataset: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1h' };
const ID = 'binance/spot/klines/BTCUSDT/1h';
const OCT = periodOf(t('2020-10-01'), 'monthly');
const RANGE = { startMs: t('2020-10-01'), endMs: t('2020-12-01') }; // two closed months: compacted
const expected = (): Kline[] => expectedKlines('spot', 'BTCUSDT', '1h', RANGE.startMs, RANGE.endMs - 1);

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
afterEach(() => {
  vi.restoreAllMocks();
  fake.clearRequests();
});

describe.each([
  { backend: 'local files', prepare: () => prepareFsBackend(), clients: () => ({}) },
  { backend: 's3+dynamodb', prepare: () => prepareAwsBackend(aws), clients: () => ({ s3: aws.makeS3Client(), dynamodb: aws.makeDynamoClient() }) },
])('on $backend', ({ prepare, clients }) => {
  async function freshCache(): Promise<{ handles: CacheHandles; service: ReturnType<typeof createServiceFromConfig>; config: ReturnType<typeof loadConfig> }> {
    const backend = await prepare();
    backends.push(backend);
    const config = loadConfig({
      ...backend.env, KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl, BINANCE_SPOT_API_URL: fake.spotApiUrl,
      BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
    });
    const handles = createCacheHandles(config, clients());
    return { handles, service: createServiceFromConfig(config, handles), config };
  }
  const stderrLines = (): string[] => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    return lines;
  };

  it('never serves a compacted file with flipped bytes: the answer is exact, the error counted and logged, validate clean', async () => {
    const { handles, service } = await freshCache();
    const first = await service.getKlines({ dataset, range: RANGE });
    expect(withoutSource(first.rows)).toEqual(expected());
    const key = canonicalKey(dataset, OCT);
    const body = (await handles.store.get(key))!;
    const flipped = body.slice();
    const at = Math.floor(flipped.byteLength * 0.4);
    for (let i = 0; i < 4; i++) flipped[at + i * 97] = flipped[at + i * 97]! ^ 0xff;
    await handles.store.put(key, flipped);
    expect((await validateCache(handles)).problems.map((p) => [p.key, p.kind])).toEqual([[key, 'checksum']]);
    fake.clearRequests();

    const lines = stderrLines();
    const again = await service.getKlines({ dataset, range: RANGE });
    vi.restoreAllMocks();
    expect(withoutSource(again.rows)).toEqual(expected());
    // Only the bad month was fetched again; November came from the cache.
    expect(fake.requests.filter((r) => r.kind === 'vision-zip').map((r) => r.path)).toEqual([
      '/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-10.zip',
    ]);
    expect(again.rows.filter((row) => row.source === 'cache')).toHaveLength(expected().filter((row) => row.open_time >= t('2020-11-01')).length);
    const logged = lines.filter((line) => line.includes('failed verification')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toEqual([expect.objectContaining({ level: 'WARN', key, datasetId: ID, period: '2020-10', dropped: true })]);

    expect((await handles.stats.read()).get(ID)).toMatchObject({ corruptObjects: 1, errors: 0 });
    let statsText = '';
    await runStats({ ...handles, stdout: { write: (s: string) => (statsText += s) }, stderr: { write: () => true } });
    expect(statsText).toContain('integrity: 1 objects failed verification on read');
    const report = await validateCache(handles);
    expect(report.problems).toEqual([]);
    expect(report.orphans).toEqual([]);
    const third = await service.getKlines({ dataset, range: RANGE });
    expect(third.stats.rowsFromCache).toBe(expected().length);
  });

  it('never serves a period whose part is missing: it is fetched again and the answer is exact', async () => {
    const { handles, service } = await freshCache();
    const partRange = { startMs: t('2020-12-01'), endMs: t('2020-12-10') }; // open month: stays as parts
    await service.getKlines({ dataset, range: partRange });
    const [record] = await handles.index.query(ID, '2020-12', '2020-12');
    await handles.store.delete(record!.parts[0]!.key);
    fake.clearRequests();
    const again = await service.getKlines({ dataset, range: partRange });
    expect(withoutSource(again.rows)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', partRange.startMs, partRange.endMs - 1));
    expect(fake.requests.filter((r) => r.status === 200 && r.kind !== 'vision-checksum').length).toBeGreaterThan(0);
    expect((await handles.stats.read()).get(ID)?.corruptObjects).toBe(1);
    expect((await validateCache(handles)).problems).toEqual([]);
  });

  it('answers exactly when deleting superseded parts fails; the parts are orphans, the failures counted', async () => {
    const { handles, config, service } = await freshCache();
    // A few hours of each month from REST first: the months' Vision files then land beside those
    // parts (not straight in the canonical key), so compaction has parts to supersede.
    for (const month of ['2020-10', '2020-11']) {
      await service.getKlines({ dataset, range: { startMs: t(`${month}-10`), endMs: t(`${month}-10T06:00:00Z`) }, source: 'rest' });
    }
    const failingDeletes = { ...handles, store: { ...handles.store, delete: async (key: string) => { throw new StoreError(`InternalError: could not delete ${key}`); } } };
    const lines = stderrLines();
    const answer = await createServiceFromConfig(config, failingDeletes).getKlines({ dataset, range: RANGE });
    vi.restoreAllMocks();
    expect(withoutSource(answer.rows)).toEqual(expected());
    const records = await handles.index.query(ID, '2020-10', '2020-11');
    expect(records.map((r) => ({ parts: r.parts.length, compacted: r.canonical !== undefined }))).toEqual([{ parts: 0, compacted: true }, { parts: 0, compacted: true }]);
    const report = await validateCache(handles);
    expect(report.problems).toEqual([]);
    expect(report.orphans.map((o) => o.key).every((key) => key.includes('.parts/'))).toBe(true);
    expect(report.orphans.length).toBeGreaterThan(0);
    const failures = (await handles.stats.read()).get(ID)!.cleanupFailures;
    expect(failures).toBe(report.orphans.length);
    expect(lines.filter((line) => line.includes('could not delete a superseded object'))).toHaveLength(failures);
  });

  it('one process appending 150 pieces to 3 periods at once never fails on its own index writes', async () => {
    const { handles } = await freshCache();
    const cache = createKlineCache({ store: handles.store, index: handles.index });
    const rows = expectedKlines('spot', 'BTCUSDT', '1h', t('2020-07-01'), t('2020-09-30T23:00:00Z')).filter((_, i) => i % 10 === 0).slice(0, 150);
    const results = await Promise.allSettled(rows.map((row) =>
      cache.appendColumns(dataset, columnsFromRows([row]), [{ startMs: row.open_time, endMs: row.open_time + 3_600_000 }], ['rest'])));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const span = { startMs: rows[0]!.open_time, endMs: rows.at(-1)!.open_time + 3_600_000 };
    const records = await cache.readCoverage(dataset, span);
    expect(records.reduce((n, r) => n + r.parts.length, 0)).toBe(150);
    expect(await cache.readRows(dataset, records, span)).toEqual(rows);
  }, 120_000);
});
