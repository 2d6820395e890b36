import { InvalidInputError } from './errors.ts';

const SYMBOL_PATTERN = /^[A-Z0-9_]{2,30}$/;

/**
 * Validates a Binance symbol strictly, because it becomes part of storage keys:
 * 2–30 characters of `A-Z`, `0-9` and `_` (`BTCUSDT`, `BTCUSD_PERP`). Lower case is upper-cased.
 * Throws InvalidInputError naming the bad value and the accepted form.
 */
export function parseSymbol(value: string): string {
  const symbol = value.trim().toUpperCase();
  // Checked before upper-casing too: Unicode case mapping turns `ß` into `SS` and `ı` into `I`.
  if (!SYMBOL_PATTERN.test(symbol) || !/^[A-Za-z0-9_]*$/.test(value.trim())) {
    throw new InvalidInputError(
      `symbol: "${value}" is not a symbol; use 2-30 characters of A-Z, 0-9 and _ (e.g. BTCUSDT, BTCUSD_PERP)`,
      { symbol: value },
    );
  }
  return symbol;
}
