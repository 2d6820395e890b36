/**
 * The HTTP edge's error mapping (STYLE.md: only the HTTP edge maps codes to statuses; Middy's
 * rule: errors below 500 are explained to the caller, others become a generic 500).
 * Body: `{ "error": { "code": "...", "message": "..." } }`.
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { KlinesError, type KlinesErrorCode } from '../../lib/domain/errors.ts';

const STATUS_BY_CODE: Partial<Record<KlinesErrorCode, number>> = {
  INVALID_INPUT: 400,
  UPSTREAM_FAILED: 502,
  UPSTREAM_REJECTED: 502,
  RATE_LIMITED: 502,
  CHECKSUM_MISMATCH: 502,
  INVALID_DATA: 502,
};

/** The status and body for an error: KlinesErrors with a mapped code are explained; anything else is a generic 500. */
export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  const status = error instanceof KlinesError ? STATUS_BY_CODE[error.code] : undefined;
  const body = status !== undefined && error instanceof KlinesError
    ? { error: { code: error.code, message: error.message, ...rangeDetails(error) } }
    : { error: { code: 'INTERNAL', message: 'internal error; see the logs for the request id' } };
  return {
    statusCode: status ?? 500,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

function rangeDetails(error: KlinesError): Record<string, unknown> {
  return error.details.ranges ? { ranges: error.details.ranges } : {};
}

/** Middy middleware: turns a thrown error into errorResponse(error), logging the unexpected ones. */
export function httpErrors(): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      const response = errorResponse(request.error);
      if (response.statusCode === 500) {
        console.error(JSON.stringify({ level: 'error', message: 'unhandled error', requestId: request.context?.awsRequestId, error: String(request.error?.stack ?? request.error) }));
      }
      request.response = response;
    },
  };
}
