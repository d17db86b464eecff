/**
 * The command table: for every command psync-sim implements, its arity and its flags exactly as
 * Redis 7.0.15's command table gives them (`COMMAND INFO name`), subcommands included.
 *
 * Theory of operation. processCommand() (server.c) decides most of what a command may do before
 * it runs from these flags alone: `write` is refused by a read-only replica (-READONLY) and by a
 * master without enough good replicas (-NOREPLICAS); a command without `stale` is refused by a
 * replica whose link is down when replica-serve-stale-data is no (-MASTERDOWN); one without
 * `loading` is refused while the dataset loads (-LOADING); `no_async_loading` is refused during an
 * async load; `no_multi` is refused inside MULTI. The node's processCommand() reads this table
 * and nothing else for those decisions, in Redis's order. test/command-table.test.ts compares
 * every entry with a real 7.0.15 server's COMMAND INFO so the table cannot drift.
 * Flags are spelled as COMMAND INFO prints them (`may_replicate`, `no_async_loading`).
 * Container commands (CONFIG, CLIENT) have no flags of their own: lookupCommand() resolves
 * `config get` to the subcommand `config|get`, whose flags and arity apply.
 */
import { assert } from '../../assert.ts';

export type CommandFlag =
  | 'write' | 'readonly' | 'denyoom' | 'module' | 'admin' | 'pubsub' | 'noscript' | 'blocking'
  | 'loading' | 'stale' | 'skip_monitor' | 'skip_slowlog' | 'fast' | 'no_auth' | 'may_replicate'
  | 'sentinel' | 'only_sentinel' | 'no_mandatory_keys' | 'protected' | 'module_getkeys'
  | 'module_no_cluster' | 'no_async_loading' | 'no_multi' | 'movablekeys' | 'allow_busy';

/** Bits for the flags processCommand() branches on (the hot path tests bits, not strings). */
export const CMD_WRITE = 1 << 0;
export const CMD_READONLY = 1 << 1;
export const CMD_STALE = 1 << 2;
export const CMD_LOADING = 1 << 3;
export const CMD_NO_ASYNC_LOADING = 1 << 4;
export const CMD_NO_MULTI = 1 << 5;
export const CMD_MAY_REPLICATE = 1 << 6;
export const CMD_DENYOOM = 1 << 7;

const BITS: Partial<Record<CommandFlag, number>> = {
  write: CMD_WRITE, readonly: CMD_READONLY, stale: CMD_STALE, loading: CMD_LOADING,
  no_async_loading: CMD_NO_ASYNC_LOADING, no_multi: CMD_NO_MULTI, may_replicate: CMD_MAY_REPLICATE,
  denyoom: CMD_DENYOOM,
};

export interface CommandSpec {
  /** Lowercase full name: `get`, or `config|get` for a subcommand. */
  readonly fullname: string;
  /** Lowercase command name, argv[0]: `get`, `config` for `config|get` (so callers need not lowercase it again). */
  readonly name: string;
  /** Redis's convention: N = exactly N arguments including the name(s); -N = at least N. */
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  /** The flags above that processCommand() tests, as CMD_* bits. */
  readonly bits: number;
  /** A container command's subcommands by lowercase name; null for a plain command. */
  readonly subcommands: ReadonlyMap<string, CommandSpec> | null;
}

/**
 * Measured with `COMMAND INFO <name>` on redis-server 7.0.15 (Debian). Order: server commands,
 * then the data commands, then subcommands.
 */
const MEASURED: ReadonlyArray<readonly [string, number, string]> = [
  ['ping', -1, 'fast'],
  ['echo', 2, 'loading stale fast'],
  ['select', 2, 'loading stale fast'],
  ['info', -1, 'loading stale'],
  ['role', 1, 'noscript loading stale fast'],
  ['config', -2, ''],
  ['replicaof', 3, 'admin noscript stale no_async_loading'],
  ['slaveof', 3, 'admin noscript stale no_async_loading'],
  ['psync', -3, 'admin noscript no_async_loading no_multi'],
  ['sync', 1, 'admin noscript no_async_loading no_multi'],
  ['replconf', -1, 'admin noscript loading stale allow_busy'],
  ['client', -2, ''],
  ['debug', -2, 'admin noscript loading stale'],
  ['shutdown', -1, 'admin noscript loading stale no_multi allow_busy'],
  ['save', 1, 'admin noscript no_async_loading no_multi'],
  ['bgsave', -1, 'admin noscript no_async_loading'],
  ['multi', 1, 'noscript loading stale fast allow_busy'],
  ['exec', 1, 'noscript loading stale skip_slowlog'],
  ['discard', 1, 'noscript loading stale fast allow_busy'],
  ['failover', -1, 'admin noscript stale'],
  ['wait', 3, 'noscript'],
  ['lastsave', 1, 'loading stale fast'],
  ['time', 1, 'loading stale fast'],
  ['get', 2, 'readonly fast'],
  ['set', -3, 'write denyoom'],
  ['setnx', 3, 'write denyoom fast'],
  ['setex', 4, 'write denyoom'],
  ['psetex', 4, 'write denyoom'],
  ['getset', 3, 'write denyoom fast'],
  ['getdel', 2, 'write fast'],
  ['getex', -2, 'write fast'],
  ['mget', -2, 'readonly fast'],
  ['mset', -3, 'write denyoom'],
  ['msetnx', -3, 'write denyoom'],
  ['incr', 2, 'write denyoom fast'],
  ['decr', 2, 'write denyoom fast'],
  ['incrby', 3, 'write denyoom fast'],
  ['decrby', 3, 'write denyoom fast'],
  ['incrbyfloat', 3, 'write denyoom fast'],
  ['append', 3, 'write denyoom fast'],
  ['strlen', 2, 'readonly fast'],
  ['setrange', 4, 'write denyoom'],
  ['getrange', 4, 'readonly'],
  ['substr', 4, 'readonly'],
  ['expire', -3, 'write fast'],
  ['pexpire', -3, 'write fast'],
  ['expireat', -3, 'write fast'],
  ['pexpireat', -3, 'write fast'],
  ['ttl', 2, 'readonly fast'],
  ['pttl', 2, 'readonly fast'],
  ['expiretime', 2, 'readonly fast'],
  ['pexpiretime', 2, 'readonly fast'],
  ['persist', 2, 'write fast'],
  ['del', -2, 'write'],
  ['unlink', -2, 'write fast'],
  ['exists', -2, 'readonly fast'],
  ['touch', -2, 'readonly fast'],
  ['type', 2, 'readonly fast'],
  ['keys', 2, 'readonly'],
  ['dbsize', 1, 'readonly fast'],
  ['flushdb', -1, 'write'],
  ['flushall', -1, 'write'],
  ['config|get', -3, 'admin noscript loading stale'],
  ['config|set', -4, 'admin noscript loading stale'],
  ['config|resetstat', 2, 'admin noscript loading stale'],
  ['config|rewrite', 2, 'admin noscript loading stale'],
  ['client|id', 2, 'noscript loading stale'],
  ['client|setname', 3, 'noscript loading stale'],
  ['client|getname', 2, 'noscript loading stale'],
  ['client|kill', -3, 'admin noscript loading stale'],
  ['client|list', -2, 'admin noscript loading stale'],
  ['client|info', 2, 'noscript loading stale'],
  ['subscribe', -2, 'pubsub noscript loading stale'],
  ['psubscribe', -2, 'pubsub noscript loading stale'],
  ['unsubscribe', -1, 'pubsub noscript loading stale'],
  ['punsubscribe', -1, 'pubsub noscript loading stale'],
  ['publish', 3, 'pubsub loading stale fast'],
  ['pubsub', -2, ''],
  ['pubsub|channels', -2, 'pubsub loading stale'],
  ['pubsub|numsub', -2, 'pubsub loading stale'],
  ['pubsub|numpat', 2, 'pubsub loading stale'],
  ['pubsub|help', 2, 'loading stale'],
];

function buildTable(): ReadonlyMap<string, CommandSpec> {
  const subs = new Map<string, Map<string, CommandSpec>>();
  const specs: Array<[string, number, readonly CommandFlag[]]> = [];
  for (const [fullname, arity, text] of MEASURED) {
    assert(fullname === fullname.toLowerCase(), `command table: ${fullname} must be lowercase`);
    const flags = (text === '' ? [] : text.split(' ')) as CommandFlag[];
    specs.push([fullname, arity, flags]);
  }
  const make = (fullname: string, arity: number, flags: readonly CommandFlag[], sub: ReadonlyMap<string, CommandSpec> | null): CommandSpec => {
    let bits = 0;
    for (const f of flags) bits |= BITS[f] ?? 0;
    const bar = fullname.indexOf('|');
    return { fullname, name: bar < 0 ? fullname : fullname.slice(0, bar), arity, flags, bits, subcommands: sub };
  };
  for (const [fullname, arity, flags] of specs) {
    const bar = fullname.indexOf('|');
    if (bar < 0) continue;
    const parent = fullname.slice(0, bar);
    let m = subs.get(parent);
    if (m === undefined) subs.set(parent, (m = new Map()));
    m.set(fullname.slice(bar + 1), make(fullname, arity, flags, null));
  }
  const table = new Map<string, CommandSpec>();
  for (const [fullname, arity, flags] of specs) {
    if (fullname.includes('|')) continue;
    assert(!table.has(fullname), `command table: ${fullname} listed twice`);
    table.set(fullname, make(fullname, arity, flags, subs.get(fullname) ?? null));
  }
  for (const parent of subs.keys()) assert(table.has(parent), `command table: subcommands of unknown ${parent}`);
  return table;
}

/** Key: lowercase command name. */
export const COMMAND_TABLE: ReadonlyMap<string, CommandSpec> = buildTable();

/** Every entry, subcommands included (the drift test walks this). */
export function allCommandSpecs(): CommandSpec[] {
  const out: CommandSpec[] = [];
  for (const spec of COMMAND_TABLE.values()) {
    out.push(spec);
    if (spec.subcommands !== null) out.push(...spec.subcommands.values());
  }
  return out;
}

/** Plain commands (no subcommands) by every spelling met so far ("SET", "set"), up to a bound. */
const BY_SPELLING = new Map<string, CommandSpec>();
const BY_SPELLING_MAX = 1024;

/**
 * lookupCommand() + commandCheckExistence() + commandCheckArity() (server.c): the spec that
 * governs this argv, or the error Redis replies. A container with a subcommand argument resolves
 * to the subcommand; with none, to itself (whose arity then fails).
 */
export function lookupCommand(argv: readonly string[]): CommandSpec | string {
  const name = argv[0]!;
  // A plain command, by its name as the client spelled it: no lowercasing per command.
  const plain = BY_SPELLING.get(name);
  if (plain !== undefined) {
    if ((plain.arity > 0 && argv.length !== plain.arity) || argv.length < -plain.arity) {
      return `ERR wrong number of arguments for '${plain.fullname}' command`;
    }
    return plain;
  }
  let spec = COMMAND_TABLE.get(name.toLowerCase());
  if (spec !== undefined && spec.subcommands === null && BY_SPELLING.size < BY_SPELLING_MAX) BY_SPELLING.set(name, spec);
  if (spec === undefined) return unknownCommandError(argv);
  if (spec.subcommands !== null && argv.length >= 2) {
    const sub = spec.subcommands.get(argv[1]!.toLowerCase());
    if (sub === undefined) {
      return `ERR unknown subcommand '${noNewlines(argv[1]!.slice(0, 128))}'. Try ${name.toUpperCase()} HELP.`;
    }
    spec = sub;
  }
  if ((spec.arity > 0 && argv.length !== spec.arity) || argv.length < -spec.arity) {
    return `ERR wrong number of arguments for '${spec.fullname}' command`;
  }
  return spec;
}

/** commandCheckExistence(): the arguments are quoted until the list passes 128 characters. */
function unknownCommandError(argv: readonly string[]): string {
  let args = '';
  for (let i = 1; i < argv.length && args.length < 128; i++) args += `'${argv[i]!.slice(0, 128 - args.length)}' `;
  return noNewlines(`ERR unknown command '${argv[0]!.slice(0, 128)}', with args beginning with: ${args}`);
}

/** sdsmapchars(err, "\r\n", "  "): a user's argument must not break the protocol. */
function noNewlines(s: string): string {
  return s.replace(/[\r\n]/g, ' ');
}

/** EXEC only: some queued command lacks `stale` (c->mstate.cmd_inv_flags & CMD_STALE). */
export const EXEC_DENY_STALE = 1 << 29;
/** EXEC only: some queued command lacks `loading`. */
export const EXEC_DENY_LOADING = 1 << 30;

/**
 * The flags EXEC is judged by: its own, plus the union of what queueMultiCommand() recorded for
 * each queued command (cmd_flags) and the marks for flags some queued command lacks (cmd_inv_flags).
 */
export function execFlags(queued: readonly string[][], execBits: number): number {
  let flags = execBits;
  for (const argv of queued) {
    const spec = lookupCommand(argv);
    assert(typeof spec !== 'string', `execFlags: queued command ${argv[0]} did not resolve`);
    flags |= spec.bits & ~(CMD_STALE | CMD_LOADING);
    if ((spec.bits & CMD_STALE) === 0) flags |= EXEC_DENY_STALE;
    if ((spec.bits & CMD_LOADING) === 0) flags |= EXEC_DENY_LOADING;
  }
  return flags;
}
