/**
 * The funding-rate service (issue 10, item 5) on a process's cache handles: the same store and
 * index as the klines, its own monthly partitions under `binance/{market}/fundingRate/`. Its own
 * module so that a Lambda answering klines imports it only with its first funding request
 * (functions/shared/runtime.ts; issue 9, cold starts).
 */
import type { Config } from './config.ts';
import type { CacheHandles } from './create-service.ts';
import { createFundingService, type FundingService } from './service/funding-service.ts';
import type { HttpClient } from './sources/http-client.ts';
import { createLazyFundingSources } from './sources/lazy-sources.ts';
import { createLazyHttpClient } from './sources/lazy-http-client.ts';
import { countingCacheEvents } from './store/counting-cache-events.ts';
import { createFundingCache } from './store/funding-cache.ts';

/** Builds the service on `handles`, fetching through `http` (default: a client of its own). The clock is `config.nowMs` when set (KLINES_NOW). */
export function buildFundingService(config: Config, handles: CacheHandles, http: HttpClient = createLazyHttpClient()): FundingService {
  return createFundingService({
    cache: createFundingCache({ store: handles.store, index: handles.index, events: countingCacheEvents(handles.stats) }),
    sources: createLazyFundingSources({ visionUrl: config.visionUrl, umUrl: config.umApiUrl, cmUrl: config.cmApiUrl, http }),
    nowMs: () => config.nowMs ?? Date.now(),
  });
}
