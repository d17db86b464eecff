/**
 * The data commands (the keyspace side of Redis 7.0) and the active expire cycle.
 *
 * Theory of operation. Each DataCommand runs against a DataContext (keyspace, db, the node's
 * unix ms clock, who is asking) and returns its Reply; its effect on the replication stream goes
 * out through ctx.propagate(), in the exact form Redis 7.0.15 emits, because the byte lengths of
 * those commands are replication offsets. The node checks arity (errWrongArgs), the read-only and
 * stale-data gates, and wraps several effects of one command in MULTI/EXEC as
 * propagatePendingCommands() does. Server commands (PING, SELECT, INFO, ...) live in the node.
 *
 * Verified against redis-server 7.0.15 with a replica link that records the stream
 * (test/keyspace.test.ts, "real server" block). Command as sent → what a replica receives:
 *
 *   set k v                       → set k v                          (client's spelling kept)
 *   set k v nx | xx | keepttl     → set k v nx | ...                 (nothing if NX/XX aborts)
 *   set k v EX s | PX ms          → SET k v PXAT <now+ttl ms>
 *   set k v EXAT s | PXAT ms      → SET k v PXAT <abs ms>            (even if in the past)
 *   set k v GET [nx|xx]           → set k v [nx|xx]                  (every GET argument removed)
 *   set k v GET EX s              → SET k v PXAT <abs ms>
 *   setex k s v / psetex k ms v   → SET k v PXAT <abs ms>
 *   setnx k v                     → setnx k v                        (nothing if k exists)
 *   getset k v                    → SET k v
 *   getdel k                      → DEL k                            (nothing if k missing)
 *   getex k EX|PX|EXAT|PXAT t     → PEXPIREAT k <abs ms>
 *   getex k EXAT|PXAT <past>      → DEL k
 *   getex k PERSIST               → PERSIST k                        (nothing if no TTL)
 *   incr/decr/incrby/decrby k     → as sent
 *   incrbyfloat k f               → SET k <long double "%.17Lf", trimmed> KEEPTTL
 *   append, setrange, mset        → as sent (setrange with "" → nothing)
 *   msetnx                        → as sent, nothing if it returned 0
 *   del/unlink k1 k2              → as sent if >= 1 key was deleted, else nothing
 *   expire k s [flags]            → PEXPIREAT k <abs ms> [flags]     (same for pexpire, expireat)
 *   pexpireat k ms [flags]        → as sent
 *   expire k <past> / missing key → DEL k / nothing
 *   persist k                     → as sent if a TTL was removed
 *   flushdb / flushall [a]sync    → as sent, always (even when empty)
 *   (any read) of an expired key  → DEL k, before the command's own effect (MULTI/EXEC if both)
 * Nothing else here propagates: GET, MGET, STRLEN, GETRANGE, EXISTS, TTL, TYPE, KEYS, DBSIZE.
 */
import { assert } from '../assert.ts';
import type { DataCommand, Keyspace } from './keyspace.ts';
import { stringCommands } from './commands/strings.ts';
import { expireCommands } from './commands/expire.ts';
import { genericCommands } from './commands/generic.ts';
import { isExpired } from './commands/lookup.ts';
import { COMMAND_TABLE, CMD_WRITE } from './commands/table.ts';

export type { DataCommand, DataContext, ExpiryView } from './keyspace.ts';

function buildTable(): ReadonlyMap<string, DataCommand> {
  const table = new Map<string, DataCommand>();
  for (const c of [...stringCommands, ...expireCommands, ...genericCommands]) {
    assert(c.name === c.name.toLowerCase(), `command ${c.name}: names are lowercase`);
    assert(!table.has(c.name), `command ${c.name} defined twice`);
    assert(Number.isInteger(c.arity) && c.arity !== 0, `command ${c.name}: bad arity`);
    // The command table (commands/table.ts) decides the flag checks; the two must agree.
    const spec = COMMAND_TABLE.get(c.name);
    assert(spec !== undefined, `command ${c.name} is missing from the command table`);
    assert(spec.arity === c.arity, `command ${c.name}: arity ${c.arity} != the table's ${spec.arity}`);
    assert(c.write === ((spec.bits & CMD_WRITE) !== 0), `command ${c.name}: write flag disagrees with the table`);
    table.set(c.name, c);
  }
  return table;
}

/** Key: lowercase command name. */
export const dataCommands: ReadonlyMap<string, DataCommand> = buildTable();

/** ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP in expire.c. */
const KEYS_PER_LOOP = 20;
/** Redis repeats a database while more than this percentage of sampled keys were expired. */
const ACCEPTABLE_STALE_PERCENT = 10;
/** Bound on loops per database per call (Redis bounds by time: 25% of a cron period). */
const LOOPS_PER_DB_MAX = 16;

/**
 * activeExpireCycle() (expire.c), the slow cycle run from serverCron on a master: deletes expired
 * keys nobody reads, calling propagateDel(db, ['DEL', key]) for each (never wrapped in MULTI).
 * Returns the number of keys deleted.
 * Simplification: Redis samples random keys of the expires dict and stops on a time budget. We
 * walk each database's expiry index with a persistent cursor, KEYS_PER_LOOP keys per loop,
 * repeating while more than 10% of a loop's keys had expired, at most LOOPS_PER_DB_MAX loops per
 * database per call. Deterministic, bounded (16 dbs x 16 loops x 20 keys), and every expired key
 * is reached within a bounded number of calls.
 */
export function activeExpireCycle(ks: Keyspace, nowMs: number, propagateDel: (db: number, argv: string[]) => void): number {
  let expiredTotal = 0;
  for (let db = 0; db < ks.databases; db++) {
    if (ks.expiresCount(db) === 0) continue;
    for (let loop = 0; loop < LOOPS_PER_DB_MAX; loop++) {
      let sampled = 0;
      let expired = 0;
      let passDone = false;
      while (sampled < KEYS_PER_LOOP) {
        const key = ks.nextExpiryKey(db);
        if (key === null) {
          passDone = true;
          break;
        }
        sampled++;
        const e = ks.get(db, key);
        assert(e !== undefined && e.expireAtMs !== -1, 'activeExpireCycle: expiry index out of date');
        if (isExpired(e, nowMs)) {
          ks.delete(db, key);
          propagateDel(db, ['DEL', key]);
          expired++;
        }
      }
      expiredTotal += expired;
      if (passDone || expired * 100 <= sampled * ACCEPTABLE_STALE_PERCENT) break;
    }
  }
  return expiredTotal;
}
