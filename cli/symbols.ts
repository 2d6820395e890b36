/**
 * `klines symbols --market M [--regex R] [--all] [--json]` (issue 10): the market's symbols from
 * Binance's exchangeInfo, kept for a day in the cache, each with its status and onboard date where
 * Binance gives one (futures). TRADING symbols only unless `--all`.
 */
import { loadConfig } from '../lib/config.ts';
import { createCacheHandles } from '../lib/create-service.ts';
import { parseMarket } from '../lib/domain/markets.ts';
import { TRADING_STATUS } from '../lib/sources/exchange-info.ts';
import { compilePattern, createSymbolDirectoryFromConfig } from '../lib/service/symbols.ts';
import { formatTable } from './table.ts';

/** Options of `klines symbols` as commander parses them. */
export interface SymbolsOptions {
  readonly market: string;
  readonly regex?: string;
  readonly all: boolean;
  readonly json: boolean;
}

/** Runs `klines symbols`; returns 0. Throws InvalidInputError (bad market or regex) or UpstreamError. */
export async function runSymbols(options: SymbolsOptions): Promise<number> {
  const market = parseMarket(options.market);
  const pattern = compilePattern(options.regex ?? '.*');
  const config = loadConfig();
  const list = await createSymbolDirectoryFromConfig(config, createCacheHandles(config).store).list(market);
  const symbols = list.symbols
    .filter((s) => (options.all || s.status === TRADING_STATUS) && pattern.test(s.symbol))
    .map((s) => ({ symbol: s.symbol, status: s.status, ...(s.onboardMs === undefined ? {} : { onboardMs: s.onboardMs, onboard: new Date(s.onboardMs).toISOString() }) }))
    .sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ market, fetchedAtMs: list.fetchedAtMs, symbols }, null, 2)}\n`);
  } else {
    process.stdout.write(formatTable(['symbol', 'status', 'onboard'], symbols.map((s) => [s.symbol, s.status, s.onboard ?? '-'])));
  }
  return 0;
}
