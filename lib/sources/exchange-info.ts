/**
 * Binance's symbol lists (issue 10, `klines symbols` and `--symbols-regex`): `GET
 * /api/v3/exchangeInfo` (spot, weight 20), `/fapi/v1/exchangeInfo` (USD-M, weight 1) and
 * `/dapi/v1/exchangeInfo` (COIN-M, weight 1), per the Binance API docs ("Exchange Information").
 * Each answers `{ timezone, serverTime, rateLimits, symbols: [...] }`; a symbol's state is
 * `status` on spot and USD-M and `contractStatus` on COIN-M, and the futures give `onboardDate`
 * (UTC epoch ms) where spot gives none.
 */
import { DataValidationError, UpstreamError } from '../domain/errors.ts';
import type { Market } from '../domain/markets.ts';
import type { HttpClient } from './http-client.ts';

/** exchangeInfo path per market (Binance API docs). */
export const EXCHANGE_INFO_PATH: Readonly<Record<Market, string>> = {
  spot: '/api/v3/exchangeInfo', um: '/fapi/v1/exchangeInfo', cm: '/dapi/v1/exchangeInfo',
};

/** The status of a symbol that can be traded now (Binance API docs, "Symbol status"). */
export const TRADING_STATUS = 'TRADING';

/** One symbol: its name, its status (`TRADING`, `BREAK`, `SETTLING`, …), its onboard date when Binance gives one. */
export interface SymbolInfo {
  readonly symbol: string;
  readonly status: string;
  /** UTC epoch ms (futures only). */
  readonly onboardMs?: number | undefined;
}

/** Reads a market's symbols. */
export interface ExchangeInfoSource {
  /** Every symbol of the market, in Binance's order. Throws UpstreamError or DataValidationError. */
  fetchSymbols(market: Market, signal?: AbortSignal): Promise<SymbolInfo[]>;
}

/** Base URLs per market (BINANCE_SPOT_API_URL, BINANCE_UM_API_URL, BINANCE_CM_API_URL) and the shared HTTP client. */
export interface ExchangeInfoOptions {
  readonly spotUrl: string;
  readonly umUrl: string;
  readonly cmUrl: string;
  readonly http: HttpClient;
}

/** Builds the source (one GET per call, under the HTTP client's retry policy). */
export function createExchangeInfoSource(options: ExchangeInfoOptions): ExchangeInfoSource {
  const baseUrls: Record<Market, string> = { spot: options.spotUrl, um: options.umUrl, cm: options.cmUrl };
  return {
    async fetchSymbols(market, signal) {
      const path = EXCHANGE_INFO_PATH[market];
      const url = `${baseUrls[market].replace(/\/+$/, '')}${path}`;
      try {
        const response = await options.http.get(url, { signal });
        return parseExchangeInfo(response.body.toString('utf8'), market);
      } catch (error) {
        if (error instanceof UpstreamError) {
          throw new UpstreamError(`REST ${path}: could not list the ${market} symbols: ${error.message}`, { code: error.code, cause: error, details: { ...error.details, market } });
        }
        throw error;
      }
    },
  };
}

/**
 * Parses an exchangeInfo body into SymbolInfo, reading `status` (spot, USD-M) or
 * `contractStatus` (COIN-M) and `onboardDate`. Throws DataValidationError naming the market and
 * what is missing when the body is not an exchangeInfo answer.
 */
export function parseExchangeInfo(body: string, market: Market): SymbolInfo[] {
  const context = `REST ${EXCHANGE_INFO_PATH[market]}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new DataValidationError(`${context}: the answer is not JSON: "${body.slice(0, 200)}"`);
  }
  const symbols = (parsed as { symbols?: unknown } | null)?.symbols;
  if (!Array.isArray(symbols)) throw new DataValidationError(`${context}: the answer has no symbols array`);
  return symbols.map((item: unknown, i) => {
    const entry = (item ?? {}) as { symbol?: unknown; status?: unknown; contractStatus?: unknown; onboardDate?: unknown };
    const status = entry.status ?? entry.contractStatus;
    if (typeof entry.symbol !== 'string' || typeof status !== 'string') {
      throw new DataValidationError(`${context}: symbols[${i}] has no symbol or status: ${JSON.stringify(item)?.slice(0, 200)}`);
    }
    const onboardMs = typeof entry.onboardDate === 'number' && Number.isFinite(entry.onboardDate) ? entry.onboardDate : undefined;
    return { symbol: entry.symbol, status, ...(onboardMs === undefined ? {} : { onboardMs }) };
  });
}
