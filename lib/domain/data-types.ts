/**
 * The series ("data types") Binance publishes per symbol, by Vision's own folder names (issue 10,
 * item 5; the seed's `{data_nature}` path level): `klines` (trade candles) on every market, and on
 * the futures markets (um, cm) only the mark-price, index-price and premium-index candles and the
 * funding-rate events. Vision: `data/futures/{um|cm}/{daily|monthly}/{dataType}/...`.
 */
import { InvalidInputError } from './errors.ts';
import type { Market } from './markets.ts';

/** Every series, as Vision names its folder. */
export const DATA_TYPES = ['klines', 'markPriceKlines', 'indexPriceKlines', 'premiumIndexKlines', 'fundingRate'] as const;
export type DataType = (typeof DATA_TYPES)[number];

/** The series with the 12-column kline shape and an interval grid (the kline pipeline serves them). */
export type KlineDataType = Exclude<DataType, 'fundingRate'>;


/**
 * Parses a data type for a market (default `klines` when `value` is undefined or empty). Case
 * matters, as in Vision's paths. Throws InvalidInputError naming the value and what is accepted:
 * an unknown name, or a futures-only series on spot (Binance publishes none there).
 */
export function parseDataType(value: string | undefined, market: Market): DataType {
  const text = (value ?? '').trim();
  if (text === '') return 'klines';
  if (!(DATA_TYPES as readonly string[]).includes(text)) {
    throw new InvalidInputError(`data type: "${value}" is not a series; use one of ${DATA_TYPES.join(', ')}`, { dataType: value });
  }
  const dataType = text as DataType;
  if (market === 'spot' && dataType !== 'klines') { // every other series exists on the futures markets only
    throw new InvalidInputError(
      `data type: ${dataType} exists on um and cm only, not on spot; on spot use klines`, { dataType: value, market },
    );
  }
  return dataType;
}

/** Parses a kline-shaped data type (see parseDataType); fundingRate is refused with what to use instead. */
export function parseKlineDataType(value: string | undefined, market: Market): KlineDataType {
  const dataType = parseDataType(value, market);
  if (dataType === 'fundingRate') {
    throw new InvalidInputError('data type: fundingRate is a series of events, not candles; ask it without an interval', { dataType: value });
  }
  return dataType;
}

/**
 * REST path of a kline-shaped series (Binance USDⓈ-M and COIN-M API docs, "Kline/Candlestick
 * Data", "Mark Price Kline/Candlestick Data", "Index Price Kline/Candlestick Data", "Premium index
 * Kline Data"). Spot has klines only (parseDataType refuses the rest).
 */
export function restKlinesPath(market: Market, dataType: KlineDataType): string {
  if (market === 'spot') return '/api/v3/klines';
  return `${market === 'um' ? '/fapi/v1' : '/dapi/v1'}/${dataType}`;
}

/**
 * The query parameter naming the instrument, and its value: index-price klines take `pair=`
 * (the underlying, e.g. `BTCUSDT` for BTCUSDT and BTCUSDT_240329, `BTCUSD` for BTCUSD_PERP),
 * every other series `symbol=` (same API docs). The pair is the symbol up to its first `_`.
 */
export function restInstrumentParam(dataType: KlineDataType, symbol: string): { name: 'symbol' | 'pair'; value: string } {
  if (dataType !== 'indexPriceKlines') return { name: 'symbol', value: symbol };
  return { name: 'pair', value: symbol.split('_')[0]! };
}

/** REST path of the funding-rate history (Binance API docs, "Get Funding Rate History"). */
export function restFundingRatePath(market: Exclude<Market, 'spot'>): string {
  return market === 'um' ? '/fapi/v1/fundingRate' : '/dapi/v1/fundingRate';
}
