/**
 * Reads whole S3 objects for the handlers (the watchlist at `KLINES_WATCHLIST_S3`).
 */
import { createS3ObjectStore } from '../../lib/store/s3-object-store.ts';
import type { S3Client } from '../../lib/store/s3-api.ts';

/**
 * A reader of `s3://bucket/key` on `s3`: the object's bytes, or `undefined` when it does not
 * exist. Throws StoreError when S3 fails, and an Error naming the object when no client was given
 * (nothing configured lives in S3).
 */
export function s3ObjectReader(s3: S3Client | undefined): (bucket: string, key: string) => Promise<Uint8Array | undefined> {
  return async (bucket, key) => {
    if (!s3) throw new Error(`runtime: s3://${bucket}/${key} needs an S3 client`);
    return createS3ObjectStore({ client: s3, bucket }).get(key);
  };
}
