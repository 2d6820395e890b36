/**
 * Writes numbers as ASCII bytes straight into a Buffer, with exactly the text JavaScript's
 * `String(x)` gives (the shortest decimal that reads back to the same float64, ECMA-262
 * Number::toString), but without building a string per number.
 *
 * Fast paths (each proved to give String(x)'s text; everything else falls back to String(x)):
 * - integers below 2^53 in magnitude: their digits;
 * - a float64 that equals `r / 10^k` for an integer `r` (k = 8, 5 or 2 decimals depending on the
 *   magnitude, so that `|r| < 10^15`): the decimal `r·10^-k` with its trailing zeros removed.
 *   With at most 15 significant digits, decimals `10^-k` apart are more than 4 ulps apart, so
 *   at most one decimal with ≤ k places rounds to x; that one is the shortest round trip, and it
 *   is written in plain (not exponent) form because `1e-6 ≤ |x| < 1e21`.
 */

/** Bytes the longest number text needs (String of a float64 is at most 25 characters). */
export const MAX_NUMBER_BYTES = 32;

const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;

/** "00", "01", … "99" as ASCII byte pairs: two digits per division by 100. */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = ZERO + Math.floor(i / 10);
  PAIRS[2 * i + 1] = ZERO + (i % 10);
}

/** The number of decimal digits of an integer `0 ≤ v < 2^31`. */
function digitCount(v: number): number {
  if (v < 100_000) return v < 10 ? 1 : v < 100 ? 2 : v < 1_000 ? 3 : v < 10_000 ? 4 : 5;
  return v < 1_000_000 ? 6 : v < 10_000_000 ? 7 : v < 100_000_000 ? 8 : v < 1_000_000_000 ? 9 : 10;
}

/** Writes the integer `0 ≤ v < 2^31` as exactly `digits` digits (zero-padded) ending before `end`, in int32 arithmetic. */
function writeDigits(buf: Buffer, end: number, v: number, digits: number): void {
  let i = end;
  let rest = v | 0;
  for (; digits >= 2; digits -= 2) {
    const q = (rest / 100) | 0;
    const r = 2 * (rest - q * 100);
    buf[--i] = PAIRS[r + 1]!;
    buf[--i] = PAIRS[r]!;
    rest = q;
  }
  if (digits === 1) buf[i - 1] = ZERO + rest;
}

/**
 * Writes the decimal digits of a non-negative integer `n < 2^53` at `pos`; returns the end.
 * Past 2^31, as `high` (< 2^31) and the 8 digits of `n - high·10^8`, both in int32 arithmetic.
 */
function writeUnsignedInteger(buf: Buffer, pos: number, n: number): number {
  if (n <= 0x7fffffff) {
    const digits = digitCount(n);
    writeDigits(buf, pos + digits, n, digits);
    return pos + digits;
  }
  // n / 10^8 < 2^27, where half an ulp (< 7.5e-9) is less than the 10^-8 between n / 10^8 and
  // the next integer: the floor is exact, and high·10^8 too. The check below is only a guard.
  let high = Math.floor(n / 1e8);
  let low = n - high * 1e8;
  if (low < 0) {
    high--;
    low += 1e8;
  }
  const digits = digitCount(high);
  writeDigits(buf, pos + digits, high, digits);
  writeDigits(buf, pos + digits + 8, low, 8);
  return pos + digits + 8;
}

/** Writes `frac` (an integer, 0 < frac < 10^places ≤ 10^8) as `places` digits without trailing zeros; returns the end. */
function writeFraction(buf: Buffer, pos: number, frac: number, places: number): number {
  let v = frac | 0;
  for (let q = (v / 10) | 0; q * 10 === v; q = (v / 10) | 0) {
    v = q;
    places--;
  }
  writeDigits(buf, pos + places, v, places);
  return pos + places;
}

/** Writes `|x|` as `r / scale` (r = its integer numerator) at `pos`; returns the end. */
function writeScaled(buf: Buffer, pos: number, r: number, scale: number, places: number): number {
  const whole = Math.floor(r / scale);
  const frac = r - whole * scale;
  let end = writeUnsignedInteger(buf, pos, whole);
  if (frac !== 0) {
    buf[end++] = DOT;
    end = writeFraction(buf, end, frac, places);
  }
  return end;
}

/**
 * Writes `x` at `buf[pos]` as String(x) would; returns the position after it. The caller keeps
 * at least MAX_NUMBER_BYTES free at `pos`.
 */
export function writeNumber(buf: Buffer, pos: number, x: number): number {
  if (x === 0) {
    buf[pos] = ZERO; // String(-0) is "0" too
    return pos + 1;
  }
  let a = x;
  let start = pos;
  if (x < 0) {
    a = -x;
    buf[start++] = MINUS;
  }
  if (a < 9007199254740992 && Math.floor(a) === a) return writeUnsignedInteger(buf, start, a);
  if (a >= 1e-6 && a < 1e13) {
    let scale = 1e2;
    let places = 2;
    if (a < 1e7) {
      scale = 1e8;
      places = 8;
    } else if (a < 1e10) {
      scale = 1e5;
      places = 5;
    }
    const r = Math.round(a * scale);
    if (r / scale === a) return writeScaled(buf, start, r, scale, places);
  }
  return pos + buf.write(String(x), pos, 'latin1');
}
