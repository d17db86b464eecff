/**
 * The world: core nodes placed on the engine and the simulated network. Each node name owns a
 * `NodeSlot` — the machine: its disk (which survives crashes), its process (a RedisNode, or none
 * while it is down) and the Host the process talks through.
 *
 * Theory of operation. Every input to a node (socket events, local commands, cron ticks, child
 * exits) goes through NodeSlot.deliver(), which runs it and then the node's beforeSleep(), as
 * one event-loop iteration of Redis. While a process is paused (`pause`, DEBUG SLEEP) its input
 * queues up in order and runs when it wakes. A restart builds a new RedisNode from the startup
 * config and the disk; an `epoch` counter makes timers of a dead process harmless.
 */
import { assert } from '../assert.ts';
import { Engine } from '../engine/engine.ts';
import type { Timer } from '../engine/engine.ts';
import { RandomStreams } from '../engine/random.ts';
import type { Rng } from '../engine/random.ts';
import { Network } from '../net/network.ts';
import type { SocketId } from '../net/network.ts';
import type { Host, ConnId, ClientId, ChildId, ChildTarget, HistoryEvent } from '../core/host.ts';
import type { Config } from '../core/config.ts';
import { RedisNode } from '../core/node.ts';
import { fileBytes, type FileContents } from '../core/rdb-image.ts';
import type { TraceEvent, Stamped } from '../trace/events.ts';
import { Checker } from '../check/invariants.ts';
import type { BugName } from '../core/bugs.ts';
import { AppClient } from '../clients/client.ts';
import type { ClientWorld } from '../clients/client.ts';
import { Ledger } from '../clients/ledger.ts';
import { HistoryLog } from '../clients/history.ts';
import { ZERO_REPLID } from '../core/node.ts';
import { ProcessSlot } from './process-slot.ts';
import { SentinelSlot } from './sentinel-slot.ts';
import { SentinelChecker } from '../check/sentinel-invariants.ts';
import type { SentinelOptions } from '../sentinel/sentinel.ts';

/** The node's unix clock starts at 2026-01-01T00:00:00Z (process-slot.ts holds it). */
export { EPOCH_UNIX_MS } from './process-slot.ts';
export type { ProcessStatus } from './process-slot.ts';
export const REDIS_PORT = 6379;
/** A socket BGSAVE child hands the parent this much RDB at a time (Redis relays a pipe's reads). */
export const CHILD_PROGRESS_BYTES = 64 * 1024;
/** initServer(): `aeCreateTimeEvent(server.el, 1, serverCron, ...)`, 1 ms after the start. */
export const CRON_FIRST_TICK_US = 1000;

/** serverCron's period: `return 1000/server.hz` milliseconds, an integer division. */
export function cronPeriodUs(hz: number): number {
  return Math.max(1, Math.floor(1000 / hz)) * 1000;
}

export interface DiskModel {
  /** BGSAVE and SAVE speed, bytes per second. */
  readonly writeBytesPerSec: number;
  /** Loading speed, bytes per second. */
  readonly readBytesPerSec: number;
}
export const diskDefault: DiskModel = { writeBytesPerSec: 500 * 1024 * 1024, readBytesPerSec: 1024 * 1024 * 1024 };

/**
 * CPU cost of loading one key of an RDB, in nanoseconds. Measured: redis-server 7.0.15 booting
 * on a 24.8 MB dump.rdb of 1,000,000 keys (DEBUG POPULATE 1000000, the file in the page cache)
 * logged "DB loaded from disk: 1.209 seconds" (best of 3; 1.29 s and 1.80 s on a busy 2-core
 * machine); DEBUG RELOAD NOSAVE of the same file took 0.46-0.67 s. So about 1.2 us per key.
 */
export const LOAD_PARSE_NS_PER_KEY = 1200;

export type TraceSink = (stamped: Stamped) => void;

export interface WorldOptions {
  readonly seed: string | number;
  /** Called with every trace event; null = tracing off (the fast path). */
  readonly trace: TraceSink | null;
  /**
   * Trace the replication stream too (`--trace-level stream`): each propagated command with its
   * offsets, PINGs, GETACKs, applies, proxies and REPLCONF ACKs. Needs `trace`; default off.
   */
  readonly traceStream?: boolean;
  /** Trace every command a node reads from a network client (`--trace-level commands`). */
  readonly traceCommands?: boolean;
  /** Check replication invariants after every iteration (default true). */
  readonly checks?: boolean;
  /** Historical Redis bugs to switch on in every node (the bug zoo, sim/core/bugs.ts). */
  readonly bugs?: readonly BugName[];
  /**
   * Called after every event-loop iteration of a node, after the invariants: a read-only tap
   * for recorders (sim/trace/record.ts). It must not change the world or draw randomness.
   */
  readonly observe?: IterationObserver;
}

export type IterationObserver = (name: string, node: RedisNode, nowUs: number) => void;

export class World {
  readonly engine = new Engine();
  readonly random: RandomStreams;
  readonly net: Network;
  readonly slots = new Map<string, NodeSlot>();
  /** Application clients (sim/clients), each on a host of its own. */
  readonly clients = new Map<string, AppClient>();
  /** Every write of every client load (sim/clients/ledger.ts). */
  readonly ledger = new Ledger();
  /** The nodes' history forks and the ends of their holds, for explaining lost writes. */
  readonly histories = new HistoryLog();
  private nextClientId = 1;
  readonly workload: Rng;

  /** Replication invariants after every iteration; null only when a test turns them off. */
  readonly checker: Checker | null;
  readonly bugs: ReadonlySet<BugName>;

  constructor(readonly options: WorldOptions) {
    this.checker = options.checks === false ? null : new Checker((name) => this.slots.get(name)?.node ?? null);
    this.bugs = new Set(options.bugs ?? []);
    this.random = new RandomStreams(options.seed);
    this.net = new Network(this.engine, this.random.stream('network'));
    this.workload = this.random.stream('workload');
  }

  get nowUs(): number {
    return this.engine.nowUs;
  }

  get tracing(): boolean {
    return this.options.trace !== null;
  }

  /** Stream tracing is on only with a sink: the nodes read it once, at construction (NodeSlot). */
  get traceStream(): boolean {
    return this.options.trace !== null && this.options.traceStream === true;
  }

  /** Like traceStream: on only with a sink, read once per node slot. */
  get traceCommands(): boolean {
    return this.options.trace !== null && this.options.traceCommands === true;
  }

  trace(event: TraceEvent): void {
    const sink = this.options.trace;
    if (sink !== null) sink({ atUs: this.engine.nowUs, event });
  }

  addNode(name: string, config: Config, disk: DiskModel = diskDefault): NodeSlot {
    assert(!this.slots.has(name), `duplicate node ${name}`);
    const slot = new NodeSlot(this, name, config, disk, this.random.stream(`node/${name}`));
    this.slots.set(name, slot);
    this.net.addHost(name, slot);
    return slot;
  }

  slot(name: string): NodeSlot {
    const s = this.slots.get(name);
    assert(s !== undefined, `unknown node ${name}`);
    return s;
  }

  /** An application client on a host of its own (sim/clients/client.ts). */
  addClient(name: string): AppClient {
    assert(!this.slots.has(name) && !this.clients.has(name), `duplicate host ${name}`);
    const net = this.net;
    const engine = this.engine;
    const world = this;
    const cw: ClientWorld = {
      get nowUs() { return engine.nowUs; },
      schedule: (delayUs, action) => engine.schedule(delayUs, action),
      connect: (from, to, port) => net.connect(from, to, port),
      send: (sock, bytes) => net.send(sock, bytes),
      close: (sock) => net.close(sock),
      abort: (sock) => net.abort(sock),
      crashHost: (h) => net.crashHost(h),
      poweroffHost: (h) => net.poweroffHost(h),
      hostUp: (h) => net.hostUp(h),
      isDataNode: (h) => this.slots.has(h),
      ledger: this.ledger,
      get tracing() { return world.tracing; },
      note: (client, text) => this.trace({ kind: 'note', node: client, text }),
    };
    const c = new AppClient(name, cw);
    this.clients.set(name, c);
    net.addHost(name, c);
    return c;
  }

  /** Sentinel processes, each on its own host (sentinel-slot.ts); not data nodes, so not in `slots`. */
  readonly sentinelSlots = new Map<string, SentinelSlot>();
  /** Sentinel invariants (sim/check/sentinel-invariants.ts); null when checks are off. */
  private sentinelCheckerValue: SentinelChecker | null | undefined;
  get sentinelChecker(): SentinelChecker | null {
    if (this.sentinelCheckerValue === undefined) this.sentinelCheckerValue = this.options.checks === false ? null : new SentinelChecker();
    return this.sentinelCheckerValue;
  }

  addSentinel(name: string, options: SentinelOptions): SentinelSlot {
    assert(!this.slots.has(name) && !this.sentinelSlots.has(name), `duplicate host ${name}`);
    const slot = new SentinelSlot(this, name, options, this.random.stream(`sentinel/${name}`));
    this.sentinelSlots.set(name, slot);
    this.net.addHost(name, slot);
    return slot;
  }

  /** A data node's or a sentinel's machine, for the faults and commands that apply to both. */
  process(name: string): NodeSlot | SentinelSlot {
    const s = this.slots.get(name) ?? this.sentinelSlots.get(name);
    assert(s !== undefined, `unknown host ${name}`);
    return s;
  }

  newClientId(): ClientId {
    return this.nextClientId++;
  }

  private nextUnresolved = -1;
  /** Socket ids for connects to names that are not hosts; negative so they never collide. */
  newUnresolvedSocket(): number {
    return this.nextUnresolved--;
  }
}

/** A machine: disk, process, and the Host its process uses (the event loop is ProcessSlot's). */
export class NodeSlot extends ProcessSlot<RedisNode> implements Host {
  /**
   * Files: what is on the platter (`durable`) and what a write() put in the machine's page cache
   * (`cached`). A process crash loses nothing written; a power-off loses the page cache.
   */
  readonly disk = new Map<string, { durable: FileContents[]; cached: Uint8Array[] }>();
  private readonly children = new Map<ChildId, Timer>();
  private nextChildId = 1;
  private cronTimer: Timer | null = null;
  /** A serverCron tick came due while the process was loading: it runs when the load ends. */
  private cronDueAfterLoad = false;
  /** While the process loads a dataset: its input, held until the next progress step. */
  private loadingHeld: Array<() => void> | null = null;
  /** Connections from application clients: our socket -> the client and its socket (for the ledger). */
  private readonly clientConns = new Map<SocketId, { client: AppClient; sock: SocketId }>();
  /** Host.traceStream, fixed for the run (a plain field: the stream's call sites read it per command). */
  readonly traceStream: boolean;
  /** Host.traceCommands, fixed for the run. */
  readonly traceCommands: boolean;
  protected readonly refusedPort = REDIS_PORT;

  constructor(
    world: World,
    name: string,
    /** Startup config (redis.conf): every start gets a fresh copy. */
    readonly startupConfig: Config,
    public diskModel: DiskModel,
    rng: Rng,
  ) {
    super(world, name, rng);
    this.traceStream = world.traceStream;
    this.traceCommands = world.traceCommands;
  }

  get node(): RedisNode | null {
    return this.proc;
  }

  // --- Process lifecycle ---------------------------------------------------------------------

  start(): void {
    assert(this.proc === null, `${this.name}: already running`);
    this.cronDueAfterLoad = false;
    this.beginStart();
    const config: Config = structuredClone(this.startupConfig);
    const node = new RedisNode(this.name, this, config, this.world.bugs);
    this.proc = node;
    // `port 0` opens no TCP listener (initServer() skips listenToPort()): peers are refused.
    // The scenario's local client still reaches the node, as redis-cli would over a unix socket.
    if (config.port !== 0) this.world.net.listen(this.name, config.port);
    this.deliver(() => node.start());
    // An RDB that carried the old history (kept as replid2): the new history continues it.
    if (node.replid2 !== ZERO_REPLID) {
      this.world.histories.fork({ node: this.name, atUs: this.world.engine.nowUs, why: 'restart', fromReplid: node.replid2, toReplid: node.replid, offset: node.secondReplidOffset - 1 });
    }
    // initServer() creates the serverCron time event to fire 1 ms after the process starts, so
    // cron loop 0 (replicationCron's first PING check among them) runs before any client or
    // replica can have been served. Nodes' phases differ only by when each process started;
    // nodes started at the same instant tick in the order they were started.
    this.scheduleCron(CRON_FIRST_TICK_US);
  }

  protected override processDown(node: RedisNode, how: 'crash' | 'poweroff' | 'exit'): void {
    this.world.histories.processDown(this.name, this.world.engine.nowUs, how === 'poweroff' ? 'poweroff' : 'crash', node.replid, node.masterReplOffset);
  }

  protected tornDown(how: 'crash' | 'poweroff' | 'exit'): void {
    this.clientConns.clear();
    if (how === 'poweroff') for (const f of this.disk.values()) f.cached = [];
    for (const t of this.children.values()) t.cancel();
    this.children.clear();
    this.cronTimer?.cancel();
    this.cronTimer = null;
    this.loadingHeld = null;
  }

  /** Only a data node's wake-up is traced (a sentinel's shows in its TILT events). */
  protected override resumed(): void {
    this.world.trace({ kind: 'process', node: this.name, what: 'resume' });
  }

  /** The end of an event-loop iteration: beforeSleep (writes), then the invariants. */
  protected afterInput(node: RedisNode): void {
    if (this.proc !== node) return;
    // If the input put the process to sleep (DEBUG SLEEP), these writes leave when it wakes.
    node.beforeSleep();
    if (this.proc === node) this.world.checker?.afterIteration(this.name, node, this.world.engine.nowUs);
    if (this.proc === node) this.world.options.observe?.(this.name, node, this.world.engine.nowUs);
  }

  private scheduleCron(delayUs: number): void {
    const epoch = this.epoch;
    this.cronTimer = this.world.engine.schedule(delayUs, () => {
      if (epoch !== this.epoch || this.proc === null) return;
      const node = this.proc;
      // serverCron() returns 1000/server.hz: the next tick is a whole number of milliseconds
      // later (333 ms at hz 3, not 333.3).
      const periodUs = cronPeriodUs(node.config.hz);
      // A stopped process runs no cron; it resumes at the next period after waking.
      // (Simplification: Redis's overdue time event would fire at once after the wake, as after a load.)
      if (!this.paused) {
        // While loading no time event runs (cron() only refreshes the cached clock, as
        // processEventsWhileBlocked() does); the tick is owed to the end of the load.
        if (node.loading !== null) this.cronDueAfterLoad = true;
        this.deliver(() => node.cron());
      }
      if (epoch === this.epoch) this.scheduleCron(periodUs);
    });
  }

  /**
   * The load is over. If a serverCron tick came due meanwhile, it runs now, after the input that
   * waited, and the next one period later: aeProcessEvents() handles the ready file events, then
   * processTimeEvents() runs the overdue serverCron once and sets its next time to now + the
   * period it returned. So cron loop 0 (replicationCron's first PING check) of a process that
   * loaded for longer than 1 ms runs at the end of the load, before any replica can attach.
   */
  private runCronDueAfterLoad(): void {
    const node = this.proc;
    if (!this.cronDueAfterLoad || node === null) return;
    this.cronDueAfterLoad = false;
    this.cronTimer?.cancel();
    this.deliver(() => node.cron());
    if (this.proc === node) this.scheduleCron(cronPeriodUs(node.config.hz));
  }

  // --- Local clients -------------------------------------------------------------------------

  /** The hot path: no closure unless the process is frozen or loading and the input must wait. */
  protected runCommand(node: RedisNode, client: ClientId, argv: string[]): void {
    if (this.paused || this.loadingHeld !== null) {
      this.deliverSocketEvent(() => node.localCommand(client, argv));
      return;
    }
    node.localCommand(client, argv);
    this.afterInput(node);
  }

  // --- Loading -------------------------------------------------------------------------------

  /**
   * The process loads a dataset in its main thread for diskBytes / disk read rate + keys x
   * LOAD_PARSE_NS_PER_KEY. Every loading-process-events-interval-bytes of progress (spread evenly
   * over the load) it calls loadingProgress() and serves the input that arrived meanwhile
   * (processEventsWhileBlocked()); at the end loadingDone(), then the rest of the input.
   */
  startLoading(diskBytes: number, sizeBytes: number, keys: number): void {
    assert(this.loadingHeld === null, `${this.name}: already loading`);
    assert(this.proc !== null, `${this.name}: loading without a process`);
    const cfg = this.proc.config;
    // key-load-delay: debugDelay() per key; a negative N sleeps 1 us once every -N keys on average.
    const delayNsPerKey = cfg.keyLoadDelayUs > 0 ? cfg.keyLoadDelayUs * 1000 : cfg.keyLoadDelayUs < 0 ? 1000 / -cfg.keyLoadDelayUs : 0;
    const durationUs = Math.max(1, Math.round((diskBytes * 1e6) / this.diskModel.readBytesPerSec + (keys * (LOAD_PARSE_NS_PER_KEY + delayNsPerKey)) / 1000));
    const interval = cfg.loadingProcessEventsIntervalBytes;
    const steps = Math.floor(sizeBytes / interval);
    this.loadingHeld = [];
    const epoch = this.epoch;
    const startUs = this.world.engine.nowUs;
    const stepAt = (i: number): void => {
      const atUs = startUs + (i > steps ? durationUs : Math.floor((durationUs * i * interval) / sizeBytes));
      this.world.engine.scheduleAt(atUs, () => {
        const node = this.proc;
        if (epoch !== this.epoch || node === null) return;
        if (i <= steps) {
          this.deliver(() => node.loadingProgress(i * interval));
          this.releaseLoadingHeld(false);
          stepAt(i + 1);
          return;
        }
        this.deliver(() => node.loadingDone());
        this.releaseLoadingHeld(true);
        this.runCronDueAfterLoad();
      });
    };
    stepAt(1);
  }

  /** Deliver the input held during loading; `done`: the load is over, stop holding. */
  private releaseLoadingHeld(done: boolean): void {
    const held = this.loadingHeld;
    if (held === null) return;
    this.loadingHeld = done ? null : [];
    for (const f of held) {
      if (this.proc === null) return;
      this.deliver(f);
    }
  }

  // --- Host (the rest is ProcessSlot's) -------------------------------------------------------

  connect(host: string, port: number): ConnId {
    if (!this.world.slots.has(host)) return this.unresolved(host);
    return this.world.net.connect(this.name, host, port);
  }

  fork(target: ChildTarget, sizeBytes: number): ChildId {
    const id = this.nextChildId++;
    const usPerByte = 1e6 / this.diskModel.writeBytesPerSec;
    const epoch = this.epoch;
    // The child writes the RDB at the disk's write speed. A socket child reports its progress
    // every CHILD_PROGRESS_BYTES so the parent relays the RDB as it is produced; if the process
    // dies first, the rest is never sent (a replica sees the link close mid-transfer).
    let produced = 0;
    const step = (): void => {
      if (epoch !== this.epoch) return;
      const node = this.proc;
      if (node === null) return;
      produced = Math.min(sizeBytes, produced + CHILD_PROGRESS_BYTES);
      if (target === 'sockets' && produced < sizeBytes) {
        this.deliver(() => node.childProgress(id, produced));
        this.children.set(id, this.world.engine.schedule(Math.max(1, Math.round(CHILD_PROGRESS_BYTES * usPerByte)), step));
        return;
      }
      this.children.delete(id);
      this.deliver(() => node.childDone(id, true));
    };
    const firstBytes = target === 'sockets' ? Math.min(sizeBytes, CHILD_PROGRESS_BYTES) : sizeBytes;
    this.children.set(id, this.world.engine.schedule(Math.max(100, Math.round(firstBytes * usPerByte)), step));
    return id;
  }

  killChild(child: ChildId): void {
    this.children.get(child)?.cancel();
    this.children.delete(child);
  }

  writeFile(name: string, contents: FileContents): void {
    // rdbSave(): write a temp file, fsync, rename: durable at once. An image stays unwritten until read.
    this.disk.set(name, { durable: [contents], cached: [] });
  }

  appendFile(name: string, bytes: Uint8Array): void {
    const f = this.disk.get(name);
    if (f === undefined) this.disk.set(name, { durable: [], cached: [bytes] });
    else f.cached.push(bytes);
  }

  fsyncFile(name: string): void {
    const f = this.disk.get(name);
    if (f === undefined || f.cached.length === 0) return;
    f.durable.push(...f.cached);
    f.cached = [];
  }

  readFile(name: string): Uint8Array | null {
    const f = this.disk.get(name);
    if (f === undefined) return null;
    const parts = [...f.durable.map(fileBytes), ...f.cached];
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  sleep(durUs: number): void {
    this.world.trace({ kind: 'process', node: this.name, what: 'sleep' });
    this.freezeFor(durUs);
  }

  history(event: HistoryEvent): void {
    this.world.histories.record(this.name, this.world.engine.nowUs, event);
  }

  // --- SocketOwner (the rest is ProcessSlot's) ------------------------------------------------

  override accepted(sock: SocketId, listenPort: number, peerHost: string): void {
    if (this.proc === null) return;
    const client = this.world.clients.get(peerHost);
    if (client !== undefined) {
      const peer = this.world.net.peerSocketOf(sock);
      if (peer !== null) this.clientConns.set(sock, { client, sock: peer });
    }
    super.accepted(sock, listenPort, peerHost);
  }

  /** Socket events wait while the process loads (they are served at the next progress step). */
  protected override deliverSocketEvent(input: () => void): void {
    if (this.loadingHeld !== null && !this.paused) this.loadingHeld.push(input);
    else this.deliver(input);
  }

  override data(sock: SocketId, bytes: Uint8Array): void {
    const node = this.proc;
    if (node === null) return;
    if (this.clientConns.size > 0) {
      const cc = this.clientConns.get(sock);
      if (cc !== undefined) {
        this.deliverSocketEvent(() => {
          // The ledger: where this client's write landed in our history.
          const replid = node.replid;
          const offset = node.masterReplOffset;
          node.received(sock, bytes);
          cc.client.applied(cc.sock, this.name, replid, offset, node.replid, node.masterReplOffset);
        });
        return;
      }
    }
    // The hot path: no closure unless the process is frozen or loading and the input must wait.
    if (this.paused || this.loadingHeld !== null) {
      this.deliverSocketEvent(() => node.received(sock, bytes));
      return;
    }
    node.received(sock, bytes);
    this.afterInput(node);
  }
}

