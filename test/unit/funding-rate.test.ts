/**
 * Funding-rate parsing, validation, merging, Parquet round trip and planning (issue 10, item 5).
 */
import { describe, expect, it } from 'vitest';
import { DataValidationError } from '../../lib/domain/errors.ts';
import { fundingColumnsFromRows, fundingRowsFromColumns, mergeFunding, type FundingRow } from '../../lib/domain/funding-rate.ts';
import { planFundingFetches } from '../../lib/service/funding-plan.ts';
import { fundingVisionUrl, parseFundingCsv, parseFundingRestBody } from '../../lib/sources/funding-sources.ts';
import { decodeFundingColumns, encodeFundingColumns } from '../../lib/store/funding-codec.ts';

const t = (iso: string): number => Date.parse(iso);
const H8 = 8 * 3_600_000;

describe('parseFundingCsv', () => {
  it('reads files with and without the header, CRLF or LF, trailing newline or not', () => {
    const body = '1704067200000,8,0.00010000\n1704096000000,8,-0.00002500\n';
    const expected = [
      { calc_time: 1704067200000, funding_interval_hours: 8, last_funding_rate: 0.0001, mark_price: Number.NaN },
      { calc_time: 1704096000000, funding_interval_hours: 8, last_funding_rate: -0.000025, mark_price: Number.NaN },
    ];
    expect(fundingRowsFromColumns(parseFundingCsv(`calc_time,funding_interval_hours,last_funding_rate\n${body}`, 'f'))).toEqual(expected);
    expect(fundingRowsFromColumns(parseFundingCsv(body.trimEnd(), 'f'))).toEqual(expected);
    expect(fundingRowsFromColumns(parseFundingCsv(body.replaceAll('\n', '\r\n'), 'f'))).toEqual(expected);
  });

  it.each([
    ['a missing column', '1704067200000,8\n', /line 1 is not calc_time,funding_interval_hours,last_funding_rate/],
    ['text in a number', '1704067200000,8,abc\n', /line 1/],
    ['rows out of order', '1704096000000,8,0.1\n1704067200000,8,0.1\n', /not after the previous calc_time/],
    ['a fractional interval', '1704067200000,7.5,0.1\n', /funding_interval_hours 7.5/],
  ])('refuses %s by name (so nothing of the file is cached)', (_what, text, message) => {
    expect(() => parseFundingCsv(text, 'vision: BTCUSDT-fundingRate-2024-01.zip')).toThrow(DataValidationError);
    expect(() => parseFundingCsv(text, 'vision: BTCUSDT-fundingRate-2024-01.zip')).toThrow(message);
  });

  it('names the monthly file as Vision does', () => {
    expect(fundingVisionUrl('https://data.binance.vision/', { market: 'um', symbol: 'BTCUSDT' }, t('2024-01-01')).zipUrl)
      .toBe('https://data.binance.vision/data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-01.zip');
  });
});

describe('parseFundingRestBody', () => {
  it('maps fundingTime, fundingRate and markPrice; an empty markPrice is NaN', () => {
    const body = JSON.stringify([
      { symbol: 'BTCUSDT', fundingRate: '-0.03750000', fundingTime: 1570608000000, markPrice: '34287.54619963' },
      { symbol: 'BTCUSDT', fundingRate: '0.00010000', fundingTime: 1570636800000, markPrice: '' },
    ]);
    expect(fundingRowsFromColumns(parseFundingRestBody(body, 'REST'))).toEqual([
      { calc_time: 1570608000000, funding_interval_hours: Number.NaN, last_funding_rate: -0.0375, mark_price: 34287.54619963 },
      { calc_time: 1570636800000, funding_interval_hours: Number.NaN, last_funding_rate: 0.0001, mark_price: Number.NaN },
    ]);
  });

  it('refuses a body that is not a funding-rate array, or an event without a time or rate', () => {
    expect(() => parseFundingRestBody('{"code":-1121,"msg":"Invalid symbol."}', 'REST /fapi/v1/fundingRate')).toThrow(/not a funding-rate array/);
    expect(() => parseFundingRestBody('[{"fundingRate":"0.1"}]', 'REST')).toThrow(/non-integer calc_time/);
    expect(() => parseFundingRestBody('[{"fundingTime":1570608000000}]', 'REST')).toThrow(/non-numeric last_funding_rate/);
  });
});

describe('funding rows', () => {
  const vision: FundingRow = { calc_time: t('2024-01-01'), funding_interval_hours: 8, last_funding_rate: 0.0001, mark_price: Number.NaN };
  const rest: FundingRow = { calc_time: t('2024-01-01'), funding_interval_hours: Number.NaN, last_funding_rate: 0.0001, mark_price: 42000.5 };

  it('merge one event from both upstreams into one full row', () => {
    expect(fundingRowsFromColumns(mergeFunding([fundingColumnsFromRows([vision]), fundingColumnsFromRows([rest])])))
      .toEqual([{ ...vision, mark_price: 42000.5 }]);
  });

  it('round-trip through Parquet exactly, NaN included', async () => {
    const rows = [rest, { ...vision, calc_time: vision.calc_time + H8, last_funding_rate: -0.00012345 }];
    expect(fundingRowsFromColumns(await decodeFundingColumns(encodeFundingColumns(fundingColumnsFromRows(rows))))).toEqual(rows);
    expect(fundingRowsFromColumns(await decodeFundingColumns(encodeFundingColumns(fundingColumnsFromRows([]))))).toEqual([]);
  });
});

describe('planFundingFetches', () => {
  const now = t('2024-02-04T12:00:00Z');
  const range = { startMs: t('2023-12-15'), endMs: t('2024-03-01') };

  it('plans published months from Vision and the rest from REST, clipped to now', () => {
    const plan = planFundingFetches({ range, covered: [], nowMs: now, source: 'auto' });
    expect(plan.requested).toEqual({ startMs: range.startMs, endMs: now + 1 });
    expect(plan.fetches).toEqual([
      { kind: 'vision-monthly', monthStartMs: t('2023-12-01'), range: { startMs: t('2023-12-01'), endMs: t('2024-01-01') }, need: [{ startMs: t('2023-12-15'), endMs: t('2024-01-01') }] },
      { kind: 'vision-monthly', monthStartMs: t('2024-01-01'), range: { startMs: t('2024-01-01'), endMs: t('2024-02-01') }, need: [{ startMs: t('2024-01-01'), endMs: t('2024-02-01') }] },
      { kind: 'rest', range: { startMs: t('2024-02-01'), endMs: now + 1 } },
    ]);
  });

  it('plans nothing for what is covered, REST only with source rest, Vision only with source vision', () => {
    const covered = [{ startMs: t('2023-12-01'), endMs: t('2024-02-02') }];
    expect(planFundingFetches({ range, covered, nowMs: now, source: 'auto' }).fetches).toEqual([{ kind: 'rest', range: { startMs: t('2024-02-02'), endMs: now + 1 } }]);
    expect(planFundingFetches({ range, covered: [], nowMs: now, source: 'rest' }).fetches).toEqual([{ kind: 'rest', range: { startMs: range.startMs, endMs: now + 1 } }]);
    expect(planFundingFetches({ range, covered, nowMs: now, source: 'vision' }).fetches.map((f) => f.kind)).toEqual(['vision-monthly']);
    expect(planFundingFetches({ range: { startMs: now + 1, endMs: now + H8 }, covered: [], nowMs: now, source: 'auto' }).fetches).toEqual([]);
  });
});
