/**
 * The refresh watchlist (issue 4): the datasets the schedule keeps fresh, as a JSON document
 * `[{ "market": "spot", "symbol": "BTCUSDT", "interval": "1h", "since": "2024-01-01" }, ...]`
 * (`market` defaults to spot; `since`, ISO-8601 or epoch ms, is where a never-fetched dataset
 * starts). Like `klines sync` (issue 10), an entry may name many datasets: `"symbols": [...]` or
 * `"symbols_regex": ".*USDT"` (TRADING symbols from exchangeInfo) with `"intervals": [...]`.
 * It comes inline (`KLINES_WATCHLIST`) or from an S3 object (`KLINES_WATCHLIST_S3`).
 * `"data_type"` names the series (data-types.ts, default klines); `"fundingRate"` takes no interval.
 */
import * as v from 'valibot';
import type { Config } from '../config.ts';
import { InvalidInputError } from '../domain/errors.ts';
import { parseInterval, type Interval } from '../domain/intervals.ts';
import { parseDataType, type DataType } from '../domain/data-types.ts';
import { fundingDatasetId, type FundingDataset } from '../domain/funding-rate.ts';
import { datasetId, datasetOf, type Dataset } from '../domain/kline.ts';
import { parseMarket, type Market } from '../domain/markets.ts';
import { parseSymbol } from '../domain/symbols.ts';
import { parseTime } from '../domain/time.ts';
import { compilePattern } from './symbols.ts';
import { objectMessages } from './validation.ts';

/** One watched candle dataset; `sinceMs` (UTC epoch ms) when the document gives `since`. */
export interface KlinesWatchEntry {
  readonly dataset: Dataset;
  readonly sinceMs?: number | undefined;
}

/** One watched funding-rate dataset (no interval); `sinceMs` as for candles. */
export interface FundingWatchEntry {
  readonly funding: FundingDataset;
  readonly sinceMs?: number | undefined;
}

/** One watched dataset of any series. */
export type WatchlistEntry = KlinesWatchEntry | FundingWatchEntry;

/** The dataset id of an entry (kline.ts datasetId, funding-rate.ts fundingDatasetId). */
export function watchEntryId(entry: WatchlistEntry): string {
  return 'funding' in entry ? fundingDatasetId(entry.funding) : datasetId(entry.dataset);
}

/** Resolves a symbol pattern to the market's TRADING symbols (symbols.ts, SymbolDirectory.resolve). */
export type ResolveWatchlistSymbols = (market: Market, pattern: string) => Promise<string[]>;

const EntrySchema = v.pipe(v.strictObject({
  market: v.optional(v.string(), 'spot'),
  symbol: v.optional(v.string()),
  symbols: v.optional(v.pipe(v.array(v.string()), v.minLength(1))),
  symbols_regex: v.optional(v.pipe(v.string(), v.minLength(1))),
  interval: v.optional(v.string()),
  intervals: v.optional(v.pipe(v.array(v.string()), v.minLength(1))),
  since: v.optional(v.union([v.string(), v.pipe(v.number(), v.integer(), v.minValue(0))])),
  data_type: v.optional(v.string()),
}, objectMessages()),
v.check((e) => [e.symbol, e.symbols, e.symbols_regex].filter((x) => x !== undefined).length === 1, 'give one of symbol, symbols or symbols_regex, e.g. "symbol": "BTCUSDT"'),
v.check((e) => [e.interval, e.intervals].filter((x) => x !== undefined).length === (e.data_type === 'fundingRate' ? 0 : 1),
  'give one of interval or intervals, e.g. "interval": "1h" (none with "data_type": "fundingRate")'));
const WatchlistSchema = v.array(EntrySchema, 'the watchlist must be a JSON array of {market,symbol|symbols|symbols_regex,interval|intervals,since?,data_type?}');

/** One validated rule of the document: its symbols (a list, or a pattern still to resolve), intervals and start. */
interface WatchlistRule {
  readonly index: number;
  readonly market: Market;
  readonly symbols?: readonly string[] | undefined;
  readonly pattern?: string | undefined;
  readonly intervals: readonly Interval[];
  readonly sinceMs?: number | undefined;
  /** The series (data-types.ts); klines when the entry gives no `data_type`. */
  readonly dataType: DataType;
}

/**
 * Parses and validates a watchlist document whose entries name their symbols (no
 * `symbols_regex`: that needs exchangeInfo, see loadWatchlist). `origin` names it in errors
 * (`KLINES_WATCHLIST`, `s3://bucket/key`). Throws InvalidInputError for bad JSON, a bad field
 * (with the entry's index), a pattern, or the same dataset listed twice.
 */
export function parseWatchlist(text: string, origin: string): WatchlistEntry[] {
  const rules = parseRules(text, origin);
  const pattern = rules.find((rule) => rule.pattern !== undefined);
  if (pattern) throw new InvalidInputError(`watchlist ${origin}: [${pattern.index}] symbols_regex needs Binance's symbol list; load it with loadWatchlist`, { origin });
  return expandRules(rules, origin, new Map());
}

/**
 * Parses a document and expands every entry into one entry per dataset (symbols × intervals),
 * resolving `symbols_regex` through `resolveSymbols` (TRADING symbols only). A dataset an
 * explicit entry lists twice is an error; one a pattern adds again is listed once.
 */
export async function parseWatchlistWithPatterns(text: string, origin: string, resolveSymbols: ResolveWatchlistSymbols): Promise<WatchlistEntry[]> {
  const rules = parseRules(text, origin);
  const resolved = new Map<number, readonly string[]>();
  for (const rule of rules) {
    if (rule.pattern !== undefined) resolved.set(rule.index, await withContext(origin, rule.index, () => resolveSymbols(rule.market, rule.pattern!)));
  }
  return expandRules(rules, origin, resolved);
}

function parseRules(text: string, origin: string): WatchlistRule[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`watchlist ${origin}: not JSON (${(error as Error).message})`, { origin });
  }
  const parsed = v.safeParse(WatchlistSchema, document);
  if (!parsed.success) {
    const issues = parsed.issues.map((issue) => `${v.getDotPath(issue) ? `[${v.getDotPath(issue)}] ` : ''}${issue.message}`);
    throw new InvalidInputError(`watchlist ${origin}: ${issues.join('; ')}`, { origin });
  }
  return parsed.output.map((raw, index) => withContextSync(origin, index, () => {
    const market = parseMarket(raw.market);
    return {
      index, market,
      symbols: raw.symbols_regex === undefined ? (raw.symbols ?? [raw.symbol!]).map(parseSymbol) : undefined,
      pattern: raw.symbols_regex === undefined ? undefined : (compilePattern(raw.symbols_regex), raw.symbols_regex),
      intervals: raw.data_type === 'fundingRate' ? [] : (raw.intervals ?? [raw.interval!]).map((interval) => parseInterval(interval, market)),
      sinceMs: raw.since === undefined ? undefined : parseTime(String(raw.since), 'since'),
      dataType: parseDataType(raw.data_type, market),
    };
  }));
}

function expandRules(rules: readonly WatchlistRule[], origin: string, resolved: ReadonlyMap<number, readonly string[]>): WatchlistEntry[] {
  const seen = new Set<string>();
  const entries: WatchlistEntry[] = [];
  for (const rule of rules) {
    for (const symbol of rule.symbols ?? resolved.get(rule.index) ?? []) {
      const funding = rule.dataType === 'fundingRate';
      for (const interval of funding ? [undefined] : rule.intervals) {
        const entry: WatchlistEntry = interval === undefined || rule.dataType === 'fundingRate'
          ? { funding: { market: rule.market as FundingDataset['market'], symbol }, sinceMs: rule.sinceMs }
          : { dataset: datasetOf(rule.market, symbol, interval, rule.dataType), sinceMs: rule.sinceMs };
        const id = watchEntryId(entry);
        if (seen.has(id)) {
          if (rule.pattern !== undefined) continue;
          throw new InvalidInputError(`watchlist ${origin}: [${rule.index}] ${id} is listed twice`, { origin, index: rule.index });
        }
        seen.add(id);
        entries.push(entry);
      }
    }
  }
  return entries;
}

/** Reads an S3 object's bytes; `undefined` when it does not exist. */
export type ReadS3Object = (bucket: string, key: string) => Promise<Uint8Array | undefined>;

/**
 * Loads the configured watchlist: `[]` when none is configured; the inline JSON; or the S3
 * object through `readS3`. Entries with `symbols_regex` are resolved through `resolveSymbols`
 * (required then). Throws InvalidInputError when the S3 object is missing or invalid.
 */
export async function loadWatchlist(source: Config['watchlist'], readS3: ReadS3Object, resolveSymbols?: ResolveWatchlistSymbols): Promise<WatchlistEntry[]> {
  if (!source) return [];
  const parse = (text: string, origin: string): Promise<WatchlistEntry[]> | WatchlistEntry[] =>
    resolveSymbols ? parseWatchlistWithPatterns(text, origin, resolveSymbols) : parseWatchlist(text, origin);
  if (source.kind === 'inline') return parse(source.json, 'KLINES_WATCHLIST');
  const origin = `s3://${source.bucket}/${source.key}`;
  const body = await readS3(source.bucket, source.key);
  if (!body) throw new InvalidInputError(`watchlist ${origin}: no such object`, { origin });
  return parse(new TextDecoder().decode(body), origin);
}

async function withContext<T>(origin: string, index: number, parse: () => Promise<T>): Promise<T> {
  try {
    return await parse();
  } catch (error) {
    throw contextError(origin, index, error);
  }
}

function withContextSync<T>(origin: string, index: number, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw contextError(origin, index, error);
  }
}

function contextError(origin: string, index: number, error: unknown): unknown {
  return error instanceof InvalidInputError ? new InvalidInputError(`watchlist ${origin}: [${index}] ${error.message}`, { origin, index }) : error;
}
