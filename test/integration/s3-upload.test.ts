/**
 * s3-upload.ts and the S3 results location on s3rver: a long stream of chunks becomes one object
 * through a multipart upload (parts of 5 MiB) and reads back byte for byte; a short one is one
 * PutObject; a body that fails midway, or a part S3 refuses, aborts the upload once every part in
 * flight has settled (never an unhandled rejection) and leaves no object. Streamed answers spilled
 * past the inline limit are in handlers-stream.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBucket } from '../../lib/store/aws-setup.ts';
import type { S3Client } from '../../lib/store/s3-api.ts';
import { MIN_PART_BYTES, uploadChunks } from '../../functions/shared/s3-upload.ts';
import { awsOperation, recordingFetch, requestOf, s3XmlError } from '../helpers/aws-fetch.ts';
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

  it('refills a stored part\'s buffer: 6 parts, one in flight, part 3 retried after a 503, read back byte for byte', async () => {
    const log: string[] = [];
    let part3 = 0;
    const flaky = aws.makeS3Client(recordingFetch(log, async (input, init) => {
      const request = requestOf(input, init);
      if (new URL(request.url).searchParams.get('partNumber') === '3' && ++part3 === 1) {
        await request.arrayBuffer();
        return s3XmlError(503, 'SlowDown', 'injected: retry part 3');
      }
      return fetch(input, init);
    }));
    const body = randomBytes(MIN_PART_BYTES * 5 + 4321);
    const allocations = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      await uploadChunks({ client: flaky, bucket: BUCKET, key: 'reused.bin', contentType: 'application/octet-stream', partsAtOnce: 1 }, inChunks(body, [777_777, 1_048_576]));
      // Parts 1 and 2 go together, a third fills meanwhile; every later part reuses one of those.
      expect(allocations.mock.calls.filter(([size]) => size === MIN_PART_BYTES)).toHaveLength(3);
    } finally {
      allocations.mockRestore();
    }
    expect(sha(await read('reused.bin'))).toBe(sha(body));
    expect(log.filter((name) => name === 'UploadPart')).toHaveLength(7);
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

  it('a body that fails with parts in flight: they land before the abort, the body\'s error is thrown, no object is left', async () => {
    const { client, events } = loggingClient();
    const failure = new Error('injected: the answer failed midway');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* inChunks(randomBytes(MIN_PART_BYTES * 2 + 1), [1_000_000]);
      throw failure;
    }
    await expect(uploadChunks({ client, bucket: BUCKET, key: 'failed.bin', contentType: 'text/csv' }, failing())).rejects.toBe(failure);
    const abort = events.indexOf('AbortMultipartUpload start');
    expect(abort).toBeGreaterThan(0);
    expect(events.filter((e) => e === 'UploadPart end')).toHaveLength(2);
    expect(events.lastIndexOf('UploadPart end')).toBeLessThan(abort);
    expect(events).not.toContain('CompleteMultipartUpload start');
    expect(await keys('failed.bin')).toEqual([]);
  }, 60_000);

  it('a part S3 refuses while the body is still being read is the upload\'s error (never an unhandled rejection), and the upload is aborted', async () => {
    const { client, events } = loggingClient((operation, url) => operation === 'UploadPart' && url.searchParams.get('partNumber') === '1');
    async function* slow(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 16; i++) {
        yield randomBytes(1024 * 1024);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    await expect(uploadChunks({ client, bucket: BUCKET, key: 'refused.bin', contentType: 'text/csv' }, slow())).rejects.toThrow(/injected: S3 refused part 1/);
    expect(events).toContain('AbortMultipartUpload start');
    expect(events).not.toContain('CompleteMultipartUpload start');
    expect(await keys('refused.bin')).toEqual([]);
  }, 60_000);
});

/**
 * A client whose fetch logs each operation's start and end (`UploadPart start`, …); `refuse`
 * answers the requests it matches with an S3 error instead of sending them.
 */
function loggingClient(refuse: (operation: string, url: URL) => boolean = () => false): { client: S3Client; events: string[] } {
  const events: string[] = [];
  const client = aws.makeS3Client(async (input, init) => {
    const request = requestOf(input, init);
    const operation = awsOperation(request);
    events.push(`${operation} start`);
    try {
      const url = new URL(request.url);
      if (refuse(operation, url)) return s3XmlError(500, 'InternalError', `injected: S3 refused part ${url.searchParams.get('partNumber')}`);
      return await fetch(input, init);
    } finally {
      events.push(`${operation} end`);
    }
  });
  return { client, events };
}

async function keys(prefix: string): Promise<string[]> {
  const listed = await s3.listObjects(BUCKET, prefix, 1000);
  return listed.objects.map((o) => o.key);
}
