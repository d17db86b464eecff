/**
 * CRC-64/Jones, the checksum at the end of every RDB file. Mirrors redis src/crc64.c:
 * polynomial 0xad93d23594c935a9, reflected input and output, no final xor, and the running
 * value is passed in by the caller (Redis calls crc64(0, ...) then feeds further chunks with
 * the previous result). Check value: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
 *
 * Theory of operation: JavaScript has no fast 64-bit integers, so the register is kept as two
 * unsigned 32-bit halves and the tables are split the same way. Like Redis (crcspeed.c) we
 * process 8 bytes per step with eight 256-entry tables ("slicing by 8"): table k maps a byte
 * to the CRC of that byte followed by k zero bytes. BigInt appears only at the API boundary.
 * Measured on the build machine: ~600 MB/s with tsx (test/rdb.test.ts prints the figure).
 *
 * Inputs of WASM_MIN_BYTES or more go to a WebAssembly kernel (crc64-wasm.ts: the same tables,
 * 16 bytes per step on i64), about twice as fast; shorter ones stay here, where a call into wasm
 * and the copy into its memory would cost more than they save.
 */
import { loadCrc64Kernel, kernelUpdate, REGISTER_WORD } from './crc64-wasm.ts';

const POLY = 0xad93d23594c935a9n;

/** The bit-reversed polynomial, split in halves: a reflected CRC shifts right. */
const REV_POLY = ((): bigint => {
  let r = 0n;
  for (let i = 0n; i < 64n; i++) if ((POLY >> i) & 1n) r |= 1n << (63n - i);
  return r;
})();
const REV_POLY_HI = Number(REV_POLY >> 32n) >>> 0;
const REV_POLY_LO = Number(REV_POLY & 0xffffffffn) >>> 0;

/**
 * tableHi/tableLo[k * 256 + n]: the CRC register after byte n and then k zero bytes. The
 * JavaScript loop reads tables 0-7; the wasm kernel all 16.
 */
const TABLES = 16;
const tableHi = new Uint32Array(TABLES * 256);
const tableLo = new Uint32Array(TABLES * 256);

(function buildTables(): void {
  for (let n = 0; n < 256; n++) {
    let hi = 0;
    let lo = n;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        hi = (hi ^ REV_POLY_HI) >>> 0;
        lo = (lo ^ REV_POLY_LO) >>> 0;
      }
    }
    tableHi[n] = hi;
    tableLo[n] = lo;
  }
  for (let k = 1; k < TABLES; k++) {
    for (let n = 0; n < 256; n++) {
      const hi = tableHi[(k - 1) * 256 + n]!;
      const lo = tableLo[(k - 1) * 256 + n]!;
      const idx = lo & 0xff;
      tableHi[k * 256 + n] = ((hi >>> 8) ^ tableHi[idx]!) >>> 0;
      tableLo[k * 256 + n] = (((lo >>> 8) | ((hi & 0xff) << 24)) ^ tableLo[idx]!) >>> 0;
    }
  }
})();

/** Inputs at least this long are checksummed by the wasm kernel. */
export const WASM_MIN_BYTES = 512;

/** The kernel, its tables copied from ours; null without WebAssembly. */
const kernel = loadCrc64Kernel((words) => {
  for (let i = 0; i < TABLES * 256; i++) {
    words[2 * i] = tableLo[i]!;
    words[2 * i + 1] = tableHi[i]!;
  }
});

/** Whether long inputs go to the wasm kernel (false only where WebAssembly is missing). */
export const crc64UsesWasm = kernel !== null;

/**
 * A running CRC-64 as two halves, for callers that checksum a stream chunk by chunk without
 * BigInt traffic per chunk (the RDB writer and reader).
 */
export class Crc64 {
  hi = 0;
  lo = 0;

  constructor(initial = 0n) {
    this.hi = Number((initial >> 32n) & 0xffffffffn) >>> 0;
    this.lo = Number(initial & 0xffffffffn) >>> 0;
  }

  /** Fold bytes [start, end) of `data` into the register. */
  update(data: Uint8Array, start = 0, end = data.length): this {
    if (kernel !== null && end - start >= WASM_MIN_BYTES) {
      kernel.words[REGISTER_WORD] = this.lo;
      kernel.words[REGISTER_WORD + 1] = this.hi;
      kernelUpdate(kernel, data, start, end);
      this.lo = kernel.words[REGISTER_WORD]!;
      this.hi = kernel.words[REGISTER_WORD + 1]!;
      return this;
    }
    return this.updateJs(data, start, end);
  }

  /** update() in JavaScript, whatever the length (the kernel's test compares the two). */
  updateJs(data: Uint8Array, start = 0, end = data.length): this {
    let hi = this.hi;
    let lo = this.lo;
    let i = start;
    // Slicing by 8: xor 8 input bytes into the register, then look up each byte's contribution.
    for (; i + 8 <= end; i += 8) {
      lo ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
      hi ^= data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24);
      const a = 7 * 256 + (lo & 0xff);
      const b = 6 * 256 + ((lo >>> 8) & 0xff);
      const c = 5 * 256 + ((lo >>> 16) & 0xff);
      const d = 4 * 256 + (lo >>> 24);
      const e = 3 * 256 + (hi & 0xff);
      const f = 2 * 256 + ((hi >>> 8) & 0xff);
      const g = 256 + ((hi >>> 16) & 0xff);
      const h = hi >>> 24;
      lo = tableLo[a]! ^ tableLo[b]! ^ tableLo[c]! ^ tableLo[d]! ^ tableLo[e]! ^ tableLo[f]! ^ tableLo[g]! ^ tableLo[h]!;
      hi = tableHi[a]! ^ tableHi[b]! ^ tableHi[c]! ^ tableHi[d]! ^ tableHi[e]! ^ tableHi[f]! ^ tableHi[g]! ^ tableHi[h]!;
    }
    // The tail, a byte at a time.
    for (; i < end; i++) {
      const idx = (lo ^ data[i]!) & 0xff;
      lo = ((lo >>> 8) | ((hi & 0xff) << 24)) ^ tableLo[idx]!;
      hi = (hi >>> 8) ^ tableHi[idx]!;
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    return this;
  }

  get value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** The register as the 8 little-endian bytes Redis appends to an RDB (memrev64ifbe). */
  writeLE(out: Uint8Array, offset: number): void {
    const lo = this.lo;
    const hi = this.hi;
    out[offset] = lo & 0xff;
    out[offset + 1] = (lo >>> 8) & 0xff;
    out[offset + 2] = (lo >>> 16) & 0xff;
    out[offset + 3] = lo >>> 24;
    out[offset + 4] = hi & 0xff;
    out[offset + 5] = (hi >>> 8) & 0xff;
    out[offset + 6] = (hi >>> 16) & 0xff;
    out[offset + 7] = hi >>> 24;
  }
}

/** crc64(crc, s, l) from redis src/crc64.c. Strings are binary strings (one char per byte). */
export function crc64(crc: bigint, data: Uint8Array | string): bigint {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  return new Crc64(crc).update(bytes).value;
}
