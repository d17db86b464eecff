/**
 * A sentinel's state (sentinel.c `struct sentinelState` and `sentinelRedisInstance`): one
 * Instance type for masters, replicas and other sentinels, as in Redis, with the per-kind
 * fields that only some of them use; the links with their four clocks; the failover states.
 * All times are the sentinel's wall clock in milliseconds (mstime()), as Redis keeps them, so
 * a frozen process or a clock step shows up as TILT.
 */
import type { ConnId } from './host.ts';
import { ReplyParser } from '../core/resp.ts';
import type { Reply } from '../core/reply.ts';

export type InstanceKind = 'master' | 'slave' | 'sentinel';

/** sentinelFailoverStateMachine states, by the names SENTINEL MASTER prints. */
export type FailoverState =
  | 'none' | 'wait_start' | 'select_slave' | 'send_slaveof_noone' | 'wait_promotion' | 'reconf_slaves' | 'update_config';

/** Defaults and fixed periods of sentinel.c 7.0 (milliseconds). */
export const SENTINEL_DEFAULT_PORT = 26379;
export const INFO_PERIOD_MS = 10_000;
export const PING_PERIOD_MS = 1000;
export const ASK_PERIOD_MS = 1000;
export const PUBLISH_PERIOD_MS = 2000;
export const DEFAULT_DOWN_AFTER_MS = 30_000;
export const DEFAULT_FAILOVER_TIMEOUT_MS = 180_000;
export const DEFAULT_PARALLEL_SYNCS = 1;
export const TILT_TRIGGER_MS = 2000;
export const TILT_PERIOD_MS = 30_000;
export const SLAVE_RECONF_TIMEOUT_MS = 10_000;
export const ELECTION_TIMEOUT_MS = 10_000;
export const MAX_PENDING_COMMANDS = 100;
export const MIN_LINK_RECONNECT_PERIOD_MS = 15_000;
export const HELLO_CHANNEL = '__sentinel__:hello';
/** How long a config flush (rewrite + fsync) stops the process; 8-30 ms measured on real disks. */
export const DEFAULT_FLUSH_LATENCY_US = 20_000;

/** One TCP connection of a link, with hiredis's reply callbacks in request order. */
export class LinkConn {
  readonly parser = new ReplyParser();
  /** One callback per command sent, in order (hiredis's reply queue); null = ignore the reply. */
  readonly callbacks: Array<((r: Reply) => void) | null> = [];
  /** Bytes asked to send before the connect completed (hiredis buffers them). */
  pendingOut: Uint8Array[] = [];
  connected = false;
  /** Pub/sub connection: replies after SUBSCRIBE are pushed messages. */
  subscribed = false;
  constructor(readonly sock: ConnId, readonly kind: 'cc' | 'pc') {}
}

/** instanceLink: the command (and pub/sub) connections to one instance and their clocks. */
export class InstanceLink {
  cc: LinkConn | null = null;
  pc: LinkConn | null = null;
  disconnected = true;
  pendingCommands = 0;
  ccConnTime = 0;
  pcConnTime = 0;
  pcLastActivity = 0;
  lastReconnTime = 0;
  actPingTime: number;
  lastPingTime = 0;
  lastPongTime: number;
  lastAvailTime: number;
  constructor(nowMs: number) {
    // createInstanceLink(): "pinged now", so an address that never answers goes SDOWN down-after later.
    this.actPingTime = nowMs;
    this.lastPongTime = nowMs;
    this.lastAvailTime = nowMs;
  }
}

export class Instance {
  readonly link: InstanceLink;
  runid: string | null = null;
  // --- Flags (SRI_*) ---
  sDown = false;
  oDown = false;
  disconnectedFlag = false;
  masterDown = false; // SRI_MASTER_DOWN: a peer told us the master is down
  failoverInProgress = false;
  promoted = false;
  reconfSent = false;
  reconfInprog = false;
  reconfDone = false;
  forceFailover = false;
  // --- Timers ---
  sDownSinceTime = 0;
  oDownSinceTime = 0;
  infoRefresh = 0;
  roleReported: 'master' | 'slave';
  roleReportedTime: number;
  lastPubTime = 0;
  lastHelloTime = 0;
  lastMasterDownReplyTime: number;
  // --- Master fields ---
  quorum = 1;
  downAfterMs = DEFAULT_DOWN_AFTER_MS;
  failoverTimeoutMs = DEFAULT_FAILOVER_TIMEOUT_MS;
  parallelSyncs = DEFAULT_PARALLEL_SYNCS;
  readonly slaves = new Map<string, Instance>(); // "ip:port"
  readonly sentinels = new Map<string, Instance>(); // by runid
  configEpoch = 0;
  /** The runid this sentinel voted for (as a master entry), or the vote a peer reported (as a sentinel entry). */
  leader: string | null = null;
  leaderEpoch = 0;
  failoverEpoch = 0;
  failoverState: FailoverState = 'none';
  failoverStateChangeTime = 0;
  failoverStartTime = 0;
  failoverDelayLogged = 0;
  promotedSlave: Instance | null = null;
  // --- Replica fields ---
  masterLinkDownTimeMs = 0;
  slavePriority = 100;
  slaveReplOffset = 0;
  slaveMasterHost: string | null = null;
  slaveMasterPort = 0;
  slaveMasterLinkUp = false;
  replicaAnnounced = true;
  slaveConfChangeTime: number;
  slaveReconfSentTime = 0;

  constructor(
    readonly kind: InstanceKind,
    /** Masters: the configured name; others: "ip:port" (Redis names replicas and sentinels by address). */
    readonly name: string,
    public host: string,
    public port: number,
    /** The master a replica or sentinel entry belongs to; null for masters. */
    readonly master: Instance | null,
    nowMs: number,
  ) {
    this.link = new InstanceLink(nowMs);
    this.roleReported = kind === 'slave' ? 'slave' : 'master';
    this.roleReportedTime = nowMs;
    this.lastMasterDownReplyTime = nowMs;
    this.slaveConfChangeTime = nowMs;
  }

  get addr(): string {
    return `${this.host}:${this.port}`;
  }

  /** The flags as SENTINEL MASTER / REPLICAS print them, in Redis's order. */
  flagsText(): string {
    const f: string[] = [];
    if (this.sDown) f.push('s_down');
    if (this.oDown) f.push('o_down');
    f.push(this.kind);
    if (this.link.disconnected) f.push('disconnected');
    if (this.masterDown) f.push('master_down');
    if (this.failoverInProgress) f.push('failover_in_progress');
    if (this.promoted) f.push('promoted');
    if (this.reconfSent) f.push('reconf_sent');
    if (this.reconfInprog) f.push('reconf_inprog');
    if (this.reconfDone) f.push('reconf_done');
    if (this.forceFailover) f.push('force_failover');
    return f.join(',');
  }

  /** sentinelEvent's "%@" details: `<type> <name> <ip> <port>` plus ` @ <master> <ip> <port>` for non-masters. */
  details(): string {
    const own = `${this.kind} ${this.name} ${this.host} ${this.port}`;
    if (this.master === null) return own;
    return `${own} @ ${this.master.name} ${this.master.host} ${this.master.port}`;
  }
}
