/**
 * Reading the cache layout backwards, for `klines validate` and `repair`: a dataset id back to
 * its dataset, a period key back to its period, and an object key back to what it belongs to
 * (DESIGN.md, Storage; the key shapes of lib/domain/periods.ts and the part ids of
 * lib/store/kline-cache.ts). Pure.
 */
import { InvalidInputError } from '../domain/errors.ts';
import { DATA_TYPES, parseKlineDataType } from '../domain/data-types.ts';
import { fundingDatasetId, fundingFolder, type FundingDataset } from '../domain/funding-rate.ts';
import { parseInterval } from '../domain/intervals.ts';
import { datasetId, datasetOf, type Dataset } from '../domain/kline.ts';
import { parseMarket } from '../domain/markets.ts';
import { datasetFolder, granularityFor, periodOf, type Granularity, type Period } from '../domain/periods.ts';

/** Where the cache's objects live in the store: every dataset folder starts with this. */
export const CACHE_PREFIX = 'binance/';

/**
 * The dataset of an id `binance/{market}/{dataType}/{SYMBOL}/{interval}` (kline.ts, datasetId),
 * `dataType` one of the kline-shaped series (data-types.ts). Throws InvalidInputError naming the
 * id when it has another shape, market, data type or interval.
 */
export function parseDatasetId(id: string): Dataset {
  const parts = id.split('/');
  const [exchange, market, kind, symbol, interval] = parts;
  if (parts.length !== 5 || exchange !== 'binance' || !(DATA_TYPES as readonly string[]).includes(kind ?? '') || !market || !symbol || !interval) {
    throw new InvalidInputError(`dataset id ${JSON.stringify(id)} is not of the form binance/{market}/{dataType}/{SYMBOL}/{interval}`, { datasetId: id });
  }
  const parsedMarket = parseMarket(market);
  return datasetOf(parsedMarket, symbol, parseInterval(interval, parsedMarket), parseKlineDataType(kind, parsedMarket));
}

/** The funding-rate dataset of an id `binance/{um|cm}/fundingRate/{SYMBOL}` (funding-rate.ts); undefined for any other id. */
export function parseFundingDatasetId(id: string): FundingDataset | undefined {
  const match = /^binance\/(um|cm)\/fundingRate\/([A-Z0-9_]+)$/.exec(id);
  return match ? { market: match[1] as FundingDataset['market'], symbol: match[2]! } : undefined;
}

/**
 * Folder of a dataset id's objects, with a trailing slash, for klines-shaped and funding-rate
 * ids alike (`binance/um/fundingRate/monthly/BTCUSDT/`). Throws as parseDatasetId for other ids.
 */
export function datasetIdPrefix(id: string): string {
  const funding = parseFundingDatasetId(id);
  return funding ? `${fundingFolder(funding)}/` : datasetPrefix(parseDatasetId(id));
}

/** Key of period `periodKey`'s canonical object of dataset `id`, klines-shaped or funding-rate alike. Throws as parseDatasetId for other ids. */
export function canonicalKeyOfId(id: string, periodKey: string): string {
  return `${datasetIdPrefix(id)}${periodKey}.parquet`;
}

/** Folder of a dataset's objects, with a trailing slash: `binance/spot/klines/monthly/BTCUSDT/1m/`. */
export function datasetPrefix(dataset: Dataset): string {
  return `${datasetFolder(dataset, granularityFor(dataset.interval))}/`;
}

/** The period of a key (`2024-01-15`, `2024-01`, `2024`) at a granularity; undefined when the key is not one. */
export function parsePeriodKey(key: string, granularity: Granularity): Period | undefined {
  const pattern = granularity === 'daily' ? /^(\d{4})-(\d{2})-(\d{2})$/ : granularity === 'monthly' ? /^(\d{4})-(\d{2})$/ : /^(\d{4})$/;
  const match = pattern.exec(key);
  if (!match) return undefined;
  const ms = Date.UTC(Number(match[1]), Number(match[2] ?? 1) - 1, Number(match[3] ?? 1));
  const period = periodOf(ms, granularity);
  return period.key === key ? period : undefined;
}

/** Creation time (UTC epoch ms) in a part id `0001705312800123-9f2c4e1a7b3d` (kline-cache.ts, newPartId). */
export function partIdTimeMs(partId: string): number | undefined {
  const match = /^(\d{16})-[0-9a-f]+$/.exec(partId);
  return match ? Number(match[1]) : undefined;
}

/** What an object key of the cache layout names. */
export interface CacheObjectKey {
  readonly datasetId: string;
  readonly period: string;
  /** `canonical` for `{period}.parquet`, `part` for `{period}.parts/{partId}.parquet`. */
  readonly kind: 'canonical' | 'part';
  /** For parts whose id starts with a time: when the part was written (UTC epoch ms). */
  readonly createdAtMs?: number | undefined;
}

/**
 * Parses `binance/{market}/{dataType}/{granularity}/{SYMBOL}/{interval}/{period}.parquet` or
 * `.../{period}.parts/{partId}.parquet`, and the funding-rate keys
 * `binance/{market}/fundingRate/monthly/{SYMBOL}/{period}.parquet` (and `.parts/`); undefined for any other key.
 */
export function parseCacheObjectKey(key: string): CacheObjectKey | undefined {
  const funding = /^binance\/(um|cm)\/fundingRate\/monthly\/([A-Z0-9_]+)\/([^/]+?)(?:\.parquet|\.parts\/([^/]+)\.parquet)$/.exec(key);
  if (funding) {
    const [, market, symbol, period, partId] = funding;
    if (!parsePeriodKey(period!, 'monthly')) return undefined;
    const id = fundingDatasetId({ market: market as FundingDataset['market'], symbol: symbol! });
    return partId === undefined ? { datasetId: id, period: period!, kind: 'canonical' } : { datasetId: id, period: period!, kind: 'part', createdAtMs: partIdTimeMs(partId) };
  }
  const match = /^binance\/([^/]+)\/(\w+)\/(daily|monthly|yearly)\/([^/]+)\/([^/]+)\/([^/]+?)(?:\.parquet|\.parts\/([^/]+)\.parquet)$/.exec(key);
  if (!match) return undefined;
  const [, market, kind, granularity, symbol, interval, period, partId] = match;
  let dataset: Dataset;
  try {
    dataset = parseDatasetId(`binance/${market}/${kind}/${symbol}/${interval}`);
  } catch {
    return undefined;
  }
  if (granularityFor(dataset.interval) !== granularity || !parsePeriodKey(period!, granularity)) return undefined;
  return partId === undefined
    ? { datasetId: datasetId(dataset), period: period!, kind: 'canonical' }
    : { datasetId: datasetId(dataset), period: period!, kind: 'part', createdAtMs: partIdTimeMs(partId) };
}
