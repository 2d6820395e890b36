/**
 * Warm-read benchmark: `service.getKlines` of a range the local cache already covers, in-process,
 * `warmups` untimed calls then `runs` timed ones; asserts every answer comes wholly from the
 * cache and that the upstream (the bench Vision server) saw no request meanwhile.
 */
import type { Dataset } from '../lib/domain/kline.ts';
import type { Range } from '../lib/domain/ranges.ts';
import type { KlinesService } from '../lib/service/klines-service.ts';
import { percentile, settle } from './measure.ts';

/** Timings (ms) of the timed calls and the figures derived from them. */
export interface WarmReadResult {
  readonly rows: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Upstream requests made during the warm-ups and timed runs (must be 0). */
  readonly upstreamRequests: number;
}

/**
 * Reads `range` `warmups + runs` times. `upstreamCount` returns the upstream's request count.
 * Throws when an answer does not have `expectedRows` rows all from the cache, or when the
 * upstream was asked anything.
 */
export async function benchWarmRead(
  service: KlinesService, dataset: Dataset, range: Range, expectedRows: number,
  upstreamCount: () => number, runs = 20, warmups = 3,
): Promise<WarmReadResult> {
  const before = upstreamCount();
  const samples: number[] = [];
  for (let i = 0; i < warmups + runs; i++) {
    if (i === warmups) await settle();
    const startedMs = performance.now();
    const answer = await service.getKlines({ dataset, range });
    const elapsedMs = performance.now() - startedMs;
    if (answer.columns.length !== expectedRows || answer.stats.rowsFromCache !== expectedRows) {
      throw new Error(`bench: warm read returned ${answer.columns.length} rows (${answer.stats.rowsFromCache} from cache), expected ${expectedRows} from cache`);
    }
    if (i >= warmups) samples.push(elapsedMs);
  }
  const upstreamRequests = upstreamCount() - before;
  if (upstreamRequests !== 0) throw new Error(`bench: warm read made ${upstreamRequests} upstream requests, expected 0`);
  return {
    rows: expectedRows, runs, medianMs: percentile(samples, 50), p95Ms: percentile(samples, 95),
    minMs: Math.min(...samples), maxMs: Math.max(...samples), upstreamRequests,
  };
}
