/**
 * The histories the nodes recorded, for the write ledger: which replication history continues
 * which (forks), and which events ended a node's hold on a history (a full sync's flush, a crash
 * or power-off). The ledger explains every lost write from these records alone.
 *
 * Theory of operation. A history is a replid; its bytes are numbered by offset. A fork says
 * "history B starts as history A's bytes 1..k": shiftReplicationId() on a promotion
 * (replication.c shiftReplicationId), changeReplicationId() when a master without a backlog
 * starts one, and a restart whose RDB carried the old id (rdbPopulateSaveInfo, kept as replid2).
 * Whether a node's state (R, o) holds a write that ended at offset e of history H is then a walk
 * up the forks from R: `bound` shrinks to each fork offset, and the answer is yes when the walk
 * reaches H with bound >= e. A node loses what it holds when it is flushed by a full sync
 * (replicationAttachToNewMaster) or when its process dies (what it had not persisted).
 * This file knows nothing of sockets or clients; the world feeds it.
 */
import type { HistoryEvent } from '../core/host.ts';

export interface Fork {
  readonly node: string;
  readonly atUs: number;
  readonly why: 'promotion' | 'new-id' | 'restart';
  readonly fromReplid: string;
  readonly toReplid: string;
  /** The last offset the new history shares with the old one. */
  readonly offset: number;
}

/** A node stopped holding (replid, offset): flushed by a full sync, or its process died. */
export interface HoldEnd {
  readonly node: string;
  readonly atUs: number;
  readonly why: 'full-sync' | 'crash' | 'poweroff';
  readonly replid: string;
  readonly offset: number;
}

export class HistoryLog {
  readonly forks: Fork[] = [];
  readonly ends: HoldEnd[] = [];
  /** toReplid -> the first fork that created it (a replica's later +CONTINUE to it adds nothing). */
  private readonly parentOf = new Map<string, Fork>();

  /** An event from a node's Host.history hook. */
  record(node: string, atUs: number, e: HistoryEvent): void {
    switch (e.kind) {
      case 'fork':
        this.fork({ node, atUs, why: e.why, fromReplid: e.fromReplid, toReplid: e.toReplid, offset: e.offset });
        return;
      case 'flush':
        this.ends.push({ node, atUs, why: 'full-sync', replid: e.replid, offset: e.offset });
        return;
    }
  }

  fork(f: Fork): void {
    if (f.fromReplid === f.toReplid || this.parentOf.has(f.toReplid)) return;
    this.forks.push(f);
    this.parentOf.set(f.toReplid, f);
  }

  processDown(node: string, atUs: number, how: 'crash' | 'poweroff', replid: string, offset: number): void {
    this.ends.push({ node, atUs, why: how, replid, offset });
  }

  /**
   * The fork through which (replid, offset) descends from `target`, walking up: null when
   * `target` is not an ancestor (or is replid itself). Also gives the bound: the most of
   * `target` that (replid, offset) contains.
   */
  ancestry(replid: string, offset: number, target: string): { bound: number; fork: Fork | null } | null {
    let r = replid;
    let bound = offset;
    let via: Fork | null = null;
    for (let hops = 0; hops <= this.forks.length; hops++) {
      if (r === target) return { bound, fork: via };
      const f = this.parentOf.get(r);
      if (f === undefined) return null;
      bound = Math.min(bound, f.offset);
      via = f;
      r = f.fromReplid;
    }
    return null; // A cycle of ids cannot happen with random ids; refuse to loop anyway.
  }

  /** Does a node in state (replid, offset) hold the bytes of `target` up to `endOffset`? */
  holds(replid: string, offset: number, target: string, endOffset: number): boolean {
    const a = this.ancestry(replid, offset, target);
    return a !== null && a.bound >= endOffset;
  }
}
