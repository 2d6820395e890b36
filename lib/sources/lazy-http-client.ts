/**
 * An HttpClient that loads the real one (http-client.ts, built on got) on its first request
 * (issue 9, cold starts): a process that only reads the cache, such as a Lambda answering warm
 * reads, never loads got. Same behaviour and errors as createHttpClient(options).
 */
import { once } from '../lazy.ts';
import type { HttpClient, HttpClientOptions } from './http-client.ts';

/** Builds the client; the first `get` imports http-client.ts and builds the got-based client once. */
export function createLazyHttpClient(options: HttpClientOptions = {}): HttpClient {
  const client = once(() => import('./http-client.ts').then((module) => module.createHttpClient(options)));
  return { get: async (url, getOptions) => (await client()).get(url, getOptions) };
}
