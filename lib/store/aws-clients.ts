/**
 * The AWS clients of the S3 object store and the DynamoDB stores, built once (at cold start)
 * with the settings the cache needs (DESIGN.md, Storage; issue 3). lib/config.ts reads the
 * environment and passes `endpoint`/`region`/`credentials` in; nothing here reads process.env.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { AwsClientOptions } from './aws-http.ts';

export type { AwsClientOptions, AwsCredentials } from './aws-http.ts';

/**
 * An S3 client for the object store. With an `endpoint`, paths are bucket-in-path
 * (`forcePathStyle`), because local servers on 127.0.0.1 have no per-bucket host names.
 * Checksums are computed/validated only when an operation requires them (`WHEN_REQUIRED`):
 * with the SDK default (`WHEN_SUPPORTED`) uploads are sent with aws-chunked framing and a
 * trailing checksum, which s3rver stores verbatim as the object body (measured, issue 3).
 * Object integrity does not depend on it: the coverage index keeps each object's sha256.
 */
export function createS3Client(options: AwsClientOptions = {}): S3Client {
  const credentials = typeof options.credentials === 'object' ? options.credentials : undefined;
  return new S3Client({
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint, forcePathStyle: true }),
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(credentials === undefined ? {} : { credentials }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
