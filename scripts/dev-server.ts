/**
 * `npm run dev [-- --port 3000] [--live]`: serves the HTTP handlers on 127.0.0.1 through a thin API
 * Gateway HTTP API (payload 2.0) adapter, so `curl` reaches the same code a Lambda runs:
 * `GET /klines` → functions/http-get-klines.ts, `GET /coverage` → functions/http-get-coverage.ts,
 * `GET /datasets` → functions/http-get-datasets.ts,
 * anything else 404 `{error:{code:'NOT_FOUND',message}}`.
 *
 * By default it works offline, like `npm run replay`: the fake Binance replays the recorded files
 * with its clock at `KLINES_NOW` (default 2022-11-01T00:00:00Z, after every recorded dataset), and
 * the cache is a temporary folder removed on exit. `--live` uses the usual environment instead
 * (lib/config.ts): live Binance, the local default cache or S3/DynamoDB with `KLINES_STORE`,
 * `KLINES_INDEX` and `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL_DYNAMODB`.
 * `start`/`stop` run it in the background (scripts/background.ts); it announces `KLINES_DEV_URL`.
 * Large and Parquet answers are `file://` URLs on the local default (`curl file:///…` reads them).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { startFakeBinance } from '../test/helpers/fake-binance.ts';
import { announceReady, runBackgroundCommand } from './background.ts';

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

/** The offline default: the clock of `npm run dev` when KLINES_NOW is unset (after every recorded dataset). */
const DEV_NOW = '2022-11-01T00:00:00Z';

/**
 * Points the environment at a fake Binance and a temporary cache (the offline default). Returns
 * what stops them. Call before startDevServer, whose handlers read the environment at load.
 */
async function useFakeBinance(): Promise<() => Promise<void>> {
  const now = process.env.KLINES_NOW ?? DEV_NOW;
  const fake = await startFakeBinance({ nowMs: Date.parse(now) });
  const cacheDir = await mkdtemp(join(tmpdir(), 'klines-dev-'));
  Object.assign(process.env, {
    KLINES_NOW: now, KLINES_CACHE_DIR: cacheDir, BINANCE_VISION_URL: fake.visionUrl,
    BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
  });
  delete process.env.KLINES_STORE;
  delete process.env.KLINES_INDEX;
  delete process.env.KLINES_RESULTS;
  process.stderr.write(`dev: offline, against the fake Binance (recorded data, clock ${now}), cache in ${cacheDir} (removed on exit); --live for Binance itself\n`);
  return async () => {
    await fake.close();
    await rm(cacheDir, { recursive: true, force: true });
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...argv], options: { port: { type: 'string', default: '3000' }, live: { type: 'boolean', default: false } } });
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65_535) throw new Error(`dev-server: --port "${values.port}" is not a port number`);
  const stopUpstream = values.live ? async () => undefined : await useFakeBinance();
  const server = await startDevServer({ port });
  const stop = (): void => void server.close().then(stopUpstream).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stderr.write(`${curlExamples(server.url)}\n`);
  announceReady({ KLINES_DEV_URL: server.url });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  runBackgroundCommand('dev', 'scripts/dev-server.ts', argv)
    .then((handled) => (handled ? undefined : main(argv)))
    .catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
