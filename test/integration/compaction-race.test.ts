/**
 * A canonical file is never overwritten under a reader (issue 8, item 6): a slow compactor racing
 * a newer one never leaves an object whose bytes differ from what its index record says. The
 * canonical write is conditional (If-None-Match for a first compaction, If-Match on the version
 * read for a later one): on the local file store, which enforces conditions itself, and on S3
 * through an in-memory bucket that honours them as AWS S3 does (s3rver ignores them; see
 * test/helpers/conditional-s3.ts). A control run on a store that ignores conditions shows the
 * damage the race does without them (which is why the period lease guards on s3rver).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { columnsFromRows } from '../../lib/domain/kline-columns.ts';
import { datasetId, type Dataset, type Kline } from '../../lib/domain/kline.ts';
import { canonicalKey, periodOf } from '../../lib/domain/periods.ts';
import type { Range } from '../../lib/domain/ranges.ts';
import { parseVisionCsv } from '../../lib/sources/vision-csv.ts';
import { createFsCoverageIndex } from '../../lib/store/fs-coverage-index.ts';
import { createFsObjectStore } from '../../lib/store/fs-object-store.ts';
import { createKlineCache, type KlineCache } from '../../lib/store/kline-cache.ts';
import { verifyObject } from '../../lib/store/object-verify.ts';
import { createS3ObjectStore } from '../../lib/store/s3-object-store.ts';
import type { CoverageIndex, ObjectStore } from '../../lib/store/types.ts';
import { createConditionalS3, type ConditionalS3 } from '../helpers/conditional-s3.ts';
import { describeObjectStoreContract } from '../helpers/store-contract.ts';
import { realDataDir } from '../helpers/real-data.ts';

const dataset: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1h' };
const DEC = periodOf(Date.UTC(2020, 11, 1), 'monthly');
const KEY = canonicalKey(dataset, DEC);
const decRows: Kline[] = parseVisionCsv(readFileSync(path.join(realDataDir(), 'csv/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-12.csv'), 'utf8'), 'dec');
const HALF = Date.UTC(2020, 11, 16);
const halves: Range[] = [{ startMs: DEC.range.startMs, endMs: HALF }, { startMs: HALF, endMs: DEC.range.endMs }];
const inRange = (rows: readonly Kline[], r: Range): Kline[] => rows.filter((row) => row.open_time >= r.startMs && row.open_time < r.endMs);
/** A re-fetch of the first day whose closes differ (so a newer merge differs from an older one). */
const revisedDay = (delta: number): Kline[] => decRows.slice(0, 24).map((row) => ({ ...row, close: row.close + delta }));

describeObjectStoreContract('s3 with conditional writes (in-memory bucket behind the client\'s fetch)', async () => {
  const s3 = createConditionalS3();
  return { store: createS3ObjectStore({ client: s3.client, bucket: 'klines-conditional', prefix: 'cache' }), cleanup: async () => s3.restore() };
});

/** A store whose canonical writes wait at a gate until released, telling when one arrived. */
function gatedStore(store: ObjectStore): { store: ObjectStore; arrived: Promise<void>; open(): void } {
  let arrive!: () => void;
  let open!: () => void;
  const arrived = new Promise<void>((resolve) => { arrive = resolve; });
  const gate = new Promise<void>((resolve) => { open = resolve; });
  return {
    store: {
      ...store,
      async put(key, body, condition) {
        if (key === KEY) {
          arrive();
          await gate;
        }
        return store.put(key, body, condition);
      },
    },
    arrived,
    open,
  };
}

/** The same store with conditions dropped, as s3rver behaves. */
const ignoringConditions = (store: ObjectStore): ObjectStore => ({ ...store, put: (key, body) => store.put(key, body) });

describe.each([
  { name: 'local files', enforced: true, make: async (dir: string) => ({ store: createFsObjectStore(dir), done: () => undefined }) },
  { name: 's3 with conditional writes', enforced: true, make: async () => s3Store() },
  { name: 'control: a store that ignores conditions (s3rver)', enforced: false, make: async () => s3Store(ignoringConditions) },
])('a slow compactor racing a newer one ($name)', ({ enforced, make }) => {
  let dir: string;
  let store: ObjectStore;
  let index: CoverageIndex;
  let done: () => void;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'klines-race-'));
    ({ store, done } = await make(dir));
    index = createFsCoverageIndex(dir);
  });
  afterEach(async () => {
    done();
    await rm(dir, { recursive: true, force: true });
  });

  /** The object at the canonical key is exactly what the record says (or not), and what a read serves. */
  async function objectMatchesRecord(cache: KlineCache): Promise<boolean> {
    const [record] = await index.query(datasetId(dataset), DEC.key, DEC.key);
    const body = await store.get(KEY);
    return record?.canonical !== undefined && record.parts.length === 0 && verifyObject(body, record.canonical) === undefined
      && (await cache.readRows(dataset, [record], DEC.range).then((rows) => rows.length === decRows.length, () => false));
  }

  async function race(newer: KlineCache, slowStore: ReturnType<typeof gatedStore>): Promise<void> {
    const slow = createKlineCache({ store: slowStore.store, index }).compact(dataset, [DEC], DEC.range.endMs);
    await slowStore.arrived; // the slow compactor has read the record and the file, and is about to write
    await newer.appendColumns(dataset, columnsFromRows(revisedDay(1)), [{ startMs: DEC.range.startMs, endMs: DEC.range.startMs + 86_400_000 }], ['rest']);
    await newer.compact(dataset, [DEC], DEC.range.endMs);
    slowStore.open();
    await slow;
  }

  it(`first compaction (If-None-Match): ${enforced ? 'the slow write is refused; the object is what its record says' : 'the slow write lands over the newer file'}`, async () => {
    const newer = createKlineCache({ store, index });
    for (const half of halves) await newer.appendColumns(dataset, columnsFromRows(inRange(decRows, half)), [half], ['vision']);
    await race(newer, gatedStore(store));
    expect(await objectMatchesRecord(newer)).toBe(enforced);
    if (enforced) expect((await newer.readRows(dataset, await newer.readCoverage(dataset, DEC.range), DEC.range)).slice(0, 24)).toEqual(revisedDay(1));
  });

  it(`later compaction (If-Match): ${enforced ? 'the slow write is refused; the object is what its record says' : 'the slow write lands over the newer file'}`, async () => {
    const newer = createKlineCache({ store, index });
    await newer.appendColumns(dataset, columnsFromRows(decRows), [DEC.range], ['vision']);
    await newer.compact(dataset, [DEC], DEC.range.endMs);
    await newer.appendColumns(dataset, columnsFromRows(revisedDay(0.5)), [{ startMs: DEC.range.startMs, endMs: DEC.range.startMs + 86_400_000 }], ['rest']);
    await race(newer, gatedStore(store));
    expect(await objectMatchesRecord(newer)).toBe(enforced);
  });
});

let s3: ConditionalS3 | undefined;
function s3Store(wrap: (store: ObjectStore) => ObjectStore = (store) => store): { store: ObjectStore; done(): void } {
  s3 = createConditionalS3();
  const bucket = s3;
  return { store: wrap(createS3ObjectStore({ client: bucket.client, bucket: 'klines-race', prefix: 'cache' })), done: () => bucket.restore() };
}
