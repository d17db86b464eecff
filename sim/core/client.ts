/**
 * A client connection as the node sees it (Redis's `client` struct, the replication subset).
 * One record serves every role a connection can take: a normal client, a replica attached to
 * us (replState set), or our own master link once the handshake is done (isMaster).
 *
 * Output is queued in `out` and written by the node's beforeSleep(), as Redis writes replies
 * in beforeSleep/handleClientsWithPendingWrites. A replica attached to us reads the replication
 * stream from the node's shared block list instead (replBlock, see backlog.ts); while it waits
 * for its RDB its position simply stays, holding those blocks.
 */
import type { ConnId, ClientId } from './host.ts';
import { CommandParser } from './resp.ts';
import type { Reply } from './reply.ts';
import type { ReplBlock, ReplBufReader } from './backlog.ts';

/** Master's view of a replica client (client.replstate, SLAVE_STATE_* in server.h). */
export type ReplicaState = 'wait_bgsave_start' | 'wait_bgsave_end' | 'send_bulk' | 'online';

export class Client implements ReplBufReader {
  /** Selected database (SELECT). */
  db = 0;
  readonly parser: CommandParser | null;
  /** Pending output, written at beforeSleep unless held. */
  out: Uint8Array[] = [];
  outBytes = 0;
  /** Listed in the node's pendingWrite for the next beforeSleep. */
  pendingWriteQueued = false;
  /** Set once the client is freed; late calls must not act on it. */
  closed = false;
  /** CLIENT_CLOSE_AFTER_REPLY. */
  closeAfterReply = false;
  /** The master's offset right after this client's last propagated write (WAIT). */
  woff = 0;
  /** c->lastinteraction: server.unixtime (the node's cached clock, seconds) of the last read. */
  lastInteractionSec: number;
  /** A local client's commands not yet run (it was blocked when they came). */
  pendingLocal: string[][] = [];
  /** MULTI: the queued commands, or null outside a transaction. */
  multi: string[][] | null = null;
  /** A queued command was rejected: EXEC will answer EXECABORT. */
  multiDirty = false;
  /** Inside EXEC: replies are collected here instead of being sent. */
  replyCapture: Reply[] | null = null;
  /** WAIT numreplicas timeout: blocked until enough replicas ACK `offset`, or the deadline. */
  blockedWait: { numreplicas: number; offset: number; deadlineMs: number } | null = null;
  /** A write postponed while the node fails over; it runs when the failover ends. */
  postponed: string[] | null = null;
  /** CLIENT SETNAME ('' = no name). */
  name = '';
  /** The last command's name (CLIENT LIST cmd=). */
  lastCmd = 'NULL';
  /** Pub/sub subscriptions (pubsub.ts); null until the first SUBSCRIBE / PSUBSCRIBE. */
  pubsubChannels: Set<string> | null = null;
  pubsubPatterns: Set<string> | null = null;

  /** Blocked clients run nothing else until unblocked; their later commands wait. */
  get blocked(): boolean {
    return this.blockedWait !== null || this.postponed !== null;
  }

  /** When the replica's output buffer first went over the soft limit, unix seconds (0 = it is not over). */
  obufSoftSinceSec = 0;
  /** c->ctime: server.unixtime when the client was created. */
  ctimeSec: number;

  // --- As a replica attached to us ---
  replState: ReplicaState | null = null;
  replAckOff = 0;
  /** c->repl_ack_time: server.unixtime of the last REPLCONF ACK (or of going online). */
  replAckTimeSec = 0;
  psyncInitialOffset = -1;
  /** master_repl_offset when this replica's PSYNC arrived (only the zoo's 292fec058 bug uses it). */
  psyncRequestOffset = -1;
  capaEof = false;
  capaPsync2 = false;
  listeningPort = 0;
  /** Diskless sync: stream starts only after the replica's first REPLCONF ACK (replconfCommand). */
  startStreamOnAck = false;
  /** Replica's RDB is going out over a socket child (diskless) rather than from disk. */
  disklessTarget = false;
  /** The shared replication buffer block this replica sends from, and how much of it is sent (ref_repl_buf_node, ref_block_pos). */
  replBlock: ReplBlock | null = null;
  replBlockPos = 0;

  // --- As our master link (on a replica) ---
  isMaster = false;
  /** The master sent bytes we could not parse: do not cache it (no PSYNC after this). */
  protocolError = false;
  /** Bytes read from the master socket (read_reploff) and applied (reploff). */
  readReploff = 0;
  reploff = 0;
  replid = '';
  /** Bytes executed but not yet counted in reploff: an open MULTI from the master. */
  unappliedBytes = 0;
  /** Commands in unappliedBytes (more than one inside a MULTI); for the stream trace. */
  unappliedCommands = 0;

  constructor(
    readonly id: number,
    /** The socket, or null for a local client. */
    readonly conn: ConnId | null,
    /** For local clients: the host's id to route replies. */
    readonly local: ClientId | null,
    /** Peer host name (node name), for INFO and traces. */
    readonly peer: string,
    /** The node's cached clock (server.unixtime) when the client is created. */
    unixtimeSec: number,
  ) {
    this.parser = conn !== null ? new CommandParser() : null;
    this.lastInteractionSec = unixtimeSec;
    this.ctimeSec = unixtimeSec;
  }

  queue(bytes: Uint8Array): void {
    this.out.push(bytes);
    this.outBytes += bytes.length;
  }

  /** Whether output may be written now: replicas waiting for their RDB hold the stream. */
  get outputHeld(): boolean {
    const s = this.replState;
    if (s === null) return false;
    return s === 'wait_bgsave_start' || s === 'wait_bgsave_end' || s === 'send_bulk' || this.startStreamOnAck;
  }

  takeOutput(): Uint8Array {
    const out = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    return out;
  }
}
