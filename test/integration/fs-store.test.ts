/**
 * The fs ObjectStore and CoverageIndex against the shared contract suites, plus what only the
 * file system shows: where files land, leftover temp files, and stale locks of killed writers.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../lib/domain/errors.ts';
import { createFsCoverageIndex } from '../../lib/store/fs-coverage-index.ts';
import { createFsObjectStore } from '../../lib/store/fs-object-store.ts';
import { describeCoverageIndexContract, describeObjectStoreContract, sampleRecord } from '../helpers/store-contract.ts';

const tempRoot = (): Promise<string> => mkdtemp(path.join(os.tmpdir(), 'klines-fs-store-'));

describeObjectStoreContract('fs', async () => {
  const dir = await tempRoot();
  return { store: createFsObjectStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeCoverageIndexContract('fs', async () => {
  const dir = await tempRoot();
  return { index: createFsCoverageIndex(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
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
