/**
 * s3-upload.ts and the S3 results location on s3rver: a long stream of chunks becomes one object
 * through a multipart upload (parts of 5 MiB) and reads back byte for byte; a short one is one
 * PutObject; a body that fails midway, or a part S3 refuses, aborts the upload once every part in
 * flight has settled (never an unhandled rejection) and leaves no object. Streamed answers spilled
 * past the inline limit are in handlers-stream.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
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

  it('a body that fails with parts in flight: they land before the abort, the body\'s error is thrown, no object is left', async () => {
    const { client, events } = loggingClient();
    const failure = new Error('injected: the answer failed midway');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* inChunks(randomBytes(MIN_PART_BYTES * 2 + 1), [1_000_000]);
      throw failure;
    }
    await expect(uploadChunks({ client, bucket: BUCKET, key: 'failed.bin', contentType: 'text/csv' }, failing())).rejects.toBe(failure);
    const abort = events.indexOf('AbortMultipartUploadCommand start');
    expect(abort).toBeGreaterThan(0);
    expect(events.filter((e) => e === 'UploadPartCommand end')).toHaveLength(2);
    expect(events.lastIndexOf('UploadPartCommand end')).toBeLessThan(abort);
    expect(events).not.toContain('CompleteMultipartUploadCommand start');
    expect(await keys('failed.bin')).toEqual([]);
  }, 60_000);

  it('a part S3 refuses while the body is still being read is the upload\'s error (never an unhandled rejection), and the upload is aborted', async () => {
    const { client, events } = loggingClient((name, input) => name === 'UploadPartCommand' && input.PartNumber === 1);
    async function* slow(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 16; i++) {
        yield randomBytes(1024 * 1024);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    await expect(uploadChunks({ client, bucket: BUCKET, key: 'refused.bin', contentType: 'text/csv' }, slow())).rejects.toThrow(/injected: S3 refused part 1/);
    expect(events).toContain('AbortMultipartUploadCommand start');
    expect(events).not.toContain('CompleteMultipartUploadCommand start');
    expect(await keys('refused.bin')).toEqual([]);
  }, 60_000);
});

/** A client that logs each command's start and end; `refuse` injects a failure (an S3 error) for the commands it matches. */
function loggingClient(refuse: (name: string, input: Record<string, unknown>) => boolean = () => false): { client: S3Client; events: string[] } {
  const client = aws.makeS3Client();
  const events: string[] = [];
  client.middlewareStack.add((next, context) => async (args) => {
    const name = String(context.commandName);
    events.push(`${name} start`);
    try {
      if (refuse(name, args.input as Record<string, unknown>)) throw new Error(`injected: S3 refused part ${(args.input as { PartNumber?: number }).PartNumber}`);
      return await next(args);
    } finally {
      events.push(`${name} end`);
    }
  }, { step: 'initialize', name: 'testEventLog' });
  return { client, events };
}

async function keys(prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

