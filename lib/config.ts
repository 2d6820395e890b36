/**
 * The only reader of process.env (STYLE.md). Configuration is read once, validated, and passed
 * down; a bad value fails with the variable's name and what it accepts.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { InvalidInputError } from './domain/errors.ts';
import { parseTime } from './domain/time.ts';
import type { AwsClientOptions, AwsCredentials } from './store/aws-http.ts';

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
  /**
   * How long a request waits for periods another worker is filling before it fails naming them
   * (`KLINES_LEASE_WAIT_MS`, default 120 s; the HTTP Lambda sets it below API Gateway's 30 s).
   */
  readonly leaseWaitMs: number;
  /** AWS settings (the SDK's standard variables): `AWS_REGION`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly aws: {
    readonly region: string | undefined; readonly s3Endpoint: string | undefined; readonly dynamodbEndpoint: string | undefined;
    /** `AWS_ENDPOINT_URL_SQS` (local queue servers); undefined = the AWS endpoint. */
    readonly sqsEndpoint: string | undefined;
    /**
     * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` when the first two are
     * set (Lambda sets all three); undefined = the SDK's standard chain (profiles, SSO), which the
     * AWS clients load only then (lib/store/aws-http.ts).
     */
    readonly credentials: AwsCredentials | undefined;
  };
  /**
   * Where large answers and every Parquet answer of the handlers go (`KLINES_RESULTS`):
   * `s3://bucket/prefix`, or an absolute local folder. Default: the cache's bucket under
   * `results` when the store is S3, else `{cacheDir}/_results`.
   */
  readonly results: { readonly kind: 'fs'; readonly dir: string } | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string };
  /**
   * Largest serialized Lambda response sent inline, in bytes (`KLINES_INLINE_LIMIT_BYTES`).
   * Default 6 MB (Lambda's synchronous response limit, 6,291,456 bytes) minus 256 KiB headroom.
   */
  readonly inlineLimitBytes: number;
  /**
   * Most rows a handler answers inline (`KLINES_MAX_INLINE_ROWS`, default 50,000): a longer answer
   * goes to the results location and is answered by URL, whatever its size in bytes (issue 11).
   */
  readonly maxInlineRows: number;
  /**
   * Time kept, before a handler's deadline, for shaping the answer (`KLINES_ANSWER_MARGIN_MS`,
   * default 3,000 ms): the fill stops this long before the answer is due (issue 11).
   */
  readonly answerMarginMs: number;
  /** The refresh watchlist: inline JSON (`KLINES_WATCHLIST`) or an S3 object (`KLINES_WATCHLIST_S3=s3://bucket/key`); undefined when neither is set. */
  readonly watchlist: { readonly kind: 'inline'; readonly json: string } | { readonly kind: 's3'; readonly bucket: string; readonly key: string } | undefined;
  /** Where a refresh of a never-fetched dataset without its own `since` starts (`KLINES_REFRESH_SINCE`, ISO-8601 or epoch ms); undefined = 7 UTC days before now. */
  readonly refreshSinceMs: number | undefined;
  /** SQS queue the scheduled refresh fans out to (`KLINES_REFRESH_QUEUE_URL`); undefined = refresh inline. */
  readonly refreshQueueUrl: string | undefined;
  /** Powertools service name and metrics namespace (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`). */
  readonly observability: { readonly serviceName: string; readonly metricsNamespace: string };
}

/** Lambda's synchronous response payload limit (AWS docs, "Lambda quotas"): 6 MB. */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;
/** Headroom kept under it for the envelope and headers. */
export const INLINE_HEADROOM_BYTES = 256 * 1024;

/** Default of `KLINES_MAX_INLINE_ROWS`: a month of 1m (44,640 rows) still goes inline when its bytes fit; longer answers go by URL. */
export const DEFAULT_MAX_INLINE_ROWS = 50_000;
/** Default of `KLINES_ANSWER_MARGIN_MS`: reading the coverage, queuing the rest and writing a 202 takes well under it. */
export const DEFAULT_ANSWER_MARGIN_MS = 3_000;

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
 * (`dynamodb://table`), `KLINES_LEASE_TTL_MS`, `KLINES_LEASE_WAIT_MS`, `AWS_REGION`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_DYNAMODB`,
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
 * for the Lambda handlers: `KLINES_RESULTS`, `KLINES_INLINE_LIMIT_BYTES`, `KLINES_MAX_INLINE_ROWS`, `KLINES_ANSWER_MARGIN_MS`, `KLINES_WATCHLIST`,
 * `KLINES_WATCHLIST_S3`, `KLINES_REFRESH_SINCE`, `KLINES_REFRESH_QUEUE_URL`, `AWS_ENDPOINT_URL_SQS`,
 * `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`.
 * Throws InvalidInputError naming the bad variable and the accepted form.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cacheDir = env.KLINES_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'klines');
  const store = parseStore(env.KLINES_STORE);
  return {
    cacheDir,
    visionUrl: readUrl(env, 'BINANCE_VISION_URL', DEFAULT_URLS.visionUrl),
    spotApiUrl: readUrl(env, 'BINANCE_SPOT_API_URL', DEFAULT_URLS.spotApiUrl),
    umApiUrl: readUrl(env, 'BINANCE_UM_API_URL', DEFAULT_URLS.umApiUrl),
    cmApiUrl: readUrl(env, 'BINANCE_CM_API_URL', DEFAULT_URLS.cmApiUrl),
    nowMs: env.KLINES_NOW ? parseTime(env.KLINES_NOW, 'KLINES_NOW') : undefined,
    leaseTtlMs: readPositiveInteger(env, 'KLINES_LEASE_TTL_MS', 60_000),
    leaseWaitMs: readPositiveInteger(env, 'KLINES_LEASE_WAIT_MS', 120_000),
    store,
    index: parseIndex(env.KLINES_INDEX),
    aws: {
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
      s3Endpoint: env.AWS_ENDPOINT_URL_S3 ? readUrl(env, 'AWS_ENDPOINT_URL_S3', '') : undefined,
      dynamodbEndpoint: env.AWS_ENDPOINT_URL_DYNAMODB ? readUrl(env, 'AWS_ENDPOINT_URL_DYNAMODB', '') : undefined,
      sqsEndpoint: env.AWS_ENDPOINT_URL_SQS ? readUrl(env, 'AWS_ENDPOINT_URL_SQS', '') : undefined,
      credentials: env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined }
        : undefined,
    },
    results: parseResults(env.KLINES_RESULTS, store, cacheDir),
    inlineLimitBytes: readPositiveInteger(env, 'KLINES_INLINE_LIMIT_BYTES', LAMBDA_RESPONSE_LIMIT_BYTES - INLINE_HEADROOM_BYTES, 'bytes'),
    maxInlineRows: readPositiveInteger(env, 'KLINES_MAX_INLINE_ROWS', DEFAULT_MAX_INLINE_ROWS, 'rows'),
    answerMarginMs: readPositiveInteger(env, 'KLINES_ANSWER_MARGIN_MS', DEFAULT_ANSWER_MARGIN_MS),
    watchlist: parseWatchlistSource(env.KLINES_WATCHLIST, env.KLINES_WATCHLIST_S3),
    refreshSinceMs: env.KLINES_REFRESH_SINCE ? parseTime(env.KLINES_REFRESH_SINCE, 'KLINES_REFRESH_SINCE') : undefined,
    refreshQueueUrl: env.KLINES_REFRESH_QUEUE_URL ? readUrl(env, 'KLINES_REFRESH_QUEUE_URL', '') : undefined,
    observability: {
      serviceName: env.POWERTOOLS_SERVICE_NAME || 'klines-cache',
      metricsNamespace: env.POWERTOOLS_METRICS_NAMESPACE || 'KlinesCache',
    },
  };
}

function parseResults(value: string | undefined, store: Config['store'], cacheDir: string): Config['results'] {
  if (!value) return store.kind === 's3' ? { kind: 's3', bucket: store.bucket, prefix: 'results' } : { kind: 'fs', dir: join(cacheDir, '_results') };
  if (isAbsolute(value.trim())) return { kind: 'fs', dir: value.trim() };
  try {
    const parsed = parseStore(value);
    if (parsed.kind === 's3') return { kind: 's3', bucket: parsed.bucket, prefix: parsed.prefix || 'results' };
  } catch { /* explained below */ }
  throw new InvalidInputError(`KLINES_RESULTS: "${value}" is neither s3://bucket[/prefix] nor an absolute folder`, { KLINES_RESULTS: value });
}

function parseWatchlistSource(inline: string | undefined, s3: string | undefined): Config['watchlist'] {
  if (inline && s3) throw new InvalidInputError('KLINES_WATCHLIST and KLINES_WATCHLIST_S3 are both set; set one of them', { KLINES_WATCHLIST_S3: s3 });
  if (inline) return { kind: 'inline', json: inline };
  if (!s3) return undefined;
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(s3.trim());
  if (!match || !BUCKET_PATTERN.test(match[1]!)) {
    throw new InvalidInputError(`KLINES_WATCHLIST_S3: "${s3}" is not s3://bucket/key`, { KLINES_WATCHLIST_S3: s3 });
  }
  return { kind: 's3', bucket: match[1]!, key: match[2]! };
}

function readPositiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, unit = 'milliseconds'): number {
  const value = env[name];
  if (!value) return fallback;
  if (!/^\d{1,12}$/.test(value.trim()) || Number(value) <= 0) {
    throw new InvalidInputError(`${name}: "${value}" is not a positive whole number of ${unit}`, { [name]: value });
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

/** The endpoint, region and credentials of one AWS service (lib/store/aws-http.ts) from `config`. */
export function awsOptions(config: Pick<Config, 'aws'>, endpoint: string | undefined): AwsClientOptions {
  return { endpoint, region: config.aws.region, credentials: config.aws.credentials };
}
