/**
 * The kline (OHLCV candle) schema: column names as Binance and DESIGN.md (Words) spell them.
 * Times are UTC epoch ms; prices and volumes float64 as published; trades an integer.
 */
import { DataValidationError } from './errors.ts';
import type { Market } from './markets.ts';
import type { Interval } from './intervals.ts';
import type { KlineDataType } from './data-types.ts';

/** Where a row of an answer came from (the seed docs' `_data_source`). */
export type KlineOrigin = 'cache' | 'vision' | 'rest';

/** One closed candle. `open_time`/`close_time` are UTC epoch ms. */
export interface Kline {
  open_time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  close_time: number;
  quote_volume: number;
  trades: number;
  taker_buy_volume: number;
  taker_buy_quote_volume: number;
}

/** A candle of an answer, tagged with where it came from. */
export interface SourcedKline extends Kline {
  source: KlineOrigin;
}

/** Column order of every output (CSV header, Parquet schema, JSON keys). */
export const KLINE_COLUMNS = [
  'open_time', 'open', 'high', 'low', 'close', 'volume', 'close_time',
  'quote_volume', 'trades', 'taker_buy_volume', 'taker_buy_quote_volume',
] as const satisfies readonly (keyof Kline)[];

/** Integer columns (int64 in Parquet); all others are float64. */
export const INTEGER_COLUMNS = new Set<keyof Kline>(['open_time', 'close_time', 'trades']);

/**
 * A dataset: (exchange, market, data type, symbol, interval), DESIGN.md, Words; the data type is
 * one of the kline-shaped series (data-types.ts), `klines` when absent.
 */
export interface Dataset {
  readonly market: Market;
  readonly symbol: string;
  readonly interval: Interval;
  /** `klines` when absent (every dataset cached before issue 10 has none). */
  readonly dataType?: KlineDataType | undefined;
}

/** A dataset, with `dataType` left out for klines (so klines datasets compare equal to those built before issue 10). */
export function datasetOf(market: Market, symbol: string, interval: Interval, dataType: KlineDataType = 'klines'): Dataset {
  return dataType === 'klines' ? { market, symbol, interval } : { market, symbol, interval, dataType };
}

/** The data type of a dataset: its `dataType`, or `klines`. */
export function dataTypeOf(dataset: Pick<Dataset, 'dataType'>): KlineDataType {
  return dataset.dataType ?? 'klines';
}

/** A dataset as error messages name it: `BTCUSDT 1m (spot)`. */
export function datasetLabel(dataset: Dataset): string {
  return `${dataset.symbol} ${dataset.interval} (${dataset.market})`;
}

/**
 * Stable id of a dataset, used as the coverage index's partition key:
 * `binance/spot/klines/BTCUSDT/1m`, `binance/um/markPriceKlines/BTCUSDT/1h`. Klines ids are those
 * of every earlier release, so existing caches need no migration.
 */
export function datasetId(dataset: Dataset): string {
  return `binance/${dataset.market}/${dataTypeOf(dataset)}/${dataset.symbol}/${dataset.interval}`;
}

/**
 * Checks rows before they may be cached (DESIGN.md, flow step 3): every column a finite number,
 * integer times and trades, strictly increasing open_time (so one row per open_time),
 * `low ≤ open, close ≤ high`, non-negative volumes and trades.
 * close_time is deliberately not checked against open_time: real spot files hold candles that
 * close early, late, or even before they open (SOURCES.md, "Candles that break ...").
 * Throws DataValidationError naming the first bad row and what was wrong.
 */
export function validateKlines(rows: readonly Kline[], context: string): void {
  let previousOpen = -Infinity;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const problem = klineProblem(row, previousOpen);
    if (problem) {
      throw new DataValidationError(`${context}: row ${i} (open_time ${row.open_time}) ${problem}`, { row: i, open_time: row.open_time });
    }
    previousOpen = row.open_time;
  }
}

/**
 * What validateKlines finds wrong with one row given the previous row's open_time (-Infinity for
 * the first), e.g. `has low 5 above high 4`; undefined when the row is fine.
 */
export function klineProblem(row: Kline, previousOpen: number): string | undefined {
  for (const column of KLINE_COLUMNS) {
    const value = row[column];
    if (typeof value !== 'number' || !Number.isFinite(value)) return `has a non-numeric ${column}: ${String(value)}`;
    if (INTEGER_COLUMNS.has(column) && !Number.isInteger(value)) return `has a non-integer ${column}: ${value}`;
  }
  if (row.open_time <= previousOpen) return `is not after the previous open_time ${previousOpen} (rows must be sorted, one per open_time)`;
  if (row.low > row.high) return `has low ${row.low} above high ${row.high}`;
  if (row.open < row.low || row.open > row.high) return `has open ${row.open} outside [low ${row.low}, high ${row.high}]`;
  if (row.close < row.low || row.close > row.high) return `has close ${row.close} outside [low ${row.low}, high ${row.high}]`;
  if (row.volume < 0 || row.quote_volume < 0 || row.taker_buy_volume < 0 || row.taker_buy_quote_volume < 0) return 'has a negative volume';
  if (row.trades < 0) return `has negative trades ${row.trades}`;
  return undefined;
}

/**
 * Merges row lists into one sorted by open_time with one row per open_time; where two lists
 * hold the same open_time the later list wins (callers pass older data first). Columnar data
 * that does not overlap is concatenated without it (kline-columns.ts, mergeSourcedColumns).
 */
export function mergeKlines<T extends Kline>(lists: readonly (readonly T[])[]): T[] {
  const byOpen = new Map<number, T>();
  for (const list of lists) for (const row of list) byOpen.set(row.open_time, row);
  return [...byOpen.values()].sort((a, b) => a.open_time - b.open_time);
}
