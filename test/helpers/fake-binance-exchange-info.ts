/**
 * The exchangeInfo half of the fake Binance: `GET /api/v3/exchangeInfo`, `/fapi/v1/exchangeInfo`
 * and `/dapi/v1/exchangeInfo`, listing every symbol the fake holds real data for in that market,
 * in the shape of Binance's answers (Binance API docs, "Exchange Information"), trimmed to the
 * fields a kline cache reads plus a few for realism:
 * - spot: `{ timezone, serverTime, rateLimits, exchangeFilters, symbols: [{ symbol, status,
 *   baseAsset, quoteAsset, ... }] }`, no onboard date;
 * - USD-M: `symbols: [{ symbol, pair, contractType, deliveryDate, onboardDate, status, ... }]`;
 * - COIN-M: the same with `contractStatus` in place of `status` and a `contractSize`.
 * Every symbol is TRADING. A futures `onboardDate` is the UTC day of the symbol's first recorded
 * candle (the fake's stand-in: Binance's own dates are not in the recorded data).
 * Weight: 20 on spot, 1 on futures (Binance API docs).
 */
import type { Market } from '../../lib/domain/markets.ts';
import type { RealUniverse } from './real-data.ts';
import type { RestAnswer } from './fake-binance-rest.ts';

/** Market of each exchangeInfo path. */
export const EXCHANGE_INFO_MARKET_BY_PATH: Readonly<Record<string, Market>> = {
  '/api/v3/exchangeInfo': 'spot', '/fapi/v1/exchangeInfo': 'um', '/dapi/v1/exchangeInfo': 'cm',
};

/** deliveryDate Binance gives perpetual contracts (2100-12-25 08:00 UTC). */
const PERPETUAL_DELIVERY_MS = 4_133_404_800_000;
const QUOTE_ASSETS = ['USDT', 'BUSD', 'USDC', 'BTC', 'ETH', 'BNB', 'USD'];
const DAY_MS = 86_400_000;

/** Answers one exchangeInfo request at the fake's clock `nowMs`. */
export type ExchangeInfoHandler = (path: string, nowMs: number) => RestAnswer;

/** Builds the handler from the symbols of the real data. */
export function createExchangeInfoHandler(universe: RealUniverse): ExchangeInfoHandler {
  const firstOpenBySymbol = new Map<string, number>();
  for (const dataset of universe.datasets.values()) {
    const key = `${dataset.market}/${dataset.symbol}`;
    const first = dataset.rows[0]?.openMs ?? Infinity;
    firstOpenBySymbol.set(key, Math.min(first, firstOpenBySymbol.get(key) ?? Infinity));
  }
  const symbolsOf = (market: Market): [string, number][] => [...firstOpenBySymbol.entries()]
    .filter(([key]) => key.startsWith(`${market}/`))
    .map(([key, firstMs]): [string, number] => [key.slice(market.length + 1), firstMs])
    .sort(([a], [b]) => (a < b ? -1 : 1));

  return (path, nowMs) => {
    const market = EXCHANGE_INFO_MARKET_BY_PATH[path];
    if (!market) throw new Error(`fake-binance: ${path} is not an exchangeInfo path`);
    const symbols = symbolsOf(market).map(([symbol, firstMs]) => (market === 'spot' ? spotSymbol(symbol) : futuresSymbol(market, symbol, firstMs)));
    const body = {
      timezone: 'UTC',
      serverTime: nowMs,
      ...(market === 'spot' ? {} : { futuresType: market === 'um' ? 'U_MARGINED' : 'COIN_MARGINED' }),
      rateLimits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: market === 'spot' ? 6000 : 2400 }],
      exchangeFilters: [],
      symbols,
    };
    return { reply: { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, weight: market === 'spot' ? 20 : 1 };
  };
}

function splitAssets(symbol: string): { baseAsset: string; quoteAsset: string } {
  const pair = symbol.split('_')[0]!;
  const quoteAsset = QUOTE_ASSETS.find((quote) => pair.endsWith(quote) && pair.length > quote.length) ?? '';
  return { baseAsset: pair.slice(0, pair.length - quoteAsset.length), quoteAsset };
}

function spotSymbol(symbol: string): Record<string, unknown> {
  return {
    symbol, status: 'TRADING', ...splitAssets(symbol), baseAssetPrecision: 8, quoteAssetPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
    isSpotTradingAllowed: true, isMarginTradingAllowed: true, filters: [], permissions: [], permissionSets: [['SPOT']],
  };
}

function futuresSymbol(market: Market, symbol: string, firstOpenMs: number): Record<string, unknown> {
  const assets = splitAssets(symbol);
  const common = {
    symbol, pair: symbol.split('_')[0], contractType: 'PERPETUAL', deliveryDate: PERPETUAL_DELIVERY_MS,
    onboardDate: firstOpenMs - (firstOpenMs % DAY_MS), ...assets, pricePrecision: 2, quantityPrecision: 3, underlyingType: 'COIN', filters: [],
  };
  return market === 'um'
    ? { ...common, status: 'TRADING', marginAsset: assets.quoteAsset }
    : { ...common, contractStatus: 'TRADING', contractSize: 100, marginAsset: assets.baseAsset };
}
