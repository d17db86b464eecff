/**
 * Links and pipes: how long bytes take, and the ordered queue they wait in.
 *
 * Theory of operation. A TCP connection is two pipes, one per direction ("The
 * network is TCP, not packets"). A pipe is a FIFO of chunks (data, or the control segments
 * SYN, SYN-ACK, "refused", FIN, RST) with their arrival times. Arrival times only grow along
 * the FIFO, so the network keeps one engine event per pipe, for the head chunk, and re-arms it
 * after each delivery: one event per delivered chunk, and no chunk can overtake another.
 *
 * Timing of a chunk of n bytes sent at `now`: it starts leaving when the pipe is free
 * (start = max(now, busyUntil)), takes n*8/bandwidth to serialize (busyUntil moves by that,
 * kept fractional so 100-byte sends at 1 Gbit/s cost 0.8 µs, not a rounded-up 1 µs), then
 * travels latency + jitter (jitter drawn in [0, jitterUs]); its arrival is clamped to the
 * previous chunk's so jitter reorders nothing. Control segments are chunks of 0 bytes.
 * Simplification: bandwidth is per pipe, not shared by the connections on one link, and
 * there is no congestion window or receive window: a 100 MB send is queued whole.
 *
 * The FIFO is parallel arrays with a head index (no per-chunk object), compacted when the
 * consumed prefix dominates. This file knows nothing of hosts, partitions or Redis.
 */
import { assert } from '../assert.ts';
import type { Timer } from '../engine/engine.ts';

/** One direction-symmetric link between two hosts. */
export interface LinkModel {
  /** One-way propagation delay of every chunk, integer microseconds. */
  readonly latencyUs: number;
  /** Extra delay drawn uniformly in [0, jitterUs] per chunk, integer microseconds. 0 disables. */
  readonly jitterUs: number;
  /** Serialization rate of each pipe, bits per second (Infinity: no serialization delay). */
  readonly bandwidthBitsPerSec: number;
}

/** 1 ms one way, no jitter, 1 Gbit/s: a quiet datacenter LAN. */
export const linkDefault: LinkModel = { latencyUs: 1000, jitterUs: 0, bandwidthBitsPerSec: 1e9 };

export function assertLinkModel(model: LinkModel): void {
  assert(Number.isSafeInteger(model.latencyUs) && model.latencyUs >= 0, `link: bad latencyUs ${model.latencyUs}`);
  assert(Number.isSafeInteger(model.jitterUs) && model.jitterUs >= 0, `link: bad jitterUs ${model.jitterUs}`);
  assert(model.bandwidthBitsPerSec > 0, `link: bad bandwidthBitsPerSec ${model.bandwidthBitsPerSec}`);
}

/**
 * What travels in a pipe. 'syn' opens the connection (client → server); the server answers
 * 'synack' (listening) or 'refused' (RST to a SYN: nothing listens); 'fin' is a graceful
 * close after all data; 'rst' a reset.
 */
export type ChunkKind = 'data' | 'syn' | 'synack' | 'refused' | 'fin' | 'rst';

/** Compact the FIFO arrays when at least this many consumed slots lead them. */
const COMPACT_HEAD_MIN = 1024;

/** One direction of a connection. `E` is the network's socket-end type. */
export class Pipe<E> {
  // The FIFO: slots [head, tail) of three parallel arrays. The arrays keep their length (their
  // capacity) when the pipe empties, since `length = 0` drops the backing store and the next
  // push grows a new one: an allocation per delivered chunk on a pipe that drains every time.
  private kinds: ChunkKind[] = [];
  private payloads: (Uint8Array | null)[] = [];
  private arrivalsUs: number[] = [];
  private head = 0;
  private tail = 0;
  /** When the sender's side finishes serializing what it has queued (fractional µs). */
  private busyUntilUs = 0;
  /** Arrival time of the last chunk queued: no later chunk may arrive before it. */
  private lastArrivalUs = 0;
  /** The engine event for the head chunk when pending; once fired or cancelled, the last one. */
  timer: Timer | null = null;
  /** Held by a partition: the head's time has come but its direction is blocked. */
  held = false;
  /** The link model in force for this pipe, refreshed when the network's links change. */
  link: LinkModel;
  linkVersion = -1;

  constructor(
    readonly from: E,
    readonly to: E,
    link: LinkModel,
    /** The engine action that delivers the head chunk (made once per pipe, not per chunk). */
    readonly fire: () => void,
  ) {
    this.link = link;
  }

  get length(): number {
    return this.tail - this.head;
  }

  /**
   * Queue a chunk of `sizeBytes` leaving at nowUs with `jitterUs` extra delay; returns its
   * arrival time (integer µs, never before an earlier chunk's).
   */
  push(kind: ChunkKind, payload: Uint8Array | null, sizeBytes: number, nowUs: number, jitterUs: number): number {
    const startUs = this.busyUntilUs > nowUs ? this.busyUntilUs : nowUs;
    const sentUs = startUs + (sizeBytes * 8e6) / this.link.bandwidthBitsPerSec;
    this.busyUntilUs = sentUs;
    let atUs = Math.ceil(sentUs) + this.link.latencyUs + jitterUs;
    if (atUs < this.lastArrivalUs) atUs = this.lastArrivalUs;
    this.lastArrivalUs = atUs;
    const t = this.tail++;
    if (t < this.kinds.length) {
      this.kinds[t] = kind;
      this.payloads[t] = payload;
      this.arrivalsUs[t] = atUs;
    } else {
      this.kinds.push(kind);
      this.payloads.push(payload);
      this.arrivalsUs.push(atUs);
    }
    return atUs;
  }

  headKind(): ChunkKind {
    assert(this.length > 0, 'Pipe.headKind: empty');
    return this.kinds[this.head];
  }

  headPayload(): Uint8Array | null {
    return this.payloads[this.head];
  }

  headArrivalUs(): number {
    assert(this.length > 0, 'Pipe.headArrivalUs: empty');
    return this.arrivalsUs[this.head];
  }

  /** Forget the head chunk (delivered or lost). */
  dropHead(): void {
    assert(this.length > 0, 'Pipe.dropHead: empty');
    this.payloads[this.head] = null; // Let the bytes be collected now.
    this.head++;
    if (this.head === this.tail) {
      this.head = this.tail = 0;
    } else if (this.head >= COMPACT_HEAD_MIN && this.head * 2 >= this.tail) {
      this.kinds.copyWithin(0, this.head, this.tail);
      this.payloads.copyWithin(0, this.head, this.tail);
      this.arrivalsUs.copyWithin(0, this.head, this.tail);
      const live = this.tail - this.head;
      this.payloads.fill(null, live, this.tail);
      this.head = 0;
      this.tail = live;
    }
  }

  /** Drop everything queued and forget the sender's backlog (a reset). Disarms the pipe. */
  clear(nowUs: number): void {
    this.timer?.cancel();
    this.timer = null;
    this.held = false;
    this.payloads.fill(null, this.head, this.tail);
    this.head = this.tail = 0;
    this.busyUntilUs = nowUs;
    this.lastArrivalUs = nowUs;
  }

  /**
   * Drop the chunks that arrive after cutoffUs (they had not left the machine when it lost
   * power). Disarms the pipe if nothing is left.
   */
  dropArrivingAfter(cutoffUs: number, nowUs: number): void {
    let end = this.tail;
    while (end > this.head && this.arrivalsUs[end - 1] > cutoffUs) end--;
    this.payloads.fill(null, end, this.tail);
    this.tail = end;
    this.busyUntilUs = nowUs;
    this.lastArrivalUs = end > this.head ? this.arrivalsUs[end - 1] : nowUs;
    if (this.length === 0) this.clear(nowUs);
  }

  /**
   * A partition healed: every queued chunk arrives no sooner than baseUs, in order.
   * Chunks that were due later anyway keep their time.
   */
  retime(baseUs: number): void {
    let floorUs = baseUs;
    for (let i = this.head; i < this.tail; i++) {
      const atUs = this.arrivalsUs[i] > floorUs ? this.arrivalsUs[i] : floorUs;
      this.arrivalsUs[i] = atUs;
      floorUs = atUs;
    }
    if (floorUs > this.lastArrivalUs) this.lastArrivalUs = floorUs;
  }
}
