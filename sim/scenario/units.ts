/**
 * Units of the scenario language: durations, sizes and rates, parsed exactly and printed
 * canonically.
 *
 * Theory of operation. A quantity is a decimal number (digits, optionally `.digits`) followed by
 * a unit, case-insensitive. Parsing is exact: the number is scaled with BigInt arithmetic, so
 * `1.5s` is 1500000 µs with no floating-point rounding, and a value that is not a whole number
 * of the base unit (`1.5us`, `0.1b`) is an error rather than silently rounded. Results must be
 * safe integers.
 *   durations -> integer microseconds: us, ms, s, m (minutes). A unit is required.
 *   sizes     -> bytes: b, kb, mb, gb with Redis's binary meaning (1kb = 1024, as in
 *                redis.conf); a bare integer is bytes too.
 *   rates     -> bits per second: bit, kbit, mbit, gbit are network-style decimal (1mbit =
 *                10^6 bit/s); b/s, kb/s, mb/s, gb/s are bytes per second with the size units'
 *                binary meaning, times 8 (10mb/s = 10 * 1048576 * 8 bit/s).
 * The format* functions pick the largest unit that divides the value exactly, so that
 * parse(format(x)) === x for every non-negative safe integer x.
 */

export type UnitResult = { ok: true; value: number } | { ok: false; message: string };

const DURATION_UNITS: ReadonlyArray<readonly [string, bigint]> = [
  ['m', 60_000_000n],
  ['s', 1_000_000n],
  ['ms', 1_000n],
  ['us', 1n],
];
const SIZE_UNITS: ReadonlyArray<readonly [string, bigint]> = [
  ['gb', 1n << 30n],
  ['mb', 1n << 20n],
  ['kb', 1n << 10n],
  ['b', 1n],
];
// Formatting tries these in order; parsing accepts any of them.
const RATE_UNITS: ReadonlyArray<readonly [string, bigint]> = [
  ['gbit', 1_000_000_000n],
  ['mbit', 1_000_000n],
  ['kbit', 1_000n],
  ['gb/s', 8n << 30n],
  ['mb/s', 8n << 20n],
  ['kb/s', 8n << 10n],
  ['b/s', 8n],
  ['bit', 1n],
];

const NUMBER_WITH_UNIT = /^(\d+)(?:\.(\d+))?([a-z/]*)$/;

/** Scale `int.frac` by `mult` exactly; null if the result is not a whole number. */
function scale(intPart: string, fracPart: string, mult: bigint): bigint | null {
  const denom = 10n ** BigInt(fracPart.length);
  const numer = (BigInt(intPart) * denom + BigInt(fracPart || '0')) * mult;
  return numer % denom === 0n ? numer / denom : null;
}

function parseQuantity(
  text: string,
  what: string,
  units: ReadonlyArray<readonly [string, bigint]>,
  bareMult: bigint | null,
  baseName: string,
): UnitResult {
  const m = NUMBER_WITH_UNIT.exec(text.toLowerCase());
  const names = units.map(([u]) => u).join(', ');
  if (m === null) return { ok: false, message: `bad ${what} '${text}' (expected a number and a unit: ${names})` };
  const [, intPart, fracPart = '', unit] = m;
  let mult: bigint | null = null;
  if (unit === '') mult = bareMult;
  else for (const [u, k] of units) if (u === unit) mult = k;
  if (mult === null) {
    const hint = unit === '' ? 'needs a unit' : `has unknown unit '${unit}'`;
    return { ok: false, message: `bad ${what} '${text}': ${hint} (units: ${names})` };
  }
  const v = scale(intPart, fracPart, mult);
  if (v === null) return { ok: false, message: `bad ${what} '${text}': not a whole number of ${baseName}` };
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, message: `bad ${what} '${text}': too large` };
  return { ok: true, value: Number(v) };
}

/** `250ms`, `1.5s`, `2m`, `100us` -> integer microseconds. */
export function parseDurationUs(text: string): UnitResult {
  return parseQuantity(text, 'duration', DURATION_UNITS, null, 'microseconds');
}

/** `64kb`, `1mb`, `16b`, `16` -> bytes. */
export function parseSizeBytes(text: string): UnitResult {
  return parseQuantity(text, 'size', SIZE_UNITS, 1n, 'bytes');
}

/** `100mbit`, `1gbit`, `10mb/s` -> bits per second (must be positive). */
export function parseRateBps(text: string): UnitResult {
  const r = parseQuantity(text, 'rate', RATE_UNITS, null, 'bits per second');
  if (r.ok && r.value === 0) return { ok: false, message: `bad rate '${text}': must be more than 0` };
  return r;
}

/** A plain non-negative integer (counts, `keys`, `db`): digits only. */
export function parseCount(text: string): number | null {
  if (!/^\d+$/.test(text)) return null;
  const v = Number(text);
  return Number.isSafeInteger(v) ? v : null;
}

function formatQuantity(value: number, units: ReadonlyArray<readonly [string, bigint]>, zero: string): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot format ${value}: not a non-negative safe integer`);
  if (value === 0) return zero;
  const v = BigInt(value);
  for (const [u, k] of units) if (v % k === 0n) return `${v / k}${u}`;
  throw new RangeError(`cannot format ${value}`); // unreachable: the last unit is 1
}

/** Canonical duration: `0s`, `2m`, `1500ms`, `1250us`. */
export function formatDurationUs(us: number): string {
  return formatQuantity(us, DURATION_UNITS, '0s');
}

/** Canonical size: `1mb`, `64kb`, or a bare byte count (`100`) when no larger unit divides it. */
export function formatSizeBytes(bytes: number): string {
  const s = formatQuantity(bytes, SIZE_UNITS, '0');
  return s.endsWith('b') && !s.endsWith('kb') && !s.endsWith('mb') && !s.endsWith('gb') ? s.slice(0, -1) : s;
}

/** Canonical rate: `1gbit`, `100mbit`, `10mb/s`, `12bit`. */
export function formatRateBps(bps: number): string {
  return formatQuantity(bps, RATE_UNITS, '0bit');
}
