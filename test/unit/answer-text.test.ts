/**
 * number-text.ts and the CSV/JSON writers: every float64 is printed exactly as String(x) (so it
 * parses back to the same float64), and the CSV/JSON of every real recorded dataset is
 * byte-identical to the text the previous writer built with template strings.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KLINE_COLUMNS, type Kline } from '../../lib/domain/kline.ts';
import { columnsFromRows, ORIGINS, sliceColumns, type SourcedColumns } from '../../lib/domain/kline-columns.ts';
import { MAX_NUMBER_BYTES, writeNumber } from '../../lib/service/number-text.ts';
import { writeCsv, writeJson } from '../../lib/service/format.ts';
import { loadRealUniverse } from '../helpers/real-data.ts';

function printed(x: number): string {
  const buf = Buffer.alloc(MAX_NUMBER_BYTES);
  return buf.toString('latin1', 0, writeNumber(buf, 0, x));
}

/** Decimals as exchanges print them: up to 8 places on integers up to 10^15. */
const decimal = fc.tuple(fc.integer({ min: 0, max: 8 }), fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }))
  .map(([places, n]) => Number(`${n}e-${places}`));

describe('writeNumber', () => {
  it('prints every float64 as String(x), which parses back to the same float64', () => {
    fc.assert(fc.property(fc.double(), (x) => {
      const text = printed(x);
      expect(text).toBe(String(x));
      if (Number.isFinite(x)) expect(Object.is(Number(text), x) || (x === 0 && Number(text) === 0)).toBe(true);
    }), { numRuns: 20_000 });
  });

  it('prints decimals with up to 8 places, and integers, as String(x)', () => {
    fc.assert(fc.property(decimal, (x) => {
      expect(printed(x)).toBe(String(x));
      expect(Number(printed(x))).toBe(x);
    }), { numRuns: 20_000 });
    fc.assert(fc.property(fc.maxSafeInteger(), (x) => void expect(printed(x)).toBe(String(x))), { numRuns: 5_000 });
    // Next to multiples of 10^8, where the integer writer splits a number past 2^31 in two.
    const nearSplit = fc.tuple(fc.integer({ min: 21, max: 90_071_992 }), fc.integer({ min: -3, max: 3 })).map(([k, d]) => k * 1e8 + d).filter(Number.isSafeInteger);
    fc.assert(fc.property(nearSplit, (x) => void expect(printed(x)).toBe(String(x))), { numRuns: 5_000 });
  });

  it.each([
    0, -0, 1, -1, 0.1, 0.01, 1e-6, 1.5e-6, 9.99e-7, 1e-7, 1e21, 123456789.12345678, 9007199254740991, 9007199254740992,
    2 ** 53 + 2, 1e13 - 0.01, 1e7 - 1e-8, 0.30000000000000004, 5e-324, Number.MAX_VALUE, NaN, Infinity, -Infinity, 29000.01, 0.00001,
    // Integers around the int32 and 10^8 splits of the integer writer, and a 1m close_time.
    2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 1e8, 1e8 - 1, 1e9, 99_999_999_999, 9_007_199_199_999_999, 9_007_199_200_000_000, 1e15 - 1, 1e15 + 1,
    1_672_531_259_999, -1_672_531_259_999, 12_345_678.00000001, 0.12345678, 1.00000001,
  ])('prints %s as String(x)', (x) => {
    expect(printed(x)).toBe(String(x));
  });
});

/** The previous writers' text (template strings, String(x) for each number). */
function templateCsv({ columns: c, sources }: SourcedColumns, withSource: boolean): string {
  let text = `${[...KLINE_COLUMNS, ...(withSource ? ['source'] : [])].join(',')}\n`;
  for (let i = 0; i < c.length; i++) {
    text += `${KLINE_COLUMNS.map((name) => c[name][i]).join(',')}${withSource ? `,${ORIGINS[sources[i]!]}` : ''}\n`;
  }
  return text;
}

function templateJson({ columns: c, sources }: SourcedColumns, withSource: boolean): string {
  const rows = [];
  for (let i = 0; i < c.length; i++) {
    const row: Record<string, unknown> = Object.fromEntries(KLINE_COLUMNS.map((name) => [name, c[name][i]]));
    if (withSource) row.source = ORIGINS[sources[i]!];
    rows.push(row);
  }
  return JSON.stringify(rows);
}

async function collect(write: (emit: (chunk: Uint8Array) => void) => Promise<void>): Promise<string> {
  const chunks: Uint8Array[] = [];
  await write((chunk) => void chunks.push(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

describe('CSV and JSON of the real recorded data', () => {
  const datasets = [...loadRealUniverse().datasets.values()].filter((d) => d.rows.length > 0);
  const answers = datasets.map((d) => {
    const rows = d.rows.map((row) => Object.fromEntries(KLINE_COLUMNS.map((name, i) => [name, name.endsWith('_time') ? (i === 0 ? row.openMs : row.closeMs) : Number(row.fields[i])])) as unknown as Kline);
    const columns = columnsFromRows(rows);
    return { name: `${d.market}/${d.symbol}/${d.interval}`, answer: { columns, sources: Uint8Array.from(rows, (_, i) => i % 3) } };
  });

  it('covers every real dataset', () => {
    expect(answers.length).toBeGreaterThanOrEqual(5);
  });

  it.each(answers.map((a) => [a.name, a.answer] as const))('%s: byte-identical to the template-string text', async (_name, answer) => {
    for (const withSource of [false, true]) {
      expect(await collect((emit) => writeCsv(answer, withSource, emit))).toBe(templateCsv(answer, withSource));
      expect(await collect((emit) => writeJson(answer, withSource, emit))).toBe(templateJson(answer, withSource));
    }
  });

  it('writes the same text from period chunks as from the whole answer', async () => {
    const { answer } = answers.reduce((a, b) => (a.answer.columns.length >= b.answer.columns.length ? a : b));
    const n = answer.columns.length;
    const cuts = [0, Math.floor(n / 3), Math.floor(n / 3), Math.floor((2 * n) / 3), n];
    const chunks = cuts.slice(1).map((to, k) => ({ columns: sliceColumns(answer.columns, cuts[k]!, to), sources: answer.sources.subarray(cuts[k]!, to) }));
    async function* streamed(): AsyncGenerator<SourcedColumns> {
      yield* chunks;
    }
    expect(await collect((emit) => writeJson(streamed(), true, emit, 'ms', '\n'))).toBe(`${templateJson(answer, true)}\n`);
    expect(await collect((emit) => writeCsv(streamed(), false, emit))).toBe(templateCsv(answer, false));
  });
});
