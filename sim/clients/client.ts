/**
 * An application client: a process on a host of its own on the simulated network, writing
 * `SET key value` over TCP to a data node and reading the replies with the RESP reply parser.
 *
 * Theory of operation (the client model, also in the README). The client is a blocking client
 * library, as redis-py or Jedis without pipelining: ONE write in flight at a time. Writes that a
 * load schedules while the client is busy wait in its queue, in order, and go out as soon as the
 * previous one is settled (so a stalled client falls behind and catches up later, as an
 * application thread would). For each write it:
 *   1. if it has no connection for the write's target, resolves the target (a pinned node resolves
 *      to itself; `@MASTERNAME` asks the sentinels in turn, sentinel-resolver.ts) and connects. A
 *      connect that is refused, or not established within `timeout`, fails the write (nothing was
 *      sent). A following client then sends `ROLE` and writes only if the node says `master`;
 *      otherwise it disconnects and the write fails (the next one resolves again).
 *   2. sends `SET key value` (after `SELECT db` when the load names a db), and waits up to
 *      `timeout` for the reply. +OK acknowledges it; an error reply (-READONLY, -NOREPLICAS) fails it.
 *   3. with `wait N T`, sends `WAIT N T` and waits up to T plus `timeout`: the write is acknowledged
 *      only if WAIT answers at least N, else its outcome is unknown (it is on the master, but not
 *      known to be on N replicas).
 * No reply within the timeout, or the connection closing while a write is in flight, makes the
 * write's outcome unknown (it may or may not have been applied); the client then closes the
 * connection and waits `retry` before it connects again. It never resends a write. A following
 * client also drops its connection on -READONLY, so every reconnect goes through the sentinels;
 * a connection that stays up is never re-resolved (as real clients behave).
 * A crashed or powered-off client settles its write in flight as unknown and fails every write
 * scheduled while it is down; a paused client freezes, its input and timers wait until it wakes.
 */
import { assert } from '../assert.ts';
import type { Timer } from '../engine/engine.ts';
import type { SocketId, SocketOwner } from '../net/network.ts';
import { ReplyParser, RespProtocolError, encodeCommand, formatReply } from '../core/resp.ts';
import type { Reply } from '../core/reply.ts';
import type { Ledger, LedgerEntry } from './ledger.ts';
import { SentinelResolver } from './sentinel-resolver.ts';

export const REDIS_PORT = 6379;

/** `client NAME timeout DUR retry DUR`. */
export interface ClientOptions {
  /** No reply (or no connection) within this: the write's outcome is unknown, the client reconnects. */
  readonly timeoutUs: number;
  /** Wait this long after a connection is lost or refused before connecting again. */
  readonly retryUs: number;
}
export const clientOptionsDefault: ClientOptions = { timeoutUs: 1_000_000, retryUs: 100_000 };

/** One write a load asks for. */
export interface WriteRequest {
  readonly entry: LedgerEntry;
  /** What the load names: a node (pinned) or `@MASTERNAME` (follow the sentinels). Resolved before every connect. */
  readonly target: string;
  /** `wait N T`: replicas and timeout in ms, or null. */
  readonly wait: { readonly replicas: number; readonly timeoutMs: number } | null;
}

/**
 * Turns a load's target into the node to connect to. Pinned clients use pinnedResolver; a
 * sentinel-following resolver would ask the sentinels (asynchronously) and may answer null.
 */
export type Resolver = (target: string, done: (node: string | null, why: string) => void) => void;
export const pinnedResolver: Resolver = (target, done) => done(target, '');

/** What the client needs from the world (world.ts implements it). */
export interface ClientWorld {
  readonly nowUs: number;
  schedule(delayUs: number, action: () => void): Timer;
  connect(from: string, to: string, port: number): SocketId;
  send(sock: SocketId, bytes: Uint8Array): void;
  close(sock: SocketId): void;
  abort(sock: SocketId): void;
  crashHost(name: string): void;
  poweroffHost(name: string): void;
  hostUp(name: string): void;
  isDataNode(name: string): boolean;
  readonly ledger: Ledger;
  /** Whether the trace is listened to; notes are built only then. */
  readonly tracing: boolean;
  note(client: string, text: string): void;
}

type Phase = 'role' | 'select' | 'set' | 'wait';

interface Connection {
  readonly sock: SocketId;
  readonly node: string;
  readonly port: number;
  /** The load target it was made for: a node, or `@MASTERNAME`. */
  readonly target: string;
  /** A following client's connection: ROLE said master. */
  verified: boolean;
  open: boolean;
  db: number;
  readonly parser: ReplyParser;
}

export type ClientStatus = 'up' | 'crashed' | 'poweroff';

export class AppClient implements SocketOwner {
  status: ClientStatus = 'up';
  options: ClientOptions = clientOptionsDefault;
  resolver: Resolver = pinnedResolver;
  /** The sentinels an `@MASTERNAME` target asks, in order (the world sets every declared sentinel). */
  sentinels: readonly string[] = [];
  private sentinelResolverValue: SentinelResolver | null = null;
  private readonly queue: WriteRequest[] = [];
  private conn: Connection | null = null;
  /** The write being worked on, and the replies still expected for it, in order. */
  private current: WriteRequest | null = null;
  private expecting: Phase[] = [];
  private timer: Timer | null = null;
  /** Bumped by every arm/disarm: a timeout that fired while we were paused, then was superseded, does nothing. */
  private timerToken = 0;
  /** Waiting `retry` before the next connect. */
  private backingOff = false;
  /** The SET sent on each socket (at most one), so a node's report of applying it finds its entry. */
  private readonly setOn = new Map<SocketId, LedgerEntry>();
  private epoch = 0;
  private pausedUntilUs = -1;
  private pausedInput: Array<() => void> = [];

  constructor(readonly name: string, private readonly world: ClientWorld) {}

  // --- The load's side ------------------------------------------------------------------------

  /** A load scheduled a write now. */
  submit(req: WriteRequest): void {
    if (this.status !== 'up') {
      this.world.ledger.settle(req.entry, 'failed', `${this.name} is down`, this.world.nowUs);
      return;
    }
    this.queue.push(req);
    this.pump();
  }

  /** Writes not yet settled (queued or in flight). */
  get backlog(): number {
    return this.queue.length + (this.current !== null ? 1 : 0);
  }

  // --- The state machine ------------------------------------------------------------------------

  private get paused(): boolean {
    return this.pausedUntilUs >= 0;
  }

  /** Run input now, or when the process wakes. */
  private input(f: () => void): void {
    if (this.status !== 'up') return;
    if (this.paused) this.pausedInput.push(f);
    else f();
  }

  private after(delayUs: number, f: () => void): Timer {
    const epoch = this.epoch;
    return this.world.schedule(delayUs, () => {
      if (epoch === this.epoch) this.input(f);
    });
  }

  /** Start the next write if the client is free. */
  private pump(): void {
    if (this.status !== 'up' || this.paused || this.current !== null || this.backingOff) return;
    const req = this.queue.shift();
    if (req === undefined) return;
    this.current = req;
    const c = this.conn;
    // A connection made for this target is used as it is: only a reconnect resolves again.
    if (c !== null && c.target === req.target) {
      if (c.open) this.proceed();
      return;
    }
    if (req.target.startsWith('@')) {
      this.sentinelResolver().resolve(req.target.slice(1), (a, why) =>
        this.input(() => this.resolved(req, a === null ? null : a.node, why, a === null ? REDIS_PORT : a.port)));
      return;
    }
    this.resolver(req.target, (node, why) => this.input(() => this.resolved(req, node, why, REDIS_PORT)));
  }

  private sentinelResolver(): SentinelResolver {
    if (this.sentinelResolverValue === null) {
      const w = this.world;
      const me = this;
      this.sentinelResolverValue = new SentinelResolver({
        name: this.name,
        get timeoutUs() { return me.options.timeoutUs; },
        connect: (to, port) => w.connect(this.name, to, port),
        send: (sock, bytes) => w.send(sock, bytes),
        close: (sock) => w.close(sock),
        abort: (sock) => w.abort(sock),
        after: (delayUs, f) => {
          const t = this.after(delayUs, f);
          return () => t.cancel();
        },
        get tracing() { return w.tracing; },
        note: (text) => w.note(this.name, text),
      }, this.sentinels);
    }
    return this.sentinelResolverValue;
  }

  private resolved(req: WriteRequest, node: string | null, why: string, port: number): void {
    if (this.current !== req) return;
    if (node === null || !this.world.isDataNode(node)) {
      this.finish('failed', node === null ? `no master to write to: ${why}` : `cannot resolve host '${node}'`, true);
      return;
    }
    if (this.conn !== null) this.drop(false);
    if (this.world.tracing) this.world.note(this.name, `connecting to ${node}:${port}`);
    const sock = this.world.connect(this.name, node, port);
    this.conn = { sock, node, port, target: req.target, verified: false, open: false, db: 0, parser: new ReplyParser() };
    this.arm(this.options.timeoutUs, () => {
      this.drop(true);
      this.finish('failed', `connect to ${node}:${port} timed out after ${this.options.timeoutUs / 1000}ms`, true);
    });
  }

  /** The connection is open: a following client checks ROLE once, then the write goes. */
  private proceed(): void {
    const c = this.conn!;
    if (!c.target.startsWith('@') || c.verified) {
      this.sendWrite();
      return;
    }
    this.expecting = ['role'];
    this.world.send(c.sock, encodeCommand(['ROLE']));
    this.arm(this.options.timeoutUs, () => this.timedOut());
  }

  private sendWrite(): void {
    const req = this.current!;
    const conn = this.conn!;
    const e = req.entry;
    e.node = conn.node;
    const parts: Buffer[] = [];
    this.expecting = [];
    if (e.db !== conn.db) {
      parts.push(encodeCommand(['SELECT', String(e.db)]));
      this.expecting.push('select');
    }
    parts.push(encodeCommand(['SET', e.key, e.value]));
    this.expecting.push('set');
    this.setOn.set(conn.sock, e);
    this.world.send(conn.sock, parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    this.arm(this.options.timeoutUs, () => this.timedOut());
  }

  private timedOut(): void {
    const phase = this.expecting[0] ?? 'set';
    const limit = phase === 'wait' ? 'WAIT' : `${this.options.timeoutUs / 1000}ms`;
    this.drop(true);
    // No reply to ROLE: the write was never sent.
    if (phase === 'role') this.finish('failed', `no reply to ROLE within ${limit}`, true);
    else this.finish('unknown', `no reply to ${phase === 'wait' ? 'WAIT' : 'SET'} within ${limit}`, true);
  }

  /** Whether the current write's SET has gone out (its outcome is then unknown if the reply never comes). */
  private get setSent(): boolean {
    return this.expecting.some((p) => p !== 'role');
  }

  private reply(r: Reply): void {
    const req = this.current;
    const phase = this.expecting.shift();
    if (req === null || phase === undefined) return; // A reply after we gave up (cannot happen: we close on timeout).
    switch (phase) {
      case 'role': {
        const c = this.conn!;
        const role = r.kind === 'array' && r.items !== null && r.items[0]?.kind === 'bulk' ? r.items[0].value : null;
        if (role === 'master') {
          c.verified = true;
          if (this.world.tracing) this.world.note(this.name, `ROLE ${c.node}: master; writing to ${c.node}`);
          this.sendWrite();
          return;
        }
        const said = role ?? formatReply(r);
        if (this.world.tracing) this.world.note(this.name, `ROLE ${c.node}: ${said}, not a master; disconnecting to resolve ${c.target} again`);
        this.drop(false);
        this.finish('failed', `${c.node} is not a master (ROLE says ${said})`, true);
        return;
      }
      case 'select':
        if (r.kind !== 'error') this.conn!.db = req.entry.db;
        return;
      case 'set':
        if (r.kind === 'error') {
          const c = this.conn!;
          // A following client takes -READONLY as "the master moved": reconnect, so resolve again.
          const moved = c.target.startsWith('@') && r.text.startsWith('READONLY');
          if (moved) {
            if (this.world.tracing) this.world.note(this.name, `-READONLY from ${c.node}: disconnecting to resolve ${c.target} again`);
            this.drop(false);
          }
          this.finish('failed', r.text, false);
          return;
        }
        if (req.wait === null) {
          this.finish('acked', '', false);
          return;
        }
        this.world.send(this.conn!.sock, encodeCommand(['WAIT', String(req.wait.replicas), String(req.wait.timeoutMs)]));
        this.expecting.push('wait');
        this.arm(req.wait.timeoutMs * 1000 + this.options.timeoutUs, () => this.timedOut());
        return;
      case 'wait':
        if (r.kind === 'int') req.entry.waitAcks = Number(r.value);
        if (r.kind === 'int' && r.value >= req.wait!.replicas) this.finish('acked', '', false);
        else this.finish('unknown', `WAIT ${req.wait!.replicas} answered ${formatReply(r)}`, false);
        return;
    }
  }

  /** Settle the current write; with `backoff`, wait `retry` before the next connect. */
  private finish(outcome: 'acked' | 'failed' | 'unknown', detail: string, backoff: boolean): void {
    const req = this.current;
    assert(req !== null, `${this.name}: finish without a write`);
    this.world.ledger.settle(req.entry, outcome, detail, this.world.nowUs);
    // The trace shows what did not go well (every +OK would drown it).
    if (outcome !== 'acked' && this.world.tracing) this.world.note(this.name, `SET ${req.entry.key} ${outcome}: ${detail}`);
    this.current = null;
    this.expecting = [];
    this.disarm();
    if (backoff) {
      this.backingOff = true;
      this.after(this.options.retryUs, () => {
        this.backingOff = false;
        this.pump();
      });
      return;
    }
    this.pump();
  }

  private arm(delayUs: number, f: () => void): void {
    this.disarm();
    const token = this.timerToken;
    this.timer = this.after(delayUs, () => {
      if (token === this.timerToken) f();
    });
  }

  private disarm(): void {
    this.timerToken++;
    this.timer?.cancel();
    this.timer = null;
  }

  /** Close our connection (abort: RST, else FIN after what we sent). */
  private drop(abort: boolean): void {
    const c = this.conn;
    if (c === null) return;
    this.conn = null;
    if (abort && !c.open) this.world.abort(c.sock);
    else this.world.close(c.sock);
  }

  // --- SocketOwner --------------------------------------------------------------------------

  accepted(sock: SocketId): void {
    assert(false, `${this.name}: a client does not listen (socket ${sock})`);
  }

  connected(sock: SocketId): void {
    this.input(() => {
      const c = this.conn;
      if (c === null || c.sock !== sock) {
        this.sentinelResolverValue?.connected(sock);
        return;
      }
      c.open = true;
      this.disarm();
      if (this.current !== null) this.proceed();
    });
  }

  connectFailed(sock: SocketId): void {
    this.input(() => {
      const c = this.conn;
      if (c === null || c.sock !== sock) {
        this.sentinelResolverValue?.connectFailed(sock);
        return;
      }
      this.conn = null;
      this.world.close(sock);
      if (this.current !== null) this.finish('failed', `Could not connect to Redis at ${c.node}:${c.port}: Connection refused`, true);
    });
  }

  data(sock: SocketId, bytes: Uint8Array): void {
    this.input(() => {
      const c = this.conn;
      if (c === null || c.sock !== sock) {
        this.sentinelResolverValue?.data(sock, bytes);
        return;
      }
      c.parser.feed(bytes);
      for (;;) {
        let r: Reply | null;
        try {
          r = c.parser.next();
        } catch (e) {
          if (!(e instanceof RespProtocolError)) throw e;
          this.world.note(this.name, `protocol error from ${c.node}: ${e.message}`);
          this.drop(true);
          if (this.current !== null) this.finish('unknown', `protocol error: ${e.message}`, true);
          return;
        }
        if (r === null) return;
        this.reply(r);
        if (this.conn !== c) return;
      }
    });
  }

  closed(sock: SocketId, reason: 'eof' | 'reset'): void {
    this.input(() => {
      const c = this.conn;
      if (c === null || c.sock !== sock) {
        this.sentinelResolverValue?.closed(sock, reason);
        return;
      }
      this.conn = null;
      this.world.close(sock);
      if (this.current !== null) {
        const sent = this.setSent;
        this.finish(sent ? 'unknown' : 'failed', `connection ${reason === 'eof' ? 'closed' : 'reset'} by ${c.node}`, true);
      } else {
        this.backingOff = true;
        this.after(this.options.retryUs, () => {
          this.backingOff = false;
          this.pump();
        });
      }
    });
  }

  // --- The world's side: the node applied a write that came on one of our sockets ------------

  /**
   * The node processed input from our socket `sock`: its replid and offset before and after.
   * The SET on that socket (at most one) learns where it landed.
   */
  applied(sock: SocketId, node: string, replidBefore: string, offsetBefore: number, replidAfter: string, offsetAfter: number): void {
    const e = this.setOn.get(sock);
    if (e === undefined || e.startOffset !== null) return;
    e.node = node;
    e.replid = replidAfter;
    e.offset = offsetAfter;
    if (replidAfter === replidBefore && offsetAfter > offsetBefore) {
      e.startOffset = offsetBefore;
      e.endOffset = offsetAfter;
      this.setOn.delete(sock);
    }
  }

  // --- Process lifecycle ----------------------------------------------------------------------

  stop(how: 'crash' | 'poweroff'): void {
    if (this.status !== 'up') return;
    this.epoch++;
    this.status = how === 'crash' ? 'crashed' : 'poweroff';
    if (how === 'crash') this.world.crashHost(this.name);
    else this.world.poweroffHost(this.name);
    this.conn = null;
    this.sentinelResolverValue?.reset();
    this.disarm();
    this.backingOff = false;
    this.pausedUntilUs = -1;
    this.pausedInput = [];
    const nowUs = this.world.nowUs;
    if (this.current !== null) {
      this.world.ledger.settle(this.current.entry, this.setSent ? 'unknown' : 'failed', `${this.name} stopped (${how})`, nowUs);
      this.current = null;
    }
    for (const q of this.queue.splice(0)) this.world.ledger.settle(q.entry, 'failed', `${this.name} stopped (${how})`, nowUs);
    this.expecting = [];
  }

  start(): void {
    if (this.status === 'up') return;
    this.epoch++;
    this.status = 'up';
    this.world.hostUp(this.name);
  }

  pause(durUs: number): void {
    if (this.status !== 'up') return;
    const until = this.world.nowUs + durUs;
    if (until <= this.pausedUntilUs) return;
    this.pausedUntilUs = until;
    const epoch = this.epoch;
    this.world.schedule(durUs, () => {
      if (epoch !== this.epoch || this.pausedUntilUs !== until) return;
      this.pausedUntilUs = -1;
      for (const f of this.pausedInput.splice(0)) {
        if (this.status !== 'up') return;
        f();
      }
      this.pump();
    });
  }
}
