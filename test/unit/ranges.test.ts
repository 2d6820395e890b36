import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidInputError } from '../../lib/domain/errors.ts';
import {
  coversRange, formatRange, inclusiveToRange, intersectRanges, normalizeRanges, splitByDay, splitByMonth,
  splitByYear, subtractRanges, totalMs, unionRanges, utcDayStart, utcMonthStart, utcYearStart, type Range,
} from '../../lib/domain/ranges.ts';

// Brute-force model: a list of ranges with integer ends in [0, UNIVERSE] is the set of integers it covers.
const UNIVERSE = 200;

const rangeArb = fc.record({ startMs: fc.integer({ min: 0, max: UNIVERSE }), endMs: fc.integer({ min: 0, max: UNIVERSE }) });
const rangesArb = fc.array(rangeArb, { maxLength: 8 });

function toSet(ranges: readonly Range[]): Set<number> {
  const set = new Set<number>();
  for (const r of ranges) for (let i = r.startMs; i < r.endMs; i++) set.add(i);
  return set;
}

/** The one normalized list that covers exactly `set`. */
function fromSet(set: ReadonlySet<number>): Range[] {
  const out: Range[] = [];
  for (let i = 0; i < UNIVERSE; i++) {
    if (!set.has(i)) continue;
    const last = out[out.length - 1];
    if (last && last.endMs === i) out[out.length - 1] = { startMs: last.startMs, endMs: i + 1 };
    else out.push({ startMs: i, endMs: i + 1 });
  }
  return out;
}

function isNormalized(ranges: readonly Range[]): boolean {
  return ranges.every((r, i) => {
    const previous = ranges[i - 1];
    return r.endMs > r.startMs && (previous === undefined || previous.endMs < r.startMs);
  });
}

const ut = (iso: string): number => Date.parse(iso);
const span = (startIso: string, endIso: string): Range => ({ startMs: ut(startIso), endMs: ut(endIso) });
const DAY = 86_400_000;

describe('normalizeRanges', () => {
  it('yields sorted, disjoint, non-adjacent, non-empty ranges covering the same set, and is idempotent', () => {
    fc.assert(fc.property(rangesArb, (ranges) => {
      const normalized = normalizeRanges(ranges);
      expect(isNormalized(normalized)).toBe(true);
      expect(normalized).toEqual(fromSet(toSet(ranges)));
      expect(normalizeRanges(normalized)).toEqual(normalized);
    }));
  });

  it('merges touching and overlapping ranges and drops empty or inverted ones', () => {
    expect(normalizeRanges([
      { startMs: 10, endMs: 20 }, { startMs: 5, endMs: 5 }, { startMs: 20, endMs: 30 },
      { startMs: 40, endMs: 35 }, { startMs: 50, endMs: 60 }, { startMs: 55, endMs: 58 },
    ])).toEqual([{ startMs: 10, endMs: 30 }, { startMs: 50, endMs: 60 }]);
  });
});

describe('set operations agree with a brute-force model over [0, 200)', () => {
  it('unionRanges', () => {
    fc.assert(fc.property(rangesArb, rangesArb, (a, b) => {
      const model = new Set([...toSet(a), ...toSet(b)]);
      expect(unionRanges(a, b)).toEqual(fromSet(model));
    }));
  });

  it('intersectRanges', () => {
    fc.assert(fc.property(rangesArb, rangesArb, (a, b) => {
      const setB = toSet(b);
      const model = new Set([...toSet(a)].filter((i) => setB.has(i)));
      expect(intersectRanges(a, b)).toEqual(fromSet(model));
    }));
  });

  it('subtractRanges', () => {
    fc.assert(fc.property(rangesArb, rangesArb, (a, b) => {
      const setB = toSet(b);
      const model = new Set([...toSet(a)].filter((i) => !setB.has(i)));
      expect(subtractRanges(a, b)).toEqual(fromSet(model));
    }));
  });

  it('a − b is disjoint from b, and (a − b) ∪ (a ∩ b) = a', () => {
    fc.assert(fc.property(rangesArb, rangesArb, (a, b) => {
      const difference = subtractRanges(a, b);
      expect(intersectRanges(difference, b)).toEqual([]);
      expect(unionRanges(difference, intersectRanges(a, b))).toEqual(normalizeRanges(a));
    }));
  });

  it('totalMs counts the covered integers', () => {
    fc.assert(fc.property(rangesArb, (a) => {
      expect(totalMs(a)).toBe(toSet(a).size);
    }));
  });

  it('coversRange is true exactly when every instant of inner is covered', () => {
    fc.assert(fc.property(rangesArb, rangeArb, (outer, inner) => {
      const covered = toSet(outer);
      let expected = true;
      for (let i = inner.startMs; i < inner.endMs; i++) if (!covered.has(i)) expected = false;
      expect(coversRange(outer, inner)).toBe(expected);
    }));
  });

  it('finds the gap of a month with a hole in the coverage (table)', () => {
    const january = span('2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z');
    const coverage = [span('2023-12-01T00:00:00Z', '2024-01-10T00:00:00Z'), span('2024-01-12T00:00:00Z', '2024-01-31T00:00:00Z')];
    expect(subtractRanges([january], coverage)).toEqual([
      span('2024-01-10T00:00:00Z', '2024-01-12T00:00:00Z'),
      span('2024-01-31T00:00:00Z', '2024-02-01T00:00:00Z'),
    ]);
    expect(coversRange(coverage, span('2024-01-12T00:00:00Z', '2024-01-31T00:00:00Z'))).toBe(true);
    expect(coversRange(coverage, span('2024-01-09T00:00:00Z', '2024-01-12T00:00:00Z'))).toBe(false);
  });
});

// Generated epoch ms between 2017-01-01 and 2030-01-01.
const MIN_MS = Date.UTC(2017, 0, 1);
const MAX_MS = Date.UTC(2030, 0, 1);
const epochRangeArb = (maxLengthMs: number): fc.Arbitrary<Range> =>
  fc.tuple(fc.integer({ min: MIN_MS, max: MAX_MS }), fc.nat({ max: maxLengthMs }), fc.boolean())
    .map(([startMs, lengthMs, onBoundary]): Range => {
      // Half the cases start on a UTC midnight so whole-unit pieces are exercised too.
      const start = onBoundary ? startMs - (startMs % DAY) : startMs;
      return { startMs: start, endMs: Math.min(start + lengthMs, MAX_MS) };
    });

const splitters = [
  // unit: the ISO prefix shared by every instant of one piece; boundary: the ISO suffix of a unit start.
  { name: 'splitByDay', split: splitByDay, unitChars: 10, boundary: 'T00:00:00.000Z', maxLengthMs: 60 * DAY },
  { name: 'splitByMonth', split: splitByMonth, unitChars: 7, boundary: '-01T00:00:00.000Z', maxLengthMs: 5 * 366 * DAY },
  { name: 'splitByYear', split: splitByYear, unitChars: 4, boundary: '-01-01T00:00:00.000Z', maxLengthMs: MAX_MS - MIN_MS },
] as const;

/** The first way `pieces` fails to be an exact split of `range` at unit boundaries, or undefined. */
function splitProblem(range: Range, pieces: readonly Range[], unitChars: number, boundary: string): string | undefined {
  if (range.startMs === range.endMs) return pieces.length === 0 ? undefined : 'pieces for an empty range';
  if (pieces[0]?.startMs !== range.startMs) return 'first piece does not start at the range start';
  if (pieces[pieces.length - 1]?.endMs !== range.endMs) return 'last piece does not end at the range end';
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    const iso = new Date(piece.startMs).toISOString();
    if (piece.endMs <= piece.startMs) return `empty piece ${formatRange(piece)}`;
    if (new Date(piece.endMs - 1).toISOString().slice(0, unitChars) !== iso.slice(0, unitChars)) return `piece ${formatRange(piece)} crosses a boundary`;
    if (i > 0 && piece.startMs !== pieces[i - 1]!.endMs) return `gap or overlap before ${formatRange(piece)}`;
    if (i > 0 && !iso.endsWith(boundary)) return `piece ${formatRange(piece)} starts off a boundary`;
  }
  return undefined;
}

describe.each(splitters)('$name', ({ split, unitChars, boundary, maxLengthMs }) => {
  it('yields contiguous non-empty pieces that cover exactly the input and never cross a UTC boundary', () => {
    fc.assert(fc.property(epochRangeArb(maxLengthMs), (range) => {
      expect(splitProblem(range, split(range), unitChars, boundary)).toBeUndefined();
    }), { numRuns: 300 });
  });
});

describe('split tables with real dates', () => {
  it('splits across a leap February day by day', () => {
    expect(splitByDay(span('2024-02-28T12:00:00Z', '2024-03-01T06:00:00Z'))).toEqual([
      span('2024-02-28T12:00:00Z', '2024-02-29T00:00:00Z'),
      span('2024-02-29T00:00:00Z', '2024-03-01T00:00:00Z'),
      span('2024-03-01T00:00:00Z', '2024-03-01T06:00:00Z'),
    ]);
  });

  it('gives a leap February 29 days and a common one 28', () => {
    const [, leap] = splitByMonth(span('2024-01-15T00:00:00Z', '2024-03-15T00:00:00Z'));
    expect(leap).toEqual(span('2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'));
    expect(leap!.endMs - leap!.startMs).toBe(29 * DAY);
    const [, common] = splitByMonth(span('2023-01-15T00:00:00Z', '2023-03-15T00:00:00Z'));
    expect(common!.endMs - common!.startMs).toBe(28 * DAY);
  });

  it('splits by month across a year end and by year across two', () => {
    expect(splitByMonth(span('2023-12-31T23:00:00Z', '2024-01-01T01:00:00Z'))).toEqual([
      span('2023-12-31T23:00:00Z', '2024-01-01T00:00:00Z'),
      span('2024-01-01T00:00:00Z', '2024-01-01T01:00:00Z'),
    ]);
    expect(splitByYear(span('2023-06-01T00:00:00Z', '2025-01-01T00:00:00Z'))).toEqual([
      span('2023-06-01T00:00:00Z', '2024-01-01T00:00:00Z'),
      span('2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z'),
    ]);
  });

  it('keeps a range that is exactly one unit whole', () => {
    const day = span('2024-02-29T00:00:00Z', '2024-03-01T00:00:00Z');
    expect(splitByDay(day)).toEqual([day]);
  });

  it('finds UTC unit starts', () => {
    expect(utcDayStart(ut('2024-02-29T23:59:59.999Z'))).toBe(ut('2024-02-29T00:00:00Z'));
    expect(utcMonthStart(ut('2024-02-29T12:00:00Z'))).toBe(ut('2024-02-01T00:00:00Z'));
    expect(utcMonthStart(ut('2024-12-15T00:00:00Z'), 1)).toBe(ut('2025-01-01T00:00:00Z'));
    expect(utcYearStart(ut('2024-07-01T00:00:00Z'))).toBe(ut('2024-01-01T00:00:00Z'));
    expect(utcYearStart(ut('2024-07-01T00:00:00Z'), 1)).toBe(ut('2025-01-01T00:00:00Z'));
  });
});

describe('inclusiveToRange', () => {
  it('turns inclusive bounds into a half-open range holding the same integers', () => {
    fc.assert(fc.property(fc.integer({ min: MIN_MS, max: MAX_MS }), fc.nat({ max: 10 * DAY }), (startMs, lengthMs) => {
      const range = inclusiveToRange(startMs, startMs + lengthMs);
      expect(range).toEqual({ startMs, endMs: startMs + lengthMs + 1 });
    }));
  });

  it('keeps a single instant when start equals end (REST returns exactly one candle)', () => {
    const t = ut('2020-01-01T00:00:00Z');
    expect(totalMs([inclusiveToRange(t, t)])).toBe(1);
  });

  it('rejects start after end with INVALID_INPUT naming both times', () => {
    const start = ut('2024-01-02T00:00:00Z');
    const end = ut('2024-01-01T00:00:00Z');
    let caught: unknown;
    try {
      inclusiveToRange(start, end);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidInputError);
    expect((caught as InvalidInputError).code).toBe('INVALID_INPUT');
    expect((caught as Error).message).toContain('2024-01-02T00:00:00.000Z');
    expect((caught as Error).message).toContain('2024-01-01T00:00:00.000Z');
  });
});

describe('formatRange', () => {
  it('prints a half-open ISO range', () => {
    expect(formatRange(span('2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z'))).toBe('[2024-01-01T00:00:00.000Z, 2024-02-01T00:00:00.000Z)');
  });
});
