/**
 * SHA-1 in plain JavaScript for the short inputs DEBUG DIGEST hashes (debug.c mixDigest and
 * xorDigest run it five times per key over keys, 4-byte types, values and 20-byte states).
 *
 * Why not node:crypto: a createHash() object per call costs microseconds of binding overhead for
 * a one-block message, which made `converged` and DEBUG DIGEST the largest cost of a fuzz run.
 * This one hashes a latin1 string (one char per byte, as keys and values are held) or bytes
 * without allocating. Long inputs go to node:crypto, faster there. test/digest.test.ts compares
 * both on random inputs, and DEBUG DIGEST with redis-server's.
 */
import { createHash } from 'node:crypto';

/** Inputs at least this long are hashed by node:crypto. */
const NATIVE_MIN_BYTES = 512;

const w = new Int32Array(80);

/** SHA1(src) into out[0..20). `src` is bytes, or a binary string of chars 0..255. */
export function sha1Into(src: string | Uint8Array, out: Uint8Array): void {
  const len = src.length;
  if (len >= NATIVE_MIN_BYTES) {
    const h = createHash('sha1').update(typeof src === 'string' ? Buffer.from(src, 'latin1') : src).digest();
    out.set(h);
    return;
  }
  const str = typeof src === 'string';
  let h0 = 0x67452301, h1 = 0xefcdab89 | 0, h2 = 0x98badcfe | 0, h3 = 0x10325476, h4 = 0xc3d2e1f0 | 0;
  const blocks = ((len + 8) >> 6) + 1;
  const bitLen = len * 8; // below 2^32: len < NATIVE_MIN_BYTES
  for (let b = 0; b < blocks; b++) {
    const base = b << 6;
    for (let t = 0; t < 16; t++) {
      let word = 0;
      for (let k = 0; k < 4; k++) {
        const j = base + (t << 2) + k;
        const byte = j < len ? (str ? (src as string).charCodeAt(j) & 0xff : (src as Uint8Array)[j]!) : j === len ? 0x80 : 0;
        word = (word << 8) | byte;
      }
      w[t] = word;
    }
    if (b === blocks - 1) {
      w[14] = 0;
      w[15] = bitLen;
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h0, bb = h1, c = h2, d = h3, e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) { f = (bb & c) | (~bb & d); k = 0x5a827999; }
      else if (t < 40) { f = bb ^ c ^ d; k = 0x6ed9eba1; }
      else if (t < 60) { f = (bb & c) | (bb & d) | (c & d); k = 0x8f1bbcdc | 0; }
      else { f = bb ^ c ^ d; k = 0xca62c1d6 | 0; }
      const tmp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]!) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = tmp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + bb) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  writeBe32(out, 0, h0);
  writeBe32(out, 4, h1);
  writeBe32(out, 8, h2);
  writeBe32(out, 12, h3);
  writeBe32(out, 16, h4);
}

function writeBe32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}
