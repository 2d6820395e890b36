/**
 * Turns the public form of a request (strings from a CLI, an HTTP query or a Lambda payload) into
 * a validated KlinesRequest. Public bounds are inclusive on open_time, as Binance REST's
 * startTime/endTime (DESIGN.md, Words: "range"); inside, ranges are half-open.
 */
import { InvalidInputError } from '../domain/errors.ts';
import { closedEndMs, DAY_MS, parseInterval } from '../domain/intervals.ts';
import { parseKlineDataType } from '../domain/data-types.ts';
import { datasetOf, type Dataset } from '../domain/kline.ts';
import { MARKET_FIRST_MS, parseMarket } from '../domain/markets.ts';
import { formatRange, inclusiveToRange, type Range } from '../domain/ranges.ts';
import { parseSymbol } from '../domain/symbols.ts';
import { formatTime, parseTime } from '../domain/time.ts';
import type { SourceMode } from './plan.ts';

/** The public request: every field a string as typed by a user. `end` is optional. */
export interface PublicKlinesQuery {
  readonly market?: string | undefined;
  readonly symbol: string;
  readonly interval: string;
  /** First open_time; give it or `days`, not both. */
  readonly start?: string | undefined;
  readonly end?: string | undefined;
  /** The last N whole days (N × 24 h) up to `end` (default: the last closed candle), in place of `start`. */
  readonly days?: string | undefined;
  readonly source?: string | undefined;
  /** A kline-shaped series (data-types.ts); default `klines`. */
  readonly dataType?: string | undefined;
}

/**
 * A validated request. `range` is half-open, starts at or after the market's first month and ends
 * at or before the last closed candle; `notices` says when a bound was moved to get there.
 */
export interface ResolvedQuery {
  readonly dataset: Dataset;
  readonly range: Range;
  readonly source: SourceMode;
  readonly notices: readonly string[];
}

const SOURCES: readonly SourceMode[] = ['auto', 'vision', 'rest'];

/** The upstream choice a caller typed (`auto` when absent), trimmed and lower-cased. Throws InvalidInputError naming the accepted ones. */
export function parseSourceMode(text: string | undefined): SourceMode {
  const source = (text ?? 'auto').trim().toLowerCase();
  if (!(SOURCES as readonly string[]).includes(source)) throw new InvalidInputError(`source: "${text}" is not a source; use one of ${SOURCES.join(', ')}`, { source: text });
  return source as SourceMode;
}

/**
 * Validates a public query at `nowMs`. `market` defaults to spot. `end` defaults to the last
 * closed candle, and an `end` past it is clamped to it (the unfinished candle is never part of an
 * answer). `days` N in place of `start` asks for the N × 24 h before that (clamped) end.
 * A `start` before the market's first month (MARKET_FIRST_MS) is moved to it. Both moves are
 * said in `notices`. Throws InvalidInputError when a field is malformed, `start` and `days` are
 * both or neither given, `start` is in the future, `start` is after `end`, `end` is before the
 * market's first month, no candle at or after `start` has closed yet, or `dataType` is unknown,
 * not kline-shaped (fundingRate), or futures-only on spot (data-types.ts).
 */
export function resolveQuery(query: PublicKlinesQuery, nowMs: number): ResolvedQuery {
  const market = parseMarket(query.market ?? 'spot');
  const symbol = parseSymbol(query.symbol);
  const interval = parseInterval(query.interval, market);
  const dataType = parseKlineDataType(query.dataType, market);
  const source = parseSourceMode(query.source);
  const lastClosedOpenMs = closedEndMs(nowMs, interval) - 1;
  const requestedEndMs = query.end === undefined || query.end === '' ? lastClosedOpenMs : parseTime(query.end, 'end');
  const startMs = resolveStartMs(query, Math.min(requestedEndMs, lastClosedOpenMs) + 1);
  if (startMs > nowMs) {
    throw new InvalidInputError(`start: ${formatTime(startMs)} is in the future (now is ${formatTime(nowMs)})`, { start: query.start });
  }
  const range = inclusiveToRange(startMs, requestedEndMs);
  const firstMs = MARKET_FIRST_MS[market];
  if (range.endMs <= firstMs) {
    throw new InvalidInputError(
      `end: ${formatTime(requestedEndMs)} is before Binance ${market} opened (${formatTime(firstMs)}); no candle exists there`, { end: query.end },
    );
  }
  const clamped = { startMs: Math.max(range.startMs, firstMs), endMs: Math.min(range.endMs, lastClosedOpenMs + 1) };
  const notices: string[] = [];
  if (clamped.startMs > range.startMs) notices.push(`start ${formatTime(startMs)} moved to ${formatTime(firstMs)}, when Binance ${market} opened`);
  if (query.end && clamped.endMs < range.endMs) notices.push(`end ${formatTime(requestedEndMs)} moved back: ${interval} candles opening from ${formatTime(lastClosedOpenMs + 1)} on have not closed yet`);
  if (clamped.endMs <= clamped.startMs) {
    throw new InvalidInputError(
      `start: no ${interval} candle opening at or after ${formatTime(startMs)} has closed yet (now is ${formatTime(nowMs)}); requested ${formatRange(range)}`,
      { start: query.start },
    );
  }
  return { dataset: datasetOf(market, symbol, interval, dataType), range: clamped, source: source as SourceMode, notices };
}

/** Most days `days` accepts (100 years). */
const MAX_DAYS = 36_500;

/**
 * The first open_time: `start` parsed, or `endMs` (exclusive) minus `days` × 24 h. Throws
 * InvalidInputError when both or neither are given, or `days` is not a whole number 1…36500.
 */
export function resolveStartMs(query: Pick<PublicKlinesQuery, 'start' | 'days'>, endMs: number): number {
  const hasStart = query.start !== undefined && query.start !== '';
  const hasDays = query.days !== undefined && query.days !== '';
  if (hasStart && hasDays) throw new InvalidInputError('start and days: give one of them, not both', { start: query.start, days: query.days });
  if (hasStart) return parseTime(query.start!, 'start');
  if (!hasDays) throw new InvalidInputError('start: required (ISO-8601 or epoch ms), or days: the last N days', {});
  const text = query.days!.trim();
  const days = Number(text);
  if (!/^\d{1,6}$/.test(text) || days < 1 || days > MAX_DAYS) {
    throw new InvalidInputError(`days: "${query.days}" is not a number of days; use a whole number from 1 to ${MAX_DAYS}`, { days: query.days });
  }
  return endMs - days * DAY_MS;
}
