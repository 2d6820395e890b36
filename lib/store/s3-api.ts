/**
 * The S3 REST API calls the cache and the handlers make (AWS docs, "Amazon S3 API Reference"),
 * over {@link createAwsHttpClient}: GetObject, PutObject (with `If-None-Match: *` / `If-Match`),
 * DeleteObject, ListObjectsV2, HeadBucket, CreateBucket, the multipart upload calls, and a
 * presigned GET URL. With a custom `endpoint` (local servers on 127.0.0.1) buckets go in the
 * path; without, in the host name (`{bucket}.s3.{region}.amazonaws.com`). Payloads are sent
 * unsigned (`UNSIGNED-PAYLOAD`, allowed over TLS): the coverage index keeps each object's sha256.
 * Failures reject with AwsRequestError named by S3's error code (`NoSuchKey`, `PreconditionFailed`, …).
 */
import { createAwsHttpClient, errorFromResponse, type AwsClientOptions, type AwsHttpClient } from './aws-http.ts';

/** One listed object: its full key and size in bytes. */
export interface S3ListedObject {
  readonly key: string;
  readonly sizeBytes: number;
}

/** An S3 client (one per process). */
export interface S3Client {
  /** The object's bytes and ETag; rejects with `NoSuchKey` for a missing key. */
  getObject(bucket: string, key: string): Promise<{ body: Uint8Array; etag: string }>;
  /** Writes the object; `ifNoneMatch: '*'` / `ifMatch: etag` make it conditional (412 `PreconditionFailed`). Resolves with the new ETag. */
  putObject(bucket: string, key: string, body: Uint8Array | string, options?: PutOptions): Promise<string>;
  deleteObject(bucket: string, key: string): Promise<void>;
  /** One ListObjectsV2 page (`maxKeys` ≤ 1000) and the token of the next, if any. */
  listObjects(bucket: string, prefix: string, maxKeys: number, continuationToken?: string): Promise<{ objects: S3ListedObject[]; nextToken?: string | undefined }>;
  /** HeadBucket: true when it exists and is reachable, false on 404; rejects otherwise. */
  headBucket(bucket: string): Promise<boolean>;
  /** CreateBucket, with a LocationConstraint outside us-east-1 (as S3 requires). */
  createBucket(bucket: string): Promise<void>;
  createMultipartUpload(bucket: string, key: string, contentType: string): Promise<string>;
  /** Uploads part `partNumber` (1-based); resolves with its ETag. */
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<string>;
  completeMultipartUpload(bucket: string, key: string, uploadId: string, etags: readonly string[]): Promise<void>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  /** A GET URL for the object that works without credentials for `expiresSeconds`. */
  presignGet(bucket: string, key: string, expiresSeconds: number): Promise<string>;
}

/** Conditions and headers of a PutObject. */
export interface PutOptions {
  readonly ifNoneMatch?: '*';
  readonly ifMatch?: string;
  readonly contentType?: string;
}

/** An S3 client for `options` (endpoint → path-style addressing; region; credentials; fetch). */
export function createS3Client(options: AwsClientOptions = {}): S3Client {
  const http = createAwsHttpClient('s3', options);
  const pathStyle = options.endpoint !== undefined;
  const objectUrl = async (bucket: string, key = '', query = ''): Promise<string> => {
    const path = key.split('/').map(encodeURIComponent).join('/');
    const base = pathStyle ? `${await http.baseUrl()}/${bucket}` : `https://${bucket}.s3.${await http.region()}.amazonaws.com`;
    return `${base}/${path}${query}`;
  };
  const call = async (what: string, method: string, url: string, headers: Record<string, string> = {}, body?: Uint8Array | string): Promise<Response> => {
    const response = await http.send({ method, url, headers, ...(body === undefined ? {} : { body }) });
    if (!response.ok) throw await errorFromResponse(response, `s3 ${what}`);
    return response;
  };
  return {
    async getObject(bucket, key) {
      const response = await call('GetObject', 'GET', await objectUrl(bucket, key));
      return { body: new Uint8Array(await response.arrayBuffer()), etag: response.headers.get('etag') ?? '' };
    },
    async putObject(bucket, key, body, put = {}) {
      const headers: Record<string, string> = {
        ...(put.ifNoneMatch ? { 'if-none-match': put.ifNoneMatch } : {}), ...(put.ifMatch ? { 'if-match': put.ifMatch } : {}),
        ...(put.contentType ? { 'content-type': put.contentType } : {}),
      };
      const response = await call('PutObject', 'PUT', await objectUrl(bucket, key), headers, body);
      await response.body?.cancel();
      return response.headers.get('etag') ?? '';
    },
    async deleteObject(bucket, key) {
      await (await call('DeleteObject', 'DELETE', await objectUrl(bucket, key))).body?.cancel();
    },
    async listObjects(bucket, prefix, maxKeys, token) {
      const query = new URLSearchParams({ 'list-type': '2', prefix, 'max-keys': String(maxKeys), ...(token ? { 'continuation-token': token } : {}) });
      const xml = await (await call('ListObjectsV2', 'GET', await objectUrl(bucket, '', `?${query}`))).text();
      const objects = xmlBlocks(xml, 'Contents').map((block) => ({ key: xmlText(block, 'Key') ?? '', sizeBytes: Number(xmlText(block, 'Size') ?? 0) }));
      return { objects, nextToken: xmlText(xml, 'IsTruncated') === 'true' ? xmlText(xml, 'NextContinuationToken') : undefined };
    },
    async headBucket(bucket) {
      const response = await http.send({ method: 'HEAD', url: await objectUrl(bucket) });
      if (response.status === 404) return false;
      if (!response.ok) throw await errorFromResponse(response, 's3 HeadBucket');
      return true;
    },
    async createBucket(bucket) {
      const region = await http.region();
      const body = region === 'us-east-1' ? undefined
        : `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${region}</LocationConstraint></CreateBucketConfiguration>`;
      await (await call('CreateBucket', 'PUT', await objectUrl(bucket), {}, body)).body?.cancel();
    },
    async createMultipartUpload(bucket, key, contentType) {
      const xml = await (await call('CreateMultipartUpload', 'POST', await objectUrl(bucket, key, '?uploads='), { 'content-type': contentType })).text();
      const uploadId = xmlText(xml, 'UploadId');
      if (!uploadId) throw new Error(`s3 CreateMultipartUpload: s3://${bucket}/${key}: the answer has no UploadId`);
      return uploadId;
    },
    async uploadPart(bucket, key, uploadId, partNumber, body) {
      const query = `?${new URLSearchParams({ partNumber: String(partNumber), uploadId })}`;
      const response = await call('UploadPart', 'PUT', await objectUrl(bucket, key, query), {}, body);
      await response.body?.cancel();
      const etag = response.headers.get('etag');
      if (!etag) throw new Error(`s3 UploadPart: part ${partNumber} of s3://${bucket}/${key} came back without an ETag`);
      return etag;
    },
    async completeMultipartUpload(bucket, key, uploadId, etags) {
      const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`).join('');
      const response = await call('CompleteMultipartUpload', 'POST', await objectUrl(bucket, key, `?${new URLSearchParams({ uploadId })}`), {
        'content-type': 'application/xml',
      }, `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts}</CompleteMultipartUpload>`);
      // S3 may answer 200 and still fail the completion, with an <Error> body (API reference).
      const xml = await response.text();
      if (xml.includes('<Error>')) throw await errorFromResponse(new Response(xml, { status: 500 }), 's3 CompleteMultipartUpload');
    },
    async abortMultipartUpload(bucket, key, uploadId) {
      await (await call('AbortMultipartUpload', 'DELETE', await objectUrl(bucket, key, `?${new URLSearchParams({ uploadId })}`))).body?.cancel();
    },
    async presignGet(bucket, key, expiresSeconds) {
      return http.presign(await objectUrl(bucket, key), expiresSeconds);
    },
  };
}

/** The inner texts of every `<tag>…</tag>` in `xml` (S3's answers do not nest a tag in itself). */
function xmlBlocks(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((match) => match[1] ?? '');
}

/** The decoded text of the first `<tag>` in `xml`, or undefined. */
function xmlText(xml: string, tag: string): string | undefined {
  const raw = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
  return raw?.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, name: string) => (
    { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[name] ?? String.fromCodePoint(Number(name.startsWith('#x') ? `0x${name.slice(2)}` : name.slice(1)))));
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
