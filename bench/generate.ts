/**
 * Generated Binance Vision monthly klines files for the benchmarks (the real data in
 * test/fixtures/binance is far too small to measure a year of 1m). The CSV is in the real
 * spot format (SOURCES.md): 12 columns, no header, ms timestamps (spot before 2025), every price
 * and quantity with 8 decimals, `close_time = open_time + interval − 1`, trailing `0` ignore
 * column, LF line ends. Values are a seeded random walk, so every run serves the same bytes:
 * prices on a 0.01 tick, volumes on a 0.00001 lot, low ≤ open, close ≤ high, taker volume ≤ volume,
 * quote volumes = volume × a price inside [low, high] (± 1e-8). Zipped as Vision's Info-ZIP
 * archives are (one deflated `.csv` member, written by yazl with node:zlib's deflate, ~3× faster
 * than fflate's compressor, so generation stays short), with the `<sha256>  <name>` CHECKSUM sidecar.
 */
import { createHash } from 'node:crypto';
import { ZipFile } from 'yazl';
import { INTERVAL_MS, type Interval } from '../lib/domain/intervals.ts';
import type { Dataset } from '../lib/domain/kline.ts';
import { utcMonthStart } from '../lib/domain/ranges.ts';
import { visionFileName, visionFileUrl } from '../lib/sources/vision-url.ts';

/** One generated monthly Vision file: its URL path (`/data/spot/monthly/...zip`), bytes and sidecar. */
export interface GeneratedFile {
  readonly path: string;
  readonly name: string;
  readonly dataset: Dataset;
  /** The month's open_time range `[startMs, endMs)`, UTC epoch ms. */
  readonly startMs: number;
  readonly endMs: number;
  readonly rows: number;
  readonly csvBytes: number;
  readonly zip: Uint8Array;
  /** The `.CHECKSUM` body: `<sha256 hex>  <file name>\n`. */
  readonly checksum: string;
}

/** A deterministic PRNG in [0, 1) (mulberry32); also seeds scripts/make-synthetic-series.ts. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `12345` cents → `123.45000000` (spot prints prices with 8 decimals on a 0.01 tick). */
function formatCents(cents: number): string {
  const fraction = cents % 100;
  return `${(cents - fraction) / 100}.${fraction < 10 ? '0' : ''}${fraction}000000`;
}

/** `123456` lots of 0.00001 → `1.23456000`. */
function formatLots(lots: number): string {
  const fraction = lots % 100_000;
  return `${(lots - fraction) / 100_000}.${String(fraction).padStart(5, '0')}000`;
}

/**
 * Lots (1e-5) × cents (1e-2) is an exact integer count of 1e-7; one random last digit makes the
 * 8 decimals of a real quote volume. Stays below 2^53 for lots < 1e7 and prices < 1e7.
 */
function formatQuote(lotCents: number, random: () => number): string {
  const units = lotCents * 10 + Math.floor(random() * 10);
  const fraction = units % 100_000_000;
  return `${(units - fraction) / 100_000_000}.${String(fraction).padStart(8, '0')}`;
}

/**
 * The CSV text of one month of `interval` candles starting at `monthStartMs` (a UTC month start),
 * seeded by `seed`. Returns the text and its row count.
 */
export function generateMonthCsv(interval: Interval, monthStartMs: number, seed: number): { csv: string; rows: number } {
  const stepMs = INTERVAL_MS[interval];
  const endMs = utcMonthStart(monthStartMs, 1);
  const random = createRandom(seed);
  const sigma = 0.0008 * Math.sqrt(stepMs / 60_000);
  let price = 1_500_000 + Math.floor(random() * 2_000_000); // 15,000.00 … 35,000.00 in cents
  const lines: string[] = [];
  for (let openMs = monthStartMs; openMs < endMs; openMs += stepMs) {
    const u = Math.max(random(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    const open = price;
    const close = Math.max(100, Math.round(open * Math.exp(sigma * z)));
    const high = Math.max(open, close) + Math.floor(random() * open * sigma * 0.5);
    const low = Math.max(1, Math.min(open, close) - Math.floor(random() * open * sigma * 0.5));
    const volumeLots = 1 + Math.floor(random() * random() * 5_000_000 * (stepMs / 60_000));
    const takerLots = Math.floor(volumeLots * random());
    const vwapCents = low + Math.floor((high - low) * random());
    const trades = 1 + Math.floor(volumeLots / 2_000 + random() * 200);
    lines.push(
      `${openMs},${formatCents(open)},${formatCents(high)},${formatCents(low)},${formatCents(close)},${formatLots(volumeLots)},` +
      `${openMs + stepMs - 1},${formatQuote(volumeLots * vwapCents, random)},${trades},${formatLots(takerLots)},` +
      `${formatQuote(takerLots * vwapCents, random)},0`,
    );
    price = close;
  }
  lines.push('');
  return { csv: lines.join('\n'), rows: lines.length - 1 };
}

/** Generates and zips the monthly Vision file of `dataset` for the month starting at `monthStartMs`. */
export async function generateVisionMonth(dataset: Dataset, monthStartMs: number): Promise<GeneratedFile> {
  const request = { dataset, kind: 'monthly' as const, periodStartMs: monthStartMs };
  const name = visionFileName(request);
  const { csv, rows } = generateMonthCsv(dataset.interval, monthStartMs, (monthStartMs / 60_000) ^ dataset.interval.length);
  const csvBytes = Buffer.from(csv, 'latin1');
  const zip = await zipOne(name.replace(/\.zip$/, '.csv'), csvBytes, monthStartMs);
  const checksum = `${createHash('sha256').update(zip).digest('hex')}  ${name}\n`;
  return {
    path: visionFileUrl('', request).zipUrl, name, dataset, startMs: monthStartMs, endMs: utcMonthStart(monthStartMs, 1),
    rows, csvBytes: csvBytes.length, zip, checksum,
  };
}

/** The monthly files of `dataset` for `months` consecutive months from `firstMonthMs`. */
export function generateVisionMonths(dataset: Dataset, firstMonthMs: number, months: number): Promise<GeneratedFile[]> {
  return Promise.all(Array.from({ length: months }, (_, i) => generateVisionMonth(dataset, utcMonthStart(firstMonthMs, i))));
}

/** A zip of one deflated member, written by yazl (Node's native deflate, level 6 like Vision's Info-ZIP archives). */
async function zipOne(memberName: string, data: Buffer, mtimeMs: number): Promise<Uint8Array> {
  const zip = new ZipFile();
  zip.addBuffer(data, memberName, { mtime: new Date(mtimeMs), mode: 0o100644, compress: true });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}
