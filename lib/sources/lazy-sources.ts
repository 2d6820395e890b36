/**
 * The Binance sources (Vision files, REST pages, funding-rate files and pages) built on their
 * first use (issue 9, cold starts), as lazy-http-client.ts does for got: the CSV parser, the zip
 * reader and the REST paging are code only a fill needs, so a process that answers from the
 * cache (a Lambda's warm reads) neither parses nor links it. Same behaviour, answers and errors
 * as the clients they load; a failed load (a missing chunk) rejects the call, and the next call
 * loads again.
 */
import { once } from '../lazy.ts';
import type { FundingSourceOptions, FundingSources } from './funding-sources.ts';
import type { RestClientOptions } from './rest-client.ts';
import type { RestSource, VisionSource } from './types.ts';
import type { VisionClientOptions } from './vision-client.ts';


/** createVisionClient(options) from vision-client.ts, imported on the first fetchFile. */
export function createLazyVisionClient(options: VisionClientOptions): VisionSource {
  const client = once(() => import('./vision-client.ts').then((module) => module.createVisionClient(options)));
  return { fetchFile: async (...args) => (await client()).fetchFile(...args) };
}

/** createRestClient(options) from rest-client.ts, imported on the first request. */
export function createLazyRestClient(options: RestClientOptions): RestSource {
  const client = once(() => import('./rest-client.ts').then((module) => module.createRestClient(options)));
  return {
    fetchRange: async (...args) => (await client()).fetchRange(...args),
    fetchEdgeCandle: async (...args) => (await client()).fetchEdgeCandle(...args),
  };
}

/** createFundingSources(options) from funding-sources.ts, imported on the first request. */
export function createLazyFundingSources(options: FundingSourceOptions): FundingSources {
  const sources = once(() => import('./funding-sources.ts').then((module) => module.createFundingSources(options)));
  return {
    fetchMonth: async (...args) => (await sources()).fetchMonth(...args),
    fetchRange: async (...args) => (await sources()).fetchRange(...args),
  };
}
