/**
 * The funding-rate series (issue 10, item 5): events, not a grid. One row per funding event of a
 * futures symbol, keyed by `calc_time` (UTC epoch ms). Columns, as Vision names them
 * (`futures/um/monthly/fundingRate/SYM/SYM-fundingRate-YYYY-MM.zip`:
 * `calc_time,funding_interval_hours,last_funding_rate`) plus REST's `markPrice`:
 * - `calc_time` (int64 ms): Vision's calc_time, REST's `fundingTime`;
 * - `funding_interval_hours`: Vision's column; NaN for a row from REST, which does not give it;
 * - `last_funding_rate` (float64): Vision's column, REST's `fundingRate`;
 * - `mark_price` (float64): REST's `markPrice`; NaN for a row from Vision, which does not give it.
 * NaN means "this upstream does not publish it" (README, "Funding rate"). A funding-rate dataset
 * has no interval: its id is `binance/{market}/fundingRate/{SYMBOL}`, its monthly partitions live
 * in `binance/{market}/fundingRate/monthly/{SYMBOL}/{YYYY-MM}.parquet`.
 */
import { DataValidationError } from './errors.ts';
import { lowerBound } from './kline-columns.ts';
import type { Market } from './markets.ts';
import type { Period } from './periods.ts';

/** A funding-rate dataset: a futures market and a symbol. */
export interface FundingDataset {
  readonly market: Exclude<Market, 'spot'>;
  readonly symbol: string;
}

/** Column order of every output and of the Parquet files. */
export const FUNDING_COLUMNS = ['calc_time', 'funding_interval_hours', 'last_funding_rate', 'mark_price'] as const;
type FundingColumn = (typeof FUNDING_COLUMNS)[number];

/** Rows as columns, sorted by calc_time, one row per calc_time. */
export type FundingColumns = { readonly length: number } & { readonly [C in FundingColumn]: Float64Array };

/** One funding event as a row object. */
export type FundingRow = { readonly [C in FundingColumn]: number };

/** `binance/um/fundingRate/BTCUSDT`: the coverage index's partition key. */
export function fundingDatasetId(dataset: FundingDataset): string {
  return `binance/${dataset.market}/fundingRate/${dataset.symbol}`;
}

/** `binance/um/fundingRate/monthly/BTCUSDT`: the folder of the dataset's monthly partitions. */
export function fundingFolder(dataset: FundingDataset): string {
  return `binance/${dataset.market}/fundingRate/monthly/${dataset.symbol}`;
}

/** Canonical file of a month: `binance/um/fundingRate/monthly/BTCUSDT/2024-01.parquet`. */
export function fundingCanonicalKey(dataset: FundingDataset, period: Period): string {
  return `${fundingFolder(dataset)}/${period.key}.parquet`;
}

/** A part of a month not yet compacted: `.../2024-01.parts/{partId}.parquet` (outside a `*.parquet` glob of the folder). */
export function fundingPartKey(dataset: FundingDataset, period: Period, partId: string): string {
  return `${fundingFolder(dataset)}/${period.key}.parts/${partId}.parquet`;
}

/** Columns of `length` zeroed rows. */
export function allocateFundingColumns(length: number): FundingColumns {
  const columns: Record<string, unknown> = { length };
  for (const name of FUNDING_COLUMNS) columns[name] = new Float64Array(length);
  return columns as FundingColumns;
}

/** Columns from rows, in their order. */
export function fundingColumnsFromRows(rows: readonly FundingRow[]): FundingColumns {
  const c = allocateFundingColumns(rows.length);
  rows.forEach((row, i) => {
    for (const name of FUNDING_COLUMNS) c[name][i] = row[name];
  });
  return c;
}

/** Row objects from columns. */
export function fundingRowsFromColumns(c: FundingColumns): FundingRow[] {
  const rows: FundingRow[] = [];
  for (let i = 0; i < c.length; i++) {
    rows.push({ calc_time: c.calc_time[i]!, funding_interval_hours: c.funding_interval_hours[i]!, last_funding_rate: c.last_funding_rate[i]!, mark_price: c.mark_price[i]! });
  }
  return rows;
}

/** The rows with calc_time in [startMs, endMs) (views on the same buffers). */
export function fundingInRange(c: FundingColumns, startMs: number, endMs: number): FundingColumns {
  const from = lowerBound(c.calc_time, c.length, startMs);
  const to = Math.max(from, lowerBound(c.calc_time, c.length, endMs));
  const out: Record<string, unknown> = { length: to - from };
  for (const name of FUNDING_COLUMNS) out[name] = c[name].subarray(from, to);
  return out as FundingColumns;
}

/**
 * What is wrong with row `i` given the previous calc_time, or undefined: calc_time a safe integer
 * after the previous one (sorted, one row per event), last_funding_rate finite,
 * funding_interval_hours NaN or a positive integer, mark_price NaN or positive.
 */
function fundingProblem(c: FundingColumns, i: number, previous: number): string | undefined {
  const time = c.calc_time[i]!;
  if (!Number.isSafeInteger(time)) return `has a non-integer calc_time: ${time}`;
  if (!(time > previous)) return `is not after the previous calc_time ${previous} (rows must be sorted, one per event)`;
  if (!Number.isFinite(c.last_funding_rate[i]!)) return `has a non-numeric last_funding_rate: ${c.last_funding_rate[i]}`;
  const hours = c.funding_interval_hours[i]!;
  if (!Number.isNaN(hours) && !(Number.isInteger(hours) && hours > 0)) return `has funding_interval_hours ${hours}, not a positive whole number`;
  const mark = c.mark_price[i]!;
  if (!Number.isNaN(mark) && !(Number.isFinite(mark) && mark > 0)) return `has mark_price ${mark}, not a positive number`;
  return undefined;
}

/** Checks rows before they may be cached. Throws DataValidationError naming `context` and the first bad row. */
export function validateFundingColumns(c: FundingColumns, context: string): void {
  let previous = -Infinity;
  for (let i = 0; i < c.length; i++) {
    const problem = fundingProblem(c, i, previous);
    if (problem) throw new DataValidationError(`${context}: row ${i} (calc_time ${c.calc_time[i]}) ${problem}`, { row: i, calc_time: c.calc_time[i] });
    previous = c.calc_time[i]!;
  }
}

/**
 * Merges pieces into one sorted list, one row per calc_time. For an event in several pieces the
 * later piece wins column by column, except that a NaN (not published by that upstream) never
 * replaces a number: a Vision row and a REST row of one event become one full row.
 */
export function mergeFunding(pieces: readonly FundingColumns[]): FundingColumns {
  const nonEmpty = pieces.filter((piece) => piece.length > 0);
  // The usual case (a month's single file, months read in order): nothing to merge, only to join.
  if (nonEmpty.every((piece, i) => i === 0 || piece.calc_time[0]! > lastCalcTime(nonEmpty[i - 1]!))) return concatFunding(nonEmpty);
  const byTime = new Map<number, Record<FundingColumn, number>>();
  for (const piece of pieces) {
    for (let i = 0; i < piece.length; i++) {
      const time = piece.calc_time[i]!;
      const row = byTime.get(time) ?? { calc_time: time, funding_interval_hours: Number.NaN, last_funding_rate: Number.NaN, mark_price: Number.NaN };
      for (const name of FUNDING_COLUMNS) if (!Number.isNaN(piece[name][i]!)) row[name] = piece[name][i]!;
      byTime.set(time, row);
    }
  }
  return fundingColumnsFromRows([...byTime.values()].sort((a, b) => a.calc_time - b.calc_time));
}

function lastCalcTime(c: FundingColumns): number {
  return c.calc_time[c.length - 1]!;
}

/** Pieces (each sorted, each after the one before) as one set of columns; a single piece is returned as it is. */
function concatFunding(pieces: readonly FundingColumns[]): FundingColumns {
  if (pieces.length === 1) return pieces[0]!;
  const out = allocateFundingColumns(pieces.reduce((n, piece) => n + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    for (const name of FUNDING_COLUMNS) out[name].set(piece[name].subarray(0, piece.length), at);
    at += piece.length;
  }
  return out;
}
