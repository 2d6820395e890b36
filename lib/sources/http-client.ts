/**
 * The one HTTP client every upstream call goes through, with the project's retry policy.
 * Built on got's own retry machinery (`retry.limit`, `statusCodes`, `calculateDelay`,
 * `maxRetryAfter`) rather than a home-made loop. The policy follows tardis-node's:
 *
 * - GET only.
 * - 5xx answers and network errors (ECONNRESET, ETIMEDOUT, ECONNREFUSED, EPIPE, ...) are retried
 *   up to `retryLimit` times with exponential backoff and full jitter: attempt n waits a uniform
 *   random time in (0, backoffBaseMs · 2^(n-1)] ms (AWS Architecture Blog, "Exponential Backoff
 *   And Jitter").
 * - 429 (rate limited) and 418 (IP banned for ignoring 429s) wait exactly `Retry-After` seconds,
 *   then retry. A `Retry-After` longer than `maxRetryAfterMs` is not waited for: the request stops
 *   at once and fails with UpstreamError code RATE_LIMITED whose message says how long to wait.
 *   Binance bans IPs that keep hammering after a 429 (Binance API docs, "LIMITS"), so we never do;
 *   a 429/418 without a usable Retry-After is not retried either.
 * - Any other 4xx (400, 401, 403, 404, 451, ...) is never retried: asking again gets the same answer.
 *   451 is Binance refusing the caller's location (see restrictedError).
 * - Each attempt is bounded by `attemptTimeoutMs`; an AbortSignal cancels the request and any
 *   backoff wait in progress.
 */
import got, { HTTPError, RequestError, type Got, type RetryObject } from 'got';
import type { IncomingHttpHeaders } from 'node:http';
import { UpstreamError } from '../domain/errors.ts';

/** Tuning of the retry policy. All durations in ms. */
export interface HttpClientOptions {
  /** Retries after the first attempt (default 4). */
  retryLimit?: number;
  /** Backoff cap of the first retry; doubles each retry (default 500). */
  backoffBaseMs?: number;
  /** Longest Retry-After (429/418) we wait for; longer ones fail with RATE_LIMITED (default 60 000). */
  maxRetryAfterMs?: number;
  /** Timeout of one attempt (default 30 000). */
  attemptTimeoutMs?: number;
}

/** A successful (or explicitly accepted) answer: status, lower-cased headers, raw body bytes. */
export interface HttpResponse {
  readonly url: string;
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Requests made for this answer: 1 + retries (each costs Binance weight). */
  readonly attempts: number;
}

/** Options of one GET. */
export interface HttpGetOptions {
  /** Query parameters, appended to the URL. */
  searchParams?: Record<string, string | number>;
  signal?: AbortSignal;
  /** Non-2xx statuses returned as responses instead of thrown (e.g. `[404]` for Vision). */
  acceptStatuses?: readonly number[];
}

/** GET-only client with the retry policy above. */
export interface HttpClient {
  /**
   * GETs `url` under the retry policy. Resolves to the 2xx (or accepted) response. Throws
   * UpstreamError with `details { url, attempts, status?, retryAfterMs?, body? }`: RATE_LIMITED for a
   * 429/418 whose Retry-After is too long (or left after the retries), UPSTREAM_REJECTED for
   * 451 (restricted location: UPSTREAM_RESTRICTED, see restrictedError), UPSTREAM_REJECTED for
   * other 4xx, UPSTREAM_FAILED for 5xx after the retries and for network errors and aborts.
   */
  get(url: string, options?: HttpGetOptions): Promise<HttpResponse>;
}

const RETRY_STATUS_CODES = [418, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];
const RATE_LIMIT_STATUS_CODES = new Set([418, 429]);
const NETWORK_ERROR_CODES = ['ETIMEDOUT', 'ECONNRESET', 'EADDRINUSE', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET'];

/** Builds the client once (at cold start) and shares it between the Vision and REST clients. */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const retryLimit = options.retryLimit ?? 4;
  const backoffBaseMs = options.backoffBaseMs ?? 500;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 30_000;

  // After a 429/418 every request to that host waits out Retry-After, not only the one that got
  // it: requests running in parallel must not keep hammering (DESIGN.md, Upstreams). Per process.
  const pausedUntilMs = new Map<string, number>();
  const pauseHost = (url: URL | string | undefined, waitMs: number): void => {
    if (!url || !(waitMs > 0)) return;
    const host = new URL(url).host;
    pausedUntilMs.set(host, Math.max(pausedUntilMs.get(host) ?? 0, Date.now() + waitMs));
  };
  const waitForHost = async (url: URL | string | undefined): Promise<void> => {
    const waitMs = url ? (pausedUntilMs.get(new URL(url).host) ?? 0) - Date.now() : 0;
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  };

  const calculateDelay = ({ attemptCount, error, retryAfter, computedValue }: RetryObject): number => {
    if (error.response && RATE_LIMIT_STATUS_CODES.has(error.response.statusCode)) {
      pauseHost(error.options.url, retryAfter ?? parseRetryAfterMs(error.response.headers['retry-after']) ?? 0);
    }
    // got's own verdict: 0 when the limit, method, status or error code forbids a retry, or
    // when Retry-After exceeds maxRetryAfter.
    if (computedValue === 0) return 0;
    if (retryAfter !== undefined && retryAfter > 0 && error.response) return retryAfter;
    // A 429/418 without Retry-After gives no safe wait: stop rather than risk a ban.
    if (error.response && RATE_LIMIT_STATUS_CODES.has(error.response.statusCode)) return 0;
    return Math.max(1, Math.ceil(Math.random() * backoffBaseMs * 2 ** (attemptCount - 1)));
  };

  const instance: Got = got.extend({
    method: 'GET',
    responseType: 'buffer',
    timeout: { request: attemptTimeoutMs },
    retry: {
      limit: retryLimit,
      methods: ['GET'],
      statusCodes: RETRY_STATUS_CODES,
      errorCodes: NETWORK_ERROR_CODES,
      maxRetryAfter: maxRetryAfterMs,
      calculateDelay,
    },
    hooks: { beforeRequest: [async (requestOptions) => waitForHost(requestOptions.url)] },
  });

  return {
    async get(url, getOptions = {}) {
      const pausedMs = (pausedUntilMs.get(new URL(url).host) ?? 0) - Date.now();
      if (pausedMs > maxRetryAfterMs) {
        throw new UpstreamError(`${new URL(url).host} rate-limited this client; Binance asked to wait ${Math.ceil(pausedMs / 1000)} s more, longer than the ${maxRetryAfterMs / 1000} s we wait. Retry after that.`, {
          code: 'RATE_LIMITED', details: { url, retryAfterMs: pausedMs },
        });
      }
      try {
        const response = await instance.get(url, {
          searchParams: getOptions.searchParams,
          signal: getOptions.signal,
          responseType: 'buffer',
        });
        return { url: response.url, statusCode: response.statusCode, headers: response.headers, body: response.body, attempts: response.retryCount + 1 };
      } catch (error) {
        if (error instanceof HTTPError && getOptions.acceptStatuses?.includes(error.response.statusCode)) {
          const raw = error.response.rawBody;
          return {
            url: error.response.url, statusCode: error.response.statusCode, headers: error.response.headers,
            body: Buffer.isBuffer(raw) ? raw : Buffer.alloc(0), attempts: error.response.retryCount + 1,
          };
        }
        throw toUpstreamError(error, url, maxRetryAfterMs);
      }
    },
  };
}

/** Maps a got failure to the project's UpstreamError (see HttpClient.get). */
function toUpstreamError(error: unknown, url: string, maxRetryAfterMs: number): UpstreamError {
  const attempts = error instanceof RequestError ? (error.request?.retryCount ?? 0) + 1 : 1;
  if (error instanceof HTTPError) {
    const status = error.response.statusCode;
    const body = bodyText(error.response.rawBody, error.response.body);
    if (RATE_LIMIT_STATUS_CODES.has(status)) {
      const retryAfterMs = parseRetryAfterMs(error.response.headers['retry-after']);
      const wait = retryAfterMs === undefined ? 'an unknown time' : `${Math.ceil(retryAfterMs / 1000)} s`;
      const why = retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs ? `, longer than the ${maxRetryAfterMs / 1000} s we wait` : '';
      return new UpstreamError(`HTTP ${status} from ${url}: rate limited; Binance asks to wait ${wait}${why}. Retry after that.`, {
        code: 'RATE_LIMITED', cause: error, details: { url, attempts, status, retryAfterMs, body },
      });
    }
    if (status === 451) return restrictedError(url, error, { url, attempts, status, body });
    const code = status >= 400 && status < 500 ? 'UPSTREAM_REJECTED' : 'UPSTREAM_FAILED';
    return new UpstreamError(`HTTP ${status} from ${url}${body ? `: ${body.slice(0, 200)}` : ''}`, { code, cause: error, details: { url, attempts, status, body } });
  }
  if (error instanceof RequestError) {
    const what = error.name === 'AbortError' ? 'aborted' : `${error.code ?? error.name}: ${error.message}`;
    return new UpstreamError(`GET ${url} failed: ${what}`, { cause: error, details: { url, attempts, errorCode: error.code } });
  }
  return new UpstreamError(`GET ${url} failed: ${String(error)}`, { cause: error, details: { url, attempts } });
}

/**
 * HTTP 451 "Unavailable For Legal Reasons" (RFC 7725): Binance answers it to requests from a
 * restricted location, e.g. any US IP, AWS us-* regions included (Binance API docs, "General
 * API Information"; body "Service unavailable from a restricted location"). Asking again from the
 * same place gets the same answer, so it is never retried; the message names the host and the fix.
 */
function restrictedError(url: string, cause: unknown, details: Record<string, unknown>): UpstreamError {
  const host = new URL(url).host;
  return new UpstreamError(
    `HTTP 451 from ${host}: Binance refuses requests from this location (restricted region, e.g. the US). `
    + 'Run or deploy in a region Binance serves (the default eu-west-1, or e.g. eu-central-1, ap-northeast-1); '
    + 'for spot REST, BINANCE_SPOT_API_URL=https://data-api.binance.vision (Binance\'s public market-data endpoint) also works',
    { code: 'UPSTREAM_RESTRICTED', cause, details: { ...details, host } },
  );
}

function bodyText(raw: unknown, body: unknown): string {
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  return typeof body === 'string' ? body : '';
}

/** Retry-After in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const dateMs = Date.parse(value);
  return Number.isFinite(dateMs) ? Math.max(0, dateMs - Date.now()) : undefined;
}
