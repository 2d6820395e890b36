/**
 * encodeKlines/decodeKlines: exact round trips of real Binance rows (read in place from
 * ../shared/data/binance-real, see SOURCES.md) and of generated extremes, and the file schema
 * other Parquet readers see.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parquetMetadata } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { DataValidationError } from '../../lib/domain/errors.ts';
import { KLINE_COLUMNS, type Kline } from '../../lib/domain/kline.ts';
import { parseVisionCsv } from '../../lib/sources/vision-csv.ts';
import { decodeKlines, encodeKlines } from '../../lib/store/parquet-codec.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const realCsv = path.resolve(repoRoot, '../shared/data/binance-real/csv');
const readReal = (relative: string): Kline[] => parseVisionCsv(readFileSync(path.join(realCsv, relative), 'utf8'), relative);

const SPOT_1H_2020_12 = 'spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-12.csv';
const SPOT_1H_2018_02 = 'spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2018-02.csv';
const SPOT_1M_2025_US = 'spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-07-13.csv';
const UM_5M_2022_04 = 'futures/um/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2022-04.csv';

describe('parquet codec on real rows', () => {
  it.each([SPOT_1H_2020_12, SPOT_1H_2018_02, SPOT_1M_2025_US, UM_5M_2022_04])('round-trips %s exactly', async (file) => {
    const rows = readReal(file);
    expect(rows.length).toBeGreaterThan(0);
    expect(await decodeKlines(encodeKlines(rows))).toEqual(rows);
  });

  it('keeps the 2020-12-21 14:00 maintenance candle whose close_time is before its open_time', async () => {
    const decoded = await decodeKlines(encodeKlines(readReal(SPOT_1H_2020_12)));
    const candle = decoded.find((row) => row.open_time === Date.UTC(2020, 11, 21, 14));
    // SOURCES.md: closes at 13:47:20.521, volume 0, count 0.
    expect(candle).toEqual({
      open_time: 1_608_559_200_000, open: 22646.53, high: 22646.53, low: 22646.53, close: 22646.53, volume: 0,
      close_time: 1_608_558_440_521, quote_volume: 0, trades: 0, taker_buy_volume: 0, taker_buy_quote_volume: 0,
    });
  });

  it('keeps the 2025 spot rows (µs in the file, ms after parsing) and their odd close times', async () => {
    const decoded = await decodeKlines(encodeKlines(readReal(SPOT_1M_2025_US)));
    expect(decoded[0]).toMatchObject({ open_time: 1_752_364_800_000, close_time: 1_752_364_859_999, trades: 975, quote_volume: 92325.7304999 });
    expect(decoded).toHaveLength(1440);
  });

  it('writes the schema other readers see: KLINE_COLUMNS in order, times and trades INT64, the rest DOUBLE, one row group', () => {
    const bytes = encodeKlines(readReal(UM_5M_2022_04));
    const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(metadata.schema.slice(1).map((element) => [element.name, element.type, element.repetition_type])).toEqual(
      KLINE_COLUMNS.map((name) => [name, ['open_time', 'close_time', 'trades'].includes(name) ? 'INT64' : 'DOUBLE', 'REQUIRED']),
    );
    expect(Number(metadata.num_rows)).toBe(8640);
    expect(metadata.row_groups).toHaveLength(1);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('PAR1');
    expect(new TextDecoder().decode(bytes.subarray(bytes.byteLength - 4))).toBe('PAR1');
  });
});

describe('parquet codec edge cases', () => {
  it('round-trips zero rows', async () => {
    expect(await decodeKlines(encodeKlines([]))).toEqual([]);
  });

  it('round-trips any finite doubles and safe integers exactly', async () => {
    const safeInt = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
    const double = fc.double({ noNaN: true, noDefaultInfinity: true });
    const row = fc.record({
      open_time: safeInt, open: double, high: double, low: double, close: double, volume: double,
      close_time: safeInt, quote_volume: double, trades: safeInt, taker_buy_volume: double, taker_buy_quote_volume: double,
    });
    await fc.assert(fc.asyncProperty(fc.array(row, { maxLength: 300 }), async (rows) => {
      expect(await decodeKlines(encodeKlines(rows))).toEqual(rows);
    }), { numRuns: 60 });
  });

  it('refuses a non-integer time with DataValidationError naming the row', () => {
    const rows = readReal(SPOT_1H_2020_12).slice(0, 3);
    const bad = [rows[0]!, { ...rows[1]!, open_time: rows[1]!.open_time + 0.5 }, rows[2]!];
    expect(() => encodeKlines(bad)).toThrow(DataValidationError);
    expect(() => encodeKlines(bad)).toThrow(/row 1/);
  });

  it('refuses bytes that are not Parquet with DataValidationError', async () => {
    await expect(decodeKlines(new TextEncoder().encode('open_time,open\n1,2\n'))).rejects.toBeInstanceOf(DataValidationError);
  });
});
