/**
 * The replication backlog: the last `sizeBytes` bytes of the node's replication stream, kept so
 * that a replica that lost its link can continue with PSYNC instead of a full resync.
 *
 * Offsets are 1-based stream positions (the first byte of a stream is offset 1). The invariant, checked on
 * every append, is `offset + histlen - 1 == endOffset` where endOffset is the node's
 * master_repl_offset. A fresh backlog has histlen 0 and offset = master_repl_offset + 1.
 *
 * Simplification: Redis ≤ 6.2's fixed circular buffer, not 7.x's shared block list. So
 * histlen = min(bytes written since creation, size) exactly, a slow replica never makes the
 * backlog retain more than its size, and resizing discards the content.
 */
import { assert } from '../assert.ts';

export class Backlog {
  private buf: Buffer;
  /** Write position in buf: where the next byte goes. */
  private idx = 0;
  /** Bytes held (≤ sizeBytes). */
  histlen = 0;
  /** master_repl_offset as of the last append: the offset of the last byte held. */
  endOffset: number;

  constructor(readonly sizeBytes: number, masterReplOffset: number) {
    assert(Number.isSafeInteger(sizeBytes) && sizeBytes > 0, `backlog: bad size ${sizeBytes}`);
    assert(Number.isSafeInteger(masterReplOffset) && masterReplOffset >= 0, `backlog: bad offset ${masterReplOffset}`);
    this.buf = Buffer.allocUnsafe(sizeBytes);
    this.endOffset = masterReplOffset;
  }

  /** repl_backlog->offset: the stream offset of the first byte held. */
  get offset(): number {
    return this.endOffset - this.histlen + 1;
  }

  /** feedReplicationBuffer(): append stream bytes; the caller advances master_repl_offset alike. */
  append(bytes: Uint8Array): void {
    const len = bytes.length;
    this.endOffset += len;
    const size = this.sizeBytes;
    if (len >= size) {
      // Only the tail fits: the whole buffer becomes the last `size` bytes.
      this.buf.set(bytes.subarray(len - size), 0);
      this.idx = 0;
      this.histlen = size;
      return;
    }
    const first = Math.min(len, size - this.idx);
    this.buf.set(first === len ? bytes : bytes.subarray(0, first), this.idx);
    if (first < len) this.buf.set(bytes.subarray(first), 0);
    this.idx = (this.idx + len) % size;
    this.histlen = Math.min(this.histlen + len, size);
  }

  /**
   * Keep the bytes but claim they end at `endOffset`: only the bug zoo's #2694 does this (a
   * stale backlog reused after a full sync), so the invariants see its consequence, not this.
   */
  rebase(endOffset: number): void {
    this.endOffset = endOffset;
    this.histlen = Math.min(this.histlen, endOffset);
  }

  /** Do we still hold every byte from `psyncOffset` on? The upper bound is "fully caught up". */
  covers(psyncOffset: number): boolean {
    return psyncOffset >= this.offset && psyncOffset <= this.offset + this.histlen;
  }

  /** addReplyReplicationBacklog(): the bytes from psyncOffset to the end. */
  readFrom(psyncOffset: number): Buffer {
    assert(this.covers(psyncOffset), `backlog: offset ${psyncOffset} outside [${this.offset}, ${this.offset + this.histlen}]`);
    const n = this.histlen - (psyncOffset - this.offset);
    const out = Buffer.allocUnsafe(n);
    // The oldest byte sits at idx - histlen (mod size); ours is `skip` bytes after it.
    const size = this.sizeBytes;
    const start = (((this.idx - n) % size) + size) % size;
    const first = Math.min(n, size - start);
    this.buf.copy(out, 0, start, start + first);
    if (first < n) this.buf.copy(out, first, 0, n - first);
    return out;
  }
}
