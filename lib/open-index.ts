/**
 * The coverage index alone, built from configuration (DESIGN.md, Storage): DynamoDB when
 * `KLINES_INDEX=dynamodb://table`, else the file-backed index under `cacheDir`. For callers that
 * read the index and nothing else (`GET /coverage`, `GET /datasets`; issue 9, cold starts: "only
 * the clients each function uses"), so their bundles hold no object store, Parquet codec or
 * service. create-service.ts builds the same index, on a DynamoDB client it shares with the
 * leases and statistics, through this module.
 */
import { awsOptions, type Config } from './config.ts';
import { createDynamoDbClient, type DynamoDbClient } from './store/dynamodb-api.ts';
import { createDynamoDbCoverageIndex } from './store/dynamodb-coverage-index.ts';
import { createFsCoverageIndex } from './store/fs-coverage-index.ts';
import type { CoverageIndex } from './store/types.ts';

/**
 * The DynamoDB client of `config`'s index (`dynamodb` when given, else a new one), or undefined
 * when the index is the local file-backed one.
 */
export function indexDynamoDbClient(config: Config, dynamodb?: DynamoDbClient): DynamoDbClient | undefined {
  if (config.index.kind !== 'dynamodb') return undefined;
  return dynamodb ?? createDynamoDbClient(awsOptions(config, config.aws.dynamodbEndpoint));
}

/**
 * The coverage index `config` names, on `dynamodb` when given (and the index is in DynamoDB).
 * Builds clients only; nothing is requested until the index is used.
 */
export function createCoverageIndexFromConfig(config: Config, dynamodb?: DynamoDbClient): CoverageIndex {
  const client = indexDynamoDbClient(config, dynamodb);
  if (config.index.kind === 'dynamodb' && client) return createDynamoDbCoverageIndex({ client, tableName: config.index.table });
  return createFsCoverageIndex(config.cacheDir);
}
