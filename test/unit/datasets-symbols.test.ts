// Issue 10's pure parts: the dataset listing's summary (holes told apart), exchangeInfo parsing,
// symbol patterns (TRADING only, kept a day), `days` ranges and watchlist patterns.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../lib/domain/errors.ts';
import { gridSlots, parseDatasetFilter, summarize } from '../../lib/service/datasets.ts';
import { resolveStartMs } from '../../lib/service/request.ts';
import { compilePattern, createSymbolDirectory } from '../../lib/service/symbols.ts';
import { parseWatchlist, parseWatchlistWithPatterns } from '../../lib/service/watchlist.ts';
import { parseExchangeInfo, type ExchangeInfoSource, type SymbolInfo } from '../../lib/sources/exchange-info.ts';
import { createFsObjectStore } from '../../lib/store/fs-object-store.ts';
import type { PeriodRecord } from '../../lib/store/types.ts';
import { thrown } from '../helpers/thrown.ts';

const t = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;

function record(period: string, covered: [string, string][], rows: number, bounds?: [string, string]): PeriodRecord {
  return {
    datasetId: 'binance/spot/klines/BTCUSDT/1h', period, granularity: 'monthly', version: 1,
    covered: covered.map(([s, e]) => ({ startMs: t(s), endMs: t(e) })),
    parts: rows === 0 ? [] : [{
      key: `k/${period}`, rows, sha256: '00'.repeat(32), sizeBytes: rows * 88, sources: ['vision'],
      ...(bounds ? { firstOpenMs: t(bounds[0]), lastOpenMs: t(bounds[1]) } : {}),
    }],
  };
}

describe('summarize (the listing of one dataset)', () => {
  const name = { market: 'spot', dataType: 'klines', symbol: 'BTCUSDT', interval: '1h' } as const;

  it('tells holes never fetched from periods Binance answered with fewer candles', () => {
    const summary = summarize('binance/spot/klines/BTCUSDT/1h', name, [
      record('2018-02', [['2018-02-01', '2018-03-01']], 672 - 33, ['2018-02-01T00:00:00Z', '2018-02-28T23:00:00Z']),
      record('2018-04', [['2018-04-01', '2018-04-10']], 216, ['2018-04-01T00:00:00Z', '2018-04-09T23:00:00Z']),
    ]);
    expect(summary).toMatchObject({
      firstOpenMs: t('2018-02-01'), lastOpenMs: t('2018-04-09T23:00:00Z'), last: '2018-04-09T23:00:00.000Z', rows: 672 - 33 + 216,
      sizeBytes: (672 - 33 + 216) * 88, sources: ['vision'], periods: 2,
      neverFetched: [{ startMs: t('2018-03-01'), endMs: t('2018-04-01') }],
      emptyUpstream: [{ period: '2018-02', candles: 33 }],
    });
  });

  it('falls back to the covered bounds for refs written before they carried open times, and has none for an empty dataset', () => {
    const old = summarize('id', name, [record('2020-01', [['2020-01-05', '2020-01-06']], 24)]);
    expect([old.firstOpenMs, old.lastOpenMs]).toEqual([t('2020-01-05'), t('2020-01-06') - 1]);
    const empty = summarize('id', name, [record('2020-01', [['2020-01-05', '2020-01-06']], 0)]);
    expect(empty).toMatchObject({ firstOpenMs: undefined, rows: 0, emptyUpstream: [{ period: '2020-01', candles: 24 }] });
  });

  it.each([
    { interval: '1h', from: '2024-01-01T00:30:00Z', to: '2024-01-01T03:00:00Z', slots: 2 },
    { interval: '1w', from: '2024-01-01', to: '2024-01-29', slots: 4 },
    { interval: '1w', from: '2024-01-02', to: '2024-01-29', slots: 3 },
    { interval: '1M', from: '2024-01-01', to: '2024-12-31', slots: 12 },
    { interval: '1M', from: '2024-01-02', to: '2024-03-01', slots: 1 },
  ] as const)('counts $slots $interval grid candles in [$from, $to)', ({ interval, from, to, slots }) => {
    expect(gridSlots({ startMs: t(from), endMs: t(to) }, interval)).toBe(slots);
  });

  it('validates a filter: a known data type, futures-only ones not on spot', () => {
    expect(parseDatasetFilter({ market: 'UM', symbol: 'btcusdt' })).toEqual({ market: 'um', symbol: 'BTCUSDT', interval: undefined, dataType: undefined });
    expect(parseDatasetFilter({ dataType: 'markPriceKlines' }).dataType).toBe('markPriceKlines');
    expect(thrown(() => parseDatasetFilter({ market: 'spot', dataType: 'markPriceKlines' }))).toBeInstanceOf(InvalidInputError);
    expect(thrown(() => parseDatasetFilter({ dataType: 'trades' }))).toBeInstanceOf(InvalidInputError);
  });
});

describe('parseExchangeInfo', () => {
  it('reads status on spot and USD-M, contractStatus on COIN-M, and onboardDate where given', () => {
    expect(parseExchangeInfo(JSON.stringify({ timezone: 'UTC', symbols: [{ symbol: 'ETHBTC', status: 'TRADING', baseAsset: 'ETH' }] }), 'spot'))
      .toEqual([{ symbol: 'ETHBTC', status: 'TRADING' }]);
    expect(parseExchangeInfo(JSON.stringify({ symbols: [{ symbol: 'BTCUSDT', status: 'TRADING', onboardDate: 1569398400000, contractType: 'PERPETUAL' }] }), 'um'))
      .toEqual([{ symbol: 'BTCUSDT', status: 'TRADING', onboardMs: 1569398400000 }]);
    expect(parseExchangeInfo(JSON.stringify({ symbols: [{ symbol: 'BTCUSD_200925', contractStatus: 'SETTLING', onboardDate: 1592899200000 }] }), 'cm'))
      .toEqual([{ symbol: 'BTCUSD_200925', status: 'SETTLING', onboardMs: 1592899200000 }]);
  });

  it.each(['not json', '{"code":-1003,"msg":"Too many requests"}', '{"symbols":[{"status":"TRADING"}]}'])('rejects %s naming the endpoint', (body) => {
    expect(thrown(() => parseExchangeInfo(body, 'um'))?.message).toMatch(/^REST \/fapi\/v1\/exchangeInfo: /);
  });
});

describe('the symbol directory', () => {
  const symbols: SymbolInfo[] = [
    { symbol: 'BTCUSDT', status: 'TRADING' }, { symbol: 'ETHUSDT', status: 'TRADING' }, { symbol: 'LUNAUSDT', status: 'BREAK' },
    { symbol: 'BTCUSDT_PERP', status: 'TRADING' }, { symbol: 'ETHBTC', status: 'TRADING' },
  ];

  it('resolves a pattern on the whole name to TRADING symbols, and asks exchangeInfo again only after a day', async () => {
    let calls = 0;
    const source: ExchangeInfoSource = { fetchSymbols: async () => (calls++, symbols) };
    const dir = await mkdtemp(join(tmpdir(), 'klines-symbols-'));
    try {
      let nowMs = t('2024-01-01T00:00:00Z');
      const store = createFsObjectStore(dir);
      expect(await createSymbolDirectory({ source, store, nowMs: () => nowMs }).resolve('um', '.*USDT')).toEqual(['BTCUSDT', 'ETHUSDT']);
      // A new process reads the stored copy while it is younger than a day.
      nowMs += 23 * HOUR;
      expect(await createSymbolDirectory({ source, store, nowMs: () => nowMs }).resolve('um', 'BTC.*')).toEqual(['BTCUSDT', 'BTCUSDT_PERP']);
      expect(calls).toBe(1);
      nowMs += 2 * HOUR;
      await createSymbolDirectory({ source, store, nowMs: () => nowMs }).list('um');
      expect(calls).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a pattern that is not a regular expression, naming it', () => {
    expect(thrown(() => compilePattern('(BTC'))?.message).toContain('"(BTC" is not a regular expression');
  });
});

describe('days', () => {
  it('counts N × 24 h back from the exclusive end; start and days exclude each other', () => {
    expect(resolveStartMs({ days: '3' }, t('2024-01-10T05:00:00Z'))).toBe(t('2024-01-07T05:00:00Z'));
    expect(resolveStartMs({ start: '2024-01-01' }, t('2024-01-10'))).toBe(t('2024-01-01'));
    for (const bad of [{ days: '0' }, { days: '1.5' }, { days: '-2' }, { days: '99999999' }, {}, { start: '2024-01-01', days: '2' }]) {
      expect(thrown(() => resolveStartMs(bad, t('2024-01-10')))).toBeInstanceOf(InvalidInputError);
    }
  });
});

describe('watchlist patterns', () => {
  const doc = JSON.stringify([
    { market: 'um', symbols_regex: '.*USDT', intervals: ['1h', '1d'] },
    { market: 'um', symbol: 'ETHUSDT', interval: '4h', since: '2024-01-01' },
  ]);

  it('expands symbols x intervals, resolving a pattern; a plain parse refuses a pattern', async () => {
    const entries = await parseWatchlistWithPatterns(doc, 'test', async (market, pattern) => (market === 'um' && pattern === '.*USDT' ? ['BTCUSDT', 'ETHUSDT'] : []));
    expect(entries.map((e) => ('dataset' in e ? `${e.dataset.symbol} ${e.dataset.interval} ${e.sinceMs ?? '-'}` : 'funding'))).toEqual([
      'BTCUSDT 1h -', 'BTCUSDT 1d -', 'ETHUSDT 1h -', 'ETHUSDT 1d -', `ETHUSDT 4h ${t('2024-01-01')}`,
    ]);
    expect(thrown(() => parseWatchlist(doc, 'test'))?.message).toContain('[0] symbols_regex needs');
    expect(parseWatchlist('[{"market":"spot","symbols":["BTCUSDT","ETHBTC"],"intervals":["1m","1h"]}]', 'test')).toHaveLength(4);
    expect(thrown(() => parseWatchlist('[{"symbols":["BTCUSDT","BTCUSDT"],"interval":"1h"}]', 'test'))?.message).toContain('listed twice');
  });
});
