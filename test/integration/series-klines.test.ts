/**
 * Mark-price, index-price and premium-index klines (issue 10, item 5) end to end on the embedded
 * local default against the fake Binance, which serves them from the synthetic files of
 * test/fixtures/binance/synthetic (SOURCES.md, "Synthetic series"): a request is answered
 * exactly from the fake's files (Vision monthly + daily where published, REST for the rest),
 * lands under the series' own `{data_nature}` folder, and a rerun makes no upstream request.
 */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { createServiceFromConfig } from '../../lib/create-service.ts';
import { datasetOf, KLINE_COLUMNS, type Dataset, type Kline } from '../../lib/domain/kline.ts';
import type { KlinesService } from '../../lib/service/klines-service.ts';
import { startFakeWithCacheDir, type FakeBinance } from '../helpers/fake-binance.ts';
import { realDataDir } from '../helpers/real-data.ts';

const t = (iso: string): number => Date.parse(iso);
const NOW = '2024-02-04T12:00:00Z';
const MARK: Dataset = datasetOf('um', 'BTCUSDT', '1h', 'markPriceKlines');

let fake: FakeBinance;
let cacheDir: string;

function service(): KlinesService {
  fake.setNow(t(NOW));
  return createServiceFromConfig(loadConfig({
    KLINES_CACHE_DIR: cacheDir, KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl,
    BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
  }));
}

/**
 * The rows of the synthetic files of a series, read with nothing of the code under test: unzip,
 * drop the header line, split on commas, keep open_time in [startMs, endMs].
 */
function fixtureRows(series: string, files: readonly string[], startMs: number, endMs: number): Kline[] {
  const rows = new Map<number, Kline>();
  for (const file of files) {
    const kind = /\d{4}-\d{2}-\d{2}\.zip$/.test(file) ? 'daily' : 'monthly';
    const zip = readFileSync(join(realDataDir(), 'synthetic/vision/data/futures/um', kind, series, 'BTCUSDT/1h', file));
    for (const line of strFromU8(Object.values(unzipSync(zip))[0]!).split('\n')) {
      if (!/^\d/.test(line)) continue;
      const values = line.split(',').map(Number);
      const row = Object.fromEntries(KLINE_COLUMNS.map((name, i) => [name, values[i]!])) as unknown as Kline;
      if (row.open_time >= startMs && row.open_time <= endMs) rows.set(row.open_time, row);
    }
  }
  return [...rows.values()].sort((a, b) => a.open_time - b.open_time);
}

const withoutSource = (rows: readonly (Kline & { source: string })[]): Kline[] => rows.map(({ source: _source, ...row }) => row);
const upstream = () => fake.requests.filter((r) => r.kind !== 'other');
const describeData = () => fake.requests.filter((r) => r.status === 200 && (r.kind === 'vision-zip' || r.kind === 'rest'))
  .map((r) => (r.kind === 'rest' ? `${r.path} ${new URLSearchParams(r.query).toString()}` : r.path.split('/').pop() ?? ''));

beforeEach(async () => {
  let cleanup: () => Promise<void>;
  ({ fake, cacheDir, cleanup } = await startFakeWithCacheDir('klines-series-'));
  return cleanup;
});

describe('mark-price klines', () => {
  it('are answered exactly from the fake files (monthly, daily, REST), stored under markPriceKlines, and a rerun makes 0 requests', async () => {
    const startMs = t('2024-01-01T00:00:00Z');
    const lastMs = t('2024-02-04T11:00:00Z');
    const answer = await service().getKlines({ dataset: MARK, range: { startMs, endMs: lastMs + 1 } });
    const expected = fixtureRows('markPriceKlines', ['BTCUSDT-1h-2024-01.zip', ...[1, 2, 3, 4].map((d) => `BTCUSDT-1h-2024-02-0${d}.zip`)], startMs, lastMs);
    expect(expected).toHaveLength(31 * 24 + 3 * 24 + 12);
    expect(withoutSource(answer.rows)).toEqual(expected);
    // Published files whole; the unpublished day and a half from REST (symbol=, one page).
    const data = describeData();
    expect(data.filter((d) => d.endsWith('.zip'))).toEqual(['BTCUSDT-1h-2024-01.zip', 'BTCUSDT-1h-2024-02-01.zip', 'BTCUSDT-1h-2024-02-02.zip']);
    expect(data.filter((d) => d.startsWith('/fapi/v1/markPriceKlines') && d.includes(`startTime=${t('2024-02-03')}`))).toHaveLength(1);
    expect(fake.requests.every((r) => r.kind !== 'rest' || r.path === '/fapi/v1/markPriceKlines')).toBe(true);
    const folder = join(cacheDir, 'binance/um/markPriceKlines/monthly/BTCUSDT/1h');
    expect((await readdir(folder)).filter((name) => name.endsWith('.parquet'))).toContain('2024-01.parquet');

    fake.clearRequests();
    const again = await service().getKlines({ dataset: MARK, range: { startMs, endMs: lastMs + 1 } });
    expect(upstream()).toEqual([]);
    expect(withoutSource(again.rows)).toEqual(expected);
    expect(again.stats.rowsFromCache).toBe(expected.length);
  });

  it('keep klines of the same symbol apart: a klines request after a mark-price one does not read the mark-price cache', async () => {
    await service().getKlines({ dataset: MARK, range: { startMs: t('2024-02-01'), endMs: t('2024-02-02') } });
    const folders = await readdir(join(cacheDir, 'binance/um'));
    expect(folders).toEqual(['markPriceKlines']);
  });
});

describe('index-price and premium-index klines', () => {
  it('ask REST indexPriceKlines with pair= (not symbol=) and answer exactly', async () => {
    const dataset = datasetOf('um', 'BTCUSDT', '1h', 'indexPriceKlines');
    const startMs = t('2024-02-03T00:00:00Z');
    const answer = await service().getKlines({ dataset, range: { startMs, endMs: t('2024-02-04T00:00:00Z') }, source: 'rest' });
    expect(withoutSource(answer.rows)).toEqual(fixtureRows('indexPriceKlines', ['BTCUSDT-1h-2024-02-03.zip'], startMs, t('2024-02-03T23:00:00Z')));
    const rest = fake.requests.filter((r) => r.kind === 'rest' && r.path === '/fapi/v1/indexPriceKlines');
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.every((r) => r.query.pair === 'BTCUSDT' && r.query.symbol === undefined && r.status === 200)).toBe(true);
  });

  it('read premium-index daily files (negative values and all) exactly', async () => {
    const dataset = datasetOf('um', 'BTCUSDT', '1h', 'premiumIndexKlines');
    const startMs = t('2024-02-01T00:00:00Z');
    const answer = await service().getKlines({ dataset, range: { startMs, endMs: t('2024-02-03T00:00:00Z') } });
    const expected = fixtureRows('premiumIndexKlines', ['BTCUSDT-1h-2024-02-01.zip', 'BTCUSDT-1h-2024-02-02.zip'], startMs, t('2024-02-02T23:00:00Z'));
    expect(expected.some((row) => row.low < 0)).toBe(true);
    expect(withoutSource(answer.rows)).toEqual(expected);
    expect(describeData()).toEqual(['BTCUSDT-1h-2024-02-01.zip', 'BTCUSDT-1h-2024-02-02.zip']);
  });

  it('on cm ask /dapi/v1/indexPriceKlines with the pair of the symbol (BTCUSD_PERP → BTCUSD)', async () => {
    const dataset = datasetOf('cm', 'BTCUSD_PERP', '1h', 'indexPriceKlines');
    // The fake holds no cm series, so Binance's "Invalid symbol." comes back; the request is what is checked.
    await expect(service().getKlines({ dataset, range: { startMs: t('2024-02-03'), endMs: t('2024-02-04') }, source: 'rest' })).rejects.toMatchObject({ code: 'UNKNOWN_SYMBOL' });
    const rest = fake.requests.filter((r) => r.kind === 'rest');
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.every((r) => r.path === '/dapi/v1/indexPriceKlines' && r.query.pair === 'BTCUSD' && r.query.symbol === undefined)).toBe(true);
  });
});
