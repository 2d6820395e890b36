/**
 * VisionSource over data.binance.vision (or a loopback fake): one daily or monthly klines zip
 * per call, verified against its `.CHECKSUM` before it is unzipped (DESIGN.md, Upstreams:
 * "Verify every zip against its CHECKSUM; a mismatch is an error, never data").
 */
import { readSingleCsvMember } from './zip-member.ts';
import { ChecksumMismatchError, DataValidationError, UpstreamError } from '../domain/errors.ts';
import { validateKlineColumns, type KlineColumns } from '../domain/kline-columns.ts';
import { formatRange, type Range } from '../domain/ranges.ts';
import { sha256Hex } from '../domain/sha256.ts';
import type { HttpClient } from './http-client.ts';
import { createLazyHttpClient } from './lazy-http-client.ts';
import type { UpstreamStats, VisionSource } from './types.ts';
import { parseVisionCsvBytes } from './vision-csv.ts';
import { visionFileRange, visionFileUrl } from './vision-url.ts';

/** Configuration of the Vision client. */
export interface VisionClientOptions {
  /** `https://data.binance.vision` in production (BINANCE_VISION_URL), a loopback URL in tests. */
  readonly baseUrl: string;
  /** Shared HTTP client; a default one (createLazyHttpClient()) is built when absent. */
  readonly http?: HttpClient;
}

/**
 * Builds a VisionSource. `fetchFile`:
 * 1. GETs the `.CHECKSUM`, then the zip; a 404 on either means "not published yet": it returns
 *    `undefined` and counts `stats.visionNotFound`.
 * 2. Checks the zip's sha256 against the CHECKSUM (`<sha256>  <file name>`, trailing newline
 *    optional; the file name must match too). On a mismatch it downloads the zip once more
 *    (a transfer may have been cut), then throws ChecksumMismatchError naming the URL and both hashes.
 * 3. Unzips (exactly one `.csv` member), parses it straight into columns (no row objects),
 *    validates them (validateKlineColumns) and checks that every
 *    open_time lies in the file's UTC day or month; otherwise DataValidationError.
 * Counts `stats.visionFiles` (verified files) and `stats.visionBytes` (zip bytes received).
 * HTTP failures are UpstreamError (see HttpClient.get) with `details { url, range }`.
 */
export function createVisionClient(options: VisionClientOptions): VisionSource {
  const http = options.http ?? createLazyHttpClient();
  return {
    async fetchFile(request, stats, signal) {
      const range = visionFileRange(request);
      const file = visionFileUrl(options.baseUrl, request);
      const zip = await fetchVerifiedZip(http, file, range, stats, signal);
      if (zip === undefined) return undefined;
      // Past the caller's deadline a downloaded file is not unzipped and parsed: that CPU would
      // delay the answer, and the file is fetched again by whoever finishes the fill.
      signal?.throwIfAborted();
      return readRows(zip, file.zipUrl, range);
    },
  };
}

/**
 * Steps 1–2 of fetchFile for any Vision archive (klines here, funding rates in
 * funding-sources.ts): the `.CHECKSUM`, then the zip, verified, downloaded once more on a
 * mismatch. Returns the verified zip, or `undefined` (counting `stats.visionNotFound`) when either
 * answers 404. Counts `stats.visionBytes` and `stats.visionFiles`. Throws ChecksumMismatchError,
 * DataValidationError (a malformed sidecar), or UpstreamError with `details { url, range }`.
 */
export async function fetchVerifiedZip(
  http: HttpClient, file: { zipUrl: string; checksumUrl: string; fileName: string }, range: Range, stats: UpstreamStats, signal: AbortSignal | undefined,
): Promise<Buffer | undefined> {
  const { zipUrl, checksumUrl, fileName } = file;
  const checksumText = await download(http, checksumUrl, range, signal);
  if (checksumText === undefined) return notFound(stats);
  const expected = parseChecksum(checksumText.toString('utf8'), fileName, checksumUrl);

  let zip = await download(http, zipUrl, range, signal);
  if (zip === undefined) return notFound(stats);
  stats.visionBytes += zip.length;
  let actual = sha256Hex(zip);
  if (actual !== expected) {
    zip = await download(http, zipUrl, range, signal);
    if (zip === undefined) return notFound(stats);
    stats.visionBytes += zip.length;
    actual = sha256Hex(zip);
    if (actual !== expected) {
      throw new ChecksumMismatchError(
        `vision: ${zipUrl} has sha256 ${actual} but its CHECKSUM says ${expected} (twice); the file is not trusted`,
        { url: zipUrl, expected, actual, range },
      );
    }
  }
  stats.visionFiles++;
  return zip;
}

function notFound(stats: UpstreamStats): undefined {
  stats.visionNotFound++;
  return undefined;
}

/** The body, or `undefined` on 404. Other failures: UpstreamError with details.range added. */
async function download(http: HttpClient, url: string, range: Range, signal: AbortSignal | undefined): Promise<Buffer | undefined> {
  try {
    const response = await http.get(url, { signal, acceptStatuses: [404] });
    return response.statusCode === 404 ? undefined : response.body;
  } catch (error) {
    if (error instanceof UpstreamError) {
      throw new UpstreamError(`vision: ${error.message} (file range ${formatRange(range)})`, {
        code: error.code as 'UPSTREAM_FAILED' | 'UPSTREAM_REJECTED' | 'UPSTREAM_RESTRICTED' | 'RATE_LIMITED',
        cause: error,
        details: { ...error.details, url, range },
      });
    }
    throw error;
  }
}

/**
 * Parses a `.CHECKSUM` sidecar: `<64 hex>  <file name>` with or without a trailing newline
 * (SOURCES.md, "CHECKSUM sidecar"). Returns the lower-case hash.
 * Throws DataValidationError when malformed, ChecksumMismatchError when it names another file.
 */
export function parseChecksum(text: string, fileName: string, url: string): string {
  const parts = text.trim().split(/\s+/);
  const hash = parts[0]?.toLowerCase() ?? '';
  if (parts.length !== 2 || !/^[0-9a-f]{64}$/.test(hash)) {
    throw new DataValidationError(`vision: ${url} is not "<sha256>  <file name>": "${text.slice(0, 200)}"`, { url });
  }
  if (parts[1] !== fileName) {
    throw new ChecksumMismatchError(`vision: ${url} names file "${parts[1]}", expected "${fileName}"`, { url, expected: fileName, actual: parts[1] });
  }
  return hash;
}

/** Unzips, parses and validates one verified archive, into columns. */
async function readRows(zip: Buffer, url: string, range: Range): Promise<KlineColumns> {
  const context = `vision: ${url}`;
  const columns = parseVisionCsvBytes(await readSingleCsvMember(zip, context), context);
  validateKlineColumns(columns, context);
  const times = columns.open_time;
  for (const openTime of columns.length > 0 ? [times[0]!, times[columns.length - 1]!] : []) {
    if (openTime < range.startMs || openTime >= range.endMs) {
      throw new DataValidationError(
        `${context}: open_time ${openTime} (${new Date(openTime).toISOString()}) lies outside the file's period ${formatRange(range)}`,
        { url, range, open_time: openTime },
      );
    }
  }
  return columns;
}
