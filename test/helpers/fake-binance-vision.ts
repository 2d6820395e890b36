/**
 * The Vision archive half of the fake Binance: answers `/data/.../*.zip` and `*.zip.CHECKSUM`
 * from the real data universe (see real-data.ts), the way data.binance.vision (an S3 bucket)
 * does: a file exists only once its period is whole and published, otherwise S3's NoSuchKey 404.
 */
import { createHash } from 'node:crypto';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { DAY_MS, hasVisionDailyFiles, type Interval } from '../../lib/domain/intervals.ts';
import type { Market } from '../../lib/domain/markets.ts';
import type { Fault, Reply } from './fake-binance.ts';
import { findRealDataset, type RealDataset, type RealUniverse } from './real-data.ts';

/** The fake's clock and publication lags, all in ms (see FakeBinanceOptions). */
export interface VisionClock {
  readonly nowMs: number;
  readonly dailyLagMs: number;
  readonly monthlyLagMs: number;
}

/** Faults that change what a Vision file holds rather than whether it is answered. */
export type ContentFault = Extract<Fault, { kind: 'bad-checksum' | 'truncate-zip' | 'truncate-rows' }>;

/** Answers one Vision path (`/data/...zip` or `.zip.CHECKSUM`); HEAD handling is the caller's. */
export type VisionHandler = (path: string, clock: VisionClock, fault?: ContentFault) => Reply;

/** Header of futures files (SOURCES.md, "Header row"); spot files never have one. */
export const FUTURES_CSV_HEADER = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';

const MARKET_BY_PATH: Record<string, Market> = { spot: 'spot', 'futures/um': 'um', 'futures/cm': 'cm' };
const VISION_PATH = /^\/data\/(spot|futures\/um|futures\/cm)\/(daily|monthly)\/klines\/([A-Z0-9_]+)\/(\w+)\/(\3-\4-(\d{4})-(\d{2})(?:-(\d{2}))?\.zip)(\.CHECKSUM)?$/;

/** One Vision file the fake can serve: its dataset and open_time range `[startMs, endMs)`. */
interface VisionFile {
  readonly zipPath: string;
  readonly name: string;
  readonly dataset: RealDataset;
  readonly startMs: number;
  readonly endMs: number;
  readonly monthly: boolean;
  readonly checksum: boolean;
}

/** Creates the handler; built zips are cached per handler, so one fake always serves the same bytes. */
export function createVisionHandler(universe: RealUniverse): VisionHandler {
  const zipCache = new Map<string, Uint8Array>();

  const zipOf = (file: VisionFile, fault?: ContentFault): Uint8Array | undefined => {
    const full = zipCache.get(file.zipPath) ?? file.dataset.zips.get(file.zipPath) ?? buildPeriodZip(file);
    if (!full) return undefined;
    zipCache.set(file.zipPath, full);
    if (fault?.kind !== 'truncate-rows') return full;
    const key = `${file.zipPath}#rows=${fault.rows}`;
    const truncated = zipCache.get(key) ?? truncateRows(file, full, fault.rows);
    zipCache.set(key, truncated);
    return truncated;
  };

  return (path, clock, fault) => {
    const file = resolveVisionFile(universe, path);
    if (!file || !isPublished(file, clock)) return noSuchKey(path);
    const zip = zipOf(file, fault);
    if (!zip) return noSuchKey(path);
    if (!file.checksum) {
      // Half the bytes: what a dropped download looks like to a client that trusts content-length.
      const body = fault?.kind === 'truncate-zip' ? zip.subarray(0, Math.floor(zip.length / 2)) : zip;
      return { status: 200, headers: { 'content-type': 'application/zip' }, body };
    }
    let hex = createHash('sha256').update(zip).digest('hex');
    if (fault?.kind === 'bad-checksum') hex = (hex[0] === '0' ? '1' : '0') + hex.slice(1);
    return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: `${hex}  ${file.name}\n` };
  };
}

/** A daily file appears once dayEnd + dailyLagMs ≤ now, a monthly one once monthEnd + monthlyLagMs ≤ now. */
function isPublished(file: VisionFile, clock: VisionClock): boolean {
  return file.endMs + (file.monthly ? clock.monthlyLagMs : clock.dailyLagMs) <= clock.nowMs;
}

/**
 * Maps a path to a file the real data vouches for: a daily file needs its day known (a whole real
 * daily file, or a whole real monthly file around it) and an interval Vision has daily files for;
 * a monthly file needs its month known, or every one of its days.
 */
function resolveVisionFile(universe: RealUniverse, path: string): VisionFile | undefined {
  const match = VISION_PATH.exec(path);
  if (!match) return undefined;
  const [, marketPath, granularity, symbol, visionInterval, name, year, month, day, checksum] = match;
  const interval = (visionInterval === '1mo' ? '1M' : visionInterval) as Interval;
  const dataset = findRealDataset(universe, MARKET_BY_PATH[marketPath!]!, symbol!, interval);
  if (!dataset) return undefined;
  const monthKey = `${year}-${month}`;
  const zipPath = checksum ? path.slice(0, -'.CHECKSUM'.length) : path;
  if (granularity === 'daily') {
    if (day === undefined || !hasVisionDailyFiles(interval) || !dataset.knownDays.has(`${monthKey}-${day}`)) return undefined;
    const startMs = Date.UTC(Number(year), Number(month) - 1, Number(day));
    return { zipPath, name: name!, dataset, startMs, endMs: startMs + DAY_MS, monthly: false, checksum: !!checksum };
  }
  if (day !== undefined || !isMonthKnown(dataset, monthKey)) return undefined;
  const startMs = Date.UTC(Number(year), Number(month) - 1, 1);
  const endMs = Date.UTC(Number(year), Number(month), 1);
  return { zipPath, name: name!, dataset, startMs, endMs, monthly: true, checksum: !!checksum };
}

function isMonthKnown(dataset: RealDataset, monthKey: string): boolean {
  if (dataset.knownMonths.has(monthKey)) return true;
  const [year, month] = monthKey.split('-').map(Number) as [number, number];
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  for (let day = 1; day <= days; day++) {
    if (!dataset.knownDays.has(`${monthKey}-${String(day).padStart(2, '0')}`)) return false;
  }
  return days > 0;
}

/**
 * Builds the zip Binance would publish for a period from the real CSV lines in it: LF endings,
 * a trailing newline, the futures header, µs times left as the source had them. Undefined when
 * the period holds no row (before a listing Vision has no file, so the fake answers 404).
 */
function buildPeriodZip(file: VisionFile): Uint8Array | undefined {
  const lines = file.dataset.rows
    .filter((row) => row.openMs >= file.startMs && row.openMs < file.endMs)
    .map((row) => row.fields.join(','));
  if (lines.length === 0) return undefined;
  if (file.dataset.market !== 'spot') lines.unshift(FUTURES_CSV_HEADER);
  return zipCsv(file, `${lines.join('\n')}\n`);
}

/** The same file holding only its header (if any) and first `rows` data lines. */
function truncateRows(file: VisionFile, zip: Uint8Array, rows: number): Uint8Array {
  const text = strFromU8(Object.values(unzipSync(zip))[0] ?? new Uint8Array());
  const lines = text.split('\n').filter((line) => line !== '');
  const header = lines[0] !== undefined && !/^\d/.test(lines[0]) ? lines.splice(0, 1) : [];
  const kept = [...header, ...lines.slice(0, rows)];
  return zipCsv(file, kept.length ? `${kept.join('\n')}\n` : '');
}

function zipCsv(file: VisionFile, csv: string): Uint8Array {
  const member = file.name.replace(/\.zip$/, '.csv');
  // A fixed mtime (the period's end) keeps the bytes, and so the CHECKSUM, deterministic.
  return zipSync({ [member]: [strToU8(csv), { level: 6, mtime: new Date(file.endMs) }] });
}

function noSuchKey(path: string): Reply {
  const key = path.replace(/^\//, '').replace(/[<>&]/g, '');
  const body = '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${key}</Key></Error>`;
  return { status: 404, headers: { 'content-type': 'application/xml' }, body };
}
