/**
 * A streamed answer whose gaps are filled first (issue 9, "memory flat in the range's length",
 * for the handlers: the fill runs under their deadline, the answer is written after it):
 * 1. one index query and the plan; with nothing to fetch, the stream starts from those records
 *    (a warm read stays 1 Query + one GET per period);
 * 2. otherwise each batch of periods with a gap is asked of the service (`getKlines`, a few at
 *    once, `request.signal` honoured, so a deadline stops it as it stops a whole request); its
 *    rows are not kept, only where the fetched ones came from (source-runs.ts) and the upstream
 *    statistics, so memory stays a few periods whatever the range;
 * 3. the returned stream then reads every period from the cache, with the fetched rows labelled
 *    `vision` or `rest` and the statistics of the fill counted in, as one `getKlines` would say.
 */
import { InvalidInputError } from '../domain/errors.ts';
import { INTERVAL_MS } from '../domain/intervals.ts';
import { granularityFor, periodsInRange } from '../domain/periods.ts';
import { formatRange, intersectRanges, normalizeRanges, type Range } from '../domain/ranges.ts';
import { createKlinesStats, type KlinesRequest } from './klines-service.ts';
import { planFetches } from './plan.ts';
import { SourceRuns } from './source-runs.ts';
import { addStats, batchPeriods, inOrder, streamKlines, type KlinesStream, type KlinesStreamDeps } from './stream-klines.ts';

/**
 * Fills the gaps of `request` and resolves to the stream of its answer, read from the cache.
 * Throws InvalidInputError for an empty range; whatever `getKlines` throws for a batch
 * (UpstreamError, StoreError, DeadlineReachedError when `request.signal` aborts); pieces already
 * stored stay stored, as with `getKlines`. The stream itself does not carry `request.signal`.
 */
export async function prepareStream(deps: KlinesStreamDeps, request: KlinesRequest): Promise<KlinesStream> {
  const { dataset, range } = request;
  if (!(range.endMs > range.startMs)) throw new InvalidInputError(`range: ${formatRange(range)} is empty; end must be after start`, { ...range });
  const answerRequest: KlinesRequest = { ...request, signal: undefined };
  const records = await deps.cache.readCoverage(dataset, range);
  const covered = normalizeRanges(records.flatMap((r) => r.covered));
  const plan = planFetches({ dataset, range, covered, nowMs: deps.nowMs(), source: request.source ?? 'auto' });
  if (plan.fetches.length === 0) return streamKlines(deps, answerRequest, { records });

  const periods = periodsInRange(range, granularityFor(dataset.interval)).map((period) => intersectRanges([period.range], [range])[0]!);
  const withGaps = batchPeriods(periods, INTERVAL_MS[dataset.interval]).filter((batch) => intersectRanges([batch], plan.gaps).length > 0);
  const startedMs = performance.now();
  const fetched = new SourceRuns();
  const stats = createKlinesStats();
  let done = 0;
  const answers = inOrder(withGaps, deps.readAhead ?? 3, async (batch: Range) => {
    const answer = await deps.service.getKlines({ ...request, range: batch, recordStats: false, onProgress: undefined });
    request.onProgress?.(++done, withGaps.length);
    return answer;
  });
  for await (const answer of answers) {
    fetched.note(answer);
    addStats(stats, answer.stats);
  }
  stats.elapsedMs = Math.round(performance.now() - startedMs);
  return streamKlines(deps, answerRequest, { fetched, stats });
}
