/**
 * Seeded randomness, split into named streams.
 *
 * Theory of operation. A run has one root seed. Each consumer (the network, each node's
 * replids, the workload, the fuzz generator) asks for a stream by name; the stream is a
 * seedrandom generator seeded with `${root}/${name}`, so streams are independent and adding
 * a consumer, or drawing more from one, never shifts another (the determinism
 * contract). The generator is seedrandom's Alea: pure JavaScript (same numbers on every
 * machine and Node version) and about 4x faster than its default ARC4, which matters because
 * the network draws per chunk.
 *
 * Asking twice for the same name gives two generators with the same sequence: a stream name
 * is meant to have one owner.
 */
import seedrandom from 'seedrandom';
import { assert } from '../assert.ts';

const HEX = '0123456789abcdef';
const TWO_POW_32 = 0x1_0000_0000;

/** One deterministic random stream. */
export class Rng {
  private readonly prng: seedrandom.PRNG;

  constructor(seed: string) {
    this.prng = seedrandom.alea(seed);
  }

  /** Uniform in [0, 1), 32 bits of randomness. */
  next(): number {
    return this.prng();
  }

  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number {
    if (!(Number.isSafeInteger(maxExclusive) && maxExclusive > 0)) assert(false, `Rng.int: bad bound ${maxExclusive}`);
    // Above 2^32 a 32-bit draw would leave gaps; take 53 bits instead.
    const u = maxExclusive <= TWO_POW_32 ? this.prng() : this.prng.double();
    return Math.floor(u * maxExclusive);
  }

  /** Uniform integer in [minInclusive, maxInclusive]. */
  between(minInclusive: number, maxInclusive: number): number {
    assert(Number.isSafeInteger(minInclusive) && Number.isSafeInteger(maxInclusive), 'Rng.between: not integers');
    assert(minInclusive <= maxInclusive, `Rng.between: ${minInclusive} > ${maxInclusive}`);
    return minInclusive + this.int(maxInclusive - minInclusive + 1);
  }

  /** True with probability p. Draws even when p is 0 or 1, so the sequence does not depend on p. */
  chance(p: number): boolean {
    if (!(p >= 0 && p <= 1)) assert(false, `Rng.chance: p ${p} outside [0, 1]`);
    return this.prng() < p;
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'Rng.pick: empty array');
    return items[this.int(items.length)];
  }

  /** `chars` lowercase hex digits (40 for a Redis replid or run id). */
  hex(chars: number): string {
    assert(Number.isSafeInteger(chars) && chars >= 0, `Rng.hex: bad length ${chars}`);
    let out = '';
    for (let i = 0; i < chars; i++) out += HEX[Math.floor(this.prng() * 16)];
    return out;
  }

  /** n random bytes. */
  bytes(n: number): Uint8Array {
    assert(Number.isSafeInteger(n) && n >= 0, `Rng.bytes: bad length ${n}`);
    const out = new Uint8Array(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const w = this.prng.int32();
      out[i] = w & 0xff;
      out[i + 1] = (w >>> 8) & 0xff;
      out[i + 2] = (w >>> 16) & 0xff;
      out[i + 3] = (w >>> 24) & 0xff;
    }
    if (i < n) {
      let w = this.prng.int32();
      for (; i < n; i++, w >>>= 8) out[i] = w & 0xff;
    }
    return out;
  }
}

/** The run's root seed and the named streams derived from it. */
export class RandomStreams {
  constructor(readonly rootSeed: string | number) {}

  /** An independent stream for one consumer, e.g. 'network', 'node/r1', 'workload'. */
  stream(name: string): Rng {
    assert(name.length > 0, 'RandomStreams.stream: empty name');
    return new Rng(`${this.rootSeed}/${name}`);
  }
}
