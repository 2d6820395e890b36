import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DataValidationError, InvalidInputError, KlinesError } from '../../lib/domain/errors.ts';
import { parseMarket, restRequestWeight, REST_PAGE_LIMIT } from '../../lib/domain/markets.ts';
import { parseSymbol } from '../../lib/domain/symbols.ts';
import { parseTime } from '../../lib/domain/time.ts';
import { canonicalKey, granularityFor, partKey, periodOf, periodsInRange } from '../../lib/domain/periods.ts';
import { datasetId, KLINE_COLUMNS, mergeKlines, validateKlines, type Dataset, type Kline } from '../../lib/domain/kline.ts';
import { INTERVALS } from '../../lib/domain/intervals.ts';
import { columnsFromRows, validateKlineColumns } from '../../lib/domain/kline-columns.ts';
import { thrown } from '../helpers/thrown.ts';
import { realDataDir } from '../helpers/real-data.ts';

const realData = realDataDir();
const ut = (iso: string): number => Date.parse(iso);


/** Rows of a headerless Vision kline CSV (12 columns, the last one `ignore`). */
function readVisionCsv(relativePath: string): Kline[] {
  const text = readFileSync(path.join(realData, relativePath), 'utf8');
  return text.trim().split('\n').map((line) => {
    const cells = line.split(',').map(Number);
    return Object.fromEntries(KLINE_COLUMNS.map((column, i) => [column, cells[i]])) as unknown as Kline;
  });
}

describe('parseSymbol', () => {
  it.each([
    ['BTCUSDT', 'BTCUSDT'],
    ['btcusdt', 'BTCUSDT'],
    ['BTCUSD_PERP', 'BTCUSD_PERP'],
    ['1000PEPEUSDT', '1000PEPEUSDT'],
    ['A'.repeat(30), 'A'.repeat(30)],
  ])('accepts %s as %s', (value, expected) => {
    expect(parseSymbol(value)).toBe(expected);
  });

  it.each(['BTC/USDT', '../x', 'A', 'A'.repeat(31), '', 'BTC USDT', 'BTC-USDT', 'BTCUSDT\n..', 'ÄBC', 'ß', 'bıtcoın'])('rejects %j with INVALID_INPUT', (value) => {
    const error = thrown(() => parseSymbol(value));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('INVALID_INPUT');
    expect(error.message).toContain(`"${value}"`);
    expect(error.message).toContain('A-Z, 0-9 and _');
  });

  it('only ever returns key-safe text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (value) => {
      let symbol: string;
      try {
        symbol = parseSymbol(value);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        return;
      }
      expect(symbol).toMatch(/^[A-Z0-9_]{2,30}$/);
    }));
  });
});

describe('parseMarket and restRequestWeight', () => {
  it('accepts the three markets in any case', () => {
    expect(parseMarket('spot')).toBe('spot');
    expect(parseMarket('UM')).toBe('um');
    expect(parseMarket(' cm ')).toBe('cm');
  });

  it.each(['futures', 'usdm', '', 'spot1'])('rejects %j listing the markets', (value) => {
    const error = thrown(() => parseMarket(value));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('INVALID_INPUT');
    expect(error.message).toContain('spot, um, cm');
  });

  it.each([
    ['spot', 1, 2], ['spot', 1000, 2],
    ['um', 1, 1], ['um', 99, 1], ['um', 100, 2], ['um', 499, 2], ['um', 500, 5], ['um', 1000, 5], ['um', 1500, 10],
    ['cm', 99, 1], ['cm', 499, 2], ['cm', 500, 5],
  ] as const)('%s limit %d weighs %d', (market, limit, weight) => {
    expect(restRequestWeight(market, limit)).toBe(weight);
  });

  it('pages at the cheapest rows per weight', () => {
    expect(restRequestWeight('um', REST_PAGE_LIMIT.um)).toBe(2);
    expect(REST_PAGE_LIMIT.spot / restRequestWeight('spot', REST_PAGE_LIMIT.spot)).toBe(500);
  });
});

describe('parseTime', () => {
  it.each([
    ['2024-01-15', '2024-01-15T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2024-01-15T10:00Z', '2024-01-15T10:00:00.000Z'],
    ['2024-01-15T10:00:00Z', '2024-01-15T10:00:00.000Z'],
    ['2024-01-15T10:00:00', '2024-01-15T10:00:00.000Z'],
    ['2024-01-15 10:00:00', '2024-01-15T10:00:00.000Z'],
    ['2024-01-15T10:00:00+02:00', '2024-01-15T08:00:00.000Z'],
    ['2024-01-15T10:00:00-0530', '2024-01-15T15:30:00.000Z'],
    ['2024-01-15T10:00:00.123Z', '2024-01-15T10:00:00.123Z'],
    ['2024-01-15T10:00:00.5', '2024-01-15T10:00:00.500Z'],
    [' 2024-01-15T10:00:00Z ', '2024-01-15T10:00:00.000Z'],
    ['1705312800000', '2024-01-15T10:00:00.000Z'],
    ['100000000000', '1973-03-03T09:46:40.000Z'],
  ])('parses %j as %s', (value, expected) => {
    expect(new Date(parseTime(value, 'start')).toISOString()).toBe(expected);
  });

  it.each([
    'yesterday', '', '2024-13-01', '2024-02-30', '2023-02-29', '2024-04-31', '2024-01-00', '2024-01-15T25:00Z',
    '2024-01-15T10:60Z', '15/01/2024', '2024-1-5', '1e12', '-1705312800000', '1705312800000.5', '2024-01-15T10Z',
  ])('rejects %j naming the accepted forms', (value) => {
    const error = thrown(() => parseTime(value, 'end'));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/^end: /);
    expect(error.message).toContain('ISO-8601');
    expect(error.message).toContain('epoch milliseconds');
  });

  it.each(['1606780800', '0', '99999999999'])('refuses %j as epoch seconds or a mistake, suggesting milliseconds', (value) => {
    const error = thrown(() => parseTime(value, 'start'));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(/^start: /);
    expect(error.message).toContain('too small for epoch milliseconds');
    expect(error.message).toContain(`e.g. ${value}000`);
  });

  it('says what an epoch-seconds start would have meant', () => {
    expect(thrown(() => parseTime('1606780800', 'start')).message).toContain('as epoch seconds it is 2020-12-01T00:00:00.000Z');
  });

  it('reads back every instant from its ISO text and its epoch ms', () => {
    fc.assert(fc.property(fc.integer({ min: Date.UTC(2017, 0, 1), max: Date.UTC(2030, 0, 1) }), (ms) => {
      expect(parseTime(new Date(ms).toISOString(), 't')).toBe(ms);
      expect(parseTime(String(ms), 't')).toBe(ms);
    }));
  });
});

describe('periods and keys', () => {
  const btc1m: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1m' };

  it('produces the seed layout binance/spot/klines/monthly/BTCUSDT/1m/2024-01.parquet', () => {
    const [january] = periodsInRange({ startMs: ut('2024-01-15T00:00:00Z'), endMs: ut('2024-01-16T00:00:00Z') }, granularityFor('1m'));
    expect(january).toEqual({
      granularity: 'monthly', key: '2024-01',
      range: { startMs: ut('2024-01-01T00:00:00Z'), endMs: ut('2024-02-01T00:00:00Z') },
    });
    expect(canonicalKey(btc1m, january!)).toBe('binance/spot/klines/monthly/BTCUSDT/1m/2024-01.parquet');
    expect(partKey(btc1m, january!, 'p-0001')).toBe('binance/spot/klines/monthly/BTCUSDT/1m/2024-01.parts/p-0001.parquet');
    expect(datasetId(btc1m)).toBe('binance/spot/klines/BTCUSDT/1m');
  });

  it('lists every period a range touches, in order, with whole-period ranges', () => {
    const periods = periodsInRange({ startMs: ut('2024-01-31T23:59:00Z'), endMs: ut('2024-03-01T00:00:01Z') }, 'monthly');
    expect(periods.map((p) => p.key)).toEqual(['2024-01', '2024-02', '2024-03']);
    expect(periods[1]!.range).toEqual({ startMs: ut('2024-02-01T00:00:00Z'), endMs: ut('2024-03-01T00:00:00Z') });
    expect(periodsInRange({ startMs: ut('2024-02-28T12:00:00Z'), endMs: ut('2024-03-01T00:00:00Z') }, 'daily').map((p) => p.key))
      .toEqual(['2024-02-28', '2024-02-29']);
    expect(periodsInRange({ startMs: ut('2023-06-01T00:00:00Z'), endMs: ut('2025-01-01T00:00:00Z') }, 'yearly').map((p) => p.key))
      .toEqual(['2023', '2024']);
    expect(periodsInRange({ startMs: 5, endMs: 5 }, 'daily')).toEqual([]);
  });

  it('keys daily and yearly partitions', () => {
    const btc1s: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1s' };
    const perp1d: Dataset = { market: 'cm', symbol: 'BTCUSD_PERP', interval: '1d' };
    const day = periodOf(ut('2024-02-29T13:00:00Z'), granularityFor('1s'));
    expect(day.range).toEqual({ startMs: ut('2024-02-29T00:00:00Z'), endMs: ut('2024-03-01T00:00:00Z') });
    expect(canonicalKey(btc1s, day)).toBe('binance/spot/klines/daily/BTCUSDT/1s/2024-02-29.parquet');
    const year = periodOf(ut('2024-12-31T23:59:59.999Z'), granularityFor('1d'));
    expect(year.range).toEqual({ startMs: ut('2024-01-01T00:00:00Z'), endMs: ut('2025-01-01T00:00:00Z') });
    expect(canonicalKey(perp1d, year)).toBe('binance/cm/klines/yearly/BTCUSD_PERP/1d/2024.parquet');
  });

  it('picks daily for 1s, monthly for 1m … 12h, yearly for 1d and longer', () => {
    expect(Object.fromEntries(INTERVALS.map((i) => [i, granularityFor(i)]))).toEqual({
      '1s': 'daily', '1m': 'monthly', '3m': 'monthly', '5m': 'monthly', '15m': 'monthly', '30m': 'monthly',
      '1h': 'monthly', '2h': 'monthly', '4h': 'monthly', '6h': 'monthly', '8h': 'monthly', '12h': 'monthly',
      '1d': 'yearly', '3d': 'yearly', '1w': 'yearly', '1M': 'yearly',
    });
  });

  it('periodOf holds its instant for any granularity', () => {
    fc.assert(fc.property(
      fc.integer({ min: Date.UTC(2017, 0, 1), max: Date.UTC(2030, 0, 1) }),
      fc.constantFrom('daily', 'monthly', 'yearly' as const),
      (ms, granularity) => {
        const period = periodOf(ms, granularity);
        expect(period.range.startMs).toBeLessThanOrEqual(ms);
        expect(ms).toBeLessThan(period.range.endMs);
        expect(new Date(period.range.startMs).toISOString().startsWith(period.key)).toBe(true);
      },
    ));
  });
});

describe('validateKlines', () => {
  // 2020-12-21 14:00 closes at 13:47:20.521, before it opens, with volume 0 (SOURCES.md, Quirks).
  const december2020 = readVisionCsv('csv/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-12.csv');

  it('accepts real files with quirky rows: close_time before open_time, zero volume, off-grid opens', () => {
    const maintenance = december2020.find((row) => row.open_time === ut('2020-12-21T14:00:00Z'));
    expect(maintenance?.close_time).toBe(ut('2020-12-21T13:47:20.521Z'));
    expect(maintenance?.volume).toBe(0);
    expect(() => validateKlines(december2020, 'BTCUSDT-1h-2020-12')).not.toThrow();
    const offGrid = readVisionCsv('csv/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2018-02.csv');
    expect(offGrid.some((row) => row.open_time % 3_600_000 !== 0)).toBe(true);
    expect(() => validateKlines(offGrid, 'BTCUSDT-1h-2018-02')).not.toThrow();
    expect(() => validateKlines([], 'empty')).not.toThrow();
  });

  const base = december2020.slice(0, 5);
  const withRow = (index: number, change: Partial<Kline>): Kline[] => base.map((row, i) => (i === index ? { ...row, ...change } : row));

  it.each<[string, Kline[], string]>([
    ['unsorted rows', [base[1]!, base[0]!, base[2]!], 'not after the previous open_time'],
    ['a duplicate open_time', [base[0]!, base[1]!, { ...base[1]!, close: base[1]!.low }], 'not after the previous open_time'],
    ['a NaN price', withRow(2, { close: Number.NaN }), 'non-numeric close'],
    ['an infinite volume', withRow(2, { volume: Number.POSITIVE_INFINITY }), 'non-numeric volume'],
    ['a string where a number belongs', withRow(2, { open: '1.5' as unknown as number }), 'non-numeric open'],
    ['a fractional trades count', withRow(2, { trades: 1.5 }), 'non-integer trades'],
    ['high below low', withRow(2, { high: base[2]!.low - 1 }), 'above high'],
    ['open above high', withRow(2, { open: base[2]!.high + 1 }), 'open'],
    ['open below low', withRow(2, { open: base[2]!.low - 1 }), 'open'],
    ['close outside [low, high]', withRow(2, { close: base[2]!.high + 1 }), 'close'],
    ['a negative volume', withRow(2, { volume: -1 }), 'negative volume'],
    ['a negative taker quote volume', withRow(2, { taker_buy_quote_volume: -0.5 }), 'negative volume'],
    ['negative trades', withRow(2, { trades: -1 }), 'negative trades'],
  ])('rejects %s with INVALID_DATA naming the row', (_name, rows, problem) => {
    const error = thrown(() => validateKlines(rows, 'test file'));
    expect(error).toBeInstanceOf(DataValidationError);
    expect(error).toBeInstanceOf(KlinesError);
    expect((error as DataValidationError).code).toBe('INVALID_DATA');
    expect(error.message).toMatch(/^test file: row \d+/);
    expect(error.message).toContain(problem);
  });

  it('names the first bad row', () => {
    const error = thrown(() => validateKlines(withRow(3, { volume: -1 }), 'f')) as DataValidationError;
    expect(error.details).toEqual({ row: 3, open_time: base[3]!.open_time });
  });

  it('validateKlineColumns accepts the real files validateKlines accepts', () => {
    expect(() => validateKlineColumns(columnsFromRows(december2020), 'BTCUSDT-1h-2020-12')).not.toThrow();
    expect(() => validateKlineColumns(columnsFromRows([]), 'empty')).not.toThrow();
  });

  it.each<[string, Kline[]]>([
    ['unsorted rows', [base[1]!, base[0]!, base[2]!]],
    ['a duplicate open_time', [base[0]!, base[1]!, { ...base[1]!, close: base[1]!.low }]],
    ['a NaN price', withRow(2, { close: Number.NaN })],
    ['an infinite high', withRow(2, { high: Number.POSITIVE_INFINITY })],
    ['an infinite volume', withRow(2, { volume: Number.POSITIVE_INFINITY })],
    ['an infinite close_time', withRow(2, { close_time: Number.POSITIVE_INFINITY })],
    ['a fractional trades count', withRow(2, { trades: 1.5 })],
    ['a fractional open_time', withRow(2, { open_time: base[2]!.open_time + 0.5 })],
    ['high below low', withRow(2, { high: base[2]!.low - 1 })],
    ['open below low', withRow(2, { open: base[2]!.low - 1 })],
    ['close outside [low, high]', withRow(2, { close: base[2]!.high + 1 })],
    ['a negative quote volume', withRow(4, { quote_volume: -1 })],
    ['negative trades', withRow(2, { trades: -1 })],
  ])('validateKlineColumns rejects %s with the message and details of validateKlines', (_name, rows) => {
    const expected = thrown(() => validateKlines(rows, 'test file')) as DataValidationError;
    const error = thrown(() => validateKlineColumns(columnsFromRows(rows), 'test file')) as DataValidationError;
    expect(error).toBeInstanceOf(DataValidationError);
    expect(error.message).toBe(expected.message);
    expect(error.details).toEqual(expected.details);
  });
});

describe('mergeKlines', () => {
  const row = (openTime: number, close: number): Kline => ({
    open_time: openTime, open: close, high: close, low: close, close, volume: 1, close_time: openTime + 59_999,
    quote_volume: close, trades: 1, taker_buy_volume: 0, taker_buy_quote_volume: 0,
  });

  it('keeps one row per open_time, sorted, with later lists winning', () => {
    const older = [row(0, 1), row(60_000, 1), row(120_000, 1)];
    const newer = [row(180_000, 2), row(60_000, 2)];
    const merged = mergeKlines([older, newer]);
    expect(merged.map((r) => [r.open_time, r.close])).toEqual([[0, 1], [60_000, 2], [120_000, 1], [180_000, 2]]);
    expect(mergeKlines([])).toEqual([]);
  });

  it('agrees with a last-writer-wins model for any lists', () => {
    const listArb = fc.array(fc.record({ t: fc.integer({ min: 0, max: 30 }), v: fc.integer({ min: 1, max: 1000 }) }), { maxLength: 15 });
    fc.assert(fc.property(fc.array(listArb, { maxLength: 4 }), (lists) => {
      const model = new Map<number, number>();
      for (const list of lists) for (const { t, v } of list) model.set(t, v);
      const merged = mergeKlines(lists.map((list) => list.map(({ t, v }) => row(t * 60_000, v))));
      const expected = [...model.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => [t * 60_000, v]);
      expect(merged.map((r) => [r.open_time, r.close])).toEqual(expected);
    }));
  });
});
