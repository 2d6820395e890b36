/**
 * CoverageIndex on DynamoDB (DESIGN.md, Storage: "one item per dataset period"; issue 3). Item
 * layout in dynamodb-table.ts. Attributes of a period record, all native DynamoDB types so the
 * console shows them readably:
 * - `granularity` (S), `version` (N);
 * - `covered` (L of M `{ s: N, e: N }`): half-open open_time ranges, UTC epoch ms;
 * - `parts` (L of M `{ key, rows, sha256, sizeBytes, crc32?, sources (L of S) }`), `canonical` (M,
 *   absent when there is none); `crc32` is absent in refs written before it was recorded; a ref's
 *   optional `first`/`last` (N) are its firstOpenMs/lastOpenMs.
 * Every read is strongly consistent (`ConsistentRead`), so a worker sees a write acknowledged to
 * another worker; conditional puts make concurrent writers serialize on `version`.
 */
import { ConflictError, InvalidInputError, StoreError } from '../domain/errors.ts';
import type { Range } from '../domain/ranges.ts';
import { BOUNDS_SK, isConditionFailed, RESERVED_KEY_MARK, validateDatasetId, wrapDynamoDbError, type DynamoDbStoreOptions } from './dynamodb-table.ts';
import type { CoverageIndex, DatasetBounds, EdgeCandle, ObjectRef, PeriodRecord } from './types.ts';

/** Options of {@link createDynamoDbCoverageIndex}; `pageSize` (Query/Scan `Limit`) only makes tests cover pagination. */
export interface DynamoDbCoverageIndexOptions extends DynamoDbStoreOptions {
  readonly pageSize?: number | undefined;
}

/** A stored ObjectRef. */
interface RefItem { key: string; rows: number; sha256: string; sizeBytes: number; crc32?: number; sources: string[]; first?: number; last?: number }
/** A stored period record. */
interface RecordItem {
  pk: string; sk: string; granularity: string; covered: { s: number; e: number }[];
  parts: RefItem[]; canonical?: RefItem; version: number;
}

/**
 * A CoverageIndex in table `tableName`.
 * - `query`: one Query `pk = datasetId AND sk BETWEEN from AND to` (following LastEvaluatedKey
 *   when a page exceeds 1 MB), records in period order.
 * - `put`: PutItem conditional on `attribute_not_exists(pk)` for version 1, else on
 *   `version = record.version - 1`; a false condition → ConflictError.
 * - `scan`: a Scan of every period record (lease, bounds and stats items skipped), page by page.
 * - `readBounds`/`putBounds`: the dataset's bounds item (sort key `#bounds`: `first` and `last`
 *   as M `{ openMs: N|NULL, checkedAtMs: N }`, `version`), GetItem and a conditional PutItem.
 * Throws InvalidInputError for a bad datasetId/period/version, StoreError (naming the table and
 * the dataset) for any other DynamoDB failure.
 */
export function createDynamoDbCoverageIndex(options: DynamoDbCoverageIndexOptions): CoverageIndex {
  const { tableName, client } = options;
  const limit = options.pageSize === undefined ? {} : { Limit: options.pageSize };
  const what = 'dynamodb coverage index';

  return {
    async query(datasetId, fromPeriod, toPeriod) {
      validateDatasetId(datasetId);
      const records: PeriodRecord[] = [];
      try {
        if (fromPeriod > toPeriod) return records;
        const pages = client.pages('Query', {
          TableName: tableName, ...limit,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': datasetId, ':from': fromPeriod, ':to': toPeriod },
          ConsistentRead: true,
        });
        for await (const page of pages) {
          for (const item of page.items) {
            if (!String(item.sk).startsWith(RESERVED_KEY_MARK)) records.push(fromItem(item, tableName));
          }
        }
      } catch (cause) {
        throw wrapDynamoDbError(cause, what, `query ${datasetId} ${fromPeriod}..${toPeriod}`, tableName, { datasetId, fromPeriod, toPeriod });
      }
      return records;
    },

    async put(record) {
      validateRecord(record);
      const first = record.version === 1;
      try {
        await client.write('PutItem', {
          TableName: tableName,
          Item: { ...toItem(record) },
          ConditionExpression: first ? 'attribute_not_exists(pk)' : '#version = :previous',
          ...(first ? {} : { ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':previous': record.version - 1 } }),
        });
      } catch (cause) {
        if (isConditionFailed(cause)) {
          throw new ConflictError(
            `${what}: ${record.datasetId} ${record.period} is not at version ${record.version - 1} in table ${tableName}; re-read and retry`,
            { datasetId: record.datasetId, period: record.period, version: record.version, tableName },
          );
        }
        throw wrapDynamoDbError(cause, what, `put ${record.datasetId} ${record.period} v${record.version}`, tableName, { datasetId: record.datasetId, period: record.period });
      }
    },

    async readBounds(datasetId) {
      validateDatasetId(datasetId);
      try {
        const item = await client.getItem({ TableName: tableName, Key: { pk: datasetId, sk: BOUNDS_SK }, ConsistentRead: true });
        return item ? boundsFromItem(item, tableName) : undefined;
      } catch (cause) {
        throw wrapDynamoDbError(cause, what, `read the bounds of ${datasetId}`, tableName, { datasetId });
      }
    },

    async putBounds(bounds) {
      validateDatasetId(bounds.datasetId);
      if (!Number.isInteger(bounds.version) || bounds.version < 1) {
        throw new InvalidInputError(`${what}: version must be an integer ≥ 1, got ${String(bounds.version)}`, { version: bounds.version });
      }
      const first = bounds.version === 1;
      try {
        await client.write('PutItem', {
          TableName: tableName,
          Item: {
            pk: bounds.datasetId, sk: BOUNDS_SK, version: bounds.version,
            ...(bounds.first ? { first: { ...bounds.first } } : {}), ...(bounds.last ? { last: { ...bounds.last } } : {}),
          },
          ConditionExpression: first ? 'attribute_not_exists(pk)' : '#version = :previous',
          ...(first ? {} : { ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':previous': bounds.version - 1 } }),
        });
      } catch (cause) {
        if (isConditionFailed(cause)) {
          throw new ConflictError(`${what}: the bounds of ${bounds.datasetId} are not at version ${bounds.version - 1} in table ${tableName}; re-read and retry`, {
            datasetId: bounds.datasetId, version: bounds.version, tableName,
          });
        }
        throw wrapDynamoDbError(cause, what, `put the bounds of ${bounds.datasetId} v${bounds.version}`, tableName, { datasetId: bounds.datasetId });
      }
    },

    async *scan() {
      const pages = client.pages('Scan', {
        TableName: tableName, ...limit,
        FilterExpression: 'NOT begins_with(pk, :mark) AND NOT begins_with(sk, :mark)',
        ExpressionAttributeValues: { ':mark': RESERVED_KEY_MARK },
        ConsistentRead: true,
      });
      try {
        for await (const page of pages) {
          for (const item of page.items) yield fromItem(item, tableName);
        }
      } catch (cause) {
        throw wrapDynamoDbError(cause, what, 'scan', tableName, {});
      }
    },
  };
}

/** Decodes the bounds item; StoreError naming it when it is not one. */
function boundsFromItem(item: Record<string, unknown>, tableName: string): DatasetBounds {
  const edge = (value: unknown): EdgeCandle | undefined => {
    if (value === undefined) return undefined;
    const { openMs, checkedAtMs } = value as { openMs?: unknown; checkedAtMs?: unknown };
    if ((openMs !== null && typeof openMs !== 'number') || typeof checkedAtMs !== 'number') return undefined;
    return { openMs, checkedAtMs };
  };
  if (typeof item.pk !== 'string' || !Number.isInteger(item.version)) {
    throw new StoreError(`dynamodb coverage index: item ${String(item.pk)} ${BOUNDS_SK} in table ${tableName} is not a bounds record`, { details: { tableName, pk: item.pk } });
  }
  return { datasetId: item.pk, version: item.version as number, first: edge(item.first), last: edge(item.last) };
}

function toItem(record: PeriodRecord): RecordItem {
  return {
    pk: record.datasetId,
    sk: record.period,
    granularity: record.granularity,
    covered: record.covered.map((range) => ({ s: range.startMs, e: range.endMs })),
    parts: record.parts.map(toRefItem),
    ...(record.canonical ? { canonical: toRefItem(record.canonical) } : {}),
    version: record.version,
  };
}

function toRefItem(ref: ObjectRef): RefItem {
  return {
    key: ref.key, rows: ref.rows, sha256: ref.sha256, sizeBytes: ref.sizeBytes, ...(ref.crc32 === undefined ? {} : { crc32: ref.crc32 }), sources: [...ref.sources],
    ...(ref.firstOpenMs === undefined ? {} : { first: ref.firstOpenMs }), ...(ref.lastOpenMs === undefined ? {} : { last: ref.lastOpenMs }),
  };
}

/** Decodes an item; throws StoreError naming it when it is not a period record. */
function fromItem(raw: Record<string, unknown>, tableName: string): PeriodRecord {
  const item = raw as Partial<RecordItem>;
  if (typeof item.pk !== 'string' || typeof item.sk !== 'string' || !Number.isInteger(item.version) ||
      !Array.isArray(item.covered) || !Array.isArray(item.parts) || typeof item.granularity !== 'string') {
    throw new StoreError(`dynamodb coverage index: item ${String(item.pk)} ${String(item.sk)} in table ${tableName} is not a period record`, {
      details: { tableName, pk: item.pk, sk: item.sk },
    });
  }
  const covered: Range[] = item.covered.map((range) => ({ startMs: range.s, endMs: range.e }));
  return {
    datasetId: item.pk,
    period: item.sk,
    granularity: item.granularity as PeriodRecord['granularity'],
    covered,
    parts: item.parts.map(fromRefItem),
    ...(item.canonical ? { canonical: fromRefItem(item.canonical) } : {}),
    version: item.version as number,
  };
}

function fromRefItem(item: RefItem): ObjectRef {
  return {
    key: item.key, rows: item.rows, sha256: item.sha256, sizeBytes: item.sizeBytes,
    ...(typeof item.crc32 === 'number' ? { crc32: item.crc32 } : {}), sources: item.sources as ObjectRef['sources'],
    ...(item.first === undefined ? {} : { firstOpenMs: item.first }), ...(item.last === undefined ? {} : { lastOpenMs: item.last }),
  };
}

function validateRecord(record: PeriodRecord): void {
  validateDatasetId(record.datasetId);
  if (record.period === '' || record.period.startsWith(RESERVED_KEY_MARK) || record.period.includes('/')) {
    throw new InvalidInputError(`dynamodb coverage index: period ${JSON.stringify(record.period)} must be a non-empty key without '/' not starting with '#'`, { period: record.period });
  }
  if (!Number.isInteger(record.version) || record.version < 1) {
    throw new InvalidInputError(`dynamodb coverage index: version must be an integer ≥ 1, got ${String(record.version)}`, { version: record.version });
  }
}
