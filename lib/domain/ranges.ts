/**
 * Half-open ranges of open_time, `[startMs, endMs)` in UTC epoch ms, and the gap arithmetic the
 * planner needs (DESIGN.md, Words: "range", "coverage", "gap"). Pure; every function returns
 * a new, normalized list (sorted, non-empty, non-overlapping, non-adjacent).
 */
import { InvalidInputError } from './errors.ts';

/** A half-open range `[startMs, endMs)` of open_time in UTC epoch ms. */
export interface Range {
  readonly startMs: number;
  readonly endMs: number;
}

/** Sorts, drops empty ranges and merges overlapping or touching ones. */
export function normalizeRanges(ranges: readonly Range[]): Range[] {
  const sorted = ranges.filter((r) => r.endMs > r.startMs).sort((a, b) => a.startMs - b.startMs);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.startMs <= last.endMs) {
      if (r.endMs > last.endMs) out[out.length - 1] = { startMs: last.startMs, endMs: r.endMs };
    } else {
      out.push({ startMs: r.startMs, endMs: r.endMs });
    }
  }
  return out;
}

/** a ∪ b. */
export function unionRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  return normalizeRanges([...a, ...b]);
}

/** a ∩ b. */
export function intersectRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const x = normalizeRanges(a);
  const y = normalizeRanges(b);
  const out: Range[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const p = x[i]!;
    const q = y[j]!;
    const startMs = Math.max(p.startMs, q.startMs);
    const endMs = Math.min(p.endMs, q.endMs);
    if (endMs > startMs) out.push({ startMs, endMs });
    if (p.endMs < q.endMs) i++;
    else j++;
  }
  return normalizeRanges(out);
}

/** a − b: the parts of `a` that no range of `b` covers (the gap when b is coverage). */
export function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const cut = normalizeRanges(b);
  const out: Range[] = [];
  for (const r of normalizeRanges(a)) {
    let startMs = r.startMs;
    for (const c of cut) {
      if (c.endMs <= startMs) continue;
      if (c.startMs >= r.endMs) break;
      if (c.startMs > startMs) out.push({ startMs, endMs: c.startMs });
      startMs = Math.max(startMs, c.endMs);
      if (startMs >= r.endMs) break;
    }
    if (startMs < r.endMs) out.push({ startMs, endMs: r.endMs });
  }
  return out;
}

/** True when `outer` covers every instant of `inner`. */
export function coversRange(outer: readonly Range[], inner: Range): boolean {
  return subtractRanges([inner], outer).length === 0;
}

/** Total length in ms of normalized ranges. */
export function totalMs(ranges: readonly Range[]): number {
  return normalizeRanges(ranges).reduce((sum, r) => sum + (r.endMs - r.startMs), 0);
}

/** Start of the UTC day containing `ms`. */
export function utcDayStart(ms: number): number {
  return ms - (((ms % 86_400_000) + 86_400_000) % 86_400_000);
}

/** Start of the UTC month containing `ms`, and of the month `offset` months later. */
export function utcMonthStart(ms: number, offset = 0): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1);
}

/** Start of the UTC year containing `ms`, and of the year `offset` years later. */
export function utcYearStart(ms: number, offset = 0): number {
  return Date.UTC(new Date(ms).getUTCFullYear() + offset, 0, 1);
}

/** Splits a range at UTC day boundaries. */
export function splitByDay(range: Range): Range[] {
  return splitBy(range, (ms) => utcDayStart(ms) + 86_400_000);
}

/** Splits a range at UTC month boundaries. */
export function splitByMonth(range: Range): Range[] {
  return splitBy(range, (ms) => utcMonthStart(ms, 1));
}

/** Splits a range at UTC year boundaries. */
export function splitByYear(range: Range): Range[] {
  return splitBy(range, (ms) => utcYearStart(ms, 1));
}

function splitBy(range: Range, nextBoundary: (ms: number) => number): Range[] {
  const out: Range[] = [];
  let startMs = range.startMs;
  while (startMs < range.endMs) {
    const endMs = Math.min(nextBoundary(startMs), range.endMs);
    out.push({ startMs, endMs });
    startMs = endMs;
  }
  return out;
}

/**
 * Converts public inclusive bounds on open_time (as Binance REST's startTime/endTime) to the
 * half-open range used inside the code: `[start, end]` → `[start, end + 1)`.
 * Throws InvalidInputError when start is after end.
 */
export function inclusiveToRange(startMs: number, endInclusiveMs: number): Range {
  if (startMs > endInclusiveMs) {
    throw new InvalidInputError(
      `range: start ${new Date(startMs).toISOString()} is after end ${new Date(endInclusiveMs).toISOString()}; start must be at or before end`,
      { startMs, endMs: endInclusiveMs },
    );
  }
  return { startMs, endMs: endInclusiveMs + 1 };
}

/** ISO-8601 text of a half-open range, for messages: `[2024-01-01T00:00:00.000Z, 2024-02-01T00:00:00.000Z)`. */
export function formatRange(range: Range): string {
  return `[${new Date(range.startMs).toISOString()}, ${new Date(range.endMs).toISOString()})`;
}

/** True when two normalized range lists are equal. */
export function sameRanges(a: readonly Range[], b: readonly Range[]): boolean {
  return a.length === b.length && a.every((r, i) => r.startMs === b[i]!.startMs && r.endMs === b[i]!.endMs);
}
