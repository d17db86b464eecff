/**
 * Key lookup with Redis 7.0's lazy expiry, and the strict number parsing the commands share.
 *
 * Theory of operation. Every command reads keys through lookup(), which mirrors lookupKey() +
 * expireIfNeeded() (db.c): a key is logically expired when nowMs > expireAtMs (keyIsExpired()).
 * What happens then depends on who asks (ExpiryView):
 *   master               deletes it and propagates `DEL key` (deleteExpiredKeyAndPropagate(), with
 *                        lazyfree-lazy-expire no) before the command's own effect;
 *   replica-client       sees it missing but keeps it (the master will send the DEL);
 *   replica-master-link  sees it as present (current_client == server.master).
 * Simplification: writable replicas (replica-read-only no) force-delete expired keys on writes in
 * Redis; here a replica never deletes.
 */
import type { DataContext, Entry } from '../keyspace.ts';
import { err } from '../reply.ts';
import type { Reply } from '../reply.ts';

/** keyIsExpired(): strictly after the expiry instant. */
export function isExpired(e: Entry, nowMs: number): boolean {
  return e.expireAtMs !== -1 && nowMs > e.expireAtMs;
}

/** lookupKey() with expireIfNeeded(): the live entry, or undefined. */
export function lookup(ctx: DataContext, key: string): Entry | undefined {
  const e = ctx.ks.get(ctx.db, key);
  if (e === undefined || !isExpired(e, ctx.nowMs)) return e;
  switch (ctx.view) {
    case 'master':
      expireNow(ctx, key);
      return undefined;
    case 'replica-client':
      return undefined;
    case 'replica-master-link':
      return e;
  }
}

/** deleteExpiredKeyAndPropagate(). */
export function expireNow(ctx: DataContext, key: string): void {
  ctx.ks.delete(ctx.db, key);
  ctx.ks.lazyExpiredKeys++;
  ctx.propagate(['DEL', key]);
}

/** Is this view allowed to act on a past expiry by deleting? checkAlreadyExpired() (expire.c). */
export function deletesPastExpiry(ctx: DataContext): boolean {
  return ctx.view === 'master';
}

export const LLONG_MAX = (1n << 63n) - 1n;
export const LLONG_MIN = -(1n << 63n);

/**
 * string2ll() (util.c): an optional '-', then a decimal without leading zeros ("0" alone is
 * fine), no '+', no spaces, within a signed 64-bit integer. Returns null if not.
 */
export function parseLongLong(s: string): bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  if (n === 1 && s === '0') return 0n;
  let i = 0;
  if (s.charCodeAt(0) === 45 /* - */) {
    i = 1;
    if (n === 1) return null;
  }
  const first = s.charCodeAt(i);
  if (first < 49 || first > 57) return null; // 1-9
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
  }
  const v = BigInt(s);
  return v < LLONG_MIN || v > LLONG_MAX ? null : v;
}

/** parseLongLong() as a JS number, for arguments whose range we then check ourselves. */
export function parseLongLongNumber(s: string): number | null {
  const v = parseLongLong(s);
  return v === null ? null : Number(v);
}

/** addReplyErrorExpireTime() (networking.c). */
export const errExpireTime = (cmd: string): Reply => err(`ERR invalid expire time in '${cmd}' command`);

/** proto-max-bulk-len default: 512 MB; checkStringLength() in t_string.c. */
export const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024;
export const errStringTooLong: Reply = err('ERR string exceeds maximum allowed size (proto-max-bulk-len)');

/**
 * The longest value a JS string can hold (V8's String::kMaxLength, 2^29 - 24 bytes on 64-bit),
 * 24 bytes short of proto-max-bulk-len. Divergence: a value that would be longer is refused with
 * Redis's proto-max-bulk-len error, where Redis accepts it (SETRANGE k 536870900 x).
 */
export const STRING_LENGTH_MAX = 536_870_888;

/**
 * checkStringLength(): the master link is obeyed whatever the size (mustObeyClient()), except
 * past what a JS string can hold, where every client gets the error instead of a crash.
 */
export function stringTooLong(ctx: DataContext, totalBytes: number): boolean {
  return totalBytes > STRING_LENGTH_MAX || (ctx.view !== 'replica-master-link' && totalBytes > PROTO_MAX_BULK_LEN);
}
