/**
 * The server commands: what a Redis node does itself rather than to the keyspace (PING, SELECT,
 * INFO, CONFIG, ROLE, REPLICAOF, PSYNC/SYNC, REPLCONF, CLIENT, DEBUG, SHUTDOWN, MULTI/EXEC, WAIT,
 * FAILOVER, SAVE/BGSAVE). The data commands live in commands.ts; both are dispatched by
 * RedisNode.processCommand(). Replies and error texts are Redis 7.0's.
 */
import type { RedisNode } from './node.ts';
import type { Client } from './client.ts';
import { configGet, configSet } from './config.ts';
import type { Reply } from './reply.ts';
import { OK, err, errWrongArgs, errSyntax, status, bulk, int, array, NIL } from './reply.ts';
import * as master from './master.ts';
import * as replica from './replica.ts';
import { infoCommand, roleReply } from './info.ts';
import { failoverCommand } from './failover.ts';
import { saveRdbToDisk } from './persist.ts';
import { rewriteAof } from './aof.ts';
import { waitCommand } from './wait.ts';

// --------------------------------------------------------------------------------------------
// Server commands (the data commands live in commands.ts).

export interface ServerCommand {
  readonly arity: number;
  readonly write: boolean;
  /** Allowed while a replica's link is down and replica-serve-stale-data is no. */
  readonly staleOk: boolean;
  run(node: RedisNode, c: Client, argv: string[]): void;
}

function cmd(arity: number, run: ServerCommand['run'], write = false, staleOk = true): ServerCommand {
  return { arity, write, staleOk, run };
}

function parseIntArg(text: string): number | null {
  if (!/^-?\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

export const SERVER_COMMANDS = new Map<string, ServerCommand>([
  ['ping', cmd(-1, (n, c, argv) => {
    if (argv.length > 2) return n.addReply(c, errWrongArgs('ping'));
    n.addReply(c, argv.length === 2 ? bulk(argv[1]!) : status('PONG'));
  })],
  ['echo', cmd(2, (n, c, argv) => n.addReply(c, bulk(argv[1]!)))],
  ['select', cmd(2, (n, c, argv) => {
    const db = parseIntArg(argv[1]!);
    if (db === null) return n.addReply(c, err('ERR value is not an integer or out of range'));
    if (db < 0 || db >= n.config.databases) return n.addReply(c, err('ERR DB index is out of range'));
    c.db = db;
    n.addReply(c, OK);
  })],
  ['info', cmd(-1, (n, c, argv) => n.addReply(c, bulk(infoCommand(n, argv.slice(1)))))],
  ['role', cmd(1, (n, c) => n.addReply(c, roleReply(n)))],
  ['config', cmd(-2, (n, c, argv) => configCommand(n, c, argv))],
  ['replicaof', cmd(3, (n, c, argv) => replica.replicaofCommand(n, c, argv), false, true)],
  ['slaveof', cmd(3, (n, c, argv) => replica.replicaofCommand(n, c, argv), false, true)],
  ['psync', cmd(-3, (n, c, argv) => master.syncCommand(n, c, argv), false, false)],
  ['sync', cmd(1, (n, c, argv) => master.syncCommand(n, c, argv), false, false)],
  ['replconf', cmd(-1, (n, c, argv) => master.replconfCommand(n, c, argv))],
  ['client', cmd(-2, (n, c, argv) => clientCommand(n, c, argv))],
  ['debug', cmd(-2, (n, c, argv) => debugCommand(n, c, argv))],
  ['shutdown', cmd(-1, (n, c, argv) => shutdownCommand(n, c, argv))],
  ['save', cmd(1, (n, c) => {
    if (n.child !== null) return n.addReply(c, err('ERR Background save already in progress'));
    saveRdbToDisk(n);
    n.addReply(c, OK);
  })],
  ['bgsave', cmd(-1, (n, c) => master.bgsaveCommand(n, c))],
  ['multi', cmd(1, (n, c) => {
    if (c.multi !== null) return n.addReply(c, err('ERR MULTI calls can not be nested'));
    c.multi = [];
    c.multiDirty = false;
    n.addReply(c, OK);
  })],
  ['exec', cmd(1, (n, c) => execCommand(n, c))],
  ['discard', cmd(1, (n, c) => {
    if (c.multi === null) return n.addReply(c, err('ERR DISCARD without MULTI'));
    c.multi = null;
    c.multiDirty = false;
    n.addReply(c, OK);
  })],
  ['failover', cmd(-1, (n, c, argv) => failoverCommand(n, c, argv))],
  ['wait', cmd(3, (n, c, argv) => waitCommand(n, c, argv))],
  ['lastsave', cmd(1, (n, c) => n.addReply(c, int(n.lastSaveUnixSec)))],
  ['time', cmd(1, (n, c) => {
    const us = n.host.unixMs() * 1000;
    n.addReply(c, array([bulk(String(Math.floor(us / 1e6))), bulk(String(us % 1e6))]));
  })],
]);

/** MULTI, EXEC and DISCARD are never queued; neither are WATCH-family commands in Redis. */
export const TRANSACTION_COMMANDS: ReadonlySet<string> = new Set(['multi', 'exec', 'discard']);
export const QUEUED: Reply = status('QUEUED');

/** execCommand(): run the queued commands as one execution unit; one array reply. */
function execCommand(n: RedisNode, c: Client): void {
  if (c.multi === null) return n.addReply(c, err('ERR EXEC without MULTI'));
  const queued = c.multi;
  const dirty = c.multiDirty;
  c.multi = null;
  c.multiDirty = false;
  if (dirty) return n.addReply(c, err('EXECABORT Transaction discarded because of previous errors.'));
  const replies: Reply[] = [];
  c.replyCapture = replies;
  for (const argv of queued) n.call(c, argv);
  c.replyCapture = null;
  n.addReply(c, array(replies));
}

function configCommand(n: RedisNode, c: Client, argv: string[]): void {
  const sub = argv[1]!.toLowerCase();
  if (sub === 'get' && argv.length >= 3) {
    const items: Reply[] = [];
    const seen = new Set<string>();
    for (const pattern of argv.slice(2)) {
      for (const [k, v] of configGet(n.config, pattern)) {
        if (seen.has(k)) continue;
        seen.add(k);
        items.push(bulk(k), bulk(v));
      }
    }
    return n.addReply(c, array(items));
  }
  if (sub === 'set' && argv.length >= 4 && argv.length % 2 === 0) {
    for (let i = 2; i < argv.length; i += 2) {
      const before = n.config.replBacklogSizeBytes;
      const e = configSet(n.config, argv[i]!, argv[i + 1]!);
      if (e !== null) return n.addReply(c, err(e));
      if (n.config.replBacklogSizeBytes !== before) master.resizeBacklog(n);
      if (n.config.appendonly && !n.aofOn) rewriteAof(n);
      if (!n.config.appendonly) n.aofOn = false;
    }
    return n.addReply(c, OK);
  }
  if (sub === 'resetstat' && argv.length === 2) {
    n.statSyncFull = n.statSyncPartialOk = n.statSyncPartialErr = 0;
    n.statCommandsProcessed = n.statConnectionsReceived = n.statExpiredKeys = 0;
    return n.addReply(c, OK);
  }
  if (sub === 'rewrite' && argv.length === 2) return n.addReply(c, OK);
  if (['get', 'set', 'resetstat', 'rewrite'].includes(sub)) return n.addReply(c, errWrongArgs(`config|${sub}`));
  n.addReply(c, err(`ERR unknown subcommand '${argv[1]}'. Try CONFIG HELP.`));
}

/** CLIENT KILL TYPE normal|master|replica|slave, CLIENT ID, CLIENT LIST (subset), CLIENT SETNAME. */
function clientCommand(n: RedisNode, c: Client, argv: string[]): void {
  const sub = argv[1]!.toLowerCase();
  if (sub === 'id' && argv.length === 2) return n.addReply(c, int(c.id));
  if (sub === 'setname' && argv.length === 3) return n.addReply(c, OK);
  if (sub === 'getname' && argv.length === 2) return n.addReply(c, NIL);
  if (sub === 'kill') {
    if (argv.length === 3) return n.addReply(c, err('ERR No such client')); // ip:port form: no such client here.
    if (argv.length < 4 || argv.length % 2 !== 0) return n.addReply(c, errSyntax);
    let type: string | null = null;
    for (let i = 2; i < argv.length; i += 2) {
      const opt = argv[i]!.toLowerCase();
      if (opt !== 'type') return n.addReply(c, errSyntax);
      type = argv[i + 1]!.toLowerCase();
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(type)) {
        return n.addReply(c, err(`ERR Unknown client type '${argv[i + 1]}'`));
      }
    }
    let killed = 0;
    for (const other of n.allClients()) {
      const t = other.isMaster ? 'master' : other.replState !== null ? 'replica' : 'normal';
      const want = type === 'slave' ? 'replica' : type;
      if (t !== want) continue;
      killed++;
      n.freeClient(other, `CLIENT KILL TYPE ${type}`);
    }
    return n.addReply(c, int(killed));
  }
  if (sub === 'list') {
    const lines = n.allClients().map((o) => `id=${o.id} addr=${o.peer}:0 db=${o.db} flags=${o.isMaster ? 'M' : o.replState !== null ? 'S' : 'N'} cmd=NULL`);
    return n.addReply(c, bulk(lines.join('\n') + (lines.length ? '\n' : '')));
  }
  n.addReply(c, err(`ERR unknown subcommand '${argv[1]}'. Try CLIENT HELP.`));
}

function debugCommand(n: RedisNode, c: Client, argv: string[]): void {
  const sub = argv[1]!.toLowerCase();
  if (sub === 'sleep' && argv.length === 3) {
    const secs = Number(argv[2]);
    if (!Number.isFinite(secs) || secs < 0) return n.addReply(c, err('ERR value is not a valid float'));
    // debugCommand "sleep": the whole process blocks; the reply comes after it.
    n.host.sleep(Math.round(secs * 1e6));
    return n.addReply(c, OK);
  }
  if (sub === 'digest' && argv.length === 2) return n.addReply(c, status(n.digest()));
  if (sub === 'change-repl-id' && argv.length === 2) {
    master.changeReplicationId(n, 'DEBUG CHANGE-REPL-ID');
    master.clearReplicationId2(n);
    return n.addReply(c, OK);
  }
  if (sub === 'set-active-expire' && argv.length === 3) {
    n.activeExpireEnabled = argv[2] !== '0';
    return n.addReply(c, OK);
  }
  if (sub === 'populate' && argv.length >= 3 && argv.length <= 5) return debugPopulate(n, c, argv);
  n.addReply(c, err(`ERR unknown subcommand '${argv[1]}'. Try DEBUG HELP.`));
}

/** SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE]: save if asked or if save points exist, then exit. */
/**
 * DEBUG POPULATE count [prefix] [size]: keys prefix:0..count-1 with values "value:<j>" (or that
 * text in a zero-filled value of `size` bytes); existing keys are kept. Never propagated, as in
 * Redis: it is a way to make a master and its replicas differ on purpose.
 */
function debugPopulate(n: RedisNode, c: Client, argv: string[]): void {
  const count = parseIntArg(argv[2]!);
  if (count === null || count < 0) return n.addReply(c, err('ERR value is out of range, must be positive'));
  const prefix = argv[3] ?? 'key';
  const size = argv[4] !== undefined ? parseIntArg(argv[4]) : 0;
  if (size === null || size < 0) return n.addReply(c, err('ERR value is out of range, must be positive'));
  for (let j = 0; j < count; j++) {
    const key = `${prefix}:${j}`;
    if (n.ks.get(c.db, key) !== undefined) continue;
    const text = `value:${j}`;
    const value = size === 0 ? text : (text + '\0'.repeat(Math.max(0, size - text.length))).slice(0, size);
    n.ks.set(c.db, key, value, -1);
  }
  n.addReply(c, OK);
}

/**
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] (server.c shutdownCommand, 7.0): a master whose replicas lag first
 * pauses writes, sends REPLCONF GETACK * and waits up to shutdown-timeout seconds for them to
 * catch up (NOW skips the wait); then it saves (if asked, or if save points exist) and exits.
 */
function shutdownCommand(n: RedisNode, c: Client, argv: string[]): void {
  let save: boolean | null = null;
  let now = false;
  let abort = false;
  for (const a of argv.slice(1)) {
    const t = a.toLowerCase();
    if (t === 'nosave') save = false;
    else if (t === 'save') save = true;
    else if (t === 'now') now = true;
    else if (t === 'force') continue;
    else if (t === 'abort') abort = true;
    else return n.addReply(c, errSyntax);
  }
  if (abort) {
    if (argv.length !== 2 || n.shutdownPending === null) return n.addReply(c, err('ERR No shutdown in progress.'));
    n.shutdownPending = null;
    n.unpauseWriters();
    return n.addReply(c, OK);
  }
  if (save === null) save = n.config.save.length > 0;
  const lagging = !n.isReplica && n.replicas.some((r) => r.replAckOff !== n.masterReplOffset);
  if (!now && lagging && n.config.shutdownTimeoutSec > 0) {
    n.shutdownPending = { save, deadlineUs: n.host.nowUs() + n.config.shutdownTimeoutSec * 1e6 };
    n.getackPending = true;
    if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `SHUTDOWN waits up to ${n.config.shutdownTimeoutSec}s for lagging replicas` });
    return;
  }
  finishShutdown(n, save);
}

/** finishShutdown(): save if asked, then the process exits and the OS closes its sockets. */
export function finishShutdown(n: RedisNode, save: boolean): void {
  if (save) saveRdbToDisk(n);
  n.exited = true;
  n.host.exit();
}

