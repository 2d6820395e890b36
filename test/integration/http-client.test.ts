/**
 * The retry policy of lib/sources/http-client.ts against small node:http servers on 127.0.0.1
 * that reproduce upstream failures (tardis-node style). Asserts requests made, never timings.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KlinesError, UpstreamError } from '../../lib/domain/errors.ts';
import { createHttpClient } from '../../lib/sources/http-client.ts';

type Handler = (request: IncomingMessage, response: ServerResponse, attempt: number) => void;

interface TestServer {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

async function startServer(handler: Handler): Promise<TestServer> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    handler(request, response, requests.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const testServer: TestServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  servers.push(testServer);
  return testServer;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const fast = { backoffBaseMs: 5 };

async function failure(promise: Promise<unknown>): Promise<KlinesError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KlinesError);
    return error as KlinesError;
  }
  throw new Error('expected the request to fail');
}

describe('createHttpClient retry policy', () => {
  it('retries 503 twice, then returns the 200 body (3 requests)', async () => {
    const server = await startServer((_, res, attempt) => {
      if (attempt <= 2) res.writeHead(503).end('busy');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    const response = await createHttpClient(fast).get(`${server.url}/x`);
    expect(response.statusCode).toBe(200);
    expect(response.body.toString()).toBe('ok');
    expect(server.requests).toHaveLength(3);
    expect(response.attempts).toBe(3);
  });

  it('never retries a 400 and reports it as UPSTREAM_REJECTED with the body', async () => {
    const server = await startServer((_, res) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":-1121,"msg":"Invalid symbol."}');
    });
    const error = await failure(createHttpClient(fast).get(`${server.url}/api/v3/klines`, { searchParams: { symbol: 'BTCUSDX' } }));
    expect(error.code).toBe('UPSTREAM_REJECTED');
    expect(error.details.status).toBe(400);
    expect(error.details.body).toContain('-1121');
    expect(server.requests).toEqual(['GET /api/v3/klines?symbol=BTCUSDX']);
  });

  it.each([401, 403, 404])('never retries %i', async (status) => {
    const server = await startServer((_, res) => res.writeHead(status).end());
    const error = await failure(createHttpClient(fast).get(`${server.url}/x`));
    expect(error.code).toBe('UPSTREAM_REJECTED');
    expect(server.requests).toHaveLength(1);
  });

  it('returns an accepted status (404 for Vision) as a response, without retrying', async () => {
    const server = await startServer((_, res) => res.writeHead(404).end('<Error><Code>NoSuchKey</Code></Error>'));
    const response = await createHttpClient(fast).get(`${server.url}/x`, { acceptStatuses: [404] });
    expect(response.statusCode).toBe(404);
    expect(server.requests).toHaveLength(1);
  });

  it('waits out a 429 with Retry-After: 1 and then succeeds (2 requests)', async () => {
    const server = await startServer((_, res, attempt) => {
      if (attempt === 1) res.writeHead(429, { 'retry-after': '1' }).end('{"code":-1003,"msg":"Too many requests"}');
      else res.writeHead(200).end('[]');
    });
    const response = await createHttpClient(fast).get(`${server.url}/x`);
    expect(response.body.toString()).toBe('[]');
    expect(server.requests).toHaveLength(2);
  });

  it('waits out a 418 with a short Retry-After too', async () => {
    const server = await startServer((_, res, attempt) => {
      if (attempt === 1) res.writeHead(418, { 'retry-after': '1' }).end();
      else res.writeHead(200).end('ok');
    });
    await createHttpClient(fast).get(`${server.url}/x`);
    expect(server.requests).toHaveLength(2);
  });

  it('stops at once on a 429 whose Retry-After is too long: RATE_LIMITED, no further request', async () => {
    const server = await startServer((_, res) => res.writeHead(429, { 'retry-after': '3600' }).end());
    const error = await failure(createHttpClient(fast).get(`${server.url}/x`));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.details.retryAfterMs).toBe(3_600_000);
    expect(error.message).toContain('3600 s');
    expect(server.requests).toHaveLength(1);
  });

  it('does not retry a 429 without Retry-After (no safe wait is known)', async () => {
    const server = await startServer((_, res) => res.writeHead(429).end());
    const error = await failure(createHttpClient(fast).get(`${server.url}/x`));
    expect(error.code).toBe('RATE_LIMITED');
    expect(server.requests).toHaveLength(1);
  });

  it('retries a connection reset and succeeds', async () => {
    const server = await startServer((req, res, attempt) => {
      if (attempt === 1) req.socket.destroy();
      else res.writeHead(200).end('ok');
    });
    const response = await createHttpClient(fast).get(`${server.url}/x`);
    expect(response.body.toString()).toBe('ok');
    expect(server.requests).toHaveLength(2);
  });

  it('gives up after retryLimit retries of a 500: UPSTREAM_FAILED, limit + 1 requests', async () => {
    const server = await startServer((_, res) => res.writeHead(500).end('oops'));
    const error = await failure(createHttpClient({ ...fast, retryLimit: 2 }).get(`${server.url}/x`));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.details.status).toBe(500);
    expect(server.requests).toHaveLength(3);
    expect(error.details.attempts).toBe(3);
  });

  it('retries an attempt that times out', async () => {
    const server = await startServer((_, res, attempt) => {
      if (attempt === 1) return; // never answers
      res.writeHead(200).end('late but fine');
    });
    const response = await createHttpClient({ ...fast, attemptTimeoutMs: 200 }).get(`${server.url}/x`);
    expect(response.body.toString()).toBe('late but fine');
    expect(server.requests).toHaveLength(2);
  });

  it('stops retrying when the AbortSignal fires', async () => {
    const controller = new AbortController();
    const server = await startServer((_, res, attempt) => {
      if (attempt === 1) controller.abort();
      res.writeHead(503).end();
    });
    const error = await failure(createHttpClient({ backoffBaseMs: 200 }).get(`${server.url}/x`, { signal: controller.signal }));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.message).toContain('aborted');
    expect(server.requests).toHaveLength(1);
  });
});

describe('a 429 pauses every request to that host, not only the one that got it', () => {
  it('a request started during the Retry-After wait reaches the server only after it', async () => {
    const arrivals: { path: string; atMs: number }[] = [];
    const server = await startServer((request, response, attempt) => {
      arrivals.push({ path: request.url ?? '', atMs: Date.now() });
      if (attempt === 1) response.writeHead(429, { 'retry-after': '1' }).end('{"code":-1003,"msg":"Too many requests."}');
      else response.writeHead(200).end('[]');
    });
    const client = createHttpClient(fast);
    const first = client.get(`${server.url}/first`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the 429 has been answered by now
    const second = client.get(`${server.url}/second`);
    await Promise.all([first, second]);
    const limitedAt = arrivals[0]!.atMs;
    expect(arrivals.map((a) => a.path)).toEqual(['/first', expect.any(String), expect.any(String)]);
    expect(arrivals.slice(1).every((a) => a.atMs >= limitedAt + 950)).toBe(true);
  });

  it('a Retry-After longer than we wait fails the other requests at once, without sending them', async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(429, { 'retry-after': '3600' }).end();
    });
    const client = createHttpClient(fast);
    const first = await client.get(`${server.url}/first`).catch((e: unknown) => e);
    const second = await client.get(`${server.url}/second`).catch((e: unknown) => e);
    expect((first as KlinesError).code).toBe('RATE_LIMITED');
    expect((second as KlinesError).code).toBe('RATE_LIMITED');
    expect((second as Error).message).toContain('longer than the 60 s we wait');
    expect(server.requests).toEqual(['GET /first']);
  });
});
