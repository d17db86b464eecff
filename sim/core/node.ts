/**
 * A Redis node, sans-I/O: the server state, its clients, command dispatch and the cron.
 *
 * Theory of operation. The node is driven by calls from its Host's owner (the simulator's world
 * or the real-socket adapter): accepted/connected/connectFailed/received/closed for sockets,
 * localCommand for the scenario's clients, cron() at `hz`, childDone() when a BGSAVE child exits,
 * and beforeSleep() after every batch of input (Redis writes pending output there). It acts only
 * through the Host. The replication roles live in their own files: master.ts (serving PSYNC and
 * feeding replicas) and replica.ts (the link to our master); info.ts renders INFO and ROLE.
 * The node never throws for bad input from a peer or a user: it replies with Redis's error.
 */
import { assert } from '../assert.ts';
import type { Host, ConnId, ClientId, ChildId } from './host.ts';
import type { Config } from './config.ts';
import { Client } from './client.ts';
import { ByteQueue } from './bytequeue.ts';
import type { Reply } from './reply.ts';
import { err } from './reply.ts';
import { encodeReply, RespProtocolError } from './resp.ts';
import { Keyspace } from './keyspace.ts';
import type { RdbImage } from './rdb-image.ts';
import type { DataContext } from './keyspace.ts';
import { dataCommands, activeExpireCycle } from './commands.ts';
import { debugDigest } from './digest.ts';
import type { Backlog } from './backlog.ts';
import type { ReplState } from '../trace/events.ts';
import { COMMAND_ARG_CHARS_MAX } from '../trace/events.ts';
import * as master from './master.ts';
import * as replica from './replica.ts';
import { updateFailoverStatus } from './failover.ts';
import type { FailoverState } from './failover.ts';
import type { BugName } from './bugs.ts';
import { loadRdbFromDisk } from './persist.ts';
import type { LoadedFile } from './persist.ts';
import { startLoading, loadingProgress, loadingDone } from './loading.ts';
import type { LoadingState, LoadingSource } from './loading.ts';
import { feedAof, flushAof, loadAof, rewriteAof } from './aof.ts';
import { SERVER_COMMANDS, TRANSACTION_COMMANDS, QUEUED, finishShutdown } from './server-commands.ts';
import {
  lookupCommand, execFlags, CMD_WRITE, CMD_READONLY, CMD_STALE, CMD_LOADING, CMD_NO_ASYNC_LOADING,
  CMD_NO_MULTI, CMD_MAY_REPLICATE, EXEC_DENY_STALE, EXEC_DENY_LOADING,
} from './commands/table.ts';
import { processClientsWaitingReplicas, sendGetack } from './wait.ts';
import { PubSub, pubsubClientFreed, pubsubContextError } from './pubsub.ts';
import { loadRewrittenConfig } from './config-rewrite.ts';
import { streamArgs } from './stream-trace.ts';

export const ZERO_REPLID = '0'.repeat(40);

/**
 * server.h run_with_period(ms): true on the cron loops where a task of period `ms` runs. With the
 * integer division of C: every loop when the period is at most one tick (1000/hz ms), else every
 * (ms / (1000/hz))-th loop, starting with loop 0.
 */
export function runWithPeriod(hz: number, cronloops: number, ms: number): boolean {
  const tickMs = Math.floor(1000 / hz);
  return ms <= tickMs || cronloops % Math.floor(ms / tickMs) === 0;
}

/** A forked child writing an RDB (to disk, or to replicas' sockets). */
export interface ChildState {
  id: ChildId;
  target: 'disk' | 'sockets';
  /** The file: a disk child's is produced only when read (rdb-image.ts). */
  rdb: RdbImage;
  /** Sockets: the framed payload ($EOF:<mark>, RDB, mark), its readers, and how much was relayed. */
  payload: Buffer | null;
  targets: Client[];
  relayedBytes: number;
}
const NO_BUGS: ReadonlySet<BugName> = new Set();

export class RedisNode {
  // --- Identity and data ---
  runId: string;
  ks: Keyspace;
  /** Writes since the last save (server.dirty). */
  dirty = 0;
  lastSaveUnixSec: number;

  // --- Replication state shared by both roles (server.h: replid, replid2, master_repl_offset, second_replid_offset) ---
  replid: string;
  replid2 = ZERO_REPLID;
  masterReplOffset = 0;
  secondReplidOffset = -1;
  backlog: Backlog | null = null;
  /** DB last named by SELECT in the outgoing stream; -1 forces a SELECT. */
  slaveseldb = -1;
  /** Replica clients attached to us, in attach order (server.slaves). */
  readonly replicas: Client[] = [];
  /** server.repl_no_slaves_since (unix seconds): when the last replica went away, for repl-backlog-ttl. */
  replNoSlavesSinceSec: number;
  /**
   * server.repl_good_slaves_count: replicas whose last ACK is at most min-replicas-max-lag
   * seconds old, as counted by refreshGoodSlavesCount() (master.ts). It is a cached figure:
   * commands and INFO read it, and it changes only when it is refreshed.
   */
  replGoodSlavesCount = 0;

  // --- Replica role (replica.ts) ---
  masterhost: string | null = null;
  masterport = 0;
  replState: ReplState = 'none';
  /** The live master client (CONNECTED), or null. */
  master: Client | null = null;
  /** A disconnected master kept only to PSYNC later (replicationCacheMaster). */
  cachedMaster: { replid: string; reploff: number; db: number } | null = null;
  /** Link-in-progress state: the socket and the handshake reader. */
  link: replica.LinkInProgress | null = null;
  masterReplidScratch = '';
  masterInitialOffset = -1;
  /** server.repl_transfer_lastio: server.unixtime of the link's last I/O while connecting or loading. */
  replTransferLastioSec = 0;
  /** server.repl_down_since: server.unixtime when the link to the master was lost (0 = never up). */
  replDownSinceSec = 0;
  /** The master stream's raw bytes not yet applied, so exactly the applied bytes are proxied. */
  readonly streamRaw = new ByteQueue();

  // --- Coordinated failover (failover.ts) ---
  failoverState: FailoverState = 'no-failover';
  /** server.failover_end_time: unix ms, 0 = no TIMEOUT. */
  failoverEndMs = 0;
  failoverForce = false;
  failoverTarget: { host: string; port: number } | null = null;
  /** Clients whose write waits for the failover to end (CLIENT_PAUSE_WRITE). */
  private readonly pausedWriters: Client[] = [];

  // --- AOF (aof.ts) ---
  aofOn = false;
  aofBuf: Buffer[] = [];
  aofSelectedDb = -1;
  /** server.aof_last_fsync (unix seconds) and whether written bytes await an fsync. */
  aofLastFsyncSec = 0;
  aofUnsynced = false;

  /** Loading a dataset (boot RDB/AOF, or a full sync's RDB), or null (loading.ts). */
  loading: LoadingState | null = null;
  /** What the master link brought while its RDB loaded: bytes, or a close reason (string). */
  readonly linkHeldDuringLoad: Array<Uint8Array | string> = [];

  /** SHUTDOWN waiting for lagging replicas (shutdownCommand), or null. */
  shutdownPending: { save: boolean; deadlineMs: number } | null = null;

  // --- Children (BGSAVE) ---
  private childState: ChildState | null = null;
  rdbBgsaveInProgress = false;
  /** When the running child was forked (server.rdb_save_time_start, whole seconds). */
  childStartUnixSec = -1;
  /** Seconds the last child ran (server.rdb_save_time_last); -1 before the first. */
  rdbSaveTimeLastSec = -1;

  /**
   * The running BGSAVE child. Every fork in master.ts goes through this assignment, so it is
   * where redisFork() and rdbSaveBackground() count: total_forks for every child, rdb_saves for
   * a disk child (a diskless sync's socket child is not an rdb save), and the save's duration
   * as backgroundSaveDoneHandler() measures it, in whole seconds of time(NULL).
   */
  get child(): ChildState | null {
    return this.childState;
  }
  set child(c: ChildState | null) {
    const nowSec = Math.floor(this.host.unixMs() / 1000);
    if (c !== null && this.childState === null) {
      this.statTotalForks++;
      if (c.target === 'disk') this.statRdbSaves++;
      this.childStartUnixSec = nowSec;
    } else if (c === null && this.childState !== null) {
      this.rdbSaveTimeLastSec = nowSec - this.childStartUnixSec;
      this.childStartUnixSec = -1;
    }
    this.childState = c;
  }

  // --- Stats (INFO stats) ---
  statSyncFull = 0;
  statSyncPartialOk = 0;
  statSyncPartialErr = 0;
  statConnectionsReceived = 0;
  statCommandsProcessed = 0;
  statExpiredKeys = 0;
  statRejectedConn = 0;
  /** Children forked (stat_total_forks) and RDB saves started, BGSAVE or SAVE (stat_rdb_saves). */
  statTotalForks = 0;
  /** Error replies sent (stat_total_error_replies). */
  statTotalErrorReplies = 0;
  statRdbSaves = 0;
  rdbLastLoadKeysExpired = 0;
  rdbLastLoadKeysLoaded = 0;
  /** Full syncs loaded by this process (a new starting point for its offset). */
  fullSyncLoads = 0;
  /** The last PSYNC this node accepted, for the history-agreement check (sim/check). */
  lastPsyncAccepted: { peer: string; replid: string; offset: number } | null = null;
  /** DEBUG SET-ACTIVE-EXPIRE 0 turns the active expire cycle off (tests use it). */
  activeExpireEnabled = true;
  /** Channel and pattern subscriptions (pubsub.ts). */
  readonly pubsub = new PubSub();

  // --- Clients ---
  private nextClientId = 1;
  readonly clientsByConn = new Map<ConnId, Client>();
  private readonly localClients = new Map<ClientId, Client>();
  /**
   * Clients with output to write in beforeSleep (server.clients_pending_write), in the order they
   * were first queued: pendingWrite[0, pendingWriteCount), and Client.pendingWriteQueued keeps
   * each in once. Not a Set: Set.clear() allocates a new table at every beforeSleep; and the
   * array keeps its capacity. A freed client stays listed until then and is skipped (it is closed).
   */
  private readonly pendingWrite: (Client | null)[] = [];
  private pendingWriteCount = 0;
  cronloops = 0;
  replicationCronLoops = 0;
  readonly startUs: number;
  /** server.stat_starttime: time(NULL) when the process started. */
  readonly startUnixSec: number;
  /**
   * server.mstime, the cached clock (updateCachedTimeWithUs() in server.c): refreshed at the top
   * of every serverCron() and when call() runs a command, and read instead of the real clock by
   * most of the replication code. Between two refreshes it lags behind: a socket read handled
   * 90 ms after the last cron tick stamps the time of that tick.
   */
  mstime: number;
  /** Set by SHUTDOWN: no more input is processed. */
  exited = false;

  constructor(
    readonly name: string,
    readonly host: Host,
    readonly config: Config,
    /** Historical bugs switched back on (bugs.ts); empty for the correct core. */
    readonly bugs: ReadonlySet<BugName> = NO_BUGS,
  ) {
    this.startUs = host.nowUs();
    this.mstime = host.unixMs(); // initServerConfig(): updateCachedTime(1)
    this.startUnixSec = this.unixtime;
    this.ks = new Keyspace(config.databases);
    this.runId = host.randomHex(40);
    this.replid = host.randomHex(40); // initServer: a fresh replid on every process start.
    this.replNoSlavesSinceSec = this.unixtime; // initServer(): repl_no_slaves_since = time(NULL)
    this.lastSaveUnixSec = Math.floor(host.unixMs() / 1000);
  }

  /** Process start after construction: load persisted data, then follow `replicaof` (server.c loadDataFromDisk). */
  start(): void {
    // A config file that CONFIG REWRITE left on the disk is the startup config (config-rewrite.ts).
    loadRewrittenConfig(this);
    // With appendonly yes the AOF is the dataset when it exists, and it carries no history.
    let loaded: LoadedFile | null = null;
    let source: LoadingSource = 'rdb';
    const aofSizeBytes = this.config.appendonly ? this.host.readFile(this.config.appendfilename)?.length ?? 0 : 0;
    if (this.config.appendonly && loadAof(this)) {
      // Simplification: the AOF's parse cost is charged per resulting key, not per command.
      loaded = { sizeBytes: aofSizeBytes, keys: this.ks.totalKeys(), usedMem: 0 };
      source = 'aof';
    } else {
      loaded = loadRdbFromDisk(this);
    }
    if (this.exited) return; // the RDB was fatal (persist.ts exitIfTooManyDatabases)
    if (this.config.appendonly) rewriteAof(this);
    if (this.config.replicaof) replica.startAsReplica(this, this.config.replicaof.host, this.config.replicaof.port);
    // loadDataFromDisk() runs in the main thread with the listening socket open: clients connect
    // and get -LOADING until it ends; replicationCron (and so the link to a master) waits.
    if (loaded !== null) {
      startLoading(this, {
        source, async: false, diskBytes: loaded.sizeBytes, sizeBytes: loaded.sizeBytes,
        totalBytes: loaded.sizeBytes, rdbUsedMem: loaded.usedMem, keys: loaded.keys, finish: () => {},
      });
    }
  }

  /** The host: the load has read `loadedBytes` (every loading-process-events-interval-bytes). */
  loadingProgress(loadedBytes: number): void {
    if (this.exited) return;
    loadingProgress(this, loadedBytes);
  }

  /** The host: the load's time has passed (stopLoading()). */
  loadingDone(): void {
    if (this.exited) return;
    loadingDone(this);
  }

  /** server.unixtime: the cached clock in whole seconds (mstime / 1000). */
  get unixtime(): number {
    return Math.floor(this.mstime / 1000);
  }

  /** time(NULL): the real clock in whole seconds, which a few checks read instead of the cache. */
  timeNowSec(): number {
    return Math.floor(this.host.unixMs() / 1000);
  }

  /** updateCachedTime(): refresh server.mstime / server.unixtime from the host's clock. */
  updateCachedTime(): void {
    this.mstime = this.host.unixMs();
  }

  get isReplica(): boolean {
    return this.masterhost !== null;
  }

  // ------------------------------------------------------------------------------------------
  // Inputs from the host.

  /** A peer connected to our listening port. */
  accepted(conn: ConnId, peer: string): void {
    if (this.exited) return;
    const c = new Client(this.nextClientId++, conn, null, peer, this.unixtime);
    this.clientsByConn.set(conn, c);
    this.statConnectionsReceived++;
    if (this.host.tracing) this.host.trace({ kind: 'conn-open', node: this.name, peer, conn, dir: 'in' });
  }

  /** Our outgoing connect completed (only the master link connects out). */
  connected(conn: ConnId): void {
    if (this.exited) return;
    replica.linkConnected(this, conn);
  }

  connectFailed(conn: ConnId, why: string): void {
    if (this.exited) return;
    replica.linkConnectFailed(this, conn, why);
  }

  received(conn: ConnId, bytes: Uint8Array): void {
    if (this.exited) return;
    if (this.link !== null && this.link.conn === conn) {
      // Loading the master's RDB: the link has no read handler until the load ends.
      if (this.loading !== null) this.linkHeldDuringLoad.push(bytes);
      else replica.linkReceived(this, bytes);
      return;
    }
    const c = this.clientsByConn.get(conn);
    if (!c) return; // Data for a socket we already closed.
    // readQueryFromClient(): c->lastinteraction = server.unixtime, the cached clock.
    c.lastInteractionSec = this.unixtime;
    if (c.isMaster) {
      replica.masterStreamReceived(this, c, bytes);
      return;
    }
    c.parser!.feed(bytes);
    this.processInputBuffer(c);
  }

  /**
   * processInputBuffer(): run every complete command a client sent, unless it is blocked (WAIT):
   * then the rest waits in its buffer until it is unblocked, as in Redis.
   */
  processInputBuffer(c: Client): void {
    if (c.local !== null) {
      while (c.pendingLocal.length > 0 && !c.blocked && !this.exited) this.processCommand(c, c.pendingLocal.shift()!);
      return;
    }
    const parser = c.parser!;
    for (;;) {
      if (c.closed || c.closeAfterReply || c.blocked) return;
      let parsed;
      try {
        parsed = parser.next();
      } catch (e) {
        if (!(e instanceof RespProtocolError)) throw e;
        // processInputBuffer(): reply with the protocol error, then close.
        this.addReply(c, err(`ERR ${e.message}`));
        c.closeAfterReply = true;
        return;
      }
      if (parsed === null) return;
      if (parsed.argv.length === 0) {
        // An empty line from a replica refreshes its ACK time (processInlineBuffer).
        if (c.replState !== null) c.replAckTimeSec = this.unixtime;
        continue;
      }
      if (this.host.traceCommands === true) this.host.trace({ kind: 'command', node: this.name, client: c.peer, argv: streamArgs(parsed.argv, COMMAND_ARG_CHARS_MAX) });
      this.processCommand(c, parsed.argv);
      if (this.exited) return;
    }
  }

  /** The peer closed or reset the socket. */
  closed(conn: ConnId, why: string): void {
    if (this.exited) return;
    if (this.link !== null && this.link.conn === conn) {
      if (this.loading !== null) this.linkHeldDuringLoad.push(why);
      else replica.linkClosed(this, why);
      return;
    }
    const c = this.clientsByConn.get(conn);
    if (c) this.freeClient(c, why, false);
  }

  /** Run a command from a local client (the scenario's redis-cli or a load generator). */
  localCommand(clientId: ClientId, argv: string[]): void {
    if (this.exited) return;
    let c = this.localClients.get(clientId);
    if (!c) {
      c = new Client(this.nextClientId++, null, clientId, 'local', this.unixtime);
      this.localClients.set(clientId, c);
    }
    c.lastInteractionSec = this.unixtime;
    // Nothing waiting before it: run it now (processInputBuffer's loop, without the queue).
    if (c.pendingLocal.length === 0 && !c.blocked) {
      this.processCommand(c, argv);
      return;
    }
    c.pendingLocal.push(argv);
    this.processInputBuffer(c);
  }

  /**
   * serverCron(), called `hz` times per second (every 1000/hz ms), in its order: the cached
   * clock, a SHUTDOWN waiting for replicas, the active expire cycle (databasesCron), save
   * points, then replicationCron.
   */
  cron(): void {
    if (this.exited) return;
    this.updateCachedTime();
    // While loading, no timer event runs (whileBlockedCron() counts cron loops at the load's
    // progress steps instead: loading.ts loadingProgress).
    if (this.loading !== null) return;
    // A SHUTDOWN waiting for lagging replicas is finished here, and only here: when every
    // replica caught up (isReadyToShutdown) or shutdown-timeout passed (server.mstime).
    const p = this.shutdownPending;
    if (p !== null && (this.mstime >= p.deadlineMs || this.replicas.every((r) => r.replAckOff === this.masterReplOffset))) {
      this.shutdownPending = null;
      finishShutdown(this, p.save);
      return;
    }
    if (!this.isReplica && this.failoverState === 'no-failover' && this.activeExpireEnabled) {
      const expired = activeExpireCycle(this.ks, this.mstime, (db, argv) => this.propagate(db, argv));
      this.statExpiredKeys += expired;
    }
    master.checkSavePoints(this);
    // run_with_period(1000), or run_with_period(100) while a FAILOVER is under way so the
    // handshake with the target progresses quickly.
    if (runWithPeriod(this.config.hz, this.cronloops, this.failoverState !== 'no-failover' ? 100 : 1000)) this.replicationCron();
    this.cronloops++;
  }

  /** replicationCron() in replication.c, in its order; the role halves are in replica.ts and master.ts. */
  private replicationCron(): void {
    updateFailoverStatus(this);
    replica.replicaCron(this);
    master.masterCron(this);
    // Refresh the number of replicas with lag <= min-replicas-max-lag.
    master.refreshGoodSlavesCount(this);
    this.replicationCronLoops++;
  }

  childDone(child: ChildId, ok: boolean): void {
    if (this.exited) return;
    master.childDone(this, child, ok);
  }

  /** A socket BGSAVE child has produced `producedBytes` of its payload so far. */
  childProgress(child: ChildId, producedBytes: number): void {
    if (this.exited) return;
    master.childProgress(this, child, producedBytes);
  }

  /** Clients blocked in WAIT. */
  readonly waitingClients = new Set<Client>();
  /** A client blocked in WAIT during this iteration: send REPLCONF GETACK * (get_ack_from_slaves). */
  getackPending = false;
  /** Clients to free at the end of this iteration (freeClientAsync). */
  private readonly toFree: Array<{ c: Client; why: string }> = [];

  freeClientAsync(c: Client, why: string): void {
    if (!c.closed) this.toFree.push({ c, why });
  }

  /**
   * beforeSleep(): WAIT bookkeeping, GETACK, asynchronous frees, then write pending output
   * (handleClientsWithPendingWrites), in Redis's order.
   */
  beforeSleep(): void {
    if (this.waitingClients.size > 0) processClientsWaitingReplicas(this);
    if (this.failoverState === 'waiting-for-sync') updateFailoverStatus(this);
    if (this.getackPending) {
      this.getackPending = false;
      if (!this.isReplica) sendGetack(this);
    }
    flushAof(this);
    if (this.toFree.length > 0) {
      for (const { c, why } of this.toFree.splice(0)) this.freeClient(c, why);
    }
    if (this.pendingWriteCount > 0) {
      const pending = this.pendingWrite;
      // Clients queued while this runs are written too (the count is read at every step).
      for (let i = 0; i < this.pendingWriteCount; i++) {
        const c = pending[i]!;
        if (c.closed || c.conn === null) continue;
        if (c.outBytes > 0 && !c.outputHeld) this.host.send(c.conn, c.takeOutput());
        if (c.replBlock !== null && !c.outputHeld) master.writeReplicaOutput(this, c);
        if (c.closeAfterReply && c.outBytes === 0) this.freeClient(c, 'closed after reply', true);
      }
      for (let i = 0; i < this.pendingWriteCount; i++) {
        pending[i]!.pendingWriteQueued = false;
        pending[i] = null;
      }
      this.pendingWriteCount = 0;
    }
    master.trimBacklogBeforeSleep(this);
  }

  // ------------------------------------------------------------------------------------------
  // Output.

  addReply(c: Client, reply: Reply): void {
    if (reply.kind === 'error') this.statTotalErrorReplies++; // afterErrorReply()
    if (c.replyCapture !== null) {
      c.replyCapture.push(reply); // Inside EXEC: collected into one array reply.
      return;
    }
    if (c.local !== null) {
      this.host.reply(c.local, reply);
      return;
    }
    if (c.isMaster) return; // Replies to our master are suppressed (except REPLCONF ACK).
    this.queueBytes(c, encodeReply(reply));
  }

  /** Queue raw bytes for a network client, written at beforeSleep. */
  queueBytes(c: Client, bytes: Uint8Array): void {
    if (c.closed || c.conn === null) return;
    c.queue(bytes);
    this.markPendingWrite(c);
  }

  /** Write directly on the socket, ahead of queued output (+FULLRESYNC, +CONTINUE, RDB payload). */
  writeDirect(c: Client, bytes: Uint8Array): void {
    if (c.closed || c.conn === null) return;
    this.host.send(c.conn, bytes);
  }

  /** Ask beforeSleep to look at this client (its output may have been released). */
  markPendingWrite(c: Client): void {
    if (c.pendingWriteQueued) return;
    c.pendingWriteQueued = true;
    const i = this.pendingWriteCount++;
    if (i < this.pendingWrite.length) this.pendingWrite[i] = c;
    else this.pendingWrite.push(c);
  }

  /** freeClient(): close the socket and forget the client in every role it had. */
  freeClient(c: Client, why: string, closeSocket = true): void {
    if (c.closed) return;
    c.closed = true;
    if (c.conn !== null) {
      this.clientsByConn.delete(c.conn);
      if (closeSocket) this.host.close(c.conn);
    }
    if (c.blockedWait !== null) {
      c.blockedWait = null;
      this.waitingClients.delete(c);
    }
    if (c.isMaster) {
      replica.masterClientFreed(this, c, why);
      return;
    }
    if (c.pubsubChannels !== null || c.pubsubPatterns !== null) pubsubClientFreed(this, c);
    if (c.replState !== null) master.replicaClientFreed(this, c, why);
    else if (this.host.tracing && c.conn !== null) this.host.trace({ kind: 'conn-closed', node: this.name, peer: c.peer, conn: c.conn, why });
  }

  /** A client for a socket that is already open (the master link once its handshake is done). */
  createClient(conn: ConnId, peer: string): Client {
    const c = new Client(this.nextClientId++, conn, null, peer, this.unixtime);
    this.clientsByConn.set(conn, c);
    return c;
  }

  /** Every network client (for CLIENT KILL and INFO). */
  /** listLength(server.clients): network clients, replicas among them, and local (scenario) ones. */
  get clientCount(): number {
    return this.clientsByConn.size + this.localClients.size;
  }

  allClients(): Client[] {
    return [...this.clientsByConn.values()];
  }

  // ------------------------------------------------------------------------------------------
  // Replication stream (the master side feeds; replica.ts proxies).

  /** replicationFeedSlaves(): propagate one write executed in `db` (replicationFeedSlaves). */
  propagate(db: number, argv: readonly string[]): void {
    master.feedCommand(this, db, argv);
  }

  // ------------------------------------------------------------------------------------------
  // Commands.

  /**
   * processCommand() (server.c): lookup and arity, then the flag checks in Redis 7.0.15's order
   * (no_multi, NOREPLICAS, READONLY, MASTERDOWN, LOADING, async LOADING, a replica touching the
   * keyspace, the client pause), then MULTI queueing or call(). Every decision reads the command
   * table (commands/table.ts); EXEC is judged by the commands it queued, as Redis does with
   * c->mstate.cmd_flags / cmd_inv_flags.
   */
  processCommand(c: Client, argv: string[]): void {
    this.statCommandsProcessed++;
    const spec = lookupCommand(argv);
    if (typeof spec === 'string') return this.rejectCommand(c, err(spec));
    const name = spec.name; // argv[0] lowercased, once per command (lookupCommand did it)
    c.lastCmd = name;
    let flags = spec.bits;
    // EXEC carries the union of its queued commands' flags, and lacks STALE or LOADING if any
    // queued command lacks it.
    if (name === 'exec' && c.multi !== null) flags = execFlags(c.multi, flags);
    const isWrite = (flags & CMD_WRITE) !== 0;
    const obeyClient = c.isMaster; // mustObeyClient(): our master (there is no AOF client here).
    if (c.multi !== null && (spec.bits & CMD_NO_MULTI) !== 0) {
      return this.rejectCommand(c, err('ERR Command not allowed inside a transaction'));
    }
    // min-replicas-to-write: checkGoodReplicasStatus() (always fine on a replica).
    if (isWrite && master.minReplicasRefuse(this)) {
      return this.rejectCommand(c, err('NOREPLICAS Not enough good replicas to write.'));
    }
    // A read-only replica refuses writes from anyone but its master (server.c processCommand).
    if (this.isReplica && this.config.replicaReadOnly && !obeyClient && isWrite) {
      return this.rejectCommand(c, err("READONLY You can't write against a read only replica."));
    }
    // A subscribed RESP2 client runs only the pub/sub commands, PING, QUIT and RESET.
    const ctxErr = c.pubsubChannels !== null || c.pubsubPatterns !== null ? pubsubContextError(c, name) : null;
    if (ctxErr !== null) return this.rejectCommand(c, ctxErr);
    // replica-serve-stale-data no: only commands flagged `stale` run while the link is down.
    if (this.isReplica && this.replState !== 'connected' && !this.config.replicaServeStaleData &&
        ((flags & CMD_STALE) === 0 || (name === 'exec' && (flags & EXEC_DENY_STALE) !== 0))) {
      return this.rejectCommand(c, err("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."));
    }
    // Loading the dataset: only commands flagged `loading` run (an async load blocks fewer).
    const loading = this.loading;
    if (loading !== null && !loading.async &&
        ((flags & CMD_LOADING) === 0 || (name === 'exec' && (flags & EXEC_DENY_LOADING) !== 0))) {
      return this.rejectCommand(c, err('LOADING Redis is loading the dataset in memory'));
    }
    if (loading !== null && loading.async && (flags & CMD_NO_ASYNC_LOADING) !== 0) {
      return this.rejectCommand(c, err('LOADING Redis is loading the dataset in memory'));
    }
    // A replica's connection may not touch the keyspace (it would dodge the client pause).
    if (c.replState !== null && (flags & (CMD_WRITE | CMD_READONLY | CMD_MAY_REPLICATE)) !== 0) {
      return this.rejectCommand(c, err("ERR Replica can't interact with the keyspace"));
    }
    // During a FAILOVER or a SHUTDOWN's wait, commands that may replicate wait
    // (pauseClients(..., CLIENT_PAUSE_WRITE)); replicas are never paused.
    if ((flags & (CMD_WRITE | CMD_MAY_REPLICATE)) !== 0 && (this.failoverState !== 'no-failover' || this.shutdownPending !== null) &&
        !obeyClient && c.replState === null) {
      c.postponed = argv;
      this.pausedWriters.push(c);
      return;
    }
    // Inside MULTI every command but the transaction's own is queued (queueMultiCommand).
    if (c.multi !== null && !TRANSACTION_COMMANDS.has(name)) {
      c.multi.push(argv);
      return this.addReply(c, QUEUED);
    }
    this.call(c, argv, name);
    this.propagatePending();
    // Every command, reads included, moves the client's WAIT target (processCommand after call()).
    c.woff = this.masterReplOffset;
  }

  /** unpauseClients(PAUSE_DURING_FAILOVER): the postponed writes run now, in order. */
  unpauseWriters(): void {
    for (const c of this.pausedWriters.splice(0)) {
      const argv = c.postponed;
      c.postponed = null;
      if (argv === null || c.closed) continue;
      this.processCommand(c, argv);
      this.processInputBuffer(c);
    }
  }

  /** rejectCommand(): reply the error; inside MULTI it also dooms the transaction (EXECABORT). */
  private rejectCommand(c: Client, reply: Reply): void {
    if (c.multi !== null) c.multiDirty = true;
    this.addReply(c, reply);
  }

  /** call(): run one command; its effects wait in `effects` for propagatePending(). */
  call(c: Client, argv: string[], name: string = argv[0]!.toLowerCase()): void {
    // call(): the cached clock is refreshed before the command runs (once for a whole EXEC:
    // virtual time does not move inside one).
    this.updateCachedTime();
    const server = SERVER_COMMANDS.get(name);
    if (server) return server.run(this, c, argv);
    const data = dataCommands.get(name);
    if (data === undefined) assert(false, `call: unknown command ${name}`);
    const ctx = this.dataCtx;
    ctx.ks = this.ks;
    ctx.db = c.db;
    ctx.nowMs = this.mstime;
    ctx.view = !this.isReplica ? 'master' : c.isMaster ? 'replica-master-link' : 'replica-client';
    this.addReply(c, data.run(ctx, argv));
  }

  /**
   * One context and one effects list per node, reused by every data command: the hot path
   * allocates no closure per command.
   */
  // effects[0, effectsCount): the arrays keep their capacity between commands (`length = 0`
  // would drop it, and every command would grow them anew).
  private readonly effects: (string[] | null)[] = [];
  private readonly effectsDb: number[] = [];
  private effectsCount = 0;
  private readonly dataCtx: DataContext = {
    ks: null as unknown as Keyspace, // set per command (the node's keyspace can be replaced)
    db: 0,
    nowMs: 0,
    view: 'master',
    propagate: (argv: string[]) => {
      const i = this.effectsCount++;
      if (i < this.effects.length) {
        this.effects[i] = argv;
        this.effectsDb[i] = this.dataCtx.db;
      } else {
        this.effects.push(argv);
        this.effectsDb.push(this.dataCtx.db);
      }
    },
  };

  /**
   * propagatePendingCommands(): the effects of one execution unit (a command, or a whole EXEC)
   * go to the stream; more than one is wrapped in MULTI/EXEC. In 7.0.15 the MULTI carries the
   * first effect's DB, so a needed SELECT precedes it (later versions, where it
   * goes inside; the byte count is the same). A replica's own writes are never propagated: it
   * proxies its master's stream instead.
   */
  private propagatePending(): void {
    const count = this.effectsCount;
    if (count === 0) return;
    const effects = this.effects;
    this.effectsCount = 0;
    this.dirty += count;
    if (this.aofOn) for (let i = 0; i < count; i++) feedAof(this, this.effectsDb[i]!, effects[i]!);
    if (!this.isReplica) {
      const wrap = count > 1;
      if (wrap) master.feedCommand(this, this.effectsDb[0]!, ['MULTI']);
      for (let i = 0; i < count; i++) master.feedCommand(this, this.effectsDb[i]!, effects[i]!);
      if (wrap) master.feedCommand(this, -1, ['EXEC']);
    }
    for (let i = 0; i < count; i++) effects[i] = null;
  }

  /** A full snapshot of the dataset as RDB bytes, with the replication aux fields (rdbPopulateSaveInfo). */
  snapshotRdb(): Buffer {
    return master.rdbSnapshot(this);
  }

  /** The last digest, valid while the keyspace is the same object at the same version. */
  private digestMemo: { ks: Keyspace; version: number; hex: string } | null = null;

  /** DEBUG DIGEST of the whole dataset (remembered until the data changes: it has no clock in it). */
  digest(): string {
    const m = this.digestMemo;
    if (m !== null && m.ks === this.ks && m.version === this.ks.version) return m.hex;
    const hex = debugDigest(this.ks);
    this.digestMemo = { ks: this.ks, version: this.ks.version, hex };
    return hex;
  }
}
