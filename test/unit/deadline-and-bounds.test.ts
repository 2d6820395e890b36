/**
 * Issue 11's pure pieces: a handler's deadline from the Lambda context, the bounds every request
 * is held to (a start before the market opened is moved to it and said; an end before it is a
 * 400), and the queue message of a handed-over fill.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../lib/domain/errors.ts';
import { MARKET_FIRST_MS } from '../../lib/domain/markets.ts';
import { resolveQuery } from '../../lib/service/request.ts';
import { API_GATEWAY_TIMEOUT_MS, startDeadline, TRANSPORT_SAFETY_MS } from '../../functions/middleware/deadline.ts';
import { decodeQueueMessage, encodeFillMessage, encodeRefreshMessage } from '../../functions/shared/refresh-message.ts';
import { thrown } from '../helpers/thrown.ts';

const NOW_MS = Date.parse('2020-12-15T10:30:00Z');
const withRemaining = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

describe('startDeadline', () => {
  it('keeps the shaping margin between the fill stop and the answer, within the Lambda time less the transport safety', () => {
    const before = performance.now();
    const deadline = startDeadline(withRemaining(8_000), { capMs: API_GATEWAY_TIMEOUT_MS, marginMs: 2_500 });
    deadline.dispose();
    // performance.now() is fractional, so the difference is 2500 up to float rounding.
    expect(deadline.answerByMs - deadline.fillStopMs).toBeCloseTo(2_500, 6);
    expect(deadline.answerByMs - before).toBeGreaterThanOrEqual(8_000 - TRANSPORT_SAFETY_MS);
    expect(deadline.answerByMs - before).toBeLessThanOrEqual(8_000 - TRANSPORT_SAFETY_MS + 100);
    expect(deadline.signal.aborted).toBe(false);
  });

  it("caps an HTTP function's deadline at API Gateway's 30 s; invoke has no cap", () => {
    const before = performance.now();
    const http = startDeadline(withRemaining(120_000), { capMs: API_GATEWAY_TIMEOUT_MS, marginMs: 2_500 });
    const invoke = startDeadline(withRemaining(120_000), { marginMs: 2_500 });
    http.dispose();
    invoke.dispose();
    expect(http.answerByMs - before).toBeLessThanOrEqual(API_GATEWAY_TIMEOUT_MS - TRANSPORT_SAFETY_MS + 100);
    expect(invoke.answerByMs - before).toBeGreaterThanOrEqual(120_000 - TRANSPORT_SAFETY_MS);
  });

  it('aborts the signal and resolves `reached` at the fill stop, even for a context already out of time', async () => {
    const deadline = startDeadline(withRemaining(0), { marginMs: 2_500 });
    await deadline.reached;
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.remainingMs()).toBe(0);
  });
});

describe('resolveQuery bounds', () => {
  it.each([
    ['spot', '0000-01-01'], ['spot', '100000000000'], ['um', '2017-01-01'], ['cm', '2019-12-31T23:59:00Z'],
  ] as const)('moves a %s start of %s to the month the market opened, and says so', (market, start) => {
    const resolved = resolveQuery({ market, symbol: 'BTCUSDT', interval: '1h', start, end: '2020-12-01' }, NOW_MS);
    expect(resolved.range.startMs).toBe(MARKET_FIRST_MS[market]);
    expect(resolved.notices).toEqual([expect.stringMatching(new RegExp(`moved to ${new Date(MARKET_FIRST_MS[market]).toISOString()}, when Binance ${market} opened`))]);
  });

  it('rejects an epoch start below 10^11 (probable seconds) with a 400 rather than moving it', () => {
    const error = thrown(() => resolveQuery({ market: 'cm', symbol: 'BTCUSD_PERP', interval: '1m', start: '1' }, NOW_MS));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/epoch milliseconds/);
  });

  it('rejects an end before the market opened with a 400 naming the opening', () => {
    const error = thrown(() => resolveQuery({ market: 'um', symbol: 'BTCUSDT', interval: '1h', start: '0000-01-01', end: '2019-08-31T23:00:00Z' }, NOW_MS));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/before Binance um opened \(2019-09-01T00:00:00.000Z\)/);
  });

  it('says when an end after the last closed candle is moved, and says nothing for a range inside the bounds', () => {
    expect(resolveQuery({ symbol: 'BTCUSDT', interval: '1h', start: '2020-12-14', end: '2021-01-01' }, NOW_MS).notices)
      .toEqual(['end 2021-01-01T00:00:00.000Z moved back: 1h candles opening from 2020-12-15T10:00:00.000Z on have not closed yet']);
    expect(resolveQuery({ symbol: 'BTCUSDT', interval: '1h', start: '2020-12-14', end: '2020-12-14T05:00:00Z' }, NOW_MS).notices).toEqual([]);
  });
});

describe('queue messages', () => {
  const dataset = { market: 'spot', symbol: 'BTCUSDT', interval: '1m' } as const;

  it('round-trips a fill and still reads a refresh', () => {
    const range = { startMs: Date.UTC(2020, 0, 1), endMs: Date.UTC(2020, 1, 1) };
    expect(decodeQueueMessage(encodeFillMessage(dataset, range))).toEqual({ kind: 'fill', dataset, range });
    expect(decodeQueueMessage(encodeRefreshMessage({ dataset, sinceMs: range.startMs }))).toEqual({ kind: 'refresh', entry: { dataset, sinceMs: range.startMs } });
  });

  it.each([
    '{"symbol":"BTCUSDT","interval":"1m","market":"spot","startMs":5}',
    '{"symbol":"BTCUSDT","interval":"1m","market":"spot","startMs":5,"endMs":5}',
  ])('rejects a fill without a proper range: %s', (body) => {
    expect(thrown(() => decodeQueueMessage(body))).toBeInstanceOf(InvalidInputError);
  });
});
