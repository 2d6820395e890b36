/**
 * Files already in users' caches: the first release wrote every column as one PLAIN,
 * UNCOMPRESSED page with no logical types (test/fixtures/parquet, written by that release's
 * encoder from real rows). They must keep decoding exactly through the fast reader, with no
 * migration step; a damaged ZSTD page of today's layout must fail loudly, never decode to other
 * numbers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataValidationError } from '../../lib/domain/errors.ts';
import { KLINE_COLUMNS } from '../../lib/domain/kline.ts';
import { columnsFromRows, type KlineColumns } from '../../lib/domain/kline-columns.ts';
import { parseVisionCsv } from '../../lib/sources/vision-csv.ts';
import { decodeKlineColumns, encodeKlines, isFastReadableKlinesFile } from '../../lib/store/parquet-codec.ts';
import { hyparquetColumns, metadataOf, pageOf, type NumberColumns } from '../helpers/parquet-pages.ts';
import { realDataDir } from '../helpers/real-data.ts';

const fixtures = path.join(realDataDir(), '../parquet');
const readReal = (relative: string) => parseVisionCsv(readFileSync(path.join(realDataDir(), 'csv', relative), 'utf8'), relative);

function expectSameNumbers(actual: KlineColumns, expected: NumberColumns): void {
  for (const name of KLINE_COLUMNS) {
    const a = Array.from(actual[name]);
    const bad = a.findIndex((value, i) => !Object.is(value, expected[name][i]));
    expect(a.length, name).toBe(expected[name].length);
    expect(bad === -1 ? 'same' : `row ${bad}: ${a[bad]} vs ${expected[name][bad]}`, name).toBe('same');
  }
}

describe('cache files of the first release (PLAIN, UNCOMPRESSED)', () => {
  it.each([
    ['v1-plain-spot-BTCUSDT-1h-2020-12.parquet', 'spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-12.csv'],
    ['v1-plain-spot-BTCUSDT-1m-2025-07-13.parquet', 'spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-07-13.csv'],
  ])('%s decodes through the fast reader to the real rows it was written from', async (file, csv) => {
    const bytes = new Uint8Array(readFileSync(path.join(fixtures, file)));
    const metadata = metadataOf(bytes);
    // The fixture really is the old layout: no codec, no logical type, PLAIN only.
    expect(metadata.created_by).toBe('klines-cache');
    for (const chunk of metadata.row_groups[0]!.columns) {
      expect(chunk.meta_data!.codec).toBe('UNCOMPRESSED');
      expect(chunk.meta_data!.encodings).toEqual(['PLAIN', 'RLE']);
    }
    expect(metadata.schema.every((element) => element.logical_type === undefined)).toBe(true);
    expect(isFastReadableKlinesFile(metadata)).toBe(true);
    const columns = await decodeKlineColumns(bytes);
    expectSameNumbers(columns, columnsFromRows(readReal(csv)));
    expectSameNumbers(columns, await hyparquetColumns(bytes));
  });
});

describe('damaged files of the current layout', () => {
  const rows = readReal('spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-12.csv');

  it.each(KLINE_COLUMNS.map((name, column) => [name, column] as const))('a flipped byte in the %s page is a DataValidationError', async (_, column) => {
    const bytes = encodeKlines(rows);
    const page = pageOf(bytes, metadataOf(bytes), column);
    // Flip a byte in the middle of the compressed values (after the frame header).
    const at = page.headerEnd + Math.floor(page.compressedSize / 2);
    bytes[at] = bytes[at]! ^ 0x5a;
    await expect(decodeKlineColumns(bytes)).rejects.toBeInstanceOf(DataValidationError);
  });

  it('a file cut short is a DataValidationError', async () => {
    const bytes = encodeKlines(rows);
    await expect(decodeKlineColumns(bytes.subarray(0, bytes.byteLength - 100))).rejects.toBeInstanceOf(DataValidationError);
  });
});
