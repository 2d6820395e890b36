/**
 * Runs dataset refreshes for the refresh handlers: one dataset through lib/service/refresh.ts
 * with the runtime's service and index, logged and measured (`RowsAppended`, `UpstreamRequests`,
 * `UpstreamWeight`, `RefreshFailures`).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { KlinesError } from '../../lib/domain/errors.ts';
import { datasetId } from '../../lib/domain/kline.ts';
import type { Dataset } from '../../lib/domain/kline.ts';
import { formatRange, type Range } from '../../lib/domain/ranges.ts';
import { fillRange, refreshDataset, type FillResult, type RefreshResult } from '../../lib/service/refresh.ts';
import { refreshFunding } from '../../lib/service/funding-refresh.ts';
import { watchEntryId, type WatchlistEntry } from '../../lib/service/watchlist.ts';
import type { Runtime } from './runtime.ts';

/** Refreshes one dataset; rethrows (after logging and counting) what the refresh throws. */
export async function runRefresh(runtime: Runtime, entry: WatchlistEntry, signal?: AbortSignal): Promise<RefreshResult> {
  const { obs } = runtime;
  try {
    const result = 'funding' in entry
      ? await refreshFunding(entry, { funding: runtime.funding, index: runtime.handles.index, nowMs: runtime.nowMs, defaultSinceMs: runtime.config.refreshSinceMs })
      : await refreshDataset(entry, { service: runtime.service, index: runtime.handles.index, nowMs: runtime.nowMs, defaultSinceMs: runtime.config.refreshSinceMs, signal });
    obs.metrics.addMetric('RowsAppended', MetricUnit.Count, result.rowsAppended);
    obs.metrics.addMetric('UpstreamRequests', MetricUnit.Count, result.visionFiles + result.restRequests);
    obs.metrics.addMetric('UpstreamWeight', MetricUnit.Count, result.restWeight);
    obs.logger.info('dataset refreshed', { ...result, from: new Date(result.fromMs).toISOString(), to: new Date(result.toMs).toISOString() });
    return result;
  } catch (error) {
    obs.metrics.addMetric('RefreshFailures', MetricUnit.Count, 1);
    obs.logger.error('dataset refresh failed', {
      datasetId: watchEntryId(entry), code: error instanceof KlinesError ? error.code : 'INTERNAL', reason: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
}

/**
 * Fills `range` of one dataset (a fill handed over by a request at its deadline, issue 11);
 * logged and measured like a refresh. Rethrows what the fill throws.
 */
export async function runFill(runtime: Runtime, dataset: Dataset, range: Range, signal?: AbortSignal): Promise<FillResult> {
  const { obs } = runtime;
  try {
    const result = await fillRange(dataset, range, { service: runtime.service, signal });
    obs.metrics.addMetric('RowsAppended', MetricUnit.Count, result.rowsAppended);
    obs.metrics.addMetric('UpstreamRequests', MetricUnit.Count, result.visionFiles + result.restRequests);
    obs.metrics.addMetric('UpstreamWeight', MetricUnit.Count, result.restWeight);
    obs.logger.info('handed-over fill done', { datasetId: datasetId(dataset), range: formatRange(range), ...result });
    return result;
  } catch (error) {
    obs.metrics.addMetric('RefreshFailures', MetricUnit.Count, 1);
    obs.logger.error('handed-over fill failed', {
      datasetId: datasetId(dataset), range: formatRange(range), code: error instanceof KlinesError ? error.code : 'INTERNAL', reason: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
}
