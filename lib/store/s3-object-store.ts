/**
 * ObjectStore on Amazon S3 (DESIGN.md, Storage; issue 3). Keys are the same as on the local file
 * system, under an optional prefix, so Athena or DuckDB read `s3://{bucket}/{prefix}binance/...`
 * directly. A PutObject is atomic (readers see the old or the new whole object). Canonical files
 * are written with S3 conditional writes (If-None-Match: * / If-Match: ETag, AWS S3 since 2024),
 * so a slow compactor cannot overwrite a newer one (kline-cache.ts). Local servers such as s3rver
 * ignore those headers: there the period lease remains the guard. No range reads.
 */
import { ConflictError, InvalidInputError, StoreError } from '../domain/errors.ts';
import { validateKey } from './fs-object-store.ts';
import type { S3Client } from './s3-api.ts';
import type { ObjectStore, TaggedObject } from './types.ts';

/**
 * Options of {@link createS3ObjectStore}.
 * - `prefix`: a key prefix inside the bucket (`cache` or `cache/`; a trailing `/` is added);
 *   default none. Its segments must be valid keys (see validateKey).
 * - `pageSize`: keys per ListObjectsV2 page (1 … 1000, S3's maximum and the default); smaller
 *   values only make tests cover pagination with few objects.
 */
export interface S3ObjectStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix?: string | undefined;
  readonly pageSize?: number | undefined;
}

/**
 * An ObjectStore in `bucket` under `prefix`. Same semantics as the fs store:
 * - `get` → `undefined` only for a missing key (S3 `NoSuchKey`); a missing bucket or denied
 *   access is a StoreError (grant `s3:ListBucket`, else S3 answers 403 for missing keys).
 * - `delete` of a missing key is a no-op (S3 DeleteObject is idempotent).
 * - `put` with a condition sends `If-None-Match: *` or `If-Match: {ETag}`; S3's 412
 *   PreconditionFailed (and 409 ConditionalRequestConflict, a concurrent conditional write)
 *   throw ConflictError. `getTagged` returns the object's ETag as its tag.
 * - `list(prefix)` is a plain string prefix over keys, all pages, returned without the store's
 *   prefix and sorted.
 * Bad keys throw InvalidInputError; S3 failures throw StoreError whose message names
 * `s3://bucket/key` and whose `details` hold `{ bucket, key }`.
 */
export function createS3ObjectStore(options: S3ObjectStoreOptions): ObjectStore {
  const { client, bucket } = options;
  const prefix = normalizePrefix(options.prefix);
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new InvalidInputError(`s3 object store: pageSize must be an integer 1…1000, got ${String(pageSize)}`, { pageSize });
  }
  const fail = (action: string, key: string, cause: unknown): StoreError => {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    return new StoreError(`s3 object store: cannot ${action} s3://${bucket}/${prefix}${key}: ${reason}`, {
      cause,
      details: { bucket, key, prefix },
    });
  };

  const getTagged = async (key: string): Promise<TaggedObject | undefined> => {
    validateKey(key);
    try {
      const { body, etag } = await client.getObject(bucket, prefix + key);
      return { body, tag: etag };
    } catch (cause) {
      if (isMissingKey(cause)) return undefined;
      throw fail('read', key, cause);
    }
  };

  return {
    async put(key, body, condition) {
      validateKey(key);
      const precondition = !condition ? {} : 'ifNoneMatch' in condition ? { ifNoneMatch: '*' as const } : { ifMatch: condition.ifMatch };
      try {
        await client.putObject(bucket, prefix + key, body, precondition);
      } catch (cause) {
        if (condition && isPreconditionFailed(cause)) {
          throw new ConflictError(`s3 object store: s3://${bucket}/${prefix}${key} changed since it was read (conditional write refused); re-read and retry`, { bucket, key, prefix });
        }
        throw fail('write', key, cause);
      }
    },

    async get(key) {
      return (await getTagged(key))?.body;
    },

    getTagged,

    async delete(key) {
      validateKey(key);
      try {
        await client.deleteObject(bucket, prefix + key);
      } catch (cause) {
        throw fail('delete', key, cause);
      }
    },

    async list(listPrefix) {
      validateKey(listPrefix.endsWith('/') ? listPrefix.slice(0, -1) : listPrefix, true);
      const keys: string[] = [];
      try {
        let token: string | undefined;
        do {
          const page = await client.listObjects(bucket, prefix + listPrefix, pageSize, token);
          for (const object of page.objects) {
            if (object.key.startsWith(prefix)) keys.push(object.key.slice(prefix.length));
          }
          token = page.nextToken;
        } while (token);
      } catch (cause) {
        throw fail('list', listPrefix, cause);
      }
      return keys.sort();
    },
  };
}

/** `undefined`/`''` → `''`; `a/b` or `a/b/` → `a/b/`. Throws InvalidInputError for a bad prefix. */
function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  validateKey(trimmed);
  return `${trimmed}/`;
}

/** S3's answers to a conditional write whose condition failed (412) or raced another one (409). */
function isPreconditionFailed(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, status } = error as { name?: unknown; status?: unknown };
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409;
}

/** S3's answer for an absent key (not an absent bucket, which is also a 404). */
function isMissingKey(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = (error as { name?: unknown }).name;
  return name === 'NoSuchKey' || name === 'NotFound';
}
