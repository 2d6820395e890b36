/**
 * The SQS message of one dataset refresh, sent by cron-refresh and read by sqs-refresh-dataset:
 * `{"market":"spot","symbol":"BTCUSDT","interval":"1h","sinceMs":1704067200000}` (`sinceMs`,
 * UTC epoch ms, only when the watchlist gives `since`).
 * A fill handed over by a request that reached its deadline (issue 11) carries a range instead:
 * `{"market":"spot","symbol":"BTCUSDT","interval":"1m","startMs":…,"endMs":…}` (half-open, UTC epoch ms).
 * A series other than klines adds `"dataType":"markPriceKlines"` (data-types.ts); a funding-rate
 * refresh is `{"market":"um","symbol":"BTCUSDT","dataType":"fundingRate"}`, with no interval.
 */
import * as v from 'valibot';
import { InvalidInputError } from '../../lib/domain/errors.ts';
import { parseInterval } from '../../lib/domain/intervals.ts';
import { parseMarket } from '../../lib/domain/markets.ts';
import { parseSymbol } from '../../lib/domain/symbols.ts';
import { parseDataType } from '../../lib/domain/data-types.ts';
import { datasetOf, type Dataset } from '../../lib/domain/kline.ts';
import type { Range } from '../../lib/domain/ranges.ts';
import type { WatchlistEntry } from '../../lib/service/watchlist.ts';

const msInteger = (min: number) => v.pipe(v.number(), v.integer(), v.minValue(min));
const MessageSchema = v.object({
  market: v.string(),
  symbol: v.string(),
  interval: v.optional(v.string()),
  sinceMs: v.optional(msInteger(0)),
  startMs: v.optional(msInteger(0)),
  endMs: v.optional(msInteger(1)),
  dataType: v.optional(v.string()),
});

/** A queued piece of work: a dataset refresh, or the fill of a range a request could not finish. */
export type QueueWork =
  | { readonly kind: 'refresh'; readonly entry: WatchlistEntry }
  | { readonly kind: 'fill'; readonly dataset: Dataset; readonly range: Range };

/** The message body of an entry. */
export function encodeRefreshMessage(entry: WatchlistEntry): string {
  const fields = 'funding' in entry ? { market: entry.funding.market, symbol: entry.funding.symbol, dataType: 'fundingRate' } : datasetFields(entry.dataset);
  return JSON.stringify(entry.sinceMs === undefined ? fields : { ...fields, sinceMs: entry.sinceMs });
}

/** The message body of a fill of `range` (half-open, UTC epoch ms). */
export function encodeFillMessage(dataset: Dataset, range: Range): string {
  return JSON.stringify({ ...datasetFields(dataset), startMs: range.startMs, endMs: range.endMs });
}

/** market, symbol, interval, and `dataType` only when it is not klines (so klines messages keep their earlier shape). */
function datasetFields(dataset: Dataset): Record<string, string> {
  const { market, symbol, interval, dataType } = dataset;
  return dataType === undefined || dataType === 'klines' ? { market, symbol, interval } : { market, symbol, interval, dataType };
}

/** Parses a message body of either kind; throws InvalidInputError saying what is wrong. */
export function decodeQueueMessage(body: string): QueueWork {
  const entry = decodeRefreshMessage(body);
  const { startMs, endMs } = JSON.parse(body) as { startMs?: number; endMs?: number };
  if (startMs === undefined && endMs === undefined) return { kind: 'refresh', entry };
  if (startMs === undefined || endMs === undefined || !(endMs > startMs)) {
    throw new InvalidInputError(`fill message: startMs and endMs must both be given, with endMs after startMs: ${body.slice(0, 200)}`);
  }
  if ('funding' in entry) throw new InvalidInputError(`fill message: a fundingRate fill is never handed over (its requests have no deadline hand-off): ${body.slice(0, 200)}`);
  return { kind: 'fill', dataset: entry.dataset, range: { startMs, endMs } };
}

/** Parses a message body; throws InvalidInputError saying what is wrong. */
export function decodeRefreshMessage(body: string): WatchlistEntry {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new InvalidInputError(`refresh message: not JSON: ${body.slice(0, 200)}`);
  }
  const parsed = v.safeParse(MessageSchema, json);
  if (!parsed.success) throw new InvalidInputError(`refresh message: ${parsed.issues.map((i) => `${v.getDotPath(i) ?? ''}: ${i.message}`).join('; ')}`);
  const market = parseMarket(parsed.output.market);
  const { interval, sinceMs } = parsed.output;
  const dataType = parseDataType(parsed.output.dataType, market);
  if (dataType === 'fundingRate') {
    if (interval !== undefined) throw new InvalidInputError(`refresh message: a fundingRate dataset has no interval: ${body.slice(0, 200)}`);
    return { funding: { market: market as 'um' | 'cm', symbol: parseSymbol(parsed.output.symbol) }, sinceMs };
  }
  if (interval === undefined) throw new InvalidInputError(`refresh message: interval: required for ${dataType}: ${body.slice(0, 200)}`);
  return { dataset: datasetOf(market, parseSymbol(parsed.output.symbol), parseInterval(interval, market), dataType), sinceMs };
}
