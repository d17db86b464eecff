/**
 * Keyspace-wide commands of Redis 7.0 (db.c): DEL, UNLINK, EXISTS, TOUCH, TYPE, KEYS, DBSIZE,
 * FLUSHDB, FLUSHALL.
 *
 * Theory of operation. DEL/UNLINK run expireIfNeeded() on each key first, so on a master an
 * expired key yields its own `DEL key` and does not count as deleted; the command itself is
 * propagated as received only if it deleted something. FLUSHDB/FLUSHALL are always propagated
 * as received (forceCommandPropagation()), even on an empty dataset. KEYS hides logically expired
 * keys without deleting them (keyIsExpired(), not expireIfNeeded()); DBSIZE counts them.
 * Divergence: KEYS lists keys in insertion order, Redis in its hash table's order.
 * Simplification: UNLINK and FLUSH* ASYNC free memory synchronously (no lazyfree thread).
 */
import type { DataContext, DataCommand } from '../keyspace.ts';
import { OK, bulk, int, status, errSyntax } from '../reply.ts';
import type { Reply } from '../reply.ts';
import { lookup, isExpired } from './lookup.ts';
import { globMatch } from './glob.ts';

/** delGenericCommand(). */
function del(ctx: DataContext, argv: string[]): Reply {
  let deleted = 0;
  for (let j = 1; j < argv.length; j++) {
    const key = argv[j]!;
    // expireIfNeeded(): a master deletes (and propagates) an expired key here; a replica does not.
    if (ctx.view === 'master') lookup(ctx, key);
    if (ctx.ks.delete(ctx.db, key)) deleted++;
  }
  if (deleted > 0) ctx.propagate(argv);
  return int(deleted);
}

/** EXISTS and TOUCH: how many of the arguments exist (a repeated key counts each time). */
function exists(ctx: DataContext, argv: string[]): Reply {
  let count = 0;
  for (let j = 1; j < argv.length; j++) if (lookup(ctx, argv[j]!) !== undefined) count++;
  return int(count);
}

function type(ctx: DataContext, argv: string[]): Reply {
  return status(lookup(ctx, argv[1]!) === undefined ? 'none' : 'string');
}

function keys(ctx: DataContext, argv: string[]): Reply {
  const pattern = argv[1]!;
  const all = pattern === '*';
  const items: Reply[] = [];
  for (const [key, e] of ctx.ks.dbs[ctx.db]!) {
    if ((all || globMatch(pattern, key)) && !isExpired(e, ctx.nowMs)) items.push(bulk(key));
  }
  return { kind: 'array', items };
}

/** getFlushCommandFlags(): nothing, SYNC or ASYNC (any case); anything else is a syntax error. */
function flushArgsOk(argv: string[]): boolean {
  if (argv.length === 1) return true;
  if (argv.length !== 2) return false;
  const a = argv[1]!.toLowerCase();
  return a === 'sync' || a === 'async';
}

function flushdb(ctx: DataContext, argv: string[]): Reply {
  if (!flushArgsOk(argv)) return errSyntax;
  ctx.ks.flushDb(ctx.db);
  ctx.propagate(argv);
  return OK;
}

function flushall(ctx: DataContext, argv: string[]): Reply {
  if (!flushArgsOk(argv)) return errSyntax;
  ctx.ks.flushAll();
  ctx.propagate(argv);
  return OK;
}

const cmd = (name: string, arity: number, write: boolean, run: DataCommand['run']): DataCommand =>
  ({ name, arity, write, run });

export const genericCommands: readonly DataCommand[] = [
  cmd('del', -2, true, del),
  cmd('unlink', -2, true, del),
  cmd('exists', -2, false, exists),
  cmd('touch', -2, false, exists),
  cmd('type', 2, false, type),
  cmd('keys', 2, false, keys),
  cmd('dbsize', 1, false, (ctx) => int(ctx.ks.size(ctx.db))),
  cmd('flushdb', -1, true, flushdb),
  cmd('flushall', -1, true, flushall),
];
