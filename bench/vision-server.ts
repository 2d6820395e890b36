/**
 * A bench-only Vision archive on 127.0.0.1 serving generated files (generate.ts): the project's
 * fake Binance (test/helpers/fake-binance.ts) serves only the small real recorded files, not a
 * year of 1m. Answers `GET {path}` and `{path}.CHECKSUM` for the files it was given, S3's 404
 * for anything else (REST paths included), and counts every request so a warm read can be shown
 * to make none.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GeneratedFile } from './generate.ts';

/** The running server. `url` is `http://127.0.0.1:PORT` (a Vision base and a REST base). */
export interface BenchVisionServer {
  readonly url: string;
  /** Requests answered so far, by kind. */
  readonly counts: { zip: number; checksum: number; notFound: number };
  /** All requests so far. */
  total(): number;
  close(): Promise<void>;
}

/** Starts the server on a free loopback port; resolves once it listens. */
export async function startBenchVisionServer(files: readonly GeneratedFile[]): Promise<BenchVisionServer> {
  const byPath = new Map(files.map((file) => [file.path, file]));
  const counts = { zip: 0, checksum: 0, notFound: 0 };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const sidecar = path.endsWith('.CHECKSUM');
    const file = byPath.get(sidecar ? path.slice(0, -'.CHECKSUM'.length) : path);
    if (!file || req.method !== 'GET') {
      counts.notFound++;
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end(`<Error><Code>NoSuchKey</Code><Key>${path}</Key></Error>`);
      return;
    }
    const body = sidecar ? Buffer.from(file.checksum) : file.zip;
    if (sidecar) counts.checksum++;
    else counts.zip++;
    res.writeHead(200, { 'content-type': sidecar ? 'text/plain' : 'application/zip', 'content-length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    total: () => counts.zip + counts.checksum + counts.notFound,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}
