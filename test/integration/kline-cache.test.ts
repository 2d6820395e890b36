/**
 * The kline cache on the fs store and index, with real spot BTCUSDT 1h rows (read in place from
 * test/fixtures/binance, see SOURCES.md): append and read, coverage without rows, parts,
 * compaction, reads racing compaction, and two real processes writing the same period.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataValidationError, StoreError } from '../../lib/domain/errors.ts';
import { datasetId, type Dataset, type Kline } from '../../lib/domain/kline.ts';
import { canonicalKey, datasetFolder, periodOf, type Period } from '../../lib/domain/periods.ts';
import type { Range } from '../../lib/domain/ranges.ts';
import { columnsFromRows } from '../../lib/domain/kline-columns.ts';
import { parseVisionCsv } from '../../lib/sources/vision-csv.ts';
import { decodeKlines } from '../../lib/store/parquet-codec.ts';
import { createFsCoverageIndex } from '../../lib/store/fs-coverage-index.ts';
import { createFsObjectStore } from '../../lib/store/fs-object-store.ts';
import { createKlineCache, MAX_OPEN_PARTS, type KlineCache } from '../../lib/store/kline-cache.ts';
import type { CoverageIndex, ObjectStore } from '../../lib/store/types.ts';
import type { WorkerJob } from '../helpers/cache-append-worker.ts';
import { realDataDir } from '../helpers/real-data.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const csvDir = path.join(realDataDir(), 'csv/spot/monthly/klines/BTCUSDT/1h');
const csvFile = (month: string): string => path.join(csvDir, `BTCUSDT-1h-${month}.csv`);
const readMonth = (month: string): Kline[] => parseVisionCsv(readFileSync(csvFile(month), 'utf8'), month);

const dataset: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1h' };
const DEC: Period = periodOf(Date.UTC(2020, 11, 1), 'monthly');
const NOV: Period = periodOf(Date.UTC(2020, 10, 1), 'monthly');
const decRows = readMonth('2020-12');
const novRows = readMonth('2020-11');
const inRange = (rows: readonly Kline[], r: Range): Kline[] => rows.filter((row) => row.open_time >= r.startMs && row.open_time < r.endMs);
const DAY = 86_400_000;
/** Appends row objects through the cache's columnar append. */
const appendRows = (cache: KlineCache, set: Dataset, rows: readonly Kline[], answered: readonly Range[], sources: readonly ('vision' | 'rest')[]): Promise<void> =>
  cache.appendColumns(set, columnsFromRows(rows), answered, sources);

describe('kline cache (fs)', () => {
  let root: string;
  let store: ObjectStore;
  let index: CoverageIndex;
  let cache: KlineCache;
  const partKeys = async (): Promise<string[]> => (await store.list(`${datasetFolder(dataset, 'monthly')}/`)).filter((k) => k.includes('.parts/'));

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'klines-cache-'));
    store = createFsObjectStore(root);
    index = createFsCoverageIndex(root);
    cache = createKlineCache({ store, index });
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('reads back exactly the rows appended, and only those in the asked range', async () => {
    await appendRows(cache, dataset, decRows, [DEC.range], ['vision']);
    const records = await cache.readCoverage(dataset, DEC.range);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ datasetId: datasetId(dataset), period: '2020-12', granularity: 'monthly', covered: [DEC.range], version: 1 });
    // A whole period goes straight to its canonical object (issue 9): no part.
    expect(records[0]!.parts).toHaveLength(0);
    expect(records[0]!.canonical).toMatchObject({ key: canonicalKey(dataset, DEC), rows: 740, sources: ['vision'] });
    expect(await cache.readRows(dataset, records, DEC.range)).toEqual(decRows);
    const week: Range = { startMs: Date.UTC(2020, 11, 20), endMs: Date.UTC(2020, 11, 27) };
    const weekRows = await cache.readRows(dataset, records, week);
    expect(weekRows).toEqual(inRange(decRows, week));
    // Real outage holes (SOURCES.md): 2020-12-21 15:00–17:00 and 2020-12-25 02:00 are absent.
    expect(weekRows).toHaveLength(7 * 24 - 4);
  });

  it('writes a whole period straight to its canonical object, which compaction then leaves alone', async () => {
    await appendRows(cache, dataset, decRows, [DEC.range], ['vision']);
    const canonical = await store.get(canonicalKey(dataset, DEC));
    expect(await store.list('binance/')).toEqual([canonicalKey(dataset, DEC)]);
    await cache.compact(dataset, [DEC], DEC.range.endMs);
    const [record] = await cache.readCoverage(dataset, DEC.range);
    expect(record).toMatchObject({ version: 1, parts: [], covered: [DEC.range] });
    expect(await store.get(canonicalKey(dataset, DEC))).toEqual(canonical);
    expect(await decodeKlines(canonical!)).toEqual(decRows);
  });

  it('appends a whole period as a part when the period already holds an object', async () => {
    const firstWeek: Range = { startMs: DEC.range.startMs, endMs: DEC.range.startMs + 7 * DAY };
    await appendRows(cache, dataset, inRange(decRows, firstWeek), [firstWeek], ['rest']);
    await appendRows(cache, dataset, decRows, [DEC.range], ['vision']);
    const [record] = await cache.readCoverage(dataset, DEC.range);
    expect(record!.canonical).toBeUndefined();
    expect(record!.parts.map((p) => p.rows)).toEqual([inRange(decRows, firstWeek).length, 740]);
    expect(await cache.readRows(dataset, [record!], DEC.range)).toEqual(decRows);
  });

  it('splits an append across periods: one record and one part per period', async () => {
    const answered = { startMs: Date.UTC(2020, 10, 20), endMs: Date.UTC(2020, 11, 10) };
    const rows = inRange([...novRows, ...decRows], answered);
    await appendRows(cache, dataset, rows, [answered], ['rest']);
    const records = await cache.readCoverage(dataset, { startMs: NOV.range.startMs, endMs: DEC.range.endMs });
    expect(records.map((r) => [r.period, r.covered, r.parts.map((p) => p.rows)])).toEqual([
      ['2020-11', [{ startMs: answered.startMs, endMs: NOV.range.endMs }], [inRange(novRows, answered).length]],
      ['2020-12', [{ startMs: DEC.range.startMs, endMs: answered.endMs }], [inRange(decRows, answered).length]],
    ]);
    expect(await cache.readRows(dataset, records, answered)).toEqual(rows);
  });

  it('records coverage for a range answered with zero rows, without writing an object', async () => {
    const empty: Range = { startMs: Date.UTC(2020, 11, 21, 15), endMs: Date.UTC(2020, 11, 21, 18) };
    await appendRows(cache, dataset, [], [empty], ['rest']);
    const records = await cache.readCoverage(dataset, DEC.range);
    expect(records.map((r) => [r.covered, r.parts])).toEqual([[[empty], []]]);
    expect(await store.list('binance/')).toEqual([]);
    expect(await cache.readRows(dataset, records, DEC.range)).toEqual([]);
  });

  it('rejects rows outside the answered ranges and writes nothing', async () => {
    const firstWeek: Range = { startMs: DEC.range.startMs, endMs: DEC.range.startMs + 7 * DAY };
    await expect(appendRows(cache, dataset, inRange(decRows, { startMs: DEC.range.startMs, endMs: DEC.range.startMs + 8 * DAY }), [firstWeek], ['vision']))
      .rejects.toBeInstanceOf(DataValidationError);
    expect(await store.list('binance/')).toEqual([]);
    expect(await cache.readCoverage(dataset, DEC.range)).toEqual([]);
  });

  it('adds a part on a second append and reads both; the later part wins on a shared open_time', async () => {
    const firstHalf: Range = { startMs: DEC.range.startMs, endMs: DEC.range.startMs + 16 * DAY };
    const secondHalf: Range = { startMs: firstHalf.endMs - DAY, endMs: DEC.range.endMs };
    await appendRows(cache, dataset, inRange(decRows, firstHalf), [firstHalf], ['vision']);
    const revised = inRange(decRows, secondHalf).map((row, i) => (i === 0 ? { ...row, volume: row.volume + 1 } : row));
    await appendRows(cache, dataset, revised, [secondHalf], ['rest']);
    const records = await cache.readCoverage(dataset, DEC.range);
    expect(records[0]!.covered).toEqual([DEC.range]);
    expect(records[0]!.parts.map((p) => p.sources)).toEqual([['vision'], ['rest']]);
    expect(await partKeys()).toHaveLength(2);
    const rows = await cache.readRows(dataset, records, DEC.range);
    expect(rows).toHaveLength(decRows.length);
    expect(rows.find((r) => r.open_time === secondHalf.startMs)!.volume).toBe(revised[0]!.volume);
    expect(rows.filter((r) => r.open_time !== secondHalf.startMs)).toEqual(decRows.filter((r) => r.open_time !== secondHalf.startMs));
  });

  it('compacts a closed, fully covered period into its canonical file and removes the parts', async () => {
    const halves = splitRange(DEC.range, 2);
    for (const half of halves) await appendRows(cache, dataset, inRange(decRows, half), [half], ['vision']);
    await cache.compact(dataset, [DEC], DEC.range.endMs);
    const [record] = await cache.readCoverage(dataset, DEC.range);
    expect(record).toMatchObject({ parts: [], canonical: { key: canonicalKey(dataset, DEC), rows: 740, sources: ['vision'] }, covered: [DEC.range] });
    expect(await store.list('binance/')).toEqual([canonicalKey(dataset, DEC)]);
    expect(await decodeKlines((await store.get(canonicalKey(dataset, DEC)))!)).toEqual(decRows);
    expect(await cache.readRows(dataset, [record!], DEC.range)).toEqual(decRows);
  });

  it('leaves open or partly covered periods alone', async () => {
    const halves = splitRange(DEC.range, 2);
    await appendRows(cache, dataset, inRange(decRows, halves[0]!), [halves[0]!], ['vision']);
    await cache.compact(dataset, [DEC], DEC.range.endMs);
    await appendRows(cache, dataset, inRange(decRows, halves[1]!), [halves[1]!], ['vision']);
    await cache.compact(dataset, [DEC], DEC.range.endMs - 1);
    const [record] = await cache.readCoverage(dataset, DEC.range);
    expect(record!.canonical).toBeUndefined();
    expect(await partKeys()).toHaveLength(2);
  });

  it('merges the parts of an open period into one new part once there are more than MAX_OPEN_PARTS', async () => {
    const pieces = splitRange(DEC.range, MAX_OPEN_PARTS + 1).slice(0, MAX_OPEN_PARTS + 1);
    for (const piece of pieces) await appendRows(cache, dataset, inRange(decRows, piece), [piece], ['rest']);
    const before = await partKeys();
    expect(before).toHaveLength(pieces.length);
    await cache.compact(dataset, [DEC], DEC.range.startMs); // the period is still open
    const [record] = await cache.readCoverage(dataset, DEC.range);
    expect(record!.canonical).toBeUndefined();
    expect(record!.parts).toHaveLength(1);
    expect(await partKeys()).toEqual([record!.parts[0]!.key]);
    expect(before).not.toContain(record!.parts[0]!.key);
    expect(await cache.readRows(dataset, [record!], DEC.range)).toEqual(inRange(decRows, DEC.range));
  });

  it('merges later parts into an existing canonical file on the next compaction', async () => {
    const [a, b] = splitRange(DEC.range, 2);
    await appendRows(cache, dataset, inRange(decRows, a!), [a!, b!], ['vision']);
    await cache.compact(dataset, [DEC], DEC.range.endMs);
    await appendRows(cache, dataset, inRange(decRows, b!), [b!], ['rest']);
    await cache.compact(dataset, [DEC], DEC.range.endMs);
    const [record] = await cache.readCoverage(dataset, DEC.range);
    expect(record).toMatchObject({ parts: [], canonical: { rows: 740, sources: ['rest', 'vision'] } });
    expect(await cache.readRows(dataset, [record!], DEC.range)).toEqual(decRows);
  });

  it('never loses rows for readers holding records from before a compaction', async () => {
    for (const piece of splitRange(DEC.range, 4)) await appendRows(cache, dataset, inRange(decRows, piece), [piece], ['vision']);
    const stale = await cache.readCoverage(dataset, DEC.range);
    const during = Promise.all(Array.from({ length: 8 }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 3));
      return cache.readRows(dataset, stale, DEC.range);
    }));
    await cache.compact(dataset, [DEC], DEC.range.endMs);
    expect(await partKeys()).toEqual([]);
    for (const rows of await during) expect(rows).toEqual(decRows);
    expect(await cache.readRows(dataset, stale, DEC.range)).toEqual(decRows);
  });

  it('fails with StoreError naming the key when an object is gone and the index still names it', async () => {
    await appendRows(cache, dataset, decRows, [DEC.range], ['vision']);
    const records = await cache.readCoverage(dataset, DEC.range);
    const key = records[0]!.canonical!.key;
    await store.delete(key);
    const error = await cache.readRows(dataset, records, DEC.range).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain(key);
  });

  it('keeps both ranges and every row when two processes append to the same period at once', async () => {
    const chunks = splitRange(DEC.range, 10);
    const jobs = ['a', 'b'].map((name, w) => job(name, chunks.filter((_, i) => i % 2 === w)));
    const results = await runWorkers(jobs);
    expect(results.map((r) => [r.code, r.stdout.trim()])).toEqual([[0, 'done'], [0, 'done']]);
    const records = await cache.readCoverage(dataset, DEC.range);
    expect(records).toHaveLength(1);
    expect(records[0]!.covered).toEqual([DEC.range]);
    expect(records[0]!.parts).toHaveLength(10);
    expect(records[0]!.version).toBe(10);
    expect(await cache.readRows(dataset, records, DEC.range)).toEqual(decRows);
  });

  it('claims no coverage when a process is killed after writing the object, before the index update', async () => {
    // All of December but its last hour: a part (a whole period would go to the canonical key).
    const most: Range = { startMs: DEC.range.startMs, endMs: DEC.range.endMs - 3_600_000 };
    const [result] = await runWorkers([{ ...job('killed', [most]), killBeforeIndexPut: true }]);
    expect(result!.signal).toBe('SIGKILL');
    expect(await partKeys()).toHaveLength(1);
    expect(await cache.readCoverage(dataset, DEC.range)).toEqual([]);
    await appendRows(cache, dataset, inRange(decRows, most), [most], ['vision']);
    const records = await cache.readCoverage(dataset, DEC.range);
    expect(records[0]!.parts).toHaveLength(1);
    expect(await cache.readRows(dataset, records, most)).toEqual(inRange(decRows, most));
  });

  it('claims no coverage when a process is killed after writing a whole period\'s canonical object', async () => {
    const [result] = await runWorkers([{ ...job('killed', [DEC.range]), killBeforeIndexPut: true }]);
    expect(result!.signal).toBe('SIGKILL');
    expect(await store.list('binance/')).toEqual([canonicalKey(dataset, DEC)]);
    expect(await cache.readCoverage(dataset, DEC.range)).toEqual([]);
    await appendRows(cache, dataset, decRows, [DEC.range], ['vision']);
    const records = await cache.readCoverage(dataset, DEC.range);
    expect(records[0]!.canonical?.rows).toBe(740);
    expect(await cache.readRows(dataset, records, DEC.range)).toEqual(decRows);
  });

  function job(name: string, chunks: Range[]): WorkerJob {
    return { name, rootDir: root, syncDir: root, dataset, csvFile: csvFile('2020-12'), chunks };
  }
});

/** `range` cut into `n` contiguous pieces of whole hours. */
function splitRange(range: Range, n: number): Range[] {
  const hours = (range.endMs - range.startMs) / 3_600_000;
  return Array.from({ length: n }, (_, i) => ({
    startMs: range.startMs + Math.floor((hours * i) / n) * 3_600_000,
    endMs: range.startMs + Math.floor((hours * (i + 1)) / n) * 3_600_000,
  }));
}

interface WorkerResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Starts the workers, releases them together once all are ready, and waits for them all. */
async function runWorkers(jobs: readonly WorkerJob[]): Promise<WorkerResult[]> {
  const script = path.join(repoRoot, 'test/helpers/cache-append-worker.ts');
  const finished = jobs.map((j) => new Promise<WorkerResult>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(j)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  }));
  const syncDir = jobs[0]!.syncDir;
  const ready = (): boolean => jobs.every((j) => existsSync(path.join(syncDir, `ready-${j.name}`)));
  const settled = Promise.all(finished);
  let done = false;
  void settled.then(() => { done = true; });
  while (!ready() && !done) await new Promise((resolve) => setTimeout(resolve, 10));
  await writeFile(path.join(syncDir, 'go'), '');
  const results = await settled;
  for (const r of results) if (r.code !== 0 && r.signal === null) throw new Error(`worker failed: ${r.stderr}`);
  return results;
}
