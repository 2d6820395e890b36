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

/** Writes the decimal digits of a non-negative integer `n < 2^53` at `pos`; returns the end. */
function writeUnsignedInteger(buf: Buffer, pos: number, n: number): number {
  if (n < 10) {
    buf[pos] = ZERO + n;
    return pos + 1;
  }
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  let end = pos + digits;
  if (n <= 0x7fffffff) {
    let v = n | 0;
    for (let i = end - 1; i >= pos; i--) {
      const q = (v / 10) | 0;
      buf[i] = ZERO + (v - q * 10);
      v = q;
    }
    return end;
  }
  let v = n;
  for (let i = end - 1; i >= pos; i--) {
    const q = Math.floor(v / 10);
    buf[i] = ZERO + (v - q * 10);
    v = q;
  }
  return end;
}

/** Writes `frac` (0 < frac < 10^places) as `places` digits without trailing zeros; returns the end. */
function writeFraction(buf: Buffer, pos: number, frac: number, places: number): number {
  let v = frac;
  while (v % 10 === 0) {
    v /= 10;
    places--;
  }
  const end = pos + places;
  for (let i = end - 1; i >= pos; i--) {
    const q = Math.floor(v / 10);
    buf[i] = ZERO + (v - q * 10);
    v = q;
  }
  return end;
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
