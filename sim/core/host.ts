/**
 * The Host: everything a node can do to the outside world (see "The core is sans-I/O" in docs/ARCHITECTURE.md).
 * The simulator's world implements it on virtual time and simulated TCP; sim/real implements it
 * on node:net and wall-clock timers; unit tests fake it with arrays. The core never reads a
 * clock, opens a socket or draws a random number by any other path.
 */
import type { Reply } from './reply.ts';
import type { TraceEvent } from '../trace/events.ts';
import type { FileContents } from './rdb-image.ts';

/** One end of a TCP connection, as the host numbers it (a file descriptor). */
export type ConnId = number;
/** A local client: the scenario's redis-cli session or a load generator; replies go to host.reply(). */
export type ClientId = number;
/** A forked child (BGSAVE) as the host numbers it. */
export type ChildId = number;

export type ChildTarget = 'disk' | 'sockets';

export interface Host {
  /** Microseconds since the run started (monotonic). */
  nowUs(): number;
  /** The node's unix clock in milliseconds (a fixed epoch plus virtual time in the simulator). */
  unixMs(): number;
  /** Seeded lowercase hex: replids, run ids, EOF marks. */
  randomHex(chars: number): string;

  /** Start a TCP connect; the host later calls node.connected(conn) or node.connectFailed(conn). */
  connect(host: string, port: number): ConnId;
  send(conn: ConnId, bytes: Uint8Array): void;
  /** Close our end; no further input for conn reaches the node. */
  close(conn: ConnId): void;

  /**
   * Fork a child that writes `sizeBytes` of RDB, to disk or to replica sockets. For sockets the
   * host calls node.childProgress(child, producedBytes) as the child produces the payload (the
   * parent relays it); node.childDone(child, ok) when the child would have exited.
   */
  fork(target: ChildTarget, sizeBytes: number): ChildId;
  /** Kill a running child (no childDone follows). */
  killChild(child: ChildId): void;

  /** Durable storage, named files (dump.rdb, appendonly.aof). Survives crash and restart. */
  /**
   * Replace a file durably (write a temp file, fsync, rename), as rdbSave() does. An RdbImage is
   * stored as it is; its bytes() are asked for only when the file is read.
   */
  writeFile(name: string, contents: FileContents): void;
  /** write(): append to the machine's page cache; a process crash keeps it, a power-off does not. */
  appendFile(name: string, bytes: Uint8Array): void;
  /** fsync(): what was appended is on the disk now. */
  fsyncFile(name: string): void;
  readFile(name: string): Uint8Array | null;

  /**
   * startLoading(): the node loads a dataset in its main thread: `diskBytes` read from its disk
   * (0 for a payload already in memory), `sizeBytes` parsed, `keys` keys. The host decides how
   * long that takes; meanwhile it holds the node's input (sockets, local clients) and delivers it
   * every loading-process-events-interval-bytes of progress, right after calling
   * node.loadingProgress(loadedBytes) (processEventsWhileBlocked()); at the end it calls
   * node.loadingDone() and delivers the rest.
   */
  startLoading(diskBytes: number, sizeBytes: number, keys: number): void;

  /** Reply to a local client (network clients get bytes via send()). */
  reply(client: ClientId, reply: Reply): void;
  /** DEBUG SLEEP: the process stops for durUs; input queues up meanwhile. */
  sleep(durUs: number): void;
  /** SHUTDOWN: the process exits now (after what it already sent). */
  exit(): void;

  /**
   * Optional observer of the node's history (the write ledger in sim/clients): a new replid, with
   * the offset up to which the old history is kept, and a full sync flushing the dataset. Called
   * rarely (never per command), and always, tracing or not, so losses can be explained.
   */
  history?(event: HistoryEvent): void;

  /** Whether trace() is listened to; the core skips building events when it is not. */
  readonly tracing: boolean;
  /**
   * Whether the replication stream is traced too (every propagated command with its offsets,
   * PINGs, REPLCONF ACK and GETACK: sim/core/stream-trace.ts). Only ever true when `tracing` is;
   * off (absent) by default, so the default trace and the hot path are untouched.
   */
  readonly traceStream?: boolean;
  /**
   * Whether every command a node reads from a network client is traced as a `command` event
   * (`--trace-level commands`): a sentinel's MULTI/SLAVEOF/.../EXEC, a client's writes, a
   * replica's handshake. Only ever true when `tracing` is; off (absent) by default.
   */
  readonly traceCommands?: boolean;
  trace(event: TraceEvent): void;
}

/**
 * A history event, for the ledger. `fork`: the node left history `fromReplid` at `offset` (bytes
 * 1..offset are shared) for `toReplid`; `promotion` is shiftReplicationId() (the old id kept as
 * replid2), `new-id` is changeReplicationId() (no replid2, but the dataset continues). `flush`:
 * a full sync is about to discard the dataset the node held as (`replid`, `offset`).
 */
export type HistoryEvent =
  | { kind: 'fork'; why: 'promotion' | 'new-id'; fromReplid: string; toReplid: string; offset: number }
  | { kind: 'flush'; replid: string; offset: number };
