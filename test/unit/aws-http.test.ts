/**
 * The signed-fetch AWS client (lib/store/aws-http.ts) and the S3 addressing over it, with a fetch
 * that records the requests and answers from a script: which answers are retried (5xx, 429,
 * throttling codes, no answer) and which are not (other 4xx), how AWS error bodies become errors,
 * how requests are addressed and signed, and where the configuration's credentials come from.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { AwsRequestError, createAwsHttpClient, errorFromResponse } from '../../lib/store/aws-http.ts';
import { createS3Client } from '../../lib/store/s3-api.ts';
import { awsJsonError, requestOf, s3XmlError } from '../helpers/aws-fetch.ts';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

/** An answer of the script: a response made afresh for each call, or an Error = no answer. */
type Answer = (() => Response) | Error;

/** A fetch answering `answers` in order (the last one repeats) and recording each request. */
function scripted(answers: readonly Answer[]): { fetch: typeof fetch; requests: Request[] } {
  const requests: Request[] = [];
  let next = 0;
  return {
    requests,
    fetch: async (input, init) => {
      requests.push(requestOf(input, init));
      const answer = answers[Math.min(next++, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer();
    },
  };
}

const client = (fetch: typeof globalThis.fetch) => createAwsHttpClient('dynamodb', { endpoint: 'http://127.0.0.1:1', region: 'eu-west-1', credentials, fetch });
const post = { method: 'POST', url: 'http://127.0.0.1:1/', body: '{}' };

describe('createAwsHttpClient retries', () => {
  it.each<[string, Answer]>([
    ['a 500', () => new Response('', { status: 500 })],
    ['a 429', () => new Response('', { status: 429 })],
    ['a throttling 400', () => awsJsonError(400, 'com.amazonaws.dynamodb.v20120810#ThrottlingException', 'slow down')],
    ['no answer', new Error('ECONNRESET')],
  ])('retries %s, up to 3 attempts in all, then answers', async (_, failure) => {
    const { fetch, requests } = scripted([failure, failure, () => new Response('{"ok":true}', { status: 200 })]);
    const response = await client(fetch).send(post);
    expect(response.status).toBe(200);
    expect(requests).toHaveLength(3);
  });

  it('never retries another 4xx (asking again gets the same answer)', async () => {
    const { fetch, requests } = scripted([() => awsJsonError(400, 'com.amazonaws.dynamodb.v20120810#ValidationException', 'bad key')]);
    expect((await client(fetch).send(post)).status).toBe(400);
    expect(requests).toHaveLength(1);
  });

  it('gives up after 3 attempts with no answer, with a NetworkError naming the request', async () => {
    const { fetch, requests } = scripted([new Error('connect ECONNREFUSED')]);
    const error = await client(fetch).send(post).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsRequestError);
    expect(error).toMatchObject({ name: 'NetworkError', status: 0 });
    expect((error as Error).message).toContain('POST http://127.0.0.1:1/');
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect(requests).toHaveLength(3);
  });

  it('signs every attempt with SigV4 for the service and region', async () => {
    const { fetch, requests } = scripted([() => new Response('', { status: 503 }), () => new Response('{}', { status: 200 })]);
    await client(fetch).send(post);
    for (const request of requests) {
      expect(request.headers.get('authorization')).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/);
      expect(request.headers.get('x-amz-date')).toMatch(/^\d{8}T\d{6}Z$/);
    }
  });
});

describe('byte bodies', () => {
  it('sends an S3 byte body whole on every attempt, with its length, unsigned (UNSIGNED-PAYLOAD)', async () => {
    const { fetch, requests } = scripted([() => new Response('', { status: 503 }), () => new Response('', { status: 200 })]);
    const body = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256);
    await createAwsHttpClient('s3', { endpoint: 'http://127.0.0.1:1', region: 'eu-west-1', credentials, fetch }).send({ method: 'PUT', url: 'http://127.0.0.1:1/b/k', body });
    expect(requests).toHaveLength(2);
    for (const request of requests) {
      expect(Buffer.from(await request.arrayBuffer()).equals(Buffer.from(body))).toBe(true);
      expect(request.headers.get('content-length')).toBe('70000');
    }
  });

  it('sends strings, empty bodies and other services\' byte bodies as they are (aws4fetch hashes those: a stream would throw)', async () => {
    const { fetch, requests } = scripted([() => new Response('', { status: 200 })]);
    const s3 = createAwsHttpClient('s3', { endpoint: 'http://127.0.0.1:1', region: 'eu-west-1', credentials, fetch });
    await s3.send({ method: 'PUT', url: 'http://127.0.0.1:1/b/empty', body: new Uint8Array(0) });
    await client(fetch).send(post);
    await client(fetch).send({ ...post, body: new Uint8Array([123, 125]) });
    expect(await requests[0]!.text()).toBe('');
    expect(await requests[1]!.text()).toBe('{}');
    expect(await requests[2]!.text()).toBe('{}');
  });

  it('answers a redirect as S3\'s error, neither followed nor retried, a byte body included', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      if (req.url === '/elsewhere') return void res.end('followed');
      res.writeHead(307, { location: '/elsewhere', 'content-type': 'application/xml' });
      res.end('<Error><Code>TemporaryRedirect</Code><Message>Please re-send this request to the specified temporary endpoint.</Message></Error>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const s3 = createS3Client({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'eu-west-1', credentials });
      await expect(s3.putObject('bucket', 'key', new Uint8Array(1000))).rejects.toMatchObject({ name: 'TemporaryRedirect', status: 307 });
      await expect(s3.getObject('bucket', 'key')).rejects.toMatchObject({ name: 'TemporaryRedirect', status: 307 });
      expect(seen).toEqual(['PUT /bucket/key', 'GET /bucket/key']);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('errorFromResponse', () => {
  it('names the error by the JSON protocols\' __type and keeps the message', async () => {
    const error = await errorFromResponse(awsJsonError(400, 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', 'The conditional request failed'), 'dynamodb PutItem');
    expect(error).toMatchObject({ name: 'ConditionalCheckFailedException', status: 400, message: 'dynamodb PutItem: The conditional request failed' });
  });

  it('names the error by S3\'s XML <Code>, and by the status when there is no body (HEAD)', async () => {
    expect(await errorFromResponse(s3XmlError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'), 's3 PutObject'))
      .toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(await errorFromResponse(new Response(null, { status: 404 }), 's3 HeadBucket')).toMatchObject({ name: 'NotFound', status: 404, message: 's3 HeadBucket: HTTP 404' });
    expect(await errorFromResponse(new Response(null, { status: 403 }), 's3 HeadBucket')).toMatchObject({ name: 'Forbidden' });
    expect(await errorFromResponse(new Response('<html>bad gateway</html>', { status: 502 }), 's3 GetObject')).toMatchObject({ name: 'Http502' });
  });
});

describe('S3 addressing', () => {
  it('puts the bucket in the path with a custom endpoint, and encodes each key segment', async () => {
    const { fetch, requests } = scripted([() => new Response('', { status: 200, headers: { etag: '"abc"' } })]);
    const s3 = createS3Client({ endpoint: 'http://127.0.0.1:4568/', region: 'us-east-1', credentials, fetch });
    expect(await s3.putObject('bucket', 'a b/c+d.parquet', new Uint8Array([1]), { ifNoneMatch: '*' })).toBe('"abc"');
    expect(requests[0]!.url).toBe('http://127.0.0.1:4568/bucket/a%20b/c%2Bd.parquet');
    expect(requests[0]!.headers.get('if-none-match')).toBe('*');
    expect(requests[0]!.headers.get('x-amz-content-sha256')).toBe('UNSIGNED-PAYLOAD');
  });

  it('puts the bucket in the host name on AWS, and presigns a GET valid for the given seconds', async () => {
    const { fetch, requests } = scripted([() => new Response('x', { status: 200, headers: { etag: '"e"' } })]);
    const s3 = createS3Client({ region: 'eu-west-1', credentials, fetch });
    await s3.getObject('klines-results', 'results/2024-01-01/x.csv');
    expect(requests[0]!.url).toBe('https://klines-results.s3.eu-west-1.amazonaws.com/results/2024-01-01/x.csv');
    const url = new URL(await s3.presignGet('klines-results', 'results/2024-01-01/x.csv', 900));
    expect(url.host).toBe('klines-results.s3.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDTEST\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads ListObjectsV2 pages: keys (XML-decoded), sizes and the next token only when truncated', async () => {
    const page = '<ListBucketResult><Contents><Key>a/x&amp;y</Key><Size>3</Size></Contents><Contents><Key>a/z</Key><Size>0</Size></Contents>'
      + '<IsTruncated>true</IsTruncated><NextContinuationToken>tok/1+</NextContinuationToken></ListBucketResult>';
    const { fetch, requests } = scripted([() => new Response(page, { status: 200 })]);
    const s3 = createS3Client({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials, fetch });
    expect(await s3.listObjects('b', 'a/', 2, 'prev')).toEqual({ objects: [{ key: 'a/x&y', sizeBytes: 3 }, { key: 'a/z', sizeBytes: 0 }], nextToken: 'tok/1+' });
    expect(Object.fromEntries(new URL(requests[0]!.url).searchParams)).toEqual({ 'list-type': '2', prefix: 'a/', 'max-keys': '2', 'continuation-token': 'prev' });
  });
});

describe('credentials from the configuration', () => {
  it('reads the keys Lambda sets, and leaves them to the standard chain when absent', () => {
    expect(loadConfig({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' }).aws.credentials)
      .toEqual({ accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: 't' });
    expect(loadConfig({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's' }).aws.credentials).toEqual({ accessKeyId: 'AKID', secretAccessKey: 's', sessionToken: undefined });
    expect(loadConfig({ AWS_ACCESS_KEY_ID: 'AKID' }).aws.credentials).toBeUndefined();
    expect(loadConfig({}).aws.credentials).toBeUndefined();
  });
});
