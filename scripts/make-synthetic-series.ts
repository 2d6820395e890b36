/**
 * Writes the SYNTHETIC series fixtures of `test/fixtures/binance/synthetic/` (issue 10, item 5):
 * the team holds no real mark-price, index-price, premium-index or funding-rate file, so the fake
 * Binance serves these, generated here deterministically (a fixed-seed generator, fixed zip
 * times) in the formats Binance documents. SOURCES.md ("Synthetic series") names the source of
 * every format rule; SHA256SUMS lists the files. Rerunning writes the same bytes.
 *
 *   npm exec -- node --import tsx scripts/make-synthetic-series.ts
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { strToU8, zipSync } from 'fflate';
import { createRandom } from '../bench/generate.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/binance');
const out = path.join(root, 'synthetic');
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Header of the futures kline-shaped files (the same as the klines files, SOURCES.md "Header row"). */
const KLINE_HEADER = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
/** Header of the funding-rate files (issue 10: Vision's column names). */
const FUNDING_HEADER = 'calc_time,funding_interval_hours,last_funding_rate';

/**
 * 1h rows of a kline-shaped series in [startMs, endMs): OHLC with 8 decimals, volume fields "0"
 * and `count` 3600 (the number of index/mark samples, one a second), as Binance's docs show for
 * these series ("Index Price Kline/Candlestick Data": volumes "0", count = number of basic data).
 */
function klineLines(startMs: number, endMs: number, base: number, spread: number, seed: number): string[] {
  const next = createRandom(seed);
  const lines: string[] = [];
  let price = base;
  for (let t = startMs; t < endMs; t += HOUR_MS) {
    const open = price;
    const close = open + (next() - 0.5) * spread;
    const high = Math.max(open, close) + next() * spread * 0.3;
    const low = Math.min(open, close) - next() * spread * 0.3;
    price = close;
    lines.push([t, open.toFixed(8), high.toFixed(8), low.toFixed(8), close.toFixed(8), '0', t + HOUR_MS - 1, '0', 3600, '0', '0', '0'].join(','));
  }
  return lines;
}

const written: string[] = [];

/** Writes `{name}.zip` (one CSV member, LF endings, trailing newline) and its `.CHECKSUM` (`<sha256>  <name>\n`). */
function writeVisionFile(folder: string, name: string, csv: string, mtimeMs: number): void {
  const dir = path.join(out, 'vision/data', folder);
  mkdirSync(dir, { recursive: true });
  const zip = zipSync({ [name.replace(/\.zip$/, '.csv')]: [strToU8(csv), { level: 6, mtime: new Date(mtimeMs) }] });
  writeFileSync(path.join(dir, name), zip);
  writeFileSync(path.join(dir, `${name}.CHECKSUM`), `${createHash('sha256').update(zip).digest('hex')}  ${name}\n`);
  written.push(`vision/data/${folder}/${name}`, `vision/data/${folder}/${name}.CHECKSUM`);
}

function month(year: number, monthIndex: number): { startMs: number; endMs: number; key: string } {
  return { startMs: Date.UTC(year, monthIndex, 1), endMs: Date.UTC(year, monthIndex + 1, 1), key: new Date(Date.UTC(year, monthIndex, 1)).toISOString().slice(0, 7) };
}

/** Mark price: a monthly file before 2022-12 (no header) and after (header), and four daily files. */
function writeKlineSeries(): void {
  const series = [
    { dataType: 'markPriceKlines', base: 42_000, spread: 120, seed: 1 },
    { dataType: 'indexPriceKlines', base: 42_010, spread: 110, seed: 2 },
    { dataType: 'premiumIndexKlines', base: 0.0001, spread: 0.0004, seed: 3 },
  ];
  for (const { dataType, base, spread, seed } of series) {
    const folder = (kind: string) => `futures/um/${kind}/${dataType}/BTCUSDT/1h`;
    if (dataType === 'markPriceKlines') {
      // UM markPrice monthly files had no header before 2022-12 (SOURCES.md, third-party audit).
      const old = month(2022, 10);
      writeVisionFile(folder('monthly'), `BTCUSDT-1h-${old.key}.zip`, `${klineLines(old.startMs, old.endMs, 20_500, 60, 10).join('\n')}\n`, old.endMs + DAY_MS);
      const jan = month(2024, 0);
      const rows = klineLines(jan.startMs, jan.endMs, base, spread, seed);
      writeVisionFile(folder('monthly'), `BTCUSDT-1h-${jan.key}.zip`, `${[KLINE_HEADER, ...rows].join('\n')}\n`, jan.endMs + DAY_MS);
    }
    for (let day = 1; day <= 4; day++) {
      const startMs = Date.UTC(2024, 1, day);
      const rows = klineLines(startMs, startMs + DAY_MS, base, spread, seed * 100 + day);
      const date = new Date(startMs).toISOString().slice(0, 10);
      writeVisionFile(folder('daily'), `BTCUSDT-1h-${date}.zip`, `${[KLINE_HEADER, ...rows].join('\n')}\n`, startMs + DAY_MS + HOUR_MS);
    }
  }
}

/**
 * Funding rate of um BTCUSDT every 8 h (00:00, 08:00, 16:00 UTC) from 2023-12-01 to 2024-02-29:
 * the REST history (`/fapi/v1/fundingRate` shape: symbol, fundingTime, fundingRate, markPrice,
 * Binance API docs "Get Funding Rate History") and the Vision monthly files of December and
 * January (`calc_time,funding_interval_hours,last_funding_rate`, calc_time = fundingTime).
 */
function writeFunding(): void {
  const next = createRandom(7);
  const events: { symbol: string; fundingTime: number; fundingRate: string; markPrice: string }[] = [];
  for (let t = Date.UTC(2023, 11, 1); t < Date.UTC(2024, 2, 1); t += 8 * HOUR_MS) {
    const rate = (0.0001 + (next() - 0.4) * 0.0002).toFixed(8);
    events.push({ symbol: 'BTCUSDT', fundingTime: t, fundingRate: rate, markPrice: (42_000 + (next() - 0.5) * 2000).toFixed(8) });
  }
  const restDir = path.join(out, 'rest');
  mkdirSync(restDir, { recursive: true });
  writeFileSync(path.join(restDir, 'fapi-v1-fundingRate-BTCUSDT.json'), `${JSON.stringify(events)}\n`);
  written.push('rest/fapi-v1-fundingRate-BTCUSDT.json');
  for (const m of [month(2023, 11), month(2024, 0)]) {
    const rows = events.filter((e) => e.fundingTime >= m.startMs && e.fundingTime < m.endMs).map((e) => `${e.fundingTime},8,${e.fundingRate}`);
    writeVisionFile('futures/um/monthly/fundingRate/BTCUSDT', `BTCUSDT-fundingRate-${m.key}.zip`, `${[FUNDING_HEADER, ...rows].join('\n')}\n`, m.endMs + DAY_MS);
  }
}

/** Rewrites the `synthetic/` lines of SHA256SUMS, keeping every other line as it was. */
function updateSums(): void {
  const sumsPath = path.join(root, 'SHA256SUMS');
  const kept = readFileSync(sumsPath, 'utf8').split('\n').filter((line) => line !== '' && !line.includes('  synthetic/'));
  const added = written.sort().map((relative) => `${createHash('sha256').update(readFileSync(path.join(out, relative))).digest('hex')}  synthetic/${relative}`);
  writeFileSync(sumsPath, `${[...kept, ...added].join('\n')}\n`);
}

writeKlineSeries();
writeFunding();
updateSums();
process.stdout.write(`wrote ${written.length} files under test/fixtures/binance/synthetic\n`);
