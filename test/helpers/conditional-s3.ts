/**
 * An S3 bucket that honours conditional writes, for the one behaviour s3rver cannot show: it
 * ignores `If-None-Match` / `If-Match` on PutObject. The project's S3 client (lib/store/s3-api.ts)
 * is given a fetch that answers from an in-memory bucket instead of the network: PutObject (412
 * PreconditionFailed when the condition is false, as AWS S3 does since 2024), GetObject (with an
 * ETag), DeleteObject and ListObjectsV2, counting the conditional writes it refused. The
 * requests are the real signed ones; only the server is replaced.
 */
import { createHash } from 'node:crypto';
import { createS3Client, type S3Client } from '../../lib/store/s3-api.ts';
import { awsOperation, requestOf, s3XmlError } from './aws-fetch.ts';

/** The client and what the bucket saw. */
export interface ConditionalS3 {
  readonly client: S3Client;
  /** Conditional PutObjects refused with 412 so far. */
  refused(): number;
  /** Forgets every object. */
  restore(): void;
}

/** An empty in-memory bucket behind the project's S3 client (path style, as with any custom endpoint). */
export function createConditionalS3(): ConditionalS3 {
  const objects = new Map<string, { body: Uint8Array; etag: string }>();
  let refused = 0;
  const answer = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const [bucket = '', ...rest] = url.pathname.slice(1).split('/').map(decodeURIComponent);
    const path = `${bucket}/${rest.join('/')}`;
    const operation = awsOperation(request);
    if (operation === 'PutObject') {
      const current = objects.get(path);
      const ifNoneMatch = request.headers.get('if-none-match');
      const ifMatch = request.headers.get('if-match');
      const holds = ifNoneMatch === '*' ? current === undefined : ifMatch === null || current?.etag === ifMatch;
      if (!holds) {
        refused++;
        return s3XmlError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      const body = new Uint8Array(await request.arrayBuffer());
      const etag = `"${createHash('md5').update(body).digest('hex')}"`; // as S3: the MD5 of a single-part upload
      objects.set(path, { body, etag });
      return new Response(null, { status: 200, headers: { etag } });
    }
    if (operation === 'GetObject') {
      const object = objects.get(path);
      if (!object) return s3XmlError(404, 'NoSuchKey', 'The specified key does not exist.');
      return new Response(object.body.slice(), { status: 200, headers: { etag: object.etag } });
    }
    if (operation === 'DeleteObject') {
      objects.delete(path);
      return new Response(null, { status: 204 });
    }
    if (operation === 'ListObjectsV2') {
      const prefix = `${bucket}/${url.searchParams.get('prefix') ?? ''}`;
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort().map((k) => k.slice(bucket.length + 1));
      const contents = keys.map((key) => `<Contents><Key>${key}</Key><Size>${objects.get(`${bucket}/${key}`)!.body.length}</Size></Contents>`).join('');
      return new Response(`<ListBucketResult>${contents}<IsTruncated>false</IsTruncated></ListBucketResult>`, { status: 200 });
    }
    return s3XmlError(501, 'NotImplemented', `conditional-s3: ${operation} is not supported`);
  };
  const client = createS3Client({
    endpoint: 'http://conditional-s3.invalid', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    fetch: async (input, init) => answer(requestOf(input, init)),
  });
  return { client, refused: () => refused, restore: () => objects.clear() };
}
