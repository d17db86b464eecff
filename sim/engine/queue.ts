/**
 * The event queue: a binary min-heap of scheduled entries ordered by (atUs, seq).
 *
 * Theory of operation. `seq` is stamped by push() from a counter that only grows, so two
 * entries due at the same microsecond leave in the order they were pushed: the order is
 * total and never depends on heap layout (no comparator that cannot return 0
 * is needed, and none returns 0). The heap is one array of small objects (the entries
 * themselves); push and pop are O(log n) with no allocation beyond the array's growth.
 *
 * Cancellation is the caller's business (the engine flags its timers and skips them at
 * pop); retain() lets it sweep flagged entries out in O(n) when they pile up.
 * This file knows nothing of time semantics or of Redis.
 */
import { assert } from '../assert.ts';

/** What the queue orders. `seq` is written by push(); callers set it to anything before. */
export interface Scheduled {
  readonly atUs: number;
  seq: number;
}

export class EventQueue<T extends Scheduled> {
  private readonly heap: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** The earliest entry, without removing it; undefined when empty. */
  peek(): T | undefined {
    return this.heap[0];
  }

  push(entry: T): void {
    assert(Number.isSafeInteger(entry.atUs), 'EventQueue.push: atUs is not an integer');
    entry.seq = this.nextSeq++;
    const heap = this.heap;
    heap.push(entry);
    this.siftUp(heap.length - 1);
  }

  /** Remove and return the earliest entry; undefined when empty. */
  pop(): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Keep only the entries for which `keep` holds, then rebuild the heap (Floyd, O(n)). */
  retain(keep: (entry: T) => boolean): void {
    const heap = this.heap;
    let w = 0;
    for (let r = 0; r < heap.length; r++) {
      const e = heap[r];
      if (keep(e)) heap[w++] = e;
    }
    heap.length = w;
    for (let i = (w >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** (atUs, seq) order; seq is unique, so this never calls two entries equal. */
  private static before(a: Scheduled, b: Scheduled): boolean {
    return a.atUs < b.atUs || (a.atUs === b.atUs && a.seq < b.seq);
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const entry = heap[index];
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (!EventQueue.before(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[index];
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && EventQueue.before(heap[right], heap[left]) ? right : left;
      if (!EventQueue.before(heap[child], entry)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = entry;
  }
}
