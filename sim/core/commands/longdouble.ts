/**
 * Just enough x87 80-bit `long double` to make INCRBYFLOAT produce Redis's exact bytes.
 *
 * Theory of operation. incrbyfloatCommand() (t_string.c) parses both operands with strtold()
 * (string2ld() in util.c), adds them in long double, and prints the sum with "%.17Lf" before
 * trimming trailing zeros (ld2string(LD_STR_HUMAN)). On x86-64 Linux a long double has a 64-bit
 * significand, so 0.1 + 0.2 prints as "0.3" where a JS double would give 0.30000000000000004.
 * The result is propagated as `SET key <value> KEEPTTL`, so its length is part of the
 * replication offset: we must match it byte for byte.
 *
 * A finite value is sign * m * 2^e with m a BigInt of at most 64 bits, correctly rounded
 * (nearest, ties to even) from the exact rational, as glibc's strtold and x87 addition do.
 * Exponent range: normal values down to 2^-16382, subnormals down to 2^-16445, overflow at 2^16384.
 */

export type LongDouble =
  | { readonly kind: 'finite'; readonly neg: boolean; readonly m: bigint; readonly e: number }
  | { readonly kind: 'inf'; readonly neg: boolean };

const MANT_BITS = 64;
const E_MIN = -16445; // exponent of the least subnormal bit
const E_MAX = 16384 - MANT_BITS; // m * 2^e must stay below 2^16384
/** MAX_LONG_DOUBLE_CHARS (util.h): longer strings are refused by string2ld(). */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** Correctly round num/den * 2^exp2 (num, den > 0) to a long double; 'underflow' if it rounds to 0. */
function round(neg: boolean, num: bigint, den: bigint, exp2: number): LongDouble | 'underflow' {
  // Choose e so that q = num / den * 2^(exp2 - e) has exactly 64 bits (or fewer, when subnormal).
  let e = exp2 + bitLength(num) - bitLength(den) - MANT_BITS;
  for (;;) {
    if (e < E_MIN) e = E_MIN;
    const shift = exp2 - e;
    const n = shift >= 0 ? num << BigInt(shift) : num;
    const d = shift >= 0 ? den : den << BigInt(-shift);
    let q = n / d;
    const r = n - q * d;
    if (q >= 1n << BigInt(MANT_BITS)) {
      e++;
      continue;
    }
    if (q < 1n << BigInt(MANT_BITS - 1) && e > E_MIN) {
      e--;
      continue;
    }
    // Round to nearest, ties to even.
    const twice = 2n * r;
    if (twice > d || (twice === d && (q & 1n) === 1n)) q++;
    if (q === 1n << BigInt(MANT_BITS)) {
      q >>= 1n;
      e++;
    }
    if (e > E_MAX) return { kind: 'inf', neg };
    if (q === 0n) return 'underflow';
    return { kind: 'finite', neg, m: q, e };
  }
}

const ZERO: LongDouble = { kind: 'finite', neg: false, m: 0n, e: 0 };

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * string2ld(): strtold() over the whole string; no leading space, no trailing garbage, no NaN,
 * no overflow to infinity, no underflow to zero. Returns null when Redis says
 * "value is not a valid float".
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= MAX_LONG_DOUBLE_CHARS) return null;
  if (isSpace(s.charCodeAt(0))) return null;
  let i = 0;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    i = 1;
  }
  const rest = s.slice(i).toLowerCase();
  if (rest === 'inf' || rest === 'infinity') return { kind: 'inf', neg };
  if (rest.startsWith('nan')) return null;
  const hex = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?[0-9]+))?$/.exec(rest);
  if (hex !== null) return parseHex(neg, hex[1]!, hex[2] ?? '', hex[3]);
  const dec = /^([0-9]*)(?:\.([0-9]*))?(?:e([+-]?[0-9]+))?$/.exec(rest);
  if (dec === null) return null;
  const intDigits = dec[1]!;
  const fracDigits = dec[2] ?? '';
  if (intDigits.length + fracDigits.length === 0) return null;
  const digits = BigInt(intDigits + fracDigits);
  if (digits === 0n) return { ...ZERO, neg };
  // Decimal exponents this large overflow or underflow whatever the digits (at most 5 KB of them).
  const expText = dec[3];
  let exp10 = -fracDigits.length;
  if (expText !== undefined) {
    const x = Number(expText);
    if (x > 20_000) return null; // ERANGE overflow to HUGE_VALL
    if (x < -20_000) return null; // ERANGE underflow to zero
    exp10 += x;
  }
  const r = exp10 >= 0 ? round(neg, digits * 10n ** BigInt(exp10), 1n, 0) : round(neg, digits, 10n ** BigInt(-exp10), 0);
  if (r === 'underflow') return null;
  if (r.kind === 'inf') return null;
  return r;
}

function parseHex(neg: boolean, intDigits: string, fracDigits: string, expText: string | undefined): LongDouble | null {
  if (intDigits.length + fracDigits.length === 0) return null; // strtold would parse "0" and stop at 'x'
  const m = BigInt('0x' + (intDigits + fracDigits || '0'));
  if (m === 0n) return { ...ZERO, neg };
  let exp2 = -4 * fracDigits.length;
  if (expText !== undefined) {
    const x = Number(expText);
    if (x > 100_000) return null;
    if (x < -100_000) return null;
    exp2 += x;
  }
  const r = round(neg, m, 1n, exp2);
  if (r === 'underflow' || r.kind === 'inf') return null;
  return r;
}

/** From a signed 64-bit integer (an int-encoded string value): exact. */
export function longDoubleFromBigInt(v: bigint): LongDouble {
  if (v === 0n) return ZERO;
  const neg = v < 0n;
  const r = round(neg, neg ? -v : v, 1n, 0);
  if (r === 'underflow') return ZERO;
  return r;
}

/** a + b, rounded once, as the x87 FPU does. A NaN (inf - inf) is reported as 'nan'. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | 'nan' {
  if (a.kind === 'inf' || b.kind === 'inf') {
    if (a.kind === 'inf' && b.kind === 'inf' && a.neg !== b.neg) return 'nan';
    return a.kind === 'inf' ? a : b;
  }
  if (a.m === 0n) return b.m === 0n ? { ...ZERO, neg: a.neg && b.neg } : b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const av = (a.neg ? -a.m : a.m) << BigInt(a.e - e);
  const bv = (b.neg ? -b.m : b.m) << BigInt(b.e - e);
  const sum = av + bv;
  if (sum === 0n) return ZERO; // round-to-nearest gives +0 for x + (-x)
  const r = round(sum < 0n, sum < 0n ? -sum : sum, 1n, e);
  if (r === 'underflow') return ZERO;
  return r;
}

/**
 * ld2string(LD_STR_HUMAN): "%.17Lf" (exact value rounded to 17 decimals, ties to even), then
 * trailing zeros and a trailing '.' removed, and "-0" printed as "0". Infinity is never printed
 * here: INCRBYFLOAT refuses it first.
 */
export function formatLongDoubleHuman(v: LongDouble): string {
  if (v.kind === 'inf') return v.neg ? '-inf' : 'inf';
  const scale = 10n ** 17n;
  // x = m * 2^e * 10^17, rounded to an integer.
  let x: bigint;
  if (v.e >= 0) {
    x = (v.m << BigInt(v.e)) * scale;
  } else {
    const n = v.m * scale;
    const d = 1n << BigInt(-v.e);
    x = n / d;
    const twice = 2n * (n - x * d);
    if (twice > d || (twice === d && (x & 1n) === 1n)) x++;
  }
  const intPart = (x / scale).toString();
  const frac = (x % scale).toString().padStart(17, '0').replace(/0+$/, '');
  let out = frac.length > 0 ? `${intPart}.${frac}` : intPart;
  if (v.neg) out = '-' + out;
  if (out === '-0') out = '0';
  return out;
}
