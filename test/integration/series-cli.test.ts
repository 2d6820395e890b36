/**
 * The issue-10 must-show for the other series, through the built `klines` command against the
 * fake Binance (synthetic series files, SOURCES.md "Synthetic series"): a mark-price and a
 * funding-rate `get` each print exactly the fake's rows and a rerun makes 0 upstream requests;
 * `ls --json` lists both datasets; spot refuses the futures-only series by name.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { beforeEach, describe, expect, it } from 'vitest';
import { startFakeWithCacheDir, type FakeBinance } from '../helpers/fake-binance.ts';
import { realDataDir } from '../helpers/real-data.ts';
import { runKlines } from '../helpers/run-klines.ts';

const NOW = '2024-02-04T12:00:00Z';
const SYNTHETIC = join(realDataDir(), 'synthetic');
let fake: FakeBinance;
let cacheDir: string;

const klines = (args: string[]) => {
  fake.setNow(Date.parse(NOW));
  return runKlines(fake, NOW, { KLINES_CACHE_DIR: cacheDir }, args);
};

/** The data lines of a synthetic zip, as published (no header). */
function lines(relative: string): string[] {
  return strFromU8(Object.values(unzipSync(readFileSync(join(SYNTHETIC, 'vision/data/futures/um', relative))))[0]!).split('\n').filter((line) => /^\d/.test(line));
}

/** A CSV line as `klines get` prints it: each field the number it holds (so `0.10000000` prints `0.1`). */
const asNumbers = (line: string, keep = 11): string => line.split(',').slice(0, keep).map((field) => String(Number(field))).join(',');

beforeEach(async () => {
  let cleanup: () => Promise<void>;
  ({ fake, cacheDir, cleanup } = await startFakeWithCacheDir('klines-series-cli-'));
  return cleanup;
});

describe('klines get --data-type', () => {
  it('markPriceKlines prints the fake files exactly, and a rerun makes 0 upstream requests', async () => {
    const args = ['get', 'BTCUSDT', '1h', '--market', 'um', '--data-type', 'markPriceKlines', '--start', '2024-01-31', '--end', '2024-02-04T11:00:00Z'];
    const first = await klines(args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const expected = [...lines('monthly/markPriceKlines/BTCUSDT/1h/BTCUSDT-1h-2024-01.zip').slice(-24), ...[1, 2, 3, 4].flatMap((d) => lines(`daily/markPriceKlines/BTCUSDT/1h/BTCUSDT-1h-2024-02-0${d}.zip`))]
      .filter((line) => Number(line.split(',')[0]) <= Date.parse('2024-02-04T11:00:00Z'));
    const printed = first.stdout.trim().split('\n');
    expect(printed[0]).toBe('open_time,open,high,low,close,volume,close_time,quote_volume,trades,taker_buy_volume,taker_buy_quote_volume');
    expect(printed.slice(1)).toEqual(expected.map((line) => asNumbers(line)));
    fake.clearRequests();
    const again = await klines(args);
    expect(again.stdout).toBe(first.stdout);
    expect(fake.requests).toEqual([]);
  });

  it('fundingRate prints the Vision months and the REST events up to now exactly, and a rerun makes 0 upstream requests', async () => {
    const args = ['get', 'BTCUSDT', '--market', 'um', '--data-type', 'fundingRate', '--start', '2024-01-01', '--end', NOW];
    const first = await klines(args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const rest = (JSON.parse(readFileSync(join(SYNTHETIC, 'rest/fapi-v1-fundingRate-BTCUSDT.json'), 'utf8')) as { fundingTime: number; fundingRate: string; markPrice: string }[])
      .filter((e) => e.fundingTime >= Date.parse('2024-02-01') && e.fundingTime <= Date.parse(NOW))
      .map((e) => `${e.fundingTime},,${Number(e.fundingRate)},${Number(e.markPrice)}`);
    const vision = lines('monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-01.zip').map((line) => `${asNumbers(line, 3)},`);
    expect(first.stdout).toBe(`${['calc_time,funding_interval_hours,last_funding_rate,mark_price', ...vision, ...rest].join('\n')}\n`);
    fake.clearRequests();
    const again = await klines(args);
    expect(again.stdout).toBe(first.stdout);
    expect(fake.requests).toEqual([]);

    const listing = JSON.parse((await klines(['ls', '--json'])).stdout) as { datasetId: string; dataType: string; first: string; last: string; rows: number }[];
    expect(listing.map((d) => [d.datasetId, d.dataType, d.first, d.last, d.rows])).toEqual([
      ['binance/um/fundingRate/BTCUSDT', 'fundingRate', '2024-01-01T00:00:00.000Z', '2024-02-04T08:00:00.000Z', vision.length + rest.length],
    ]);
  });

  it('refuses a futures-only series on spot, and an interval for fundingRate, with exit 2', async () => {
    const spot = await klines(['get', 'BTCUSDT', '1h', '--data-type', 'markPriceKlines', '--start', '2024-01-01']);
    expect(spot.code).toBe(2);
    expect(spot.stderr).toContain('markPriceKlines exists on um and cm only, not on spot');
    const withInterval = await klines(['get', 'BTCUSDT', '8h', '--market', 'um', '--data-type', 'fundingRate', '--start', '2024-01-01']);
    expect(withInterval.code).toBe(2);
    expect(withInterval.stderr).toContain('a fundingRate dataset has none');
    expect(fake.requests).toEqual([]);
  });

  it('sync fills mark-price klines and funding rates of a symbol, and a rerun of each makes 0 upstream requests', async () => {
    const mark = ['sync', '--market', 'um', '--symbols', 'BTCUSDT', '--intervals', '1h', '--data-type', 'markPriceKlines', '--start', '2024-01-01', '--end', '2024-02-04T11:00:00Z', '--json'];
    const funding = ['sync', '--market', 'um', '--symbols', 'BTCUSDT', '--data-type', 'fundingRate', '--start', '2023-12-01', '--json'];
    const first = JSON.parse((await klines(mark)).stdout) as { datasetId: string; dataType: string; rowsAdded: number; visionFiles: number }[];
    expect(first.map((r) => [r.datasetId, r.dataType, r.rowsAdded, r.visionFiles])).toEqual([['binance/um/markPriceKlines/BTCUSDT/1h', 'markPriceKlines', 828, 3]]);
    const events = JSON.parse((await klines(funding)).stdout) as { datasetId: string; dataType: string; rowsAdded: number; visionFiles: number; restRequests: number; interval?: string }[];
    expect(events.map((r) => [r.datasetId, r.dataType, r.rowsAdded, r.visionFiles, r.restRequests, r.interval])).toEqual([['binance/um/fundingRate/BTCUSDT', 'fundingRate', 197, 2, 1, undefined]]);
    fake.clearRequests();
    expect((await klines(mark)).code).toBe(0);
    expect((await klines(funding)).code).toBe(0);
    expect(fake.requests).toEqual([]);
    const noInterval = await klines(['sync', '--market', 'um', '--symbols', 'BTCUSDT', '--start', '2024-01-01']);
    expect(noInterval.code).toBe(2);
    expect(noInterval.stderr).toContain('intervals: give at least one');
  });
});
