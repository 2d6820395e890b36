/**
 * The service as the CLI builds it (loadConfig + createServiceFromConfig: local fs cache and
 * index, Vision and REST clients), pointed at a loopback upstream with a fixed clock. Going
 * through loadConfig with an explicit environment keeps the bench independent of process.env.
 */
import { loadConfig } from '../lib/config.ts';
import { createServiceFromConfig } from '../lib/create-service.ts';
import type { KlinesService } from '../lib/service/klines-service.ts';

/** A service caching under `cacheDir`, with every upstream URL `upstreamUrl` and the clock fixed at `nowMs` (UTC epoch ms). */
export function createBenchService(cacheDir: string, upstreamUrl: string, nowMs: number): KlinesService {
  return createServiceFromConfig(loadConfig({
    KLINES_CACHE_DIR: cacheDir,
    BINANCE_VISION_URL: upstreamUrl,
    BINANCE_SPOT_API_URL: upstreamUrl,
    BINANCE_UM_API_URL: upstreamUrl,
    BINANCE_CM_API_URL: upstreamUrl,
    KLINES_NOW: String(nowMs),
  }));
}
