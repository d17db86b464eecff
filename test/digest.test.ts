/**
 * DEBUG DIGEST / DIGEST-VALUE: properties of the construction, then equality with a real
 * redis-server 7.0 loaded with the same keys (several dbs, binary values, with and without expiry,
 * a logically expired key).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedisServer, startRedis } from './support/real-redis.ts';
import type { RealServer } from './support/real-redis.ts';
import type { Reply } from '../sim/core/reply.ts';
import { Keyspace } from '../sim/core/keyspace.ts';
import { debugDigest, debugDigestValue } from '../sim/core/digest.ts';
import { sha1Into } from '../sim/core/sha1.ts';
import { createHash } from 'node:crypto';
import seedrandom from 'seedrandom';

const ZEROS = '0'.repeat(40);
const NOW_MS = 1_767_225_600_000;

describe('digest: construction', () => {
  it('the empty dataset is 40 zeros', () => {
    expect(debugDigest(new Keyspace())).toBe(ZEROS);
  });

  it('is independent of insertion order, but depends on db, value and expiry presence', () => {
    const a = new Keyspace();
    a.set(0, 'x', '1', -1);
    a.set(0, 'y', '2', -1);
    const b = new Keyspace();
    b.set(0, 'y', '2', -1);
    b.set(0, 'x', '1', -1);
    expect(debugDigest(a)).toBe(debugDigest(b));
    expect(debugDigest(a)).toMatch(/^[0-9a-f]{40}$/);
    const moved = new Keyspace();
    moved.set(1, 'x', '1', -1);
    moved.set(1, 'y', '2', -1);
    expect(debugDigest(moved)).not.toBe(debugDigest(a));
    b.set(0, 'x', '1', NOW_MS + 5);
    expect(debugDigest(b)).not.toBe(debugDigest(a));
    const c = b.clone();
    c.set(0, 'x', '1', NOW_MS + 99_999); // only the presence of an expiry is hashed
    expect(debugDigest(c)).toBe(debugDigest(b));
  });

  it('with nowMs, logically expired keys (and dbs left empty) are ignored', () => {
    const a = new Keyspace();
    a.set(0, 'x', '1', -1);
    const b = a.clone();
    b.set(0, 'gone', 'v', NOW_MS - 1);
    b.set(4, 'gone', 'v', NOW_MS - 1);
    expect(debugDigest(b)).not.toBe(debugDigest(a));
    expect(debugDigest(b, NOW_MS)).toBe(debugDigest(a));
  });

  it('DIGEST-VALUE of a missing key is 40 zeros', () => {
    expect(debugDigestValue(new Keyspace(), 0, 'nope')).toBe(ZEROS);
  });
});

// ---------------------------------------------------------------------------------------------

/** The reply as the old assertions read it: "+OK" for a status, a list of texts for an array. */
function text(r: Reply): string | string[] {
  if (r.kind === 'status') return '+' + r.text;
  if (r.kind === 'error') return '-' + r.text;
  if (r.kind === 'array') return (r.items ?? []).map((i) => (i.kind === 'status' ? i.text : i.kind === 'bulk' ? (i.value ?? '') : String(i.kind)));
  return JSON.stringify(r);
}

describe('digest: the fast paths agree with the slow ones', () => {
  it('sha1Into equals node:crypto for every length up to past the native threshold, bytes and strings', () => {
    const out = new Uint8Array(20);
    for (let len = 0; len < 700; len++) {
      const b = Buffer.alloc(len);
      for (let i = 0; i < len; i++) b[i] = (i * 131 + len * 7) & 0xff;
      const want = createHash('sha1').update(b).digest('hex');
      sha1Into(b, out);
      expect(Buffer.from(out).toString('hex'), `bytes, length ${len}`).toBe(want);
      sha1Into(b.toString('latin1'), out);
      expect(Buffer.from(out).toString('hex'), `string, length ${len}`).toBe(want);
    }
  });

  it('Keyspace.sameDataset is true exactly when the digests are equal', () => {
    const rng = seedrandom('same-dataset');
    let equalSeen = 0;
    let differentSeen = 0;
    for (let round = 0; round < 300; round++) {
      const a = new Keyspace();
      const n = Math.floor(rng() * 6);
      for (let i = 0; i < n; i++) a.set(Math.floor(rng() * 3), `k${Math.floor(rng() * 8)}`, `v${Math.floor(rng() * 3)}`, rng() < 0.3 ? NOW_MS + 1000 : -1);
      const b = a.clone();
      // Sometimes one small change: a value, an expiry's presence or time, a key's db, a delete.
      const change = Math.floor(rng() * 6);
      const key = `k${Math.floor(rng() * 8)}`;
      const db = Math.floor(rng() * 3);
      if (change === 1) b.set(db, key, `v${Math.floor(rng() * 3)}`, -1);
      if (change === 2) b.set(db, key, 'v0', NOW_MS + Math.floor(rng() * 3));
      if (change === 3) b.delete(db, key);
      if (change === 4) b.flushDb(db);
      const same = a.sameDataset(b);
      expect(same, `round ${round}`).toBe(debugDigest(a) === debugDigest(b));
      expect(b.sameDataset(a)).toBe(same);
      if (same) equalSeen++;
      else differentSeen++;
    }
    expect(equalSeen).toBeGreaterThan(50);
    expect(differentSeen).toBeGreaterThan(50);
  });

  it('Keyspace.version changes with every change to the data', () => {
    const ks = new Keyspace();
    const seen = [ks.version];
    ks.set(0, 'a', '1', -1);
    seen.push(ks.version);
    ks.delete(0, 'a');
    seen.push(ks.version);
    ks.set(2, 'b', '1', NOW_MS);
    seen.push(ks.version);
    ks.flushDb(2);
    seen.push(ks.version);
    expect(new Set(seen).size).toBe(seen.length);
  });
});

describe.skipIf(!haveRedisServer)('digest: equal to redis-server 7.0 DEBUG DIGEST', () => {
  let server: RealServer | null = null;
  const client = { call: async (...argv: string[]): Promise<string | string[]> => text(await server!.client.call(...argv)) };

  beforeAll(async () => {
    server = await startRedis(['--enable-debug-command', 'yes']);
    expect(await client.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0')).toBe('+OK');
  }, 20_000);

  afterAll(() => {
    server?.stop();
  });

  it('empty, then the same keys in several dbs', async () => {
    expect(await client.call('DEBUG', 'DIGEST')).toBe('+' + ZEROS);
    const ks = new Keyspace();
    let allBytes = '';
    for (let b = 0; b < 256; b++) allBytes += String.fromCharCode(b);
    const farMs = 4_000_000_000_000;
    const keys: [number, string, string, number][] = [
      [0, 'plain', 'hello', -1],
      [0, 'int', '42', -1], // int-encoded in Redis: hashed as its decimal bytes
      [0, 'neg', '-9223372036854775808', -1],
      [0, 'empty', '', -1],
      [0, 'bin\x00key\xff', allBytes, -1],
      [0, 'ttl', 'v', farMs],
      [0, 'stale', 'still in the dict', 1000], // logically expired, not yet deleted
      [3, 'plain', 'hello', -1],
      [3, 'big', 'x'.repeat(100_000), farMs + 1],
      [15, 'last', '\r\n', -1],
    ];
    for (const [db, key, value, expireAtMs] of keys) {
      await client.call('SELECT', String(db));
      const args = ['SET', key, value];
      if (expireAtMs !== -1) args.push('PXAT', String(expireAtMs));
      expect(await client.call(...args)).toBe('+OK');
      ks.set(db, key, value, expireAtMs);
    }
    expect(await client.call('DEBUG', 'DIGEST')).toBe('+' + debugDigest(ks));
    expect(debugDigest(ks)).not.toBe(ZEROS);

    for (const db of [0, 3, 15]) {
      await client.call('SELECT', String(db));
      const names = [...ks.dbs[db]!.keys(), 'missing'];
      const real = await client.call('DEBUG', 'DIGEST-VALUE', ...names);
      expect(real).toEqual(names.map((k) => debugDigestValue(ks, db, k)));
    }
  });
});
