/**
 * RestSource over Binance's klines endpoints (`/api/v3/klines`, `/fapi/v1/klines`,
 * `/dapi/v1/klines`) and the futures' other kline-shaped series (`/fapi/v1/markPriceKlines`,
 * `indexPriceKlines` (which takes `pair=`), `premiumIndexKlines`, and their `/dapi/v1` twins:
 * same 12-element rows, limits and weight bands, with volume fields "0" as Binance publishes them). Rules from the Binance API docs and the recorded responses
 * (SOURCES.md, "REST behaviour seen in the recorded responses"): startTime and endTime are both
 * inclusive on open_time; a page holds at most `limit` rows; /dapi rejects windows over 200 days
 * (-4088); without an end bound the last row is the unfinished candle.
 */
import { DataValidationError, UpstreamError } from '../domain/errors.ts';
import { restInstrumentParam, restKlinesPath } from '../domain/data-types.ts';
import { dataTypeOf, type Dataset, type Kline } from '../domain/kline.ts';
import { columnsFromRows, validateKlineColumns } from '../domain/kline-columns.ts';
import { CM_MAX_WINDOW_MS, REST_PAGE_LIMIT, restRequestWeight, type Market } from '../domain/markets.ts';
import { formatRange, type Range } from '../domain/ranges.ts';
import type { HttpClient, HttpResponse } from './http-client.ts';
import { createLazyHttpClient } from './lazy-http-client.ts';
import { countRestRequest, type RestSource, type UpstreamStats } from './types.ts';

/** Base URLs per market (BINANCE_SPOT_API_URL, BINANCE_UM_API_URL, BINANCE_CM_API_URL). */
export interface RestClientOptions {
  /** `https://api.binance.com` in production. */
  readonly spotUrl: string;
  /** `https://fapi.binance.com` in production. */
  readonly umUrl: string;
  /** `https://dapi.binance.com` in production. */
  readonly cmUrl: string;
  /** Shared HTTP client; a default one (createLazyHttpClient()) is built when absent. */
  readonly http?: HttpClient;
}

/**
 * Builds a RestSource. `fetchRange(dataset, range, nowMs, stats)` pages through `range`
 * (half-open, UTC epoch ms) with REST_PAGE_LIMIT[market] rows a page (the cheapest rows per
 * weight): `startTime = range.startMs`, `endTime = range.endMs - 1`, next page from the last
 * open_time + 1, until a short page or the end. On cm the range is cut into windows of at most
 * 200 days. Rows whose close_time is not before `nowMs` (the open candle) or whose open_time is
 * outside the range are dropped; the rest become columns (kline-columns.ts), validated with
 * validateKlineColumns.
 * Counts stats.restRequests and stats.restWeight per request made (retries included) and
 * stats.usedWeight1m (`x-mbx-used-weight-1m`).
 * `fetchEdgeCandle` asks one row: `startTime=0&endTime=now&limit=1` (the first candle) or
 * `endTime=now&limit=1` (the latest candle opened by now), weight 2 on spot, 1 on futures.
 * Throws UpstreamError with `details.range` = `range`: UPSTREAM_REJECTED for a 4xx (message
 * names endpoint, Binance code and msg, symbol and interval), UPSTREAM_RESTRICTED for a 451
 * (restricted location), RATE_LIMITED for a 429/418 too
 * long to wait, UPSTREAM_FAILED for 5xx after retries or network failures; DataValidationError
 * for a body that is not a klines array.
 */
export function createRestClient(options: RestClientOptions): RestSource {
  const http = options.http ?? createLazyHttpClient();
  const baseUrls: Record<Market, string> = { spot: options.spotUrl, um: options.umUrl, cm: options.cmUrl };
  return {
    async fetchRange(dataset, range, nowMs, stats, signal) {
      const endpoint = restKlinesPath(dataset.market, dataTypeOf(dataset));
      const url = `${baseUrls[dataset.market].replace(/\/+$/, '')}${endpoint}`;
      // Nothing opening at or after now can be closed, so never ask for it.
      const askedEndMs = Math.min(range.endMs, nowMs);
      const windows = dataset.market === 'cm' ? splitWindows(range.startMs, askedEndMs, CM_MAX_WINDOW_MS) : [{ startMs: range.startMs, endMs: askedEndMs }];
      const rows: Kline[] = [];
      for (const window of windows) {
        const page = { url, endpoint, dataset, range, stats, signal };
        for (const row of await fetchWindow(http, page, window)) {
          if (row.close_time < nowMs && row.open_time >= range.startMs && row.open_time < range.endMs) rows.push(row);
        }
      }
      const columns = columnsFromRows(rows);
      validateKlineColumns(columns, `REST ${endpoint} ${dataset.symbol} ${dataset.interval}`);
      return columns;
    },

    async fetchEdgeCandle(dataset, edge, nowMs, stats, signal) {
      const endpoint = restKlinesPath(dataset.market, dataTypeOf(dataset));
      const url = `${baseUrls[dataset.market].replace(/\/+$/, '')}${endpoint}`;
      const range = { startMs: 0, endMs: nowMs };
      const page = await fetchPage(http, { url, endpoint, dataset, range, stats, signal }, edge === 'first' ? 0 : undefined, nowMs, 1);
      return page[0]?.open_time;
    },
  };
}

interface PageContext {
  readonly url: string;
  readonly endpoint: string;
  readonly dataset: Dataset;
  readonly range: Range;
  readonly stats: UpstreamStats;
  readonly signal: AbortSignal | undefined;
}

/** Cuts [startMs, endMs) into consecutive windows of at most `maxMs`. */
function splitWindows(startMs: number, endMs: number, maxMs: number): Range[] {
  const out: Range[] = [];
  for (let s = startMs; s < endMs; s += maxMs) out.push({ startMs: s, endMs: Math.min(s + maxMs, endMs) });
  return out;
}

/** All rows of one window, page by page. */
async function fetchWindow(http: HttpClient, context: PageContext, window: Range): Promise<Kline[]> {
  const limit = REST_PAGE_LIMIT[context.dataset.market];
  const rows: Kline[] = [];
  let startTime = window.startMs;
  while (startTime < window.endMs) {
    const page = await fetchPage(http, context, startTime, window.endMs - 1, limit);
    rows.push(...page);
    const last = page[page.length - 1];
    if (page.length < limit || last === undefined) break;
    if (last.open_time < startTime) {
      throw new DataValidationError(`REST ${context.endpoint}: a full page asked from startTime=${startTime} ended at open_time ${last.open_time}`, { startTime });
    }
    startTime = last.open_time + 1;
  }
  return rows;
}

async function fetchPage(http: HttpClient, context: PageContext, startTime: number | undefined, endTime: number, limit: number): Promise<Kline[]> {
  const { dataset, stats } = context;
  const weight = restRequestWeight(dataset.market, limit);
  const instrument = restInstrumentParam(dataTypeOf(dataset), dataset.symbol);
  let response: HttpResponse;
  try {
    response = await http.get(context.url, {
      signal: context.signal,
      searchParams: { [instrument.name]: instrument.value, interval: dataset.interval, ...(startTime === undefined ? {} : { startTime }), endTime, limit },
    });
  } catch (error) {
    countRestRequest(stats, { failure: error }, weight);
    throw describeFailure(error, context);
  }
  countRestRequest(stats, response.attempts, weight);
  const used = Number(response.headers['x-mbx-used-weight-1m']);
  if (response.headers['x-mbx-used-weight-1m'] !== undefined && Number.isFinite(used)) stats.usedWeight1m = used;
  return parseKlinesBody(response.body.toString('utf8'), `REST ${context.endpoint} ${dataset.symbol} ${dataset.interval} startTime=${startTime ?? '(none)'}`);
}

/** Binance's error code for an unknown symbol. */
const INVALID_SYMBOL = -1121;

/** Rewrites an HttpClient failure into a message that names the endpoint, dataset and range. */
function describeFailure(error: unknown, context: PageContext): unknown {
  if (!(error instanceof UpstreamError)) return error;
  const { endpoint, dataset, range } = context;
  const what = `${dataset.symbol} ${dataset.interval}`;
  const details = { ...error.details, endpoint, symbol: dataset.symbol, interval: dataset.interval, range };
  if (error.code === 'UPSTREAM_REJECTED') {
    const binance = parseBinanceError(error.details.body);
    const reason = binance ? `${binance.code} ${binance.msg}` : `HTTP ${String(error.details.status)}`;
    // -1121 "Invalid symbol." is the caller's mistake, not an upstream failure (Binance API
    // docs, error codes; real body in SOURCES.md): its own code lets the HTTP edge answer 404.
    const code = binance?.code === INVALID_SYMBOL ? 'UNKNOWN_SYMBOL' : 'UPSTREAM_REJECTED';
    const message = code === 'UNKNOWN_SYMBOL'
      ? `REST ${endpoint}: Binance has no ${dataset.market} symbol ${dataset.symbol} (${reason})`
      : `REST ${endpoint}: Binance rejected ${what}: ${reason}`;
    return new UpstreamError(message, { code, cause: error, details: { ...details, binanceCode: binance?.code, binanceMsg: binance?.msg } });
  }
  const code = error.code === 'RATE_LIMITED' || error.code === 'UPSTREAM_RESTRICTED' ? error.code : 'UPSTREAM_FAILED';
  return new UpstreamError(`REST ${endpoint}: ${what} ${formatRange(range)} failed: ${error.message}`, { code, cause: error, details });
}

/** `{code, msg}` of a Binance error body, if that is what it is. */
function parseBinanceError(body: unknown): { code: number; msg: string } | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'code' in parsed && 'msg' in parsed) {
      const { code, msg } = parsed as { code: unknown; msg: unknown };
      if (typeof code === 'number' && typeof msg === 'string') return { code, msg };
    }
  } catch {
    // Not JSON: the caller falls back to the HTTP status.
  }
  return undefined;
}

/**
 * Parses a klines response body: an array of 12-element arrays
 * `[openTime, "open", "high", "low", "close", "volume", closeTime, "quoteVolume", trades,
 * "takerBuyVolume", "takerBuyQuoteVolume", "ignore"]` (numbers or numeric strings) into rows.
 * Throws DataValidationError naming `context` and the bad element.
 */
export function parseKlinesBody(body: string, context: string): Kline[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new DataValidationError(`${context}: the answer is not JSON: "${body.slice(0, 200)}"`, { body: body.slice(0, 200) });
  }
  if (!Array.isArray(parsed)) throw new DataValidationError(`${context}: the answer is not a klines array: "${body.slice(0, 200)}"`, { body: body.slice(0, 200) });
  return parsed.map((item: unknown, index) => {
    if (!Array.isArray(item) || item.length < 11) {
      throw new DataValidationError(`${context}: element ${index} is not a 12-element kline array: ${JSON.stringify(item)?.slice(0, 200)}`, { index });
    }
    const n = (i: number): number => toNumber(item[i]);
    return {
      open_time: n(0), open: n(1), high: n(2), low: n(3), close: n(4), volume: n(5), close_time: n(6),
      quote_volume: n(7), trades: n(8), taker_buy_volume: n(9), taker_buy_quote_volume: n(10),
    };
  });
}

/** A number, or a numeric string; anything else becomes NaN and fails validateKlineColumns. */
function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return Number.NaN;
}
