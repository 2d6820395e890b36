import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidInputError } from '../../lib/domain/errors.ts';
import {
  closedEndMs, hasVisionDailyFiles, INTERVAL_MS, INTERVALS, parseInterval, visionIntervalName, type Interval,
} from '../../lib/domain/intervals.ts';
import { thrown } from '../helpers/thrown.ts';

const ut = (iso: string): number => Date.parse(iso);
const DAY = 86_400_000;


describe('parseInterval', () => {
  it('accepts every Binance interval on spot', () => {
    for (const interval of INTERVALS) expect(parseInterval(interval, 'spot')).toBe(interval);
  });

  it('accepts every interval but 1s on futures, and trims spaces', () => {
    for (const market of ['um', 'cm'] as const) {
      for (const interval of INTERVALS.filter((i) => i !== '1s')) expect(parseInterval(` ${interval} `, market)).toBe(interval);
    }
  });

  it('tells 1m (minute) from 1M (month)', () => {
    expect(parseInterval('1m', 'spot')).toBe('1m');
    expect(parseInterval('1M', 'spot')).toBe('1M');
  });

  it.each(['um', 'cm'] as const)('rejects 1s on %s, saying it is spot only', (market) => {
    const error = thrown(() => parseInterval('1s', market));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('INVALID_INPUT');
    expect(error.message).toContain('spot');
    expect(error.message).toContain(market);
  });

  it.each(['2m', '1H', '1mo', '', '60m', '1 m'])('rejects %j with a message listing the accepted values', (value) => {
    const error = thrown(() => parseInterval(value, 'spot'));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('INVALID_INPUT');
    expect(error.message).toContain(`"${value}"`);
    const tokens = new Set(error.message.split(/[\s,;:]+/));
    for (const interval of INTERVALS) expect(tokens.has(interval)).toBe(true);
  });
});

describe('visionIntervalName and hasVisionDailyFiles', () => {
  it('spells 1M as 1mo and leaves the others alone', () => {
    expect(visionIntervalName('1M')).toBe('1mo');
    for (const interval of INTERVALS.filter((i) => i !== '1M')) expect(visionIntervalName(interval)).toBe(interval);
  });

  it('has daily files for 1s … 1d only', () => {
    const daily = INTERVALS.filter(hasVisionDailyFiles);
    expect(daily).toEqual(['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d']);
  });
});

describe('closedEndMs', () => {
  it.each<[Interval, string, string]>([
    ['1s', '2024-01-10T10:30:15.250Z', '2024-01-10T10:30:15.000Z'],
    ['1m', '2024-01-10T10:30:15Z', '2024-01-10T10:30:00Z'],
    ['5m', '2024-01-10T10:34:59.999Z', '2024-01-10T10:30:00Z'],
    ['1h', '2024-01-10T10:30:15Z', '2024-01-10T10:00:00Z'],
    ['4h', '2024-01-10T10:30:15Z', '2024-01-10T08:00:00Z'],
    ['12h', '2024-01-10T10:30:15Z', '2024-01-10T00:00:00Z'],
    ['1d', '2024-01-10T10:30:15Z', '2024-01-10T00:00:00Z'],
    ['1d', '2024-01-10T00:00:00Z', '2024-01-10T00:00:00Z'],
    ['1w', '2024-01-10T10:30:15Z', '2024-01-08T00:00:00Z'], // a Wednesday → its Monday
    ['1w', '2024-01-08T00:00:00Z', '2024-01-08T00:00:00Z'], // a Monday at midnight: that week just opened
    ['1w', '2024-01-07T23:59:59.999Z', '2024-01-01T00:00:00Z'], // a Sunday → the Monday before
    ['1M', '2024-03-15T12:00:00Z', '2024-03-01T00:00:00Z'],
    ['1M', '2024-02-29T23:59:59.999Z', '2024-02-01T00:00:00Z'],
    ['1M', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'],
  ])('%s at %s → %s', (interval, now, expected) => {
    expect(closedEndMs(ut(now), interval)).toBe(ut(expected));
  });

  it('is conservative for 3d: now − 3d + 1', () => {
    const now = ut('2024-01-10T10:30:15Z');
    expect(closedEndMs(now, '3d')).toBe(now - 3 * DAY + 1);
  });

  const nowArb = fc.integer({ min: Date.UTC(2017, 0, 1), max: Date.UTC(2030, 0, 1) });
  const fixed = INTERVALS.filter((i) => i !== '1M');

  it('for fixed-length intervals is at or before now, less than one interval back', () => {
    fc.assert(fc.property(nowArb, fc.constantFrom(...fixed), (now, interval) => {
      const end = closedEndMs(now, interval);
      expect(end).toBeLessThanOrEqual(now);
      expect(now - end).toBeLessThan(INTERVAL_MS[interval]);
    }), { numRuns: 500 });
  });

  it('lands on the grid: multiples of the interval up to 1d, Monday midnights for 1w', () => {
    const gridded = INTERVALS.filter((i) => INTERVAL_MS[i] <= DAY);
    fc.assert(fc.property(nowArb, fc.constantFrom(...gridded), (now, interval) => {
      expect(closedEndMs(now, interval) % INTERVAL_MS[interval]).toBe(0);
    }), { numRuns: 500 });
    fc.assert(fc.property(nowArb, (now) => {
      const monday = new Date(closedEndMs(now, '1w'));
      expect(monday.getUTCDay()).toBe(1);
      expect(monday.getTime() % DAY).toBe(0);
    }));
  });

  it('for 1M is the first of the month containing now', () => {
    fc.assert(fc.property(nowArb, (now) => {
      const end = closedEndMs(now, '1M');
      const iso = new Date(end).toISOString();
      expect(iso.endsWith('-01T00:00:00.000Z')).toBe(true);
      expect(iso.slice(0, 7)).toBe(new Date(now).toISOString().slice(0, 7));
    }));
  });
});
