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
import { STRING_LENGTH_MAX, errStringTooLong } from './commands/lookup.ts';
import { assert } from '../assert.ts';
import { COMMAND_TABLE } from './commands/table.ts';
import { rewriteConfig } from './config-rewrite.ts';
import {
  inPubsubContext, pubsubPingReply, subscribeCommand, psubscribeCommand, unsubscribeCommand, punsubscribeCommand,
  publishCommand, pubsubCommand, subscriptionCount,
} from './pubsub.ts';

// --------------------------------------------------------------------------------------------
// Server commands (the data commands live in commands.ts).

/** Arity and flags (write, stale, loading, ...) are the command table's (commands/table.ts). */
export interface ServerCommand {
  readonly arity: number;
  run(node: RedisNode, c: Client, argv: string[]): void;
}

function cmd(arity: number, run: ServerCommand['run']): ServerCommand {
  return { arity, run };
}

function parseIntArg(text: string): number | null {
  if (!/^-?\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

export const SERVER_COMMANDS = new Map<string, ServerCommand>([
  ['ping', cmd(-1, (n, c, argv) => {
    if (argv.length > 2) return n.addReply(c, errWrongArgs('ping'));
    if (inPubsubContext(c)) return n.addReply(c, pubsubPingReply(argv[1]));
    n.addReply(c, argv.length === 2 ? bulk(argv[1]!) : status('PONG'));
  })],
  ['echo', cmd(2, (n, c, argv) => n.addReply(c, bulk(argv[1]!)))],
  ['select', cmd(2, (n, c, argv) => {
    const db = parseIntArg(argv[1]!);
    if (db === null) return n.addReply(c, err('ERR value is not an integer or out of range'));
    // getIntFromObjectOrReply(): a long long outside int's range has its own message.
    if (db < -2147483648 || db > 2147483647) return n.addReply(c, err('ERR value is out of range, value must between -2147483648 and 2147483647'));
    if (db < 0 || db >= n.config.databases) return n.addReply(c, err('ERR DB index is out of range'));
    c.db = db;
    n.addReply(c, OK);
  })],
  ['info', cmd(-1, (n, c, argv) => n.addReply(c, bulk(infoCommand(n, argv.slice(1)))))],
  ['role', cmd(1, (n, c) => n.addReply(c, roleReply(n)))],
  ['config', cmd(-2, (n, c, argv) => configCommand(n, c, argv))],
  ['replicaof', cmd(3, (n, c, argv) => replica.replicaofCommand(n, c, argv))],
  ['slaveof', cmd(3, (n, c, argv) => replica.replicaofCommand(n, c, argv))],
  ['psync', cmd(-3, (n, c, argv) => master.syncCommand(n, c, argv))],
  ['sync', cmd(1, (n, c, argv) => master.syncCommand(n, c, argv))],
  ['replconf', cmd(-1, (n, c, argv) => master.replconfCommand(n, c, argv))],
  ['client', cmd(-2, (n, c, argv) => clientCommand(n, c, argv))],
  ['debug', cmd(-2, (n, c, argv) => debugCommand(n, c, argv))],
  ['shutdown', cmd(-1, (n, c, argv) => shutdownCommand(n, c, argv))],
  ['save', cmd(1, (n, c) => {
    if (n.child !== null) return n.addReply(c, err('ERR Background save already in progress'));
    n.statRdbSaves++; // saveCommand(); a SHUTDOWN's save is not counted
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
  ['subscribe', cmd(-2, subscribeCommand)],
  ['psubscribe', cmd(-2, psubscribeCommand)],
  ['unsubscribe', cmd(-1, unsubscribeCommand)],
  ['punsubscribe', cmd(-1, punsubscribeCommand)],
  ['publish', cmd(3, publishCommand)],
  ['pubsub', cmd(-2, pubsubCommand)],
  ['lastsave', cmd(1, (n, c) => n.addReply(c, int(n.lastSaveUnixSec)))],
  ['time', cmd(1, (n, c) => {
    const us = n.host.unixMs() * 1000;
    n.addReply(c, array([bulk(String(Math.floor(us / 1e6))), bulk(String(us % 1e6))]));
  })],
]);

// Every server command is in the command table with the same arity, and nothing else is.
for (const [name, c] of SERVER_COMMANDS) {
  const spec = COMMAND_TABLE.get(name);
  assert(spec !== undefined, `server command ${name} is missing from the command table`);
  assert(spec.arity === c.arity, `server command ${name}: arity ${c.arity} != the table's ${spec.arity}`);
}

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
      // config.c updateGoodSlaves(): setting either min-replicas option recounts at once.
      if (/^min-(replicas|slaves)-(to-write|max-lag)$/i.test(argv[i]!)) master.refreshGoodSlavesCount(n);
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
  if (sub === 'rewrite' && argv.length === 2) {
    rewriteConfig(n);
    return n.addReply(c, OK);
  }
  if (['get', 'set', 'resetstat', 'rewrite'].includes(sub)) return n.addReply(c, errWrongArgs(`config|${sub}`));
  n.addReply(c, err(`ERR unknown subcommand '${argv[1]}'. Try CONFIG HELP.`));
}

/** getClientType(): master, replica (slave), pubsub or normal. */
function clientType(o: Client): 'master' | 'replica' | 'pubsub' | 'normal' {
  if (o.isMaster) return 'master';
  if (o.replState !== null) return 'replica';
  if (subscriptionCount(o) > 0) return 'pubsub';
  return 'normal';
}

/** The client's address as CLIENT LIST and CLIENT KILL ADDR show it: the peer host and our socket number as its port. */
function clientAddr(o: Client): string {
  return `${o.peer}:${o.conn ?? 0}`;
}

/** CLIENT_NAME validation: printable ASCII without spaces (clientSetName). */
function validClientName(name: string): boolean {
  return /^[!-~]*$/.test(name);
}

/**
 * CLIENT ID | SETNAME | GETNAME | LIST | KILL (networking.c clientCommand). KILL has the old form
 * `CLIENT KILL ip:port` (OK or "No such client") and the filter form (ID, TYPE, ADDR, LADDR,
 * SKIPME; the number killed). The caller is skipped unless SKIPME no, which is why Sentinel's
 * reconfiguration transaction survives its own CLIENT KILL TYPE normal.
 */
function clientCommand(n: RedisNode, c: Client, argv: string[]): void {
  const sub = argv[1]!.toLowerCase();
  if (sub === 'id' && argv.length === 2) return n.addReply(c, int(c.id));
  if (sub === 'setname') {
    if (argv.length !== 3) return n.addReply(c, errWrongArgs('client|setname'));
    if (!validClientName(argv[2]!)) return n.addReply(c, err('ERR Client names cannot contain spaces, newlines or special characters.'));
    c.name = argv[2]!;
    return n.addReply(c, OK);
  }
  if (sub === 'getname') {
    if (argv.length !== 2) return n.addReply(c, errWrongArgs('client|getname'));
    return n.addReply(c, c.name === '' ? NIL : bulk(c.name));
  }
  if (sub === 'kill') return clientKill(n, c, argv);
  if (sub === 'list') {
    const lines = n.allClients().map((o) => clientInfoLine(n, o));
    return n.addReply(c, bulk(lines.join('\n') + (lines.length ? '\n' : '')));
  }
  if (sub === 'info' && argv.length === 2) return n.addReply(c, bulk(clientInfoLine(n, c) + '\n'));
  n.addReply(c, err(`ERR unknown subcommand '${argv[1]}'. Try CLIENT HELP.`));
}

/** One CLIENT LIST line with Redis 7.0's fields in order (memory figures are not modelled: 0). */
function clientInfoLine(n: RedisNode, o: Client): string {
  const flags = (o.isMaster ? 'M' : '') + (o.replState !== null ? 'S' : '') + (subscriptionCount(o) > 0 ? 'P' : '') +
    (o.multi !== null ? 'x' : '');
  return [
    `id=${o.id}`, `addr=${clientAddr(o)}`, `laddr=${n.name}:${n.config.port}`, `fd=${o.conn ?? -1}`, `name=${o.name}`,
    `age=${n.unixtime - o.ctimeSec}`, `idle=${n.unixtime - o.lastInteractionSec}`,
    `flags=${flags === '' ? 'N' : flags}`, `db=${o.db}`, `sub=${o.pubsubChannels?.size ?? 0}`,
    `psub=${o.pubsubPatterns?.size ?? 0}`, 'ssub=0', `multi=${o.multi === null ? -1 : o.multi.length}`,
    'qbuf=0', 'qbuf-free=0', 'argv-mem=0', 'multi-mem=0', 'rbs=0', 'rbp=0', `obl=0`, `oll=${o.out.length}`,
    `omem=${o.outBytes}`, 'tot-mem=0', 'events=r', `cmd=${o.lastCmd}`, 'user=default', 'redir=-1', 'resp=2',
  ].join(' ');
}

function clientKill(n: RedisNode, c: Client, argv: string[]): void {
  if (argv.length === 3) {
    // Old form: CLIENT KILL addr.
    const victim = n.allClients().find((o) => clientAddr(o) === argv[2]);
    if (victim === undefined) return n.addReply(c, err('ERR No such client'));
    killClient(n, c, victim);
    return n.addReply(c, OK);
  }
  if (argv.length < 4 || argv.length % 2 !== 0) return n.addReply(c, errSyntax);
  let id: number | null = null;
  let type: 'master' | 'replica' | 'pubsub' | 'normal' | null = null;
  let addr: string | null = null;
  let laddr: string | null = null;
  let skipme = true;
  for (let i = 2; i < argv.length; i += 2) {
    const opt = argv[i]!.toLowerCase();
    const val = argv[i + 1]!;
    if (opt === 'id') {
      const v = parseIntArg(val);
      if (v === null || v <= 0) return n.addReply(c, err('ERR client-id should be greater than 0'));
      id = v;
    } else if (opt === 'type') {
      const t = val.toLowerCase();
      if (t === 'slave' || t === 'replica') type = 'replica';
      else if (t === 'normal' || t === 'master' || t === 'pubsub') type = t;
      else return n.addReply(c, err(`ERR Unknown client type '${val}'`));
    } else if (opt === 'addr') addr = val;
    else if (opt === 'laddr') laddr = val;
    else if (opt === 'skipme') {
      const t = val.toLowerCase();
      if (t === 'yes') skipme = true;
      else if (t === 'no') skipme = false;
      else return n.addReply(c, errSyntax);
    } else if (opt === 'user') {
      if (val !== 'default') return n.addReply(c, err(`ERR No such user '${val}'`));
    } else return n.addReply(c, errSyntax);
  }
  let killed = 0;
  for (const o of n.allClients()) {
    if (id !== null && o.id !== id) continue;
    if (type !== null && clientType(o) !== type) continue;
    if (addr !== null && clientAddr(o) !== addr) continue;
    if (laddr !== null && `${n.name}:${n.config.port}` !== laddr) continue;
    if (o === c && skipme) continue;
    killed++;
    killClient(n, c, o);
  }
  n.addReply(c, int(killed));
}

/** Killing ourselves closes after the reply (CLIENT_CLOSE_AFTER_REPLY); anyone else goes now. */
function killClient(n: RedisNode, c: Client, victim: Client): void {
  if (victim === c) c.closeAfterReply = true;
  else n.freeClient(victim, 'CLIENT KILL');
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
  // Divergence: Redis allocates any size; a JS string holds at most STRING_LENGTH_MAX bytes.
  if (size > STRING_LENGTH_MAX) return n.addReply(c, errStringTooLong);
  // A sized value is cut from a zero-filled scratch buffer: one flat string per key, where
  // `text + '\0'.repeat(..)` made a rope that every later read (RDB save, digest) flattened
  // into a second copy.
  const scratch = size === 0 ? null : Buffer.alloc(size);
  for (let j = 0; j < count; j++) {
    const key = `${prefix}:${j}`;
    if (n.ks.get(c.db, key) !== undefined) continue;
    const text = `value:${j}`;
    let value = text;
    if (scratch !== null) {
      const wrote = scratch.write(text, 0, 'latin1');
      value = scratch.toString('latin1', 0, size);
      scratch.fill(0, 0, wrote);
    }
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
    // prepareForShutdown(): server.shutdown_mstime = server.mstime + shutdown-timeout; serverCron checks it.
    n.shutdownPending = { save, deadlineMs: n.mstime + n.config.shutdownTimeoutSec * 1000 };
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

