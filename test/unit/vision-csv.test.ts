/**
 * parseVisionCsv against real Vision CSVs read in place (test/fixtures/binance, see
 * SOURCES.md) and generated files for the format variants.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataValidationError } from '../../lib/domain/errors.ts';
import { KLINE_COLUMNS, validateKlines, type Kline } from '../../lib/domain/kline.ts';
import { rowsFromColumns } from '../../lib/domain/kline-columns.ts';
import { parseVisionCsv, parseVisionCsvBytes, parseVisionCsvColumns } from '../../lib/sources/vision-csv.ts';
import { realDataDir } from '../helpers/real-data.ts';

const realCsv = path.join(realDataDir(), 'csv');
const read = (relative: string): string => readFileSync(path.join(realCsv, relative), 'utf8');

const SPOT_1M_2025 = 'spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-07-13.csv';
const UM_1M_2023_HEADER = 'futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-04-15.csv';
const SPOT_1H_2018_02 = 'spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2018-02.csv';
const SPOT_1H_2020_12 = 'spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-12.csv';

function parseReal(relative: string): Kline[] {
  const rows = parseVisionCsv(read(relative), relative);
  validateKlines(rows, relative);
  return rows;
}

describe('parseVisionCsv on real files', () => {
  it('normalizes a 2025 spot file in µs to ms (floor)', () => {
    const rows = parseReal(SPOT_1M_2025);
    expect(rows).toHaveLength(1440);
    expect(rows[0]).toEqual({
      open_time: 1752364800000, open: 117420, high: 117458.48, low: 117420, close: 117458.48, volume: 0.78612,
      close_time: 1752364859999, quote_volume: 92325.7304999, trades: 975, taker_buy_volume: 0.61357, taker_buy_quote_volume: 72059.2188666,
    });
    expect(rows[1439]!.open_time).toBe(Date.UTC(2025, 6, 13, 23, 59));
    for (const row of rows) expect(row.close_time - row.open_time).toBe(59_999);
  });

  it('skips the header of a UM futures file', () => {
    const rows = parseReal(UM_1M_2023_HEADER);
    expect(rows).toHaveLength(1440);
    expect(rows[0]!.open_time).toBe(1681516800000);
    expect(rows[0]!.volume).toBe(174.12);
    expect(rows[1439]!.open_time).toBe(Date.UTC(2023, 3, 15, 23, 59));
  });

  it('reads a UM file without header the same way', () => {
    const rows = parseReal('futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2022-04-08.csv');
    expect(rows).toHaveLength(1440);
    expect(rows[0]!.open_time).toBe(Date.UTC(2022, 3, 8));
  });

  it('keeps the off-grid and overlapping candles of 2018-02 exactly as published', () => {
    const rows = parseReal(SPOT_1H_2018_02);
    expect(rows).toHaveLength(640);
    const truncatedBeforeOutage = rows.find((r) => r.open_time === Date.UTC(2018, 1, 8, 0));
    expect(truncatedBeforeOutage?.close_time).toBe(Date.UTC(2018, 1, 8, 0, 28, 14, 788));
    const offGrid = rows.filter((r) => r.open_time % 3_600_000 !== 0);
    expect(offGrid.length).toBeGreaterThan(0);
    expect(offGrid[0]!.open_time).toBe(Date.UTC(2018, 1, 9, 9, 28, 14, 789));
    for (const row of offGrid) expect(row.open_time % 3_600_000).toBe(Date.UTC(1970, 0, 1, 0, 28, 14, 789));
    const lastOffGrid = offGrid[offGrid.length - 1]!;
    expect(lastOffGrid.close_time).toBe(Date.UTC(2018, 1, 11, 4, 0, 0, 999));
    const next = rows[rows.indexOf(lastOffGrid) + 1]!;
    expect(next.open_time).toBe(Date.UTC(2018, 1, 11, 4));
  });

  it('keeps the 2020-12-21 14:00 candle whose close_time is before its open_time', () => {
    const rows = parseReal(SPOT_1H_2020_12);
    expect(rows).toHaveLength(740);
    const odd = rows.find((r) => r.open_time === Date.UTC(2020, 11, 21, 14));
    expect(odd?.close_time).toBe(Date.UTC(2020, 11, 21, 13, 47, 20, 521));
    expect(odd!.close_time).toBeLessThan(odd!.open_time);
  });

  it('reads CRLF line endings and a missing trailing newline identically', () => {
    const text = read(UM_1M_2023_HEADER);
    const expected = parseVisionCsv(text, 'lf');
    expect(text.endsWith('\n')).toBe(true);
    expect(parseVisionCsv(text.replace(/\n/g, '\r\n'), 'crlf')).toEqual(expected);
    expect(parseVisionCsv(text.slice(0, -1), 'no-trailing-newline')).toEqual(expected);
    expect(parseVisionCsv(text.replace(/\n/g, '\r\n').slice(0, -2), 'crlf-no-trailing')).toEqual(expected);
  });

  it('returns no rows for an empty file or a header-only file', () => {
    expect(parseVisionCsv('', 'empty')).toEqual([]);
    expect(parseVisionCsv(read(UM_1M_2023_HEADER).split('\n')[0]! + '\n', 'header-only')).toEqual([]);
  });
});

describe('parseVisionCsv rejects malformed lines', () => {
  const good = '1681516800000,30453.00,30455.00,30446.40,30452.40,174.120,1681516859999,5301913.57520,1884,83.714,2549037.25020,0';
  const cases: [string, string, RegExp][] = [
    ['11 fields', good.slice(0, good.lastIndexOf(',')), /line 2 has 11 fields, expected 12/],
    ['13 fields', `${good},0`, /line 2 has 13 fields, expected 12/],
    ['a word', good.replace('30455.00', 'abc'), /line 2 has a non-numeric field 3: "abc"/],
    ['an empty field', good.replace('174.120', ''), /line 2 has a non-numeric field 6: ""/],
    ['a padded field', good.replace('174.120', ' 174.120'), /line 2 has a non-numeric field 6/],
    ['Infinity', good.replace('174.120', 'Infinity'), /line 2 has a non-numeric field 6/],
    ['an exponent', good.replace('174.120', '1.7412e2'), /line 2 has a non-numeric field 6: "1.7412e2"/],
    ['two dots', good.replace('174.120', '174.1.20'), /line 2 has a non-numeric field 6: "174.1.20"/],
    ['a stray carriage return', `${good}\r0`, /line 2 has a stray carriage return/],
    ['an empty line', '', /line 2 is empty/],
  ];
  it.each(cases)('%s', (_, badLine, message) => {
    const text = `${good}\n${badLine}\n${good.replace('1681516800000', '1681516860000')}\n`;
    expect(() => parseVisionCsv(text, 'BTCUSDT-1m-2023-04-15.csv')).toThrowError(DataValidationError);
    expect(() => parseVisionCsv(text, 'BTCUSDT-1m-2023-04-15.csv')).toThrowError(message);
    expect(() => parseVisionCsv(text, 'BTCUSDT-1m-2023-04-15.csv')).toThrowError(/^BTCUSDT-1m-2023-04-15\.csv: /);
  });

  it('rejects a file that mixes µs and ms rows', () => {
    const text = read(SPOT_1M_2025).split('\n');
    text[5] = text[5]!.replace(/^(\d{13})000/, '$1');
    expect(() => parseVisionCsv(text.join('\n'), 'mixed.csv')).toThrowError(/mixed\.csv: line 6 has open_time in ms while the file's first row is in µs/);
  });
});

describe('parseVisionCsv round-trips generated files', () => {
  // Decimal strings as Binance writes them: 0-8 decimals, sometimes 19+ significant digits
  // (monthly quote volumes; SOURCES.md, "Decimals"), which take the Number() path.
  const decimal = fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.integer({ min: 0, max: 8 })).map(([digits, decimals]) => {
    const text = digits.toString().padStart(decimals + 1, '0');
    return decimals === 0 ? text : `${text.slice(0, -decimals)}.${text.slice(-decimals)}`;
  });
  const time = fc.integer({ min: 1_500_000_000_000, max: 4_000_000_000_000 });
  const line = fc.tuple(time, fc.array(decimal, { minLength: 5, maxLength: 5 }), time, decimal, fc.nat(), decimal, decimal);

  it('with or without header, in ms or µs, LF or CRLF, with or without trailing newline', () => {
    fc.assert(fc.property(fc.array(line, { maxLength: 30 }), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), (lines, header, micros, crlf, trailing) => {
      const eol = crlf ? '\r\n' : '\n';
      const texts = lines.map(([open, ohlcv, close, quote, trades, takerBase, takerQuote]) => [
        micros ? `${open}000` : `${open}`, ...ohlcv, micros ? `${close}999` : `${close}`, quote, `${trades}`, takerBase, takerQuote, '0',
      ].join(','));
      if (header) texts.unshift('open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore');
      const text = texts.join(eol) + (trailing && texts.length > 0 ? eol : '');
      const expected: Kline[] = lines.map(([open, ohlcv, close, quote, trades, takerBase, takerQuote]) => ({
        open_time: open, open: Number(ohlcv[0]), high: Number(ohlcv[1]), low: Number(ohlcv[2]), close: Number(ohlcv[3]), volume: Number(ohlcv[4]),
        close_time: close, quote_volume: Number(quote), trades, taker_buy_volume: Number(takerBase), taker_buy_quote_volume: Number(takerQuote),
      }));
      expect(parseVisionCsv(text, 'generated')).toEqual(expected);
    }), { numRuns: 300 });
  });
});

describe('parseVisionCsvColumns and parseVisionCsvBytes', () => {
  it.each([SPOT_1M_2025, UM_1M_2023_HEADER, SPOT_1H_2018_02])('give the rows of parseVisionCsv as columns for %s', (relative) => {
    const text = read(relative);
    const expected = parseVisionCsv(text, relative);
    const columns = parseVisionCsvColumns(text, relative);
    expect(columns.length).toBe(expected.length);
    for (const name of KLINE_COLUMNS) {
      expect(columns[name]).toBeInstanceOf(Float64Array);
      expect(Array.from(columns[name])).toEqual(expected.map((row) => row[name]));
    }
    // The unzipped bytes, CRLF and behind a UTF-8 byte order mark, parse to the same rows.
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1')]);
    expect(rowsFromColumns(parseVisionCsvBytes(new Uint8Array(bytes), relative))).toEqual(expected);
  });

  it('grows its buffers past a misleading first line', () => {
    const lines = read(SPOT_1H_2020_12).trimEnd().split('\n');
    // A long first line makes the size estimate far too small.
    const first = lines[0]!.replace(/,0$/, `,${'0'.repeat(5000)}`);
    const columns = parseVisionCsvColumns([first, ...lines.slice(1)].join('\n'), 'padded');
    expect(columns.length).toBe(lines.length);
    expect(columns.open_time[lines.length - 1]).toBe(Number(lines.at(-1)!.split(',')[0]));
  });

  it('names the file and line of a bad line in the bytes, decoded as latin1', () => {
    const good = '1681516800000,30453.00,30455.00,30446.40,30452.40,174.120,1681516859999,5301913.57520,1884,83.714,2549037.25020,0';
    const bytes = Buffer.from(`${good}\n${good.replace('174.120', '17\xb5')}\n`, 'latin1');
    expect(() => parseVisionCsvBytes(bytes, 'f.csv')).toThrowError(/^f\.csv: line 2 has a non-numeric field 6: "17µ"/);
  });
});
