/**
 * The one DynamoDB table behind the coverage index, the leases and the cache statistics
 * (DESIGN.md, Storage; issue 3), and what its three stores share. Partition key `pk` (S), sort
 * key `sk` (S); three kinds of item:
 *
 * | item            | pk            | sk              | attributes                                   |
 * |-----------------|---------------|-----------------|----------------------------------------------|
 * | period record   | datasetId     | period key      | granularity, covered, parts, canonical?, version |
 * | lease           | datasetId     | `#lease#{key}`  | owner, expiresAtMs                           |
 * | dataset bounds  | datasetId     | `#bounds`       | first?, last? (`{ openMs, checkedAtMs }`), version |
 * | dataset stats   | `#stats`      | datasetId       | one number per CacheCounters field           |
 *
 * Period keys start with a digit (`2024`, `2024-01`, `2024-01-15`) and `#` sorts before every
 * digit, so a `BETWEEN` query over periods never meets a lease or the bounds; dataset ids never start with `#`,
 * so no dataset shares the `#stats` partition.
 */
import { ConflictError, InvalidInputError, StoreError } from '../domain/errors.ts';
import type { DynamoDbClient } from './dynamodb-api.ts';
import { validateKey } from './fs-object-store.ts';

/** Options of the three DynamoDB stores: a client (dynamodb-api.ts) and the table name. */
export interface DynamoDbStoreOptions {
  readonly client: DynamoDbClient;
  readonly tableName: string;
}

/** Sort keys (and the stats partition) starting with this are not period records. */
export const RESERVED_KEY_MARK = '#';
/** Sort-key prefix of lease items. */
export const LEASE_SK_PREFIX = '#lease#';
/** Sort key of a dataset's bounds item (its first and last candle). */
export const BOUNDS_SK = '#bounds';
/** Partition key of the statistics items. */
export const STATS_PK = '#stats';

/**
 * Checks a dataset id used as a partition key: a valid object key (see validateKey) not
 * starting with `#`. Throws InvalidInputError naming it.
 */
export function validateDatasetId(datasetId: string): void {
  validateKey(datasetId);
  if (datasetId.startsWith(RESERVED_KEY_MARK)) {
    throw new InvalidInputError(`dynamodb: dataset id ${JSON.stringify(datasetId)} must not start with '#'`, { datasetId });
  }
}

/** True for DynamoDB's "the condition expression was false" answer. */
export function isConditionFailed(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'ConditionalCheckFailedException';
}

/**
 * Wraps a DynamoDB failure in StoreError: `"{what}: cannot {action} in table {tableName}: {name}: {message}"`,
 * `details` = `{ tableName, ...details }`. Errors of the project's tree pass through unchanged.
 */
export function wrapDynamoDbError(cause: unknown, what: string, action: string, tableName: string, details: Record<string, unknown>): Error {
  if (cause instanceof ConflictError || cause instanceof InvalidInputError || cause instanceof StoreError) return cause;
  const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return new StoreError(`${what}: cannot ${action} in table ${tableName}: ${reason}`, { cause, details: { tableName, ...details } });
}
