/**
 * Loads the real Binance files of `test/fixtures/binance` (a copy of the team's recorded data, with
 * its SOURCES.md and SHA256SUMS, so a clone needs nothing beside it)
 * into per-dataset "universes": every real row of a (market, symbol, interval), plus the Vision
 * periods that a whole real file vouches for. The fake Binance serves only from these.
 * Layout and quirks: `test/fixtures/binance/SOURCES.md`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync, strFromU8 } from 'fflate';
import type { Interval } from '../../lib/domain/intervals.ts';
import type { Market } from '../../lib/domain/markets.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Absolute path of the real-data folder: `{repo}/test/fixtures/binance`. */
export function realDataDir(): string {
  return path.resolve(repoRoot, 'test/fixtures/binance');
}

/**
 * One real candle. `fields` are the 12 strings exactly as published (CSV text, or the REST JSON
 * values stringified), so µs timestamps stay µs there; `openMs`/`closeMs` are UTC epoch ms
 * (µs divided by 1000, floored).
 */
export interface RealRow {
  readonly openMs: number;
  readonly closeMs: number;
  readonly fields: readonly string[];
}

/**
 * Everything real about one dataset. `rows` are sorted by openMs, one per openMs.
 * `knownDays` (`YYYY-MM-DD`) and `knownMonths` (`YYYY-MM`) are the periods covered by a whole
 * real file (a monthly file also vouches for each of its days; truncated-* files vouch for
 * nothing). `zips` maps a Vision path (`/data/spot/daily/...zip`) to the real zip's bytes.
 */
export interface RealDataset {
  readonly market: Market;
  readonly symbol: string;
  readonly interval: Interval;
  readonly rows: readonly RealRow[];
  readonly knownDays: ReadonlySet<string>;
  readonly knownMonths: ReadonlySet<string>;
  readonly zips: ReadonlyMap<string, Uint8Array>;
}

/** All datasets keyed by `datasetKey(...)`, and the real COIN-M `-4088` error body (raw JSON text). */
export interface RealUniverse {
  readonly datasets: ReadonlyMap<string, RealDataset>;
  readonly cmWindowErrorBody: string;
}

/** Key of a dataset in `RealUniverse.datasets`: `spot/BTCUSDT/1h`. */
export function datasetKey(market: Market, symbol: string, interval: Interval): string {
  return `${market}/${symbol}/${interval}`;
}

interface DatasetBuilder {
  market: Market; symbol: string; interval: Interval;
  rows: Map<number, RealRow>; knownDays: Set<string>; knownMonths: Set<string>; zips: Map<string, Uint8Array>;
}

const MARKET_BY_VISION_PATH: Record<string, Market> = { spot: 'spot', 'futures/um': 'um', 'futures/cm': 'cm' };
const MARKET_BY_REST_PATH: Record<string, Market> = { '/api/v3/klines': 'spot', '/fapi/v1/klines': 'um', '/dapi/v1/klines': 'cm' };
// `{market path}/{daily|monthly}/klines/{SYMBOL}/{interval}/[truncated-*/]{SYMBOL}-{interval}-{date}.{csv|zip}`
const VISION_FILE = /^(spot|futures\/um|futures\/cm)\/(daily|monthly)\/klines\/([A-Z0-9_]+)\/(\w+)\/(truncated-[^/]+\/)?\3-\4-(\d{4}-\d{2}(?:-\d{2})?)\.(csv|zip)$/;
// A 16-digit open_time is µs (spot from 2025-01-01, SOURCES.md "Timestamp units"); ms values are 13 digits.
const MICROSECOND_THRESHOLD = 1e14;

const universes = new Map<string, RealUniverse>();

/**
 * Loads (once per folder; later calls return the same object) every real file: `csv/` and
 * `vision/` Vision files, `rest/` and `rest/gct-recorded/` responses (MANIFEST.json gives the
 * path and query of each). Where two files hold the same open_time the first loaded wins:
 * Vision files, then bounded REST pages, then open-ended REST pages, whose last row is an
 * unfinished candle. Throws if the folder or a file is unreadable.
 */
export function loadRealUniverse(dir: string = realDataDir()): RealUniverse {
  const cached = universes.get(dir);
  if (cached) return cached;
  const builders = new Map<string, DatasetBuilder>();
  loadVisionFiles(path.join(dir, 'csv'), builders);
  loadVisionFiles(path.join(dir, 'vision', 'data'), builders);
  const cmWindowErrorBody = loadRestFiles(path.join(dir, 'rest'), builders);
  const datasets = new Map<string, RealDataset>();
  for (const [key, b] of builders) {
    const rows = [...b.rows.values()].sort((x, y) => x.openMs - y.openMs);
    datasets.set(key, { market: b.market, symbol: b.symbol, interval: b.interval, rows, knownDays: b.knownDays, knownMonths: b.knownMonths, zips: b.zips });
  }
  const universe = { datasets, cmWindowErrorBody };
  universes.set(dir, universe);
  return universe;
}

/** The dataset of a universe, or undefined when no real file holds it. */
export function findRealDataset(universe: RealUniverse, market: Market, symbol: string, interval: Interval): RealDataset | undefined {
  return universe.datasets.get(datasetKey(market, symbol, interval));
}

/**
 * Parses the text of a Vision CSV into rows, skipping a header line (detected by content: the
 * first character is not a digit, SOURCES.md "Header row") and blank lines.
 */
export function parseVisionCsv(text: string): RealRow[] {
  const rows: RealRow[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '' || !/^\d/.test(line)) continue;
    rows.push(rowFromFields(line.split(',')));
  }
  return rows;
}

function rowFromFields(fields: string[]): RealRow {
  if (fields.length !== 12) throw new Error(`real-data: expected 12 fields, got ${fields.length}: ${fields.join(',')}`);
  return { openMs: toMs(Number(fields[0])), closeMs: toMs(Number(fields[6])), fields };
}

function toMs(value: number): number {
  return value >= MICROSECOND_THRESHOLD ? Math.floor(value / 1000) : value;
}

function builderFor(builders: Map<string, DatasetBuilder>, market: Market, symbol: string, interval: Interval): DatasetBuilder {
  const key = datasetKey(market, symbol, interval);
  let builder = builders.get(key);
  if (!builder) {
    builder = { market, symbol, interval, rows: new Map(), knownDays: new Set(), knownMonths: new Set(), zips: new Map() };
    builders.set(key, builder);
  }
  return builder;
}

function addRows(builder: DatasetBuilder, rows: readonly RealRow[]): void {
  for (const row of rows) if (!builder.rows.has(row.openMs)) builder.rows.set(row.openMs, row);
}

function loadVisionFiles(root: string, builders: Map<string, DatasetBuilder>): void {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(csv|zip)$/.test(f)).sort();
  for (const relative of files) {
    const unixPath = relative.split(path.sep).join('/');
    const match = VISION_FILE.exec(unixPath);
    if (!match) throw new Error(`real-data: unexpected Vision file name ${unixPath}`);
    const [, marketPath, granularity, symbol, visionInterval, truncated, date, extension] = match as unknown as string[];
    const interval = (visionInterval === '1mo' ? '1M' : visionInterval) as Interval;
    const builder = builderFor(builders, MARKET_BY_VISION_PATH[marketPath!]!, symbol!, interval);
    const bytes = readFileSync(path.join(root, relative));
    const text = extension === 'zip' ? unzipOnlyMember(bytes, unixPath) : bytes.toString('utf8');
    if (extension === 'zip') builder.zips.set(`/data/${unixPath}`, new Uint8Array(bytes));
    addRows(builder, parseVisionCsv(text));
    if (!truncated) recordKnownPeriod(builder, granularity!, date!);
  }
}

function unzipOnlyMember(bytes: Uint8Array, name: string): string {
  const members = Object.values(unzipSync(bytes));
  if (members.length !== 1) throw new Error(`real-data: ${name} holds ${members.length} members, expected 1`);
  return strFromU8(members[0]!);
}

function recordKnownPeriod(builder: DatasetBuilder, granularity: string, date: string): void {
  if (granularity === 'daily') {
    builder.knownDays.add(date);
    return;
  }
  builder.knownMonths.add(date);
  const [year, month] = date.split('-').map(Number) as [number, number];
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  for (let day = 1; day <= days; day++) builder.knownDays.add(`${date}-${String(day).padStart(2, '0')}`);
}

interface RestFile { file: string; market: Market; symbol: string; interval: Interval; openEnded: boolean }

function loadRestFiles(root: string, builders: Map<string, DatasetBuilder>): string {
  const files: RestFile[] = [];
  // The two top-level files are spot responses named `{SYMBOL}-{interval}-...klines.json` (SOURCES.md, table C).
  for (const name of readdirSync(root).filter((f) => f.endsWith('.klines.json')).sort()) {
    const [symbol, interval] = name.split('-') as [string, string];
    files.push({ file: path.join(root, name), market: 'spot', symbol, interval: interval as Interval, openEnded: false });
  }
  const manifestDir = path.join(root, 'gct-recorded');
  const manifest = JSON.parse(readFileSync(path.join(manifestDir, 'MANIFEST.json'), 'utf8')) as { file: string; path: string; query: string }[];
  for (const entry of manifest) {
    const query = new URLSearchParams(entry.query);
    const market = MARKET_BY_REST_PATH[entry.path];
    if (!market) throw new Error(`real-data: MANIFEST.json names an unknown path ${entry.path}`);
    files.push({
      file: path.join(manifestDir, entry.file), market, symbol: query.get('symbol') ?? '',
      interval: (query.get('interval') ?? '') as Interval, openEnded: !query.has('startTime'),
    });
  }
  // Bounded pages first: an open-ended page ends with an unfinished candle, which must not
  // shadow the finished one another file holds.
  files.sort((a, b) => Number(a.openEnded) - Number(b.openEnded));
  let cmWindowErrorBody = '';
  for (const rest of files) {
    const text = readFileSync(rest.file, 'utf8');
    const body = JSON.parse(text) as unknown;
    if (!Array.isArray(body)) {
      if ((body as { code?: number }).code === -4088) cmWindowErrorBody = text.trim();
      continue;
    }
    const rows = (body as unknown[][]).map((values) => rowFromFields(values.map(String)));
    addRows(builderFor(builders, rest.market, rest.symbol, rest.interval), rows);
  }
  if (!cmWindowErrorBody) throw new Error('real-data: no recorded -4088 error body found under rest/');
  return cmWindowErrorBody;
}
