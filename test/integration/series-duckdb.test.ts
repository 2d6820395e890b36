/**
 * Issue 10, item 6: the README's DuckDB query of each series reads every row once, compacted
 * periods and open parts together, and gives the values the service answers. The cache is filled
 * here as the README's "Other series" commands fill `.cache/replay` (same clock, same ranges).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { createCacheHandles, createServiceFromConfig } from '../../lib/create-service.ts';
import { fundingRowsFromColumns } from '../../lib/domain/funding-rate.ts';
import { datasetOf, type Kline } from '../../lib/domain/kline.ts';
import { buildFundingService } from '../../lib/open-funding.ts';
import { parquetGlobs, parseReadmeBlocks } from '../../scripts/readme-blocks.ts';
import { checkSqlRows } from '../../scripts/readme-sql.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';

const NOW = '2024-02-04T12:00:00Z';
const t = (iso: string): number => Date.parse(iso);
const SERIES = ['markPriceKlines', 'indexPriceKlines', 'premiumIndexKlines', 'fundingRate'] as const;
const blocks = parseReadmeBlocks(readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8'))
  .filter((b) => b.language === 'sql' && b.parquetRows);
const blockOf = (series: string) => {
  const found = blocks.filter((b) => parquetGlobs(b.code).some((glob) => glob.includes(`/${series}/`)));
  expect(found).toHaveLength(1);
  return found[0]!;
};

let fake: FakeBinance;
let cacheDir: string;
const answers = new Map<string, Kline[]>();
let funding: ReturnType<typeof fundingRowsFromColumns> = [];

/** The block's rows as DuckDB returns them, its globs under the cache, times as epoch ms. */
async function runBlock(code: string): Promise<Record<string, unknown>[]> {
  const sql = parquetGlobs(code).reduce((text, glob) => text.replaceAll(`'${glob}'`, `'${join(cacheDir, glob)}'`), code).trim().replace(/;$/, '');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const key = code.includes('calc_time') ? 'calc_time' : 'open_time';
    return (await connection.runAndReadAll(`SELECT * REPLACE (epoch_ms(${key}) AS ${key}) FROM (${sql})`)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

beforeAll(async () => {
  fake = await startFakeBinance({ nowMs: t(NOW) });
  cacheDir = await mkdtemp(join(tmpdir(), 'klines-series-duckdb-'));
  const config = loadConfig({ KLINES_CACHE_DIR: cacheDir, KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl, BINANCE_UM_API_URL: fake.umApiUrl });
  const handles = createCacheHandles(config);
  const service = createServiceFromConfig(config, handles);
  const mark = await service.getKlines({ dataset: datasetOf('um', 'BTCUSDT', '1h', 'markPriceKlines'), range: { startMs: t('2024-01-01'), endMs: t('2024-02-04T11:00:00Z') + 1 } });
  answers.set('markPriceKlines', mark.rows);
  for (const series of ['indexPriceKlines', 'premiumIndexKlines'] as const) {
    answers.set(series, (await service.getKlines({ dataset: datasetOf('um', 'BTCUSDT', '1h', series), range: { startMs: t('2024-02-01'), endMs: t('2024-02-03') } })).rows);
  }
  funding = fundingRowsFromColumns((await buildFundingService(config, handles).getFundingRates({ dataset: { market: 'um', symbol: 'BTCUSDT' }, range: { startMs: t('2023-12-01'), endMs: t(NOW) + 1 } })).columns);
});
afterAll(async () => {
  await fake?.close();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

describe('the README DuckDB query of each series', () => {
  it.each(SERIES)('%s: reads every row once, as many as the directive says and the service answered', async (series) => {
    const block = blockOf(series);
    const { rows, key } = block.parquetRows!;
    expect(rows).toBe(series === 'fundingRate' ? funding.length : answers.get(series)!.length);
    expect(await checkSqlRows(block.code, cacheDir, rows, key)).toBeUndefined();
  });

  it('markPriceKlines: the values are the service answer, compacted January and February parts together', async () => {
    const rows = await runBlock(blockOf('markPriceKlines').code);
    expect(rows.map((r) => [Number(r.open_time), r.open, r.high, r.low, r.close, r.volume, Number(r.trades)]))
      .toEqual(answers.get('markPriceKlines')!.map((k) => [k.open_time, k.open, k.high, k.low, k.close, k.volume, k.trades]));
  });

  it('fundingRate: the values are the service answer, NaN read as NULL', async () => {
    const rows = await runBlock(blockOf('fundingRate').code);
    const nullable = (value: number): number | null => (Number.isNaN(value) ? null : value);
    expect(rows.map((r) => [Number(r.calc_time), r.funding_interval_hours, r.last_funding_rate, r.mark_price]))
      .toEqual(funding.map((f) => [f.calc_time, nullable(f.funding_interval_hours), f.last_funding_rate, nullable(f.mark_price)]));
  });
});
