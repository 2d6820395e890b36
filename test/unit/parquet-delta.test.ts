/**
 * DELTA_BINARY_PACKED (parquet-delta.ts) against hyparquet's own decoder, as the format's
 * oracle: what we write, hyparquet reads to the same int64s; what we read back is what we wrote;
 * streams our decoder cannot read exactly are refused (-1), never misread.
 */
import fc from 'fast-check';
import { deltaBinaryUnpack } from 'hyparquet/src/delta.js';
import { describe, expect, it } from 'vitest';
import { canDeltaEncode, decodeDeltaInt64, encodeDeltaInt64 } from '../../lib/store/parquet-delta.ts';

const hyparquetDecode = (bytes: Uint8Array, count: number): number[] => {
  const out = new BigInt64Array(count);
  deltaBinaryUnpack({ view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 }, count, out);
  return Array.from(out, Number);
};

/** Running sums of `steps` from `base`. */
const walk = (base: number, steps: readonly number[]): Float64Array => {
  const values = new Float64Array(steps.length + 1);
  values[0] = base;
  steps.forEach((step, i) => { values[i + 1] = values[i]! + step; });
  return values;
};

describe('DELTA_BINARY_PACKED', () => {
  it('writes any walk of int32 steps from a base below 2^50 as hyparquet reads it, and reads it back', () => {
    const steps = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -3, max: 3 }), fc.constant(60_000));
    fc.assert(fc.property(fc.integer({ min: -(2 ** 50), max: 2 ** 50 }), fc.array(steps, { maxLength: 700 }), (base, list) => {
      const values = walk(base, list);
      expect(canDeltaEncode(values, values.length)).toBe(true);
      const bytes = encodeDeltaInt64(values, values.length);
      expect(hyparquetDecode(bytes, values.length)).toEqual(Array.from(values));
      const back = new Float64Array(values.length);
      expect(decodeDeltaInt64(bytes, 0, back)).toBe(bytes.byteLength);
      expect(Array.from(back)).toEqual(Array.from(values));
    }), { numRuns: 200 });
  });

  it('packs a month of 1m open times (constant step) into a few bytes per block', () => {
    const values = walk(Date.UTC(2024, 0, 1), new Array<number>(44_639).fill(60_000));
    const bytes = encodeDeltaInt64(values, values.length);
    // Per 128 values: a 3-byte min delta and 4 zero bit widths, no packed bits.
    expect(bytes.byteLength).toBeLessThan(Math.ceil(44_640 / 128) * 8 + 20);
    expect(hyparquetDecode(bytes, values.length)).toEqual(Array.from(values));
  });

  it.each([
    ['a value of 2^51', Float64Array.from([0, 2 ** 51])],
    ['a first value of -(2^51)', Float64Array.from([-(2 ** 51), 0])],
    ['a non-integer', Float64Array.from([1, 1.5])],
    ['deltas spread by 2^32 in one block', Float64Array.from([0, 2 ** 32, 0])],
    ['NaN', Float64Array.from([0, Number.NaN])],
  ])('canDeltaEncode refuses %s (the caller writes PLAIN)', (_, values) => {
    expect(canDeltaEncode(values, values.length)).toBe(false);
  });

  it('canDeltaEncode draws the line at a spread of deltas of 2^32 in a block, and accepts zero rows', () => {
    expect(canDeltaEncode(Float64Array.from([0, 2 ** 32 - 1, 0]), 3)).toBe(false); // deltas 2^32-1 and -(2^32-1): spread 2^33-2
    expect(canDeltaEncode(Float64Array.from([0, 2 ** 31 - 1, 0]), 3)).toBe(true);
    expect(canDeltaEncode(new Float64Array(0), 0)).toBe(true);
  });

  it('decodeDeltaInt64 refuses a stream of another length, a bit width above 32 and truncated bytes', () => {
    const values = walk(1_000, Array.from({ length: 300 }, (_, i) => (i * 7919) % 1000 - 500));
    const bytes = encodeDeltaInt64(values, values.length);
    expect(decodeDeltaInt64(bytes, 0, new Float64Array(values.length + 1))).toBe(-1);
    expect(decodeDeltaInt64(bytes.subarray(0, bytes.byteLength - 5), 0, new Float64Array(values.length))).toBe(-1);
    // Header: 128 (2 bytes), 4 (1), 301 (2), first value 2000 zigzag (2); the block's min delta (2); widths from byte 9.
    const wide = bytes.slice();
    wide[10] = 33;
    expect(decodeDeltaInt64(wide, 0, new Float64Array(values.length))).toBe(-1);
  });
});
