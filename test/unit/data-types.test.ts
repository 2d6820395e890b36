/**
 * The series level of ids, keys, URLs and requests (issue 10, item 5): klines ids and keys stay
 * byte-identical, the other series sit beside them under Vision's names, spot refuses them, and
 * the synthetic mark-price files parse with and without their header.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parseDataType, parseKlineDataType, restInstrumentParam, restKlinesPath } from '../../lib/domain/data-types.ts';
import { DataValidationError, InvalidInputError } from '../../lib/domain/errors.ts';
import { datasetId, datasetOf } from '../../lib/domain/kline.ts';
import { canonicalKey, periodOf } from '../../lib/domain/periods.ts';
import { parseCacheObjectKey, parseDatasetId } from '../../lib/service/cache-layout.ts';
import { parseDatasetFilter } from '../../lib/service/datasets.ts';
import { resolveQuery } from '../../lib/service/request.ts';
import { parseVisionCsvColumns } from '../../lib/sources/vision-csv.ts';
import { visionFileUrl } from '../../lib/sources/vision-url.ts';
import { decodeQueueMessage, encodeFillMessage, encodeRefreshMessage } from '../../functions/shared/refresh-message.ts';
import { thrown } from '../helpers/thrown.ts';
import { realDataDir } from '../helpers/real-data.ts';

const NOW = Date.parse('2024-03-01T00:00:00Z');
const jan = periodOf(Date.parse('2024-01-01'), 'monthly');

describe('ids and keys', () => {
  it('keep klines ids and object keys as before, and put the other series at the same level', () => {
    const klines = datasetOf('um', 'BTCUSDT', '1h');
    expect(klines).toEqual({ market: 'um', symbol: 'BTCUSDT', interval: '1h' });
    expect(datasetId(klines)).toBe('binance/um/klines/BTCUSDT/1h');
    expect(canonicalKey(klines, jan)).toBe('binance/um/klines/monthly/BTCUSDT/1h/2024-01.parquet');
    const mark = datasetOf('um', 'BTCUSDT', '1h', 'markPriceKlines');
    expect(datasetId(mark)).toBe('binance/um/markPriceKlines/BTCUSDT/1h');
    expect(canonicalKey(mark, jan)).toBe('binance/um/markPriceKlines/monthly/BTCUSDT/1h/2024-01.parquet');
    expect(parseDatasetId('binance/um/markPriceKlines/BTCUSDT/1h')).toEqual(mark);
    expect(parseDatasetId('binance/um/klines/BTCUSDT/1h')).toEqual(klines);
    expect(parseCacheObjectKey('binance/cm/premiumIndexKlines/monthly/BTCUSD_PERP/1h/2024-01.parquet'))
      .toEqual({ datasetId: 'binance/cm/premiumIndexKlines/BTCUSD_PERP/1h', period: '2024-01', kind: 'canonical' });
    expect(parseCacheObjectKey('binance/um/fundingRate/monthly/BTCUSDT/2024-01.parquet'))
      .toEqual({ datasetId: 'binance/um/fundingRate/BTCUSDT', period: '2024-01', kind: 'canonical' });
    expect(parseCacheObjectKey('binance/um/fundingRate/monthly/BTCUSDT/2024-01.parts/0001705312800123-9f2c4e1a7b3d.parquet'))
      .toEqual({ datasetId: 'binance/um/fundingRate/BTCUSDT', period: '2024-01', kind: 'part', createdAtMs: 1705312800123 });
    expect(parseCacheObjectKey('binance/spot/fundingRate/monthly/BTCUSDT/2024-01.parquet')).toBeUndefined();
    expect(() => parseDatasetId('binance/um/trades/BTCUSDT/1h')).toThrow(InvalidInputError);
    expect(() => parseDatasetId('binance/spot/markPriceKlines/BTCUSDT/1h')).toThrow(/um and cm only/);
  });

  it('name the Vision file and REST endpoint of each series (index price takes pair=)', () => {
    const request = { dataset: datasetOf('um', 'BTCUSDT', '1m', 'markPriceKlines'), kind: 'daily' as const, periodStartMs: Date.parse('2024-01-01') };
    // The path of the real recorded sidecar (SOURCES.md, checksum-only/).
    expect(visionFileUrl('https://data.binance.vision', request).zipUrl)
      .toBe('https://data.binance.vision/data/futures/um/daily/markPriceKlines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip');
    expect(restKlinesPath('um', 'indexPriceKlines')).toBe('/fapi/v1/indexPriceKlines');
    expect(restKlinesPath('cm', 'premiumIndexKlines')).toBe('/dapi/v1/premiumIndexKlines');
    expect(restKlinesPath('spot', 'klines')).toBe('/api/v3/klines');
    expect(restInstrumentParam('indexPriceKlines', 'BTCUSD_PERP')).toEqual({ name: 'pair', value: 'BTCUSD' });
    expect(restInstrumentParam('markPriceKlines', 'BTCUSD_PERP')).toEqual({ name: 'symbol', value: 'BTCUSD_PERP' });
  });

  it('carry the data type through refresh and fill messages (klines messages keep their shape)', () => {
    const range = { startMs: Date.parse('2024-01-01'), endMs: Date.parse('2024-01-02') };
    expect(JSON.parse(encodeFillMessage(datasetOf('um', 'BTCUSDT', '1h'), range))).not.toHaveProperty('dataType');
    const mark = datasetOf('um', 'BTCUSDT', '1h', 'markPriceKlines');
    expect(decodeQueueMessage(encodeFillMessage(mark, range))).toEqual({ kind: 'fill', dataset: mark, range });
    const funding = { funding: { market: 'um' as const, symbol: 'BTCUSDT' }, sinceMs: range.startMs };
    expect(JSON.parse(encodeRefreshMessage(funding))).toEqual({ market: 'um', symbol: 'BTCUSDT', dataType: 'fundingRate', sinceMs: range.startMs });
    expect(decodeQueueMessage(encodeRefreshMessage(funding))).toEqual({ kind: 'refresh', entry: funding });
    expect(() => decodeQueueMessage('{"market":"um","symbol":"BTCUSDT","interval":"8h","dataType":"fundingRate"}')).toThrow(/no interval/);
    expect(() => decodeQueueMessage('{"market":"um","symbol":"BTCUSDT","dataType":"markPriceKlines"}')).toThrow(/interval: required/);
  });
});

describe('spot and unknown series', () => {
  it('are refused with what is accepted', () => {
    const error = thrown(() => resolveQuery({ market: 'spot', symbol: 'BTCUSDT', interval: '1h', start: '2024-01-01', dataType: 'markPriceKlines' }, NOW));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe('data type: markPriceKlines exists on um and cm only, not on spot; on spot use klines');
    expect(() => parseDataType('fundingRate', 'spot')).toThrow(/um and cm only/);
    expect(() => parseDataType('markPrice', 'um')).toThrow('data type: "markPrice" is not a series; use one of klines, markPriceKlines, indexPriceKlines, premiumIndexKlines, fundingRate');
    expect(() => parseKlineDataType('fundingRate', 'um')).toThrow(/events, not candles/);
    expect(() => parseDatasetFilter({ market: 'spot', dataType: 'indexPriceKlines' })).toThrow(/um and cm only/);
    expect(resolveQuery({ market: 'um', symbol: 'BTCUSDT', interval: '1h', start: '2024-01-01', dataType: 'premiumIndexKlines' }, NOW).dataset)
      .toEqual(datasetOf('um', 'BTCUSDT', '1h', 'premiumIndexKlines'));
  });
});

describe('mark-price files', () => {
  const csvOf = (file: string): string => strFromU8(Object.values(unzipSync(readFileSync(join(realDataDir(), 'synthetic/vision/data/futures/um/monthly/markPriceKlines/BTCUSDT/1h', file))))[0]!);

  it('parse with a header (2024) and without one (before 2022-12), volume fields 0 as published', () => {
    const withHeader = csvOf('BTCUSDT-1h-2024-01.zip');
    const withoutHeader = csvOf('BTCUSDT-1h-2022-11.zip');
    expect(withHeader.startsWith('open_time,')).toBe(true);
    expect(/^\d/.test(withoutHeader)).toBe(true);
    const a = parseVisionCsvColumns(withHeader, 'jan');
    const b = parseVisionCsvColumns(withoutHeader, 'nov');
    expect(a.length).toBe(744);
    expect(b.length).toBe(720);
    expect(a.open_time[0]).toBe(Date.parse('2024-01-01'));
    expect(b.open_time[0]).toBe(Date.parse('2022-11-01'));
    expect([...a.volume].every((v) => v === 0) && [...a.trades].every((n) => n === 3600)).toBe(true);
  });

  it('refuse a bad row by name, so nothing of the file is cached', () => {
    const lines = csvOf('BTCUSDT-1h-2024-01.zip').split('\n');
    lines[3] = lines[3]!.replace(/^(\d+),[^,]+/, '$1,abc');
    expect(() => parseVisionCsvColumns(lines.join('\n'), 'bad mark file')).toThrow(DataValidationError);
    expect(() => parseVisionCsvColumns(lines.join('\n'), 'bad mark file')).toThrow(/bad mark file/);
  });
});
