/**
 * Real-shaped Lambda events for handler tests: API Gateway HTTP API (payload format 2.0) as
 * AWS documents it ("Working with AWS Lambda proxy integrations for HTTP APIs").
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/** A `GET {path}?{query}` event as API Gateway HTTP API sends it to Lambda. */
export function httpApiEvent(path: string, query: Record<string, string>): APIGatewayProxyEventV2 {
  const rawQueryString = new URLSearchParams(query).toString();
  const now = new Date();
  return {
    version: '2.0',
    routeKey: `GET ${path}`,
    rawPath: path,
    rawQueryString,
    headers: { accept: '*/*', host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'user-agent': 'curl/8.5.0', 'x-forwarded-proto': 'https' },
    queryStringParameters: Object.keys(query).length > 0 ? { ...query } : undefined,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'curl/8.5.0' },
      requestId: `req-${now.getTime()}`,
      routeKey: `GET ${path}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
}

/** A Lambda context with a request id and a budget of `remainingMs` (default 30 s). */
export function lambdaContext(functionName = 'klines-http-get-klines', remainingMs = 30_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: `aws-req-${Date.now()}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/21/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
