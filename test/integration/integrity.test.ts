/**
 * `validateCache` / `repairCache` and the `klines validate|repair|stats` commands on the fs store,
 * over cache content built by the real kline cache from real spot BTCUSDT 1h rows (read in place
 * from test/fixtures/binance, see SOURCES.md): November 2020 compacted into its canonical
 * file, December 2020 as two parts.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { datasetId, type Dataset, type Kline } from '../../lib/domain/kline.ts';
import { canonicalKey, datasetFolder, partKey, periodOf, type Period } from '../../lib/domain/periods.ts';
import { validateCache, repairCache } from '../../lib/service/integrity.ts';
import { columnsFromRows } from '../../lib/domain/kline-columns.ts';
import type { Range } from '../../lib/domain/ranges.ts';
import { parseVisionCsv } from '../../lib/sources/vision-csv.ts';
import { createFsCoverageIndex } from '../../lib/store/fs-coverage-index.ts';
import { createFsObjectStore } from '../../lib/store/fs-object-store.ts';
import { createFsStatsStore } from '../../lib/store/fs-stats-store.ts';
import { createKlineCache, type KlineCache } from '../../lib/store/kline-cache.ts';
import { encodeKlines } from '../../lib/store/parquet-codec.ts';
import type { CoverageIndex, ObjectStore, PeriodRecord } from '../../lib/store/types.ts';
import { runRepair } from '../../cli/repair.ts';
import { runStats } from '../../cli/stats.ts';
import { runValidate } from '../../cli/validate.ts';
import { realDataDir } from '../helpers/real-data.ts';

/** Appends row objects through the cache's columnar append. */
const appendRows = (cache: KlineCache, set: Dataset, rows: readonly Kline[], answered: readonly Range[], sources: readonly ('vision' | 'rest')[]): Promise<void> =>
  cache.appendColumns(set, columnsFromRows(rows), answered, sources);

const csvDir = path.join(realDataDir(), 'csv/spot/monthly/klines/BTCUSDT/1h');
const readMonth = (month: string): Kline[] => {
  const file = path.join(csvDir, `BTCUSDT-1h-${month}.csv`);
  return parseVisionCsv(readFileSync(file, 'utf8'), file);
};

const dataset: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1h' };
const id = datasetId(dataset);
const NOV: Period = periodOf(Date.UTC(2020, 10, 1), 'monthly');
const DEC: Period = periodOf(Date.UTC(2020, 11, 1), 'monthly');
const MID_DEC = Date.UTC(2020, 11, 16);
const novRows = readMonth('2020-11');
const decRows = readMonth('2020-12');
const HOUR = 3_600_000;

const sha256 = (body: Uint8Array): string => createHash('sha256').update(body).digest('hex');
const collector = (): { write(text: string): boolean; text(): string } => {
  let out = '';
  return { write: (chunk: string) => { out += chunk; return true; }, text: () => out };
};

describe('cache integrity (fs)', () => {
  let root: string;
  let store: ObjectStore;
  let index: CoverageIndex;
  let cache: KlineCache;
  const record = async (period: Period): Promise<PeriodRecord> => (await index.query(id, period.key, period.key))[0]!;
  const fileOf = (key: string): string => path.join(root, ...key.split('/'));

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'klines-integrity-'));
    store = createFsObjectStore(root);
    index = createFsCoverageIndex(root);
    cache = createKlineCache({ store, index });
    await appendRows(cache, dataset, novRows, [NOV.range], ['vision']);
    await cache.compact(dataset, [NOV], Date.UTC(2030, 0, 1));
    await appendRows(cache, dataset, decRows.filter((r) => r.open_time < MID_DEC), [{ startMs: DEC.range.startMs, endMs: MID_DEC }], ['vision']);
    await appendRows(cache, dataset, decRows.filter((r) => r.open_time >= MID_DEC), [{ startMs: MID_DEC, endMs: DEC.range.endMs }], ['rest']);
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('finds a cache built by the kline cache clean, and counts every record, object and row', async () => {
    expect((await record(NOV)).canonical).toBeDefined();
    expect((await record(DEC)).parts).toHaveLength(2);
    const report = await validateCache({ store, index });
    expect(report).toMatchObject({ records: 2, objects: 3, rowsChecked: novRows.length + decRows.length, problems: [], orphans: [] });
  });

  it('reports a part whose bytes were flipped, and only that part', async () => {
    const part = (await record(DEC)).parts[1]!.key;
    const bytes = await readFile(fileOf(part));
    for (let i = 100; i < 110; i++) bytes[i] = bytes[i]! ^ 0xff;
    await writeFile(fileOf(part), bytes);
    const report = await validateCache({ store, index });
    expect(report.problems.map((p) => [p.datasetId, p.period, p.key, p.kind])).toEqual([[id, '2020-12', part, 'checksum']]);
  });

  it('reports a deleted canonical file as missing', async () => {
    const key = canonicalKey(dataset, NOV);
    await store.delete(key);
    const report = await validateCache({ store, index });
    expect(report.problems.map((p) => [p.period, p.key, p.kind])).toEqual([['2020-11', key, 'missing']]);
  });

  it('reports a part with a duplicated open_time that was indexed by hand', async () => {
    const rows = decRows.slice(0, 10);
    const body = encodeKlines([...rows.slice(0, 6), rows[5]!, ...rows.slice(6)]);
    const key = partKey(dataset, DEC, `${String(Date.now()).padStart(16, '0')}-0123456789ab`);
    await store.put(key, body);
    const current = await record(DEC);
    await index.put({ ...current, parts: [...current.parts, { key, rows: 11, sha256: sha256(body), sizeBytes: body.byteLength, sources: ['rest'] }], version: current.version + 1 });
    const report = await validateCache({ store, index });
    expect(report.problems.map((p) => [p.period, p.key, p.kind])).toEqual([['2020-12', key, 'duplicate']]);
  });

  it('reports rows outside the covered ranges and a wrong row count', async () => {
    const current = await record(DEC);
    await index.put({ ...current, covered: [{ startMs: MID_DEC, endMs: DEC.range.endMs }], version: current.version + 1 });
    const firstPart = current.parts[0]!;
    const later = await record(DEC);
    await index.put({ ...later, parts: [{ ...firstPart, rows: firstPart.rows + 1 }, ...later.parts.slice(1)], version: later.version + 1 });
    const kinds = (await validateCache({ store, index })).problems.map((p) => [p.key, p.kind]);
    expect(kinds).toEqual([[firstPart.key, 'row-count'], [firstPart.key, 'outside-coverage']]);
  });

  it('reports a canonical file unlike its index entry, even a valid superset (readers never serve it), and one holding fewer rows', async () => {
    const key = canonicalKey(dataset, NOV);
    // The index names an older, smaller canonical file; the one stored holds more rows, as a
    // compaction killed between its write and its index switch would leave: readers verify every
    // object and drop such a period, so validate reports it (repair drops and re-fetches it).
    const current = await record(NOV);
    const olderRef = { ...current.canonical!, rows: novRows.length - 24, sha256: '00'.repeat(32), sizeBytes: 1000 };
    await index.put({ ...current, canonical: olderRef, version: current.version + 1 });
    const superset = await validateCache({ store, index });
    expect(superset.problems.map((p) => [p.key, p.kind])).toEqual([[key, 'checksum']]);

    await store.put(key, encodeKlines(novRows.slice(0, 100)));
    const rejected = await validateCache({ store, index });
    expect(rejected.problems.map((p) => [p.key, p.kind])).toEqual([[key, 'checksum']]);
  });

  it('reports orphans with their age, and repair deletes only those past the grace period', async () => {
    const nowMs = Date.now();
    const old = partKey(dataset, DEC, `${String(nowMs - 2 * HOUR).padStart(16, '0')}-aaaaaaaaaaaa`);
    const young = partKey(dataset, DEC, `${String(nowMs - 60_000).padStart(16, '0')}-bbbbbbbbbbbb`);
    for (const key of [old, young]) await store.put(key, encodeKlines(decRows.slice(0, 5)));
    const report = await validateCache({ store, index }, { nowMs });
    expect(report.problems).toEqual([]);
    expect(report.orphans.map((o) => [o.key, o.datasetId, o.period, o.ageMs])).toEqual([
      [old, id, '2020-12', 2 * HOUR], [young, id, '2020-12', 60_000],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));

    const result = await repairCache({ store, index }, report.problems, { orphans: report.orphans, nowMs });
    expect(result.orphansDeleted).toEqual([old]);
    expect(result.orphansKept.map((k) => k.key)).toEqual([young]);
    expect(await store.get(old)).toBeUndefined();
    expect(await store.get(young)).toBeDefined();
    expect((await validateCache({ store, index })).orphans.map((o) => o.key)).toEqual([young]);
  });

  it('repairs bad periods: coverage dropped, objects deleted, validate clean, and the period can be cached again', async () => {
    const decRecord = await record(DEC);
    await writeFile(fileOf(decRecord.parts[0]!.key), 'not parquet');
    await store.delete(canonicalKey(dataset, NOV));
    const report = await validateCache({ store, index });
    expect(new Set(report.problems.map((p) => p.period))).toEqual(new Set(['2020-11', '2020-12']));

    const result = await repairCache({ store, index }, report.problems);
    expect(result.dropped.map((d) => [d.period, d.range])).toEqual([['2020-11', NOV.range], ['2020-12', DEC.range]]);
    for (const period of [NOV, DEC]) {
      const dropped = await record(period);
      expect([dropped.covered, dropped.parts, dropped.canonical]).toEqual([[], [], undefined]);
    }
    expect(await store.list(`${datasetFolder(dataset, 'monthly')}/`)).toEqual([]);
    expect(await validateCache({ store, index })).toMatchObject({ records: 2, objects: 0, problems: [], orphans: [] });

    // What the next getKlines does for the gap: fetch and append again.
    await appendRows(cache, dataset, decRows, [DEC.range], ['vision']);
    const records = await cache.readCoverage(dataset, DEC.range);
    expect(await cache.readRows(dataset, records, DEC.range)).toEqual(decRows);
    expect((await validateCache({ store, index })).problems).toEqual([]);
  });

  it('leaves a period alone when it is clean by the time repair re-checks it', async () => {
    const part = (await record(DEC)).parts[0]!;
    const original = await readFile(fileOf(part.key));
    await writeFile(fileOf(part.key), 'garbage');
    const report = await validateCache({ store, index });
    await writeFile(fileOf(part.key), original);
    const result = await repairCache({ store, index }, report.problems);
    expect(result.dropped).toEqual([]);
    expect(result.skipped).toEqual([{ datasetId: id, period: '2020-12', reason: 'clean when checked again' }]);
    expect((await record(DEC)).covered).toEqual([DEC.range]);
  });

  it('limits validation to one dataset when asked', async () => {
    const other: Dataset = { market: 'um', symbol: 'BTCUSDT', interval: '1h' };
    await appendRows(cache, other, decRows, [DEC.range], ['vision']);
    await store.delete(canonicalKey(dataset, NOV));
    const onlyOther = await validateCache({ store, index }, { datasetId: datasetId(other) });
    expect(onlyOther).toMatchObject({ records: 1, objects: 1, rowsChecked: decRows.length, problems: [] });
    expect((await validateCache({ store, index })).problems).toHaveLength(1);
  });

  describe('commands', () => {
    const handles = () => ({ store, index, stats: createFsStatsStore(root) });

    it('klines validate exits 0 on a clean cache and 1 naming the bad object, in text and JSON', async () => {
      const clean = collector();
      expect(await runValidate({ ...handles(), stdout: clean, stderr: collector() })).toBe(0);
      expect(clean.text()).toContain('no problems');
      const key = canonicalKey(dataset, NOV);
      await store.delete(key);
      const text = collector();
      expect(await runValidate({ ...handles(), stdout: text, stderr: collector() })).toBe(1);
      expect(text.text()).toContain(key);
      const json = collector();
      expect(await runValidate({ ...handles(), stdout: json, stderr: collector(), json: true })).toBe(1);
      expect(JSON.parse(json.text()).problems).toMatchObject([{ datasetId: id, period: '2020-11', key, kind: 'missing' }]);
    });

    it('klines repair drops the bad period, re-fetches it through the callback, and validate is then clean', async () => {
      await store.delete(canonicalKey(dataset, NOV));
      const refetched: string[] = [];
      const out = collector();
      const code = await runRepair({
        ...handles(), stdout: out, stderr: collector(),
        refetch: async (period) => {
          refetched.push(period.period);
          await appendRows(cache, dataset, novRows.filter((r) => r.open_time >= period.range.startMs && r.open_time < period.range.endMs), [period.range], ['vision']);
        },
      });
      expect(code).toBe(0);
      expect(refetched).toEqual(['2020-11']);
      expect(out.text()).toContain(`dropped ${id} 2020-11`);
      expect(await runValidate({ ...handles(), stdout: collector(), stderr: collector() })).toBe(0);
      expect(await cache.readRows(dataset, await cache.readCoverage(dataset, NOV.range), NOV.range)).toEqual(novRows);
    });

    it('klines repair --dry-run changes nothing', async () => {
      await store.delete(canonicalKey(dataset, NOV));
      const before = await record(NOV);
      expect(await runRepair({ ...handles(), stdout: collector(), stderr: collector(), dryRun: true })).toBe(0);
      expect(await record(NOV)).toEqual(before);
    });

    it('klines stats prints the counters and what the index holds, in text and JSON', async () => {
      const { stats } = handles();
      await stats.add(id, { requests: 3, hits: 2, misses: 1, rowsServed: 2000, rowsFromCache: 1500, visionFiles: 1, restRequests: 2, restWeight: 4 });
      const text = collector();
      expect(await runStats({ ...handles(), stdout: text, stderr: collector() })).toBe(0);
      expect(text.text()).toContain('2 hits, 1 misses, 0 errors (hit ratio 66.7%)');
      expect(text.text()).toContain(`stored: 2 periods, 3 objects`);
      const json = collector();
      await runStats({ ...handles(), stdout: json, stderr: collector(), json: true });
      const parsed = JSON.parse(json.text());
      expect(parsed.datasets).toHaveLength(1);
      expect(parsed.datasets[0]).toMatchObject({
        datasetId: id, counters: { requests: 3, restWeight: 4, errors: 0 },
        stored: { periods: 2, objects: 3, rows: novRows.length + decRows.length },
      });
    });
  });
});
