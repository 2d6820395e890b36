/**
 * The two cache backends end-to-end tests run on: the embedded local default, and S3 + DynamoDB
 * on the local servers. Each `prepare()` gives a fresh, empty cache and the environment that
 * points `klines` (or loadConfig) at it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBucket, ensureTable } from '../../lib/store/aws-setup.ts';
import type { LocalAws } from './local-aws.ts';

/** A fresh cache: its environment variables and a clean-up. */
export interface PreparedBackend {
  readonly env: Record<string, string>;
  cleanup(): Promise<void>;
}

let counter = 0;

/** A fresh local cache folder. */
export async function prepareFsBackend(): Promise<PreparedBackend> {
  const dir = await mkdtemp(join(tmpdir(), 'klines-fs-'));
  return { env: { KLINES_CACHE_DIR: dir }, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A fresh bucket and table on the local AWS servers (plus a cache folder that must stay unused). */
export async function prepareAwsBackend(aws: LocalAws): Promise<PreparedBackend> {
  counter++;
  const bucket = `klines-test-${process.pid}-${counter}`;
  const table = `klines-test-${process.pid}-${counter}`;
  await ensureBucket(aws.makeS3Client(), bucket);
  await ensureTable(aws.makeDynamoClient(), table);
  const dir = await mkdtemp(join(tmpdir(), 'klines-unused-'));
  return {
    env: { ...aws.env, KLINES_STORE: `s3://${bucket}/cache`, KLINES_INDEX: `dynamodb://${table}`, KLINES_CACHE_DIR: dir },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
