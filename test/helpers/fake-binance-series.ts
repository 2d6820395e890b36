/**
 * The other series of the fake Binance (issue 10, item 5): mark-price, index-price and
 * premium-index klines and the funding rate, served from the SYNTHETIC files of
 * `test/fixtures/binance/synthetic` (SOURCES.md, "Synthetic series": no real file of these
 * series was available; scripts/make-synthetic-series.ts writes them in the documented formats).
 * - Vision: the committed zips and `.CHECKSUM` sidecars, byte for byte, each only once published
 *   (daily: day end + daily lag; monthly: month end + monthly lag), else S3's NoSuchKey 404.
 * - REST `/fapi/v1/{markPriceKlines|indexPriceKlines|premiumIndexKlines}` (and `/dapi/v1/...`):
 *   the rows of every file of the dataset, Binance's page rules (startTime/endTime inclusive on
 *   open_time, `limit` ≤ 1500, default 500); `indexPriceKlines` takes `pair=` and refuses a
 *   request without it (-1102), the others take `symbol=`.
 * - REST `/fapi/v1/fundingRate`: the recorded history's events with fundingTime ≤ now, inside
 *   [startTime, endTime], the first `limit` (default 100, at most 1000) from startTime
 *   (Binance API docs, "Get Funding Rate History").
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import type { Reply } from './fake-binance.ts';
import type { RestAnswer } from './fake-binance-rest.ts';
import type { VisionClock } from './fake-binance-vision.ts';
import { realDataDir } from './real-data.ts';

/** REST paths of the series, with the parameter naming the instrument. */
export const SERIES_REST_PATHS: Readonly<Record<string, { market: 'um' | 'cm'; series: string; instrument: 'symbol' | 'pair' }>> = {
  '/fapi/v1/markPriceKlines': { market: 'um', series: 'markPriceKlines', instrument: 'symbol' },
  '/fapi/v1/indexPriceKlines': { market: 'um', series: 'indexPriceKlines', instrument: 'pair' },
  '/fapi/v1/premiumIndexKlines': { market: 'um', series: 'premiumIndexKlines', instrument: 'symbol' },
  '/fapi/v1/fundingRate': { market: 'um', series: 'fundingRate', instrument: 'symbol' },
  '/dapi/v1/markPriceKlines': { market: 'cm', series: 'markPriceKlines', instrument: 'symbol' },
  '/dapi/v1/indexPriceKlines': { market: 'cm', series: 'indexPriceKlines', instrument: 'pair' },
  '/dapi/v1/premiumIndexKlines': { market: 'cm', series: 'premiumIndexKlines', instrument: 'symbol' },
  '/dapi/v1/fundingRate': { market: 'cm', series: 'fundingRate', instrument: 'symbol' },
};

/** True for a Vision path of one of these series. */
export function isSeriesVisionPath(p: string): boolean {
  return /^\/data\/futures\/(um|cm)\/(daily|monthly)\/(markPriceKlines|indexPriceKlines|premiumIndexKlines|fundingRate)\//.test(p);
}

/** One synthetic Vision file: its zip, sidecar text and the period it covers. */
interface SeriesFile {
  readonly zip: Uint8Array;
  readonly checksum: string;
  readonly endMs: number;
  readonly monthly: boolean;
}

/** Everything the fake serves for the series. */
export interface SeriesUniverse {
  /** Vision zip path (`/data/futures/um/...zip`) → file. */
  readonly files: ReadonlyMap<string, SeriesFile>;
  /** `{market}/{series}/{SYMBOL}/{interval}` → CSV lines (12 fields), sorted by open_time. */
  readonly klineRows: ReadonlyMap<string, readonly string[][]>;
  /** `{market}/{SYMBOL}` → REST funding events, sorted by fundingTime. */
  readonly funding: ReadonlyMap<string, readonly { fundingTime: number }[]>;
}

const FILE = /^futures\/(um|cm)\/(daily|monthly)\/(\w+)\/([A-Z0-9_]+)\/(?:(\w+)\/)?[A-Z0-9_]+-\w+-(\d{4})-(\d{2})(?:-(\d{2}))?\.zip$/;
let loaded: SeriesUniverse | undefined;

/** Loads the synthetic folder once per process. Throws if a file does not fit the layout. */
export function loadSeriesUniverse(): SeriesUniverse {
  if (loaded) return loaded;
  const dir = path.join(realDataDir(), 'synthetic');
  const files = new Map<string, SeriesFile>();
  const klineRows = new Map<string, Map<number, string[]>>();
  const visionRoot = path.join(dir, 'vision/data');
  for (const relative of readdirSync(visionRoot, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.zip')).sort()) {
    const unix = relative.split(path.sep).join('/');
    const match = FILE.exec(unix);
    if (!match) throw new Error(`fake-binance-series: unexpected file ${unix}`);
    const [, market, granularity, series, symbol, interval, year, month, day] = match as unknown as string[];
    const zip = new Uint8Array(readFileSync(path.join(visionRoot, relative)));
    const startMs = Date.UTC(Number(year), Number(month) - 1, Number(day ?? 1));
    const endMs = granularity === 'daily' ? startMs + 86_400_000 : Date.UTC(Number(year), Number(month), 1);
    files.set(`/data/${unix}`, { zip, checksum: readFileSync(path.join(visionRoot, `${relative}.CHECKSUM`), 'utf8'), endMs, monthly: granularity === 'monthly' });
    if (series === 'fundingRate') continue;
    const key = `${market}/${series}/${symbol}/${interval}`;
    const rows = klineRows.get(key) ?? new Map<number, string[]>();
    const text = strFromU8(Object.values(unzipSync(zip))[0]!);
    for (const line of text.split('\n')) if (/^\d/.test(line)) rows.set(Number(line.split(',')[0]), line.split(','));
    klineRows.set(key, rows);
  }
  const funding = new Map<string, { fundingTime: number }[]>();
  const events = JSON.parse(readFileSync(path.join(dir, 'rest/fapi-v1-fundingRate-BTCUSDT.json'), 'utf8')) as { fundingTime: number }[];
  funding.set('um/BTCUSDT', events);
  loaded = {
    files,
    klineRows: new Map([...klineRows].map(([key, rows]) => [key, [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, fields]) => fields)])),
    funding,
  };
  return loaded;
}

/** Answers a series Vision path (`.zip` or `.zip.CHECKSUM`) at the fake's clock. */
export function answerSeriesVision(universe: SeriesUniverse, p: string, clock: VisionClock): Reply {
  const isChecksum = p.endsWith('.CHECKSUM');
  const file = universe.files.get(isChecksum ? p.slice(0, -'.CHECKSUM'.length) : p);
  if (!file || file.endMs + (file.monthly ? clock.monthlyLagMs : clock.dailyLagMs) > clock.nowMs) {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${p.slice(1)}</Key></Error>`;
    return { status: 404, headers: { 'content-type': 'application/xml' }, body };
  }
  return isChecksum
    ? { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: file.checksum }
    : { status: 200, headers: { 'content-type': 'application/zip' }, body: file.zip };
}

/** Answers a series REST request at the fake's clock. Weight: 1/2/5/10 by limit for klines, 1 for fundingRate. */
export function answerSeriesRest(universe: SeriesUniverse, p: string, query: Readonly<Record<string, string>>, nowMs: number): RestAnswer {
  const route = SERIES_REST_PATHS[p]!;
  const funding = route.series === 'fundingRate';
  const limit = query.limit === undefined ? (funding ? 100 : 500) : Number(query.limit);
  const weight = funding ? 1 : limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
  const instrument = query[route.instrument];
  if (!instrument) return { reply: binanceError(-1102, `Mandatory parameter '${route.instrument}' was not sent, was empty/null, or malformed.`), weight };
  if (!Number.isInteger(limit) || limit < 1 || limit > (funding ? 1000 : 1500)) return { reply: binanceError(-1130, "Data sent for parameter 'limit' is not valid."), weight };
  const startMs = query.startTime === undefined ? undefined : Number(query.startTime);
  const lastMs = Math.min(nowMs, query.endTime === undefined ? Infinity : Number(query.endTime));
  if (funding) {
    const events = universe.funding.get(`${route.market}/${instrument}`);
    if (!events) return { reply: binanceError(-1121, 'Invalid symbol.'), weight };
    const inRange = events.filter((e) => e.fundingTime <= lastMs && (startMs === undefined || e.fundingTime >= startMs));
    return { reply: json(startMs === undefined ? inRange.slice(-limit) : inRange.slice(0, limit)), weight };
  }
  if (!query.interval) return { reply: binanceError(-1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."), weight };
  // On um a pair and its perpetual share the name; the fake's files are named by symbol.
  const rows = universe.klineRows.get(`${route.market}/${route.series}/${instrument}/${query.interval}`);
  if (!rows) return { reply: binanceError(-1121, 'Invalid symbol.'), weight };
  const inRange = rows.filter((f) => Number(f[0]) <= lastMs && (startMs === undefined || Number(f[0]) >= startMs));
  const page = startMs === undefined ? inRange.slice(-limit) : inRange.slice(0, limit);
  return { reply: json(page.map((f) => [Number(f[0]), f[1], f[2], f[3], f[4], f[5], Number(f[6]), f[7], Number(f[8]), f[9], f[10], f[11]])), weight };
}

function binanceError(code: number, msg: string): Reply {
  return { status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, msg }) };
}

function json(value: unknown): Reply {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}
