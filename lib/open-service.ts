/**
 * The service and its cache handles built without loading the AWS SDK unless the configuration
 * names S3 or DynamoDB (issue 9, cold starts: `klines` on a local cache never loads it). The
 * local default (Parquet files, a file-backed index, leases and statistics under `cacheDir`) is
 * built here; S3 and DynamoDB handles come from create-service.ts, which open-cache-handles.ts
 * imports dynamically for the CLI (kept out of this file: in a Lambda bundle that dynamic import
 * would make esbuild wrap the AWS SDK lazily and give up tree-shaking it, about +80 kB).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';
import type { CacheHandles } from './create-service.ts';
import { createKlinesService, type KlinesRequest, type KlinesService } from './service/klines-service.ts';
import { prepareStream } from './service/prepare-stream.ts';
import { streamKlines, type KlinesStream, type KlinesStreamDeps } from './service/stream-klines.ts';
import { createLazyHttpClient } from './sources/lazy-http-client.ts';
import { createLazyRestClient, createLazyVisionClient } from './sources/lazy-sources.ts';
import { createFsCoverageIndex } from './store/fs-coverage-index.ts';
import { createFsLeaseStore } from './store/fs-lease-store.ts';
import { createFsObjectStore } from './store/fs-object-store.ts';
import { createBufferedStatsStore } from './store/buffered-stats-store.ts';
import { createFsStatsStore } from './store/fs-stats-store.ts';
import { countingCacheEvents } from './store/counting-cache-events.ts';
import type { CacheStatsStore } from './store/types.ts';
import { createKlineCache, type KlineCache } from './store/kline-cache.ts';

/** True when the configuration keeps everything on local files (no AWS client needed). */
export function isLocalConfig(config: Config): boolean {
  return config.store.kind !== 's3' && config.index.kind !== 'dynamodb';
}

/**
 * The local cache's handles: everything under `config.cacheDir`. Statistics are summed in memory
 * (buffered-stats-store.ts, as in a Lambda container), in one buffer per cache folder and
 * process, and written to `_stats/` at the first request 100 requests or 60 s after the oldest
 * pending one, and when the process ends on its own (not into a cache folder deleted meanwhile);
 * a warm read in a long-lived process then pays no lock, read and rewrite of the stats file
 * (~3 ms of a ~10 ms warm month of 1m). A process ended by process.exit() or a signal loses what
 * it had not written yet.
 */
export function createFsCacheHandles(config: Config): CacheHandles {
  const root = config.cacheDir;
  return { store: createFsObjectStore(root), index: createFsCoverageIndex(root), leases: createFsLeaseStore(root), stats: localStats(root) };
}

/** One statistics buffer per cache folder: handles built apart in one process read each other's counts. */
const statsByFolder = new Map<string, CacheStatsStore>();

function localStats(root: string): CacheStatsStore {
  const folder = path.resolve(root);
  let stats = statsByFolder.get(folder);
  if (!stats) {
    stats = createBufferedStatsStore(createFsStatsStore(folder), { flushBeforeExit: { onError: warnStatsNotSaved, skip: () => !existsSync(folder) } });
    statsByFolder.set(folder, stats);
  }
  return stats;
}

function warnStatsNotSaved(error: unknown): void {
  process.emitWarning(`klines: cache statistics of this process not saved: ${error instanceof Error ? error.message : String(error)}`);
}

const caches = new WeakMap<CacheHandles, KlineCache>();

/**
 * The one kline cache on `handles`: the service and the streamer of a process share it, so its
 * per-record write queue (record-writer.ts) sees every write of the process and the process never
 * conflicts with itself (issue 8, item 4).
 */
function cacheOn(handles: CacheHandles): KlineCache {
  let cache = caches.get(handles);
  if (!cache) {
    cache = createKlineCache({ store: handles.store, index: handles.index, events: countingCacheEvents(handles.stats) });
    caches.set(handles, cache);
  }
  return cache;
}

/** Builds the service on `handles`. The clock is `config.nowMs` when set (KLINES_NOW), else the system clock. */
export function buildService(config: Config, handles: CacheHandles): KlinesService {
  const http = createLazyHttpClient();
  return createKlinesService({
    cache: cacheOn(handles),
    leases: handles.leases,
    stats: handles.stats,
    vision: createLazyVisionClient({ baseUrl: config.visionUrl, http }),
    rest: createLazyRestClient({ spotUrl: config.spotApiUrl, umUrl: config.umApiUrl, cmUrl: config.cmApiUrl, http }),
    nowMs: () => config.nowMs ?? Date.now(),
    leaseTtlMs: config.leaseTtlMs,
    leaseWaitMs: config.leaseWaitMs,
    bounds: handles.index,
  });
}

function streamDeps(config: Config, handles: CacheHandles, service: KlinesService): KlinesStreamDeps {
  return { service, cache: cacheOn(handles), stats: handles.stats, nowMs: () => config.nowMs ?? Date.now() };
}

/** Streams answers (stream-klines.ts) through `service` on the same handles. */
export function buildStreamer(config: Config, handles: CacheHandles, service: KlinesService): (request: KlinesRequest) => KlinesStream {
  const deps = streamDeps(config, handles, service);
  return (request) => streamKlines(deps, request);
}

/** Fills the gaps, then streams the answer from the cache (prepare-stream.ts), through `service` on the same handles. */
export function buildStreamPreparer(config: Config, handles: CacheHandles, service: KlinesService): (request: KlinesRequest) => Promise<KlinesStream> {
  const deps = streamDeps(config, handles, service);
  return (request) => prepareStream(deps, request);
}
