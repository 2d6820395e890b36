/**
 * s3-upload.ts and the S3 results location on s3rver: a long stream of chunks becomes one object
 * through a multipart upload (parts of 5 MiB) and reads back byte for byte; a short one is one
 * PutObject; a streamed CSV answer spilled past the inline limit reads back exactly.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBucket } from '../../lib/store/aws-setup.ts';
import type { S3Client } from '../../lib/store/s3-api.ts';
import { MIN_PART_BYTES, uploadChunks } from '../../functions/shared/s3-upload.ts';
import { recordingFetch, requestOf } from '../helpers/aws-fetch.ts';
import { startLocalAws, type LocalAws } from '../helpers/local-aws.ts';

const BUCKET = 'klines-upload-test';
let aws: LocalAws;
let s3: S3Client;
const sent: string[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
  s3 = aws.makeS3Client(recordingFetch(sent));
  await ensureBucket(s3, BUCKET);
}, 60_000);

afterAll(async () => {
  await aws?.close();
});

async function* inChunks(bytes: Buffer, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

async function read(key: string): Promise<Buffer> {
  return Buffer.from((await s3.getObject(BUCKET, key)).body);
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('uploadChunks', () => {
  it('uploads 12 MiB of uneven chunks as a 3-part multipart upload that reads back byte for byte', async () => {
    const body = randomBytes(12 * 1024 * 1024 + 12_345);
    sent.length = 0;
    await uploadChunks({ client: s3, bucket: BUCKET, key: 'long.bin', contentType: 'application/octet-stream' }, inChunks(body, [1, 65_536, 1_000_003, 262_144]));
    expect(sha(await read('long.bin'))).toBe(sha(body));
    expect(sent.filter((name) => name !== 'GetObject')).toEqual([
      'CreateMultipartUpload', 'UploadPart', 'UploadPart', 'UploadPart', 'CompleteMultipartUpload',
    ]);
  }, 60_000);

  it('sends a body of at most one part as one PutObject, and an empty body as an empty object', async () => {
    const body = randomBytes(MIN_PART_BYTES);
    sent.length = 0;
    await uploadChunks({ client: s3, bucket: BUCKET, key: 'one.bin', contentType: 'text/csv' }, inChunks(body, [300_000]));
    await uploadChunks({ client: s3, bucket: BUCKET, key: 'empty.bin', contentType: 'text/csv' }, inChunks(Buffer.alloc(0), [1]));
    expect(sent).toEqual(['PutObject', 'PutObject']);
    expect(sha(await read('one.bin'))).toBe(sha(body));
    expect((await read('empty.bin')).length).toBe(0);
  }, 60_000);

  it('aborts the multipart upload when a part fails, and throws the S3 error', async () => {
    const log: string[] = [];
    let parts = 0;
    const failing = aws.makeS3Client(recordingFetch(log, async (input, init) => {
      if (requestOf(input, init).url.includes('partNumber=') && ++parts === 2) {
        return new Response('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>', { status: 403 });
      }
      return fetch(input, init);
    }));
    const body = randomBytes(MIN_PART_BYTES * 2 + 1);
    await expect(uploadChunks({ client: failing, bucket: BUCKET, key: 'aborted.bin', contentType: 'text/csv' }, inChunks(body, [MIN_PART_BYTES])))
      .rejects.toThrow(/AccessDenied|Access Denied/);
    expect(log).toContain('AbortMultipartUpload');
    expect(log).not.toContain('CompleteMultipartUpload');
    await expect(s3.getObject(BUCKET, 'aborted.bin')).rejects.toMatchObject({ name: 'NoSuchKey' });
  }, 60_000);

  it('throws the S3 error when the bucket does not exist', async () => {
    const body = randomBytes(MIN_PART_BYTES * 2);
    await expect(uploadChunks({ client: s3, bucket: 'no-such-bucket-here', key: 'x.bin', contentType: 'text/csv' }, inChunks(body, [MIN_PART_BYTES])))
      .rejects.toThrow(/bucket/i);
  }, 60_000);
});
