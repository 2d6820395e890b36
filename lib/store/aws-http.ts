/**
 * The one way the project talks to AWS (S3, DynamoDB, SQS; issue 9, cold starts): Node's fetch,
 * requests signed with AWS Signature V4 by `aws4fetch` (7.7 kB, against the AWS SDK v3's
 * ~430 kB per client, which made a Lambda's import 4× a bare node start). Each client is built
 * once per process and holds its endpoint, region and credentials:
 * - `endpoint` (a custom URL such as a local server's `http://127.0.0.1:4568`), else AWS's;
 * - `credentials`: static keys (what Lambda puts in its environment; lib/config.ts reads them),
 *   a provider function, or undefined = the SDK's standard chain (profiles, SSO, IMDS), loaded
 *   only then (`@aws-sdk/credential-providers`, left out of the Lambda bundles);
 * - retries: the SDK's standard policy, 3 attempts with full-jitter exponential backoff on
 *   network failures, 5xx, 429 and throttling error codes, never on other 4xx.
 * Every failure is an {@link AwsRequestError} named by AWS's error code. Redirects are answers,
 * not followed (`redirect: 'manual'`): a signed request cannot follow one (its host is signed, and
 * fetch drops `authorization` across origins, or refuses outright with a stream body), so a 3xx
 * comes back to the caller and is named by its code (S3's `PermanentRedirect`, `TemporaryRedirect`).
 */
import { AwsClient } from 'aws4fetch';

/** Static credentials. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** Resolves credentials for a request (may refresh them); the SDK's providers have this shape. */
export type AwsCredentialProvider = () => Promise<AwsCredentials>;

/**
 * Where and how to reach one AWS service.
 * - `endpoint`: an http(s) base URL (the value of `AWS_ENDPOINT_URL_S3` / `_DYNAMODB` / `_SQS`);
 *   undefined = the AWS endpoint of `region`.
 * - `region`: e.g. `eu-west-1`; undefined = the standard chain's (`AWS_REGION`, profile).
 * - `fetch`: the fetch to send with (default: Node's); tests wrap it to inject failures.
 * - `maxAttempts`: attempts per request, ≥ 1 (default 3, as the SDK).
 */
export interface AwsClientOptions {
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  readonly credentials?: AwsCredentials | AwsCredentialProvider | undefined;
  readonly fetch?: typeof fetch | undefined;
  readonly maxAttempts?: number | undefined;
}

/** A request to send: `url` absolute; a body must be re-sendable (it is sent again on a retry). */
export interface AwsRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
}

/**
 * An AWS answer that is not a success: `name` is AWS's error code (`NoSuchKey`,
 * `ConditionalCheckFailedException`, …; `NotFound`/`Http{status}` when the body names none),
 * `status` the HTTP status (0 when the request never got an answer).
 */
export class AwsRequestError extends Error {
  readonly status: number;
  constructor(name: string, message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
    this.status = status;
  }
}

/** A signing, retrying client for one service. */
export interface AwsHttpClient {
  /** The service's base URL, without a trailing `/` (the custom endpoint, else AWS's). */
  baseUrl(): Promise<string>;
  region(): Promise<string>;
  /** Sends `request` signed; resolves with the response when its status is 2xx/3xx or not retryable. */
  send(request: AwsRequest): Promise<Response>;
  /** A presigned GET URL for `url`, valid `expiresSeconds` (query-string SigV4). */
  presign(url: string, expiresSeconds: number): Promise<string>;
}

/** Error codes AWS answers when a caller is throttled (SDK's THROTTLING_ERROR_CODES). */
const THROTTLING_CODES = new Set([
  'ThrottlingException', 'Throttling', 'ThrottledException', 'RequestThrottledException', 'TooManyRequestsException',
  'ProvisionedThroughputExceededException', 'TransactionInProgressException', 'RequestLimitExceeded', 'BandwidthLimitExceeded',
  'LimitExceededException', 'RequestThrottled', 'SlowDown', 'PriorRequestNotComplete', 'EC2ThrottledException',
]);
const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 20_000;

/**
 * A client for `service` (`s3`, `dynamodb`, `sqs`): signs with SigV4 for that service and region.
 * Throws nothing itself; `send` rejects with AwsRequestError after its attempts.
 */
export function createAwsHttpClient(service: string, options: AwsClientOptions = {}): AwsHttpClient {
  const send = options.fetch ?? fetch;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  let chain: Promise<{ region: string; credentials: AwsCredentialProvider }> | undefined;
  const defaults = (): Promise<{ region: string; credentials: AwsCredentialProvider }> => (chain ??= loadDefaultChain(options.region));
  const region = async (): Promise<string> => options.region ?? (await defaults()).region;
  let signer: { credentials: AwsCredentials; client: AwsClient } | undefined;
  const signerFor = async (): Promise<AwsClient> => {
    const given = options.credentials;
    const credentials = typeof given === 'object' ? given : await (given ?? (await defaults()).credentials)();
    if (signer?.credentials !== credentials) {
      signer = { credentials, client: new AwsClient({ ...credentials, service, region: await region(), retries: 0 }) };
    }
    return signer.client;
  };
  const baseUrl = async (): Promise<string> =>
    (options.endpoint ?? `https://${service}.${await region()}.amazonaws.com`).replace(/\/+$/, '');

  return {
    baseUrl,
    region,
    async send(request) {
      const sendable = sendableBody(service, request.body);
      const headers = { ...request.headers, ...sendable.headers };
      for (let attempt = 1; ; attempt++) {
        const signed = await (await signerFor()).sign(request.url, { method: request.method, headers, redirect: 'manual', ...sendable.init() });
        let response: Response;
        try {
          response = await send(signed);
        } catch (cause) {
          if (attempt < maxAttempts) { await backoff(attempt); continue; }
          throw new AwsRequestError('NetworkError', `${service}: ${request.method} ${request.url} got no answer: ${(cause as Error).message}`, 0, { cause });
        }
        if (response.ok || (response.status >= 300 && response.status < 400)) return response;
        if (attempt < maxAttempts && (await isRetryable(response))) {
          // Released, not awaited: a cancel can wait on a body another reader still holds.
          void response.body?.cancel().catch(() => undefined);
          await backoff(attempt);
          continue;
        }
        return response;
      }
    },
    async presign(url, expiresSeconds) {
      const withExpiry = new URL(url);
      withExpiry.searchParams.set('X-Amz-Expires', String(expiresSeconds));
      return (await (await signerFor()).sign(withExpiry.href, { method: 'GET', aws: { signQuery: true } })).url;
    },
  };
}

/**
 * An S3 byte body goes to fetch as a one-chunk stream of itself with its `content-length`: given
 * the bytes, fetch copies them twice (WHATWG Fetch "extract a body" copies a BufferSource, undici
 * then copies it again into the stream it sends from). For 5 MiB multipart parts, two in flight,
 * that held a six-year result upload 30-40 MiB higher (bench/handler-rss.ts). S3 payloads are
 * unsigned (aws4fetch's `UNSIGNED-PAYLOAD`, s3-api.ts), so nothing reads the body but the send.
 * Strings, empty bodies and other services' bodies (aws4fetch hashes those) go as they are.
 * Returns the headers to add and a function giving each attempt its body (a sent stream is spent).
 */
function sendableBody(service: string, body: AwsRequest['body']): {
  headers: Record<string, string>; init: () => { body?: string | Uint8Array | ReadableStream<Uint8Array>; duplex?: 'half' };
} {
  if (service !== 's3' || !(body instanceof Uint8Array) || body.byteLength === 0) return { headers: {}, init: () => (body === undefined ? {} : { body }) };
  const stream = (): ReadableStream<Uint8Array> => new ReadableStream({
    start(controller) {
      controller.enqueue(body);
      controller.close();
    },
  });
  return { headers: { 'content-length': String(body.byteLength) }, init: () => ({ body: stream(), duplex: 'half' }) };
}

/**
 * The error a failed response stands for, from AWS's JSON (`__type`, `message`) or XML
 * (`<Code>`, `<Message>`) error body; `Forbidden`/`NotFound`/`Http{status}` when the body names no code
 * (a HEAD, or a proxy's page). Consumes the body.
 */
export async function errorFromResponse(response: Response, what: string): Promise<AwsRequestError> {
  const text = await response.text().catch(() => '');
  const { code, message } = parseErrorBody(text);
  const name = code ?? ({ 403: 'Forbidden', 404: 'NotFound' } as Record<number, string>)[response.status] ?? `Http${response.status}`;
  return new AwsRequestError(name, `${what}: ${message ?? `HTTP ${response.status}`}`, response.status);
}

/**
 * A call of an AWS JSON 1.0 protocol (DynamoDB, SQS): `POST /` with `x-amz-target: {target}`
 * and the input as JSON; the answer's JSON. Rejects with AwsRequestError (errorFromResponse)
 * naming `what` when the service refuses.
 */
export async function jsonCall<T>(http: AwsHttpClient, target: string, input: unknown, what: string): Promise<T> {
  const response = await http.send({
    method: 'POST',
    url: `${await http.baseUrl()}/`,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target },
    body: JSON.stringify(input),
  });
  if (!response.ok) throw await errorFromResponse(response, what);
  return (await response.json()) as T;
}

/** Reads the code and message of an AWS error body (JSON 1.0 protocols or S3's XML). */
function parseErrorBody(text: string): { code?: string | undefined; message?: string | undefined } {
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as { __type?: string; code?: string; message?: string; Message?: string };
      const type = json.__type ?? json.code;
      return { code: type?.slice(type.lastIndexOf('#') + 1), message: json.message ?? json.Message };
    } catch {
      return {};
    }
  }
  const tag = (name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];
  return { code: tag('Code'), message: tag('Message') };
}

async function isRetryable(response: Response): Promise<boolean> {
  if (response.status >= 500 || response.status === 429) return true;
  if (response.status !== 400) return false;
  const code = parseErrorBody(await response.clone().text().catch(() => '')).code;
  return code !== undefined && THROTTLING_CODES.has(code);
}

function backoff(attempt: number): Promise<void> {
  const ceilingMs = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceilingMs));
}

/**
 * The SDK's standard chains, for a process without keys in its configuration (a developer's CLI
 * with a profile or SSO): loaded here, on first use, and kept out of the Lambda bundles
 * (scripts/bundle.mjs marks them external), where Lambda's environment always holds the keys.
 * Throws AwsRequestError `NoRegion` when no region is configured anywhere.
 */
async function loadDefaultChain(region: string | undefined): Promise<{ region: string; credentials: AwsCredentialProvider }> {
  const providers = '@aws-sdk/credential-providers';
  const config = '@smithy/core/config';
  const { fromNodeProviderChain } = (await import(providers)) as typeof import('@aws-sdk/credential-providers');
  let resolved = region;
  if (resolved === undefined) {
    const { loadConfig, NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS } = (await import(config)) as {
      loadConfig(a: unknown, b: unknown): () => Promise<string | undefined>; NODE_REGION_CONFIG_OPTIONS: unknown; NODE_REGION_CONFIG_FILE_OPTIONS: unknown;
    };
    resolved = await loadConfig(NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS)().catch(() => undefined);
  }
  if (!resolved) throw new AwsRequestError('NoRegion', 'aws: no region configured: set AWS_REGION or a region in the AWS profile', 0);
  return { region: resolved, credentials: fromNodeProviderChain() };
}
