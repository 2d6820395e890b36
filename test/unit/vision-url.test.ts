/**
 * Vision file names and URLs (all markets, daily and monthly, `1M` as `1mo`) and the CHECKSUM
 * sidecar parser against the real sidecars in test/fixtures/binance/checksum-only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChecksumMismatchError, DataValidationError, InvalidInputError } from '../../lib/domain/errors.ts';
import type { Interval } from '../../lib/domain/intervals.ts';
import type { Market } from '../../lib/domain/markets.ts';
import { parseChecksum } from '../../lib/sources/vision-client.ts';
import { visionFileName, visionFileRange, visionFileUrl } from '../../lib/sources/vision-url.ts';
import { realDataDir } from '../helpers/real-data.ts';

const checksumDir = path.join(realDataDir(), 'checksum-only/vision/data');

const request = (market: Market, symbol: string, interval: Interval, kind: 'daily' | 'monthly', periodStartMs: number) => ({
  dataset: { market, symbol, interval }, kind, periodStartMs,
});

describe('visionFileUrl', () => {
  const base = 'https://data.binance.vision';
  it.each([
    [request('spot', 'BTCUSDT', '1m', 'daily', Date.UTC(2024, 0, 15)), '/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-15.zip'],
    [request('um', 'ETHUSDT', '1h', 'daily', Date.UTC(2022, 7, 24)), '/data/futures/um/daily/klines/ETHUSDT/1h/ETHUSDT-1h-2022-08-24.zip'],
    [request('cm', 'BTCUSD_PERP', '1m', 'daily', Date.UTC(2022, 9, 24)), '/data/futures/cm/daily/klines/BTCUSD_PERP/1m/BTCUSD_PERP-1m-2022-10-24.zip'],
    [request('spot', 'BTCUSDT', '1h', 'monthly', Date.UTC(2018, 1, 1)), '/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2018-02.zip'],
    [request('um', 'BTCUSDT', '5m', 'monthly', Date.UTC(2022, 3, 1)), '/data/futures/um/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2022-04.zip'],
    [request('cm', 'BTCUSD_PERP', '1w', 'monthly', Date.UTC(2023, 11, 1)), '/data/futures/cm/monthly/klines/BTCUSD_PERP/1w/BTCUSD_PERP-1w-2023-12.zip'],
    [request('spot', 'BTCUSDT', '1M', 'monthly', Date.UTC(2024, 0, 1)), '/data/spot/monthly/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-01.zip'],
    [request('spot', 'BTCUSDT', '1s', 'daily', Date.UTC(2024, 2, 1)), '/data/spot/daily/klines/BTCUSDT/1s/BTCUSDT-1s-2024-03-01.zip'],
  ])('%o → %s', (req, expectedPath) => {
    const location = visionFileUrl(`${base}/`, req);
    expect(location.zipUrl).toBe(`${base}${expectedPath}`);
    expect(location.checksumUrl).toBe(`${base}${expectedPath}.CHECKSUM`);
    expect(location.fileName).toBe(expectedPath.slice(expectedPath.lastIndexOf('/') + 1));
    expect(visionFileName(req)).toBe(location.fileName);
  });

  it('gives the UTC day or month a file covers', () => {
    expect(visionFileRange(request('spot', 'BTCUSDT', '1m', 'daily', Date.UTC(2024, 1, 29)))).toEqual({ startMs: Date.UTC(2024, 1, 29), endMs: Date.UTC(2024, 2, 1) });
    expect(visionFileRange(request('spot', 'BTCUSDT', '1m', 'monthly', Date.UTC(2024, 1, 1)))).toEqual({ startMs: Date.UTC(2024, 1, 1), endMs: Date.UTC(2024, 2, 1) });
    expect(visionFileRange(request('spot', 'BTCUSDT', '1m', 'monthly', Date.UTC(2024, 11, 1)))).toEqual({ startMs: Date.UTC(2024, 11, 1), endMs: Date.UTC(2025, 0, 1) });
  });

  it.each([
    ['a daily file for 1w', request('spot', 'BTCUSDT', '1w', 'daily', Date.UTC(2024, 0, 1)), /no daily files exist for interval 1w/],
    ['a daily start off midnight', request('spot', 'BTCUSDT', '1m', 'daily', Date.UTC(2024, 0, 1, 3)), /not a UTC day start/],
    ['a monthly start off the 1st', request('spot', 'BTCUSDT', '1m', 'monthly', Date.UTC(2024, 0, 2)), /not a UTC month start/],
  ])('rejects %s', (_, req, message) => {
    expect(() => visionFileUrl('http://127.0.0.1:1', req)).toThrowError(InvalidInputError);
    expect(() => visionFileUrl('http://127.0.0.1:1', req)).toThrowError(message);
  });
});

describe('parseChecksum', () => {
  it.each([
    ['spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01-15.zip.CHECKSUM', 'BTCUSDT-1m-2025-01-15.zip'],
    ['spot/monthly/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-01.zip.CHECKSUM', 'BTCUSDT-1mo-2024-01.zip'],
    ['futures/um/daily/markPriceKlines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip.CHECKSUM', 'BTCUSDT-1m-2024-01-01.zip'],
  ])('reads the real sidecar %s', (relative, fileName) => {
    const text = readFileSync(path.join(checksumDir, relative), 'utf8');
    const hash = parseChecksum(text, fileName, relative);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(text.startsWith(`${hash}  ${fileName}`)).toBe(true);
    // With and without the trailing newline (the real copies differ, SOURCES.md).
    expect(parseChecksum(text.trimEnd(), fileName, relative)).toBe(hash);
    expect(parseChecksum(`${text.trimEnd()}\n`, fileName, relative)).toBe(hash);
    expect(parseChecksum(`${text.trimEnd()}\r\n`, fileName, relative)).toBe(hash);
  });

  it('refuses a sidecar that names another file', () => {
    const text = `${'a'.repeat(64)}  BTCUSDT-1m-2024-01-16.zip\n`;
    expect(() => parseChecksum(text, 'BTCUSDT-1m-2024-01-15.zip', 'x.CHECKSUM')).toThrowError(ChecksumMismatchError);
  });

  it.each(['', 'not a checksum', `${'a'.repeat(63)}  f.zip`, `${'a'.repeat(64)}`, `${'g'.repeat(64)}  f.zip`, `${'a'.repeat(64)}  f.zip  extra`])('refuses the malformed sidecar %j', (text) => {
    expect(() => parseChecksum(text, 'f.zip', 'x.CHECKSUM')).toThrowError(DataValidationError);
  });
});
