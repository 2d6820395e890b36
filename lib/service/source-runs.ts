/**
 * Where rows fetched by a fill came from, kept as runs of open_time (a few per Vision file or REST
 * request, not a byte per row), so that an answer read back from the cache after the fill says
 * `vision` or `rest` for those rows, as an answer built during the fill would (prepare-stream.ts).
 */
import { lowerBoundColumns, type SourcedColumns } from '../domain/kline-columns.ts';

/** One run: rows with open_time in `[startMs, endMs]` (inclusive, UTC epoch ms) came from `origin` (an ORIGINS code). */
interface Run {
  readonly startMs: number;
  readonly endMs: number;
  readonly origin: number;
}

/** The sources of fetched rows, noted chunk by chunk in open_time order and applied to later chunks. */
export class SourceRuns {
  private readonly runs: Run[] = [];

  /** Notes the rows of `chunk` that were not read from the cache (chunks in open_time order). */
  note({ columns, sources }: SourcedColumns): void {
    let i = 0;
    while (i < columns.length) {
      const origin = sources[i]!;
      let j = i;
      while (j + 1 < columns.length && sources[j + 1] === origin) j++;
      if (origin !== 0) this.runs.push({ startMs: columns.open_time[i]!, endMs: columns.open_time[j]!, origin });
      i = j + 1;
    }
  }

  /** Sets, in place, the source of every row of `chunk` that a noted run covers. */
  label({ columns, sources }: SourcedColumns): void {
    if (columns.length === 0 || this.runs.length === 0) return;
    const first = columns.open_time[0]!;
    const last = columns.open_time[columns.length - 1]!;
    for (const run of this.overlapping(first, last)) {
      const from = lowerBoundColumns(columns, run.startMs);
      const to = lowerBoundColumns(columns, run.endMs + 1);
      sources.fill(run.origin, from, to);
    }
  }

  /** Runs touching `[first, last]`, found by binary search (runs are sorted and disjoint). */
  private *overlapping(first: number, last: number): Generator<Run> {
    let lo = 0;
    let hi = this.runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.runs[mid]!.endMs < first) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < this.runs.length && this.runs[k]!.startMs <= last; k++) yield this.runs[k]!;
  }
}
