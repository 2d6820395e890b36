/**
 * Wires the cache and the service from configuration (DESIGN.md, Storage): the embedded local
 * default (Parquet files, a file-backed index, leases and statistics under `cacheDir`), or S3
 * (`KLINES_STORE=s3://bucket/prefix`) and DynamoDB (`KLINES_INDEX=dynamodb://table`). Built once
 * per process (a Lambda's cold start, a CLI run) and shared; AWS clients can be passed in.
 */
import { buildService, createFsCacheHandles } from './open-service.ts';
import type { KlinesService } from './service/klines-service.ts';
import { awsOptions, type Config } from './config.ts';
import { indexDynamoDbClient } from './open-index.ts';
import type { DynamoDbClient } from './store/dynamodb-api.ts';
import { createDynamoDbCoverageIndex } from './store/dynamodb-coverage-index.ts';
import { createDynamoDbLeaseStore } from './store/dynamodb-lease-store.ts';
import { createDynamoDbStatsStore } from './store/dynamodb-stats-store.ts';
import { createFsObjectStore } from './store/fs-object-store.ts';
import { createS3Client, type S3Client } from './store/s3-api.ts';
import { createS3ObjectStore } from './store/s3-object-store.ts';
import type { CacheStatsStore, CoverageIndex, LeaseStore, ObjectStore } from './store/types.ts';

/** The cache's storage, built from configuration, and the AWS clients it uses (if any). */
export interface CacheHandles {
  readonly store: ObjectStore;
  readonly index: CoverageIndex;
  readonly leases: LeaseStore;
  readonly stats: CacheStatsStore;
  readonly s3?: S3Client | undefined;
  readonly dynamodb?: DynamoDbClient | undefined;
}

/** AWS clients to reuse instead of building new ones (tests, or a Lambda that has them). */
export interface AwsClientsOverride {
  readonly s3?: S3Client;
  readonly dynamodb?: DynamoDbClient;
}

/** Builds the store, index, leases and statistics that `config` names. */
export function createCacheHandles(config: Config, clients: AwsClientsOverride = {}): CacheHandles {
  const s3 = config.store.kind === 's3' ? clients.s3 ?? createS3Client(awsOptions(config, config.aws.s3Endpoint)) : undefined;
  const dynamodb = indexDynamoDbClient(config, clients.dynamodb);
  const store = config.store.kind === 's3' && s3
    ? createS3ObjectStore({ client: s3, bucket: config.store.bucket, prefix: config.store.prefix })
    : createFsObjectStore(config.cacheDir);
  if (config.index.kind === 'dynamodb' && dynamodb) {
    const table = { client: dynamodb, tableName: config.index.table };
    return { store, index: createDynamoDbCoverageIndex(table), leases: createDynamoDbLeaseStore(table), stats: createDynamoDbStatsStore(table), s3, dynamodb };
  }
  const local = createFsCacheHandles(config);
  return { ...local, store, s3, dynamodb };
}


/** Builds the service for `config` (open-service.ts's buildService on these handles). */
export function createServiceFromConfig(config: Config, handles: CacheHandles = createCacheHandles(config)): KlinesService {
  return buildService(config, handles);
}
