/**
 * Structured logs and per-request metrics for the Lambda handlers (issue 4, item 2) with AWS
 * Lambda Powertools: one Logger (JSON lines carrying `function_request_id`, the cold-start flag
 * and the function name) and one Metrics buffer (CloudWatch Embedded Metric Format on stdout,
 * flushed after every invocation by the `logMetrics` middleware). Built once per cold start.
 * Powertools reads its own documented variables too (`POWERTOOLS_LOG_LEVEL`, `POWERTOOLS_DEV`,
 * `POWERTOOLS_METRICS_DISABLED`); the service name and namespace come from lib/config.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type middy from '@middy/core';
import type { Config } from './config.ts';
import type { KlinesStats } from './service/klines-service.ts';

/** The logger and the metrics buffer of one Lambda container. */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Builds them from `config.observability` (service name, metrics namespace). */
export function createObservability(config: Pick<Config, 'observability'>): Observability {
  const { serviceName, metricsNamespace } = config.observability;
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ serviceName, namespace: metricsNamespace }),
  };
}

/**
 * Middy middlewares, in order: the Logger gets the Lambda context (request id, cold start) and
 * drops per-request keys afterwards; the metrics are flushed after the handler returns or throws,
 * with a `ColdStart` metric on the first invocation and an `Errors` count when the handler throws
 * (also when an error middleware turns the error into an answer). Use before the error mappers, so errors
 * turned into answers are still measured.
 */
export function observe(obs: Observability): middy.MiddlewareObj[] {
  return [
    injectLambdaContext(obs.logger, { resetKeys: true }) as middy.MiddlewareObj,
    logMetrics(obs.metrics, { captureColdStartMetric: true }) as middy.MiddlewareObj,
    // onError handlers run in reverse order of use, so this counts before logMetrics flushes.
    { onError: async () => void obs.metrics.addMetric('Errors', MetricUnit.Count, 1) },
  ];
}

/** What one answered klines request adds to the metrics. `rowsServed` counts answer rows. */
export interface KlinesRequestFigures {
  readonly stats: KlinesStats;
  readonly rowsServed: number;
  /** Wall time of the whole request in ms (handler view: includes shaping and delivery). */
  readonly durationMs: number;
  /** How the answer went out: inline in the response, or by URL/URI to a results object. */
  readonly delivery: 'inline' | 'url';
}

/**
 * Records one request's metrics and logs them as one line:
 * - `CacheHit` (Count, 1 when no upstream was asked; its average is the request hit ratio),
 * - `CacheHitRatio` (Percent of the answer's rows that came from the cache),
 * - `RowsServed`, `UpstreamRequests` (Vision files incl. 404s + REST requests), `UpstreamWeight`
 *   (documented REST weight), `LargeAnswers` (Count), `Duration` (Milliseconds).
 */
export function recordKlinesRequest(obs: Observability, figures: KlinesRequestFigures): void {
  const { stats, rowsServed } = figures;
  const upstreamRequests = stats.visionFiles + stats.visionNotFound + stats.restRequests;
  const hitRatio = rowsServed === 0 ? (upstreamRequests === 0 ? 100 : 0) : (100 * stats.rowsFromCache) / rowsServed;
  obs.metrics.addMetric('CacheHit', MetricUnit.Count, upstreamRequests === 0 ? 1 : 0);
  obs.metrics.addMetric('CacheHitRatio', MetricUnit.Percent, Math.round(hitRatio * 100) / 100);
  obs.metrics.addMetric('RowsServed', MetricUnit.Count, rowsServed);
  obs.metrics.addMetric('UpstreamRequests', MetricUnit.Count, upstreamRequests);
  obs.metrics.addMetric('UpstreamWeight', MetricUnit.Count, stats.restWeight);
  obs.metrics.addMetric('LargeAnswers', MetricUnit.Count, figures.delivery === 'url' ? 1 : 0);
  obs.metrics.addMetric('Duration', MetricUnit.Milliseconds, Math.round(figures.durationMs));
  obs.logger.info('klines answered', {
    rowsServed, rowsFromCache: stats.rowsFromCache, rowsFromVision: stats.rowsFromVision, rowsFromRest: stats.rowsFromRest,
    visionFiles: stats.visionFiles, restRequests: stats.restRequests, restWeight: stats.restWeight, gaps: stats.gaps,
    delivery: figures.delivery, durationMs: Math.round(figures.durationMs),
    // Where the dataset's data starts (and ends, once delisted), when the request had to know.
    ...(stats.dataStartMs === undefined ? {} : { dataStart: new Date(stats.dataStartMs).toISOString() }),
    ...(stats.dataEndMs === undefined ? {} : { dataEnd: new Date(stats.dataEndMs).toISOString() }),
  });
}
