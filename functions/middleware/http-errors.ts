/**
 * The HTTP edge's error mapping (STYLE.md: only the HTTP edge maps codes to statuses; Middy's
 * rule: errors below 500 are explained to the caller, others become a generic 500).
 * Body: `{ "error": { "code": "...", "message": "..." } }`.
 * - 400/404: the caller's mistake; 502: a named upstream failure (the range is in the body);
 * - 503 with `Retry-After`: a failure the caller cannot fix but a retry may get past (the cache's
 *   store or index failing, a lost write race, a rate limit: issue 11);
 * - 500 only for an error nobody explained (a bug), logged with the request id.
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { KlinesError, type KlinesErrorCode } from '../../lib/domain/errors.ts';

const STATUS_BY_CODE: Partial<Record<KlinesErrorCode, number>> = {
  INVALID_INPUT: 400,
  UPSTREAM_FAILED: 502,
  UPSTREAM_REJECTED: 502,
  UPSTREAM_RESTRICTED: 502,
  UNKNOWN_SYMBOL: 404,
  RATE_LIMITED: 503,
  CHECKSUM_MISMATCH: 502,
  INVALID_DATA: 502,
  STORE_FAILED: 503,
  CONFLICT: 503,
  DEADLINE_REACHED: 503,
};

/** Retry-After of a 503 when the error carries no wait of its own (`details.retryAfterMs`). */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * The explained form of an error, with its HTTP status and, for a 503, the seconds to wait before
 * retrying: KlinesErrors with a mapped code; undefined for anything else.
 */
export function explainError(error: unknown): { status: number; retryAfterSeconds?: number; error: { code: string; message: string; ranges?: unknown } } | undefined {
  if (isMiddyTimeout(error)) {
    return { status: 503, retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS, error: { code: 'DEADLINE_REACHED', message: 'the function ran out of time before it could answer; what was fetched is kept, ask again' } };
  }
  const status = error instanceof KlinesError ? STATUS_BY_CODE[error.code] : undefined;
  if (status === undefined || !(error instanceof KlinesError)) return undefined;
  const explained = { status, error: { code: error.code, message: error.message, ...rangeDetails(error) } };
  return status === 503 ? { ...explained, retryAfterSeconds: retryAfterSeconds(error) } : explained;
}

/** Middy's own last-resort timeout (just before Lambda's), thrown when a handler overran its deadline. */
function isMiddyTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError' && (error.cause as { package?: string } | undefined)?.package === '@middy/core';
}

function retryAfterSeconds(error: KlinesError): number {
  const cause = error.cause instanceof KlinesError ? error.cause : undefined;
  const waitMs = Number(error.details.retryAfterMs ?? cause?.details.retryAfterMs);
  return Number.isFinite(waitMs) && waitMs > 0 ? Math.ceil(waitMs / 1000) : DEFAULT_RETRY_AFTER_SECONDS;
}

/** The body of an error that is not explained (Middy's rule: do not leak internals). */
export const INTERNAL_ERROR = { code: 'INTERNAL', message: 'internal error; see the logs for the request id' } as const;

/** The status and body for an error: KlinesErrors with a mapped code are explained; anything else is a generic 500. */
export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  const explained = explainError(error);
  const status = explained?.status;
  const body = { error: explained?.error ?? INTERNAL_ERROR };
  const retryAfter = explained?.retryAfterSeconds;
  return {
    statusCode: status ?? 500,
    headers: { 'content-type': 'application/json', ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }) },
    body: JSON.stringify(body),
  };
}

function rangeDetails(error: KlinesError): Record<string, unknown> {
  return error.details.ranges ? { ranges: error.details.ranges } : {};
}

/**
 * A 404 answer for a route the API does not have (API Gateway answers these itself in AWS;
 * the local dev server uses this so `curl` sees the same body shape).
 */
export function notFoundResponse(method: string, path: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 404,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route for ${method} ${path}; routes: GET /klines, GET /coverage` } }),
  };
}

/** The part of a logger the middleware uses (Powertools' Logger fits). */
export interface ErrorLogger {
  error(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
}

const consoleLogger: ErrorLogger = {
  error: (message, ...extra) => console.error(JSON.stringify({ level: 'error', message, extra: extra.map(String) })),
  warn: () => undefined,
};

/**
 * Middy middleware: turns a thrown error into errorResponse(error). Unexpected errors (500) are
 * logged with their stack; explained ones (4xx, 502) as a warning with their code.
 */
export function httpErrors(logger: ErrorLogger = consoleLogger): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      const response = errorResponse(request.error);
      if (response.statusCode === 500) {
        logger.error('unhandled error', { requestId: request.context?.awsRequestId }, request.error as Error);
      } else {
        logger.warn('request failed', { status: response.statusCode, code: (request.error as KlinesError).code, reason: request.error?.message });
      }
      request.response = response;
    },
  };
}
