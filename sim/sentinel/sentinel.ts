/**
 * A Redis Sentinel process, sans-I/O (sentinel.c, Redis 7.0.15).
 *
 * Theory of operation. The owner (the simulator's world) drives it like a data node: socket
 * events (accepted/connected/connectFailed/received/closed), local commands from the scenario,
 * and timer() when the timer fires; after every input it calls beforeSleep(), which writes what
 * was queued. timer() is sentinelTimer(): the TILT check, then every master with its replicas
 * and sentinels (handle.ts), then the switch to a promoted replica; at its end the next period
 * is drawn as 1000/(10 + rand()%10) ms (server.hz), so sentinels started together drift apart.
 * Outgoing commands are only queued during a tick and leave in beforeSleep, as hiredis writes
 * in the event loop after the timer returns; replies come back as separate network events.
 * A config flush (rewrite + fsync) stops the process for `flushLatencyUs`, which is what lets a
 * slower disk lose an election.
 */
import type { SentinelHost, ConnId, ClientId } from './host.ts';
import { Instance, HELLO_CHANNEL, DEFAULT_FLUSH_LATENCY_US, SENTINEL_DEFAULT_PORT } from './state.ts';
import type { SentinelEventName } from '../trace/events.ts';
import type { Reply } from '../core/reply.ts';
import { array, bulk, err, errWrongArgs } from '../core/reply.ts';
import { CommandParser, RespProtocolError, encodeReply } from '../core/resp.ts';
import { globMatch } from '../core/pubsub.ts';
import { parseSentinelConfig, renderSentinelConfig, SENTINEL_CONFIG_FILE, SentinelConfigError } from './conf.ts';
import { handleInstances, checkTiltCondition } from './handle.ts';
import * as links from './links.ts';
import { sentinelCommand, infoCommand, roleReply } from './commands.ts';
import { processHelloMessage } from './hello.ts';
import type { BugName } from '../core/bugs.ts';

const NO_BUGS: ReadonlySet<BugName> = new Set();

/** A client of this sentinel: another sentinel's command link, a user, or the scenario. */
export class SentinelClient {
  readonly parser: CommandParser | null;
  out: Uint8Array[] = [];
  closed = false;
  name = '';
  channels = new Set<string>();
  patterns = new Set<string>();
  constructor(readonly id: number, readonly conn: ConnId | null, readonly local: ClientId | null, readonly peer: string) {
    this.parser = conn !== null ? new CommandParser() : null;
  }
}

export interface SentinelOptions {
  /** Startup sentinel.conf lines (without the leading `sentinel`), used when the disk has no config yet. */
  readonly configLines: readonly string[][];
  readonly flushLatencyUs?: number;
  readonly port?: number;
  /** Historical Sentinel bugs switched on (the bug zoo, sim/core/bugs.ts); none by default. */
  readonly bugs?: ReadonlySet<BugName>;
}

export class Sentinel {
  myid = '';
  currentEpoch = 0;
  readonly masters = new Map<string, Instance>();
  tilt = false;
  tiltStartTime = 0;
  previousTime: number;
  /** SENTINEL SIMULATE-FAILURE flags. */
  simCrashAfterElection = false;
  simCrashAfterPromotion = false;
  /** Set when the process exits (SIMULATE-FAILURE crash); no more input is processed. */
  exited = false;
  readonly port: number;
  readonly flushLatencyUs: number;
  readonly bugs: ReadonlySet<BugName>;
  /**
   * What the last flush wrote: the current epoch and each master's config epoch. A restart
   * starts from these (the checker compares the next process with them, not with memory).
   */
  flushedCurrentEpoch = 0;
  readonly flushedConfigEpochs = new Map<string, number>();
  /** The next timer period, drawn at the end of every tick (server.hz = 10 + rand() % 10). */
  nextTickUs = 100_000;

  // Links: each socket we opened, to its instance and which connection it is.
  readonly socks = new Map<ConnId, { inst: Instance; kind: 'cc' | 'pc' }>();
  /** Connections with output queued during this iteration. */
  readonly pendingWrite = new Set<ConnId>();
  /** Our server side. */
  private nextClientId = 1;
  readonly clients = new Map<ConnId, SentinelClient>();
  private readonly localClients = new Map<ClientId, SentinelClient>();
  /** Clients to reply to in beforeSleep. */
  private readonly clientsToWrite = new Set<SentinelClient>();

  constructor(readonly name: string, readonly host: SentinelHost, readonly options: SentinelOptions) {
    this.port = options.port ?? SENTINEL_DEFAULT_PORT;
    this.flushLatencyUs = options.flushLatencyUs ?? DEFAULT_FLUSH_LATENCY_US;
    this.bugs = options.bugs ?? NO_BUGS;
    this.previousTime = host.unixMs();
  }

  /** Process start: read the config from the disk (or the startup lines), get an id, flush (sentinelIsRunning). */
  start(): void {
    const onDisk = this.host.readFile(SENTINEL_CONFIG_FILE);
    const lines = onDisk !== null ? Buffer.from(onDisk).toString('latin1').split('\n').map((l) => l.trim().split(/\s+/))
      .filter((w) => w[0] === 'sentinel').map((w) => w.slice(1)) : this.options.configLines;
    parseSentinelConfig(this, lines);
    if (this.myid === '') this.myid = this.host.randomHex(40);
    this.flushConfig();
    for (const m of this.masters.values()) this.event('+monitor', m, `quorum ${m.quorum}`, `${this.name} monitors ${m.name} at ${m.addr} with quorum ${m.quorum}`);
  }

  nowMs(): number {
    return this.host.unixMs();
  }

  rand(): number {
    return this.host.rand();
  }

  // ------------------------------------------------------------------------------------------
  // Events and persistence.

  /**
   * sentinelEvent(): the trace event, and a message on the channel named after the event for
   * our pub/sub clients. `inst` given: the payload starts with its details ("%@").
   */
  event(name: SentinelEventName, inst: Instance | null, extra: string, reason: string): void {
    const payload = inst !== null ? (extra === '' ? inst.details() : `${inst.details()} ${extra}`) : extra;
    if (this.host.tracing) this.host.trace({ kind: 'sentinel', node: this.name, event: name, payload, reason, epoch: this.currentEpoch });
    if (name !== 'voted-for' && name !== 'next-failover-delay') this.publishEvent(name, payload);
  }

  /** sentinelFlushConfig(): rewrite sentinel.conf and fsync; the process stops for the flush latency. */
  flushConfig(): void {
    this.host.writeFile(SENTINEL_CONFIG_FILE, Buffer.from(renderSentinelConfig(this), 'latin1'));
    this.flushedCurrentEpoch = this.currentEpoch;
    for (const m of this.masters.values()) this.flushedConfigEpochs.set(m.name, m.configEpoch);
    if (this.flushLatencyUs > 0) this.host.sleep(this.flushLatencyUs);
  }

  masterByName(name: string): Instance | null {
    return this.masters.get(name) ?? null;
  }

  // ------------------------------------------------------------------------------------------
  // The timer.

  /** sentinelTimer(): one tick. The owner schedules the next one `nextTickUs` later. */
  timer(): void {
    if (this.exited) return;
    checkTiltCondition(this);
    handleInstances(this);
    // server.hz = CONFIG_DEFAULT_HZ + rand() % CONFIG_DEFAULT_HZ: the desynchronising period.
    this.nextTickUs = Math.floor(1e6 / (10 + (this.rand() % 10)));
  }

  /** SIMULATE-FAILURE: exit(99) at the marked moment. */
  simFailureCrash(): void {
    this.exited = true;
    this.host.exit();
  }

  // ------------------------------------------------------------------------------------------
  // Socket inputs.

  accepted(conn: ConnId, peer: string): void {
    if (this.exited) return;
    this.clients.set(conn, new SentinelClient(this.nextClientId++, conn, null, peer));
  }

  connected(conn: ConnId): void {
    if (this.exited) return;
    links.connConnected(this, conn);
  }

  connectFailed(conn: ConnId, why: string): void {
    if (this.exited) return;
    links.connLost(this, conn, why, false);
  }

  received(conn: ConnId, bytes: Uint8Array): void {
    if (this.exited) return;
    if (this.socks.has(conn)) return links.connReceived(this, conn, bytes);
    const c = this.clients.get(conn);
    if (c === undefined) return;
    c.parser!.feed(bytes);
    for (;;) {
      if (c.closed) return;
      let parsed;
      try {
        parsed = c.parser!.next();
      } catch (e) {
        if (!(e instanceof RespProtocolError)) throw e;
        this.addReply(c, err(`ERR ${e.message}`));
        this.freeClient(c);
        return;
      }
      if (parsed === null) return;
      if (parsed.argv.length === 0) continue;
      this.processCommand(c, parsed.argv);
      if (this.exited) return;
    }
  }

  closed(conn: ConnId, why: string): void {
    if (this.exited) return;
    if (this.socks.has(conn)) return links.connLost(this, conn, why, false);
    const c = this.clients.get(conn);
    if (c !== undefined) {
      c.closed = true;
      this.clients.delete(conn);
    }
  }

  localCommand(client: ClientId, argv: string[]): void {
    if (this.exited) return;
    let c = this.localClients.get(client);
    if (c === undefined) {
      c = new SentinelClient(this.nextClientId++, null, client, 'local');
      this.localClients.set(client, c);
    }
    this.processCommand(c, argv);
  }

  /** Write what this iteration queued: our commands to instances, and replies to our clients. */
  beforeSleep(): void {
    if (this.pendingWrite.size > 0) {
      for (const sock of this.pendingWrite) links.flushConn(this, sock);
      this.pendingWrite.clear();
    }
    if (this.clientsToWrite.size > 0) {
      for (const c of this.clientsToWrite) {
        if (c.closed || c.conn === null || c.out.length === 0) continue;
        this.host.send(c.conn, c.out.length === 1 ? c.out[0]! : Buffer.concat(c.out));
        c.out = [];
      }
      this.clientsToWrite.clear();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Our server side: the sentinel command table (15 commands in Redis; the ones modelled here).

  addReply(c: SentinelClient, reply: Reply): void {
    if (c.local !== null) return this.host.reply(c.local, reply);
    if (c.closed) return;
    c.out.push(encodeReply(reply));
    this.clientsToWrite.add(c);
  }

  private freeClient(c: SentinelClient): void {
    if (c.closed) return;
    c.closed = true;
    if (c.conn !== null) {
      this.clients.delete(c.conn);
      this.beforeSleep();
      this.host.close(c.conn);
    }
  }

  processCommand(c: SentinelClient, argv: string[]): void {
    const name = argv[0]!.toLowerCase();
    const inSub = c.channels.size + c.patterns.size > 0;
    if (inSub && !['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe', 'ping', 'quit', 'reset'].includes(name)) {
      return this.addReply(c, err(`ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`));
    }
    switch (name) {
      case 'ping':
        if (argv.length > 2) return this.addReply(c, errWrongArgs('ping'));
        if (inSub) return this.addReply(c, array([bulk('pong'), bulk(argv[1] ?? '')]));
        return this.addReply(c, argv.length === 2 ? bulk(argv[1]!) : { kind: 'status', text: 'PONG' });
      case 'sentinel':
        if (argv.length < 2) return this.addReply(c, errWrongArgs('sentinel'));
        return sentinelCommand(this, c, argv);
      case 'info':
        return this.addReply(c, bulk(infoCommand(this, argv.slice(1))));
      case 'role':
        if (argv.length !== 1) return this.addReply(c, errWrongArgs('role'));
        return this.addReply(c, roleReply(this));
      case 'publish':
        // sentinelPublishCommand(): only hellos, processed as if they came over pub/sub.
        if (argv.length !== 3) return this.addReply(c, errWrongArgs('publish'));
        if (argv[1] !== HELLO_CHANNEL) return this.addReply(c, err('ERR Only HELLO messages are accepted by Sentinel instances.'));
        processHelloMessage(this, argv[2]!);
        return this.addReply(c, { kind: 'int', value: 1 });
      case 'client':
        if (argv.length >= 3 && argv[1]!.toLowerCase() === 'setname') {
          c.name = argv[2]!;
          return this.addReply(c, { kind: 'status', text: 'OK' });
        }
        if (argv.length === 2 && argv[1]!.toLowerCase() === 'getname') return this.addReply(c, bulk(c.name === '' ? null : c.name));
        return this.addReply(c, err(`ERR unknown subcommand '${argv[1] ?? ''}'. Try CLIENT HELP.`));
      case 'subscribe':
      case 'psubscribe': {
        if (argv.length < 2) return this.addReply(c, errWrongArgs(name));
        const set = name === 'subscribe' ? c.channels : c.patterns;
        for (const ch of argv.slice(1)) {
          set.add(ch);
          this.addReply(c, array([bulk(name), bulk(ch), { kind: 'int', value: c.channels.size + c.patterns.size }]));
        }
        return;
      }
      case 'unsubscribe':
      case 'punsubscribe': {
        const set = name === 'unsubscribe' ? c.channels : c.patterns;
        const names = argv.length > 1 ? argv.slice(1) : [...set];
        if (names.length === 0) return this.addReply(c, array([bulk(name), bulk(null), { kind: 'int', value: c.channels.size + c.patterns.size }]));
        for (const ch of names) {
          set.delete(ch);
          this.addReply(c, array([bulk(name), bulk(ch), { kind: 'int', value: c.channels.size + c.patterns.size }]));
        }
        return;
      }
      default: {
        const args = argv.slice(1, 21).map((a) => `'${a}' `).join('');
        return this.addReply(c, err(`ERR unknown command '${argv[0]}', with args beginning with: ${args}`));
      }
    }
  }

  /** Events go to subscribers of the channel named after them (`PSUBSCRIBE *` gets all). */
  private publishEvent(channel: string, payload: string): void {
    for (const c of this.clients.values()) {
      if (c.closed) continue;
      if (c.channels.has(channel)) this.addReply(c, array([bulk('message'), bulk(channel), bulk(payload)]));
      for (const p of c.patterns) if (globMatch(p, channel)) this.addReply(c, array([bulk('pmessage'), bulk(p), bulk(channel), bulk(payload)]));
    }
  }
}

export { SentinelConfigError };
