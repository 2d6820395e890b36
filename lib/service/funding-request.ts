/**
 * The public form of a funding-rate request (issue 10, item 5: `klines get SYMBOL --data-type
 * fundingRate`, `GET /klines?data_type=fundingRate`, the invoke payload) and its outputs. A
 * funding-rate dataset has no interval (its events come every 1, 4 or 8 hours as Binance sets
 * them), so none is taken. Bounds are inclusive on calc_time, as REST's startTime/endTime.
 */
import { parseDataType } from '../domain/data-types.ts';
import { InvalidInputError } from '../domain/errors.ts';
import { FUNDING_COLUMNS, type FundingColumns, type FundingDataset } from '../domain/funding-rate.ts';
import { MARKET_FIRST_MS, parseMarket } from '../domain/markets.ts';
import { formatRange, type Range } from '../domain/ranges.ts';
import { parseSymbol } from '../domain/symbols.ts';
import { formatTime, parseTime } from '../domain/time.ts';
import type { SourceMode } from './plan.ts';
import { parseSourceMode, resolveStartMs } from './request.ts';

/** A validated funding-rate request: range half-open on calc_time, UTC epoch ms. */
export interface ResolvedFundingQuery {
  readonly dataset: FundingDataset;
  readonly range: Range;
  readonly source: SourceMode;
}

/** The public form of a funding-rate request, strings as a caller typed them (`interval` must be absent or empty). */
export interface PublicFundingQuery {
  readonly market?: string | undefined;
  readonly symbol: string;
  readonly interval?: string | undefined;
  readonly start?: string | undefined;
  readonly end?: string | undefined;
  readonly days?: string | undefined;
  readonly source?: string | undefined;
}

/**
 * Validates a public funding query at `nowMs`: market um or cm, `start` or `days`, `end`
 * (default now; later values are clamped to now, since later events do not exist yet),
 * `interval` absent (or empty). Throws InvalidInputError naming the bad field and what is accepted.
 */
export function resolveFundingQuery(
  query: PublicFundingQuery,
  nowMs: number,
): ResolvedFundingQuery {
  const market = parseMarket(query.market ?? 'um');
  parseDataType('fundingRate', market); // spot: "exists on um and cm only"
  if (query.interval !== undefined && query.interval !== '') {
    throw new InvalidInputError(`interval: a fundingRate dataset has none (its events come every 1, 4 or 8 hours); leave "${query.interval}" out`, { interval: query.interval });
  }
  const source = parseSourceMode(query.source);
  const endMs = Math.min(query.end === undefined || query.end === '' ? nowMs : parseTime(query.end, 'end'), nowMs) + 1;
  const startMs = Math.max(resolveStartMs(query, endMs), MARKET_FIRST_MS[market]);
  if (!(endMs > startMs)) {
    throw new InvalidInputError(`start: no funding event can lie in ${formatRange({ startMs, endMs })} (now is ${formatTime(nowMs)})`, { start: query.start });
  }
  return { dataset: { market: market as FundingDataset['market'], symbol: parseSymbol(query.symbol) }, range: { startMs, endMs }, source };
}

/** CSV of the events: a header row of FUNDING_COLUMNS, NaN (not published by that upstream) as an empty field. */
export function fundingCsv(columns: FundingColumns, isoTimes: boolean): string {
  const lines = [FUNDING_COLUMNS.join(',')];
  for (let i = 0; i < columns.length; i++) {
    lines.push(FUNDING_COLUMNS.map((name) => text(columns[name][i]!, name === 'calc_time' && isoTimes)).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** The events as objects keyed by column name: NaN (not published by that upstream) as null, calc_time a number or an ISO string. */
export function fundingRecords(columns: FundingColumns, isoTimes: boolean): Record<string, number | string | null>[] {
  const rows: Record<string, number | string | null>[] = [];
  for (let i = 0; i < columns.length; i++) {
    rows.push(Object.fromEntries(FUNDING_COLUMNS.map((name) => {
      const value = columns[name][i]!;
      return [name, name === 'calc_time' && isoTimes ? new Date(value).toISOString() : Number.isNaN(value) ? null : value];
    })));
  }
  return rows;
}

/** JSON array of the events (fundingRecords). */
export function fundingJson(columns: FundingColumns, isoTimes: boolean): string {
  return JSON.stringify(fundingRecords(columns, isoTimes));
}

function text(value: number, iso: boolean): string {
  if (iso) return new Date(value).toISOString();
  return Number.isNaN(value) ? '' : String(value);
}
