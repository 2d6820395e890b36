import { InvalidInputError } from './errors.ts';

/** Binance markets: spot, USD-M futures (`um`), COIN-M futures (`cm`). Source: DESIGN.md, Words. */
export const MARKETS = ['spot', 'um', 'cm'] as const;
export type Market = (typeof MARKETS)[number];

/** Vision archive path segment of a market (`https://data.binance.vision/data/{path}/...`). */
export const VISION_MARKET_PATH: Record<Market, string> = {
  spot: 'spot',
  um: 'futures/um',
  cm: 'futures/cm',
};

/** REST klines endpoint path of a market (Binance spot, USD-M and COIN-M API docs). */
export const REST_KLINES_PATH: Record<Market, string> = {
  spot: '/api/v3/klines',
  um: '/fapi/v1/klines',
  cm: '/dapi/v1/klines',
};

/**
 * Rows per REST page. Spot: weight 2 for any limit up to 1000, so 1000 is cheapest.
 * Futures: weight 1 for limit < 100, 2 for < 500, 5 for ≤ 1000, 10 above, so 499 rows
 * cost 2 (the cheapest rows per weight). Source: Binance API docs, "Kline/Candlestick Data".
 */
export const REST_PAGE_LIMIT: Record<Market, number> = { spot: 1000, um: 499, cm: 499 };

/** Weight of one REST klines request with `limit` rows (same source as REST_PAGE_LIMIT). */
export function restRequestWeight(market: Market, limit: number): number {
  if (market === 'spot') return 2;
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

/** COIN-M rejects windows longer than 200 days with `-4088` (real recorded response). */
export const CM_MAX_WINDOW_MS = 200 * 86_400_000;

/**
 * The first UTC month of each market (no candle of any symbol opens before it): Binance spot
 * opened in July 2017 (first trades 2017-07-14), USD-M futures in September 2019 (BTCUSDT
 * perpetual), COIN-M futures in August 2020 (BTCUSD_PERP). Month starts, so no real candle is cut.
 */
export const MARKET_FIRST_MS: Record<Market, number> = {
  spot: Date.UTC(2017, 6, 1),
  um: Date.UTC(2019, 8, 1),
  cm: Date.UTC(2020, 7, 1),
};

/** Parses a market name. Throws InvalidInputError listing the accepted values. */
export function parseMarket(value: string): Market {
  const lower = value.trim().toLowerCase();
  if ((MARKETS as readonly string[]).includes(lower)) return lower as Market;
  throw new InvalidInputError(`market: "${value}" is not a market; use one of ${MARKETS.join(', ')}`, { market: value });
}
