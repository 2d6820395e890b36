/**
 * The SQS message of one dataset refresh, sent by cron-refresh and read by sqs-refresh-dataset:
 * `{"market":"spot","symbol":"BTCUSDT","interval":"1h","sinceMs":1704067200000}` (`sinceMs`,
 * UTC epoch ms, only when the watchlist gives `since`).
 */
import * as z from 'zod';
import { InvalidInputError } from '../../lib/domain/errors.ts';
import { parseInterval } from '../../lib/domain/intervals.ts';
import { parseMarket } from '../../lib/domain/markets.ts';
import { parseSymbol } from '../../lib/domain/symbols.ts';
import type { WatchlistEntry } from '../../lib/service/watchlist.ts';

const MessageSchema = z.object({
  market: z.string(),
  symbol: z.string(),
  interval: z.string(),
  sinceMs: z.number().int().nonnegative().optional(),
});

/** The message body of an entry. */
export function encodeRefreshMessage(entry: WatchlistEntry): string {
  const { market, symbol, interval } = entry.dataset;
  return JSON.stringify(entry.sinceMs === undefined ? { market, symbol, interval } : { market, symbol, interval, sinceMs: entry.sinceMs });
}

/** Parses a message body; throws InvalidInputError saying what is wrong. */
export function decodeRefreshMessage(body: string): WatchlistEntry {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new InvalidInputError(`refresh message: not JSON: ${body.slice(0, 200)}`);
  }
  const parsed = MessageSchema.safeParse(json);
  if (!parsed.success) throw new InvalidInputError(`refresh message: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const market = parseMarket(parsed.data.market);
  return { dataset: { market, symbol: parseSymbol(parsed.data.symbol), interval: parseInterval(parsed.data.interval, market) }, sinceMs: parsed.data.sinceMs };
}
