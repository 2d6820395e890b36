/**
 * What the handlers that read or fill klines build once per container (cold start; Middy's rule):
 * the configuration, the cache handles and the service, the results location, Powertools' logger
 * and metrics. The cache statistics are buffered per container (buffered-stats-store.ts).
 * GET /klines, invoke and sqs-refresh-dataset call createRuntime() at module load, after the
 * environment is set; cron-refresh only on its first inline refresh; GET /coverage and GET
 * /datasets build the index alone (index-runtime.ts).
 */
import { awsOptions, loadConfig, type Config } from '../../lib/config.ts';
import { createCacheHandles, createServiceFromConfig, type CacheHandles } from '../../lib/create-service.ts';
import { createObservability, type Observability } from '../../lib/observability.ts';
import { once } from '../../lib/lazy.ts';
import { buildStreamPreparer } from '../../lib/open-service.ts';
import type { FundingService } from '../../lib/service/funding-service.ts';
import type { KlinesRequest, KlinesService } from '../../lib/service/klines-service.ts';
import type { KlinesStream } from '../../lib/service/stream-klines.ts';
import { createBufferedStatsStore } from '../../lib/store/buffered-stats-store.ts';
import { createS3Client } from '../../lib/store/s3-api.ts';
import { createResultsLocation, type ResultsLocation } from './results.ts';

/** The per-container state of a handler. */
export interface Runtime {
  readonly config: Config;
  readonly handles: CacheHandles;
  readonly service: KlinesService;
  /** The funding-rate service on the same handles (issue 10, item 5), imported and built with the first funding request. */
  readonly funding: FundingService;
  /** Fills the request's gaps (honouring `request.signal`), then streams its answer from the cache (prepare-stream.ts): for long answers. */
  prepareStream(request: KlinesRequest): Promise<KlinesStream>;
  readonly results: ResultsLocation;
  readonly obs: Observability;
  /** The clock: KLINES_NOW when set, else the system clock (UTC epoch ms). */
  nowMs(): number;
}

/**
 * Builds the runtime from `process.env` (through loadConfig), on `obs` when given (a handler that
 * built its own logger and metrics first). Throws InvalidInputError naming a bad variable.
 */
export function createRuntime(config: Config = loadConfig(), obs: Observability = createObservability(config)): Runtime {
  // Statistics are summed per container and written once 100 requests or 60 s have passed (buffered-stats-store.ts),
  // so a warm read costs no DynamoDB write. The local index's statistics buffer already (open-service.ts).
  const unbuffered = createCacheHandles(config);
  const handles = config.index.kind === 'dynamodb' ? { ...unbuffered, stats: createBufferedStatsStore(unbuffered.stats) } : unbuffered;
  const s3 = handles.s3 ?? (config.results.kind === 's3' ? createS3Client(awsOptions(config, config.aws.s3Endpoint)) : undefined);
  const nowMs = (): number => config.nowMs ?? Date.now();
  const service = createServiceFromConfig(config, handles);
  const funding = once(() => import('../../lib/open-funding.ts').then((module) => module.buildFundingService(config, handles)));
  return {
    config,
    handles,
    service,
    funding: { getFundingRates: async (request) => (await funding()).getFundingRates(request) },
    prepareStream: buildStreamPreparer(config, handles, service),
    results: createResultsLocation(config, s3, nowMs),
    obs,
    nowMs,
  };
}
