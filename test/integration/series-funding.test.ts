/**
 * The funding rate (issue 10, item 5) end to end on the embedded local default against the fake
 * Binance and its synthetic funding files (SOURCES.md, "Synthetic series"): published months
 * from Vision, the month under way from REST (events up to now only, paged), answered exactly
 * from the fake's files; a rerun makes no upstream request.
 */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { fundingColumnsFromRows, fundingRowsFromColumns, type FundingDataset, type FundingRow } from '../../lib/domain/funding-rate.ts';
import { periodsInRange } from '../../lib/domain/periods.ts';
import { createCacheHandles } from '../../lib/create-service.ts';
import { buildFundingService } from '../../lib/open-funding.ts';
import { createFundingSources } from '../../lib/sources/funding-sources.ts';
import { validateCache } from '../../lib/service/integrity.ts';
import { createUpstreamStats } from '../../lib/sources/types.ts';
import { createFundingCache } from '../../lib/store/funding-cache.ts';
import { encodeFundingColumns } from '../../lib/store/funding-codec.ts';
import { describeObject } from '../../lib/store/cache-pieces.ts';
import { startFakeWithCacheDir, type FakeBinance } from '../helpers/fake-binance.ts';
import { realDataDir } from '../helpers/real-data.ts';

const t = (iso: string): number => Date.parse(iso);
const NOW = '2024-02-04T12:00:00Z';
const BTC: FundingDataset = { market: 'um', symbol: 'BTCUSDT' };
const SYNTHETIC = join(realDataDir(), 'synthetic');

let fake: FakeBinance;
let cacheDir: string;

function service() {
  fake.setNow(t(NOW));
  const config = loadConfig({
    KLINES_CACHE_DIR: cacheDir, KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl,
    BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
  });
  return buildFundingService(config, createCacheHandles(config));
}

/** The fixture's Vision rows of a month, read with nothing of the code under test (mark_price NaN: Vision has none). */
function visionRows(month: string): FundingRow[] {
  const zip = readFileSync(join(SYNTHETIC, 'vision/data/futures/um/monthly/fundingRate/BTCUSDT', `BTCUSDT-fundingRate-${month}.zip`));
  return strFromU8(Object.values(unzipSync(zip))[0]!).split('\n').filter((line) => /^\d/.test(line)).map((line) => {
    const [time, hours, rate] = line.split(',').map(Number);
    return { calc_time: time!, funding_interval_hours: hours!, last_funding_rate: rate!, mark_price: Number.NaN };
  });
}

/** The fixture's REST events in [startMs, endMs] (funding_interval_hours NaN: REST has none). */
function restRows(startMs: number, endMs: number): FundingRow[] {
  const events = JSON.parse(readFileSync(join(SYNTHETIC, 'rest/fapi-v1-fundingRate-BTCUSDT.json'), 'utf8')) as { fundingTime: number; fundingRate: string; markPrice: string }[];
  return events.filter((e) => e.fundingTime >= startMs && e.fundingTime <= endMs)
    .map((e) => ({ calc_time: e.fundingTime, funding_interval_hours: Number.NaN, last_funding_rate: Number(e.fundingRate), mark_price: Number(e.markPrice) }));
}

beforeEach(async () => {
  let cleanup: () => Promise<void>;
  ({ fake, cacheDir, cleanup } = await startFakeWithCacheDir('klines-funding-'));
  return cleanup;
});

describe('funding rate', () => {
  it('is answered exactly from the fake files (Vision months, REST up to now), compacted by month, and a rerun makes 0 requests', async () => {
    const range = { startMs: t('2023-12-01T00:00:00Z'), endMs: t('2024-03-01T00:00:00Z') };
    const answer = await service().getFundingRates({ dataset: BTC, range });
    const expected = [...visionRows('2023-12'), ...visionRows('2024-01'), ...restRows(t('2024-02-01'), t(NOW))];
    expect(expected).toHaveLength(93 + 93 + 11);
    expect(fundingRowsFromColumns(answer.columns)).toEqual(expected);
    const data = fake.requests.filter((r) => r.status === 200 && (r.kind === 'vision-zip' || r.kind === 'rest'));
    expect(data.map((r) => r.path.split('/').pop()).sort()).toEqual(['BTCUSDT-fundingRate-2023-12.zip', 'BTCUSDT-fundingRate-2024-01.zip', 'fundingRate']);
    expect(data.find((r) => r.kind === 'rest')!.query).toEqual({ symbol: 'BTCUSDT', startTime: String(t('2024-02-01')), endTime: String(t(NOW)), limit: '1000' });
    // The two months that are over are whole files; February (under way) stays parts.
    expect((await readdir(join(cacheDir, 'binance/um/fundingRate/monthly/BTCUSDT'))).sort()).toEqual(['2023-12.parquet', '2024-01.parquet', '2024-02.parts']);

    fake.clearRequests();
    const again = await service().getFundingRates({ dataset: BTC, range });
    expect(fake.requests).toEqual([]);
    expect(fundingRowsFromColumns(again.columns)).toEqual(expected);
    expect(again.stats.rowsFromCache).toBe(expected.length);
  });

  it('later asks REST only for events after what is covered', async () => {
    await service().getFundingRates({ dataset: BTC, range: { startMs: t('2024-02-01'), endMs: t('2024-02-03') } });
    fake.clearRequests();
    const answer = await service().getFundingRates({ dataset: BTC, range: { startMs: t('2024-02-01'), endMs: t('2024-02-05') } });
    expect(fundingRowsFromColumns(answer.columns)).toEqual(restRows(t('2024-02-01'), t(NOW)));
    expect(fake.requests.map((r) => [r.path, r.query.startTime])).toEqual([['/fapi/v1/fundingRate', String(t('2024-02-03'))]]);
  });

  it('fillOnly (sync, refresh, repair) fetches only the gaps, reads no cached object back, and counts only the events it fetched', async () => {
    await service().getFundingRates({ dataset: BTC, range: { startMs: t('2024-02-01'), endMs: t('2024-02-03') } });
    fake.setNow(t(NOW));
    const config = loadConfig({
      KLINES_CACHE_DIR: cacheDir, KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl,
      BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
    });
    const handles = createCacheHandles(config);
    const gets: string[] = [];
    const counting = { ...handles, store: { ...handles.store, get: (key: string) => (gets.push(key), handles.store.get(key)) } };
    fake.clearRequests();
    const filled = await buildFundingService(config, counting).getFundingRates({ dataset: BTC, range: { startMs: t('2024-02-01'), endMs: t('2024-02-05') }, fillOnly: true });
    expect(gets).toEqual([]);
    expect(fake.requests.map((r) => [r.path, r.query.startTime])).toEqual([['/fapi/v1/fundingRate', String(t('2024-02-03'))]]);
    expect(filled.stats.rowsFetched).toBe(restRows(t('2024-02-03'), t(NOW)).length);
    // What it stored answers the whole range afterwards, exactly.
    expect(fundingRowsFromColumns((await service().getFundingRates({ dataset: BTC, range: { startMs: t('2024-02-01'), endMs: t('2024-02-05') } })).columns)).toEqual(restRows(t('2024-02-01'), t(NOW)));
  });

  it('pages REST by the last fundingTime + 1 until a short page', async () => {
    fake.setNow(t(NOW));
    const sources = createFundingSources({ visionUrl: fake.visionUrl, umUrl: fake.umApiUrl, cmUrl: fake.cmApiUrl, pageLimit: 10 });
    const stats = createUpstreamStats();
    const columns = await sources.fetchRange(BTC, { startMs: t('2024-01-01'), endMs: t('2024-02-01') }, t(NOW), stats);
    expect(fundingRowsFromColumns(columns)).toEqual(restRows(t('2024-01-01'), t('2024-02-01') - 1));
    const pages = fake.requests.filter((r) => r.kind === 'rest');
    expect(pages).toHaveLength(10); // 93 events: nine full pages of 10, then 3
    // The tenth event of a page from Jan 1 00:00 (three a day) is Jan 4 00:00.
    expect(pages[1]!.query.startTime).toBe(String(t('2024-01-04T00:00:00Z') + 1));
    expect(stats.restRequests).toBe(10);
  });

  it('does not serve a month whose file is not published yet from Vision: REST answers it, events up to now only', async () => {
    fake.setNow(t('2024-02-01T12:00:00Z'));
    const config = loadConfig({ KLINES_CACHE_DIR: cacheDir, KLINES_NOW: '2024-02-01T12:00:00Z', BINANCE_VISION_URL: fake.visionUrl, BINANCE_UM_API_URL: fake.umApiUrl });
    const answer = await buildFundingService(config, createCacheHandles(config)).getFundingRates({ dataset: BTC, range: { startMs: t('2024-01-31'), endMs: t('2024-02-02') } });
    expect(fundingRowsFromColumns(answer.columns)).toEqual(restRows(t('2024-01-31'), t('2024-02-01T12:00:00Z')));
    expect(fake.requests.some((r) => r.kind === 'vision-zip')).toBe(false);
  });

  it('falls back to REST when a month\'s file is missing (404) and compacts the month once it is over and whole', async () => {
    await service().getFundingRates({ dataset: BTC, range: { startMs: t('2024-02-01'), endMs: t('2024-02-03') } });
    const later = '2024-03-10T00:00:00Z';
    fake.setNow(t(later));
    fake.clearRequests();
    const config = loadConfig({ KLINES_CACHE_DIR: cacheDir, KLINES_NOW: later, BINANCE_VISION_URL: fake.visionUrl, BINANCE_UM_API_URL: fake.umApiUrl });
    const handles = createCacheHandles(config);
    const answer = await buildFundingService(config, handles).getFundingRates({ dataset: BTC, range: { startMs: t('2024-02-01'), endMs: t('2024-03-01') } });
    expect(fundingRowsFromColumns(answer.columns)).toEqual(restRows(t('2024-02-01'), t('2024-03-01') - 1));
    expect(fake.requests.filter((r) => r.kind === 'vision-checksum').map((r) => r.status)).toEqual([404]);
    expect(fake.requests.filter((r) => r.kind === 'rest').map((r) => r.query.startTime)).toEqual([String(t('2024-02-03'))]);
    const [record] = await handles.index.query('binance/um/fundingRate/BTCUSDT', '2024-02', '2024-02');
    expect(record!.parts).toEqual([]);
    expect(record!.canonical?.key).toBe('binance/um/fundingRate/monthly/BTCUSDT/2024-02.parquet');
    expect(record!.canonical?.rows).toBe(87);
  });

  it('passes klines validate: no problem, no orphan; a damaged month is reported by key', async () => {
    await service().getFundingRates({ dataset: BTC, range: { startMs: t('2024-01-01'), endMs: t(NOW) + 1 } });
    const handles = createCacheHandles(loadConfig({ KLINES_CACHE_DIR: cacheDir }));
    const clean = await validateCache(handles);
    expect(clean.problems).toEqual([]);
    expect(clean.orphans).toEqual([]);
    expect(clean.records).toBe(2);
    const key = 'binance/um/fundingRate/monthly/BTCUSDT/2024-01.parquet';
    const body = (await handles.store.get(key))!;
    await handles.store.put(key, body.subarray(0, body.length - 1));
    const damaged = await validateCache(handles, { datasetId: 'binance/um/fundingRate/BTCUSDT' });
    expect(damaged.problems.map((p) => [p.key, p.kind])).toEqual([[key, 'checksum']]);
  });

  it('never serves a damaged or missing month: it is dropped from the cache and fetched again, and the answer is exact', async () => {
    const range = { startMs: t('2023-12-01T00:00:00Z'), endMs: t('2024-02-01T00:00:00Z') };
    const expected = [...visionRows('2023-12'), ...visionRows('2024-01')];
    await service().getFundingRates({ dataset: BTC, range });
    const handles = createCacheHandles(loadConfig({ KLINES_CACHE_DIR: cacheDir }));
    const january = 'binance/um/fundingRate/monthly/BTCUSDT/2024-01.parquet';
    const december = 'binance/um/fundingRate/monthly/BTCUSDT/2023-12.parquet';
    const body = (await handles.store.get(january))!;
    await handles.store.put(january, body.subarray(0, body.length - 1)); // cut short: fails its size and CRC-32
    await handles.store.delete(december); // lost
    fake.clearRequests();

    const answer = await service().getFundingRates({ dataset: BTC, range });
    expect(fundingRowsFromColumns(answer.columns)).toEqual(expected);
    // Both months came again from their Vision files, and the cache holds good copies.
    expect(fake.requests.filter((r) => r.kind === 'vision-zip').map((r) => r.path.split('/').pop()).sort()).toEqual(['BTCUSDT-fundingRate-2023-12.zip', 'BTCUSDT-fundingRate-2024-01.zip']);
    expect((await validateCache(handles, { datasetId: 'binance/um/fundingRate/BTCUSDT' })).problems).toEqual([]);
    // Counted like the klines' (klines stats: corruptObjects); both months were found bad.
    expect((await handles.stats.read()).get('binance/um/fundingRate/BTCUSDT')?.corruptObjects).toBe(2);
    fake.clearRequests();
    expect(fundingRowsFromColumns((await service().getFundingRates({ dataset: BTC, range })).columns)).toEqual(expected);
    expect(fake.requests).toEqual([]);
  });

  it('heals two damaged months of one request, one found at once (a part) and one after waiting for a compaction (its canonical file)', async () => {
    const range = { startMs: t('2024-01-01T00:00:00Z'), endMs: t('2024-03-01T00:00:00Z') };
    await service().getFundingRates({ dataset: BTC, range });
    const handles = createCacheHandles(loadConfig({ KLINES_CACHE_DIR: cacheDir }));
    const january = 'binance/um/fundingRate/monthly/BTCUSDT/2024-01.parquet';
    const [part] = await readdir(join(cacheDir, 'binance/um/fundingRate/monthly/BTCUSDT/2024-02.parts'));
    const februaryPart = `binance/um/fundingRate/monthly/BTCUSDT/2024-02.parts/${part}`;
    for (const key of [january, februaryPart]) {
      const body = (await handles.store.get(key))!;
      await handles.store.put(key, body.subarray(1));
    }
    // February's bad part drops its month at once; January's bad canonical file is waited on (a
    // compaction may be about to commit it) before it is dropped: the answer again must not start
    // while the first attempt is still dropping January.
    const answer = await service().getFundingRates({ dataset: BTC, range });
    expect(fundingRowsFromColumns(answer.columns)).toEqual([...visionRows('2024-01'), ...restRows(t('2024-02-01'), t(NOW))]);
    expect((await validateCache(handles, { datasetId: 'binance/um/fundingRate/BTCUSDT' })).problems).toEqual([]);
  });

  it('leaves a month with a damaged part uncompacted, and the next read of it drops and fetches it again', async () => {
    // February is under way: REST answers [Feb 1, now] as a part; at a later clock the month is over.
    const february = { startMs: t('2024-02-01T00:00:00Z'), endMs: t('2024-03-01T00:00:00Z') };
    await service().getFundingRates({ dataset: BTC, range: february });
    const handles = createCacheHandles(loadConfig({ KLINES_CACHE_DIR: cacheDir }));
    const partsDir = 'binance/um/fundingRate/monthly/BTCUSDT/2024-02.parts';
    const [part] = await readdir(join(cacheDir, partsDir));
    const key = `${partsDir}/${part}`;
    const body = (await handles.store.get(key))!;
    await handles.store.put(key, body.subarray(1));
    // Months later the rest of February is appended, then the month compacted: compaction meets
    // the damaged part and leaves the month as it is (it does not hang or fail the request) ...
    const later = '2024-04-10T00:00:00Z';
    fake.setNow(t(later));
    const laterConfig = loadConfig({
      KLINES_CACHE_DIR: cacheDir, KLINES_NOW: later, BINANCE_VISION_URL: fake.visionUrl,
      BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
    });
    const laterService = buildFundingService(laterConfig, createCacheHandles(laterConfig));
    const rest = await laterService.getFundingRates({ dataset: BTC, range: { startMs: t(NOW) + 1, endMs: february.endMs } });
    expect(rest.columns.length).toBeGreaterThan(0);
    expect((await readdir(join(cacheDir, 'binance/um/fundingRate/monthly/BTCUSDT'))).sort()).toContain('2024-02.parts');
    // ... and the next read of February drops it and answers it exactly from Binance.
    fake.clearRequests();
    const whole = await laterService.getFundingRates({ dataset: BTC, range: february });
    // The fixtures have no Vision file for 2024-02, so REST answers the whole month again.
    expect(fake.requests.filter((r) => r.kind === 'rest' && r.status === 200).map((r) => r.query.startTime)).toEqual([String(february.startMs)]);
    expect(fundingRowsFromColumns(whole.columns)).toEqual(restRows(february.startMs, february.endMs - 1));
    expect(whole.columns.length).toBeGreaterThan(rest.columns.length);
    expect((await validateCache(handles, { datasetId: 'binance/um/fundingRate/BTCUSDT' })).problems).toEqual([]);
  });

  it('compaction never overwrites the canonical file of a compactor that commits meanwhile (another process)', async () => {
    const handles = createCacheHandles(loadConfig({ KLINES_CACHE_DIR: cacheDir }));
    const id = 'binance/um/fundingRate/BTCUSDT';
    const key = 'binance/um/fundingRate/monthly/BTCUSDT/2023-12.parquet';
    const december = periodsInRange({ startMs: t('2023-12-01'), endMs: t('2024-01-01') }, 'monthly');
    const rows = visionRows('2023-12');
    const theirs = encodeFundingColumns(fundingColumnsFromRows(rows));
    // The other process writes its canonical file and commits its record just as this compactor
    // looks at the canonical key: before this compactor has read the record.
    let interleaved = false;
    const store = {
      ...handles.store,
      async getTagged(objectKey: string) {
        if (objectKey === key && !interleaved) {
          interleaved = true;
          const record = (await handles.index.query(id, '2023-12', '2023-12'))[0]!;
          await handles.store.put(key, theirs);
          await handles.index.put({ ...record, parts: [], canonical: describeObject(key, theirs, fundingColumnsFromRows(rows).calc_time, rows.length, ['rest']), version: record.version + 1 });
        }
        return handles.store.getTagged(objectKey);
      },
    };
    const cache = createFundingCache({ store, index: handles.index });
    // The month as two parts, fully covered and over: ready to compact.
    const half = Math.floor(rows.length / 2);
    await cache.append(BTC, fundingColumnsFromRows(rows.slice(0, half)), [{ startMs: t('2023-12-01'), endMs: rows[half]!.calc_time }], ['rest']);
    await cache.append(BTC, fundingColumnsFromRows(rows.slice(half, -1)), [{ startMs: rows[half]!.calc_time, endMs: t('2024-01-01') }], ['rest']);

    await cache.compact(BTC, december, t(NOW));
    expect(interleaved).toBe(true);
    // Their file stays, and it is the one the record names: the month verifies and reads whole.
    expect(Buffer.from((await handles.store.get(key))!)).toEqual(Buffer.from(theirs));
    expect((await validateCache(handles, { datasetId: id })).problems).toEqual([]);
    expect(fundingRowsFromColumns(await cache.readColumns(BTC, await cache.readCoverage(BTC, december[0]!.range), december[0]!.range))).toEqual(rows);
  });

  it('a whole month over a crashed writer\'s leftover file (one the index does not name) replaces it as the canonical file, no part', async () => {
    const handles = createCacheHandles(loadConfig({ KLINES_CACHE_DIR: cacheDir }));
    const key = 'binance/um/fundingRate/monthly/BTCUSDT/2023-12.parquet';
    const december = periodsInRange({ startMs: t('2023-12-01'), endMs: t('2024-01-01') }, 'monthly');
    const rows = visionRows('2023-12');
    await handles.store.put(key, new TextEncoder().encode('a killed writer got this far'));
    const cache = createFundingCache({ store: handles.store, index: handles.index });
    await cache.append(BTC, fundingColumnsFromRows(rows), [december[0]!.range], ['vision']);
    const [record] = await cache.readCoverage(BTC, december[0]!.range);
    expect(record).toMatchObject({ parts: [], canonical: { key, rows: rows.length }, covered: [december[0]!.range] });
    expect(fundingRowsFromColumns(await cache.readColumns(BTC, [record!], december[0]!.range))).toEqual(rows);
    expect((await validateCache(handles, { datasetId: 'binance/um/fundingRate/BTCUSDT' })).problems).toEqual([]);
  });
});
