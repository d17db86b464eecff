/**
 * Simulated TCP between named hosts.
 *
 * Theory of operation. A connection is two socket ends joined by two pipes (link.ts), one
 * per direction. Every byte and every control segment (SYN, SYN-ACK, refused, FIN, RST)
 * travels in its pipe, in order, and is acted on when it arrives, against the state the
 * receiving end and host are in *then*. That one rule gives the TCP behaviours we want:
 *
 * - connect: the SYN arrives after one latency; a listening host accepts (owner.accepted)
 *   and its SYN-ACK reaches the client one latency later (owner.connected); a host whose
 *   machine is up but where nothing listens (or whose process crashed) answers 'refused'; a
 *   powered-off host answers nothing, and a SYN that meets a partition gets no answer while the
 *   partition lasts; it is held like data and completes after the heal if the client still
 *   waits, which is what SYN retransmission achieves in TCP (Simplification: at once, not at
 *   the next exponential-backoff retry).
 * - close: FIN follows the data already sent; the peer sees closed('eof') after the last byte.
 * - abort, or data reaching a socket that no longer exists: RST, and the peer sees
 *   closed('reset'). An aborting end drops what it had not delivered yet.
 * - partitions are applied at arrival: a chunk whose direction is blocked when its time comes
 *   is held, with everything behind it, and released in order when the direction heals, one
 *   latency later. Nothing is lost while both ends live.
 * - crashHost: the process is gone, the OS is not: every socket is closed gracefully (FIN
 *   after in-flight data), listeners vanish, later data gets RST, later SYNs 'refused'.
 * - poweroffHost: the machine is gone: nothing more leaves it, whatever reaches it is lost,
 *   and its peers learn nothing until a timeout. hostUp() starts the machine again; its old
 *   connections are unknown to it, so their next data is answered with RST.
 *
 * Owner contract. Callbacks go only to a host whose process runs, and at most one of
 * connectFailed/closed per socket. After that callback the socket is dead: send() on it is
 * accepted and discarded (the peer is gone: TCP would answer RST or EPIPE, and the owner
 * already knows), and close()/abort() merely release the id. Using an id after closing it
 * yourself, sending before connected(), or naming a host never added, is a caller bug and
 * asserts (scenario names are checked where they are parsed).
 *
 * Hot path: send() splits the bytes into chunks (subarrays, no copy) and pushes them on the
 * pipe; each chunk costs one engine event. This file knows nothing of Redis.
 */
import { assert, assertNever, maybe } from '../assert.ts';
import type { Engine } from '../engine/engine.ts';
import type { Rng } from '../engine/random.ts';
import { Pipe, assertLinkModel, linkDefault } from './link.ts';
import type { ChunkKind, LinkModel } from './link.ts';
import { HOST_INDEX_LIMIT, PartitionTable } from './partitions.ts';
import { networkOptionsDefault } from './types.ts';
import type { HostStatus, NetworkOptions, NetworkStats, SocketId, SocketInfo, SocketOwner } from './types.ts';

export { linkDefault };
export type { LinkModel };
export { networkOptionsDefault, networkOptionsNoSplit } from './types.ts';
export type { HostStatus, NetworkOptions, NetworkStats, SocketId, SocketInfo, SocketOwner } from './types.ts';

/**
 * embryo: server end before its SYN arrived (no id yet); connecting: client before SYN-ACK;
 * open; dead: the owner was told (closed/connectFailed) and may still release the id;
 * closed: the owner closed it, or its host went down. Only connecting/open ends are live.
 */
type EndState = 'embryo' | 'connecting' | 'open' | 'dead' | 'closed';

interface HostState {
  readonly name: string;
  readonly index: number;
  readonly owner: SocketOwner;
  status: HostStatus;
  readonly listening: Set<number>;
  /** Live ends (connecting or open), in creation order. */
  readonly ends: Set<End>;
}

class End {
  id: SocketId = 0;
  state: EndState;
  /** Our outgoing pipe; set right after both ends exist. */
  out!: Pipe<End>;
  peer!: End;
  /** We already answered stray data with an RST: one is enough. */
  rstSent = false;

  constructor(
    readonly host: HostState,
    readonly side: 'client' | 'server',
    /** The server's listening port (the same on both ends). */
    readonly port: number,
  ) {
    this.state = side === 'client' ? 'connecting' : 'embryo';
  }
}

export class Network {
  private readonly hosts = new Map<string, HostState>();
  private readonly hostList: HostState[] = [];
  /** Ends the owner may use: connecting or open. */
  private readonly sockets = new Map<SocketId, End>();
  /** Ids whose owner was told the socket died, until it releases them with close()/abort(). */
  private readonly deadIds = new Map<SocketId, HostState>();
  private nextSocketId = 1;
  private defaultLink: LinkModel = linkDefault;
  /** Per unordered host pair (lo * HOST_INDEX_LIMIT + hi): links set by setLink(). */
  private readonly links = new Map<number, LinkModel>();
  /** Bumped by every link change, so pipes refresh their cached model lazily. */
  private linkVersion = 0;
  /** Pipes held by a partition, in the order they were held. */
  private readonly heldPipes = new Set<Pipe<End>>();
  private readonly partitions = new PartitionTable();
  private readonly options: NetworkOptions;
  readonly stats: NetworkStats = { bytesDelivered: 0, chunksDelivered: 0, connectionsAccepted: 0, chunksHeld: 0 };

  constructor(
    private readonly engine: Engine,
    private readonly rng: Rng,
    options: NetworkOptions = networkOptionsDefault,
  ) {
    assert(Number.isSafeInteger(options.segmentBytesMax) && options.segmentBytesMax >= 1, 'Network: segmentBytesMax must be an integer >= 1');
    const p = options.segmentSplitProbability;
    assert(p >= 0 && p <= 1, `Network: segmentSplitProbability ${p} outside [0, 1]`);
    this.options = { ...options };
  }

  // --- Hosts -----------------------------------------------------------------------------------

  /** A machine, up, listening on nothing. */
  addHost(host: string, owner: SocketOwner): void {
    assert(!this.hosts.has(host), `Network.addHost: duplicate host ${host}`);
    assert(this.hostList.length < HOST_INDEX_LIMIT, 'Network.addHost: too many hosts');
    const state: HostState = {
      name: host, index: this.hostList.length, owner, status: 'up',
      listening: new Set(), ends: new Set(),
    };
    this.hosts.set(host, state);
    this.hostList.push(state);
  }

  hostStatus(host: string): HostStatus {
    return this.host(host).status;
  }

  listen(host: string, port: number): void {
    const h = this.host(host);
    assert(h.status === 'up', `Network.listen: ${host} is ${h.status}`);
    assert(Number.isSafeInteger(port) && port > 0 && port < 65536, `Network.listen: bad port ${port}`);
    assert(!h.listening.has(port), `Network.listen: ${host}:${port} already listening`);
    h.listening.add(port);
  }

  /** Stop accepting; established connections are unaffected (as closing a listen socket). */
  unlisten(host: string, port: number): void {
    const h = this.host(host);
    assert(h.listening.delete(port), `Network.unlisten: ${host}:${port} not listening`);
  }

  isListening(host: string, port: number): boolean {
    return this.host(host).listening.has(port);
  }

  /**
   * The process died, the machine did not: the OS closes every socket gracefully (peers get
   * FIN after the data already sent), listeners vanish. No callbacks to this host from now on.
   */
  crashHost(host: string): void {
    const h = this.host(host);
    if (h.status !== 'up') return;
    h.status = 'crashed';
    h.listening.clear();
    for (const end of h.ends) {
      if (end.state === 'open') this.pushControl(end.out, 'fin');
      end.state = 'closed';
      this.sockets.delete(end.id);
    }
    h.ends.clear();
    this.forgetDeadIds(h);
  }

  /**
   * The machine stopped: its sockets vanish without a word. Chunks already on the wire still
   * arrive; what had not left the machine is lost. Anything reaching it is lost.
   */
  poweroffHost(host: string): void {
    const h = this.host(host);
    if (h.status === 'poweroff') return;
    h.status = 'poweroff';
    h.listening.clear();
    const nowUs = this.engine.nowUs;
    for (const end of h.ends) {
      const pipe = end.out;
      this.refreshLink(pipe);
      pipe.dropArrivingAfter(nowUs + pipe.link.latencyUs + pipe.link.jitterUs, nowUs);
      if (pipe.length === 0) this.heldPipes.delete(pipe);
      end.state = 'closed';
      this.sockets.delete(end.id);
    }
    h.ends.clear();
    this.forgetDeadIds(h);
  }

  /** The host (machine and process) runs again after crashHost/poweroffHost; it may listen. */
  hostUp(host: string): void {
    const h = this.host(host);
    maybe(h.status === 'up'); // The world calls this on every process start, the first too.
    h.status = 'up';
  }

  /** The live sockets of a host, in creation order. */
  connectionsOf(host: string): SocketInfo[] {
    const out: SocketInfo[] = [];
    for (const end of this.host(host).ends) {
      assert(end.state === 'connecting' || end.state === 'open', 'connectionsOf: dead end in host.ends');
      out.push({ sock: end.id, peerHost: end.peer.host.name, state: end.state, side: end.side });
    }
    return out;
  }

  // --- Sockets ---------------------------------------------------------------------------------

  /** The id of the other end of a live socket (the world uses it to tie a node's connection to its client), or null. */
  peerSocketOf(sock: SocketId): SocketId | null {
    const end = this.sockets.get(sock);
    return end === undefined ? null : end.peer.id;
  }

  /** Start connecting; the owner later gets connected() or connectFailed(), or nothing. */
  connect(fromHost: string, toHost: string, port: number): SocketId {
    const from = this.host(fromHost);
    const to = this.host(toHost);
    assert(from.status === 'up', `Network.connect: ${fromHost} is ${from.status}`);
    assert(Number.isSafeInteger(port) && port > 0 && port < 65536, `Network.connect: bad port ${port}`);
    const client = new End(from, 'client', port);
    const server = new End(to, 'server', port);
    client.peer = server;
    server.peer = client;
    client.out = this.newPipe(client, server);
    server.out = this.newPipe(server, client);
    client.id = this.nextSocketId++;
    this.sockets.set(client.id, client);
    from.ends.add(client);
    this.pushControl(client.out, 'syn');
    return client.id;
  }

  /** Queue bytes on an open socket. The network keeps `bytes` (no copy): do not reuse it. */
  send(sock: SocketId, bytes: Uint8Array): void {
    const end = this.sockets.get(sock);
    if (end === undefined) {
      // The owner was told the peer is gone; writing anyway is harmless, as in TCP.
      assert(this.deadIds.has(sock), `Network.send: socket ${sock} unknown or closed by its owner`);
      return;
    }
    if (end.state !== 'open') assert(false, `Network.send: socket ${sock} is ${end.state}`);
    const sizeBytes = bytes.length;
    if (sizeBytes === 0) return;
    const pipe = end.out;
    this.refreshLink(pipe);
    const { segmentBytesMax, segmentSplitProbability } = this.options;
    const jitterMaxUs = pipe.link.jitterUs;
    const nowUs = this.engine.nowUs;
    for (let offset = 0; offset < sizeBytes; ) {
      let n = sizeBytes - offset < segmentBytesMax ? sizeBytes - offset : segmentBytesMax;
      if (segmentSplitProbability > 0 && n > 1 && this.rng.next() < segmentSplitProbability) {
        n = 1 + this.rng.int(n - 1);
      }
      const chunk = offset === 0 && n === sizeBytes ? bytes : bytes.subarray(offset, offset + n);
      pipe.push('data', chunk, n, nowUs, jitterMaxUs > 0 ? this.rng.int(jitterMaxUs + 1) : 0);
      offset += n;
    }
    this.arm(pipe);
  }

  /** Graceful close: the peer gets everything sent, then closed('eof'). No more callbacks. */
  close(sock: SocketId): void {
    const end = this.sockets.get(sock);
    if (end === undefined) {
      assert(this.deadIds.delete(sock), `Network.close: socket ${sock} unknown or already closed`);
      return;
    }
    // A client that gives up while connecting sends nothing; a late SYN-ACK will get an RST.
    if (end.state === 'open') this.pushControl(end.out, 'fin');
    this.release(end);
  }

  /** Reset: what we had not delivered is dropped; the peer gets closed('reset'). */
  abort(sock: SocketId): void {
    const end = this.sockets.get(sock);
    if (end === undefined) {
      assert(this.deadIds.delete(sock), `Network.abort: socket ${sock} unknown or already closed`);
      return;
    }
    if (end.state === 'open') {
      this.heldPipes.delete(end.out);
      end.out.clear(this.engine.nowUs);
      this.pushControl(end.out, 'rst');
    }
    this.release(end);
  }

  // --- Links and faults ------------------------------------------------------------------------

  /** The model of every link without its own; applies to chunks sent from now on. */
  setDefaultLink(model: LinkModel): void {
    assertLinkModel(model);
    this.defaultLink = model;
    this.linkVersion++;
  }

  /** The model of the link between a and b, both directions; applies to later sends. */
  setLink(a: string, b: string, model: LinkModel): void {
    assertLinkModel(model);
    this.links.set(this.pairKey(this.host(a), this.host(b)), model);
    this.linkVersion++;
  }

  /** Hosts in different groups cannot reach each other; hosts in no group are unaffected. */
  partition(groups: string[][]): void {
    this.partitions.applyGroups(this.indices(groups), 'block');
  }

  /** What `from` sends to `to` is held; the other direction flows. */
  partitionOneWay(from: string, to: string): void {
    this.partitions.block(this.host(from).index, this.host(to).index);
  }

  /** Undo every partition; held chunks flow again. */
  heal(): void {
    this.partitions.clear();
    this.releaseHeld();
  }

  /** Undo partition(groups) (partitions are counted: an overlapping one stays in force). */
  healGroups(groups: string[][]): void {
    this.partitions.applyGroups(this.indices(groups), 'unblock');
    this.releaseHeld();
  }

  healOneWay(from: string, to: string): void {
    this.partitions.unblock(this.host(from).index, this.host(to).index);
    this.releaseHeld();
  }

  /** Is what `from` sends to `to` held right now? */
  isBlocked(from: string, to: string): boolean {
    return this.blocked(this.host(from), this.host(to));
  }

  /**
   * Reset every connection between a and b, now: in-flight bytes both ways are dropped and
   * both owners are told at once (closed('reset'), or connectFailed for a connect under way).
   */
  killLink(a: string, b: string): void {
    const ha = this.host(a);
    const hb = this.host(b);
    assert(ha !== hb, `Network.killLink: ${a} to itself`);
    const victims: End[] = [];
    for (const h of [ha, hb]) {
      const other = h === ha ? hb : ha;
      for (const end of h.ends) {
        if (end.peer.host !== other || victims.includes(end.peer)) continue;
        victims.push(end);
      }
    }
    const told: Array<{ end: End; was: EndState }> = [];
    const nowUs = this.engine.nowUs;
    for (const end of victims) {
      for (const e of [end, end.peer]) {
        this.heldPipes.delete(e.out);
        e.out.clear(nowUs);
        if (e.state === 'open' || e.state === 'connecting') {
          told.push({ end: e, was: e.state });
          this.kill(e);
        } else if (e.state === 'embryo') {
          e.state = 'closed'; // Its SYN was just dropped: the server never hears of it.
        }
      }
    }
    // Tell the owners only once the network is consistent: their callbacks may call back in.
    for (const { end, was } of told) {
      if (end.host.status !== 'up') continue;
      if (was === 'open') end.host.owner.closed(end.id, 'reset');
      else end.host.owner.connectFailed(end.id, 'refused');
    }
  }

  // --- Delivery (the hot path) -----------------------------------------------------------------

  /** The head chunk of `pipe` is due. */
  private pipeDue(pipe: Pipe<End>): void {
    // pipe.timer is the event running now (fired): arm() reuses it for the next chunk.
    if (this.blocked(pipe.from.host, pipe.to.host)) {
      // Held, SYNs included: a real client retransmits its SYN, so a connect that is still
      // pending when the partition heals completes then (see the file comment).
      pipe.held = true;
      this.heldPipes.add(pipe);
      this.stats.chunksHeld++;
      return;
    }
    const kind = pipe.headKind();
    const payload = pipe.headPayload();
    pipe.dropHead();
    this.arrive(pipe.to, kind, payload);
    this.arm(pipe);
  }

  /** A chunk reaches `end`: act on it against the end's and host's state now. */
  private arrive(end: End, kind: ChunkKind, payload: Uint8Array | null): void {
    const host = end.host;
    if (host.status === 'poweroff') return; // Nobody there to answer.
    switch (kind) {
      case 'data':
        if (end.state === 'open') {
          this.stats.bytesDelivered += payload!.length;
          this.stats.chunksDelivered++;
          host.owner.data(end.id, payload!);
        } else if (end.state === 'closed') {
          this.resetBack(end); // tcp_v4_send_reset: data for a socket that is gone.
        } else {
          assert(end.state === 'dead', `data reached a socket that is ${end.state}`);
        }
        return;
      case 'syn':
        this.synArrived(end);
        return;
      case 'synack':
        if (end.state === 'connecting') {
          end.state = 'open';
          host.owner.connected(end.id);
        } else {
          this.resetBack(end); // The client gave up (or was reset) while the SYN flew.
        }
        return;
      case 'refused':
        if (end.state === 'connecting') {
          this.kill(end);
          host.owner.connectFailed(end.id, 'refused');
        }
        return;
      case 'fin':
        if (end.state === 'open') {
          this.kill(end);
          host.owner.closed(end.id, 'eof');
        }
        return;
      case 'rst':
        if (end.state === 'open') {
          this.kill(end);
          host.owner.closed(end.id, 'reset');
        } else if (end.state === 'connecting') {
          // The server accepted, then aborted before its SYN-ACK left (abort drops it): an
          // RST in SYN_SENT is ECONNREFUSED.
          this.kill(end);
          host.owner.connectFailed(end.id, 'refused');
        }
        return;
      default:
        assertNever(kind);
    }
  }

  /** Server side of the handshake: accept if someone listens, else refuse. */
  private synArrived(server: End): void {
    assert(server.state === 'embryo', `SYN reached a socket that is ${server.state}`);
    const host = server.host;
    if (!host.listening.has(server.port)) {
      server.state = 'closed';
      this.pushControl(server.out, 'refused');
      return;
    }
    server.state = 'open';
    server.id = this.nextSocketId++;
    this.sockets.set(server.id, server);
    host.ends.add(server);
    this.stats.connectionsAccepted++;
    // SYN-ACK first, so anything the owner sends from accepted() follows it.
    this.pushControl(server.out, 'synack');
    host.owner.accepted(server.id, server.port, server.peer.host.name);
  }

  /** Answer stray segments on a socket that no longer exists with one RST. */
  private resetBack(end: End): void {
    if (end.rstSent) return;
    end.rstSent = true;
    this.pushControl(end.out, 'rst');
  }

  private pushControl(pipe: Pipe<End>, kind: ChunkKind): void {
    this.refreshLink(pipe);
    const jitterMaxUs = pipe.link.jitterUs;
    pipe.push(kind, null, 0, this.engine.nowUs, jitterMaxUs > 0 ? this.rng.int(jitterMaxUs + 1) : 0);
    this.arm(pipe);
  }

  /** Make sure the head chunk has its event, unless held or empty. */
  private arm(pipe: Pipe<End>): void {
    const t = pipe.timer;
    if ((t !== null && t.state === 'pending') || pipe.held || pipe.length === 0) return;
    // The pipe's last event, once it ran, carries the next one (no timer per chunk).
    pipe.timer = t !== null && t.state === 'fired' ? this.engine.scheduleAgainAt(t, pipe.headArrivalUs()) : this.engine.scheduleAt(pipe.headArrivalUs(), pipe.fire);
  }

  private newPipe(from: End, to: End): Pipe<End> {
    const pipe: Pipe<End> = new Pipe(from, to, this.defaultLink, () => this.pipeDue(pipe));
    return pipe;
  }

  // --- Bookkeeping -----------------------------------------------------------------------------

  /** The owner was told: the end is dead, its id waits for close()/abort(). */
  private kill(end: End): void {
    end.state = 'dead';
    end.host.ends.delete(end);
    this.sockets.delete(end.id);
    this.deadIds.set(end.id, end.host);
  }

  /** The owner closed the end: it is gone from the owner's view. */
  private release(end: End): void {
    end.state = 'closed';
    end.host.ends.delete(end);
    this.sockets.delete(end.id);
  }

  /** A host went down: its owner will never release the ids it was told were dead. */
  private forgetDeadIds(h: HostState): void {
    for (const [id, owner] of this.deadIds) if (owner === h) this.deadIds.delete(id);
  }

  private host(name: string): HostState {
    const h = this.hosts.get(name);
    if (h === undefined) assert(false, `Network: unknown host ${name}`);
    return h;
  }

  private pairKey(a: HostState, b: HostState): number {
    const [lo, hi] = a.index < b.index ? [a.index, b.index] : [b.index, a.index];
    return lo * HOST_INDEX_LIMIT + hi;
  }

  private refreshLink(pipe: Pipe<End>): void {
    if (pipe.linkVersion === this.linkVersion) return;
    pipe.link = this.links.get(this.pairKey(pipe.from.host, pipe.to.host)) ?? this.defaultLink;
    pipe.linkVersion = this.linkVersion;
  }

  private blocked(from: HostState, to: HostState): boolean {
    return this.partitions.blocked(from.index, to.index);
  }

  private indices(groups: string[][]): number[][] {
    return groups.map((g) => g.map((name) => this.host(name).index));
  }

  /** Held pipes whose direction is open again resume, one latency from now, in order. */
  private releaseHeld(): void {
    if (this.heldPipes.size === 0) return;
    const nowUs = this.engine.nowUs;
    for (const pipe of this.heldPipes) {
      if (this.blocked(pipe.from.host, pipe.to.host)) continue;
      this.heldPipes.delete(pipe);
      pipe.held = false;
      this.refreshLink(pipe);
      const jitterMaxUs = pipe.link.jitterUs;
      pipe.retime(nowUs + pipe.link.latencyUs + (jitterMaxUs > 0 ? this.rng.int(jitterMaxUs + 1) : 0));
      this.arm(pipe);
    }
  }
}
