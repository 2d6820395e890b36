/**
 * The service as the CLI builds it (loadConfig + open-service.ts: local fs cache and index,
 * Vision and REST clients), pointed at a loopback upstream with a fixed clock. Going through
 * loadConfig with an explicit environment keeps the bench independent of process.env.
 */
import { loadConfig, type Config } from '../lib/config.ts';
import { buildService, buildStreamer, createFsCacheHandles } from '../lib/open-service.ts';
import type { KlinesRequest, KlinesService } from '../lib/service/klines-service.ts';
import type { KlinesStream } from '../lib/service/stream-klines.ts';

function benchConfig(cacheDir: string, upstreamUrl: string, nowMs: number): Config {
  return loadConfig({
    KLINES_CACHE_DIR: cacheDir,
    BINANCE_VISION_URL: upstreamUrl,
    BINANCE_SPOT_API_URL: upstreamUrl,
    BINANCE_UM_API_URL: upstreamUrl,
    BINANCE_CM_API_URL: upstreamUrl,
    KLINES_NOW: String(nowMs),
  });
}

/** A service caching under `cacheDir`, with every upstream URL `upstreamUrl` and the clock fixed at `nowMs` (UTC epoch ms). */
export function createBenchService(cacheDir: string, upstreamUrl: string, nowMs: number): KlinesService {
  const config = benchConfig(cacheDir, upstreamUrl, nowMs);
  return buildService(config, createFsCacheHandles(config));
}

/** Streamed answers (as `klines get` writes CSV and JSON) on the same kind of service. */
export function createBenchStreamer(cacheDir: string, upstreamUrl: string, nowMs: number): (request: KlinesRequest) => KlinesStream {
  const config = benchConfig(cacheDir, upstreamUrl, nowMs);
  const handles = createFsCacheHandles(config);
  return buildStreamer(config, handles, buildService(config, handles));
}
