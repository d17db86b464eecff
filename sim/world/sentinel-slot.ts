/**
 * A sentinel's machine in the world: its disk (sentinel.conf survives crashes), its process (a
 * Sentinel, or none while it is down) and the SentinelHost it talks through, on its own network
 * host listening on 26379. Crash, restart, pause and power-off work as for data nodes: every
 * input runs as one event-loop iteration followed by beforeSleep(); a paused process queues its
 * input, and its timer tick waits with it, so the first tick after a long pause sees the wall
 * clock jump and enters TILT, as a SIGSTOPped redis-sentinel does.
 */
import { assert } from '../assert.ts';
import type { Timer } from '../engine/engine.ts';
import type { Rng } from '../engine/random.ts';
import type { SocketOwner, SocketId } from '../net/network.ts';
import type { ConnId, ClientId } from '../core/host.ts';
import type { Reply } from '../core/reply.ts';
import type { TraceEvent } from '../trace/events.ts';
import type { SentinelHost } from '../sentinel/host.ts';
import { Sentinel } from '../sentinel/sentinel.ts';
import type { SentinelOptions } from '../sentinel/sentinel.ts';
import { SENTINEL_DEFAULT_PORT } from '../sentinel/state.ts';
import type { World, ProcessStatus } from './world.ts';
import { EPOCH_UNIX_MS } from './world.ts';

export class SentinelSlot implements SentinelHost, SocketOwner {
  sentinel: Sentinel | null = null;
  status: ProcessStatus = 'crashed';
  readonly disk = new Map<string, Uint8Array>();
  private epoch = 0;
  private pausedUntilUs = -1;
  private pausedInput: Array<() => void> = [];
  private sleepingOutbox: Array<() => void> = [];
  private readonly replyTo = new Map<ClientId, Array<(reply: Reply) => void>>();
  private timer: Timer | null = null;

  constructor(
    readonly world: World,
    readonly name: string,
    readonly options: SentinelOptions,
    private readonly rng: Rng,
  ) {}

  get running(): boolean {
    return this.sentinel !== null;
  }

  start(): void {
    assert(this.sentinel === null, `${this.name}: already running`);
    this.epoch++;
    this.status = 'up';
    this.pausedUntilUs = -1;
    this.pausedInput = [];
    this.world.net.hostUp(this.name);
    const s = new Sentinel(this.name, this, this.world.bugs.size > 0 ? { ...this.options, bugs: this.world.bugs } : this.options);
    this.sentinel = s;
    this.world.net.listen(this.name, this.options.port ?? SENTINEL_DEFAULT_PORT);
    this.deliver(() => s.start());
    this.scheduleTick(this.rng.int(100_000) + 1);
  }

  stop(how: 'crash' | 'poweroff' | 'exit'): void {
    if (this.sentinel === null) return;
    this.sentinel.exited = true;
    this.sentinel = null;
    this.epoch++;
    this.status = how === 'poweroff' ? 'poweroff' : 'crashed';
    if (how === 'poweroff') this.world.net.poweroffHost(this.name);
    else this.world.net.crashHost(this.name);
    this.timer?.cancel();
    this.timer = null;
    this.pausedUntilUs = -1;
    this.pausedInput = [];
    this.sleepingOutbox = [];
    const pending = [...this.replyTo.values()].flat();
    this.replyTo.clear();
    for (const cb of pending) cb({ kind: 'error', text: 'ERR Server closed the connection' });
    this.world.trace({ kind: 'process', node: this.name, what: how });
  }

  pause(durUs: number): void {
    if (this.sentinel === null) return;
    this.world.trace({ kind: 'process', node: this.name, what: 'pause' });
    this.freezeFor(durUs);
  }

  get paused(): boolean {
    return this.pausedUntilUs >= 0;
  }

  private freezeFor(durUs: number): void {
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
    const out = this.sleepingOutbox;
    this.sleepingOutbox = [];
    for (const f of out) f();
    const queued = this.pausedInput;
    this.pausedInput = [];
    for (let i = 0; i < queued.length; i++) {
      if (this.sentinel === null) return;
      this.deliver(queued[i]!);
      if (this.paused) {
        this.pausedInput.push(...queued.slice(i + 1));
        return;
      }
    }
  }

  /** One event-loop iteration: the input, then beforeSleep (writes). */
  deliver(input: () => void): void {
    const s = this.sentinel;
    if (s === null) return;
    if (this.paused) {
      this.pausedInput.push(input);
      return;
    }
    input();
    if (this.sentinel === s) {
      s.beforeSleep();
      this.world.sentinelChecker?.afterIteration(this.name, s, this.world.engine.nowUs);
    }
  }

  private scheduleTick(delayUs: number): void {
    const epoch = this.epoch;
    this.timer = this.world.engine.schedule(delayUs, () => {
      if (epoch !== this.epoch || this.sentinel === null) return;
      const s = this.sentinel;
      // A frozen process runs its overdue tick when it wakes; the next one is scheduled from then.
      this.deliver(() => {
        s.timer();
        if (epoch === this.epoch) this.scheduleTick(s.nextTickUs);
      });
    });
  }

  /** A command from the scenario's client for this sentinel. */
  command(client: ClientId, argv: string[], onReply: (reply: Reply) => void): void {
    if (this.sentinel === null) {
      onReply({ kind: 'error', text: `ERR Could not connect to Redis at ${this.name}:${SENTINEL_DEFAULT_PORT}: Connection refused` });
      return;
    }
    const queue = this.replyTo.get(client);
    if (queue === undefined) this.replyTo.set(client, [onReply]);
    else queue.push(onReply);
    const s = this.sentinel;
    this.deliver(() => s.localCommand(client, argv));
  }

  // --- SentinelHost -----------------------------------------------------------------------------

  nowUs(): number {
    return this.world.engine.nowUs;
  }

  unixMs(): number {
    return EPOCH_UNIX_MS + Math.floor(this.world.engine.nowUs / 1000);
  }

  randomHex(chars: number): string {
    return this.rng.hex(chars);
  }

  rand(): number {
    return this.rng.int(0x7fffffff);
  }

  connect(host: string, port: number): ConnId {
    if (!this.world.slots.has(host) && !this.world.sentinelSlots.has(host)) {
      const conn = this.world.newUnresolvedSocket();
      const epoch = this.epoch;
      this.world.engine.schedule(1000, () => {
        const s = this.sentinel;
        if (epoch === this.epoch && s !== null) this.deliver(() => s.connectFailed(conn, `cannot resolve host '${host}'`));
      });
      return conn;
    }
    return this.world.net.connect(this.name, host, port);
  }

  send(conn: ConnId, bytes: Uint8Array): void {
    if (conn < 0) return;
    if (this.paused) {
      this.sleepingOutbox.push(() => this.world.net.send(conn, bytes));
      return;
    }
    this.world.net.send(conn, bytes);
  }

  close(conn: ConnId): void {
    if (conn < 0) return;
    if (this.paused) {
      this.sleepingOutbox.push(() => this.world.net.close(conn));
      return;
    }
    this.world.net.close(conn);
  }

  writeFile(name: string, bytes: Uint8Array): void {
    this.disk.set(name, bytes);
  }

  readFile(name: string): Uint8Array | null {
    return this.disk.get(name) ?? null;
  }

  reply(client: ClientId, reply: Reply): void {
    if (this.paused) {
      this.sleepingOutbox.push(() => this.reply(client, reply));
      return;
    }
    const queue = this.replyTo.get(client);
    const cb = queue?.shift();
    if (cb === undefined) return;
    if (queue!.length === 0) this.replyTo.delete(client);
    cb(reply);
  }

  sleep(durUs: number): void {
    this.freezeFor(durUs);
  }

  exit(): void {
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
    const s = this.sentinel;
    if (s !== null) this.deliver(() => s.accepted(sock, peerHost));
  }

  connected(sock: SocketId): void {
    const s = this.sentinel;
    if (s !== null) this.deliver(() => s.connected(sock));
  }

  connectFailed(sock: SocketId, reason: 'refused'): void {
    const s = this.sentinel;
    if (s !== null) this.deliver(() => s.connectFailed(sock, reason === 'refused' ? 'connection refused' : reason));
  }

  data(sock: SocketId, bytes: Uint8Array): void {
    const s = this.sentinel;
    if (s !== null) this.deliver(() => s.received(sock, bytes));
  }

  closed(sock: SocketId, reason: 'eof' | 'reset'): void {
    const s = this.sentinel;
    if (s !== null) this.deliver(() => s.closed(sock, reason === 'eof' ? 'connection closed by peer' : 'connection reset by peer'));
  }
}
