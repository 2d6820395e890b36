import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Dataset } from '../../lib/domain/kline.ts';
import { normalizeRanges, splitByMonth, subtractRanges, unionRanges, utcMonthStart, type Range } from '../../lib/domain/ranges.ts';
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
      name: 'a gap over several days of a published month fetches the whole monthly file, partial-day edges included',
      range: r('2024-01-10T12:00Z', '2024-01-12T06:00Z'),
      covered: [],
      expected: ['vision-monthly 2024-01-01T00:00:00.000Z..2024-02-01T00:00:00.000Z'],
    },
    {
      name: 'one day of a 1m month: the whole daily file (2 MiB of monthly file costs more than a day file and its credit)',
      range: r('2024-01-10T12:00Z', '2024-01-10T12:05Z'),
      covered: [],
      expected: ['vision-daily 2024-01-10T00:00:00.000Z..2024-01-11T00:00:00.000Z'],
    },
    {
      name: 'the last minutes of a day whose file is not out yet go to REST',
      range: r('2024-03-19T23:55Z', '2024-03-20T00:00Z'),
      covered: [],
      expected: ['rest 2024-03-19T23:55:00.000Z..2024-03-20T00:00:00.000Z'],
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
    expect(vision.fetches.map((f) => f.kind)).toEqual(['vision-monthly']);
    const recent = planFetches({ dataset: spot1m, range: r('2024-03-19T23:00Z', '2024-03-20T01:00Z'), covered: [], nowMs: now, source: 'vision' });
    expect(recent.fetches.map(describeFetch)).toEqual([
      'vision-daily 2024-03-19T00:00:00.000Z..2024-03-20T00:00:00.000Z',
      'vision-daily 2024-03-20T00:00:00.000Z..2024-03-20T10:30:00.000Z',
    ]);
  });

  it('intervals without daily files use the whole monthly files when published, else REST', () => {
    const weekly: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1w' };
    // Weekly candles open on Mondays: 2023-11-15 rounds down to Monday 11-13, and the candle of
    // Monday 2024-01-29 runs to 02-05, so the plan reaches into February.
    const plan = planFetches({ dataset: weekly, range: r('2023-11-15', '2024-02-01'), covered: [], nowMs: now, source: 'auto' });
    expect(plan.fetches.map(describeFetch)).toEqual([
      'vision-monthly 2023-11-01T00:00:00.000Z..2023-12-01T00:00:00.000Z',
      'vision-monthly 2023-12-01T00:00:00.000Z..2024-01-01T00:00:00.000Z',
      'vision-monthly 2024-01-01T00:00:00.000Z..2024-02-01T00:00:00.000Z',
      'vision-monthly 2024-02-01T00:00:00.000Z..2024-03-01T00:00:00.000Z',
    ]);
    const recent = planFetches({ dataset: weekly, range: r('2024-03-04', '2024-03-18'), covered: [], nowMs: now, source: 'auto' });
    expect(recent.fetches.map(describeFetch)).toEqual(['rest 2024-03-04T00:00:00.000Z..2024-03-18T00:00:00.000Z']);
  });

  it('1h: any gap in a published month is that whole monthly file, whoever asks first (2019-03-15..20 is one file)', () => {
    const spot1h: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1h' };
    const later = t('2020-12-15T10:30Z');
    const plan = planFetches({ dataset: spot1h, range: r('2019-03-15', '2019-03-20T01:00Z'), covered: [], nowMs: later, source: 'auto' });
    expect(plan.fetches.map(describeFetch)).toEqual(['vision-monthly 2019-03-01T00:00:00.000Z..2019-04-01T00:00:00.000Z']);
    expect(plan.fetches[0]).toMatchObject({ need: [r('2019-03-15', '2019-03-20T01:00Z')] });
    const arbRange = fc.tuple(fc.integer({ min: 0, max: 8759 }), fc.integer({ min: 1, max: 2000 }))
      .map(([hour, hours]) => ({ startMs: t('2019-01-01') + hour * 3_600_000, endMs: Math.min(t('2020-01-01'), t('2019-01-01') + (hour + hours) * 3_600_000) }));
    fc.assert(fc.property(arbRange, fc.array(arbRange, { maxLength: 4 }), (range, covered) => {
      const result = planFetches({ dataset: spot1h, range, covered, nowMs: later, source: 'auto' });
      const months = new Set(result.gaps.flatMap((gap) => splitByMonth(gap).map((piece) => utcMonthStart(piece.startMs))));
      expect(result.fetches.every((f) => f.kind === 'vision-monthly')).toBe(true);
      expect(result.fetches.map((f) => f.range.startMs).sort()).toEqual([...months].sort());
    }));
  });

  it('1s: a few minutes of a published day come from REST, a few hours from the whole daily file', () => {
    const spot1s: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1s' };
    const minutes = planFetches({ dataset: spot1s, range: r('2024-03-01T10:00Z', '2024-03-01T10:10Z'), covered: [], nowMs: now, source: 'auto' });
    expect(minutes.fetches.map(describeFetch)).toEqual(['rest 2024-03-01T10:00:00.000Z..2024-03-01T10:10:00.000Z']);
    const hours = planFetches({ dataset: spot1s, range: r('2024-03-01T10:00Z', '2024-03-01T12:00Z'), covered: [], nowMs: now, source: 'auto' });
    expect(hours.fetches.map(describeFetch)).toEqual(['vision-daily 2024-03-01T00:00:00.000Z..2024-03-02T00:00:00.000Z']);
  });

  it('never fetches what is known to be empty (before the first candle)', () => {
    const spot1h: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1h' };
    const plan = planFetches({
      dataset: spot1h, range: r('2014-01-01', '2017-09-01T01:00Z'), covered: [], nowMs: t('2020-12-15T10:30Z'), source: 'auto',
      knownEmpty: [{ startMs: 0, endMs: t('2017-08-17T04:00Z') }],
    });
    expect(plan.fetches.map(describeFetch)).toEqual([
      'vision-monthly 2017-08-01T00:00:00.000Z..2017-09-01T00:00:00.000Z',
      'vision-monthly 2017-09-01T00:00:00.000Z..2017-10-01T00:00:00.000Z',
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
      expect(union.reduce((sum, p) => sum + (p.endMs - p.startMs), 0)).toBe(total); // pairwise disjoint: no candle twice
      const filled = normalizeRanges(plan.fetches.flatMap((f) => (f.kind === 'rest' ? [f.range] : [...f.need])));
      expect(filled).toEqual(normalizeRanges(plan.gaps as Range[])); // every gap filled, by one fetch
      for (const f of plan.fetches) {
        if (f.kind === 'rest') expect(subtractRanges([f.range], plan.gaps)).toEqual([]); // REST asks for gaps only
        else expect(subtractRanges(f.need, [f.range])).toEqual([]);
      }
      expect(subtractRanges(plan.gaps, subtractRanges([plan.requested], covered))).toEqual([]);
      expect(unionRanges(plan.cached as Range[], plan.gaps)).toEqual(normalizeRanges([plan.requested]));
    }));
  });
});

describe('fallbackFetches', () => {
  const now = t('2024-03-20T10:30:15Z');
  it('a monthly 404 falls back to the daily files of that month only', () => {
    const february = r('2024-02-01', '2024-03-01');
    const fallback = fallbackFetches({ kind: 'vision-monthly', range: february, fileStartMs: t('2024-02-01'), need: [february] }, spot1m, now, 'auto');
    expect(fallback).toHaveLength(29);
    expect(fallback.every((f) => f.kind === 'vision-daily')).toBe(true);
  });
  it('a monthly 404 replaces only what the request needed: the days of its need', () => {
    const february = r('2024-02-01', '2024-03-01');
    const need = [r('2024-02-10T05:00Z', '2024-02-11T03:00Z')];
    const fallback = fallbackFetches({ kind: 'vision-monthly', range: february, fileStartMs: t('2024-02-01'), need }, spot1m, now, 'auto');
    expect(fallback.map(describeFetch)).toEqual([
      'vision-daily 2024-02-10T00:00:00.000Z..2024-02-11T00:00:00.000Z',
      'vision-daily 2024-02-11T00:00:00.000Z..2024-02-12T00:00:00.000Z',
    ]);
  });
  it('a daily 404 falls back to REST for its need, or to nothing when Vision is forced', () => {
    const day = r('2024-03-10', '2024-03-11');
    const daily: Fetch = { kind: 'vision-daily', range: day, fileStartMs: t('2024-03-10'), need: [day] };
    expect(fallbackFetches(daily, spot1m, now, 'auto').map(describeFetch)).toEqual(['rest 2024-03-10T00:00:00.000Z..2024-03-11T00:00:00.000Z']);
    expect(fallbackFetches(daily, spot1m, now, 'vision')).toEqual([]);
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
