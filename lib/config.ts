/**
 * The only reader of process.env (STYLE.md). Configuration is read once, validated, and passed
 * down; a bad value fails with the variable's name and what it accepts.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from './domain/errors.ts';
import { parseTime } from './domain/time.ts';

/** Resolved configuration. URLs have no trailing slash. */
export interface Config {
  /** Root of the embedded local cache (`KLINES_CACHE_DIR`). */
  readonly cacheDir: string;
  readonly visionUrl: string;
  readonly spotApiUrl: string;
  readonly umApiUrl: string;
  readonly cmApiUrl: string;
  /** Fixed clock in UTC epoch ms (`KLINES_NOW`) for replaying recorded data; undefined in production. */
  readonly nowMs: number | undefined;
  /** Where Parquet objects go: the local cache folder, or `KLINES_STORE=s3://bucket/prefix`. */
  readonly store: { readonly kind: 'fs' } | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string };
  /** The coverage index (with leases and statistics): local files, or `KLINES_INDEX=dynamodb://table`. */
  readonly index: { readonly kind: 'fs' } | { readonly kind: 'dynamodb'; readonly table: string };
  /** Lease length for gap fetches (`KLINES_LEASE_TTL_MS`, default 60 s): how long a crashed worker can block others. */
  readonly leaseTtlMs: number;
  /** AWS settings (the SDK's standard variables): `AWS_REGION`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly aws: { readonly region: string | undefined; readonly s3Endpoint: string | undefined; readonly dynamodbEndpoint: string | undefined };
}

/** Binance's public endpoints, used when no override is configured. */
export const DEFAULT_URLS = {
  visionUrl: 'https://data.binance.vision',
  spotApiUrl: 'https://api.binance.com',
  umApiUrl: 'https://fapi.binance.com',
  cmApiUrl: 'https://dapi.binance.com',
} as const;

/**
 * Reads the configuration from an environment (default `process.env`):
 * `KLINES_CACHE_DIR` (default `$XDG_CACHE_HOME/klines`, else `~/.cache/klines`),
 * `BINANCE_VISION_URL`, `BINANCE_SPOT_API_URL`, `BINANCE_UM_API_URL`, `BINANCE_CM_API_URL`,
 * `KLINES_NOW` (ISO-8601 or epoch ms), `KLINES_STORE` (`s3://bucket/prefix`), `KLINES_INDEX`
 * (`dynamodb://table`), `KLINES_LEASE_TTL_MS`, `AWS_REGION`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_DYNAMODB`.
 * Throws InvalidInputError naming the bad variable and the accepted form.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    cacheDir: env.KLINES_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'klines'),
    visionUrl: readUrl(env, 'BINANCE_VISION_URL', DEFAULT_URLS.visionUrl),
    spotApiUrl: readUrl(env, 'BINANCE_SPOT_API_URL', DEFAULT_URLS.spotApiUrl),
    umApiUrl: readUrl(env, 'BINANCE_UM_API_URL', DEFAULT_URLS.umApiUrl),
    cmApiUrl: readUrl(env, 'BINANCE_CM_API_URL', DEFAULT_URLS.cmApiUrl),
    nowMs: env.KLINES_NOW ? parseTime(env.KLINES_NOW, 'KLINES_NOW') : undefined,
    leaseTtlMs: readPositiveInteger(env, 'KLINES_LEASE_TTL_MS', 60_000),
    store: parseStore(env.KLINES_STORE),
    index: parseIndex(env.KLINES_INDEX),
    aws: {
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
      s3Endpoint: env.AWS_ENDPOINT_URL_S3 ? readUrl(env, 'AWS_ENDPOINT_URL_S3', '') : undefined,
      dynamodbEndpoint: env.AWS_ENDPOINT_URL_DYNAMODB ? readUrl(env, 'AWS_ENDPOINT_URL_DYNAMODB', '') : undefined,
    },
  };
}

function readPositiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (!value) return fallback;
  if (!/^\d{1,12}$/.test(value.trim()) || Number(value) <= 0) {
    throw new InvalidInputError(`${name}: "${value}" is not a positive whole number of milliseconds`, { [name]: value });
  }
  return Number(value);
}

// S3 bucket naming rules (AWS docs, "Bucket naming rules"), without the rarely used dots.
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const PREFIX_PATTERN = /^[A-Za-z0-9_.\-/]*$/;
// DynamoDB table names: 3–255 of a-z A-Z 0-9 _ - . (AWS docs, "Naming rules").
const TABLE_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;

function parseStore(value: string | undefined): Config['store'] {
  if (!value) return { kind: 'fs' };
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(value.trim());
  const bucket = match?.[1] ?? '';
  const prefix = (match?.[2] ?? '').replace(/\/+$/, '');
  if (!match || !BUCKET_PATTERN.test(bucket) || !PREFIX_PATTERN.test(prefix) || prefix.split('/').some((part, i, all) => part === '..' || (part === '' && all.length > 1))) {
    throw new InvalidInputError(`KLINES_STORE: "${value}" is not s3://bucket[/prefix] (bucket: 3-63 of a-z 0-9 -; prefix: letters, digits, _ . - /)`, { KLINES_STORE: value });
  }
  return { kind: 's3', bucket, prefix };
}

function parseIndex(value: string | undefined): Config['index'] {
  if (!value) return { kind: 'fs' };
  const match = /^dynamodb:\/\/([^/]+)\/?$/.exec(value.trim());
  if (!match || !TABLE_PATTERN.test(match[1]!)) {
    throw new InvalidInputError(`KLINES_INDEX: "${value}" is not dynamodb://table (table: 3-255 of A-Z a-z 0-9 _ . -)`, { KLINES_INDEX: value });
  }
  return { kind: 'dynamodb', table: match[1]! };
}

function readUrl(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name];
  if (!value) return fallback;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new InvalidInputError(`${name}: "${value}" is not an http(s) URL (e.g. http://127.0.0.1:8080)`, { [name]: value });
  }
  return value.replace(/\/+$/, '');
}
