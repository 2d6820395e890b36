/**
 * CacheStatsStore on DynamoDB (issue 3: `klines stats`; the seed docs' `get_cache_stats`). One
 * item per dataset in the cache's table (layout in dynamodb-table.ts): pk = `#stats`,
 * sk = datasetId, one N attribute per counter (cache-counters.ts). Adds are one UpdateItem with
 * `ADD`, which DynamoDB applies atomically, so concurrent adds from many Lambdas are never lost.
 */
import { InvalidInputError } from '../domain/errors.ts';
import { COUNTER_NAMES, fillCounters } from './cache-counters.ts';
import { STATS_PK, validateDatasetId, wrapDynamoDbError, type DynamoDbStoreOptions } from './dynamodb-table.ts';
import type { CacheCounters, CacheStatsStore } from './types.ts';

const WHAT = 'dynamodb stats store';

/**
 * A CacheStatsStore in table `tableName`.
 * - `add`: UpdateItem `ADD` of every counter (missing ones add 0, so the dataset then has
 *   totals, as in the fs store).
 * - `read`: one Query of the `#stats` partition (all pages, strongly consistent).
 * Throws InvalidInputError for a bad datasetId or a counter that is not a finite number;
 * StoreError naming the table for any DynamoDB failure.
 */
export function createDynamoDbStatsStore(options: DynamoDbStoreOptions): CacheStatsStore {
  const { tableName, client } = options;

  return {
    async add(datasetId, counters) {
      validateDatasetId(datasetId);
      for (const [name, value] of Object.entries(counters)) {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw new InvalidInputError(`${WHAT}: counter ${name} must be a finite number, got ${String(value)}`, { datasetId, name });
        }
      }
      const names: Record<string, string> = {};
      const values: Record<string, number> = {};
      COUNTER_NAMES.forEach((name, i) => {
        names[`#c${i}`] = name;
        values[`:c${i}`] = counters[name] ?? 0;
      });
      try {
        await client.write('UpdateItem', {
          TableName: tableName,
          Key: { pk: STATS_PK, sk: datasetId },
          UpdateExpression: `ADD ${COUNTER_NAMES.map((_, i) => `#c${i} :c${i}`).join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        });
      } catch (cause) {
        throw wrapDynamoDbError(cause, WHAT, `add to ${datasetId}`, tableName, { datasetId });
      }
    },

    async read() {
      const out = new Map<string, CacheCounters>();
      try {
        const pages = client.pages('Query', {
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': STATS_PK },
          ConsistentRead: true,
        });
        for await (const page of pages) {
          for (const item of page.items) out.set(String(item.sk), fillCounters(item));
        }
      } catch (cause) {
        throw wrapDynamoDbError(cause, WHAT, 'read', tableName, {});
      }
      return out;
    },
  };
}
