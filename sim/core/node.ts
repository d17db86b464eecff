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
import { err, errWrongArgs } from './reply.ts';
import { encodeReply, RespProtocolError } from './resp.ts';
import { Keyspace } from './keyspace.ts';
import type { DataContext } from './keyspace.ts';
import { dataCommands, activeExpireCycle } from './commands.ts';
import { debugDigest } from './digest.ts';
import type { Backlog } from './backlog.ts';
import type { ReplState } from '../trace/events.ts';
import * as master from './master.ts';
import * as replica from './replica.ts';
import { updateFailoverStatus } from './failover.ts';
import type { FailoverState } from './failover.ts';
import type { BugName } from './bugs.ts';
import { loadRdbFromDisk } from './persist.ts';
import { feedAof, flushAof, aofCron, loadAof, rewriteAof } from './aof.ts';
import { SERVER_COMMANDS, TRANSACTION_COMMANDS, QUEUED, finishShutdown } from './server-commands.ts';
import { processClientsWaitingReplicas, sendGetack } from './wait.ts';
import { PubSub, pubsubClientFreed, pubsubContextError } from './pubsub.ts';
import { loadRewrittenConfig } from './config-rewrite.ts';

export const ZERO_REPLID = '0'.repeat(40);
const NO_BUGS: ReadonlySet<BugName> = new Set();

export class RedisNode {
  // --- Identity and data ---
  runId: string;
  ks = new Keyspace();
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
  replNoSlavesSinceUs: number;

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
  replTransferLastioUs = 0;
  replDownSinceUs = 0;
  /** The master stream's raw bytes not yet applied, so exactly the applied bytes are proxied. */
  readonly streamRaw = new ByteQueue();

  // --- Coordinated failover (failover.ts) ---
  failoverState: FailoverState = 'no-failover';
  failoverEndUs = 0;
  failoverForce = false;
  failoverTarget: { host: string; port: number } | null = null;
  /** Clients whose write waits for the failover to end (CLIENT_PAUSE_WRITE). */
  private readonly pausedWriters: Client[] = [];

  // --- AOF (aof.ts) ---
  aofOn = false;
  aofBuf: Buffer[] = [];
  aofSelectedDb = -1;
  aofLastFsyncUs = 0;

  /** SHUTDOWN waiting for lagging replicas (shutdownCommand), or null. */
  shutdownPending: { save: boolean; deadlineUs: number } | null = null;

  // --- Children (BGSAVE) ---
  child: {
    id: ChildId;
    target: 'disk' | 'sockets';
    rdb: Buffer;
    /** Sockets: the framed payload ($EOF:<mark>, RDB, mark), its readers, and how much was relayed. */
    payload: Buffer | null;
    targets: Client[];
    relayedBytes: number;
  } | null = null;
  rdbBgsaveInProgress = false;

  // --- Stats (INFO stats) ---
  statSyncFull = 0;
  statSyncPartialOk = 0;
  statSyncPartialErr = 0;
  statConnectionsReceived = 0;
  statCommandsProcessed = 0;
  statExpiredKeys = 0;
  statRejectedConn = 0;
  rdbLastLoadKeysExpired = 0;
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
  /** Clients with output to write in beforeSleep. */
  private readonly pendingWrite = new Set<Client>();
  cronloops = 0;
  replicationCronLoops = 0;
  readonly startUs: number;
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
    this.runId = host.randomHex(40);
    this.replid = host.randomHex(40); // initServer: a fresh replid on every process start.
    this.replNoSlavesSinceUs = this.startUs;
    this.lastSaveUnixSec = Math.floor(host.unixMs() / 1000);
  }

  /** Process start after construction: load persisted data, then follow `replicaof` (server.c loadDataFromDisk). */
  start(): void {
    // A config file that CONFIG REWRITE left on the disk is the startup config (config-rewrite.ts).
    loadRewrittenConfig(this);
    // With appendonly yes the AOF is the dataset when it exists, and it carries no history.
    if (!(this.config.appendonly && loadAof(this))) loadRdbFromDisk(this);
    if (this.config.appendonly) rewriteAof(this);
    if (this.config.replicaof) replica.startAsReplica(this, this.config.replicaof.host, this.config.replicaof.port);
  }

  get isReplica(): boolean {
    return this.masterhost !== null;
  }

  // ------------------------------------------------------------------------------------------
  // Inputs from the host.

  /** A peer connected to our listening port. */
  accepted(conn: ConnId, peer: string): void {
    if (this.exited) return;
    const c = new Client(this.nextClientId++, conn, null, peer, this.host.nowUs());
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
      replica.linkReceived(this, bytes);
      return;
    }
    const c = this.clientsByConn.get(conn);
    if (!c) return; // Data for a socket we already closed.
    c.lastInteractionUs = this.host.nowUs();
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
        if (c.replState !== null) c.replAckTimeUs = this.host.nowUs();
        continue;
      }
      this.processCommand(c, parsed.argv);
      if (this.exited) return;
    }
  }

  /** The peer closed or reset the socket. */
  closed(conn: ConnId, why: string): void {
    if (this.exited) return;
    if (this.link !== null && this.link.conn === conn) {
      replica.linkClosed(this, why);
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
      c = new Client(this.nextClientId++, null, clientId, 'local', this.host.nowUs());
      this.localClients.set(clientId, c);
    }
    c.lastInteractionUs = this.host.nowUs();
    c.pendingLocal.push(argv);
    this.processInputBuffer(c);
  }

  /** serverCron(), called `hz` times per second. */
  cron(): void {
    if (this.exited) return;
    const nowMs = this.host.unixMs();
    if (!this.isReplica && this.failoverState === 'no-failover' && this.activeExpireEnabled) {
      const expired = activeExpireCycle(this.ks, nowMs, (db, argv) => this.propagate(db, argv));
      this.statExpiredKeys += expired;
    }
    // run_with_period(1000): every hz loops, starting with the first; run_with_period(100)
    // while a FAILOVER is under way, so the handshake with the target progresses quickly.
    const period = Math.max(1, Math.round(this.config.hz / (this.failoverState !== 'no-failover' ? 10 : 1)));
    if (this.cronloops % period === 0) this.replicationCron();
    master.checkSavePoints(this);
    aofCron(this);
    this.cronloops++;
  }

  private replicationCron(): void {
    replica.replicaCron(this);
    master.masterCron(this);
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
    if (this.shutdownPending !== null) {
      // Every replica caught up, or shutdown-timeout passed: save and exit now.
      const p = this.shutdownPending;
      const caughtUp = this.replicas.every((r) => r.replAckOff === this.masterReplOffset); // isReadyToShutdown()
      if (caughtUp || this.host.nowUs() >= p.deadlineUs) {
        this.shutdownPending = null;
        finishShutdown(this, p.save);
        return;
      }
    }
    if (this.getackPending) {
      this.getackPending = false;
      if (!this.isReplica) sendGetack(this);
    }
    flushAof(this);
    if (this.toFree.length > 0) {
      for (const { c, why } of this.toFree.splice(0)) this.freeClient(c, why);
    }
    if (this.pendingWrite.size === 0) return;
    for (const c of this.pendingWrite) {
      if (c.closed || c.conn === null) continue;
      if (c.outBytes > 0 && !c.outputHeld) this.host.send(c.conn, c.takeOutput());
      if (c.closeAfterReply && c.outBytes === 0) this.freeClient(c, 'closed after reply', true);
    }
    this.pendingWrite.clear();
  }

  // ------------------------------------------------------------------------------------------
  // Output.

  addReply(c: Client, reply: Reply): void {
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
    this.pendingWrite.add(c);
  }

  /** Write directly on the socket, ahead of queued output (+FULLRESYNC, +CONTINUE, RDB payload). */
  writeDirect(c: Client, bytes: Uint8Array): void {
    if (c.closed || c.conn === null) return;
    this.host.send(c.conn, bytes);
  }

  /** Ask beforeSleep to look at this client (its output may have been released). */
  markPendingWrite(c: Client): void {
    this.pendingWrite.add(c);
  }

  /** freeClient(): close the socket and forget the client in every role it had. */
  freeClient(c: Client, why: string, closeSocket = true): void {
    if (c.closed) return;
    c.closed = true;
    if (c.conn !== null) {
      this.clientsByConn.delete(c.conn);
      if (closeSocket) this.host.close(c.conn);
    }
    this.pendingWrite.delete(c);
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
    const c = new Client(this.nextClientId++, conn, null, peer, this.host.nowUs());
    this.clientsByConn.set(conn, c);
    return c;
  }

  /** Every network client (for CLIENT KILL and INFO). */
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

  /** processCommand(): lookup, arity, the replica and stale-data gates, MULTI queueing, call(). */
  processCommand(c: Client, argv: string[]): void {
    this.statCommandsProcessed++;
    const name = argv[0]!.toLowerCase();
    const server = SERVER_COMMANDS.get(name);
    const data = server ? undefined : dataCommands.get(name);
    if (!server && !data) {
      const args = argv.slice(1, 21).map((a) => `'${a}' `).join('');
      return this.rejectCommand(c, err(`ERR unknown command '${argv[0]}', with args beginning with: ${args}`));
    }
    const arity = server ? server.arity : data!.arity;
    if ((arity > 0 && argv.length !== arity) || argv.length < -arity) return this.rejectCommand(c, errWrongArgs(name));
    c.lastCmd = name;
    const isWrite = server ? server.write : data!.write;
    // A read-only replica refuses writes from anyone but its master (server.c processCommand).
    if (isWrite && this.isReplica && this.config.replicaReadOnly && !c.isMaster) {
      return this.rejectCommand(c, err("READONLY You can't write against a read only replica."));
    }
    // A subscribed RESP2 client runs only the pub/sub commands, PING, QUIT and RESET.
    const ctxErr = c.pubsubChannels !== null || c.pubsubPatterns !== null ? pubsubContextError(c, name) : null;
    if (ctxErr !== null) return this.rejectCommand(c, ctxErr);
    // replica-serve-stale-data no: only a few commands run while the link is down.
    if (this.isReplica && this.replState !== 'connected' && !this.config.replicaServeStaleData && !c.isMaster &&
        (!server || !server.staleOk)) {
      return this.rejectCommand(c, err("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."));
    }
    // During a FAILOVER, client writes wait (pauseClients(..., CLIENT_PAUSE_WRITE)).
    if (isWrite && (this.failoverState !== 'no-failover' || this.shutdownPending !== null) && !c.isMaster && c.replState === null && c.multi === null) {
      c.postponed = argv;
      this.pausedWriters.push(c);
      return;
    }
    if (isWrite && !c.isMaster && master.minReplicasRefuse(this)) {
      return this.rejectCommand(c, err('NOREPLICAS Not enough good replicas to write.'));
    }
    // Inside MULTI every command but the transaction's own is queued (queueMultiCommand).
    if (c.multi !== null && !TRANSACTION_COMMANDS.has(name)) {
      c.multi.push(argv);
      return this.addReply(c, QUEUED);
    }
    this.call(c, argv);
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
  call(c: Client, argv: string[]): void {
    const name = argv[0]!.toLowerCase();
    const server = SERVER_COMMANDS.get(name);
    if (server) return server.run(this, c, argv);
    const data = dataCommands.get(name);
    assert(data !== undefined, `call: unknown command ${name}`);
    const ctx = this.dataCtx;
    ctx.ks = this.ks;
    ctx.db = c.db;
    ctx.nowMs = this.host.unixMs();
    ctx.view = !this.isReplica ? 'master' : c.isMaster ? 'replica-master-link' : 'replica-client';
    this.addReply(c, data.run(ctx, argv));
  }

  /**
   * One context and one effects list per node, reused by every data command: the hot path
   * allocates no closure per command.
   */
  private readonly effects: string[][] = [];
  private readonly effectsDb: number[] = [];
  private readonly dataCtx: DataContext = {
    ks: this.ks,
    db: 0,
    nowMs: 0,
    view: 'master',
    propagate: (argv: string[]) => {
      this.effects.push(argv);
      this.effectsDb.push(this.dataCtx.db);
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
    const effects = this.effects;
    if (effects.length === 0) return;
    this.dirty += effects.length;
    if (this.aofOn) for (let i = 0; i < effects.length; i++) feedAof(this, this.effectsDb[i]!, effects[i]!);
    if (!this.isReplica) {
      const wrap = effects.length > 1;
      if (wrap) master.feedCommand(this, this.effectsDb[0]!, ['MULTI']);
      for (let i = 0; i < effects.length; i++) master.feedCommand(this, this.effectsDb[i]!, effects[i]!);
      if (wrap) master.feedCommand(this, -1, ['EXEC']);
    }
    effects.length = 0;
    this.effectsDb.length = 0;
  }

  /** A full snapshot of the dataset as RDB bytes, with the replication aux fields (rdbPopulateSaveInfo). */
  snapshotRdb(): Buffer {
    return master.rdbSnapshot(this);
  }

  /** DEBUG DIGEST of the whole dataset. */
  digest(): string {
    return debugDigest(this.ks);
  }
}
