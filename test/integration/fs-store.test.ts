/**
 * The fs ObjectStore and CoverageIndex against the shared contract suites, plus what only the
 * file system shows: where files land, leftover temp files, and stale locks of killed writers.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../lib/domain/errors.ts';
import { createFsCoverageIndex } from '../../lib/store/fs-coverage-index.ts';
import { createFsLeaseStore } from '../../lib/store/fs-lease-store.ts';
import { createFsObjectStore } from '../../lib/store/fs-object-store.ts';
import { createFsStatsStore } from '../../lib/store/fs-stats-store.ts';
import {
  describeCacheStatsStoreContract, describeCoverageIndexContract, describeLeaseStoreContract, describeObjectStoreContract, sampleRecord,
} from '../helpers/store-contract.ts';

const tempRoot = (): Promise<string> => mkdtemp(path.join(os.tmpdir(), 'klines-fs-store-'));
const repoRoot = path.resolve(import.meta.dirname, '../..');

/**
 * Runs `count` node processes that each wait for `{dir}/go` and then run `body` (ESM, with
 * `leases` and `stats` built on `dir` and `index` = the process number), and returns their stdout.
 */
async function runProcesses(dir: string, count: number, body: string): Promise<string[]> {
  const script = `
    import { existsSync, writeFileSync } from 'node:fs';
    import { createFsLeaseStore } from ${JSON.stringify(path.join(repoRoot, 'lib/store/fs-lease-store.ts'))};
    import { createFsStatsStore } from ${JSON.stringify(path.join(repoRoot, 'lib/store/fs-stats-store.ts'))};
    const dir = process.argv[1]; const index = Number(process.argv[2]);
    const leases = createFsLeaseStore(dir); const stats = createFsStatsStore(dir);
    writeFileSync(dir + '/ready-' + index, '');
    while (!existsSync(dir + '/go')) await new Promise((r) => setTimeout(r, 5));
    ${body}`;
  const runs = Array.from({ length: count }, (_, i) => new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir, String(i)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`process ${i} exited ${code}: ${err}`))));
  }));
  const all = Promise.all(runs);
  let settled = false;
  void all.then(() => { settled = true; }, () => { settled = true; });
  const ready = async (): Promise<boolean> => (await readdir(dir)).filter((name) => name.startsWith('ready-')).length === count;
  while (!settled && !(await ready())) await new Promise((resolve) => setTimeout(resolve, 10));
  await writeFile(path.join(dir, 'go'), '');
  return all;
}

describeObjectStoreContract('fs', async () => {
  const dir = await tempRoot();
  return { store: createFsObjectStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeCoverageIndexContract('fs', async () => {
  const dir = await tempRoot();
  return { index: createFsCoverageIndex(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeLeaseStoreContract('fs', async () => {
  const dir = await tempRoot();
  return { leases: createFsLeaseStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeCacheStatsStoreContract('fs', async () => {
  const dir = await tempRoot();
  return { stats: createFsStatsStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('fs object store on disk', () => {
  let dir: string;
  beforeEach(async () => { dir = await tempRoot(); });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('writes each key at the same path under the root, readable without the store', async () => {
    const store = createFsObjectStore(dir);
    await store.put('binance/spot/klines/monthly/BTCUSDT/1h/2024-01.parquet', new Uint8Array([7, 8]));
    const onDisk = await readFile(path.join(dir, 'binance/spot/klines/monthly/BTCUSDT/1h/2024-01.parquet'));
    expect(Array.from(onDisk)).toEqual([7, 8]);
  });

  it('never lists the temp file a killed writer left behind, and keeps the last whole object', async () => {
    const store = createFsObjectStore(dir);
    await store.put('d/x.parquet', new Uint8Array([1, 2, 3]));
    await writeFile(path.join(dir, 'd', 'x.parquet.tmp-999-abc'), new Uint8Array([9]));
    expect(await store.list('d/')).toEqual(['d/x.parquet']);
    expect(Array.from((await store.get('d/x.parquet'))!)).toEqual([1, 2, 3]);
  });

  it('leaves no temp file after many overwrites', async () => {
    const store = createFsObjectStore(dir);
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.put('d/x.parquet', new Uint8Array([i]))));
    expect(await readdir(path.join(dir, 'd'))).toEqual(['x.parquet']);
  });

  it('wraps an I/O failure in StoreError naming the key', async () => {
    const store = createFsObjectStore(dir);
    await store.put('d/file', new Uint8Array([1]));
    // 'd/file' is a file, so it cannot also be a folder.
    const error = await store.put('d/file/child', new Uint8Array([1])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).details.key).toBe('d/file/child');
    expect((error as StoreError).message).toContain('d/file/child');
  });
});

describe('fs coverage index on disk', () => {
  let dir: string;
  beforeEach(async () => { dir = await tempRoot(); });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('stores one JSON file per dataset period under _index/', async () => {
    const index = createFsCoverageIndex(dir);
    const record = sampleRecord();
    await index.put(record);
    const file = path.join(dir, '_index', 'binance/spot/klines/BTCUSDT/1h', '2024-01.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(record);
  });

  it('takes over a lock left by a killed writer once it is stale', async () => {
    const index = createFsCoverageIndex(dir);
    const folder = path.join(dir, '_index', 'binance/spot/klines/BTCUSDT/1h');
    const lock = path.join(folder, '2024-01.json.lock');
    await mkdir(lock, { recursive: true });
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(lock, longAgo, longAgo);
    await index.put(sampleRecord());
    expect((await index.query('binance/spot/klines/BTCUSDT/1h', '2024-01', '2024-01'))[0]?.version).toBe(1);
    expect(await readdir(folder)).toEqual(['2024-01.json']);
  });

  it('ignores leftover temp files when querying', async () => {
    const index = createFsCoverageIndex(dir);
    await index.put(sampleRecord());
    const folder = path.join(dir, '_index', 'binance/spot/klines/BTCUSDT/1h');
    await writeFile(path.join(folder, '2024-02.json.tmp-1-ab'), '{"half');
    expect((await index.query('binance/spot/klines/BTCUSDT/1h', '0000', '9999')).map((r) => r.period)).toEqual(['2024-01']);
  });
});

describe('fs leases and stats across processes', () => {
  let dir: string;
  beforeEach(async () => { dir = await tempRoot(); });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('gives a lease to exactly one of several processes acquiring it together', async () => {
    const results = await runProcesses(dir, 6, `
      process.stdout.write(String(await leases.acquire('binance/spot/klines/BTCUSDT/1m', 'gap', 'p' + index, 60000)));`);
    expect(results.filter((r) => r === 'true')).toHaveLength(1);
    expect(results.filter((r) => r === 'false')).toHaveLength(5);
  }, 30_000);

  it('keeps every add of several processes adding to one dataset together', async () => {
    await runProcesses(dir, 4, `
      for (let i = 0; i < 10; i++) await stats.add('binance/spot/klines/BTCUSDT/1m', { requests: 1, restWeight: 2 });`);
    const totals = (await createFsStatsStore(dir).read()).get('binance/spot/klines/BTCUSDT/1m');
    expect([totals?.requests, totals?.restWeight]).toEqual([40, 80]);
  }, 30_000);
});
