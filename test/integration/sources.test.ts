/**
 * The Vision and REST clients against the fake Binance on 127.0.0.1 (test/helpers/fake-binance.ts),
 * which serves the real files of test/fixtures/binance. Asserts rows (against the real
 * files through expectedKlines) and the requests the fake saw.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChecksumMismatchError, DataValidationError, KlinesError, UpstreamError } from '../../lib/domain/errors.ts';
import type { Dataset, Kline } from '../../lib/domain/kline.ts';
import { rowsFromColumns, type KlineColumns } from '../../lib/domain/kline-columns.ts';
import { CM_MAX_WINDOW_MS } from '../../lib/domain/markets.ts';
import { createHttpClient } from '../../lib/sources/http-client.ts';
import { createRestClient } from '../../lib/sources/rest-client.ts';
import { createUpstreamStats, type RestSource, type VisionFileRequest, type VisionSource } from '../../lib/sources/types.ts';
import { createVisionClient } from '../../lib/sources/vision-client.ts';
import { expectedKlines } from '../helpers/expected.ts';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { realDataDir } from '../helpers/real-data.ts';

/** A file's columns as row objects (undefined stays undefined: not published). */
const rowsOf = (columns: KlineColumns | undefined): Kline[] | undefined => (columns ? rowsFromColumns(columns) : undefined);

const NOW_MS = Date.UTC(2026, 0, 1);
let fake: FakeBinance;
let vision: VisionSource;
let rest: RestSource;
let http: ReturnType<typeof createHttpClient>;

beforeAll(async () => {
  fake = await startFakeBinance({ nowMs: NOW_MS });
});
afterAll(async () => fake.close());
beforeEach(() => {
  fake.setNow(NOW_MS);
  fake.clearRequests();
  // Fresh clients per test: a 429 pauses the whole client, and one test's pause must not leak.
  http = createHttpClient({ backoffBaseMs: 1, retryLimit: 2 });
  vision = createVisionClient({ baseUrl: fake.visionUrl, http });
  rest = createRestClient({ spotUrl: fake.spotApiUrl, umUrl: fake.umApiUrl, cmUrl: fake.cmApiUrl, http });
});

const spot1h: Dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1h' };
const daily = (dataset: Dataset, y: number, m: number, d: number): VisionFileRequest => ({ dataset, kind: 'daily', periodStartMs: Date.UTC(y, m - 1, d) });
const monthly = (dataset: Dataset, y: number, m: number): VisionFileRequest => ({ dataset, kind: 'monthly', periodStartMs: Date.UTC(y, m - 1, 1) });
const zipRequests = () => fake.requests.filter((r) => r.kind === 'vision-zip');

async function rejection(promise: Promise<unknown>): Promise<KlinesError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KlinesError);
    return error as KlinesError;
  }
  throw new Error('expected a rejection');
}

describe('Vision client', () => {
  it('fetches a real daily spot zip (no header), verified and parsed', async () => {
    const stats = createUpstreamStats();
    const rows = rowsOf(await vision.fetchFile(daily(spot1h, 2022, 9, 7), stats));
    expect(rows).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', Date.UTC(2022, 8, 7), Date.UTC(2022, 8, 7, 23)));
    expect(rows).toHaveLength(24);
    const zipBytes = readFileSync(path.join(realDataDir(), 'vision/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2022-09-07.zip')).length;
    expect(stats).toMatchObject({ visionFiles: 1, visionBytes: zipBytes, visionNotFound: 0 });
    expect(fake.requests.map((r) => `${r.kind} ${r.path}`)).toEqual([
      'vision-checksum /data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2022-09-07.zip.CHECKSUM',
      'vision-zip /data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2022-09-07.zip',
    ]);
  });

  it.each([
    ['um', 'BTCUSDT', '1m', 2022, 9, 5],
    ['cm', 'BTCUSD_PERP', '1m', 2022, 10, 24],
  ] as const)('fetches a real %s %s %s zip whose CSV starts with a header', async (market, symbol, interval, y, m, d) => {
    const rows = rowsOf(await vision.fetchFile(daily({ market, symbol, interval }, y, m, d), createUpstreamStats()));
    expect(rows).toHaveLength(1440);
    expect(rows).toEqual(expectedKlines(market, symbol, interval, Date.UTC(y, m - 1, d), Date.UTC(y, m - 1, d, 23, 59)));
  });

  it('fetches a monthly file and keeps its off-grid candles (spot 1h 2018-02)', async () => {
    const rows = rowsOf(await vision.fetchFile(monthly(spot1h, 2018, 2), createUpstreamStats()));
    expect(rows).toHaveLength(640);
    expect(rows).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', Date.UTC(2018, 1, 1), Date.UTC(2018, 2, 1) - 1));
    expect(rows!.some((r) => r.open_time === Date.UTC(2018, 1, 9, 9, 28, 14, 789))).toBe(true);
    expect(fake.requests.map((r) => r.path)).toContain('/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2018-02.zip');
  });

  it('normalizes a µs spot file (2025-07-13) to ms', async () => {
    const rows = rowsOf(await vision.fetchFile(daily({ market: 'spot', symbol: 'BTCUSDT', interval: '1m' }, 2025, 7, 13), createUpstreamStats()));
    expect(rows).toHaveLength(1440);
    expect(rows![0]).toMatchObject({ open_time: 1752364800000, close_time: 1752364859999 });
  });

  it('returns undefined and counts visionNotFound for a file that is not published', async () => {
    const stats = createUpstreamStats();
    expect(await vision.fetchFile(daily(spot1h, 2022, 9, 20), stats)).toBeUndefined();
    fake.setNow(Date.UTC(2022, 8, 8, 1)); // the 2022-09-07 file appears at 08:00 the next day
    expect(await vision.fetchFile(daily(spot1h, 2022, 9, 7), stats)).toBeUndefined();
    expect(stats).toMatchObject({ visionNotFound: 2, visionFiles: 0, visionBytes: 0 });
    expect(fake.requests.every((r) => r.status === 404)).toBe(true);
  });

  it('re-downloads once on a checksum mismatch, then throws ChecksumMismatchError naming URL and hashes', async () => {
    fake.inject('BTCUSDT-1h-2022-09-07', { kind: 'bad-checksum' });
    const error = await rejection(vision.fetchFile(daily(spot1h, 2022, 9, 7), createUpstreamStats()));
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    const actual = createHash('sha256').update(readFileSync(path.join(realDataDir(), 'vision/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2022-09-07.zip'))).digest('hex');
    expect(error.message).toContain(`${fake.visionUrl}/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2022-09-07.zip`);
    expect(error.message).toContain(actual);
    expect(error.details.expected).not.toBe(actual);
    expect(error.message).toContain(String(error.details.expected));
    expect(zipRequests()).toHaveLength(2);
  });

  it('recovers from one cut download (truncate-zip) by downloading again', async () => {
    fake.inject('BTCUSDT-1h-2022-09-08', { kind: 'truncate-zip' });
    const stats = createUpstreamStats();
    const rows = rowsOf(await vision.fetchFile(daily(spot1h, 2022, 9, 8), stats));
    expect(rows).toHaveLength(24);
    expect(zipRequests()).toHaveLength(2);
    expect(stats.visionFiles).toBe(1);
  });

  it('fails when every download is cut (truncate-zip twice), never unzipping a bad file', async () => {
    fake.inject('BTCUSDT-1h-2022-09-08', { kind: 'truncate-zip' }, 2);
    const error = await rejection(vision.fetchFile(daily(spot1h, 2022, 9, 8), createUpstreamStats()));
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect(zipRequests()).toHaveLength(2);
  });

  it('returns the rows of a file published truncated (its CHECKSUM matches)', async () => {
    fake.inject('BTCUSDT-1m-2022-09-05', { kind: 'truncate-rows', rows: 100 });
    const rows = rowsOf(await vision.fetchFile(daily({ market: 'um', symbol: 'BTCUSDT', interval: '1m' }, 2022, 9, 5), createUpstreamStats()));
    expect(rows).toHaveLength(100);
  });

  it('wraps a persistent 5xx into UPSTREAM_FAILED with the URL and the file range', async () => {
    fake.inject('BTCUSDT-1h-2022-09-07.zip', { kind: 'status', status: 503 }, 3);
    const error = await rejection(vision.fetchFile(daily(spot1h, 2022, 9, 7), createUpstreamStats()));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.details).toMatchObject({ url: `${fake.visionUrl}/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2022-09-07.zip.CHECKSUM`, range: { startMs: Date.UTC(2022, 8, 7), endMs: Date.UTC(2022, 8, 8) } });
  });
});

describe('Vision client on bad archives with matching checksums', () => {
  const realZip = (day: string) => readFileSync(path.join(realDataDir(), `vision/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-${day}.zip`));
  const serve = async (zip: Uint8Array) => {
    const name = 'BTCUSDT-1h-2022-09-07.zip';
    const checksum = `${createHash('sha256').update(zip).digest('hex')}  ${name}`;
    const server = createServer((req, res) => {
      if (req.url?.endsWith('.CHECKSUM')) res.end(checksum);
      else res.end(zip);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = createVisionClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, http });
    try {
      return await rejection(client.fetchFile(daily(spot1h, 2022, 9, 7), createUpstreamStats()));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  };

  it('rejects a corrupt zip', async () => {
    const error = await serve(realZip('2022-09-07').subarray(0, 800));
    expect(error).toBeInstanceOf(DataValidationError);
    expect(error.message).toMatch(/BTCUSDT-1h-2022-09-07\.zip is not a readable zip/);
  });

  it('rejects a zip with two CSV members', async () => {
    const error = await serve(zipSync({ 'a.csv': strToU8('x'), 'b.csv': strToU8('y') }));
    expect(error).toBeInstanceOf(DataValidationError);
    expect(error.message).toMatch(/holds 2 \.csv members/);
  });

  /** The real zip with its central directory's uncompressed size of the member changed by `delta` bytes. */
  const withRecordedSize = (delta: number): Buffer => {
    const zip = Buffer.from(realZip('2022-09-07'));
    const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); // the (single) central directory header
    zip.writeUInt32LE(zip.readUInt32LE(central + 24) + delta, central + 24);
    return zip;
  };

  it('rejects a member that inflates to more than the archive records, stopping there', async () => {
    const error = await serve(withRecordedSize(-100));
    expect(error).toBeInstanceOf(DataValidationError);
    expect(error.message).toMatch(/member BTCUSDT-1h-2022-09-07\.csv inflates to more than the \d+ bytes the archive says/);
  });

  it('rejects a member that inflates to less than the archive records', async () => {
    const error = await serve(withRecordedSize(100));
    expect(error).toBeInstanceOf(DataValidationError);
    expect(error.message).toMatch(/member BTCUSDT-1h-2022-09-07\.csv inflates to \d+ bytes, the archive says \d+/);
  });

  it('rejects a file whose rows lie outside its day', async () => {
    const error = await serve(realZip('2022-09-08')); // the next day's rows under this day's name
    expect(error).toBeInstanceOf(DataValidationError);
    expect(error.message).toMatch(/open_time 1662595200000 \(2022-09-08T00:00:00.000Z\) lies outside the file's period/);
  });
});

describe('REST client', () => {
  it('pages a spot range 1000 rows at a time with inclusive bounds', async () => {
    const range = { startMs: Date.UTC(2019, 0, 1), endMs: Date.UTC(2019, 2, 1) };
    const stats = createUpstreamStats();
    const rows = rowsFromColumns(await rest.fetchRange(spot1h, range, NOW_MS, stats));
    expect(rows).toEqual(expectedKlines('spot', 'BTCUSDT', '1h', range.startMs, range.endMs - 1));
    expect(rows).toHaveLength(1416);
    expect(fake.requests.map((r) => r.query)).toEqual([
      { symbol: 'BTCUSDT', interval: '1h', startTime: String(range.startMs), endTime: String(range.endMs - 1), limit: '1000' },
      { symbol: 'BTCUSDT', interval: '1h', startTime: String(rows[999]!.open_time + 1), endTime: String(range.endMs - 1), limit: '1000' },
    ]);
    expect(stats).toMatchObject({ restRequests: 2, restWeight: 4, usedWeight1m: 4 });
  });

  it('pages USD-M 499 rows at a time (weight 2 each)', async () => {
    const dataset: Dataset = { market: 'um', symbol: 'BTCUSDT', interval: '1m' };
    const range = { startMs: Date.UTC(2022, 4, 4), endMs: Date.UTC(2022, 4, 7) };
    const stats = createUpstreamStats();
    const rows = rowsFromColumns(await rest.fetchRange(dataset, range, NOW_MS, stats));
    expect(rows).toHaveLength(4320);
    expect(rows).toEqual(expectedKlines('um', 'BTCUSDT', '1m', range.startMs, range.endMs - 1));
    expect(fake.requests).toHaveLength(9); // 8 × 499 + 328
    expect(fake.requests.every((r) => r.query.limit === '499')).toBe(true);
    expect(stats).toMatchObject({ restRequests: 9, restWeight: 18 });
  });

  it('drops the unfinished candle and asks nothing after now', async () => {
    const now = Date.UTC(2019, 0, 1, 10, 30);
    fake.setNow(now);
    const rows = rowsFromColumns(await rest.fetchRange(spot1h, { startMs: Date.UTC(2019, 0, 1), endMs: Date.UTC(2019, 0, 2) }, now, createUpstreamStats()));
    expect(rows.map((r) => r.open_time)).toEqual(Array.from({ length: 10 }, (_, h) => Date.UTC(2019, 0, 1, h)));
    expect(fake.requests).toHaveLength(1);
    expect(Number(fake.requests[0]!.query.endTime)).toBeLessThan(now);
  });

  it('turns -1121 into a clear UNKNOWN_SYMBOL without retrying', async () => {
    const dataset: Dataset = { market: 'spot', symbol: 'BTCUSDX', interval: '1m' };
    const range = { startMs: Date.UTC(2024, 0, 1), endMs: Date.UTC(2024, 0, 2) };
    const error = await rejection(rest.fetchRange(dataset, range, NOW_MS, createUpstreamStats()));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.code).toBe('UNKNOWN_SYMBOL');
    expect(error.message).toBe('REST /api/v3/klines: Binance has no spot symbol BTCUSDX (-1121 Invalid symbol.)');
    expect(error.details).toMatchObject({ binanceCode: -1121, range });
    expect(fake.requests).toHaveLength(1);
  });

  it('cuts COIN-M ranges into windows of at most 200 days', async () => {
    const dataset: Dataset = { market: 'cm', symbol: 'BTCUSD_PERP', interval: '1d' };
    const range = { startMs: Date.UTC(2022, 0, 1), endMs: Date.UTC(2023, 3, 1) }; // 455 days
    const rows = rowsFromColumns(await rest.fetchRange(dataset, range, NOW_MS, createUpstreamStats()));
    expect(rows).toEqual(expectedKlines('cm', 'BTCUSD_PERP', '1d', range.startMs, range.endMs - 1));
    expect(rows.length).toBeGreaterThan(0);
    const windows = fake.requests.map((r) => ({ start: Number(r.query.startTime), end: Number(r.query.endTime) }));
    expect(windows).toHaveLength(3);
    expect(windows[0]!.start).toBe(range.startMs);
    expect(windows[2]!.end).toBe(range.endMs - 1);
    for (const w of windows) expect(w.end - w.start).toBeLessThan(CM_MAX_WINDOW_MS);
    for (let i = 1; i < windows.length; i++) expect(windows[i]!.start).toBe(windows[i - 1]!.end + 1);
    expect(fake.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('reports a persistent 5xx as UPSTREAM_FAILED with the failed range, after the retries', async () => {
    fake.inject('/api/v3/klines', { kind: 'status', status: 502 }, 3);
    const range = { startMs: Date.UTC(2019, 0, 1), endMs: Date.UTC(2019, 0, 2) };
    const stats = createUpstreamStats();
    const error = await rejection(rest.fetchRange(spot1h, range, NOW_MS, stats));
    expect(error.code).toBe('UPSTREAM_FAILED');
    expect(error.details.range).toEqual(range);
    expect(error.message).toContain('REST /api/v3/klines: BTCUSDT 1h [2019-01-01T00:00:00.000Z, 2019-01-02T00:00:00.000Z) failed');
    expect(fake.requests).toHaveLength(3);
    expect(stats).toMatchObject({ restRequests: 3, restWeight: 6 });
  });

  it('stops at a 429 with a long Retry-After: RATE_LIMITED, one request', async () => {
    fake.inject('/api/v3/klines', { kind: 'status', status: 429, headers: { 'retry-after': '600' }, body: '{"code":-1003,"msg":"Too many requests."}' });
    const error = await rejection(rest.fetchRange(spot1h, { startMs: Date.UTC(2019, 0, 1), endMs: Date.UTC(2019, 0, 2) }, NOW_MS, createUpstreamStats()));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.message).toContain('600 s');
    expect(fake.requests).toHaveLength(1);
  });

  it('recovers from a reset connection', async () => {
    fake.inject('/api/v3/klines', { kind: 'reset' });
    const stats = createUpstreamStats();
    const rows = rowsFromColumns(await rest.fetchRange(spot1h, { startMs: Date.UTC(2019, 0, 1), endMs: Date.UTC(2019, 0, 2) }, NOW_MS, stats));
    expect(rows).toHaveLength(24);
    expect(fake.requests).toHaveLength(2);
    expect(stats).toMatchObject({ restRequests: 2, restWeight: 4 });
  });
});
