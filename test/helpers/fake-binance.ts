/**
 * A fake Binance on 127.0.0.1: the Vision archive (`/data/...zip` and `.CHECKSUM`), the three
 * REST klines endpoints and the three exchangeInfo endpoints on one port, serving only the real files of `test/fixtures/binance`
 * (see real-data.ts), plus the mark/index/premium-index klines and funding rate from the
 * synthetic files of `test/fixtures/binance/synthetic` (fake-binance-series.ts), with an injectable clock and injectable faults. Used by every test that
 * touches an upstream; `scripts/fake-binance.ts` runs it standalone for demos.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createExchangeInfoHandler, EXCHANGE_INFO_MARKET_BY_PATH } from './fake-binance-exchange-info.ts';
import { createRestHandler, REST_MARKET_BY_PATH } from './fake-binance-rest.ts';
import { answerSeriesRest, answerSeriesVision, isSeriesVisionPath, loadSeriesUniverse, SERIES_REST_PATHS } from './fake-binance-series.ts';
import { createVisionHandler, type ContentFault } from './fake-binance-vision.ts';
import { loadRealUniverse } from './real-data.ts';

export interface FakeBinanceOptions {
  /** The fake's clock (UTC epoch ms): no candle opening after it is served. Default Date.now(). */
  nowMs?: number;
  /** A daily Vision file is published once dayEnd + dailyLagMs ≤ now. Default 8 h. */
  dailyLagMs?: number;
  /** A monthly Vision file is published once monthEnd + monthlyLagMs ≤ now. Default 2 days. */
  monthlyLagMs?: number;
  /** TCP port to listen on; default 0 (a free port). */
  port?: number;
}

/** One request as the fake saw it. `status` is 0 for a request answered by a `reset` fault. */
export interface RecordedRequest {
  kind: 'vision-zip' | 'vision-checksum' | 'rest' | 'exchange-info' | 'other';
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

/**
 * A fault for the next matching requests. `status` and `reset` hit any request; `bad-checksum`
 * only `.CHECKSUM` requests; `truncate-zip` only zip requests; `truncate-rows` hits `times` zip
 * requests and `times` `.CHECKSUM` requests (counted separately, so the sidecar matches the
 * truncated zip whichever the client fetches first). A request a fault does not hit neither
 * sees nor consumes it.
 */
export type Fault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'bad-checksum' }
  | { kind: 'truncate-zip' }
  | { kind: 'truncate-rows'; rows: number }
  | { kind: 'reset' }
  /** Answers normally, `ms` later (a slow upstream; hits any request, like `status`). */
  | { kind: 'delay'; ms: number };

export interface FakeBinance {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** For BINANCE_VISION_URL: paths start with `/data/...`. */
  readonly visionUrl: string;
  /** For BINANCE_SPOT_API_URL, BINANCE_UM_API_URL, BINANCE_CM_API_URL (all the same port). */
  readonly spotApiUrl: string;
  readonly umApiUrl: string;
  readonly cmApiUrl: string;
  /** Every request in arrival order, faulted ones included. */
  readonly requests: RecordedRequest[];
  clearRequests(): void;
  /** Moves the clock (UTC epoch ms); affects REST answers and Vision publication. */
  setNow(ms: number): void;
  /** The next `times` (default 1) requests whose path contains `pathIncludes` get `fault`. */
  inject(pathIncludes: string, fault: Fault, times?: number): void;
  /** Drops every injected fault not used up yet. */
  clearFaults(): void;
  close(): Promise<void>;
}

/** What a handler answers; the server writes it. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

type RequestKind = RecordedRequest['kind'];

interface Injection {
  readonly pathIncludes: string;
  readonly fault: Fault;
  /** Requests left to hit (for truncate-rows: zip requests). */
  remaining: number;
  /** truncate-rows only: `.CHECKSUM` requests left to hit. */
  remainingSidecars: number;
}

const HOUR_MS = 3_600_000;

/**
 * Starts the fake on 127.0.0.1 (a free port unless `options.port`). Loads the real data first
 * (once per process). Resolves when it listens; rejects if the port cannot be bound.
 */
export async function startFakeBinance(options: FakeBinanceOptions = {}): Promise<FakeBinance> {
  const universe = loadRealUniverse();
  const vision = createVisionHandler(universe);
  const rest = createRestHandler(universe);
  const exchangeInfo = createExchangeInfoHandler(universe);
  const series = loadSeriesUniverse();
  const clock = { nowMs: options.nowMs ?? Date.now(), dailyLagMs: options.dailyLagMs ?? 8 * HOUR_MS, monthlyLagMs: options.monthlyLagMs ?? 48 * HOUR_MS };
  const requests: RecordedRequest[] = [];
  let injections: Injection[] = [];
  let usedWeight = 0;

  const takeFault = (path: string, kind: RequestKind): Fault | undefined => {
    const injection = injections.find((i) => path.includes(i.pathIncludes) && usesLeft(i, kind) > 0);
    if (!injection) return undefined;
    if (injection.fault.kind === 'truncate-rows' && kind === 'vision-checksum') injection.remainingSidecars--;
    else injection.remaining--;
    injections = injections.filter((i) => i.remaining > 0 || i.remainingSidecars > 0);
    return injection.fault;
  };

  const answer = (req: IncomingMessage, path: string, query: Record<string, string>, kind: RequestKind, fault: Fault | undefined): Reply | 'reset' => {
    if (fault?.kind === 'reset') return 'reset';
    if (fault?.kind === 'status') {
      return { status: fault.status, headers: { 'content-type': 'text/plain', ...fault.headers }, body: fault.body ?? '' };
    }
    if ((kind === 'vision-zip' || kind === 'vision-checksum') && isSeriesVisionPath(path)) return answerSeriesVision(series, path, clock);
    if (kind === 'vision-zip' || kind === 'vision-checksum') return vision(path, clock, fault as ContentFault | undefined);
    if (kind === 'rest' || kind === 'exchange-info') {
      const { reply, weight } = kind === 'rest'
        ? (SERIES_REST_PATHS[path] ? answerSeriesRest(series, path, query, clock.nowMs) : rest(path, query, clock.nowMs))
        : exchangeInfo(path, clock.nowMs);
      usedWeight += weight;
      return { ...reply, headers: { ...reply.headers, 'x-mbx-used-weight-1m': String(usedWeight) } };
    }
    return { status: 404, headers: { 'content-type': 'text/plain' }, body: `fake-binance: no route for ${req.method} ${path}` };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams);
    const kind = classify(url.pathname);
    const record: RecordedRequest = { kind, method: req.method ?? 'GET', path: url.pathname, query, status: 0 };
    requests.push(record);
    const fault = takeFault(url.pathname, kind);
    if (fault?.kind === 'delay') {
      const timer = setTimeout(() => send(req, res, record, answer(req, url.pathname, query, kind, undefined)), fault.ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    send(req, res, record, answer(req, url.pathname, query, kind, fault));
  });

  const send = (req: IncomingMessage, res: ServerResponse, record: RecordedRequest, reply: Reply | 'reset'): void => {
    if (reply === 'reset') {
      req.socket.destroy();
      return;
    }
    record.status = reply.status;
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url, visionUrl: url, spotApiUrl: url, umApiUrl: url, cmApiUrl: url, requests,
    clearRequests: () => void requests.splice(0),
    setNow: (ms) => void (clock.nowMs = ms),
    clearFaults: () => { injections = []; },
    inject: (pathIncludes, fault, times = 1) => {
      injections.push({ pathIncludes, fault, remaining: times, remainingSidecars: fault.kind === 'truncate-rows' ? times : 0 });
    },
    close: () => new Promise<void>((resolve, reject) => {
      // Keep-alive sockets from fetch would otherwise hold close() open.
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}

function classify(path: string): RequestKind {
  if (path.startsWith('/data/') && path.endsWith('.zip')) return 'vision-zip';
  if (path.startsWith('/data/') && path.endsWith('.zip.CHECKSUM')) return 'vision-checksum';
  if (REST_MARKET_BY_PATH[path] || SERIES_REST_PATHS[path]) return 'rest';
  if (EXCHANGE_INFO_MARKET_BY_PATH[path]) return 'exchange-info';
  return 'other';
}

/** How many more requests of this kind the injection hits. */
function usesLeft(injection: Injection, kind: RequestKind): number {
  const isVision = kind === 'vision-zip' || kind === 'vision-checksum';
  switch (injection.fault.kind) {
    case 'status':
    case 'reset':
    case 'delay':
      return injection.remaining;
    case 'bad-checksum':
      return kind === 'vision-checksum' ? injection.remaining : 0;
    case 'truncate-zip':
      return kind === 'vision-zip' ? injection.remaining : 0;
    case 'truncate-rows':
      return !isVision ? 0 : kind === 'vision-zip' ? injection.remaining : injection.remainingSidecars;
  }
}

/** A fake Binance with an empty temporary cache folder, as a test gets them fresh. */
export interface FakeWithCacheDir {
  readonly fake: FakeBinance;
  /** An empty folder under the system temp dir, for KLINES_CACHE_DIR. */
  readonly cacheDir: string;
  /** Closes the fake and deletes the folder: return it from a vitest `beforeEach`. */
  cleanup(): Promise<void>;
}

/** Starts a fake Binance (startFakeBinance(options)) and makes an empty folder named `{prefix}…` in the temp dir. */
export async function startFakeWithCacheDir(prefix: string, options: FakeBinanceOptions = {}): Promise<FakeWithCacheDir> {
  const fake = await startFakeBinance(options);
  const cacheDir = await mkdtemp(join(tmpdir(), prefix));
  return {
    fake, cacheDir,
    async cleanup() {
      await fake.close();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}
