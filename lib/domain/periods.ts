/**
 * Cache partitions ("periods"): one Parquet file per dataset period, keyed as in the seed docs
 * with Parquet in place of Arrow (DESIGN.md, Storage). The period length follows the interval so
 * files are neither tiny nor huge: daily for `1s` (86,400 rows), monthly for `1m` … `12h`
 * (at most 44,640 rows), yearly for `1d` and longer (at most 366 rows; our decision, see README).
 */
import type { Interval } from './intervals.ts';
import { dataTypeOf, type Dataset } from './kline.ts';
import { splitByDay, splitByMonth, splitByYear, utcDayStart, utcMonthStart, utcYearStart, type Range } from './ranges.ts';

export type Granularity = 'daily' | 'monthly' | 'yearly';

/** One partition of a dataset: its key (`2024-01-15`, `2024-01`, `2024`) and its open_time range. */
export interface Period {
  readonly granularity: Granularity;
  readonly key: string;
  readonly range: Range;
}

/** The partition length used for an interval. */
export function granularityFor(interval: Interval): Granularity {
  if (interval === '1s') return 'daily';
  if (interval === '1d' || interval === '3d' || interval === '1w' || interval === '1M') return 'yearly';
  return 'monthly';
}

/** The period that holds open_time `ms`. */
export function periodOf(ms: number, granularity: Granularity): Period {
  const iso = new Date(ms).toISOString();
  if (granularity === 'daily') {
    const startMs = utcDayStart(ms);
    return { granularity, key: iso.slice(0, 10), range: { startMs, endMs: startMs + 86_400_000 } };
  }
  if (granularity === 'monthly') {
    return { granularity, key: iso.slice(0, 7), range: { startMs: utcMonthStart(ms), endMs: utcMonthStart(ms, 1) } };
  }
  return { granularity, key: iso.slice(0, 4), range: { startMs: utcYearStart(ms), endMs: utcYearStart(ms, 1) } };
}

/** The periods a range touches, in order. */
export function periodsInRange(range: Range, granularity: Granularity): Period[] {
  const split = granularity === 'daily' ? splitByDay : granularity === 'monthly' ? splitByMonth : splitByYear;
  return split(range).map((piece) => periodOf(piece.startMs, granularity));
}

/**
 * Folder of a dataset's partitions, relative to the cache root: `binance/spot/klines/monthly/BTCUSDT/1m`,
 * `binance/um/markPriceKlines/monthly/BTCUSDT/1h` (the data type is the seed's `{data_nature}` level).
 */
export function datasetFolder(dataset: Dataset, granularity: Granularity): string {
  return `binance/${dataset.market}/${dataTypeOf(dataset)}/${granularity}/${dataset.symbol}/${dataset.interval}`;
}

/** Canonical (compacted) file of a period: `binance/spot/klines/monthly/BTCUSDT/1m/2024-01.parquet`. */
export function canonicalKey(dataset: Dataset, period: Period): string {
  return `${datasetFolder(dataset, period.granularity)}/${period.key}.parquet`;
}

/**
 * An immutable part appended to a period before it is compacted:
 * `binance/spot/klines/monthly/BTCUSDT/1m/2024-01.parts/{partId}.parquet`. Parts live in a
 * sub-folder so a reader globbing `*.parquet` in the interval folder sees canonical files only.
 */
export function partKey(dataset: Dataset, period: Period, partId: string): string {
  return `${datasetFolder(dataset, period.granularity)}/${period.key}.parts/${partId}.parquet`;
}
