/**
 * The S3 ObjectStore and the DynamoDB CoverageIndex, LeaseStore and CacheStatsStore against the
 * shared contract suites on real local servers (s3rver, dynalite: test/helpers/local-aws.ts),
 * plus what only these backends show: where objects and items land, the separation of the
 * three item kinds in one table, `klines init`'s ensure calls, and failures no local server can
 * produce (throttling, access denied), injected through the clients' fetch (test/helpers/aws-fetch.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../lib/domain/errors.ts';
import { listDatasets } from '../../lib/service/datasets.ts';
import { ensureBucket, ensureTable } from '../../lib/store/aws-setup.ts';
import type { DynamoDbClient } from '../../lib/store/dynamodb-api.ts';
import type { S3Client } from '../../lib/store/s3-api.ts';
import { requestOf } from '../helpers/aws-fetch.ts';
import { createDynamoDbCoverageIndex } from '../../lib/store/dynamodb-coverage-index.ts';
import { createDynamoDbLeaseStore } from '../../lib/store/dynamodb-lease-store.ts';
import { createDynamoDbStatsStore } from '../../lib/store/dynamodb-stats-store.ts';
import { createS3ObjectStore } from '../../lib/store/s3-object-store.ts';
import { startLocalAws, type LocalAws } from '../helpers/local-aws.ts';
import {
  describeCacheStatsStoreContract, describeCoverageIndexContract, describeLeaseStoreContract, describeObjectStoreContract, sampleRecord,
} from '../helpers/store-contract.ts';

let aws: LocalAws;
let s3: S3Client;
let dynamo: DynamoDbClient;
beforeAll(async () => {
  aws = await startLocalAws();
  s3 = aws.makeS3Client();
  dynamo = aws.makeDynamoClient();
});
afterAll(async () => {
  await aws?.close();
});

let counter = 0;
const uniqueName = (kind: string): string => `klines-${kind}-${process.pid}-${++counter}`;

/** A fresh bucket; its objects vanish with the server's temp folder. */
async function freshBucket(): Promise<string> {
  const bucket = uniqueName('bucket');
  await ensureBucket(s3, bucket);
  return bucket;
}

/** A fresh table and a cleanup that deletes it. */
async function freshTable(): Promise<{ tableName: string; cleanup(): Promise<void> }> {
  const tableName = uniqueName('table');
  await ensureTable(dynamo, tableName);
  return { tableName, cleanup: async () => { await dynamo.call('DeleteTable', { TableName: tableName }); } };
}

describeObjectStoreContract('s3 (bucket root)', async () => ({
  store: createS3ObjectStore({ client: s3, bucket: await freshBucket() }),
  cleanup: async () => undefined,
}), { enforcesConditions: false }); // s3rver ignores If-Match / If-None-Match

describeObjectStoreContract('s3 (under a prefix, 2-key list pages, decoys outside the prefix)', async () => {
  const bucket = await freshBucket();
  // Same keys outside the prefix must never be seen through the store.
  for (const key of ['d/m/2024-01.parquet', 'd/m/zz.parquet', 'other/d/m/x.parquet', 'cache-old/d/m/y.parquet']) {
    await s3.putObject(bucket, key, new Uint8Array([42]));
  }
  return { store: createS3ObjectStore({ client: s3, bucket, prefix: 'cache', pageSize: 2 }), cleanup: async () => undefined };
}, { enforcesConditions: false });

describeCoverageIndexContract('dynamodb', async () => {
  const { tableName, cleanup } = await freshTable();
  return { index: createDynamoDbCoverageIndex({ client: dynamo, tableName }), cleanup };
});

describeCoverageIndexContract('dynamodb (2-item pages)', async () => {
  const { tableName, cleanup } = await freshTable();
  return { index: createDynamoDbCoverageIndex({ client: dynamo, tableName, pageSize: 2 }), cleanup };
});

describeLeaseStoreContract('dynamodb', async () => {
  const { tableName, cleanup } = await freshTable();
  return { leases: createDynamoDbLeaseStore({ client: dynamo, tableName }), cleanup };
});

describeCacheStatsStoreContract('dynamodb', async () => {
  const { tableName, cleanup } = await freshTable();
  return { stats: createDynamoDbStatsStore({ client: dynamo, tableName }), cleanup };
});

describe('s3 object store on s3rver', () => {
  it('writes each key under the prefix, so the bucket holds the seed layout', async () => {
    const bucket = await freshBucket();
    const store = createS3ObjectStore({ client: s3, bucket, prefix: 'cache/' });
    await store.put('binance/spot/klines/monthly/BTCUSDT/1h/2024-01.parquet', new Uint8Array([7, 8]));
    const listed = await s3.listObjects(bucket, '', 1000);
    expect(listed.objects.map((object) => [object.key, object.sizeBytes])).toEqual([
      ['cache/binance/spot/klines/monthly/BTCUSDT/1h/2024-01.parquet', 2],
    ]);
  });

  it('lists more keys than one page holds, each once', async () => {
    const store = createS3ObjectStore({ client: s3, bucket: await freshBucket(), pageSize: 3 });
    const keys = Array.from({ length: 10 }, (_, i) => `p/k${String(i).padStart(2, '0')}`);
    await Promise.all(keys.map((key) => store.put(key, new Uint8Array([1]))));
    expect(await store.list('p/')).toEqual(keys);
  });

  it('fails with StoreError naming bucket and key when the bucket is missing, instead of reporting a missing key', async () => {
    const store = createS3ObjectStore({ client: s3, bucket: 'klines-no-such-bucket' });
    const error = await store.get('d/x.parquet').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain('s3://klines-no-such-bucket/d/x.parquet');
    expect((error as StoreError).details).toMatchObject({ bucket: 'klines-no-such-bucket', key: 'd/x.parquet' });
    await expect(store.list('d/')).rejects.toBeInstanceOf(StoreError);
  });
});

describe('dynamodb table layout on dynalite', () => {
  it('stores a period record as one item with native attributes', async () => {
    const { tableName, cleanup } = await freshTable();
    const index = createDynamoDbCoverageIndex({ client: dynamo, tableName });
    await index.put(sampleRecord());
    type Raw = { N?: string; S?: string; L?: Raw[]; M?: Record<string, Raw> };
    const item = (await dynamo.call<{ Item?: Record<string, Raw> }>('GetItem', {
      TableName: tableName, Key: { pk: { S: 'binance/spot/klines/BTCUSDT/1h' }, sk: { S: '2024-01' } }, ConsistentRead: true,
    })).Item;
    expect(item?.version).toEqual({ N: '1' });
    expect(item?.granularity).toEqual({ S: 'monthly' });
    expect(item?.covered).toEqual({ L: [{ M: { s: { N: '1704067200000' }, e: { N: '1706745600000' } } }] });
    expect(item?.parts?.L?.[0]?.M?.rows).toEqual({ N: '744' });
    expect(item?.canonical).toBeUndefined();
    await cleanup();
  });

  it('keeps leases and statistics out of coverage queries and scans of the same table', async () => {
    const { tableName, cleanup } = await freshTable();
    const index = createDynamoDbCoverageIndex({ client: dynamo, tableName });
    const leases = createDynamoDbLeaseStore({ client: dynamo, tableName });
    const stats = createDynamoDbStatsStore({ client: dynamo, tableName });
    const id = 'binance/spot/klines/BTCUSDT/1h';
    await index.put(sampleRecord({ period: '2024-01' }));
    expect(await leases.acquire(id, '2024-01', 'worker-a', 60_000)).toBe(true);
    await stats.add(id, { requests: 1 });
    // Bounds wider than any period key ('' sorts before '#', '~' after digits).
    expect((await index.query(id, '', '~')).map((record) => record.period)).toEqual(['2024-01']);
    const scanned = [];
    for await (const record of index.scan()) scanned.push(`${record.datasetId} ${record.period}`);
    expect(scanned).toEqual([`${id} 2024-01`]);
    expect((await stats.read()).get(id)?.requests).toBe(1);
    await cleanup();
  });

  it('lists datasets from period records only, ignoring lease, statistics and other `#` items of the dataset', async () => {
    const { tableName, cleanup } = await freshTable();
    const index = createDynamoDbCoverageIndex({ client: dynamo, tableName });
    const id = 'binance/spot/klines/BTCUSDT/1h';
    await index.put(sampleRecord({ period: '2024-01' }));
    expect(await createDynamoDbLeaseStore({ client: dynamo, tableName }).acquire(id, '2024-01', 'worker-a', 60_000)).toBe(true);
    await createDynamoDbStatsStore({ client: dynamo, tableName }).add(id, { requests: 1 });
    // A dataset-level item such as a listing date (another issue) lives under the dataset's pk with a `#` sort key.
    await dynamo.call('PutItem', { TableName: tableName, Item: { pk: { S: id }, sk: { S: '#listing' }, listedMs: { N: '1502942400000' } } });
    const listed = await listDatasets(index);
    expect(listed.map((d) => [d.datasetId, d.periods, d.rows])).toEqual([[id, 1, 744]]);
    await cleanup();
  });
});

describe('ensureBucket and ensureTable (klines init)', () => {
  it('creates a missing bucket once, then reports that it exists', async () => {
    const bucket = uniqueName('init');
    expect(await ensureBucket(s3, bucket)).toBe('created');
    expect(await ensureBucket(s3, bucket)).toBe('exists');
    const store = createS3ObjectStore({ client: s3, bucket });
    await store.put('a/b', new Uint8Array([1]));
    expect(await store.list('')).toEqual(['a/b']);
  });

  it('lets concurrent ensureBucket calls all succeed, leaving one bucket', async () => {
    // s3rver (like S3 in us-east-1) may answer more than one racing CreateBucket with 200, so
    // only success and the end state are promised, not a single 'created'.
    const bucket = uniqueName('init');
    const results = await Promise.all([1, 2, 3].map(() => ensureBucket(s3, bucket)));
    expect(results).toContain('created');
    expect(await ensureBucket(s3, bucket)).toBe('exists');
  });

  it('creates a missing table, usable at once, then reports that it exists; concurrent calls create it once', async () => {
    const tableName = uniqueName('init');
    const results = await Promise.all([1, 2, 3].map(() => ensureTable(dynamo, tableName)));
    expect([...results].sort()).toEqual(['created', 'exists', 'exists']);
    expect(await ensureTable(dynamo, tableName)).toBe('exists');
    const index = createDynamoDbCoverageIndex({ client: dynamo, tableName });
    await index.put(sampleRecord());
    expect(await index.query(sampleRecord().datasetId, '2024-01', '2024-01')).toHaveLength(1);
  });

  it('refuses an existing table whose keys are not pk/sk, naming it', async () => {
    const tableName = uniqueName('init');
    await dynamo.call('CreateTable', {
      TableName: tableName, BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    });
    const error = await ensureTable(dynamo, tableName).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain(tableName);
  });
});

describe('failures local servers cannot produce (injected into the clients\' fetch)', () => {
  it('retries DynamoDB throttling, then surfaces it as StoreError naming the table, for every store', async () => {
    let requests = 0;
    const client = aws.makeDynamoClient(async () => {
      requests++;
      return new Response(JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'Rate of requests exceeds the allowed throughput',
      }), { status: 400, headers: { 'content-type': 'application/x-amz-json-1.0' } });
    });
    const tableName = 'klines-prod-table';
    const index = createDynamoDbCoverageIndex({ client, tableName });
    const failures = await Promise.all([
      index.query('binance/spot/klines/BTCUSDT/1h', '2024-01', '2024-12'),
      index.put(sampleRecord()),
      createDynamoDbLeaseStore({ client, tableName }).acquire('binance/spot/klines/BTCUSDT/1h', 'k', 'worker-a', 1000),
      createDynamoDbStatsStore({ client, tableName }).add('binance/spot/klines/BTCUSDT/1h', { requests: 1 }),
    ].map((promise) => promise.then(() => 'resolved', (e: unknown) => e)));
    for (const error of failures) {
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).message).toContain('klines-prod-table');
      expect((error as StoreError).message).toContain('ProvisionedThroughputExceededException');
      expect((error as StoreError).details.tableName).toBe('klines-prod-table');
    }
    expect(requests).toBe(4 * 3); // each of the 4 calls: 3 attempts, as the SDK's standard retry policy
  });

  it('retries a throttled DynamoDB write and succeeds when the next attempt is answered', async () => {
    const { tableName, cleanup } = await freshTable();
    let throttledOnce = false;
    const client = aws.makeDynamoClient(async (input, init) => {
      if (!throttledOnce) {
        throttledOnce = true;
        return new Response(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'slow down' }), { status: 400 });
      }
      return fetch(input, init);
    });
    const index = createDynamoDbCoverageIndex({ client, tableName });
    await index.put(sampleRecord());
    expect(throttledOnce).toBe(true);
    expect(await index.query(sampleRecord().datasetId, '2024-01', '2024-01')).toHaveLength(1);
    await cleanup();
  });

  it('surfaces S3 AccessDenied on a read as StoreError, never as a missing object', async () => {
    const client = aws.makeS3Client(async (input, init) => (requestOf(input, init).method === 'HEAD'
      ? new Response(null, { status: 403 })
      : new Response('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>', { status: 403 })));
    const store = createS3ObjectStore({ client, bucket: 'klines-prod', prefix: 'cache' });
    const error = await store.get('d/x.parquet').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain('s3://klines-prod/cache/d/x.parquet');
    const setupError = await ensureBucket(client, 'klines-prod').catch((e: unknown) => e);
    expect(setupError).toBeInstanceOf(StoreError);
    expect((setupError as StoreError).message).toContain('klines-prod');
  });

  it('retries S3 503 SlowDown and then reads the object', async () => {
    const bucket = await freshBucket();
    await createS3ObjectStore({ client: s3, bucket }).put('d/x.parquet', new Uint8Array([1, 2]));
    let slowDowns = 0;
    const client = aws.makeS3Client(async (input, init) => (slowDowns++ < 2
      ? new Response('<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>', { status: 503 })
      : fetch(input, init)));
    expect(await createS3ObjectStore({ client, bucket }).get('d/x.parquet')).toEqual(new Uint8Array([1, 2]));
    expect(slowDowns).toBe(3);
  });
});
