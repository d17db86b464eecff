/**
 * A run's recording for the teaching tools (`--html`, `explain`): every trace event, and each
 * node's replication state every time it changed, so a page can show the state at any moment.
 *
 * Theory of operation. The recorder is two read-only taps on a run: the trace sink (events) and
 * the world's end-of-iteration observer (state). A node's state is sampled after each of its
 * event-loop iterations — where Redis's state can change — and kept only when it differs from the
 * previous sample, so a quiet node costs nothing and the state between two samples is the
 * earlier one. Neither tap schedules anything or draws a random number, so a recorded run is the
 * same run, event for event, as an unrecorded one (a test compares the trace hashes).
 */
import type { RedisNode } from '../core/node.ts';
import type { Stamped, TraceEvent } from './events.ts';
import { STREAM_KINDS } from './events.ts';
import { renderEvent } from './render.ts';

/** One replica as its master sees it. */
export interface ReplicaView {
  readonly name: string;
  /** The offset it last acknowledged (REPLCONF ACK), as INFO's slaveN offset=. */
  readonly ackOffset: number;
  readonly state: string;
}

/** A node's replication state at one moment: what INFO replication would print. */
export interface NodeState {
  readonly atUs: number;
  /** Position in the run's order of events and samples: several things happen at one instant. */
  readonly seq: number;
  /** 'up', 'paused', 'crashed' or 'poweroff'. */
  readonly process: string;
  readonly role: 'master' | 'replica';
  /** For a replica, the node it follows. */
  readonly master: string | null;
  /** master_link_status for a replica; null for a master. */
  readonly link: 'up' | 'down' | null;
  /** The replica's handshake state (repl_state), 'none' for a master. */
  readonly replState: string;
  readonly replid: string;
  readonly replid2: string;
  readonly offset: number;
  readonly secondOffset: number;
  /** repl_backlog_first_byte_offset and histlen; 0/0 without a backlog. */
  readonly backlogFirst: number;
  readonly backlogHistlen: number;
  readonly replicas: readonly ReplicaView[];
  readonly keys: number;
}

/** An event as the page and the narrator read it: the JSON fields plus the sentence `--trace` prints (`sentence`; `seq` orders it). */
export type RecordedEvent = TraceEvent & { readonly atUs: number; readonly seq: number; readonly sentence: string };

export interface Recording {
  readonly title: string | null;
  readonly file: string;
  readonly seed: string;
  readonly nodes: readonly string[];
  readonly endUs: number;
  readonly events: readonly RecordedEvent[];
  /** Per node, its states in time order (the first is its state when it first ran). */
  readonly states: Readonly<Record<string, readonly NodeState[]>>;
}

/** Counter-only changes within one window of virtual time share a sample (see observe). */
export const COALESCE_US = 10_000;

export class Recorder {
  readonly events: RecordedEvent[] = [];
  readonly states: Record<string, NodeState[]> = {};
  /** Process status from the trace's process events: crashed, poweroff, paused or up. */
  private readonly process = new Map<string, string>();
  private seq = 0;
  /** Samples at or before this seq were seen by an event: they stay as they are. */
  private pinnedSeq = -1;

  /** The trace sink half. */
  readonly sink = (s: Stamped): void => {
    // The page draws stream events as arrows, never puts its cursor on one: they pin no sample,
    // so a long load's samples still coalesce with `--trace-level stream`.
    if (!STREAM_KINDS.has(s.event.kind)) this.pinnedSeq = this.seq;
    this.events.push({ ...s.event, atUs: s.atUs, seq: this.seq++, sentence: renderEvent(s.event) });
    const e = s.event;
    if (e.kind !== 'process') return;
    const status = e.what === 'crash' || e.what === 'poweroff' ? (e.what === 'crash' ? 'crashed' : 'poweroff')
      : e.what === 'pause' || e.what === 'sleep' ? 'paused'
        : e.what === 'exit' ? 'crashed' : 'up';
    this.process.set(e.node, status);
    const list = this.states[e.node];
    const last = list?.[list.length - 1];
    // A process change is a state change even when the node does not iterate (it is gone).
    if (last !== undefined && last.process !== status) list!.push({ ...last, atUs: s.atUs, seq: this.seq++, process: status });
  };

  /**
   * The world's end-of-iteration half: sample `node` if anything a learner sees changed. Between
   * two trace events, samples that differ only in counters (offsets, backlog length, keys, acks)
   * within one COALESCE_US window replace each other, so a long load costs a sample per node per
   * window, not one per write; the last sample before every event is kept exactly.
   */
  readonly observe = (name: string, n: RedisNode, nowUs: number): void => {
    const list = (this.states[name] ??= []);
    const last = list[list.length - 1];
    const b = n.backlog;
    const isReplica = n.isReplica;
    const replState = isReplica ? String(n.replState) : 'none';
    const process = this.process.get(name) ?? 'up';
    const replicas = n.replicas;
    const backlogFirst = b ? b.offset : 0;
    const backlogHistlen = b ? b.histlen : 0;
    const sameShape = last !== undefined && last.process === process && last.replid === n.replid && last.replid2 === n.replid2 &&
      last.secondOffset === n.secondReplidOffset && last.replState === replState && last.master === n.masterhost &&
      sameReplicaSet(last.replicas, replicas);
    if (sameShape && last.offset === n.masterReplOffset && last.backlogFirst === backlogFirst && last.backlogHistlen === backlogHistlen &&
      sameAcks(last.replicas, replicas)) return;
    let keys = 0;
    for (const db of n.ks.dbs) keys += db.size;
    const state: NodeState = {
      atUs: nowUs,
      seq: this.seq++,
      process,
      role: isReplica ? 'replica' : 'master',
      master: n.masterhost,
      link: isReplica ? (n.replState === 'connected' ? 'up' : 'down') : null,
      replState,
      replid: n.replid,
      replid2: n.replid2,
      offset: n.masterReplOffset,
      secondOffset: n.secondReplidOffset,
      backlogFirst,
      backlogHistlen,
      replicas: replicas.map((r) => ({ name: r.peer, ackOffset: r.replAckOff, state: String(r.replState) })),
      keys,
    };
    // Only counters moved, no event since the last sample, same window: replace it.
    if (sameShape && last.seq > this.pinnedSeq && Math.floor(last.atUs / COALESCE_US) === Math.floor(nowUs / COALESCE_US)) list[list.length - 1] = state;
    else list.push(state);
  };

  recording(meta: { title: string | null; file: string; seed: string; nodes: readonly string[]; endUs: number }): Recording {
    return { ...meta, events: this.events, states: this.states };
  }
}

function sameReplicaSet(a: readonly ReplicaView[], b: RedisNode['replicas']): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const r = b[i]!;
    if (a[i]!.name !== r.peer || a[i]!.state !== String(r.replState)) return false;
  }
  return true;
}

function sameAcks(a: readonly ReplicaView[], b: RedisNode['replicas']): boolean {
  for (let i = 0; i < a.length; i++) if (a[i]!.ackOffset !== b[i]!.replAckOff) return false;
  return true;
}

/**
 * The state of `node` just after the event numbered `seq` (its last sample before it), or null
 * before the node first ran. Several things happen at one instant, so order is by seq, not time.
 */
export function stateAt(rec: Recording, node: string, seq: number): NodeState | null {
  const list = rec.states[node];
  if (list === undefined || list.length === 0 || list[0]!.seq > seq) return null;
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (list[mid]!.seq <= seq) lo = mid;
    else hi = mid - 1;
  }
  return list[lo]!;
}
