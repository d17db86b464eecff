/**
 * The string commands of Redis 7.0 (t_string.c): replies and the effect each one propagates.
 *
 * Theory of operation. Redis's call() propagates a command's argv, possibly rewritten by the
 * command, if and only if the command changed the dataset (server.dirty moved). Each function
 * below therefore calls ctx.propagate() exactly when Redis would, with the exact rewritten argv:
 * commands propagated unchanged keep the client's own spelling and case; rewritten ones use
 * Redis's shared objects ("SET", "PXAT", "PEXPIREAT", "DEL", "PERSIST", "KEEPTTL").
 * Lazy-expiry DELs found during lookups (commands/lookup.ts) come before the command's own effect,
 * as in Redis's also_propagate array; the node wraps several effects in MULTI/EXEC.
 * The table of verified forms is at the top of commands.ts.
 */
import type { DataContext, DataCommand, ExpireAt } from '../keyspace.ts';
import { expireAtFromBig } from '../keyspace.ts';
import { OK, NIL, bulk, err, int, intExact, errNotInteger, errSyntax, errWrongArgs } from '../reply.ts';
import type { Reply } from '../reply.ts';
import {
  lookup, deletesPastExpiry, parseLongLong, errExpireTime, errStringTooLong, stringTooLong,
  LLONG_MAX, LLONG_MIN,
} from './lookup.ts';
import { parseLongDouble, addLongDouble, formatLongDoubleHuman, longDoubleFromBigInt } from './longdouble.ts';

// Flags of parseExtendedStringArgumentsOrReply(), as a bit set.
const NX = 1, XX = 2, EX = 4, PX = 8, KEEPTTL = 16, GET = 32, EXAT = 64, PXAT = 128, PERSIST = 256;
const ANY_EXPIRE = EX | PX | EXAT | PXAT;

interface ExtendedArgs { readonly flags: number; readonly expire: string | null }

/** No options at all (a plain `SET key value`): shared, not allocated per command. */
const NO_OPTIONS: ExtendedArgs = Object.freeze({ flags: 0, expire: null });

/**
 * parseExtendedStringArgumentsOrReply(): SET's options (from argv[3]) or GETEX's (from argv[2]).
 * An option that conflicts with one already given, or lacks its value, is a syntax error.
 */
function parseExtended(argv: string[], forSet: boolean): ExtendedArgs | Reply {
  if (argv.length <= (forSet ? 3 : 2)) return NO_OPTIONS;
  let flags = 0;
  let expire: string | null = null;
  for (let j = forSet ? 3 : 2; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const hasNext = j < argv.length - 1;
    if (opt === 'nx' && !(flags & XX) && forSet) flags |= NX;
    else if (opt === 'xx' && !(flags & NX) && forSet) flags |= XX;
    else if (opt === 'get' && forSet) flags |= GET;
    else if (opt === 'keepttl' && !(flags & (PERSIST | ANY_EXPIRE)) && forSet) flags |= KEEPTTL;
    else if (opt === 'persist' && !forSet && !(flags & (ANY_EXPIRE | KEEPTTL))) flags |= PERSIST;
    else if (opt === 'ex' && !(flags & (KEEPTTL | PERSIST | EXAT | PX | PXAT)) && hasNext) {
      flags |= EX;
      expire = argv[++j]!;
    } else if (opt === 'px' && !(flags & (KEEPTTL | PERSIST | EX | EXAT | PXAT)) && hasNext) {
      flags |= PX;
      expire = argv[++j]!;
    } else if (opt === 'exat' && !(flags & (KEEPTTL | PERSIST | EX | PX | PXAT)) && hasNext) {
      flags |= EXAT;
      expire = argv[++j]!;
    } else if (opt === 'pxat' && !(flags & (KEEPTTL | PERSIST | EX | EXAT | PX)) && hasNext) {
      flags |= PXAT;
      expire = argv[++j]!;
    } else {
      return errSyntax;
    }
  }
  return { flags, expire };
}

/**
 * getExpireMillisecondsOrReply(): the absolute expiry in unix ms. Zero or negative values, and
 * overflows, are "invalid expire time in '<cmd>' command".
 */
function expireMs(ctx: DataContext, expire: string, flags: number, cmd: string): ExpireAt | Reply {
  const v = parseLongLong(expire);
  if (v === null) return errNotInteger;
  const seconds = !(flags & (PX | PXAT));
  if (v <= 0n || (seconds && v > LLONG_MAX / 1000n)) return errExpireTime(cmd);
  let ms = seconds ? v * 1000n : v;
  if (flags & (EX | PX)) ms += BigInt(ctx.nowMs);
  if (ms > LLONG_MAX) return errExpireTime(cmd); // Redis sees the signed overflow as <= 0
  return expireAtFromBig(ms); // exact: PXAT 9007199254740993 stays ...993
}

function isReply(x: unknown): x is Reply {
  return typeof x === 'object' && x !== null && 'kind' in x;
}

/** setGenericCommand(): SET and its relatives. */
function setGeneric(
  ctx: DataContext, argv: string[], cmd: string, flags: number, key: string, value: string,
  expire: string | null, okReply: Reply, abortReply: Reply,
): Reply {
  let ms: ExpireAt = -1;
  if (expire !== null) {
    const r = expireMs(ctx, expire, flags, cmd);
    if (isReply(r)) return r;
    ms = r;
  }
  let reply: Reply | null = null;
  if (flags & GET) {
    const old = lookup(ctx, key); // getGenericCommand(): lookupKeyRead
    reply = old === undefined ? NIL : bulk(old.value);
  }
  const found = lookup(ctx, key) !== undefined; // lookupKeyWrite
  if (((flags & NX) && found) || ((flags & XX) && !found)) return reply ?? abortReply;
  if (flags & KEEPTTL) ctx.ks.setValueKeepTtl(ctx.db, key, value);
  else ctx.ks.set(ctx.db, key, value, ms);
  if (ms !== -1) {
    // "Propagate as SET Key Value PXAT millisecond-timestamp if there is EX/PX/EXAT/PXAT flag."
    ctx.propagate(['SET', key, value, 'PXAT', String(ms)]);
  } else if (flags & GET) {
    // Propagated without the GET argument(s), which may be repeated.
    ctx.propagate(argv.filter((a, j) => j < 3 || a.toLowerCase() !== 'get'));
  } else {
    ctx.propagate(argv);
  }
  return reply ?? okReply;
}

function set(ctx: DataContext, argv: string[]): Reply {
  const parsed = parseExtended(argv, true);
  if (isReply(parsed)) return parsed;
  return setGeneric(ctx, argv, 'set', parsed.flags, argv[1]!, argv[2]!, parsed.expire, OK, NIL);
}

function get(ctx: DataContext, argv: string[]): Reply {
  const e = lookup(ctx, argv[1]!);
  return e === undefined ? NIL : bulk(e.value);
}

/** GETEX: never propagated as is, but as PEXPIREAT, DEL or PERSIST. */
function getex(ctx: DataContext, argv: string[]): Reply {
  const parsed = parseExtended(argv, false);
  if (isReply(parsed)) return parsed;
  const key = argv[1]!;
  const e = lookup(ctx, key);
  if (e === undefined) return NIL;
  let ms: ExpireAt = -1;
  if (parsed.expire !== null) {
    const r = expireMs(ctx, parsed.expire, parsed.flags, 'getex');
    if (isReply(r)) return r;
    ms = r;
  }
  const reply = bulk(e.value);
  if ((parsed.flags & (EXAT | PXAT)) && ms <= ctx.nowMs && deletesPastExpiry(ctx)) {
    ctx.ks.delete(ctx.db, key);
    ctx.propagate(['DEL', key]);
  } else if (ms !== -1) {
    ctx.ks.setExpire(ctx.db, key, ms);
    ctx.propagate(['PEXPIREAT', key, String(ms)]);
  } else if (parsed.flags & PERSIST) {
    if (ctx.ks.removeExpire(ctx.db, key)) ctx.propagate(['PERSIST', key]);
  }
  return reply;
}

function getdel(ctx: DataContext, argv: string[]): Reply {
  const key = argv[1]!;
  const e = lookup(ctx, key);
  if (e === undefined) return NIL;
  ctx.ks.delete(ctx.db, key);
  ctx.propagate(['DEL', key]);
  return bulk(e.value);
}

function getset(ctx: DataContext, argv: string[]): Reply {
  const key = argv[1]!;
  const e = lookup(ctx, key);
  const reply = e === undefined ? NIL : bulk(e.value); // before the set, which may edit `e`
  ctx.ks.set(ctx.db, key, argv[2]!, -1);
  ctx.propagate(['SET', key, argv[2]!]); // rewriteClientCommandArgument(c,0,shared.set)
  return reply;
}

function mget(ctx: DataContext, argv: string[]): Reply {
  const items: Reply[] = [];
  for (let j = 1; j < argv.length; j++) {
    const e = lookup(ctx, argv[j]!);
    items.push(e === undefined ? NIL : bulk(e.value));
  }
  return { kind: 'array', items };
}

/** msetGenericCommand(). MSETNX sets nothing if any key exists. */
function msetGeneric(ctx: DataContext, argv: string[], nx: boolean): Reply {
  if (argv.length % 2 === 0) return errWrongArgs(argv[0]!);
  if (nx) {
    for (let j = 1; j < argv.length; j += 2) if (lookup(ctx, argv[j]!) !== undefined) return int(0);
  }
  for (let j = 1; j < argv.length; j += 2) ctx.ks.set(ctx.db, argv[j]!, argv[j + 1]!, -1);
  ctx.propagate(argv);
  return nx ? int(1) : OK;
}

/** incrDecrCommand(): 64-bit signed arithmetic; the key keeps its TTL (dbOverwrite). */
function incrDecr(ctx: DataContext, argv: string[], incr: bigint): Reply {
  const key = argv[1]!;
  const e = lookup(ctx, key);
  const old = e === undefined ? 0n : parseLongLong(e.value);
  if (old === null) return errNotInteger;
  const value = old + incr;
  if (value > LLONG_MAX || value < LLONG_MIN) return err('ERR increment or decrement would overflow');
  const text = value.toString();
  if (e === undefined) ctx.ks.set(ctx.db, key, text, -1);
  else ctx.ks.setValueKeepTtl(ctx.db, key, text);
  ctx.propagate(argv);
  return intExact(value);
}

function incrby(ctx: DataContext, argv: string[], sign: 1n | -1n): Reply {
  const incr = parseLongLong(argv[2]!);
  if (incr === null) return errNotInteger;
  if (sign === -1n && incr === LLONG_MIN) return err('ERR decrement would overflow');
  return incrDecr(ctx, argv, sign * incr);
}

/** Always propagated as SET key <value> KEEPTTL, so float formatting cannot diverge on replicas. */
function incrbyfloat(ctx: DataContext, argv: string[]): Reply {
  const key = argv[1]!;
  const e = lookup(ctx, key);
  let value = longDoubleFromBigInt(0n);
  if (e !== undefined) {
    const v = parseLongDouble(e.value);
    if (v === null) return err('ERR value is not a valid float');
    value = v;
  }
  const incr = parseLongDouble(argv[2]!);
  if (incr === null) return err('ERR value is not a valid float');
  const sum = addLongDouble(value, incr);
  if (sum === 'nan' || sum.kind === 'inf') return err('ERR increment would produce NaN or Infinity');
  const text = formatLongDoubleHuman(sum);
  if (e === undefined) ctx.ks.set(ctx.db, key, text, -1);
  else ctx.ks.setValueKeepTtl(ctx.db, key, text);
  ctx.propagate(['SET', key, text, 'KEEPTTL']);
  return bulk(text);
}

function append(ctx: DataContext, argv: string[]): Reply {
  const key = argv[1]!;
  const e = lookup(ctx, key);
  if (e === undefined) {
    ctx.ks.set(ctx.db, key, argv[2]!, -1);
    ctx.propagate(argv);
    return int(argv[2]!.length);
  }
  if (stringTooLong(ctx, e.value.length + argv[2]!.length)) return errStringTooLong;
  const value = e.value + argv[2]!;
  ctx.ks.setValueKeepTtl(ctx.db, key, value);
  ctx.propagate(argv);
  return int(value.length);
}

function strlen(ctx: DataContext, argv: string[]): Reply {
  const e = lookup(ctx, argv[1]!);
  return int(e === undefined ? 0 : e.value.length);
}

function setrange(ctx: DataContext, argv: string[]): Reply {
  const key = argv[1]!;
  const patch = argv[3]!;
  const offsetBig = parseLongLong(argv[2]!);
  if (offsetBig === null) return errNotInteger;
  if (offsetBig < 0n) return err('ERR offset is out of range');
  const e = lookup(ctx, key);
  // Setting nothing changes nothing, and is not propagated.
  if (patch.length === 0) return int(e === undefined ? 0 : e.value.length);
  if (offsetBig > BigInt(Number.MAX_SAFE_INTEGER) || stringTooLong(ctx, Number(offsetBig) + patch.length)) {
    return errStringTooLong;
  }
  const offset = Number(offsetBig);
  const old = e === undefined ? '' : e.value;
  const padded = old.length >= offset ? old.slice(0, offset) : old + '\0'.repeat(offset - old.length);
  const value = padded + patch + old.slice(offset + patch.length);
  if (e === undefined) ctx.ks.set(ctx.db, key, value, -1);
  else ctx.ks.setValueKeepTtl(ctx.db, key, value);
  ctx.propagate(argv);
  return int(value.length);
}

/** getrangeCommand(), also SUBSTR: inclusive, negative indexes from the end, clamped. */
function getrange(ctx: DataContext, argv: string[]): Reply {
  const startBig = parseLongLong(argv[2]!);
  if (startBig === null) return errNotInteger;
  const endBig = parseLongLong(argv[3]!);
  if (endBig === null) return errNotInteger;
  const e = lookup(ctx, argv[1]!);
  if (e === undefined) return bulk('');
  const len = e.value.length;
  if (startBig < 0n && endBig < 0n && startBig > endBig) return bulk('');
  // Clamp in BigInt first: the arguments may be any 64-bit values.
  let start = startBig < 0n ? BigInt(len) + startBig : startBig;
  let end = endBig < 0n ? BigInt(len) + endBig : endBig;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= BigInt(len)) end = BigInt(len) - 1n;
  if (start > end || len === 0) return bulk('');
  return bulk(e.value.slice(Number(start), Number(end) + 1));
}

const cmd = (name: string, arity: number, write: boolean, run: DataCommand['run']): DataCommand =>
  ({ name, arity, write, run });

export const stringCommands: readonly DataCommand[] = [
  cmd('get', 2, false, get),
  cmd('set', -3, true, set),
  cmd('setnx', 3, true, (ctx, argv) => setGeneric(ctx, argv, 'setnx', NX, argv[1]!, argv[2]!, null, int(1), int(0))),
  cmd('setex', 4, true, (ctx, argv) => setGeneric(ctx, argv, 'setex', EX, argv[1]!, argv[3]!, argv[2]!, OK, NIL)),
  cmd('psetex', 4, true, (ctx, argv) => setGeneric(ctx, argv, 'psetex', PX, argv[1]!, argv[3]!, argv[2]!, OK, NIL)),
  cmd('getset', 3, true, getset),
  cmd('getdel', 2, true, getdel),
  cmd('getex', -2, true, getex),
  cmd('mget', -2, false, mget),
  cmd('mset', -3, true, (ctx, argv) => msetGeneric(ctx, argv, false)),
  cmd('msetnx', -3, true, (ctx, argv) => msetGeneric(ctx, argv, true)),
  cmd('incr', 2, true, (ctx, argv) => incrDecr(ctx, argv, 1n)),
  cmd('decr', 2, true, (ctx, argv) => incrDecr(ctx, argv, -1n)),
  cmd('incrby', 3, true, (ctx, argv) => incrby(ctx, argv, 1n)),
  cmd('decrby', 3, true, (ctx, argv) => incrby(ctx, argv, -1n)),
  cmd('incrbyfloat', 3, true, incrbyfloat),
  cmd('append', 3, true, append),
  cmd('strlen', 2, false, strlen),
  cmd('setrange', 4, true, setrange),
  cmd('getrange', 4, false, getrange),
  cmd('substr', 4, false, getrange),
];
