/**
 * Names and URLs of Binance Vision kline-shaped files, as on data.binance.vision (DESIGN.md, Upstreams):
 * `{base}/data/{spot|futures/um|futures/cm}/{daily|monthly}/{dataType}/{SYMBOL}/{IV}/{SYMBOL}-{IV}-{YYYY-MM-DD|YYYY-MM}.zip`
 * plus the `.CHECKSUM` sidecar, with `1M` spelled `1mo`. `dataType` is `klines`, `markPriceKlines`,
 * `indexPriceKlines` or `premiumIndexKlines` (same file names; the recorded sidecar
 * `futures/um/daily/markPriceKlines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip.CHECKSUM`, SOURCES.md).
 */
import { InvalidInputError } from '../domain/errors.ts';
import { hasVisionDailyFiles, visionIntervalName } from '../domain/intervals.ts';
import { dataTypeOf } from '../domain/kline.ts';
import { VISION_MARKET_PATH } from '../domain/markets.ts';
import { utcDayStart, utcMonthStart, type Range } from '../domain/ranges.ts';
import type { VisionFileRequest } from './types.ts';

/** Where one Vision file lives. */
export interface VisionFileLocation {
  /** The archive, e.g. `https://data.binance.vision/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-15.zip`. */
  readonly zipUrl: string;
  /** `zipUrl` + `.CHECKSUM`. */
  readonly checksumUrl: string;
  /** The archive's name, as the CHECKSUM names it: `BTCUSDT-1m-2024-01-15.zip`. */
  readonly fileName: string;
}

/**
 * The open_time range `[start, end)` (UTC epoch ms) a file covers: its UTC day or UTC month.
 * Throws InvalidInputError when `periodStartMs` is not a UTC day start (daily) or month start
 * (monthly), or when a daily file is asked for an interval longer than 1d (Vision has none).
 */
export function visionFileRange(request: VisionFileRequest): Range {
  const { kind, periodStartMs, dataset } = request;
  if (kind === 'daily') {
    if (!hasVisionDailyFiles(dataset.interval)) {
      throw new InvalidInputError(`vision: no daily files exist for interval ${dataset.interval}; use monthly files`, { interval: dataset.interval });
    }
    if (utcDayStart(periodStartMs) !== periodStartMs) {
      throw new InvalidInputError(`vision: daily periodStartMs ${periodStartMs} is not a UTC day start`, { periodStartMs });
    }
    return { startMs: periodStartMs, endMs: periodStartMs + 86_400_000 };
  }
  if (utcMonthStart(periodStartMs) !== periodStartMs) {
    throw new InvalidInputError(`vision: monthly periodStartMs ${periodStartMs} is not a UTC month start`, { periodStartMs });
  }
  return { startMs: periodStartMs, endMs: utcMonthStart(periodStartMs, 1) };
}

/**
 * The archive's file name: `BTCUSDT-1m-2024-01-15.zip` (daily) or `BTCUSDT-1mo-2024-01.zip` (monthly).
 * Throws as visionFileRange.
 */
export function visionFileName(request: VisionFileRequest): string {
  visionFileRange(request);
  const iso = new Date(request.periodStartMs).toISOString();
  const period = request.kind === 'daily' ? iso.slice(0, 10) : iso.slice(0, 7);
  const { symbol, interval } = request.dataset;
  return `${symbol}-${visionIntervalName(interval)}-${period}.zip`;
}

/**
 * The archive and CHECKSUM URLs of a file under `baseUrl` (`https://data.binance.vision`, or a
 * loopback fake; a trailing `/` is ignored). Throws as visionFileRange.
 */
export function visionFileUrl(baseUrl: string, request: VisionFileRequest): VisionFileLocation {
  const fileName = visionFileName(request);
  const { market, symbol, interval } = request.dataset;
  const base = baseUrl.replace(/\/+$/, '');
  const zipUrl = `${base}/data/${VISION_MARKET_PATH[market]}/${request.kind}/${dataTypeOf(request.dataset)}/${symbol}/${visionIntervalName(interval)}/${fileName}`;
  return { zipUrl, checksumUrl: `${zipUrl}.CHECKSUM`, fileName };
}
