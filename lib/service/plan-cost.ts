/**
 * The planner's cost model (README, Decisions: "Whole Vision files, and when REST is cheaper").
 * One unit is one HTTP request, one unit of REST request weight, or one MiB downloaded:
 * - a Vision file costs 2 requests (the zip and its `.CHECKSUM`), no weight (Vision has no rate
 *   limit, DESIGN.md, Upstreams), and its bytes: ~42 per row (real zips: 60,631 bytes for the
 *   1,440 rows of um BTCUSDT 1m 2022-09-05; issue 9 measured 34.6–42.9 on 1m months);
 * - a REST page costs 1 request plus its weight (spot 2 per page of 1000 rows, futures 2 per
 *   page of 499: Binance API docs, "Kline/Candlestick Data") and ~180 bytes per row (the
 *   recorded BTCUSDT 1h page: 4,301 bytes for 24 rows).
 * Weight counts because the IP's budget (6,000 a minute on spot) is shared by the whole fleet and
 * overrunning it earns 429s and then 418 bans; bytes count because a big file is slow to fetch.
 * A larger file also answers the rest of its period, which a later request would otherwise fetch
 * with more requests: it wins ties within LARGER_FILE_CREDIT.
 */
import { INTERVAL_MS, type Interval } from '../domain/intervals.ts';
import type { Market } from '../domain/markets.ts';
import { REST_PAGE_LIMIT, restRequestWeight } from '../domain/markets.ts';
import type { Range } from '../domain/ranges.ts';

/** Bytes of a Vision zip per row (see the module comment). */
export const VISION_ZIP_BYTES_PER_ROW = 42;
/** Bytes of a REST klines answer per row (see the module comment). */
export const REST_JSON_BYTES_PER_ROW = 180;
/** Units a Vision file may cost above its alternative and still be chosen (ties go to the larger file). */
export const LARGER_FILE_CREDIT = 1;

const MIB = 1_048_576;

/** Candles that can open in `range` (an upper bound: holes and listings make real files shorter). */
export function candlesIn(range: Range, interval: Interval): number {
  return Math.max(0, Math.ceil((range.endMs - range.startMs) / INTERVAL_MS[interval]));
}

/** Cost, in units, of downloading the Vision file whose period is `fileRange`. */
export function visionFileCost(fileRange: Range, interval: Interval): number {
  return 2 + (candlesIn(fileRange, interval) * VISION_ZIP_BYTES_PER_ROW) / MIB;
}

/** Cost, in units, of fetching `ranges` from REST, one run of pages per range. */
export function restCost(ranges: readonly Range[], market: Market, interval: Interval): number {
  const limit = REST_PAGE_LIMIT[market];
  const perPage = 1 + restRequestWeight(market, limit);
  let cost = 0;
  for (const range of ranges) {
    const rows = candlesIn(range, interval);
    cost += Math.max(1, Math.ceil(rows / limit)) * perPage + (rows * REST_JSON_BYTES_PER_ROW) / MIB;
  }
  return cost;
}
