/**
 * Invariants checked after every event-loop iteration of every node, in every run (docs/ARCHITECTURE.md
 * "Checks"): they turn a silent divergence into a stop with the event that caused it.
 *
 * - backlog: offset + histlen - 1 == master_repl_offset (createReplicationBacklog, feedReplicationBuffer),
 *   and the shared block list agrees: its tail ends at master_repl_offset, the backlog references
 *   its first block, and every reference is accounted for (the blocks' refcounts sum to one for
 *   the backlog plus one per replica that reads, each reading a live block at a position within it);
 * - a replica's master_repl_offset equals the reploff of its live master client (replicationFeedStreamFromMasterStream);
 * - within one process and one replid, master_repl_offset never moves backwards, except through a
 *   full sync: a replica repointed to a node behind it, or joining a BGSAVE forked earlier, loads
 *   an older point of the same history (legitimate, and how Redis loses such bytes);
 * - history agreement: when a PSYNC (id, k) is accepted, the bytes just before k in the serving
 *   node's backlog equal the bytes just before k in the requester's backlog (the tail both still
 *   hold, up to HISTORY_WINDOW_BYTES), i.e. both really share the history up to k - 1.
 * "Same (replid, offset) ⇒ same data" is checked where it is cheap: by `converged`.
 */
import type { RedisNode } from '../core/node.ts';

/** A broken replication invariant: the run stops and says which, where and when. */
export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
  constructor(
    readonly invariant: string,
    readonly node: string,
    readonly atUs: number,
    detail: string,
  ) {
    super(`${invariant} violated on ${node}: ${detail}`);
  }
}

const HISTORY_WINDOW_BYTES = 4096;

export class Checker {
  /** Per node: the process last seen, and its (replid, offset) then. */
  private readonly last = new Map<string, { process: RedisNode; loads: number; replid: string; offset: number }>();
  checks = 0;

  constructor(private readonly nodeByName: (name: string) => RedisNode | null) {}

  /** Runs after every iteration of every node: allocation-free unless something is wrong. */
  afterIteration(name: string, n: RedisNode, nowUs: number): void {
    this.checks++;
    const b = n.backlog;
    if (b !== null) {
      if (b.offset + b.histlen - 1 !== n.masterReplOffset) {
        this.fail(name, nowUs, 'backlog', `offset ${b.offset} + histlen ${b.histlen} - 1 != master_repl_offset ${n.masterReplOffset}`);
      }
      this.checkReplBuffer(name, nowUs, n);
    }
    if (n.master !== null && n.master.reploff !== n.masterReplOffset) {
      this.fail(name, nowUs, 'replica offset', `master client reploff ${n.master.reploff} != master_repl_offset ${n.masterReplOffset}`);
    }
    const prev = this.last.get(name);
    const sameLife = prev !== undefined && prev.process === n && prev.loads === n.fullSyncLoads;
    if (sameLife && prev!.replid === n.replid && n.masterReplOffset < prev!.offset) {
      this.fail(name, nowUs, 'offset monotonic', `master_repl_offset went back from ${prev!.offset} to ${n.masterReplOffset} under replid ${n.replid}`);
    }
    if (prev === undefined) {
      this.last.set(name, { process: n, loads: n.fullSyncLoads, replid: n.replid, offset: n.masterReplOffset });
    } else {
      prev.process = n;
      prev.loads = n.fullSyncLoads;
      prev.replid = n.replid;
      prev.offset = n.masterReplOffset;
    }
    const accepted = n.lastPsyncAccepted;
    if (accepted !== null) {
      n.lastPsyncAccepted = null;
      this.checkHistory(name, nowUs, n, accepted.peer, accepted.offset);
    }
  }

  /** The requester has not heard +CONTINUE yet: its backlog still ends at k - 1. */
  private fail(node: string, atUs: number, invariant: string, detail: string): never {
    throw new InvariantViolation(invariant, node, atUs, detail);
  }

  /** The block list and its readers (allocation-free: one pass over the replicas). */
  private checkReplBuffer(name: string, nowUs: number, n: RedisNode): void {
    const b = n.backlog!;
    const tail = b.tail;
    if (tail === null) {
      if (b.histlen !== 0 || b.totalRefs !== 0) this.fail(name, nowUs, 'replication buffer', `no blocks, but histlen ${b.histlen} and ${b.totalRefs} references`);
      return;
    }
    if (tail.replOffset + tail.used - 1 !== b.endOffset) {
      this.fail(name, nowUs, 'replication buffer', `the tail block ends at ${tail.replOffset + tail.used - 1}, the backlog at ${b.endOffset}`);
    }
    const head = b.head!;
    if (head.refcount < 1 || head.freed) this.fail(name, nowUs, 'replication buffer', `the backlog does not reference its first block ${head.id}`);
    let readers = 1;
    for (const r of n.replicas) {
      const blk = r.replBlock;
      if (blk === null) continue;
      readers++;
      if (blk.freed || blk.id < head.id || blk.id > tail.id || r.replBlockPos > blk.used) {
        this.fail(name, nowUs, 'replication buffer', `replica ${r.peer} reads block ${blk.id} at ${r.replBlockPos}, outside the list [${head.id}, ${tail.id}]`);
      }
    }
    if (readers !== b.totalRefs) this.fail(name, nowUs, 'replication buffer', `${b.totalRefs} block references, but ${readers} readers (the backlog and replicas)`);
  }

  private checkHistory(name: string, nowUs: number, server: RedisNode, peer: string, k: number): void {
    const requester = this.nodeByName(peer);
    const sb = server.backlog;
    const rb = requester?.backlog ?? null;
    if (requester === null || rb === null || sb === null || requester.masterReplOffset !== k - 1) return;
    const from = Math.max(sb.offset, rb.offset, k - HISTORY_WINDOW_BYTES);
    if (from > k - 1) return; // Nothing both still hold.
    const mine = sb.readFrom(from).subarray(0, k - from);
    const theirs = rb.readFrom(from);
    if (!mine.equals(theirs)) {
      this.fail(name, nowUs, 'history agreement', `PSYNC from ${peer} accepted at offset ${k}, but the stream bytes ${from}..${k - 1} differ between ${server.name} and ${peer}`);
    }
  }
}
