/**
 * The REST half of the fake Binance: `GET /api/v3/klines`, `/fapi/v1/klines`, `/dapi/v1/klines`
 * answered from the real data universe with Binance's semantics as recorded in
 * SOURCES.md ("REST behaviour seen in the recorded responses") and the Binance API docs
 * ("Kline/Candlestick Data": limits, weights, error codes).
 */
import type { Interval } from '../../lib/domain/intervals.ts';
import type { Market } from '../../lib/domain/markets.ts';
import type { Reply } from './fake-binance.ts';
import { findRealDataset, type RealRow, type RealUniverse } from './real-data.ts';

/** A REST answer and the request weight Binance would charge for it. */
export interface RestAnswer {
  readonly reply: Reply;
  readonly weight: number;
}

/** Answers one klines request; `query` holds the raw query parameters, `nowMs` the fake's clock. */
export type RestHandler = (path: string, query: Readonly<Record<string, string>>, nowMs: number) => RestAnswer;

/** Market of each REST klines path (DESIGN.md, Words). */
export const REST_MARKET_BY_PATH: Readonly<Record<string, Market>> = {
  '/api/v3/klines': 'spot', '/fapi/v1/klines': 'um', '/dapi/v1/klines': 'cm',
};

const MAX_LIMIT: Record<Market, number> = { spot: 1000, um: 1500, cm: 1500 };
const DEFAULT_LIMIT = 500;
const CM_MAX_WINDOW_MS = 200 * 86_400_000;
const FUTURES_INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M'];
const INTERVALS_BY_MARKET: Record<Market, readonly string[]> = { spot: ['1s', ...FUTURES_INTERVALS], um: FUTURES_INTERVALS, cm: FUTURES_INTERVALS };

/** Creates the handler. Symbols known to a market are those with any real dataset in it. */
export function createRestHandler(universe: RealUniverse): RestHandler {
  const symbolsByMarket = new Map<Market, Set<string>>();
  for (const dataset of universe.datasets.values()) {
    const symbols = symbolsByMarket.get(dataset.market) ?? new Set<string>();
    symbols.add(dataset.symbol);
    symbolsByMarket.set(dataset.market, symbols);
  }

  return (path, query, nowMs) => {
    const market = REST_MARKET_BY_PATH[path];
    if (!market) throw new Error(`fake-binance: ${path} is not a klines path`);
    const limitText = query.limit;
    const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText);
    const weight = requestWeight(market, Number.isFinite(limit) ? limit : DEFAULT_LIMIT);
    const invalid = validate(market, query, limit, symbolsByMarket.get(market));
    if (invalid) return { reply: invalid, weight };
    if (market === 'cm' && query.startTime !== undefined && query.endTime !== undefined
      && Number(query.endTime) - Number(query.startTime) > CM_MAX_WINDOW_MS) {
      return { reply: jsonReply(400, universe.cmWindowErrorBody), weight };
    }
    const dataset = findRealDataset(universe, market, query.symbol!, query.interval as Interval);
    const rows = selectRows(dataset?.rows ?? [], query, limit, nowMs);
    return { reply: jsonReply(200, JSON.stringify(rows.map(toRestArray))), weight };
  };
}

/**
 * Weight of a klines request: spot 2; futures 1/2/5/10 for limit < 100 / < 500 / ≤ 1000 / above
 * (Binance API docs). Written out here rather than imported so the fake stays independent of
 * the code it tests.
 */
function requestWeight(market: Market, limit: number): number {
  if (market === 'spot') return 2;
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

/** The first failing check as Binance's 400 error, or undefined when the request is valid. */
function validate(market: Market, query: Readonly<Record<string, string>>, limit: number, symbols: Set<string> | undefined): Reply | undefined {
  for (const name of ['symbol', 'interval']) {
    if (!query[name]) return binanceError(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
  }
  if (!INTERVALS_BY_MARKET[market].includes(query.interval!)) return binanceError(-1120, 'Invalid interval.');
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT[market]) {
    return binanceError(-1130, "Data sent for parameter 'limit' is not valid.");
  }
  for (const name of ['startTime', 'endTime']) {
    const value = query[name];
    if (value !== undefined && !/^[0-9]{1,20}$/.test(value)) {
      return binanceError(-1100, `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`);
    }
  }
  if (!symbols?.has(query.symbol!)) return binanceError(-1121, 'Invalid symbol.');
  if (query.startTime !== undefined && query.endTime !== undefined && Number(query.startTime) > Number(query.endTime)) {
    return binanceError(-1023, 'Start time is greater than end time.');
  }
  return undefined;
}

/**
 * Binance's page selection: startTime and endTime are inclusive bounds on open_time; with
 * startTime the first `limit` rows from it, without it the last `limit` rows up to endTime (or
 * now). Nothing opening after now exists yet; the candle containing now is returned as is, its
 * close_time still in the future, which is how clients recognise it as unfinished.
 */
function selectRows(rows: readonly RealRow[], query: Readonly<Record<string, string>>, limit: number, nowMs: number): RealRow[] {
  const startMs = query.startTime === undefined ? undefined : Number(query.startTime);
  const lastOpenMs = Math.min(nowMs, query.endTime === undefined ? Infinity : Number(query.endTime));
  const inRange = rows.filter((row) => row.openMs <= lastOpenMs && (startMs === undefined || row.openMs >= startMs));
  return startMs === undefined ? inRange.slice(-limit) : inRange.slice(0, limit);
}

/** `[openMs, "open", "high", "low", "close", "volume", closeMs, "quoteVolume", trades, "takerBuyVolume", "takerBuyQuoteVolume", "0"]` */
function toRestArray(row: RealRow): (number | string)[] {
  const f = row.fields;
  return [row.openMs, f[1]!, f[2]!, f[3]!, f[4]!, f[5]!, row.closeMs, f[7]!, Number(f[8]), f[9]!, f[10]!, f[11]!];
}

function binanceError(code: number, msg: string): Reply {
  return jsonReply(400, JSON.stringify({ code, msg }));
}

function jsonReply(status: number, body: string): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body };
}
