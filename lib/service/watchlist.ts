/**
 * The refresh watchlist (issue 4): the datasets the schedule keeps fresh, as a JSON document
 * `[{ "market": "spot", "symbol": "BTCUSDT", "interval": "1h", "since": "2024-01-01" }, ...]`
 * (`market` defaults to spot; `since`, ISO-8601 or epoch ms, is where a never-fetched dataset
 * starts). It comes inline (`KLINES_WATCHLIST`) or from an S3 object (`KLINES_WATCHLIST_S3`).
 */
import * as z from 'zod';
import type { Config } from '../config.ts';
import { InvalidInputError } from '../domain/errors.ts';
import { parseInterval } from '../domain/intervals.ts';
import { datasetId, type Dataset } from '../domain/kline.ts';
import { parseMarket } from '../domain/markets.ts';
import { parseSymbol } from '../domain/symbols.ts';
import { parseTime } from '../domain/time.ts';

/** One watched dataset; `sinceMs` (UTC epoch ms) when the document gives `since`. */
export interface WatchlistEntry {
  readonly dataset: Dataset;
  readonly sinceMs?: number | undefined;
}

const EntrySchema = z.object({
  market: z.string().default('spot'),
  symbol: z.string({ error: 'symbol is required, e.g. BTCUSDT' }),
  interval: z.string({ error: 'interval is required, e.g. 1h' }),
  since: z.union([z.string(), z.number().int().nonnegative()]).optional(),
}).strict();
const WatchlistSchema = z.array(EntrySchema, { error: 'the watchlist must be a JSON array of {market,symbol,interval,since?}' });

/**
 * Parses and validates a watchlist document. `origin` names it in errors (`KLINES_WATCHLIST`,
 * `s3://bucket/key`). Throws InvalidInputError for bad JSON, a bad field (with the entry's
 * index) or the same dataset listed twice.
 */
export function parseWatchlist(text: string, origin: string): WatchlistEntry[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`watchlist ${origin}: not JSON (${(error as Error).message})`, { origin });
  }
  const parsed = WatchlistSchema.safeParse(document);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? `[${issue.path.join('.')}] ` : ''}${issue.message}`);
    throw new InvalidInputError(`watchlist ${origin}: ${issues.join('; ')}`, { origin });
  }
  const seen = new Set<string>();
  return parsed.data.map((raw, i) => {
    const entry = withContext(origin, i, () => {
      const market = parseMarket(raw.market);
      const dataset: Dataset = { market, symbol: parseSymbol(raw.symbol), interval: parseInterval(raw.interval, market) };
      const sinceMs = raw.since === undefined ? undefined : parseTime(String(raw.since), 'since');
      return { dataset, sinceMs };
    });
    const id = datasetId(entry.dataset);
    if (seen.has(id)) throw new InvalidInputError(`watchlist ${origin}: [${i}] ${id} is listed twice`, { origin, index: i });
    seen.add(id);
    return entry;
  });
}

/** Reads an S3 object's bytes; `undefined` when it does not exist. */
export type ReadS3Object = (bucket: string, key: string) => Promise<Uint8Array | undefined>;

/**
 * Loads the configured watchlist: `[]` when none is configured; the inline JSON; or the S3
 * object through `readS3`. Throws InvalidInputError when the S3 object is missing or invalid.
 */
export async function loadWatchlist(source: Config['watchlist'], readS3: ReadS3Object): Promise<WatchlistEntry[]> {
  if (!source) return [];
  if (source.kind === 'inline') return parseWatchlist(source.json, 'KLINES_WATCHLIST');
  const origin = `s3://${source.bucket}/${source.key}`;
  const body = await readS3(source.bucket, source.key);
  if (!body) throw new InvalidInputError(`watchlist ${origin}: no such object`, { origin });
  return parseWatchlist(new TextDecoder().decode(body), origin);
}

function withContext<T>(origin: string, index: number, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidInputError(`watchlist ${origin}: [${index}] ${error.message}`, { origin, index });
    throw error;
  }
}
