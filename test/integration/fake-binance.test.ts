// Tests of the fake Binance itself: that it replays the real files faithfully, with Binance's
// REST semantics and Vision publication rules, and that injected faults look like real failures.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.ts';
import { realDataDir } from '../helpers/real-data.ts';

const HOUR_MS = 3_600_000;
const LATE_NOW_MS = Date.parse('2027-01-01T00:00:00Z');
const SPOT_1H_DAILY = '/data/spot/daily/klines/BTCUSDT/1h';

let fake: FakeBinance;

beforeAll(async () => {
  fake = await startFakeBinance({ nowMs: LATE_NOW_MS });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.setNow(LATE_NOW_MS);
  fake.clearRequests();
});

function readReal(relative: string): Buffer {
  return readFileSync(path.join(realDataDir(), relative));
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function getBytes(urlPath: string): Promise<{ status: number; bytes: Uint8Array }> {
  const response = await fetch(`${fake.url}${urlPath}`);
  return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()) };
}

function onlyMemberText(zip: Uint8Array): { name: string; text: string } {
  const entries = Object.entries(unzipSync(zip));
  expect(entries).toHaveLength(1);
  return { name: entries[0]![0], text: strFromU8(entries[0]![1]) };
}

async function getKlines(apiPath: string, query: Record<string, string | number>) {
  const params = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
  const response = await fetch(`${fake.url}${apiPath}?${params}`);
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

describe('Vision archive', () => {
  it('serves a real zip byte for byte, with a CHECKSUM naming its sha256', async () => {
    const { status, bytes } = await getBytes(`${SPOT_1H_DAILY}/BTCUSDT-1h-2022-09-07.zip`);
    expect(status).toBe(200);
    // The value SOURCES.md records for this real file.
    expect(sha256(bytes)).toBe('46ae6b4a2da6452dc542d079c97808521b65458de706d1ae676d29ea15540ab5');
    const checksum = await fetch(`${fake.url}${SPOT_1H_DAILY}/BTCUSDT-1h-2022-09-07.zip.CHECKSUM`);
    expect(await checksum.text()).toBe('46ae6b4a2da6452dc542d079c97808521b65458de706d1ae676d29ea15540ab5  BTCUSDT-1h-2022-09-07.zip\n');
    expect(fake.requests.map((r) => [r.kind, r.status])).toEqual([['vision-zip', 200], ['vision-checksum', 200]]);
  });

  it('derives a daily file for a day inside a monthly spot CSV: exactly that day, no header', async () => {
    const { status, bytes } = await getBytes(`${SPOT_1H_DAILY}/BTCUSDT-1h-2020-05-06.zip`);
    expect(status).toBe(200);
    const dayStart = Date.parse('2020-05-06T00:00:00Z');
    const expected = readReal('csv/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-05.csv').toString('utf8')
      .split('\n').filter((line) => line !== '' && Number(line.split(',')[0]) >= dayStart && Number(line.split(',')[0]) < dayStart + 24 * HOUR_MS);
    expect(expected).toHaveLength(24);
    expect(onlyMemberText(bytes)).toEqual({ name: 'BTCUSDT-1h-2020-05-06.csv', text: `${expected.join('\n')}\n` });
    const checksum = await (await fetch(`${fake.url}${SPOT_1H_DAILY}/BTCUSDT-1h-2020-05-06.zip.CHECKSUM`)).text();
    expect(checksum).toBe(`${sha256(bytes)}  BTCUSDT-1h-2020-05-06.zip\n`);
  });

  it('rebuilds a monthly file from its CSV unchanged, and a µs spot day with its µs times', async () => {
    const month = await getBytes('/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-05.zip');
    expect(onlyMemberText(month.bytes).text).toBe(readReal('csv/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-05.csv').toString('utf8'));
    const micro = await getBytes('/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-07-13.zip');
    expect(onlyMemberText(micro.bytes).text).toBe(readReal('csv/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-07-13.csv').toString('utf8'));
  });

  it('gives derived futures files the header row', async () => {
    const { bytes } = await getBytes('/data/futures/um/daily/klines/BTCUSDT/5m/BTCUSDT-5m-2022-04-10.zip');
    const lines = onlyMemberText(bytes).text.split('\n');
    expect(lines[0]).toBe('open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore');
    expect(lines.filter((line) => /^\d/.test(line))).toHaveLength(288);
  });

  it('publishes a daily file only dailyLagMs after its day ends, and a monthly file monthlyLagMs after its month', async () => {
    const dailyPath = `${SPOT_1H_DAILY}/BTCUSDT-1h-2022-09-08.zip`;
    fake.setNow(Date.parse('2022-09-09T07:59:59Z'));
    const early = await fetch(`${fake.url}${dailyPath}`);
    expect(early.status).toBe(404);
    expect(await early.text()).toContain('<Code>NoSuchKey</Code>');
    fake.setNow(Date.parse('2022-09-09T08:00:00Z'));
    expect((await getBytes(dailyPath)).status).toBe(200);

    const monthlyPath = '/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2020-05.zip';
    fake.setNow(Date.parse('2020-06-02T23:59:59Z'));
    expect((await getBytes(monthlyPath)).status).toBe(404);
    fake.setNow(Date.parse('2020-06-03T00:00:00Z'));
    expect((await getBytes(monthlyPath)).status).toBe(200);
  });

  it('answers 404 for files no whole real file vouches for', async () => {
    const missing = [
      '/data/spot/daily/klines/ADABTC/1m/ADABTC-1m-2021-11-27.zip', // truncated source file
      '/data/futures/um/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2022-05.zip', // only 3 of its days are known
      `${SPOT_1H_DAILY}/BTCUSDT-1h-2021-01-01.zip`, // no real file
      `${SPOT_1H_DAILY}/BTCUSDT-1h-2017-08-01.zip`, // known month, but before the listing: no rows
      '/data/spot/daily/klines/NOPE/1h/NOPE-1h-2020-05-06.zip',
    ];
    for (const urlPath of missing) expect((await getBytes(urlPath)).status, urlPath).toBe(404);
  });
});

describe('REST klines', () => {
  const recorded = (file: string): unknown => JSON.parse(readReal(`rest/gct-recorded/${file}`).toString('utf8'));

  it('treats startTime and endTime as inclusive bounds on open_time, as the recorded responses show', async () => {
    const page = await getKlines('/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m', startTime: 1588740088000, endTime: 1588743688000 });
    expect(page.body).toEqual(recorded('api_v3_klines__endTime=1588743688000__interval=1m__startTime=1588740088000__symbol=BTCUSDT.json'));
    const one = await getKlines('/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m', startTime: 1588636800000, endTime: 1588636800000 });
    expect((one.body as unknown[]).map((row) => (row as number[])[0])).toEqual([1588636800000]);
    const year = await getKlines('/api/v3/klines', { symbol: 'BTCUSDT', interval: '1d', startTime: 1546300800000, endTime: 1577836799000, limit: 1000 });
    expect(year.body).toHaveLength(365);
  });

  it('caps a page at limit, and rejects a limit above the market maximum with -1130', async () => {
    const page = await getKlines('/api/v3/klines', { symbol: 'BTCUSDT', interval: '1h', startTime: 1588280400000, endTime: 1591880400000, limit: 1000 });
    expect(page.body).toEqual(recorded('api_v3_klines__endTime=1591880400000__interval=1h__limit=1000__startTime=1588280400000__symbol=BTCUSDT.json'));
    const tooMany = await getKlines('/api/v3/klines', { symbol: 'BTCUSDT', interval: '1h', limit: 1001 });
    expect([tooMany.status, tooMany.body]).toEqual([400, { code: -1130, msg: "Data sent for parameter 'limit' is not valid." }]);
    expect((await getKlines('/fapi/v1/klines', { symbol: 'BTCUSDT', interval: '1m', limit: 1500 })).status).toBe(200);
    expect((await getKlines('/fapi/v1/klines', { symbol: 'BTCUSDT', interval: '1m', limit: 1501 })).status).toBe(400);
  });

  it('ends an open-ended page with the candle containing now, and serves nothing after now', async () => {
    fake.setNow(Date.parse('2020-05-06T10:30:00Z'));
    const page = await getKlines('/api/v3/klines', { symbol: 'BTCUSDT', interval: '1h', limit: 3 });
    const rows = page.body as (string | number)[][];
    expect(rows.map((row) => new Date(row[0] as number).toISOString())).toEqual(['2020-05-06T08:00:00.000Z', '2020-05-06T09:00:00.000Z', '2020-05-06T10:00:00.000Z']);
    expect(rows[2]![6]).toBe(Date.parse('2020-05-06T10:59:59.999Z'));
    const later = await getKlines('/api/v3/klines', { symbol: 'BTCUSDT', interval: '1h', startTime: Date.parse('2020-05-06T11:00:00Z') });
    expect(later.body).toEqual([]);
  });

  it('converts µs rows to ms and keeps the published decimal strings', async () => {
    const page = await getKlines('/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m', startTime: Date.parse('2025-07-13T00:00:00Z'), limit: 1 });
    expect(page.body).toEqual([[1752364800000, '117420.00000000', '117458.48000000', '117420.00000000', '117458.48000000', '0.78612000', 1752364859999, '92325.73049990', 975, '0.61357000', '72059.21886660', '0']]);
  });

  it('answers Binance errors: -1121 unknown symbol, -1120 bad interval, the recorded -4088 on /dapi', async () => {
    const unknown = await getKlines('/api/v3/klines', { symbol: 'NOPEUSDT', interval: '1h' });
    expect([unknown.status, unknown.body]).toEqual([400, { code: -1121, msg: 'Invalid symbol.' }]);
    const oneSecondFutures = await getKlines('/fapi/v1/klines', { symbol: 'BTCUSDT', interval: '1s' });
    expect([oneSecondFutures.status, oneSecondFutures.body]).toEqual([400, { code: -1120, msg: 'Invalid interval.' }]);
    const window = await getKlines('/dapi/v1/klines', { symbol: 'BTCUSD_PERP', interval: '1d', startTime: 1546300800000, endTime: 1577836800000, limit: 1000 });
    expect(window.status).toBe(400);
    expect(window.body).toEqual(recorded('dapi_v1_klines__endTime=1577836800000__interval=1d__limit=1000__startTime=1546300800000__symbol=BTCUSD_PERP.json'));
  });

  it('reports the running request weight in x-mbx-used-weight-1m', async () => {
    const fresh = await startFakeBinance({ nowMs: LATE_NOW_MS });
    try {
      const weights: (string | null)[] = [];
      for (const [apiPath, limit] of [['/api/v3/klines', 1000], ['/fapi/v1/klines', 99], ['/fapi/v1/klines', 499], ['/fapi/v1/klines', 1000], ['/fapi/v1/klines', 1001]] as const) {
        const response = await fetch(`${fresh.url}${apiPath}?symbol=BTCUSDT&interval=1m&limit=${limit}`);
        expect(response.headers.get('content-type')).toBe('application/json');
        weights.push(response.headers.get('x-mbx-used-weight-1m'));
      }
      expect(weights).toEqual(['2', '3', '5', '10', '20']);
    } finally {
      await fresh.close();
    }
  });
});

describe('exchangeInfo', () => {
  it('lists the symbols it has real data for, in the shape and with the weight of each market', async () => {
    const answers: Response[] = [];
    for (const p of ['/api/v3/exchangeInfo', '/fapi/v1/exchangeInfo', '/dapi/v1/exchangeInfo']) answers.push(await fetch(`${fake.url}${p}`));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const [spot, um, cm] = (await Promise.all(answers.map((a) => a.json()))) as { serverTime: number; symbols: Record<string, unknown>[] }[];
    expect(spot!.serverTime).toBe(LATE_NOW_MS);
    expect(spot!.symbols.map((s) => [s.symbol, s.status, s.onboardDate])).toEqual([['ADABTC', 'TRADING', undefined], ['BTCUSDT', 'TRADING', undefined], ['ETHBTC', 'TRADING', undefined]]);
    expect(spot!.symbols[1]).toMatchObject({ baseAsset: 'BTC', quoteAsset: 'USDT' });
    // The first recorded USD-M BTCUSDT candle is the REST 1d page's 2019-09-08 (SOURCES.md).
    expect(um!.symbols.map((s) => [s.symbol, s.status, s.contractType, s.onboardDate])).toEqual([
      ['BTCUSDT', 'TRADING', 'PERPETUAL', Date.parse('2019-09-08')], ['ETHUSDT', 'TRADING', 'PERPETUAL', Date.parse('2022-08-24')],
    ]);
    expect(cm!.symbols).toEqual([expect.objectContaining({ symbol: 'BTCUSD_PERP', contractStatus: 'TRADING', pair: 'BTCUSD', marginAsset: 'BTC' })]);
    expect(cm!.symbols[0]!.status).toBeUndefined();
    const weights = answers.map((a) => Number(a.headers.get('x-mbx-used-weight-1m')));
    expect([weights[1]! - weights[0]!, weights[2]! - weights[1]!]).toEqual([1, 1]);
    expect(fake.requests.map((r) => r.kind)).toEqual(['exchange-info', 'exchange-info', 'exchange-info']);
  });
});

describe('faults', () => {
  it('answers the next matching request with an injected 429 and Retry-After, then recovers', async () => {
    fake.inject('/api/v3/klines', { kind: 'status', status: 429, headers: { 'retry-after': '7' } });
    const url = `${fake.url}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1`;
    const limited = await fetch(url);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '7']);
    expect((await fetch(url)).status).toBe(200);
    expect(fake.requests.map((r) => [r.kind, r.status])).toEqual([['rest', 429], ['rest', 200]]);
  });

  it('bad-checksum makes the CHECKSUM name a sha256 that is not the zip’s', async () => {
    const file = `${SPOT_1H_DAILY}/BTCUSDT-1h-2022-09-08.zip`;
    fake.inject(file, { kind: 'bad-checksum' });
    const { bytes } = await getBytes(file);
    const [hex, name] = (await (await fetch(`${fake.url}${file}.CHECKSUM`)).text()).trim().split(/\s+/);
    expect(name).toBe('BTCUSDT-1h-2022-09-08.zip');
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    expect(hex).not.toBe(sha256(bytes));
  });

  it('truncate-rows serves a zip of the first N rows whose CHECKSUM matches, whichever comes first', async () => {
    const file = '/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2022-09-05.zip';
    fake.inject(file, { kind: 'truncate-rows', rows: 5 });
    const checksum = await (await fetch(`${fake.url}${file}.CHECKSUM`)).text();
    const { bytes } = await getBytes(file);
    expect(checksum).toBe(`${sha256(bytes)}  BTCUSDT-1m-2022-09-05.zip\n`);
    const lines = onlyMemberText(bytes).text.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(6); // the real file's header and 5 rows
    expect(lines[1]!.startsWith('1662336000000,')).toBe(true);
    expect(sha256((await getBytes(file)).bytes)).toBe('7b03b9ac53d3d74bf838380bfbd0bf1e683759e1304af4e2e73d8d717fb7dec2');
  });

  it('truncate-zip cuts the zip in half while the CHECKSUM still names the whole file', async () => {
    const file = `${SPOT_1H_DAILY}/BTCUSDT-1h-2022-09-07.zip`;
    fake.inject(file, { kind: 'truncate-zip' });
    const cut = await getBytes(file);
    const whole = readReal(`vision${file}`);
    expect(Buffer.from(cut.bytes).equals(whole.subarray(0, Math.floor(whole.length / 2)))).toBe(true);
    expect(await (await fetch(`${fake.url}${file}.CHECKSUM`)).text()).toContain(sha256(whole));
  });

  it('reset drops the connection without an answer and records status 0', async () => {
    fake.inject('/dapi/', { kind: 'reset' });
    await expect(fetch(`${fake.url}/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1d`)).rejects.toThrow();
    expect(fake.requests.map((r) => [r.kind, r.status])).toEqual([['rest', 0]]);
  });
});
