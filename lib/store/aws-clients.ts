/**
 * AWS SDK v3 clients for the S3 object store and the DynamoDB coverage index, built once (at
 * cold start) with the settings the cache needs (DESIGN.md, Storage; issue 3). lib/config.ts reads
 * the environment and passes `endpoint`/`region` in; nothing here reads process.env itself, but
 * whatever is left undefined falls back to the SDK's own default chain (AWS_REGION, credentials).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Static credentials (local servers); omit to use the SDK's default provider chain. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * Where and how to reach one AWS service.
 * - `endpoint`: an http(s) URL such as `http://127.0.0.1:4568` (the value of
 *   `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_DYNAMODB`); undefined = the AWS endpoint of `region`.
 * - `region`: e.g. `eu-west-1`; undefined = the SDK default chain (`AWS_REGION`, profile).
 */
export interface AwsClientOptions {
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  readonly credentials?: AwsCredentials | undefined;
}

/**
 * An S3 client for the object store. With an `endpoint`, paths are bucket-in-path
 * (`forcePathStyle`), because local servers on 127.0.0.1 have no per-bucket host names.
 * Checksums are computed/validated only when an operation requires them (`WHEN_REQUIRED`):
 * with the SDK default (`WHEN_SUPPORTED`) uploads are sent with aws-chunked framing and a
 * trailing checksum, which s3rver stores verbatim as the object body (measured, issue 3).
 * Object integrity does not depend on it: the coverage index keeps each object's sha256.
 */
export function createS3Client(options: AwsClientOptions = {}): S3Client {
  return new S3Client({
    ...common(options),
    ...(options.endpoint === undefined ? {} : { forcePathStyle: true }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * A DynamoDB client and a document client over it (plain JS values in and out; `undefined`
 * attributes dropped). Both share one connection pool; pass either to the DynamoDB stores.
 */
export function createDynamoDbClients(options: AwsClientOptions = {}): { client: DynamoDBClient; documentClient: DynamoDBDocumentClient } {
  const client = new DynamoDBClient(common(options));
  return { client, documentClient: toDocumentClient(client) };
}

/**
 * The document client used by the DynamoDB stores: `client` itself when it already is one,
 * else a document client over it with `removeUndefinedValues` (so an absent `canonical` is
 * simply not stored).
 */
export function toDocumentClient(client: DynamoDBClient | DynamoDBDocumentClient): DynamoDBDocumentClient {
  if (client instanceof DynamoDBDocumentClient) return client;
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

function common(options: AwsClientOptions): { endpoint?: string; region?: string; credentials?: AwsCredentials } {
  return {
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  };
}
