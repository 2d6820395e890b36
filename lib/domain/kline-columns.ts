/**
 * Klines as columns: one Float64Array per kline column, sorted by open_time. Large answers live
 * in this form (a year of 1m is 525,600 rows: 46 MB as columns, about 160 MB as objects, whose
 * number fields V8 boxes one by one), and row objects are built only when a caller asks for them.
 * Units as in kline.ts: times UTC epoch ms, float64 values as published.
 */
import { DataValidationError } from './errors.ts';
import { KLINE_COLUMNS, klineProblem, mergeKlines, type Kline, type KlineOrigin, type SourcedKline } from './kline.ts';

type Column = (typeof KLINE_COLUMNS)[number];

/** Columns of `length` rows, sorted by open_time, one row per open_time. */
export type KlineColumns = { readonly length: number } & { readonly [C in Column]: Float64Array };

/** Source codes of SourcedColumns.sources (index into this list). */
export const ORIGINS: readonly KlineOrigin[] = ['cache', 'vision', 'rest'];

/** Columns with the source of each row (a code into ORIGINS). */
export interface SourcedColumns {
  readonly columns: KlineColumns;
  readonly sources: Uint8Array;
}

/** Empty columns. */
export function emptyColumns(): KlineColumns {
  return allocateColumns(0);
}

/** Columns of `length` zeroed rows, to be filled. */
export function allocateColumns(length: number): KlineColumns {
  const columns: Record<string, unknown> = { length };
  for (const name of KLINE_COLUMNS) columns[name] = new Float64Array(length);
  return columns as KlineColumns;
}

/** Columns from row objects (in their order). */
export function columnsFromRows(rows: readonly Kline[]): KlineColumns {
  const c = allocateColumns(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    c.open_time[i] = row.open_time;
    c.open[i] = row.open;
    c.high[i] = row.high;
    c.low[i] = row.low;
    c.close[i] = row.close;
    c.volume[i] = row.volume;
    c.close_time[i] = row.close_time;
    c.quote_volume[i] = row.quote_volume;
    c.trades[i] = row.trades;
    c.taker_buy_volume[i] = row.taker_buy_volume;
    c.taker_buy_quote_volume[i] = row.taker_buy_quote_volume;
  }
  return c;
}

/** Row `i` as a Kline object. */
export function rowAt(c: KlineColumns, i: number): Kline {
  return {
    open_time: c.open_time[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]!,
    close_time: c.close_time[i]!, quote_volume: c.quote_volume[i]!, trades: c.trades[i]!,
    taker_buy_volume: c.taker_buy_volume[i]!, taker_buy_quote_volume: c.taker_buy_quote_volume[i]!,
  };
}

/** Every row as a Kline object. */
export function rowsFromColumns(c: KlineColumns): Kline[] {
  const rows = new Array<Kline>(c.length);
  for (let i = 0; i < c.length; i++) rows[i] = rowAt(c, i);
  return rows;
}

/** Every row as a SourcedKline object (source from the row's code). */
export function sourcedRowsFromColumns({ columns: c, sources }: SourcedColumns): SourcedKline[] {
  const rows = new Array<SourcedKline>(c.length);
  for (let i = 0; i < c.length; i++) {
    rows[i] = {
      open_time: c.open_time[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]!,
      close_time: c.close_time[i]!, quote_volume: c.quote_volume[i]!, trades: c.trades[i]!,
      taker_buy_volume: c.taker_buy_volume[i]!, taker_buy_quote_volume: c.taker_buy_quote_volume[i]!, source: ORIGINS[sources[i]!]!,
    };
  }
  return rows;
}

/** First index below `length` whose time is ≥ `value` (`times` sorted: open_time, calc_time). */
export function lowerBound(times: Float64Array, length: number, value: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose open_time is ≥ `openTime` (columns sorted by open_time). */
export function lowerBoundColumns(c: KlineColumns, openTime: number): number {
  return lowerBound(c.open_time, c.length, openTime);
}

/** Rows `[from, to)` as views on the same buffers (no copy). */
export function sliceColumns(c: KlineColumns, from: number, to: number): KlineColumns {
  const out: Record<string, unknown> = { length: Math.max(0, to - from) };
  for (const name of KLINE_COLUMNS) out[name] = c[name].subarray(from, to);
  return out as KlineColumns;
}

/** The rows with open_time in the half-open `[startMs, endMs)`, as views (no copy). */
export function columnsInRange(c: KlineColumns, startMs: number, endMs: number): KlineColumns {
  return sliceColumns(c, lowerBoundColumns(c, startMs), lowerBoundColumns(c, endMs));
}

/**
 * Concatenates chunks whose rows do not overlap: sorted by their first open_time, each chunk's
 * rows must all come before the next chunk's. Returns undefined when they overlap (the caller
 * merges row by row instead). Empty chunks are skipped.
 */
export function concatDisjoint(chunks: readonly SourcedColumns[]): SourcedColumns | undefined {
  const ordered = chunks.filter((chunk) => chunk.columns.length > 0)
    .sort((a, b) => a.columns.open_time[0]! - b.columns.open_time[0]!);
  for (let i = 1; i < ordered.length; i++) {
    const previous = ordered[i - 1]!.columns;
    if (!(previous.open_time[previous.length - 1]! < ordered[i]!.columns.open_time[0]!)) return undefined;
  }
  const length = ordered.reduce((sum, chunk) => sum + chunk.columns.length, 0);
  const sources = new Uint8Array(length);
  let offset = 0;
  for (const chunk of ordered) {
    sources.set(chunk.sources, offset);
    offset += chunk.columns.length;
  }
  return { columns: concatColumns(ordered.map((chunk) => chunk.columns)), sources };
}

/** Concatenates columns in the order given (the caller guarantees they are sorted and disjoint). */
export function concatColumns(list: readonly KlineColumns[]): KlineColumns {
  if (list.length === 1) return list[0]!;
  const columns = allocateColumns(list.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const c of list) {
    for (const name of KLINE_COLUMNS) columns[name].set(c[name], offset);
    offset += c.length;
  }
  return columns;
}

/** Source codes for `length` rows all from `origin`. */
export function uniformSources(length: number, origin: KlineOrigin): Uint8Array {
  return new Uint8Array(length).fill(ORIGINS.indexOf(origin));
}

/**
 * validateKlines on columns (the same checks, in the same order, and the same message for the
 * first bad row): every value finite, integer times and trades, strictly increasing open_time,
 * `low ≤ open, close ≤ high`, non-negative volumes and trades. One pass over the columns with
 * one combined test per row; only a row that fails it is rebuilt to name the problem.
 * Throws DataValidationError `<context>: row <i> (open_time <t>) <problem>`.
 */
export function validateKlineColumns(c: KlineColumns, context: string): void {
  const {
    open_time: openTime, open, high, low, close, volume, close_time: closeTime, quote_volume: quoteVolume, trades,
    taker_buy_volume: takerBuyVolume, taker_buy_quote_volume: takerBuyQuoteVolume,
  } = c;
  let previousOpen = -Infinity;
  for (let i = 0; i < c.length; i++) {
    const ot = openTime[i]!;
    const o = open[i]!;
    const h = high[i]!;
    const l = low[i]!;
    const cl = close[i]!;
    const v = volume[i]!;
    const qv = quoteVolume[i]!;
    const tbv = takerBuyVolume[i]!;
    const tbqv = takerBuyQuoteVolume[i]!;
    const tr = trades[i]!;
    // low ≤ open, close ≤ high with both bounds finite makes open and close finite too; the
    // volumes are ≥ 0 and finite (NaN fails every comparison).
    const fine = ot > previousOpen && Number.isInteger(ot) && Number.isInteger(closeTime[i]!) && Number.isInteger(tr) && tr >= 0
      && Number.isFinite(l) && Number.isFinite(h) && l <= o && o <= h && l <= cl && cl <= h
      && v >= 0 && v < Infinity && qv >= 0 && qv < Infinity && tbv >= 0 && tbv < Infinity && tbqv >= 0 && tbqv < Infinity;
    if (!fine) {
      const problem = klineProblem(rowAt(c, i), previousOpen) ?? 'is invalid';
      throw new DataValidationError(`${context}: row ${i} (open_time ${ot}) ${problem}`, { row: i, open_time: ot });
    }
    previousOpen = ot;
  }
}

/**
 * Merges chunks into one sorted set, one row per open_time: concatenated when their rows do not
 * overlap (the usual case: periods, or gap pieces, one after another), else row by row with the
 * later chunk winning on a shared open_time (callers pass older data first).
 */
export function mergeSourcedColumns(chunks: readonly SourcedColumns[]): SourcedColumns {
  const disjoint = concatDisjoint(chunks);
  if (disjoint) return disjoint;
  const rows = mergeKlines(chunks.map(sourcedRowsFromColumns));
  return { columns: columnsFromRows(rows), sources: Uint8Array.from(rows, (row) => ORIGINS.indexOf(row.source)) };
}
