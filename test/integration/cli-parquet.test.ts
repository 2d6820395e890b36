/**
 * `klines get --format parquet --out FILE` as a user runs it (the built bin in a child process,
 * against the fake Binance serving the real files): the answer streams into the file row group
 * by row group (lib/store/parquet-stream.ts), which DuckDB and hyparquet read exactly; an empty
 * answer is a readable file of no rows; a failure midway, Ctrl-C or a kill leaves no file (and an
 * earlier file at FILE as it was), nor a temporary one.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KLINE_COLUMNS } from '../../lib/domain/kline.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { hyparquetColumns, metadataOf } from '../helpers/parquet-pages.ts';
import { runKlines } from '../helpers/run-klines.ts';

const NOW = '2020-12-15T10:30:00Z';
const t = (iso: string): number => Date.parse(iso);

let fake: FakeBinance;
let dir: string;

const klines = (args: string[]) => runKlines(fake, NOW, { KLINES_CACHE_DIR: join(dir, 'cache') }, args);

beforeAll(async () => {
  fake = await startFakeBinance({ nowMs: t(NOW) });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'klines-cli-parquet-'));
  fake.clearFaults();
  return () => rm(dir, { recursive: true, force: true });
});

/** The file's rows as DuckDB reads them, times as epoch ms, as row objects keyed like expectedKlines. */
async function duckdbRows(file: string): Promise<Record<string, number>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const select = KLINE_COLUMNS.map((name) => (name.endsWith('_time') ? `epoch_ms(${name}) AS ${name}` : name)).join(', ');
    const rows = (await connection.runAndReadAll(`SELECT ${select} FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`)).getRowObjectsJS();
    return rows.map((row) => Object.fromEntries(KLINE_COLUMNS.map((name) => [name, Number(row[name])])));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('klines get --format parquet', () => {
  it('writes the whole real history (~29,000 rows, 41 months) that DuckDB and hyparquet read exactly', async () => {
    const out = join(dir, 'history.parquet');
    const run = await klines(['get', 'BTCUSDT', '1h', '--start', '2017-08-01', '--end', '2020-12-15T09:00:00Z', '--format', 'parquet', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const expected = expectedKlines('spot', 'BTCUSDT', '1h', t('2017-08-01'), t('2020-12-15T09:00:00Z'));
    expect(expected.length).toBeGreaterThan(25_000);
    expect(await duckdbRows(out)).toEqual(expected);
    const bytes = new Uint8Array(await readFile(out));
    const columns = await hyparquetColumns(bytes);
    expect(Array.from(columns.open_time)).toEqual(expected.map((row) => row.open_time));
    expect(Array.from(columns.taker_buy_quote_volume)).toEqual(expected.map((row) => row.taker_buy_quote_volume));
    expect(metadataOf(bytes).row_groups.length).toBeGreaterThanOrEqual(1);
    expect((await readdir(dir)).sort()).toEqual(['cache', 'history.parquet']);
  });

  it('writes an empty answer (before the market opened) as a file of the schema with no rows', async () => {
    const out = join(dir, 'empty.parquet');
    const run = await klines(['get', 'BTCUSDT', '1h', '--start', '2017-08-01', '--end', '2017-08-10', '--format', 'parquet', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(expectedKlines('spot', 'BTCUSDT', '1h', t('2017-08-01'), t('2017-08-10'))).toEqual([]);
    expect(await duckdbRows(out)).toEqual([]);
    expect(metadataOf(new Uint8Array(await readFile(out))).schema.slice(1).map((element) => element.name)).toEqual([...KLINE_COLUMNS]);
  });

  it('a failure midway exits 1, leaves an earlier file at --out as it was and no temporary file', async () => {
    const out = join(dir, 'answer.parquet');
    await writeFile(out, 'an earlier answer');
    // May 2019 can come neither from Vision (monthly or daily files) nor from REST.
    const restricted = { kind: 'status', status: 451, body: '{"code":0,"msg":"Service unavailable from a restricted location"}' } as const;
    fake.inject('BTCUSDT-1h-2019-05', restricted, 100);
    fake.inject('/api/v3/klines', restricted, 100);
    const run = await klines(['get', 'BTCUSDT', '1h', '--start', '2018-01-01', '--end', '2020-12-15T09:00:00Z', '--format', 'parquet', '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/UPSTREAM_RESTRICTED/);
    expect(await readFile(out, 'utf8')).toBe('an earlier answer');
    expect((await readdir(dir)).sort()).toEqual(['answer.parquet', 'cache']);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} midway (Ctrl-C, a kill) ends the process by that signal and leaves an earlier file as it was and no temporary file`, async () => {
      const out = join(dir, 'answer.parquet');
      await writeFile(out, 'an earlier answer');
      fake.inject('BTCUSDT-1h-2020-0', { kind: 'delay', ms: 30_000 }, 20); // the first months hang
      const child = spawn(process.execPath, [resolve(import.meta.dirname, '../../bin/klines.mjs'), 'get', 'BTCUSDT', '1h', '--start', '2020-01-01', '--end', '2020-06-30', '--format', 'parquet', '--out', out], {
        env: {
          PATH: process.env.PATH, KLINES_CACHE_DIR: join(dir, 'cache'), KLINES_NOW: NOW, BINANCE_VISION_URL: fake.visionUrl,
          BINANCE_SPOT_API_URL: fake.spotApiUrl, BINANCE_UM_API_URL: fake.umApiUrl, BINANCE_CM_API_URL: fake.cmApiUrl,
        },
        stdio: 'ignore',
      });
      const exited = once(child, 'exit');
      // Wait until the answer is being written (its temporary file exists), then interrupt.
      const deadline = Date.now() + 15_000;
      while (!(await readdir(dir)).some((name) => name.endsWith('.partial'))) {
        if (Date.now() > deadline) throw new Error('klines get never started writing its temporary file');
        await new Promise((done) => setTimeout(done, 25));
      }
      child.kill(signal);
      const [code, endedBy] = await exited;
      expect({ code, endedBy }).toEqual({ code: null, endedBy: signal });
      expect(await readFile(out, 'utf8')).toBe('an earlier answer');
      // (the cache folder exists or not, by how far the fill got)
      expect((await readdir(dir)).filter((name) => name !== 'cache')).toEqual(['answer.parquet']);
    });
  }
});
