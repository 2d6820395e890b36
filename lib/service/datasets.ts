/**
 * The listing of what the cache holds (issue 10, `klines ls`, `GET /datasets`, the invoke
 * client's `listDatasets`), in the spirit of freqtrade's `list-data --show-timerange`. Built from
 * the coverage index alone (one scan of the period records, no object read), so it stays cheap
 * on S3: rows, bytes and sources come from the records' object refs, first and last open_time
 * from the refs' `firstOpenMs`/`lastOpenMs`.
 */
import { parseDataType, type DataType } from '../domain/data-types.ts';
import { dataTypeOf } from '../domain/kline.ts';
import { INTERVAL_MS, INTERVALS, parseInterval, type Interval } from '../domain/intervals.ts';
import { parseMarket, type Market } from '../domain/markets.ts';
import { parseSymbol } from '../domain/symbols.ts';
import { normalizeRanges, subtractRanges, type Range } from '../domain/ranges.ts';
import type { CoverageIndex, ObjectRef, PeriodRecord } from '../store/types.ts';
import { parseDatasetId, parseFundingDatasetId } from './cache-layout.ts';

/** The series a dataset holds, by Vision's own names (data-types.ts). */
export type { DataType } from '../domain/data-types.ts';

/** What a dataset id (`binance/um/klines/BTCUSDT/1h`, `binance/um/fundingRate/BTCUSDT`) names. */
export interface DatasetName {
  readonly market: Market;
  readonly dataType: DataType;
  readonly symbol: string;
  /** Absent for fundingRate, whose events have no interval (funding-rate.ts). */
  readonly interval?: Interval | undefined;
}

/** A period whose covered ranges hold fewer candles than the interval's grid: Binance answered them with no rows. */
export interface EmptyUpstreamPeriod {
  readonly period: string;
  /** Grid candles covered but absent (estimated from counts: off-grid candles can hide some). */
  readonly candles: number;
}

/** One cached dataset. Times are UTC epoch ms (`…Ms`) and ISO-8601 (`first`, `last`). */
export interface DatasetSummary extends DatasetName {
  readonly datasetId: string;
  /** open_time of the first and last cached candle; undefined when it holds no rows. */
  readonly firstOpenMs?: number | undefined;
  readonly lastOpenMs?: number | undefined;
  readonly first?: string | undefined;
  readonly last?: string | undefined;
  readonly rows: number;
  readonly sizeBytes: number;
  readonly sources: readonly string[];
  readonly periods: number;
  /** Merged covered ranges (half-open): what an upstream has answered. */
  readonly covered: readonly Range[];
  /** Holes between the first and last covered range that no upstream was ever asked for. */
  readonly neverFetched: readonly Range[];
  /** Periods whose covered ranges Binance answered with fewer candles than the grid holds (outages). */
  readonly emptyUpstream: readonly EmptyUpstreamPeriod[];
}

/** Which datasets to list; every field optional. */
export interface DatasetFilter {
  readonly market?: Market | undefined;
  readonly symbol?: string | undefined;
  readonly interval?: Interval | undefined;
  readonly dataType?: DataType | undefined;
}

/** The public form of a filter (CLI flags, HTTP query, invoke payload); every field optional. */
export interface PublicDatasetFilter {
  readonly market?: string | undefined;
  readonly symbol?: string | undefined;
  readonly interval?: string | undefined;
  readonly dataType?: string | undefined;
}

/**
 * Validates a public filter. Throws InvalidInputError naming the bad field (an unknown data type,
 * or a futures-only one with market spot; data-types.ts).
 */
export function parseDatasetFilter(filter: PublicDatasetFilter): DatasetFilter {
  const market = filter.market === undefined ? undefined : parseMarket(filter.market);
  const dataType = filter.dataType === undefined || filter.dataType === '' ? undefined : parseDataType(filter.dataType, market ?? 'um');
  return {
    market,
    symbol: filter.symbol === undefined ? undefined : parseSymbol(filter.symbol),
    interval: filter.interval === undefined ? undefined : parseInterval(filter.interval, market ?? 'spot'),
    dataType,
  };
}

/** What a dataset id names (cache-layout.ts, parseDatasetId); undefined for an id of another shape, which a listing skips. */
function nameOf(id: string): DatasetName | undefined {
  const funding = parseFundingDatasetId(id);
  if (funding) return { market: funding.market, dataType: 'fundingRate', symbol: funding.symbol };
  try {
    const dataset = parseDatasetId(id);
    return { market: dataset.market, dataType: dataTypeOf(dataset), symbol: dataset.symbol, interval: dataset.interval };
  } catch {
    return undefined;
  }
}

/**
 * Every cached dataset matching `filter`, sorted by market, symbol, data type and interval, from one scan of
 * the coverage index. Throws StoreError when the index cannot be read.
 */
export async function listDatasets(index: CoverageIndex, filter: DatasetFilter = {}): Promise<DatasetSummary[]> {
  const byDataset = new Map<string, { name: DatasetName; records: PeriodRecord[] }>();
  for await (const record of index.scan()) {
    const name = nameOf(record.datasetId);
    if (!name || !matches(name, filter)) continue;
    const entry = byDataset.get(record.datasetId) ?? { name, records: [] };
    entry.records.push(record);
    byDataset.set(record.datasetId, entry);
  }
  const order = (s: DatasetSummary): string => `${s.market}/${s.symbol}/${s.dataType}/${String(s.interval === undefined ? 0 : INTERVALS.indexOf(s.interval)).padStart(2, '0')}`;
  return [...byDataset.entries()]
    .map(([id, { name, records }]) => summarize(id, name, records))
    .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

function matches(name: DatasetName, filter: DatasetFilter): boolean {
  return (filter.market === undefined || name.market === filter.market)
    && (filter.symbol === undefined || name.symbol === filter.symbol)
    && (filter.interval === undefined || name.interval === filter.interval)
    && (filter.dataType === undefined || name.dataType === filter.dataType);
}

/** The summary of one dataset's period records. */
export function summarize(id: string, name: DatasetName, records: readonly PeriodRecord[]): DatasetSummary {
  const covered = normalizeRanges(records.flatMap((r) => r.covered));
  const refs = records.flatMap(refsOf);
  const firsts = records.map((r) => boundOf(r, 'first')).filter((ms): ms is number => ms !== undefined);
  const lasts = records.map((r) => boundOf(r, 'last')).filter((ms): ms is number => ms !== undefined);
  const firstOpenMs = firsts.length > 0 ? Math.min(...firsts) : undefined;
  const lastOpenMs = lasts.length > 0 ? Math.max(...lasts) : undefined;
  const span = covered.length > 0 ? [{ startMs: covered[0]!.startMs, endMs: covered[covered.length - 1]!.endMs }] : [];
  return {
    datasetId: id, ...name,
    firstOpenMs, lastOpenMs, first: iso(firstOpenMs), last: iso(lastOpenMs),
    rows: refs.reduce((sum, ref) => sum + ref.rows, 0),
    sizeBytes: refs.reduce((sum, ref) => sum + ref.sizeBytes, 0),
    sources: [...new Set(refs.flatMap((ref) => ref.sources))].sort(),
    periods: records.length,
    covered,
    neverFetched: subtractRanges(span, covered),
    emptyUpstream: records.flatMap((record) => {
      const candles = name.interval === undefined ? 0 : missingCandles(record, name.interval);
      return candles > 0 ? [{ period: record.period, candles }] : [];
    }).sort((a, b) => (a.period < b.period ? -1 : 1)),
  };
}

function refsOf(record: PeriodRecord): ObjectRef[] {
  return record.canonical ? [record.canonical, ...record.parts] : [...record.parts];
}

/**
 * First (or last) open_time a record holds: from its refs' bounds; a ref written before refs
 * carried them falls back to the record's covered bound (a candle can be no earlier/later).
 */
function boundOf(record: PeriodRecord, which: 'first' | 'last'): number | undefined {
  const values = refsOf(record).filter((ref) => ref.rows > 0).map((ref) => {
    const known = which === 'first' ? ref.firstOpenMs : ref.lastOpenMs;
    if (known !== undefined) return known;
    const covered = normalizeRanges(record.covered);
    return which === 'first' ? covered[0]?.startMs : (covered[covered.length - 1]?.endMs ?? 1) - 1;
  }).filter((ms): ms is number => ms !== undefined);
  if (values.length === 0) return undefined;
  return which === 'first' ? Math.min(...values) : Math.max(...values);
}

/** Grid candles in the record's covered ranges minus the rows it holds (0 for `3d`, whose grid Binance does not document). */
function missingCandles(record: PeriodRecord, interval: Interval): number {
  if (interval === '3d') return 0;
  const slots = normalizeRanges(record.covered).reduce((sum, range) => sum + gridSlots(range, interval), 0);
  return Math.max(0, slots - refsOf(record).reduce((sum, ref) => sum + ref.rows, 0));
}

/** Candle open times of the interval's grid inside a half-open range (month starts for `1M`, Mondays for `1w`). */
export function gridSlots(range: Range, interval: Interval): number {
  if (interval === '1M') {
    let count = 0;
    for (const d = new Date(range.startMs); ; d.setUTCMonth(d.getUTCMonth() + 1, 1)) {
      const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      if (monthStart >= range.endMs) return count;
      if (monthStart >= range.startMs) count++;
    }
  }
  const step = INTERVAL_MS[interval];
  const offset = interval === '1w' ? 4 * 86_400_000 : 0; // weekly candles open on Mondays (1970-01-05)
  return Math.max(0, Math.ceil((range.endMs - offset) / step) - Math.ceil((range.startMs - offset) / step));
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
