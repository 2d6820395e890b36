/**
 * `npm run dev [-- --port 3000]`: serves the HTTP handlers on 127.0.0.1 through a thin API
 * Gateway HTTP API (payload 2.0) adapter, so `curl` reaches the same code a Lambda runs:
 * `GET /klines` → functions/http-get-klines.ts, `GET /coverage` → functions/http-get-coverage.ts,
 * `GET /datasets` → functions/http-get-datasets.ts,
 * anything else 404 `{error:{code:'NOT_FOUND',message}}`. The handlers read the usual environment
 * at start (lib/config.ts): the local default, or S3/DynamoDB with `KLINES_STORE`, `KLINES_INDEX`
 * and `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL_DYNAMODB` (e.g. the servers of `scripts/local-aws.ts`).
 * Large and Parquet answers are `file://` URLs on the local default (`curl file:///…` reads them).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** A running dev server. */
export interface DevServer {
  /** `http://127.0.0.1:{port}`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Options: `port` (0 = a free port; default 3000). The server binds 127.0.0.1 only. */
export interface DevServerOptions {
  readonly port?: number;
}

/**
 * Loads the handlers (their cold start reads the environment now) and starts listening.
 * Rejects when the configuration is invalid (naming the variable) or the port is taken.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const routes: Record<string, { name: string; handler: HttpHandler }> = {
    '/klines': { name: 'klines-http-get-klines', handler: ((await import('../functions/http-get-klines.ts')) as unknown as { handler: HttpHandler }).handler },
    '/coverage': { name: 'klines-http-get-coverage', handler: ((await import('../functions/http-get-coverage.ts')) as unknown as { handler: HttpHandler }).handler },
    '/datasets': { name: 'klines-http-get-datasets', handler: ((await import('../functions/http-get-datasets.ts')) as unknown as { handler: HttpHandler }).handler },
  };
  const { notFoundResponse } = await import('../functions/middleware/http-errors.ts');

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = req.method === 'GET' ? routes[url.pathname] : undefined;
    const answer = route
      ? route.handler(toApiGatewayEvent(req, url), lambdaContext(route.name))
      : Promise.resolve(notFoundResponse(req.method ?? 'GET', url.pathname));
    answer.then((response) => writeResponse(res, response), (error: unknown) => {
      writeResponse(res, { statusCode: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'INTERNAL', message: String(error) } }) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}

/**
 * The event API Gateway HTTP API sends for a request (AWS docs, "Working with AWS Lambda proxy
 * integrations for HTTP APIs", payload format 2.0): repeated query parameters joined with commas,
 * header names lower-cased.
 */
export function toApiGatewayEvent(req: IncomingMessage, url: URL): APIGatewayProxyEventV2 {
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(',');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  const now = new Date();
  return {
    version: '2.0',
    routeKey: `${req.method} ${url.pathname}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    requestContext: {
      accountId: 'offline', apiId: 'dev', domainName: headers.host ?? '127.0.0.1', domainPrefix: 'dev',
      http: { method: req.method ?? 'GET', path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(), routeKey: `${req.method} ${url.pathname}`, stage: '$default', time: now.toUTCString(), timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
}

function lambdaContext(functionName: string): Context {
  const deadlineMs = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false, functionName, functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`, memoryLimitInMB: '1024',
    awsRequestId: randomUUID(), logGroupName: `/aws/lambda/${functionName}`, logStreamName: 'dev',
    getRemainingTimeInMillis: () => deadlineMs - Date.now(), done: () => undefined, fail: () => undefined, succeed: () => undefined,
  };
}

function writeResponse(res: ServerResponse, response: APIGatewayProxyStructuredResultV2): void {
  const body = response.body === undefined ? Buffer.alloc(0) : Buffer.from(response.body, response.isBase64Encoded ? 'base64' : 'utf8');
  res.writeHead(response.statusCode ?? 200, { ...response.headers, 'content-length': String(body.length) } as Record<string, string>);
  res.end(body);
}

/** The curl lines printed at start. */
export function curlExamples(url: string): string {
  return [
    `klines dev server on ${url} (Ctrl-C to stop). Try:`,
    `  curl '${url}/klines?symbol=BTCUSDT&interval=1h&start=2020-12-01&end=2020-12-01T05:00:00Z'`,
    `  curl '${url}/klines?market=um&symbol=ETHUSDT&interval=1h&start=2022-08-24&end=2022-08-24T23:00:00Z&format=csv'`,
    `  curl '${url}/klines?symbol=BTCUSDT&interval=1h&start=2020-11-01&end=2020-11-30T23:00:00Z&format=parquet'   # → {"url":…}`,
    `  curl '${url}/coverage?market=spot&symbol=BTCUSDT&interval=1h'`,
    `  curl '${url}/datasets?market=spot'`,
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<void> {
  const portFlag = argv.indexOf('--port');
  const port = portFlag >= 0 ? Number(argv[portFlag + 1]) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`dev-server: --port "${argv[portFlag + 1]}" is not a port number`);
  const server = await startDevServer({ port });
  process.stderr.write(`${curlExamples(server.url)}\n`);
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
