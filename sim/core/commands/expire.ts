/**
 * The expiry commands of Redis 7.0 (expire.c): EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with
 * NX/XX/GT/LT, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST.
 *
 * Theory of operation. expireGenericCommand() turns every form into an absolute unix-ms time and
 * propagates `PEXPIREAT key <abs ms> [flags...]`: argv[0] and argv[2] are rewritten, the NX/XX/GT/LT
 * arguments are kept. A PEXPIREAT is propagated exactly as received (its argv[0] spelling too). A
 * time at or before now deletes the key on a master and propagates `DEL key`; a replica
 * (checkAlreadyExpired() tests server.masterhost) stores the past time and waits for the master's
 * DEL. A missing key, or a failed NX/XX/GT/LT condition, changes nothing and propagates nothing.
 */
import type { DataContext, DataCommand } from '../keyspace.ts';
import { exactExpireAt, expireAtFromBig } from '../keyspace.ts';
import { err, int, intExact, errNotInteger } from '../reply.ts';
import type { Reply } from '../reply.ts';
import { lookup, deletesPastExpiry, parseLongLong, errExpireTime, LLONG_MAX, LLONG_MIN } from './lookup.ts';

const F_NX = 1, F_XX = 2, F_GT = 4, F_LT = 8;

/** parseExtendedExpireArgumentsOrReply(). */
function parseExpireFlags(argv: string[]): number | Reply {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    if (opt === 'nx') flags |= F_NX;
    else if (opt === 'xx') flags |= F_XX;
    else if (opt === 'gt') flags |= F_GT;
    else if (opt === 'lt') flags |= F_LT;
    else return err(`ERR Unsupported option ${argv[j]!}`);
  }
  if ((flags & F_NX) && (flags & (F_XX | F_GT | F_LT))) {
    return err('ERR NX and XX, GT or LT options at the same time are not compatible');
  }
  if ((flags & F_GT) && (flags & F_LT)) return err('ERR GT and LT options at the same time are not compatible');
  return flags;
}

/** expireGenericCommand(): `basetime` is now (relative forms) or 0 (absolute forms). */
function expireGeneric(ctx: DataContext, argv: string[], name: string, relative: boolean, seconds: boolean): Reply {
  const key = argv[1]!;
  const flags = parseExpireFlags(argv);
  if (typeof flags !== 'number') return flags;
  let when = parseLongLong(argv[2]!);
  if (when === null) return errNotInteger;
  // EXPIRE allows negative numbers; only the unit conversion and the addition can overflow.
  if (seconds) {
    if (when > LLONG_MAX / 1000n || when < LLONG_MIN / 1000n) return errExpireTime(name);
    when *= 1000n;
  }
  const basetime = relative ? BigInt(ctx.nowMs) : 0n;
  if (when > LLONG_MAX - basetime) return errExpireTime(name);
  when += basetime;

  const e = lookup(ctx, key); // lookupKeyWrite
  if (e === undefined) return int(0);
  if (flags !== 0) {
    const current = exactExpireAt(e);
    if ((flags & F_NX) && current !== -1n) return int(0);
    if ((flags & F_XX) && current === -1n) return int(0);
    // No expiry counts as an infinite TTL: GT never beats it, LT always does.
    if ((flags & F_GT) && (current === -1n || when <= current)) return int(0);
    if ((flags & F_LT) && current !== -1n && when >= current) return int(0);
  }
  if (when <= BigInt(ctx.nowMs) && deletesPastExpiry(ctx)) {
    ctx.ks.delete(ctx.db, key);
    ctx.propagate(['DEL', key]);
    return int(1);
  }
  // Any int64 is kept exactly, beyond ±2^53 ms too (PEXPIREAT k 9223372036854775807).
  // A replica may store a time in the past; -1 then reads as "no expiry", as getExpire() does.
  if (when === -1n) ctx.ks.removeExpire(ctx.db, key);
  else ctx.ks.setExpire(ctx.db, key, expireAtFromBig(when));
  const out = argv.slice();
  if (name !== 'pexpireat') {
    out[0] = 'PEXPIREAT';
    out[2] = when.toString();
  }
  ctx.propagate(out);
  return int(1);
}

/** ttlGenericCommand(): -2 missing, -1 no expiry, else the remaining (or absolute) time. */
function ttlGeneric(ctx: DataContext, argv: string[], ms: boolean, absolute: boolean): Reply {
  const e = lookup(ctx, argv[1]!);
  if (e === undefined) return int(-2);
  if (e.expireAtMs === -1) return int(-1);
  if (e.expireAtBig !== undefined) {
    // Slow path, beyond ±2^53 ms: the same arithmetic in int64 (C's division truncates).
    let big = absolute ? e.expireAtBig : e.expireAtBig - BigInt(ctx.nowMs);
    if (big < 0n) big = 0n;
    return intExact(ms ? big : (big + 500n) / 1000n);
  }
  let ttl = absolute ? e.expireAtMs : e.expireAtMs - ctx.nowMs;
  if (ttl < 0) ttl = 0;
  return int(ms ? ttl : Math.floor((ttl + 500) / 1000));
}

function persist(ctx: DataContext, argv: string[]): Reply {
  const key = argv[1]!;
  if (lookup(ctx, key) === undefined) return int(0);
  if (!ctx.ks.removeExpire(ctx.db, key)) return int(0);
  ctx.propagate(argv);
  return int(1);
}

const cmd = (name: string, arity: number, write: boolean, run: DataCommand['run']): DataCommand =>
  ({ name, arity, write, run });

export const expireCommands: readonly DataCommand[] = [
  cmd('expire', -3, true, (ctx, argv) => expireGeneric(ctx, argv, 'expire', true, true)),
  cmd('pexpire', -3, true, (ctx, argv) => expireGeneric(ctx, argv, 'pexpire', true, false)),
  cmd('expireat', -3, true, (ctx, argv) => expireGeneric(ctx, argv, 'expireat', false, true)),
  cmd('pexpireat', -3, true, (ctx, argv) => expireGeneric(ctx, argv, 'pexpireat', false, false)),
  cmd('ttl', 2, false, (ctx, argv) => ttlGeneric(ctx, argv, false, false)),
  cmd('pttl', 2, false, (ctx, argv) => ttlGeneric(ctx, argv, true, false)),
  cmd('expiretime', 2, false, (ctx, argv) => ttlGeneric(ctx, argv, false, true)),
  cmd('pexpiretime', 2, false, (ctx, argv) => ttlGeneric(ctx, argv, true, true)),
  cmd('persist', 2, true, persist),
];
