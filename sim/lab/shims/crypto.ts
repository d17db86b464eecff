/**
 * node:crypto for the lab's browser bundle: the one call sim/ makes, `createHash('sha1')`
 * (DEBUG DIGEST, sim/core/digest.ts), done synchronously in plain TypeScript as FIPS 180-4
 * describes SHA-1. The browser's crypto.subtle is asynchronous, so it cannot stand in.
 * test/lab.test.ts checks this against node:crypto.
 */
import { Buffer } from 'buffer';

class Sha1 {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  update(data: Uint8Array | string): this {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.chunks.push(bytes);
    this.length += bytes.length;
    return this;
  }

  digest(encoding?: 'hex'): Buffer | string {
    const out = Buffer.from(sha1(this.concat()));
    return encoding === 'hex' ? out.toString('hex') : out;
  }

  private concat(): Uint8Array {
    const all = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      all.set(c, at);
      at += c.length;
    }
    return all;
  }
}

export function sha1(msg: Uint8Array): Uint8Array {
  const bitLen = msg.length * 8;
  const padded = new Uint8Array(((msg.length + 9 + 63) >> 6) << 6);
  padded.set(msg);
  padded[msg.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLen / 2 ** 32));
  view.setUint32(padded.length - 4, bitLen >>> 0);
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let i = 0; i < 80; i++) {
      const f = i < 20 ? (b & c) | (~b & d) : i < 40 ? b ^ c ^ d : i < 60 ? (b & c) | (b & d) | (c & d) : b ^ c ^ d;
      const k = i < 20 ? 0x5a827999 : i < 40 ? 0x6ed9eba1 : i < 60 ? 0x8f1bbcdc : 0xca62c1d6;
      const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]!) >>> 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) >>> 0;
    h1 = (h1 + b) >>> 0;
    h2 = (h2 + c) >>> 0;
    h3 = (h3 + d) >>> 0;
    h4 = (h4 + e) >>> 0;
  }
  const out = new Uint8Array(20);
  const ov = new DataView(out.buffer);
  [h0, h1, h2, h3, h4].forEach((h, i) => ov.setUint32(i * 4, h));
  return out;
}

export function createHash(algorithm: string): Sha1 {
  if (algorithm.toLowerCase() !== 'sha1') throw new Error(`psync-sim lab: createHash('${algorithm}') is not in the browser bundle`);
  return new Sha1();
}

/** seedrandom probes for node's crypto.randomBytes to autoseed; the simulator never autoseeds. */
export function randomBytes(): never {
  throw new Error('psync-sim lab: no randomBytes in the browser bundle (every draw is seeded)');
}

export default { createHash, randomBytes };
