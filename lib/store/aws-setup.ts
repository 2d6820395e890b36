/**
 * Creates the cache's bucket and table when they are missing (issue 3: `klines init`, for local
 * servers and first use; in AWS the infrastructure creates them). Both are idempotent and safe
 * to run from several processes at once: a create that loses the race reports `'exists'`.
 */
import { StoreError } from '../domain/errors.ts';
import type { DynamoDbClient } from './dynamodb-api.ts';
import type { S3Client } from './s3-api.ts';

/** The part of DescribeTable's answer that ensureTable reads. */
interface TableDescription {
  readonly TableStatus?: string;
  readonly KeySchema?: readonly { AttributeName?: string; KeyType?: string }[];
}

/** What an ensure call did. */
export type EnsureResult = 'created' | 'exists';

/** How long ensureTable waits for a new table to become ACTIVE by default (AWS takes seconds). */
export const TABLE_ACTIVE_TIMEOUT_MS = 300_000;

/**
 * Makes sure `bucket` exists: HeadBucket, and CreateBucket when it answers 404 (with a
 * LocationConstraint outside us-east-1, as S3 requires). Returns `'created'` or `'exists'`
 * (also when another process created it meanwhile: a create answered `BucketAlreadyExists`
 * counts as ours when a second HeadBucket then succeeds). Racing callers may each report
 * `'created'`: S3 in us-east-1 and s3rver answer a repeated CreateBucket by its owner with 200.. Throws StoreError naming the bucket, e.g.
 * on 403 (the bucket belongs to another account, or access is denied).
 */
export async function ensureBucket(client: S3Client, bucket: string): Promise<EnsureResult> {
  if (await headBucket(client, bucket)) return 'exists';
  try {
    await client.createBucket(bucket);
    return 'created';
  } catch (cause) {
    if (hasName(cause, 'BucketAlreadyOwnedByYou')) return 'exists';
    // A racing create (s3rver says BucketAlreadyExists): ours if we can now reach it.
    if (hasName(cause, 'BucketAlreadyExists') && (await headBucket(client, bucket))) return 'exists';
    throw setupError(`bucket ${bucket}`, 'create', cause, { bucket });
  }
}

/**
 * Makes sure table `tableName` exists with the cache's keys (pk S hash, sk S range; see
 * dynamodb-table.ts) in on-demand billing (PAY_PER_REQUEST), and waits until it is ACTIVE
 * (polling DescribeTable, at most `timeoutMs`). Returns `'created'` or `'exists'`. Throws
 * StoreError naming the table when an existing table has other keys, when it does not become
 * ACTIVE in time, or on any DynamoDB failure.
 */
export async function ensureTable(client: DynamoDbClient, tableName: string, timeoutMs = TABLE_ACTIVE_TIMEOUT_MS): Promise<EnsureResult> {
  let result: EnsureResult = 'exists';
  let table = await describeTable(client, tableName);
  if (!table) {
    try {
      await client.call('CreateTable', {
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        BillingMode: 'PAY_PER_REQUEST',
      });
      result = 'created';
    } catch (cause) {
      if (!hasName(cause, 'ResourceInUseException')) throw setupError(`table ${tableName}`, 'create', cause, { tableName });
    }
    table = await describeTable(client, tableName);
  }
  checkKeySchema(table, tableName);
  const deadlineMs = Date.now() + timeoutMs;
  for (let delayMs = 50; table?.TableStatus !== 'ACTIVE'; delayMs = Math.min(delayMs * 2, 2_000)) {
    if (Date.now() > deadlineMs) {
      throw new StoreError(`aws setup: table ${tableName} is ${table?.TableStatus ?? 'missing'}, not ACTIVE, after ${timeoutMs} ms`, { details: { tableName } });
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    table = await describeTable(client, tableName);
  }
  return result;
}

/** True when the bucket exists and is reachable, false on 404; StoreError otherwise. */
async function headBucket(client: S3Client, bucket: string): Promise<boolean> {
  try {
    return await client.headBucket(bucket);
  } catch (cause) {
    if (hasName(cause, 'NotFound', 'NoSuchBucket')) return false;
    throw setupError(`bucket ${bucket}`, 'check', cause, { bucket });
  }
}

async function describeTable(client: DynamoDbClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.call<{ Table?: TableDescription }>('DescribeTable', { TableName: tableName })).Table;
  } catch (cause) {
    if (hasName(cause, 'ResourceNotFoundException')) return undefined;
    throw setupError(`table ${tableName}`, 'describe', cause, { tableName });
  }
}

function checkKeySchema(table: TableDescription | undefined, tableName: string): void {
  if (!table) return;
  const keys = (table.KeySchema ?? []).map((key) => `${key.AttributeName}:${key.KeyType}`).sort().join(',');
  if (keys !== 'pk:HASH,sk:RANGE') {
    throw new StoreError(`aws setup: table ${tableName} has keys ${keys || 'none'}; the cache needs pk (HASH, S) and sk (RANGE, S)`, {
      details: { tableName, keys },
    });
  }
}

function hasName(error: unknown, ...names: string[]): boolean {
  return typeof error === 'object' && error !== null && names.includes(String((error as { name?: unknown }).name));
}

function setupError(what: string, action: string, cause: unknown, details: Record<string, unknown>): StoreError {
  const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return new StoreError(`aws setup: cannot ${action} ${what}: ${reason}`, { cause, details });
}
