/**
 * Where the handlers put answers too large to send inline, and every Parquet answer (issue 4):
 * the results location of lib/config.ts (`KLINES_RESULTS`): an S3 bucket under a prefix, answered
 * with a presigned GET URL valid 15 minutes, or a local folder on the local default, answered with
 * a `file://` URL. Objects are keyed `{prefix}/{YYYY-MM-DD}/{uuid}.{ext}` so a lifecycle rule on
 * the prefix expires them (infra/). A body can be a stream of byte chunks: it goes to S3 as a
 * multipart upload (5 MiB parts, a few at a time), so a long answer is never whole in memory.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import type { Config } from '../../lib/config.ts';
import type { S3Client } from '../../lib/store/s3-api.ts';
import { uploadChunks } from './s3-upload.ts';
import { StoreError } from '../../lib/domain/errors.ts';

/** How long a presigned results URL is valid: 15 minutes (issue 4: "short-lived"). */
export const RESULT_URL_TTL_SECONDS = 900;

/** A stored result: `url` for HTTP callers (presigned or file://), `uri` for invoke callers (s3:// or file://). */
export interface StoredResult {
  readonly url: string;
  readonly uri: string;
  /** ISO-8601 UTC time after which `url` stops working (not enforced for file:// URLs). */
  readonly expiresAt: string;
}

/** A result's bytes: whole, or chunks in order (e.g. an answer streamed period by period). */
export type ResultBody = Uint8Array | string | AsyncIterable<Uint8Array> | Readable;

/** Multipart part size (S3's minimum, 5 MiB) and parts uploaded at once. */
const PART_BYTES = 5 * 1024 * 1024;
const PARTS_AT_ONCE = 2;

/** The results location. */
export interface ResultsLocation {
  /**
   * Writes `body` as a new object with extension `ext` (`parquet`, `json`, `csv`). Throws
   * StoreError when it cannot (a failed multipart upload is aborted; a partial file is removed).
   */
  put(body: ResultBody, ext: string, contentType: string): Promise<StoredResult>;
}

/** Builds the location `config.results` names; `s3` is required when it is an S3 location. */
export function createResultsLocation(config: Pick<Config, 'results'>, s3: S3Client | undefined, nowMs: () => number = Date.now): ResultsLocation {
  const results = config.results;
  const name = (ext: string): string => `${new Date(nowMs()).toISOString().slice(0, 10)}/${randomUUID()}.${ext}`;
  const expiresAt = (): string => new Date(Date.now() + RESULT_URL_TTL_SECONDS * 1000).toISOString();
  if (results.kind === 'fs') {
    return {
      async put(body, ext) {
        const file = join(results.dir, name(ext));
        try {
          await mkdir(join(file, '..'), { recursive: true });
          await pipeline(typeof body === 'string' || body instanceof Uint8Array ? Readable.from([body]) : body, createWriteStream(file));
        } catch (cause) {
          await rm(file, { force: true });
          throw new StoreError(`results: could not write ${file}: ${(cause as Error).message}`, { cause, details: { file } });
        }
        const url = pathToFileURL(file).href;
        return { url, uri: url, expiresAt: expiresAt() };
      },
    };
  }
  if (!s3) throw new Error('results: an S3 results location needs an S3 client');
  return {
    async put(body, ext, contentType) {
      const key = `${results.prefix ? `${results.prefix}/` : ''}${name(ext)}`;
      try {
        const chunks = typeof body === 'string' ? [Buffer.from(body)] : body instanceof Uint8Array ? [body] : body;
        await uploadChunks({ client: s3, bucket: results.bucket, key, contentType, partBytes: PART_BYTES, partsAtOnce: PARTS_AT_ONCE }, toAsync(chunks));
      } catch (cause) {
        throw new StoreError(`results: could not write s3://${results.bucket}/${key}: ${(cause as Error).message}`, { cause, details: { bucket: results.bucket, key } });
      }
      const url = await s3.presignGet(results.bucket, key, RESULT_URL_TTL_SECONDS);
      return { url, uri: `s3://${results.bucket}/${key}`, expiresAt: expiresAt() };
    },
  };
}

async function* toAsync(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}
