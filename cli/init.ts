/**
 * `klines init`: creates what the configured cache needs when it is missing (issue 3, item 4):
 * the S3 bucket and the DynamoDB table for `KLINES_STORE=s3://…` / `KLINES_INDEX=dynamodb://…`
 * (for local servers and first use; in AWS the infrastructure creates them), or the local cache
 * folder. Prints one line per resource saying what it did.
 */
import { mkdir } from 'node:fs/promises';
import type { Config } from '../lib/config.ts';
import type { CacheHandles } from '../lib/create-service.ts';
import { ensureBucket, ensureTable } from '../lib/store/aws-setup.ts';
import type { TextOutput } from './validate.ts';

/** Runs `klines init`; returns 0. Throws StoreError when a resource cannot be created. */
export async function runInit(config: Config, handles: CacheHandles, stdout: TextOutput): Promise<number> {
  if (config.store.kind === 's3' && handles.s3) {
    const result = await ensureBucket(handles.s3, config.store.bucket);
    stdout.write(`bucket s3://${config.store.bucket}: ${result === 'created' ? 'created' : 'already exists'}\n`);
  }
  if (config.index.kind === 'dynamodb' && handles.dynamodb) {
    const result = await ensureTable(handles.dynamodb, config.index.table);
    stdout.write(`table ${config.index.table}: ${result === 'created' ? 'created' : 'already exists'}\n`);
  }
  if (config.store.kind === 'fs' || config.index.kind === 'fs') {
    await mkdir(config.cacheDir, { recursive: true });
    stdout.write(`local cache ${config.cacheDir}: ready\n`);
  }
  return 0;
}
