/**
 * Whole-file planning and listing dates (issue 8, items 1 and 2) end to end on the embedded local
 * default, against the fake Binance serving the real files: a published Vision file touching a
 * gap is fetched whole, once; gaps before a dataset's first candle, or after a delisted one's
 * last, cost no upstream request once the bounds are known.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { createCacheHandles, createServiceFromConfig } from '../../lib/create-service.ts';
import type { Dataset } from '../../lib/domain/kline.ts';
import type { KlinesService } from '../../lib/service/klines-service.ts';
import type { SourceMode } from '../../lib/service/plan.ts';
import { expectedKlines, withoutSource } from '../helpers/expected.ts';
import { startFakeWithCacheDir, type FakeBinance } from '../helpers/fake-binance.ts';

const t = (iso: string): number => Date.parse(iso);
const BTC_1H: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1h' };
const ETH_UM_1H: Dataset = { market: 'um', symbol: 'ETHUSDT', interval: '1h' };

let fake: FakeBinance;
let cacheDir: string;

const envAt = (nowIso: string): Record<string, string> => ({
  KLINES_CACHE_DIR: cacheDir, KLINES_NOW: nowIso, BINANCE_VISION_URL: fake.visionUrl,
  BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
});

function serviceAt(nowIso: string): KlinesService {
  fake.setNow(t(nowIso));
  return createServiceFromConfig(loadConfig(envAt(nowIso)));
}

async function get(service: KlinesService, dataset: Dataset, startIso: string, endInclusiveIso: string, source: SourceMode = 'auto') {
  return service.getKlines({ dataset, range: { startMs: t(startIso), endMs: t(endInclusiveIso) + 1 }, source });
}

/** Requests that carry data: zips and REST pages (`.CHECKSUM` sidecars and 404s listed apart). */
const dataRequests = () => fake.requests.filter((r) => r.status === 200 && (r.kind === 'vision-zip' || r.kind === 'rest'));
const describeRequest = (r: FakeBinance['requests'][number]): string =>
  (r.kind === 'rest' ? `rest ${new URLSearchParams(r.query).toString()}` : `${r.kind} ${r.status} ${r.path.split('/').pop()}`);

beforeEach(async () => {
  let cleanup: () => Promise<void>;
  ({ fake, cacheDir, cleanup } = await startFakeWithCacheDir('klines-whole-'));
  return cleanup;
});

describe('whole Vision files', () => {
  it('BTCUSDT 1h 2019-03-15..20 costs one data request, the whole March file; the rest of March then costs none', async () => {
    const service = serviceAt('2020-12-15T10:30:00Z');
    const answer = await get(service, BTC_1H, '2019-03-15T00:00:00Z', '2019-03-20T00:00:00Z');
    expect(withoutSource(answer.rows)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2019-03-15'), t('2019-03-20')));
    expect(dataRequests().map(describeRequest)).toEqual(['vision-zip 200 BTCUSDT-1h-2019-03.zip']);
    const [record] = await createCacheHandles(loadConfig(envAt('2020-12-15T10:30:00Z'))).index.query('binance/spot/klines/BTCUSDT/1h', '2019-03', '2019-03');
    expect(record).toMatchObject({ covered: [{ startMs: t('2019-03-01'), endMs: t('2019-04-01') }], parts: [], canonical: { rows: expectedKlines('spot', 'BTCUSDT', '1h', t('2019-03-01'), t('2019-04-01') - 1).length } });

    fake.clearRequests();
    const rest = await get(service, BTC_1H, '2019-03-01T00:00:00Z', '2019-03-31T23:00:00Z');
    expect(fake.requests).toEqual([]);
    expect(withoutSource(rest.rows)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2019-03-01'), t('2019-03-31T23:00:00Z')));
  });

  it('--source vision twice within one day downloads the day file once, and each answer holds only its range', async () => {
    const service = serviceAt('2020-12-15T10:30:00Z');
    const morning = await get(service, BTC_1H, '2020-12-05T02:00:00Z', '2020-12-05T05:00:00Z', 'vision');
    const evening = await get(service, BTC_1H, '2020-12-05T18:00:00Z', '2020-12-05T20:00:00Z', 'vision');
    expect(withoutSource(morning.rows)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-05T02:00:00Z'), t('2020-12-05T05:00:00Z')));
    expect(withoutSource(evening.rows)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2020-12-05T18:00:00Z'), t('2020-12-05T20:00:00Z')));
    expect(evening.rows.every((row) => row.source === 'cache')).toBe(true);
    expect(dataRequests().map(describeRequest)).toEqual(['vision-zip 200 BTCUSDT-1h-2020-12-05.zip']);
  });
});

describe('listing dates', () => {
  it('2014-01-01..2017-09-01 BTCUSDT 1h: at most 3 data requests, exact rows from the first candle on, then none', async () => {
    const service = serviceAt('2020-12-15T10:30:00Z');
    const cold = await get(service, BTC_1H, '2014-01-01T00:00:00Z', '2017-09-01T00:00:00Z');
    expect(withoutSource(cold.rows)).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', t('2014-01-01'), t('2017-09-01')));
    expect(cold.rows[0]!.open_time).toBe(t('2017-08-17T04:00:00Z'));
    expect(cold.stats.dataStartMs).toBe(t('2017-08-17T04:00:00Z'));
    expect(fake.requests.filter((r) => r.status === 404)).toEqual([]);
    expect(dataRequests().map(describeRequest)).toEqual([
      `rest symbol=BTCUSDT&interval=1h&startTime=0&endTime=${t('2020-12-15T10:30:00Z')}&limit=1`,
      'vision-zip 200 BTCUSDT-1h-2017-08.zip',
      'vision-zip 200 BTCUSDT-1h-2017-09.zip',
    ]);

    fake.clearRequests();
    const warm = await get(service, BTC_1H, '2014-01-01T00:00:00Z', '2017-09-01T00:00:00Z');
    expect(fake.requests).toEqual([]);
    expect(warm.stats.dataStartMs).toBe(t('2017-08-17T04:00:00Z'));
    expect(withoutSource(warm.rows)).toEqual(withoutSource(cold.rows));
  });

  it('a symbol listed after the range starts: the first 404 looks the listing up, and months before it are not fetched', async () => {
    const service = serviceAt('2022-11-01T00:00:00Z');
    const answer = await get(service, ETH_UM_1H, '2022-06-01T00:00:00Z', '2022-08-25T23:00:00Z');
    expect(withoutSource(answer.rows)).toEqual(expectedKlines('um', 'ETHUSDT', '1h', t('2022-06-01'), t('2022-08-25T23:00:00Z')));
    expect(answer.rows).toHaveLength(48);
    expect(answer.stats.dataStartMs).toBe(t('2022-08-24T00:00:00Z'));
    // Three monthly 404s (one .CHECKSUM request each), the two lookups, and the two real days.
    expect(fake.requests.filter((r) => r.status === 404)).toHaveLength(3);
    expect(dataRequests().map(describeRequest).sort()).toEqual([
      `rest symbol=ETHUSDT&interval=1h&endTime=${t('2022-11-01')}&limit=1`,
      `rest symbol=ETHUSDT&interval=1h&startTime=0&endTime=${t('2022-11-01')}&limit=1`,
      'vision-zip 200 ETHUSDT-1h-2022-08-24.zip',
      'vision-zip 200 ETHUSDT-1h-2022-08-25.zip',
    ]);
  });

  it('a delisted dataset: no request for the months after its last candle, and one REST check per later clock', async () => {
    await get(serviceAt('2022-11-01T00:00:00Z'), ETH_UM_1H, '2022-08-24T00:00:00Z', '2022-09-10T23:00:00Z');
    fake.clearRequests();
    const after = await get(serviceAt('2022-11-01T00:00:00Z'), ETH_UM_1H, '2022-09-01T00:00:00Z', '2022-10-31T23:00:00Z');
    expect(after.rows).toEqual([]);
    expect(after.stats.dataEndMs).toBe(t('2022-08-25T23:00:00Z'));
    expect(fake.requests).toEqual([]);

    const later = await get(serviceAt('2022-12-05T00:00:00Z'), ETH_UM_1H, '2022-11-01T00:00:00Z', '2022-12-04T23:00:00Z');
    expect(later.rows).toEqual([]);
    expect(fake.requests.map(describeRequest)).toEqual([`rest symbol=ETHUSDT&interval=1h&endTime=${t('2022-12-05')}&limit=1`]);
  });
});
