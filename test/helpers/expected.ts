/**
 * The oracle of end-to-end tests: the real rows of a dataset in a range, straight from the real
 * files (through the fake's own independent loader), as the numbers Binance published.
 */
import type { Kline } from '../../lib/domain/kline.ts';
import type { Interval } from '../../lib/domain/intervals.ts';
import type { Market } from '../../lib/domain/markets.ts';
import { findRealDataset, loadRealUniverse } from './real-data.ts';

/** Real rows with startMs ≤ open_time ≤ endInclusiveMs (UTC epoch ms). Throws if the dataset has no real file. */
export function expectedKlines(market: Market, symbol: string, interval: Interval, startMs: number, endInclusiveMs: number): Kline[] {
  const dataset = findRealDataset(loadRealUniverse(), market, symbol, interval);
  if (!dataset) throw new Error(`no real data for ${market} ${symbol} ${interval}`);
  return dataset.rows
    .filter((row) => row.openMs >= startMs && row.openMs <= endInclusiveMs)
    .map((row) => {
      const f = row.fields.map(Number);
      return {
        open_time: row.openMs, open: f[1]!, high: f[2]!, low: f[3]!, close: f[4]!, volume: f[5]!, close_time: row.closeMs,
        quote_volume: f[7]!, trades: f[8]!, taker_buy_volume: f[9]!, taker_buy_quote_volume: f[10]!,
      };
    });
}

/** Drops the `source` tag of answer rows so they compare with expectedKlines. */
export function withoutSource(rows: readonly (Kline & { source?: string })[]): Kline[] {
  return rows.map(({ source: _source, ...row }) => row);
}
