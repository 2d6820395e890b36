/**
 * The funding-rate upstreams (issue 10, item 5):
 * - Vision, monthly files only: `{base}/data/futures/{um|cm}/monthly/fundingRate/SYM/SYM-fundingRate-YYYY-MM.zip`
 *   with its `.CHECKSUM`; CSV `calc_time,funding_interval_hours,last_funding_rate`, the header
 *   detected per file by content (a first line not starting with a digit), as for klines;
 * - REST `GET /fapi/v1/fundingRate` and `/dapi/v1/fundingRate` (Binance API docs, "Get Funding
 *   Rate History"): `symbol, startTime, endTime` (inclusive on fundingTime), `limit` default 100,
 *   at most 1000; with startTime the first `limit` events from it, ascending; answers
 *   `[{symbol, fundingTime, fundingRate, markPrice}]`. Its rate limit is its own (500 requests per
 *   5 minutes per IP, shared with fundingInfo), so each request is counted as weight 1.
 */
import { DataValidationError, UpstreamError } from '../domain/errors.ts';
import { restFundingRatePath } from '../domain/data-types.ts';
import { allocateFundingColumns, fundingInRange, mergeFunding, validateFundingColumns, type FundingColumns, type FundingDataset } from '../domain/funding-rate.ts';
import { formatRange, utcMonthStart, type Range } from '../domain/ranges.ts';
import type { HttpClient } from './http-client.ts';
import { createLazyHttpClient } from './lazy-http-client.ts';
import { countRestRequest, type UpstreamStats } from './types.ts';
import { fetchVerifiedZip } from './vision-client.ts';
import { readSingleCsvMember } from './zip-member.ts';

/** Events per REST page: the most Binance allows (the weight does not grow with it). */
export const FUNDING_PAGE_LIMIT = 1000;

/** The Vision zip of a month of funding events (`monthStartMs` a UTC month start). */
export function fundingVisionUrl(baseUrl: string, dataset: FundingDataset, monthStartMs: number): { zipUrl: string; fileName: string } {
  const month = new Date(monthStartMs).toISOString().slice(0, 7);
  const fileName = `${dataset.symbol}-fundingRate-${month}.zip`;
  return { zipUrl: `${baseUrl.replace(/\/+$/, '')}/data/futures/${dataset.market}/monthly/fundingRate/${dataset.symbol}/${fileName}`, fileName };
}

/**
 * Parses a Vision funding CSV (header optional, LF or CRLF, trailing newline optional) into
 * columns with mark_price NaN (Vision does not publish it). Throws DataValidationError naming
 * `context` and the 1-based line when a line is not `calc_time,funding_interval_hours,last_funding_rate`
 * of plain numbers, or when the rows fail validateFundingColumns.
 */
export function parseFundingCsv(text: string, context: string): FundingColumns {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (lines[lines.length - 1] === '') lines.pop();
  const first = lines[0] !== undefined && !/^\d/.test(lines[0]) ? 1 : 0;
  const columns = allocateFundingColumns(lines.length - first);
  for (let i = first; i < lines.length; i++) {
    const fields = lines[i]!.split(',');
    const [time, hours, rate] = fields.map((field) => (/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(field) ? Number(field) : Number.NaN));
    if (fields.length !== 3 || [time, hours, rate].some((value) => value === undefined || Number.isNaN(value))) {
      throw new DataValidationError(`${context}: line ${i + 1} is not calc_time,funding_interval_hours,last_funding_rate: "${lines[i]!.slice(0, 200)}"`, { line: i + 1 });
    }
    columns.calc_time[i - first] = time!;
    columns.funding_interval_hours[i - first] = hours!;
    columns.last_funding_rate[i - first] = rate!;
    columns.mark_price[i - first] = Number.NaN;
  }
  validateFundingColumns(columns, context);
  return columns;
}

/**
 * Parses a REST funding history body into columns (funding_interval_hours NaN: REST does not give
 * it; a `markPrice` of "" as NaN). Throws DataValidationError naming `context` for a body that is
 * not such an array.
 */
export function parseFundingRestBody(body: string, context: string): FundingColumns {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new DataValidationError(`${context}: the answer is not JSON: "${body.slice(0, 200)}"`, {});
  }
  if (!Array.isArray(parsed)) throw new DataValidationError(`${context}: the answer is not a funding-rate array: "${body.slice(0, 200)}"`, {});
  const columns = allocateFundingColumns(parsed.length);
  parsed.forEach((item: unknown, i) => {
    const event = (item ?? {}) as { fundingTime?: unknown; fundingRate?: unknown; markPrice?: unknown };
    columns.calc_time[i] = typeof event.fundingTime === 'number' ? event.fundingTime : Number.NaN;
    columns.last_funding_rate[i] = typeof event.fundingRate === 'string' && event.fundingRate !== '' ? Number(event.fundingRate) : Number.NaN;
    columns.funding_interval_hours[i] = Number.NaN;
    columns.mark_price[i] = typeof event.markPrice === 'string' && event.markPrice !== '' ? Number(event.markPrice) : Number.NaN;
  });
  validateFundingColumns(columns, context);
  return columns;
}

/** Where the funding upstreams are, and the HTTP client. `pageLimit` is for tests (default FUNDING_PAGE_LIMIT). */
export interface FundingSourceOptions {
  readonly visionUrl: string;
  readonly umUrl: string;
  readonly cmUrl: string;
  readonly http?: HttpClient;
  readonly pageLimit?: number;
}

/** Both funding upstreams. */
export interface FundingSources {
  /** A month's Vision file verified and parsed, or undefined when it is not published (404). Throws as VisionSource.fetchFile. */
  fetchMonth(dataset: FundingDataset, monthStartMs: number, stats: UpstreamStats, signal?: AbortSignal): Promise<FundingColumns | undefined>;
  /**
   * Every event with calc_time in `range` and at or before `nowMs` (an event is final once its
   * time has passed), paging by FUNDING_PAGE_LIMIT. Throws UpstreamError naming the endpoint.
   */
  fetchRange(dataset: FundingDataset, range: Range, nowMs: number, stats: UpstreamStats, signal?: AbortSignal): Promise<FundingColumns>;
}

/** Builds both sources. */
export function createFundingSources(options: FundingSourceOptions): FundingSources {
  const http = options.http ?? createLazyHttpClient();
  const pageLimit = options.pageLimit ?? FUNDING_PAGE_LIMIT;
  return {
    async fetchMonth(dataset, monthStartMs, stats, signal) {
      if (utcMonthStart(monthStartMs) !== monthStartMs) throw new DataValidationError(`vision: ${monthStartMs} is not a UTC month start`, {});
      const { zipUrl, fileName } = fundingVisionUrl(options.visionUrl, dataset, monthStartMs);
      const monthEndMs = utcMonthStart(monthStartMs, 1);
      const zip = await fetchVerifiedZip(http, { zipUrl, checksumUrl: `${zipUrl}.CHECKSUM`, fileName }, { startMs: monthStartMs, endMs: monthEndMs }, stats, signal);
      if (zip === undefined) return undefined;
      const columns = parseFundingCsv((await readSingleCsvMember(zip, `vision: ${zipUrl}`)).toString('utf8'), `vision: ${zipUrl}`);
      if (columns.length > 0 && (columns.calc_time[0]! < monthStartMs || columns.calc_time[columns.length - 1]! >= monthEndMs)) {
        throw new DataValidationError(`vision: ${zipUrl} holds events outside ${formatRange({ startMs: monthStartMs, endMs: monthEndMs })}`, { url: zipUrl });
      }
      return columns;
    },

    async fetchRange(dataset, range, nowMs, stats, signal) {
      const endpoint = restFundingRatePath(dataset.market);
      const url = `${(dataset.market === 'um' ? options.umUrl : options.cmUrl).replace(/\/+$/, '')}${endpoint}`;
      const lastMs = Math.min(range.endMs - 1, nowMs);
      const pages: FundingColumns[] = [];
      for (let startTime = range.startMs; startTime <= lastMs;) {
        const context = `REST ${endpoint} ${dataset.symbol} startTime=${startTime}`;
        const body = await fetchPage(http, url, { symbol: dataset.symbol, startTime, endTime: lastMs, limit: pageLimit }, stats, context, signal);
        const page = parseFundingRestBody(body, context);
        pages.push(page);
        if (page.length < pageLimit) break;
        startTime = page.calc_time[page.length - 1]! + 1;
      }
      return fundingInRange(mergeFunding(pages), range.startMs, lastMs + 1);
    },
  };
}

async function fetchPage(http: HttpClient, url: string, searchParams: Record<string, string | number>, stats: UpstreamStats, context: string, signal?: AbortSignal): Promise<string> {
  try {
    const response = await http.get(url, { signal, searchParams });
    countRestRequest(stats, response.attempts, 1);
    return response.body.toString('utf8');
  } catch (error) {
    countRestRequest(stats, { failure: error }, 1);
    if (!(error instanceof UpstreamError)) throw error;
    throw new UpstreamError(`${context}: ${error.message}`, { code: error.code, cause: error, details: error.details });
  }
}
