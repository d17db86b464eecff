/**
 * Which directions between hosts are cut.
 *
 * Theory of operation. A partition blocks ordered pairs (from → to) of host indices. Blocks
 * are counted, not flagged: partition(A|B) then partitionOneWay(A→B) then healGroups(A|B)
 * leaves A→B blocked, because each heal undoes exactly what its partition did. heal() clears
 * everything. Hosts named in no group are never blocked by a group partition.
 *
 * The network asks `blocked(from, to)` once per delivered chunk, so the common case (no
 * partition at all) is one comparison. This file knows nothing of pipes or of Redis.
 */
import { assert, maybe } from '../assert.ts';

/** Host indices are below this, so (from, to) packs into one number. */
export const HOST_INDEX_LIMIT = 65536;

export class PartitionTable {
  /** (from * HOST_INDEX_LIMIT + to) → number of partitions blocking that direction. */
  private readonly counts = new Map<number, number>();

  /** Is what host `from` sends to host `to` cut? */
  blocked(from: number, to: number): boolean {
    return this.counts.size !== 0 && this.counts.has(from * HOST_INDEX_LIMIT + to);
  }

  get empty(): boolean {
    return this.counts.size === 0;
  }

  block(from: number, to: number): void {
    assert(from !== to, 'PartitionTable.block: a host cannot be cut from itself');
    const key = from * HOST_INDEX_LIMIT + to;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Undo one block of from → to; healing what was not cut is a no-op. */
  unblock(from: number, to: number): void {
    const key = from * HOST_INDEX_LIMIT + to;
    const count = this.counts.get(key);
    maybe(count === undefined);
    if (count === undefined) return;
    if (count <= 1) this.counts.delete(key);
    else this.counts.set(key, count - 1);
  }

  clear(): void {
    this.counts.clear();
  }

  /** Block (or unblock) both directions between every two hosts of different groups. */
  applyGroups(groups: number[][], how: 'block' | 'unblock'): void {
    assert(groups.length >= 2, 'partition: need at least two groups');
    const seen = new Set<number>();
    for (const g of groups) {
      for (const h of g) {
        assert(!seen.has(h), `partition: host #${h} is in two groups`);
        seen.add(h);
      }
    }
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i]) {
          for (const b of groups[j]) {
            if (how === 'block') {
              this.block(a, b);
              this.block(b, a);
            } else {
              this.unblock(a, b);
              this.unblock(b, a);
            }
          }
        }
      }
    }
  }
}
