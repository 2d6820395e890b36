/**
 * Wires a KlinesService from configuration: the embedded local default (Parquet files and a
 * file-backed coverage index under `cacheDir`) with the Vision and REST clients. Built once per
 * process (a Lambda's cold start, a CLI run) and shared.
 */
import type { Config } from './config.ts';
import { createKlinesService, type KlinesService } from './service/klines-service.ts';
import { createHttpClient } from './sources/http-client.ts';
import { createRestClient } from './sources/rest-client.ts';
import { createVisionClient } from './sources/vision-client.ts';
import { createFsCoverageIndex } from './store/fs-coverage-index.ts';
import { createFsObjectStore } from './store/fs-object-store.ts';
import { createKlineCache } from './store/kline-cache.ts';
import { createFsLeaseStore } from './store/fs-lease-store.ts';
import { createFsStatsStore } from './store/fs-stats-store.ts';

/** Builds the service for `config`. The clock is `config.nowMs` when set (KLINES_NOW), else the system clock. */
export function createServiceFromConfig(config: Config): KlinesService {
  const http = createHttpClient();
  const cache = createKlineCache({ store: createFsObjectStore(config.cacheDir), index: createFsCoverageIndex(config.cacheDir) });
  return createKlinesService({
    cache,
    leases: createFsLeaseStore(config.cacheDir),
    stats: createFsStatsStore(config.cacheDir),
    vision: createVisionClient({ baseUrl: config.visionUrl, http }),
    rest: createRestClient({ spotUrl: config.spotApiUrl, umUrl: config.umApiUrl, cmUrl: config.cmApiUrl, http }),
    nowMs: () => config.nowMs ?? Date.now(),
  });
}
