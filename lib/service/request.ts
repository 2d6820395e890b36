/**
 * Turns the public form of a request (strings from a CLI, an HTTP query or a Lambda payload) into
 * a validated KlinesRequest. Public bounds are inclusive on open_time, as Binance REST's
 * startTime/endTime (DESIGN.md, Words: "range"); inside, ranges are half-open.
 */
import { InvalidInputError } from '../domain/errors.ts';
import { closedEndMs, parseInterval } from '../domain/intervals.ts';
import type { Dataset } from '../domain/kline.ts';
import { parseMarket } from '../domain/markets.ts';
import { formatRange, inclusiveToRange, type Range } from '../domain/ranges.ts';
import { parseSymbol } from '../domain/symbols.ts';
import { formatTime, parseTime } from '../domain/time.ts';
import type { SourceMode } from './plan.ts';

/** The public request: every field a string as typed by a user. `end` is optional. */
export interface PublicKlinesQuery {
  readonly market?: string | undefined;
  readonly symbol: string;
  readonly interval: string;
  readonly start: string;
  readonly end?: string | undefined;
  readonly source?: string | undefined;
}

/** A validated request. `range` is half-open and ends at or before the last closed candle. */
export interface ResolvedQuery {
  readonly dataset: Dataset;
  readonly range: Range;
  readonly source: SourceMode;
}

const SOURCES: readonly SourceMode[] = ['auto', 'vision', 'rest'];

/**
 * Validates a public query at `nowMs`. `market` defaults to spot. `end` defaults to the last
 * closed candle, and an `end` past it is clamped to it (the unfinished candle is never part of an
 * answer). Throws InvalidInputError when a field is malformed, `start` is in the future, `start`
 * is after `end`, or no candle at or after `start` has closed yet.
 */
export function resolveQuery(query: PublicKlinesQuery, nowMs: number): ResolvedQuery {
  const market = parseMarket(query.market ?? 'spot');
  const symbol = parseSymbol(query.symbol);
  const interval = parseInterval(query.interval, market);
  const source = (query.source ?? 'auto').trim().toLowerCase();
  if (!(SOURCES as readonly string[]).includes(source)) {
    throw new InvalidInputError(`source: "${query.source}" is not a source; use one of ${SOURCES.join(', ')}`, { source: query.source });
  }
  const startMs = parseTime(query.start, 'start');
  if (startMs > nowMs) {
    throw new InvalidInputError(`start: ${formatTime(startMs)} is in the future (now is ${formatTime(nowMs)})`, { start: query.start });
  }
  const lastClosedOpenMs = closedEndMs(nowMs, interval) - 1;
  const requestedEndMs = query.end === undefined || query.end === '' ? lastClosedOpenMs : parseTime(query.end, 'end');
  const range = inclusiveToRange(startMs, requestedEndMs);
  const clamped = { startMs: range.startMs, endMs: Math.min(range.endMs, lastClosedOpenMs + 1) };
  if (clamped.endMs <= clamped.startMs) {
    throw new InvalidInputError(
      `start: no ${interval} candle opening at or after ${formatTime(startMs)} has closed yet (now is ${formatTime(nowMs)}); requested ${formatRange(range)}`,
      { start: query.start },
    );
  }
  return { dataset: { market, symbol, interval }, range: clamped, source: source as SourceMode };
}
