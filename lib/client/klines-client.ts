/**
 * A small typed client for other Lambdas that call `invoke-get-klines` directly (InvokeCommand,
 * RequestResponse), and the shapes of its payload and result (issue 4).
 *
 * ```ts
 * const klines = createKlinesClient({ functionName: process.env.KLINES_FUNCTION! });
 * const result = await klines.getKlines({ market: 'spot', symbol: 'BTCUSDT', interval: '1h', start: '2024-01-01' });
 * if (!result.ok) throw new Error(result.error.message);
 * if (result.accepted) return retryLater(result.retryAfterSeconds); // the fill goes on; ask again then
 * const rows = await klines.readRows(result); // inline rows, or the Parquet result fetched and decoded
 * ```
 * A range too large to fill before the function's own deadline is not an error: the result is
 * `{ ok: true, accepted: true, retryAfterSeconds, covered, remaining }`; what was fetched is kept,
 * the rest is queued for the refresh worker, and the same call answers with rows once it is filled.
 * Errors of the request (bad input: INVALID_INPUT; upstream failures: UPSTREAM_FAILED,
 * UPSTREAM_REJECTED, RATE_LIMITED, CHECKSUM_MISMATCH, INVALID_DATA; the cache failing:
 * STORE_FAILED, CONFLICT) come back as data, `{ ok: false, error: { code, message } }`, with
 * `retryAfterSeconds` when a retry may succeed; anything unexpected as `{ code: 'INTERNAL' }`.
 * Only a failure of the invocation itself (timeout, crash, throttling) throws.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Kline } from '../domain/kline.ts';
import type { DatasetSummary } from '../service/datasets.ts';
import { decodeKlines } from '../store/parquet-codec.ts';

/**
 * The request. `start`/`end` are inclusive bounds on open_time: ISO-8601 or UTC epoch ms
 * (number or digits). `end` defaults to the last closed candle; `market` to spot; `source` to auto.
 */
export interface InvokeKlinesPayload {
  readonly market?: 'spot' | 'um' | 'cm';
  readonly symbol: string;
  readonly interval: string;
  /** Give `start` or `days`. */
  readonly start?: string | number;
  readonly end?: string | number;
  /** The last N days (N × 24 h) up to `end` (default the last closed candle), in place of `start`. */
  readonly days?: number;
  readonly source?: 'auto' | 'vision' | 'rest';
  /** The series (Vision's names); all but klines on um and cm only. Default klines. */
  readonly dataType?: 'klines' | 'markPriceKlines' | 'indexPriceKlines' | 'premiumIndexKlines';
}

/** A funding-rate request (issue 10): a futures symbol's events, no interval. */
export interface InvokeFundingPayload extends Omit<InvokeKlinesPayload, 'interval' | 'dataType' | 'market'> {
  readonly market?: 'um' | 'cm';
  readonly dataType: 'fundingRate';
}

/** Figures of the answered request (counts; `elapsedMs` in ms). */
export interface InvokeKlinesStats {
  readonly rowsFromCache: number;
  readonly rowsFromVision: number;
  readonly rowsFromRest: number;
  readonly visionFiles: number;
  readonly restRequests: number;
  readonly restWeight: number;
  readonly gaps: number;
  readonly elapsedMs: number;
}

/**
 * The result. On success `count` rows sorted by open_time, either inline (`rows`, when the
 * response fits the Lambda limit) or as `uri` of a Parquet object with the cache's 11 columns
 * (`s3://bucket/key` in AWS; `file:///…` on the local default), kept under the results prefix
 * for a limited time (lifecycle rule).
 */
export type InvokeKlinesResult =
  | { readonly ok: true; readonly accepted?: undefined; readonly count: number; readonly rows: Kline[]; readonly uri?: undefined; readonly stats: InvokeKlinesStats }
  | { readonly ok: true; readonly accepted?: undefined; readonly count: number; readonly uri: string; readonly rows?: undefined; readonly stats: InvokeKlinesStats }
  | InvokeKlinesAccepted
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string; readonly ranges?: unknown }; readonly retryAfterSeconds?: number };

/** A result that carries rows (inline or by `uri`). */
export type InvokeKlinesAnswered = Exclude<Extract<InvokeKlinesResult, { ok: true }>, InvokeKlinesAccepted>;

/** A range of the accepted result: half-open, UTC epoch ms and ISO-8601 (`end` exclusive). */
export interface InvokeKlinesRange {
  readonly startMs: number;
  readonly endMs: number;
  readonly start: string;
  readonly end: string;
}

/**
 * The fill could not finish before the function's deadline (its own remaining time): nothing is
 * wrong, and no rows come with it. What was fetched is kept, `remaining` is being filled (queued
 * for the refresh worker: `continuation` `queue`), and the same call answers with rows once it is
 * done; ask again after `retryAfterSeconds`.
 */
export interface InvokeKlinesAccepted {
  readonly ok: true;
  readonly accepted: true;
  readonly message: string;
  readonly retryAfterSeconds: number;
  readonly requested: InvokeKlinesRange;
  readonly covered: InvokeKlinesRange[];
  readonly remaining: InvokeKlinesRange[];
  readonly continuation: 'queue' | 'in-process' | 'next-request';
  readonly queuedMessages: number;
  readonly alreadyQueued: number;
}

/**
 * The answer to `{ dataType: 'fundingRate', market, symbol, start|days, end? }` (no interval):
 * the events inline (`calc_time` UTC epoch ms; a field an upstream does not publish is null), or
 * past the inline limit a Parquet file at `uri` (funding-codec.ts columns).
 */
export type InvokeFundingResult =
  | { readonly ok: true; readonly count: number; readonly rows?: { calc_time: number; funding_interval_hours: number | null; last_funding_rate: number; mark_price: number | null }[]; readonly uri?: string }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

/** Which cached datasets to list (issue 10); every field optional. */
export interface InvokeListDatasetsPayload {
  readonly market?: 'spot' | 'um' | 'cm';
  readonly symbol?: string;
  readonly interval?: string;
  readonly dataType?: 'klines' | 'markPriceKlines' | 'indexPriceKlines' | 'premiumIndexKlines' | 'fundingRate';
}

/** The listing: the same summaries as `klines ls --json` and `GET /datasets` (lib/service/datasets.ts). */
export type InvokeListDatasetsResult =
  | { readonly ok: true; readonly datasets: DatasetSummary[] }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

/** The client. */
export interface KlinesClient {
  /** Invokes the function; throws Error when the invocation itself fails (FunctionError). */
  getKlines(payload: InvokeKlinesPayload): Promise<InvokeKlinesResult>;
  /** Funding-rate events (the same function, `dataType: 'fundingRate'`); throws Error when the invocation itself fails. */
  getFundingRates(payload: InvokeFundingPayload): Promise<InvokeFundingResult>;
  /** Lists the cached datasets (the `list-datasets` action); throws Error when the invocation itself fails. */
  listDatasets(filter?: InvokeListDatasetsPayload): Promise<InvokeListDatasetsResult>;
  /** The rows of a successful result: inline ones, or the Parquet at its `uri` fetched and decoded. */
  readRows(result: InvokeKlinesAnswered): Promise<Kline[]>;
}

/** Options: the function's name or ARN; clients to reuse (default: built once, SDK default chain). */
export interface KlinesClientOptions {
  readonly functionName: string;
  readonly lambda?: LambdaClient;
  readonly s3?: S3Client;
}

/** Builds the client; the AWS clients are built once, here, and reused by every call. */
export function createKlinesClient(options: KlinesClientOptions): KlinesClient {
  const lambda = options.lambda ?? new LambdaClient({});
  let s3 = options.s3;
  const invoke = async (payload: unknown): Promise<unknown> => {
    const answer = await lambda.send(new InvokeCommand({
      FunctionName: options.functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
    }));
    const text = answer.Payload ? new TextDecoder().decode(answer.Payload) : '';
    if (answer.FunctionError) {
      throw new Error(`klines client: ${options.functionName} failed (${answer.FunctionError}): ${text.slice(0, 500)}`);
    }
    return JSON.parse(text);
  };
  return {
    getKlines: async (payload) => (await invoke(payload)) as InvokeKlinesResult,
    getFundingRates: async (payload) => (await invoke(payload)) as InvokeFundingResult,
    listDatasets: async (filter = {}) => (await invoke({ ...filter, action: 'list-datasets' })) as InvokeListDatasetsResult,
    async readRows(result) {
      if (result.rows) return result.rows;
      s3 ??= new S3Client({});
      return readResultRows(result.uri, s3);
    },
  };
}

/**
 * Fetches and decodes a Parquet result: `s3://bucket/key` with `s3`, or a `file://` URL.
 * Throws Error naming the URI when it cannot be read or is neither form.
 */
export async function readResultRows(uri: string, s3: S3Client): Promise<Kline[]> {
  if (uri.startsWith('file://')) return decodeKlines(new Uint8Array(await readFile(fileURLToPath(uri))));
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`klines client: "${uri}" is neither s3://bucket/key nor file://`);
  const object = await s3.send(new GetObjectCommand({ Bucket: match[1]!, Key: match[2]! }));
  if (!object.Body) throw new Error(`klines client: ${uri} has no body`);
  return decodeKlines(await object.Body.transformToByteArray());
}
