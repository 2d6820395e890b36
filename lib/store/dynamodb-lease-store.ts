/**
 * LeaseStore on DynamoDB (issue 3: workers racing for one gap fetch it from upstream once; a
 * crashed worker blocks the others only until its lease expires). One item per lease in the
 * cache's table (layout in dynamodb-table.ts): pk = datasetId, sk = `#lease#{key}`, attributes
 * `owner` (S) and `expiresAtMs` (N, UTC epoch ms of the system clock, never KLINES_NOW).
 * Both operations are single conditional writes, so they are atomic without transactions or
 * TTL (which dynalite lacks); an expired lease item simply stays until it is taken over or
 * released.
 */
import { InvalidInputError } from '../domain/errors.ts';
import { isConditionFailed, LEASE_SK_PREFIX, validateDatasetId, wrapDynamoDbError, type DynamoDbStoreOptions } from './dynamodb-table.ts';
import type { LeaseStore } from './types.ts';

const WHAT = 'dynamodb lease store';

/**
 * A LeaseStore in table `tableName`.
 * - `acquire`: PutItem `{ owner, expiresAtMs: now + ttlMs }` conditional on
 *   `attribute_not_exists(pk) OR expiresAtMs <= :now OR owner = :owner` (free, expired — a lease
 *   is held until, not including, its expiry, as in the fs store — or renewed by its holder);
 *   true when written, false when the condition failed.
 * - `release`: DeleteItem conditional on `owner = :owner`; a failed condition (another holder,
 *   or no lease) is ignored.
 * Throws InvalidInputError for a bad datasetId, an empty key or owner, or a ttlMs that is not a
 * positive finite number; StoreError naming the table for any other DynamoDB failure.
 */
export function createDynamoDbLeaseStore(options: DynamoDbStoreOptions): LeaseStore {
  const { tableName, client } = options;

  return {
    async acquire(datasetId, key, owner, ttlMs) {
      validateLease(datasetId, key, owner);
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
        throw new InvalidInputError(`${WHAT}: ttlMs must be a positive number of ms, got ${String(ttlMs)}`, { ttlMs });
      }
      const nowMs = Date.now();
      try {
        await client.write('PutItem', {
          TableName: tableName,
          Item: { pk: datasetId, sk: LEASE_SK_PREFIX + key, owner, expiresAtMs: nowMs + ttlMs },
          ConditionExpression: 'attribute_not_exists(pk) OR #expires <= :now OR #owner = :owner',
          ExpressionAttributeNames: { '#expires': 'expiresAtMs', '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': nowMs, ':owner': owner },
        });
        return true;
      } catch (cause) {
        if (isConditionFailed(cause)) return false;
        throw wrapDynamoDbError(cause, WHAT, `acquire ${datasetId} ${key} for ${owner}`, tableName, { datasetId, key, owner });
      }
    },

    async release(datasetId, key, owner) {
      validateLease(datasetId, key, owner);
      try {
        await client.write('DeleteItem', {
          TableName: tableName,
          Key: { pk: datasetId, sk: LEASE_SK_PREFIX + key },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        });
      } catch (cause) {
        if (isConditionFailed(cause)) return;
        throw wrapDynamoDbError(cause, WHAT, `release ${datasetId} ${key} for ${owner}`, tableName, { datasetId, key, owner });
      }
    },
  };
}

function validateLease(datasetId: string, key: string, owner: string): void {
  validateDatasetId(datasetId);
  if (key === '') throw new InvalidInputError(`${WHAT}: the lease key must not be empty`, { datasetId });
  if (owner === '') throw new InvalidInputError(`${WHAT}: the owner must not be empty`, { datasetId, key });
}
