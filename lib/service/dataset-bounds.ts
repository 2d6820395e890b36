/**
 * Where a dataset's candles start and end (issue 8, "Listing dates"), looked up once with one REST
 * request each and kept in the index (DatasetBounds), so that a gap before the first candle, or
 * after a delisted dataset's last one, is answered without upstream requests.
 *
 * Evidence: REST `startTime=0&limit=1` returns the first candle: none opens before it. REST
 * `endTime=now&limit=1` returns the latest candle opened by now: none opened after it until then
 * (for a listed dataset that is the unfinished candle, so nothing is known empty; for a delisted
 * one, everything after its last candle up to the lookup). When a lookup runs:
 * - the first candle: before planning when a gap reaches before the market opened (it certainly
 *   starts before the dataset's first candle), else on the first Vision 404 of a request;
 * - the latest candle: on a Vision 404 not explained by the first candle, for a file whose period
 *   ended at least LATE_FILE_GRACE_MS ago (a newer one is more likely just late); and before
 *   planning when the record says the dataset ended and a gap lies after its last lookup.
 * A lookup that fails explains nothing (the request goes on as without it), except for an unknown
 * symbol (UNKNOWN_SYMBOL, thrown); storing the record is best effort.
 */
import { alignRangeToInterval, closedEndMs, type Interval } from '../domain/intervals.ts';
import { datasetId, type Dataset } from '../domain/kline.ts';
import type { Market } from '../domain/markets.ts';
import { intersectRanges, normalizeRanges, subtractRanges, type Range } from '../domain/ranges.ts';
import type { RestSource, UpstreamStats } from '../sources/types.ts';
import { ConflictError, KlinesError } from '../domain/errors.ts';
import type { CoverageIndex, DatasetBounds, EdgeCandle } from '../store/types.ts';
import type { Fetch } from './plan.ts';

/**
 * When each market opened (UTC): spot on 2017-07-14 (Binance's launch), USDⓈ-M with BTCUSDT on
 * 2019-09-08 (SOURCES.md: /fapi BTCUSDT from 2019-01-01 starts there), COIN-M in August 2020.
 * Only a trigger for looking the first candle up before planning, never evidence of emptiness.
 */
export const MARKET_OPENED_MS: Readonly<Record<Market, number>> = {
  spot: Date.UTC(2017, 6, 14), um: Date.UTC(2019, 8, 8), cm: Date.UTC(2020, 7, 10),
};
/** A missing file whose period ended less than this ago is taken as late, not as a delisting. */
export const LATE_FILE_GRACE_MS = 3 * 86_400_000;

/** Where the bounds record is kept (the coverage index). */
export type BoundsStore = Pick<CoverageIndex, 'readBounds' | 'putBounds'>;

/**
 * Open_time ranges known to hold no candle of an `interval` dataset, from its bounds: before the
 * first candle, and after the latest one up to the lookup (grid-aligned, so it never claims an
 * unfinished candle). Pure.
 */
export function knownEmptyRanges(bounds: DatasetBounds | undefined, interval: Interval): Range[] {
  const ranges: Range[] = [];
  const nothingUntil = (edge: EdgeCandle): Range => ({ startMs: 0, endMs: closedEndMs(edge.checkedAtMs, interval) });
  if (bounds?.first) ranges.push(bounds.first.openMs === null ? nothingUntil(bounds.first) : { startMs: 0, endMs: bounds.first.openMs });
  if (bounds?.last) {
    const { openMs } = bounds.last;
    const next = openMs === null ? 0 : alignRangeToInterval({ startMs: openMs, endMs: openMs + 1 }, interval).endMs;
    ranges.push({ startMs: next, endMs: closedEndMs(bounds.last.checkedAtMs, interval) });
  }
  return normalizeRanges(ranges.filter((r) => r.endMs > r.startMs));
}

/** The open_time of a delisted dataset's last candle: when its latest candle closed before the lookup. */
export function lastCandleOfEnded(bounds: DatasetBounds | undefined, interval: Interval): number | undefined {
  const last = bounds?.last;
  if (!last || last.openMs === null) return undefined;
  const next = alignRangeToInterval({ startMs: last.openMs, endMs: last.openMs + 1 }, interval).endMs;
  return next < closedEndMs(last.checkedAtMs, interval) ? last.openMs : undefined;
}

/** One request's view of the bounds: loaded at most once, each edge looked up at most once. */
export interface BoundsResolver {
  /** Before planning: loads the record and runs the lookups the gaps make worth it (see the module comment). */
  prepare(gaps: readonly Range[]): Promise<void>;
  /** What is known empty now (see knownEmptyRanges). */
  knownEmpty(): Range[];
  /**
   * For fetchGaps' explainMissing: the parts of a missing file's need known to be empty. Rows
   * seen before the need (in `seen` or `dataSeen`) make the first-candle lookup needless, rows seen
   * after it the latest-candle one: the file is then a hole between rows.
   */
  explainMissing(fetch: Fetch, seen: Range | undefined): Promise<Range[]>;
  /** The record as this request knows it (undefined if never loaded). */
  current(): DatasetBounds | undefined;
  /** Loads the stored record if not yet loaded (no lookup); returns current(). */
  read(): Promise<DatasetBounds | undefined>;
}

/** What a resolver needs: where the record lives, the REST source, and the request's clock and counters. */
export interface BoundsResolverDeps {
  readonly store?: BoundsStore | undefined;
  readonly rest: RestSource;
  readonly dataset: Dataset;
  readonly nowMs: number;
  readonly stats: UpstreamStats;
  readonly signal?: AbortSignal | undefined;
  /** Ranges the cache already holds rows in (periods with objects), as evidence like `seen`. */
  readonly dataSeen?: readonly Range[] | undefined;
}

/** Builds the resolver of one request. Never throws for a failed lookup or store write. */
export function createBoundsResolver(deps: BoundsResolverDeps): BoundsResolver {
  const { dataset, nowMs } = deps;
  const id = datasetId(dataset);
  let bounds: DatasetBounds | undefined;
  let loaded: Promise<void> | undefined;
  const looked = new Map<'first' | 'last', Promise<void>>();

  const load = (): Promise<void> => (loaded ??= (async () => {
    bounds = await deps.store?.readBounds(id).catch(() => undefined);
  })());

  const lookUp = (edge: 'first' | 'last'): Promise<void> => {
    const running = looked.get(edge) ?? (async () => {
      let openMs: number | undefined;
      try {
        openMs = await deps.rest.fetchEdgeCandle(dataset, edge, nowMs, deps.stats, deps.signal);
      } catch (error) {
        // An unknown symbol is the caller's mistake, said at once; any other failure is no
        // evidence, and the request goes on without it.
        if (error instanceof KlinesError && error.code === 'UNKNOWN_SYMBOL') throw error;
        return;
      }
      const found: EdgeCandle = { openMs: openMs ?? null, checkedAtMs: nowMs };
      bounds = merge(bounds, id, edge, found);
      await store(edge, found);
    })();
    looked.set(edge, running);
    return running;
  };

  /** Writes the edge into the stored record (re-read on a lost race); best effort. */
  const store = async (edge: 'first' | 'last', found: EdgeCandle): Promise<void> => {
    if (!deps.store) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = await deps.store.readBounds(id).catch(() => undefined);
      const next = merge(stored, id, edge, found);
      try {
        await deps.store.putBounds({ ...next, version: (stored?.version ?? 0) + 1 });
        return;
      } catch (error) {
        if (!(error instanceof ConflictError)) return;
      }
    }
  };

  const knownEmpty = (): Range[] => knownEmptyRanges(bounds, dataset.interval);

  return {
    async prepare(gaps) {
      if (gaps.length === 0) return;
      await load();
      if (!bounds?.first && gaps[0]!.startMs < MARKET_OPENED_MS[dataset.market]) await lookUp('first');
      const lastChecked = bounds?.last?.checkedAtMs;
      const ended = lastCandleOfEnded(bounds, dataset.interval) !== undefined;
      if (ended && lastChecked !== undefined && gaps[gaps.length - 1]!.endMs > closedEndMs(lastChecked, dataset.interval)) await lookUp('last');
    },
    knownEmpty,
    async explainMissing(fetch, seen) {
      if (fetch.kind === 'rest' || fetch.need.length === 0) return [];
      await load();
      const spans = [...(seen ? [seen] : []), ...(deps.dataSeen ?? [])];
      const first = bounds?.first;
      const rowsBefore = spans.some((span) => span.startMs < fetch.need[0]!.startMs);
      const firstUnknown = !first || (first.openMs === null && fetch.range.endMs > closedEndMs(first.checkedAtMs, dataset.interval));
      if (firstUnknown && !rowsBefore) await lookUp('first');
      const unexplained = subtractRanges(fetch.need, knownEmpty());
      const rowsAfter = unexplained.length > 0 && spans.some((span) => span.endMs > unexplained[unexplained.length - 1]!.endMs);
      if (unexplained.length > 0 && !rowsAfter && fetch.range.endMs + LATE_FILE_GRACE_MS <= nowMs) await lookUp('last');
      return intersectRanges(fetch.need, knownEmpty());
    },
    current: () => bounds,
    async read() {
      await load();
      return bounds;
    },
  };
}

/** `bounds` with `edge` set to `found` (a known first candle never changes; the newer latest wins). */
function merge(bounds: DatasetBounds | undefined, id: string, edge: 'first' | 'last', found: EdgeCandle): DatasetBounds {
  const base: DatasetBounds = bounds ?? { datasetId: id, version: 0 };
  if (edge === 'first') return { ...base, first: base.first?.openMs != null ? base.first : found };
  return { ...base, last: base.last && base.last.checkedAtMs > found.checkedAtMs ? base.last : found };
}
