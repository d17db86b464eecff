/**
 * DEBUG DIGEST and DEBUG DIGEST-VALUE, bit for bit as Redis 7.0 computes them (debug.c).
 *
 * Theory of operation. Two primitives over a 20-byte state:
 *   xorDigest(d, bytes):  d ^= SHA1(bytes)
 *   mixDigest(d, bytes):  xorDigest(d, bytes); d = SHA1(d)
 * computeDatasetDigest(): start from 20 zero bytes; for each non-empty db j, in order,
 * mixDigest(final, be32(j)); then for each key (in any order: the combination is a xor), build
 *   d = 0; mixDigest(d, key); mixDigest(d, be32(type)); mixDigest(d, value);
 *   if the key has an expiry: xorDigest(d, "!!expire!!")
 * and xorDigest(final, d), i.e. final ^= SHA1(d). The expiry's value is not hashed, only its
 * presence. A string's type is OBJ_STRING = 0, and its value is hashed as its decoded bytes, so
 * an int-encoded "42" and a raw "42" agree. Logically expired keys still in the dict are included, as in Redis.
 * DIGEST-VALUE is the per-key d without the key mix, and 40 zeros for a missing key.
 */
import type { Keyspace, Entry } from './keyspace.ts';
import { isExpired } from './commands/lookup.ts';
import { sha1Into } from './sha1.ts';

const OBJ_STRING = 0;
const EXPIRE_MARK = '!!expire!!';
/** Scratch for one SHA1 (the digests are computed one at a time, never re-entered). */
const scratch = new Uint8Array(20);

function xorDigest(digest: Uint8Array, bytes: string | Uint8Array): void {
  sha1Into(bytes, scratch);
  for (let i = 0; i < 20; i++) digest[i]! ^= scratch[i]!;
}

function mixDigest(digest: Uint8Array, bytes: string | Uint8Array): void {
  xorDigest(digest, bytes);
  sha1Into(digest, digest);
}

function be32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

const TYPE_STRING = be32(OBJ_STRING);

/** xorObjectDigest() for a string value (binary strings are hashed as their latin1 bytes). */
function mixValue(digest: Uint8Array, e: Entry): void {
  mixDigest(digest, TYPE_STRING);
  mixDigest(digest, e.value);
  if (e.expireAtMs !== -1) xorDigest(digest, EXPIRE_MARK);
}

/**
 * computeDatasetDigest() as 40 lowercase hex digits (all zeros for an empty dataset).
 * With nowMs, logically expired keys are left out: a view for comparing a master with a replica
 * that has not received the DELs yet. Without it, exactly what redis-server's DEBUG DIGEST says.
 */
export function debugDigest(ks: Keyspace, nowMs?: number): string {
  const final = Buffer.alloc(20);
  const d = Buffer.alloc(20);
  const keysXor = Buffer.alloc(20);
  for (let db = 0; db < ks.dbs.length; db++) {
    const map = ks.dbs[db]!;
    keysXor.fill(0);
    let included = 0;
    for (const [key, e] of map) {
      if (nowMs !== undefined && isExpired(e, nowMs)) continue;
      d.fill(0);
      mixDigest(d, key);
      mixValue(d, e);
      xorDigest(keysXor, d); // xorDigest(final,digest,20): the key's digest is hashed once more
      included++;
    }
    // Redis mixes the db id in first, then xors the keys; a xor commutes, so we can do it after.
    if (included === 0) continue;
    mixDigest(final, be32(db));
    for (let i = 0; i < 20; i++) final[i]! ^= keysXor[i]!;
  }
  return final.toString('hex');
}

/** DEBUG DIGEST-VALUE for one key: logically expired keys are still found (dictFind). */
export function debugDigestValue(ks: Keyspace, db: number, key: string): string {
  const d = Buffer.alloc(20);
  const e = ks.get(db, key);
  if (e !== undefined) mixValue(d, e);
  return d.toString('hex');
}
