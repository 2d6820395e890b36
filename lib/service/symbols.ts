/**
 * Symbol discovery (issue 10): a market's symbols from exchangeInfo, kept for a day, and symbol
 * patterns resolved against them (`--symbols-regex '.*USDT$'`, the watchlist's `symbols_regex`),
 * TRADING symbols only. The copy is kept in memory and, when a store is given, as a JSON object
 * `_meta/exchange-info/{market}.json` beside the cache (not under `binance/`, so `klines validate`
 * never takes it for an orphan).
 */
import { InvalidInputError } from '../domain/errors.ts';
import type { Market } from '../domain/markets.ts';
import type { Config } from '../config.ts';
import { createExchangeInfoSource, TRADING_STATUS, type ExchangeInfoSource, type SymbolInfo } from '../sources/exchange-info.ts';
import { createLazyHttpClient } from '../sources/lazy-http-client.ts';
import type { ObjectStore } from '../store/types.ts';

/** How long a market's symbol list is kept before exchangeInfo is asked again: a day. */
export const SYMBOLS_MAX_AGE_MS = 86_400_000;

/** What the directory needs; `nowMs` is the injectable clock (KLINES_NOW). */
export interface SymbolDirectoryDeps {
  readonly source: ExchangeInfoSource;
  readonly store?: ObjectStore | undefined;
  readonly nowMs: () => number;
  readonly maxAgeMs?: number;
}

/** A market's symbols and when they were fetched (UTC epoch ms). */
export interface SymbolList {
  readonly market: Market;
  readonly fetchedAtMs: number;
  readonly symbols: readonly SymbolInfo[];
}

/** Cached symbol lists. */
export interface SymbolDirectory {
  /** The market's symbols, from a copy younger than a day or from exchangeInfo. Throws what the source throws. */
  list(market: Market, signal?: AbortSignal): Promise<SymbolList>;
  /** The TRADING symbols whose whole name matches `pattern`, sorted. Throws InvalidInputError for a bad pattern. */
  resolve(market: Market, pattern: string, signal?: AbortSignal): Promise<string[]>;
}

/** Builds the directory. */
export function createSymbolDirectory(deps: SymbolDirectoryDeps): SymbolDirectory {
  const maxAgeMs = deps.maxAgeMs ?? SYMBOLS_MAX_AGE_MS;
  const inMemory = new Map<Market, SymbolList>();
  const fresh = (list: SymbolList | undefined): list is SymbolList => list !== undefined && deps.nowMs() - list.fetchedAtMs < maxAgeMs && deps.nowMs() >= list.fetchedAtMs;

  const list = async (market: Market, signal?: AbortSignal): Promise<SymbolList> => {
    const held = inMemory.get(market);
    if (fresh(held)) return held;
    const key = `_meta/exchange-info/${market}.json`;
    const stored = deps.store ? decode(await deps.store.get(key), market) : undefined;
    if (fresh(stored)) {
      inMemory.set(market, stored);
      return stored;
    }
    const fetched: SymbolList = { market, fetchedAtMs: deps.nowMs(), symbols: await deps.source.fetchSymbols(market, signal) };
    inMemory.set(market, fetched);
    await deps.store?.put(key, new TextEncoder().encode(JSON.stringify(fetched)));
    return fetched;
  };

  return {
    list,
    async resolve(market, pattern, signal) {
      const regex = compilePattern(pattern);
      const { symbols } = await list(market, signal);
      return symbols.filter((s) => s.status === TRADING_STATUS && regex.test(s.symbol)).map((s) => s.symbol).sort();
    },
  };
}

/**
 * A symbol pattern as a regular expression matched against the whole symbol (`.*USDT` matches
 * BTCUSDT, not BTCUSDT_PERP's `USDT` inside). Throws InvalidInputError naming the pattern.
 */
export function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    throw new InvalidInputError(`symbols regex: "${pattern}" is not a regular expression (${(error as Error).message})`, { pattern });
  }
}

function decode(body: Uint8Array | undefined, market: Market): SymbolList | undefined {
  if (!body) return undefined;
  try {
    const list = JSON.parse(new TextDecoder().decode(body)) as SymbolList;
    return list.market === market && Number.isFinite(list.fetchedAtMs) && Array.isArray(list.symbols) ? list : undefined;
  } catch {
    return undefined; // a damaged copy is fetched anew
  }
}

/**
 * The symbol directory for `config` (issue 10: `klines symbols`, `--symbols-regex`, watchlist
 * patterns): exchangeInfo at the configured REST bases, kept a day in `store` when given.
 */
export function createSymbolDirectoryFromConfig(config: Config, store?: ObjectStore): SymbolDirectory {
  const source = createExchangeInfoSource({ spotUrl: config.spotApiUrl, umUrl: config.umApiUrl, cmUrl: config.cmApiUrl, http: createLazyHttpClient() });
  return createSymbolDirectory({ source, store, nowMs: () => config.nowMs ?? Date.now() });
}
