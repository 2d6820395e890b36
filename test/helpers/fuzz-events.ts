/**
 * Generated inputs for the handlers' fuzz test (issues 8 and 11): API Gateway queries for
 * GET /klines and GET /coverage, and payloads for invoke-get-klines. Mostly small ranges near the
 * fake Binance's recorded data (so answers are quick and often real), mixed with the inputs that
 * once gave a 500: dates before the market opened (`0000-01-01`, `start=1`), impossible dates,
 * epoch-ms text, garbage, missing and extra fields, odd types.
 */
import fc from 'fast-check';
import { INTERVALS } from '../../lib/domain/intervals.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Time texts around `nowMs`: mostly within the last 20 days, sometimes anywhere, sometimes garbage. */
function timeText(nowMs: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: nowMs - 20 * DAY_MS, max: nowMs + DAY_MS }).map((ms) => new Date(ms - (ms % 60_000)).toISOString()) },
    { weight: 2, arbitrary: fc.integer({ min: nowMs - 30 * DAY_MS, max: nowMs + DAY_MS }).map(String) },
    { weight: 1, arbitrary: fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('0000-01-01', '1', '0', '-1', '2017-01-01', '2020-02-30', '2020-12-15T10:30:00Z', '1e12', '', ' ', 'now',
        '2020-13-01', '99999999999999999', '2020-12-14T25:00:00Z', '2020-12-14T10:00:00+14:00', '1607900000'),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  );
}

// Unknown symbols cost upstream requests every time (nothing is cached for them), so they are rare.
const symbol = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom('BTCUSDT', 'BTCUSDT', 'ETHUSDT', 'BTCUSD_PERP', 'btcusdt') },
  { weight: 1, arbitrary: fc.constant('NOSUCHPAIR') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z0-9_]{2,12}$/) },
  { weight: 5, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 5, arbitrary: fc.constantFrom('../etc', 'BTC/USDT', 'A', 'x'.repeat(300), '%2e%2e', 'CON', '') },
);
const interval = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('1h', '1h', '1d', '1m', '4h', '1w', '1M') },
  { weight: 1, arbitrary: fc.constantFrom(...INTERVALS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const market = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('spot', 'um', 'cm') }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });

/** A query of GET /klines: a small range near the data most of the time, any fields otherwise. */
export function klinesQuery(nowMs: number): fc.Arbitrary<Record<string, string> | undefined> {
  // The recorded data of the fake Binance's clock (2020-12-15) is spot BTCUSDT: most small ranges
  // ask it (found, then cached); the others mostly cost a few upstream requests each.
  const small = fc.record({
    market: fc.oneof({ weight: 8, arbitrary: fc.constant('spot') }, { weight: 1, arbitrary: market }),
    symbol: fc.oneof({ weight: 8, arbitrary: fc.constant('BTCUSDT') }, { weight: 1, arbitrary: symbol }),
    interval,
    // Mostly a few whole hours on a coarse grid (so later events often find them cached and the
    // run stays quick), sometimes any millisecond.
    startMs: fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom(0, 6, 12)).map(([d, h]) => nowMs - (nowMs % DAY_MS) - d * DAY_MS + h * HOUR_MS) },
      { weight: 1, arbitrary: fc.integer({ min: nowMs - 20 * DAY_MS, max: nowMs }) },
    ),
    spanMs: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(-HOUR_MS, 0, HOUR_MS, 6 * HOUR_MS, DAY_MS, 3 * DAY_MS) },
      { weight: 1, arbitrary: fc.integer({ min: -HOUR_MS, max: 3 * DAY_MS }) },
    ),
    format: fc.constantFrom('json', 'json', 'json', 'csv', 'csv', 'parquet', 'xml'),
    with_source: fc.constantFrom('true', 'false', 'false', 'false', 'yes'),
  }).map(({ startMs, spanMs, ...rest }) => ({ ...rest, start: new Date(startMs).toISOString(), end: new Date(startMs + spanMs).toISOString() }));
  const any = fc.record({
    market, symbol, interval, start: timeText(nowMs), end: timeText(nowMs),
    format: fc.oneof(fc.constantFrom('json', 'csv', 'parquet'), fc.string({ maxLength: 8 })), source: fc.constantFrom('auto', 'vision', 'rest', 'ftp', ''),
    with_source: fc.oneof(fc.constantFrom('true', 'false'), fc.string({ maxLength: 5 })), extra: fc.string({ maxLength: 20 }),
  }, { requiredKeys: ['symbol', 'interval', 'start'] });
  // Cold multi-year fills (the examples): rare, as each one runs to the deadline.
  const big = fc.constantFrom(
    { symbol: 'BTCUSDT', interval: '1m', start: '2017-01-01', end: '2022-10-31' },
    { market: 'cm', symbol: 'BTCUSD_PERP', interval: '1m', start: '1' },
    { market: 'um', symbol: 'BTCUSDT', interval: '1m', start: '0000-01-01' },
    { symbol: 'BTCUSDT', interval: '1h', start: '0000-01-01' },
  );
  return fc.oneof(
    { weight: 800, arbitrary: small }, { weight: 300, arbitrary: any }, { weight: 40, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: big },
  )
    .map((query) => (query ? Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as Record<string, string> : undefined));
}

/** A query of GET /coverage. */
export function coverageQuery(): fc.Arbitrary<Record<string, string> | undefined> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ market, symbol, interval }, { requiredKeys: ['symbol', 'interval'] }) },
    { weight: 1, arbitrary: fc.record({ market, symbol, interval }, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), { maxKeys: 5 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  ).map((query) => (query ? Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as Record<string, string> : undefined));
}

/** A payload of invoke-get-klines: malformed most of the time (any JSON value, wrong types, extra keys), sometimes valid. */
export function invokePayload(nowMs: number): fc.Arbitrary<unknown> {
  const value = fc.oneof(timeText(nowMs), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
  const shaped = fc.record({
    market: fc.oneof(market, value), symbol: fc.oneof(symbol, value), interval: fc.oneof(interval, value),
    start: fc.oneof(timeText(nowMs), value), end: fc.oneof(timeText(nowMs), value), source: fc.oneof(fc.constantFrom('auto', 'rest', 'vision'), value),
  }, { requiredKeys: [] });
  const valid = fc.record({
    symbol: fc.constantFrom('BTCUSDT', 'BTCUSDT', 'BTCUSDT', 'NOSUCHPAIR'), interval: fc.constantFrom('1h', '1d', '1m'),
    // A few whole days, so later payloads find them cached.
    startDay: fc.integer({ min: 1, max: 20 }),
    spanMs: fc.constantFrom(0, HOUR_MS, DAY_MS),
  }).map(({ spanMs, startDay, ...rest }) => {
    const start = nowMs - (nowMs % DAY_MS) - startDay * DAY_MS;
    return { ...rest, start, end: start + spanMs };
  });
  return fc.oneof(
    { weight: 3, arbitrary: shaped }, { weight: 2, arbitrary: valid }, { weight: 1, arbitrary: shaped.map((p) => ({ ...p, limit: 5 })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
  );
}
