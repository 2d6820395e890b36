import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Dataset } from '../../lib/domain/kline.ts';
import { normalizeRanges, subtractRanges, unionRanges, type Range } from '../../lib/domain/ranges.ts';
import { completionFetch, fallbackFetches, planFetches, type Fetch } from '../../lib/service/plan.ts';

const t = (iso: string): number => Date.parse(iso);
const r = (start: string, end: string): Range => ({ startMs: t(start), endMs: t(end) });
const spot1m: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1m' };
const describeFetch = (f: Fetch): string =>
  `${f.kind} ${new Date(f.range.startMs).toISOString()}..${new Date(f.range.endMs).toISOString()}`;

describe('planFetches', () => {
  const now = t('2024-03-20T10:30:15Z');

  it.each([
    {
      name: 'whole published months → monthly files, whole published days → daily files, the rest → one REST range',
      range: r('2024-01-01', '2024-03-20T10:30:00Z'),
      covered: [] as Range[],
      expected: [
        'vision-monthly 2024-01-01T00:00:00.000Z..2024-02-01T00:00:00.000Z',
        'vision-monthly 2024-02-01T00:00:00.000Z..2024-03-01T00:00:00.000Z',
        ...Array.from({ length: 18 }, (_, i) => {
          const day = new Date(Date.UTC(2024, 2, 1 + i)).toISOString();
          const next = new Date(Date.UTC(2024, 2, 2 + i)).toISOString();
          return `vision-daily ${day}..${next}`;
        }),
        // 2024-03-19 ends at 03-20 00:00, +30 h lag is after now: REST, merged with today's part.
        'rest 2024-03-19T00:00:00.000Z..2024-03-20T10:30:00.000Z',
      ],
    },
    {
      name: 'partial-day edges go to REST, the whole days between to Vision',
      range: r('2024-01-10T12:00Z', '2024-01-12T06:00Z'),
      covered: [],
      expected: [
        'vision-daily 2024-01-11T00:00:00.000Z..2024-01-12T00:00:00.000Z',
        'rest 2024-01-10T12:00:00.000Z..2024-01-11T00:00:00.000Z',
        'rest 2024-01-12T00:00:00.000Z..2024-01-12T06:00:00.000Z',
      ],
    },
    {
      name: 'a covered range is never fetched again, even when it held no rows',
      range: r('2024-01-01', '2024-02-01'),
      covered: [r('2024-01-01', '2024-01-31')],
      expected: ['vision-daily 2024-01-31T00:00:00.000Z..2024-02-01T00:00:00.000Z'],
    },
    {
      name: 'a fully covered request plans nothing',
      range: r('2024-01-05', '2024-01-06'),
      covered: [r('2023-12-01', '2024-02-01')],
      expected: [],
    },
  ])('$name', ({ range, covered, expected }) => {
    const plan = planFetches({ dataset: spot1m, range, covered, nowMs: now, source: 'auto' });
    expect(plan.fetches.map(describeFetch)).toEqual(expected);
  });

  it('rounds an inclusive end such as 23:59 out to the grid, so the whole day comes from its file', () => {
    const range = { startMs: t('2024-01-10T00:00Z'), endMs: t('2024-01-10T23:59Z') + 1 };
    const plan = planFetches({ dataset: spot1m, range, covered: [], nowMs: now, source: 'auto' });
    expect(plan.fetches.map(describeFetch)).toEqual(['vision-daily 2024-01-10T00:00:00.000Z..2024-01-11T00:00:00.000Z']);
  });

  it('clips the request to closed candles: the unfinished candle is never planned', () => {
    const plan = planFetches({ dataset: spot1m, range: r('2024-03-20T10:00Z', '2024-03-21'), covered: [], nowMs: now, source: 'auto' });
    expect(plan.requested.endMs).toBe(t('2024-03-20T10:30:00Z'));
    expect(plan.fetches.map(describeFetch)).toEqual(['rest 2024-03-20T10:00:00.000Z..2024-03-20T10:30:00.000Z']);
  });

  it('source=rest plans REST only; source=vision plans Vision only', () => {
    const range = r('2024-01-10T12:00Z', '2024-01-12T06:00Z');
    const rest = planFetches({ dataset: spot1m, range, covered: [], nowMs: now, source: 'rest' });
    expect(rest.fetches.map(describeFetch)).toEqual(['rest 2024-01-10T12:00:00.000Z..2024-01-12T06:00:00.000Z']);
    const vision = planFetches({ dataset: spot1m, range, covered: [], nowMs: now, source: 'vision' });
    expect(vision.fetches.map((f) => f.kind)).toEqual(['vision-daily', 'vision-daily', 'vision-daily']);
  });

  it('intervals without daily files use monthly files or REST', () => {
    const weekly: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1w' };
    // Weekly candles open on Mondays: 2023-11-15 rounds down to Monday 11-13, and the candle of
    // Monday 2024-01-29 runs to 02-05, so the plan reaches 02-05.
    const plan = planFetches({ dataset: weekly, range: r('2023-11-15', '2024-02-01'), covered: [], nowMs: now, source: 'auto' });
    expect(plan.fetches.map(describeFetch)).toEqual([
      'vision-monthly 2023-12-01T00:00:00.000Z..2024-01-01T00:00:00.000Z',
      'vision-monthly 2024-01-01T00:00:00.000Z..2024-02-01T00:00:00.000Z',
      'rest 2023-11-13T00:00:00.000Z..2023-12-01T00:00:00.000Z',
      'rest 2024-02-01T00:00:00.000Z..2024-02-05T00:00:00.000Z',
    ]);
  });

  it('property: fetches exactly tile the gaps (no candle twice, none missed, nothing covered)', () => {
    const base = t('2023-06-01');
    const span = 300 * 86_400_000;
    const arbRange = fc.tuple(fc.integer({ min: 0, max: span }), fc.integer({ min: 1, max: 90 * 86_400_000 }))
      .map(([offset, length]) => ({ startMs: base + Math.floor(offset / 60_000) * 60_000, endMs: base + Math.floor((offset + length) / 60_000) * 60_000 }));
    fc.assert(fc.property(arbRange, fc.array(arbRange, { maxLength: 5 }), fc.constantFrom('auto', 'vision', 'rest' as const), (range, covered, source) => {
      const plan = planFetches({ dataset: spot1m, range, covered, nowMs: now, source });
      const pieces = plan.fetches.map((f) => f.range);
      const total = pieces.reduce((sum, p) => sum + (p.endMs - p.startMs), 0);
      const union = normalizeRanges(pieces);
      expect(union.reduce((sum, p) => sum + (p.endMs - p.startMs), 0)).toBe(total); // pairwise disjoint
      expect(union).toEqual(normalizeRanges(plan.gaps as Range[]));
      expect(subtractRanges(union, subtractRanges([plan.requested], covered))).toEqual([]);
      expect(unionRanges(plan.cached as Range[], union)).toEqual(normalizeRanges([plan.requested]));
    }));
  });
});

describe('fallbackFetches', () => {
  const now = t('2024-03-20T10:30:15Z');
  it('a monthly 404 falls back to the daily files of that month only', () => {
    const fallback = fallbackFetches({ kind: 'vision-monthly', range: r('2024-02-01', '2024-03-01'), fileStartMs: t('2024-02-01') }, '1m', now, 'auto');
    expect(fallback).toHaveLength(29);
    expect(fallback.every((f) => f.kind === 'vision-daily')).toBe(true);
  });
  it('a daily 404 falls back to REST for that day, or to nothing when Vision is forced', () => {
    const daily: Fetch = { kind: 'vision-daily', range: r('2024-03-10', '2024-03-11'), fileStartMs: t('2024-03-10') };
    expect(fallbackFetches(daily, '1m', now, 'auto').map(describeFetch)).toEqual(['rest 2024-03-10T00:00:00.000Z..2024-03-11T00:00:00.000Z']);
    expect(fallbackFetches(daily, '1m', now, 'vision')).toEqual([]);
  });
});

describe('completionFetch', () => {
  const day = r('2024-03-10', '2024-03-11');
  it('completes a file whose rows stop early from REST, from the last open_time + 1', () => {
    expect(completionFetch(day, t('2024-03-10T11:59Z'), '1m')).toEqual({ kind: 'rest', range: { startMs: t('2024-03-10T11:59Z') + 1, endMs: day.endMs } });
  });
  it('asks nothing more of a complete file, and all of the piece for an empty one', () => {
    expect(completionFetch(day, t('2024-03-10T23:59Z'), '1m')).toBeUndefined();
    expect(completionFetch(day, undefined, '1m')).toEqual({ kind: 'rest', range: day });
  });
});
