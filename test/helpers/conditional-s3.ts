/**
 * An S3 bucket that honours conditional writes, for the one behaviour s3rver cannot show: it
 * ignores `If-None-Match` / `If-Match` on PutObject. Built with aws-sdk-client-mock (the
 * project's tool for what local servers cannot produce) on a real S3Client: an in-memory bucket
 * answering PutObject (412 PreconditionFailed when the condition is false, as AWS S3 does since
 * 2024), GetObject (with an ETag), DeleteObject and ListObjectsV2, and counting the conditional
 * writes it refused.
 */
import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

/** The mocked client and what the bucket saw. */
export interface ConditionalS3 {
  readonly client: S3Client;
  /** Conditional PutObjects refused with 412 so far. */
  refused(): number;
  /** Stops mocking the client. */
  restore(): void;
}

/** An empty in-memory bucket behind a real S3Client. */
export function createConditionalS3(): ConditionalS3 {
  const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const mock = mockClient(client);
  const objects = new Map<string, { body: Uint8Array; etag: string }>();
  let refused = 0;
  const key = (input: { Bucket?: string; Key?: string }): string => `${input.Bucket}/${input.Key}`;

  mock.on(PutObjectCommand).callsFake((input: { Bucket: string; Key: string; Body: Uint8Array; IfMatch?: string; IfNoneMatch?: string }) => {
    const current = objects.get(key(input));
    const holds = input.IfNoneMatch === '*' ? current === undefined : input.IfMatch === undefined || current?.etag === input.IfMatch;
    if (!holds) {
      refused++;
      throw new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', message: 'At least one of the pre-conditions you specified did not hold', $metadata: { httpStatusCode: 412 } });
    }
    const body = new Uint8Array(input.Body);
    const etag = `"${createHash('md5').update(body).digest('hex')}"`; // as S3: the MD5 of a single-part upload
    objects.set(key(input), { body, etag });
    return { ETag: etag };
  });
  mock.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    const object = objects.get(key(input));
    if (!object) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
    const body = object.body.slice();
    return { ETag: object.etag, Body: { transformToByteArray: async () => body } };
  });
  mock.on(DeleteObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
    objects.delete(key(input));
    return {};
  });
  mock.on(ListObjectsV2Command).callsFake((input: { Bucket: string; Prefix?: string }) => {
    const prefix = `${input.Bucket}/${input.Prefix ?? ''}`;
    const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort().map((k) => ({ Key: k.slice(input.Bucket.length + 1) }));
    return { Contents: keys, IsTruncated: false };
  });
  return { client, refused: () => refused, restore: () => mock.restore() };
}
