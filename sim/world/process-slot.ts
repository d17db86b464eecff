/**
 * What a data node's machine (NodeSlot, world.ts) and a sentinel's (SentinelSlot,
 * sentinel-slot.ts) share: a process that is up, crashed or powered off, an `epoch` that makes a
 * dead process's timers harmless, and the event loop as the slot drives it. Every input runs as
 * one iteration through deliver(): the input, then afterInput() (beforeSleep() and the checks).
 * A frozen process (`pause`, i.e. SIGSTOP, or DEBUG SLEEP) queues its input in order and holds
 * its output; both go when it wakes, as a stopped redis-server's kernel buffers do.
 *
 * The two slots differ in small ways, kept as hooks: what the iteration ends with
 * (afterInput), what else a stop tears down (processDown/tornDown), whether a wake-up is traced
 * (resumed), where socket events go (deliverSocketEvent: a loading node holds them) and how a
 * local command enters (runCommand).
 */
import type { Rng } from '../engine/random.ts';
import type { SocketOwner, SocketId } from '../net/network.ts';
import type { ConnId, ClientId } from '../core/host.ts';
import type { Reply } from '../core/reply.ts';
import type { TraceEvent } from '../trace/events.ts';
import type { World } from './world.ts';

/**
 * A local client's callbacks in flight: cbs[head, tail) are pending (see ProcessSlot.replyTo).
 * The array keeps its capacity when the queue empties (no re-grown array per command).
 */
interface ReplyQueue {
  cbs: Array<((reply: Reply) => void) | undefined>;
  head: number;
  tail: number;
  since: number;
}

/** Every pending callback, the queues in the order they last became non-empty. */
function pendingReplies(queues: ReadonlyMap<ClientId, ReplyQueue>): Array<(reply: Reply) => void> {
  const live = [...queues.values()].filter((q) => q.head < q.tail).sort((a, b) => a.since - b.since);
  const out: Array<(reply: Reply) => void> = [];
  for (const q of live) for (let i = q.head; i < q.tail; i++) out.push(q.cbs[i]!);
  return out;
}

/** The node's unix clock starts at 2026-01-01T00:00:00Z (docs/ARCHITECTURE.md, "Determinism"). */
export const EPOCH_UNIX_MS = Date.UTC(2026, 0, 1); // determinism-ok: a constant, not a clock read

export type ProcessStatus = 'up' | 'crashed' | 'poweroff';

/** What a slot needs of its process (RedisNode or Sentinel): the inputs of one event loop. */
export interface SlotProcess {
  exited: boolean;
  beforeSleep(): void;
  accepted(conn: ConnId, peer: string): void;
  connected(conn: ConnId): void;
  connectFailed(conn: ConnId, why: string): void;
  received(conn: ConnId, bytes: Uint8Array): void;
  closed(conn: ConnId, why: string): void;
  localCommand(client: ClientId, argv: string[]): void;
}

export abstract class ProcessSlot<P extends SlotProcess> implements SocketOwner {
  /** The running process, or null while it is down. */
  protected proc: P | null = null;
  status: ProcessStatus = 'crashed';
  /** Bumped at every process start and stop; timers of an older process do nothing. */
  protected epoch = 0;
  private pausedUntilUs = -1;
  private pausedInput: Array<() => void> = [];
  /** Output made while the process is frozen (inside DEBUG SLEEP) leaves when it wakes. */
  private sleepingOutbox: Array<() => void> = [];
  /**
   * Per local client, the callbacks of its commands in flight, in order (replies come in order).
   * A queue is kept when it empties (most local commands are answered at once: no Map insert and
   * delete, no new array per command); `since` numbers the moment it last became non-empty, so a
   * crash still fails the queues in the order they filled, as when empty ones were dropped.
   */
  private readonly replyTo = new Map<ClientId, ReplyQueue>();
  private replyQueueSeq = 0;
  /** The queue of the client last looked up (a load sends and is answered by one client). */
  private lastReplyClient: ClientId = -1;
  private lastReplyQueue: ReplyQueue | undefined = undefined;

  constructor(
    readonly world: World,
    readonly name: string,
    protected readonly rng: Rng,
  ) {}

  /** The port a refused local client names (redis-cli's "Could not connect" line). */
  protected abstract readonly refusedPort: number;
  /** The end of an event-loop iteration for `p`: beforeSleep (writes), then the invariants. */
  protected abstract afterInput(p: P): void;
  /** A local command enters the running process `p` (its reply callback is already queued). */
  protected abstract runCommand(p: P, client: ClientId, argv: string[]): void;
  /** Before a stop: the process `p` is still there (its last history). */
  protected processDown(_p: P, _how: 'crash' | 'poweroff' | 'exit'): void {}
  /** During a stop, after the host went down: the slot's own timers and state. */
  protected abstract tornDown(how: 'crash' | 'poweroff' | 'exit'): void;
  /** The process wakes from a freeze, before its held output and input go. */
  protected resumed(): void {}
  /** Where socket events go; a loading node holds them instead (NodeSlot). */
  protected deliverSocketEvent(input: () => void): void {
    this.deliver(input);
  }

  get running(): boolean {
    return this.proc !== null;
  }

  get paused(): boolean {
    return this.pausedUntilUs >= 0;
  }

  // --- Process lifecycle ---------------------------------------------------------------------

  /** A new process: a fresh epoch, nothing frozen, the host reachable again. */
  protected beginStart(): void {
    this.epoch++;
    this.status = 'up';
    this.pausedUntilUs = -1;
    this.pausedInput = [];
    this.world.net.hostUp(this.name);
  }

  /** The process dies (crash, exit) or the machine stops (poweroff); the disk survives. */
  stop(how: 'crash' | 'poweroff' | 'exit'): void {
    const p = this.proc;
    if (p === null) return;
    this.processDown(p, how);
    p.exited = true;
    this.proc = null;
    this.epoch++;
    this.status = how === 'poweroff' ? 'poweroff' : 'crashed';
    if (how === 'poweroff') this.world.net.poweroffHost(this.name);
    else this.world.net.crashHost(this.name);
    this.tornDown(how);
    this.pausedUntilUs = -1;
    this.pausedInput = [];
    this.sleepingOutbox = [];
    // Local clients see their connection drop.
    const pending = pendingReplies(this.replyTo);
    this.replyTo.clear();
    this.lastReplyClient = -1;
    this.lastReplyQueue = undefined;
    for (const cb of pending) cb({ kind: 'error', text: 'ERR Server closed the connection' });
    this.world.trace({ kind: 'process', node: this.name, what: how });
  }

  /** `pause NAME DUR`: SIGSTOP for durUs; input queues up. */
  pause(durUs: number): void {
    if (this.proc === null) return;
    this.world.trace({ kind: 'process', node: this.name, what: 'pause' });
    this.freezeFor(durUs);
  }

  protected freezeFor(durUs: number): void {
    const until = this.world.engine.nowUs + durUs;
    if (until <= this.pausedUntilUs) return;
    this.pausedUntilUs = until;
    const epoch = this.epoch;
    this.world.engine.scheduleAt(until, () => {
      if (epoch !== this.epoch || this.pausedUntilUs !== until) return;
      this.resume();
    });
  }

  private resume(): void {
    this.pausedUntilUs = -1;
    this.resumed();
    const out = this.sleepingOutbox;
    this.sleepingOutbox = [];
    for (const f of out) f();
    const queued = this.pausedInput;
    this.pausedInput = [];
    for (let i = 0; i < queued.length; i++) {
      if (this.proc === null) return;
      this.deliver(queued[i]!);
      if (this.paused) {
        // Frozen again (a queued DEBUG SLEEP): the rest waits for the next wake-up.
        this.pausedInput.push(...queued.slice(i + 1));
        return;
      }
    }
  }

  /** One event-loop iteration: run the input, then afterInput (beforeSleep: writes). */
  deliver(input: () => void): void {
    const p = this.proc;
    if (p === null) return;
    if (this.paused) {
      this.pausedInput.push(input);
      return;
    }
    input();
    this.afterInput(p);
  }

  // --- Local clients -------------------------------------------------------------------------

  /** Send a command from a local client; `onReply` runs when the reply comes (maybe much later). */
  command(client: ClientId, argv: string[], onReply: (reply: Reply) => void): void {
    const p = this.proc;
    if (p === null) {
      onReply({ kind: 'error', text: `ERR Could not connect to Redis at ${this.name}:${this.refusedPort}: Connection refused` });
      return;
    }
    let queue = this.replyQueue(client);
    if (queue === undefined) {
      this.replyTo.set(client, (queue = { cbs: [], head: 0, tail: 0, since: 0 }));
      this.lastReplyClient = client;
      this.lastReplyQueue = queue;
    }
    if (queue.head === queue.tail) queue.since = this.replyQueueSeq++;
    if (queue.tail < queue.cbs.length) queue.cbs[queue.tail] = onReply;
    else queue.cbs.push(onReply);
    queue.tail++;
    this.runCommand(p, client, argv);
  }

  private replyQueue(client: ClientId): ReplyQueue | undefined {
    if (client === this.lastReplyClient) return this.lastReplyQueue;
    const queue = this.replyTo.get(client);
    if (queue !== undefined) {
      this.lastReplyClient = client;
      this.lastReplyQueue = queue;
    }
    return queue;
  }

  // --- Host (the part both Host and SentinelHost have) -----------------------------------------

  nowUs(): number {
    return this.world.engine.nowUs;
  }

  unixMs(): number {
    return EPOCH_UNIX_MS + Math.floor(this.world.engine.nowUs / 1000);
  }

  randomHex(chars: number): string {
    return this.rng.hex(chars);
  }

  /** connect() for a name that is no host: a socket id of our own, failing a moment later. */
  protected unresolved(host: string): ConnId {
    const conn = this.world.newUnresolvedSocket();
    const epoch = this.epoch;
    this.world.engine.schedule(1000, () => {
      const p = this.proc;
      if (epoch === this.epoch && p !== null) this.deliverSocketEvent(() => p.connectFailed(conn, `cannot resolve host '${host}'`));
    });
    return conn;
  }

  send(conn: ConnId, bytes: Uint8Array): void {
    if (conn < 0) return; // An unresolved host's socket: nowhere to send.
    if (this.paused) {
      this.sleepingOutbox.push(() => this.world.net.send(conn, bytes));
      return;
    }
    this.world.net.send(conn, bytes);
  }

  close(conn: ConnId): void {
    if (conn < 0) return; // An unresolved host's socket: nothing to close.
    if (this.paused) {
      this.sleepingOutbox.push(() => this.world.net.close(conn));
      return;
    }
    this.world.net.close(conn);
  }

  reply(client: ClientId, reply: Reply): void {
    if (this.paused) {
      this.sleepingOutbox.push(() => this.reply(client, reply));
      return;
    }
    const queue = this.replyQueue(client);
    if (queue === undefined || queue.head === queue.tail) return;
    const cb = queue.cbs[queue.head]!;
    queue.cbs[queue.head++] = undefined;
    if (queue.head === queue.tail) queue.head = queue.tail = 0;
    cb(reply);
  }

  exit(): void {
    // Called from inside a command: finish this iteration first, then die like a crash.
    const epoch = this.epoch;
    this.world.engine.schedule(0, () => {
      if (epoch === this.epoch) this.stop('exit');
    });
  }

  get tracing(): boolean {
    return this.world.tracing;
  }

  trace(event: TraceEvent): void {
    this.world.trace(event);
  }

  // --- SocketOwner -----------------------------------------------------------------------------

  accepted(sock: SocketId, _listenPort: number, peerHost: string): void {
    const p = this.proc;
    if (p !== null) this.deliverSocketEvent(() => p.accepted(sock, peerHost));
  }

  connected(sock: SocketId): void {
    const p = this.proc;
    if (p !== null) this.deliverSocketEvent(() => p.connected(sock));
  }

  connectFailed(sock: SocketId, reason: 'refused'): void {
    const p = this.proc;
    if (p !== null) this.deliverSocketEvent(() => p.connectFailed(sock, reason === 'refused' ? 'connection refused' : reason));
  }

  data(sock: SocketId, bytes: Uint8Array): void {
    const p = this.proc;
    if (p !== null) this.deliverSocketEvent(() => p.received(sock, bytes));
  }

  closed(sock: SocketId, reason: 'eof' | 'reset'): void {
    const p = this.proc;
    // A paused node may still run a client's queued data for this socket (NodeSlot's clientConns keeps it).
    if (p !== null) this.deliverSocketEvent(() => p.closed(sock, reason === 'eof' ? 'connection closed by peer' : 'connection reset by peer'));
  }
}
