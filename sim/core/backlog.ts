/**
 * The replication buffer and the backlog, as Redis 7.0 keeps them: one list of blocks holding the
 * replication stream (server.repl_buffer_blocks), read by the backlog and by every replica.
 *
 * Theory of operation (redis src/replication.c, 7.0):
 * - feedReplicationBuffer() appends the stream to the tail block; only when the tail is full does
 *   it allocate a new block of max(16 KiB, len) bytes, capped at max(16 KiB, repl-backlog-size /
 *   16), plus whatever the allocator's size class rounds it up to (the block takes over that
 *   internal fragmentation). Nothing is allocated up front: a backlog of 8gb costs nothing until
 *   the stream fills it.
 * - Each reader references one block (refcount) and a position in it: the backlog always
 *   references the first block; a replica references the block it is sending from
 *   (ref_repl_buf_node, ref_block_pos), set on the first feed after it left WAIT_BGSAVE_START or by
 *   a PSYNC (addReplyReplicationBacklog). Readers only move forward.
 * - incrementalTrimReplicationBacklog() frees first blocks while histlen > repl-backlog-size, at
 *   most `maxBlocks` per call, only when the backlog is the first block's sole reader, never the
 *   last block, and never when freeing it would take histlen to repl-backlog-size or below. So
 *   histlen may exceed repl-backlog-size by up to a block, and by much more while a replica still
 *   references old blocks; the PSYNC window grows with it.
 * - repl_backlog->offset is stored (as in Redis) and recomputed on every trim, so the invariant
 *   `offset + histlen - 1 == master_repl_offset` (sim/check) checks real bookkeeping.
 *
 * Blocks are immutable below `used`, so replica output and PSYNC tails go out as views of them;
 * a freed block is left to the garbage collector (bytes may still be in flight in the network).
 * This file knows nothing of clients or sockets: master.ts drives it.
 */
import { assert } from '../assert.ts';
import { encodeCommandInto } from './resp.ts';

/** PROTO_REPLY_CHUNK_BYTES: the smallest block. */
export const PROTO_REPLY_CHUNK_BYTES = 16 * 1024;
/** REPL_BACKLOG_TRIM_BLOCKS_PER_CALL. */
export const REPL_BACKLOG_TRIM_BLOCKS_PER_CALL = 64;
/** sizeof(replBufBlock) on 64-bit Linux: int refcount (padded), long long id, repl_offset, size_t size, used. */
export const REPL_BUF_BLOCK_HEADER_BYTES = 40;
/** sizeof(listNode): prev, next, value. */
export const LIST_NODE_BYTES = 24;

/**
 * jemalloc 5's usable size for a request of `n` bytes (Debian's redis-server 7.0.15 is built with
 * jemalloc-5.3.0): 8, then multiples of 16 up to 128, then four size classes per doubling.
 * Redis's zmalloc_usable() reports it, and a block's `size` is that minus the block header:
 * a 16 KiB block really holds 20440 bytes (measured: repl_backlog_first_byte_offset 20441).
 */
export function jemallocUsableSize(n: number): number {
  assert(Number.isSafeInteger(n) && n > 0, `jemallocUsableSize: bad size ${n}`);
  if (n <= 8) return 8;
  if (n <= 128) return Math.ceil(n / 16) * 16;
  // The power of two below n (n in (p, 2p]); classes are spaced p/4.
  let p = 128;
  while (p * 2 < n) p *= 2;
  const spacing = p / 4;
  return Math.ceil(n / spacing) * spacing;
}

/** One replBufBlock. `refcount` counts the readers that reference it (backlog and replicas). */
export class ReplBlock {
  used = 0;
  refcount = 0;
  next: ReplBlock | null = null;
  /** Set when the block left the list; a reader holding it is a bug. */
  freed = false;
  constructor(
    /** Incremental id (repl_block_id): a reader's block count to the tail is tail.id - id + 1. */
    readonly id: number,
    /** Stream offset of buf[0] (repl_offset). */
    public replOffset: number,
    readonly buf: Buffer,
  ) {}

  get size(): number {
    return this.buf.length;
  }
}

/** A reader of the block list other than the backlog: a replica client (ref_repl_buf_node, ref_block_pos). */
export interface ReplBufReader {
  replBlock: ReplBlock | null;
  replBlockPos: number;
}

export class Backlog {
  /** repl-backlog-size: the trim target (not a capacity). */
  sizeBytes: number;
  /** Stream bytes the backlog covers, from `offset` to `endOffset`. */
  histlen = 0;
  /** repl_backlog->offset: the stream offset of the first byte held. */
  offset: number;
  /** master_repl_offset as of the last append: the offset of the last byte held. */
  endOffset: number;
  /** The first block (the backlog's own reference) and the last. */
  head: ReplBlock | null = null;
  tail: ReplBlock | null = null;
  /** Blocks in the list. */
  blockCount = 0;
  /** server.repl_buffer_mem: every block's allocation plus its list node. */
  memBytes = 0;
  /** Sum of every block's refcount, so sim/check can audit the references cheaply. */
  totalRefs = 0;
  private nextBlockId = 0;

  // Set by appendSome() for its caller: where this round's bytes start and whether a block was added.
  startBlock: ReplBlock | null = null;
  startPos = 0;
  addedBlock = false;

  constructor(sizeBytes: number, masterReplOffset: number) {
    assert(Number.isSafeInteger(sizeBytes) && sizeBytes > 0, `backlog: bad size ${sizeBytes}`);
    assert(Number.isSafeInteger(masterReplOffset) && masterReplOffset >= 0, `backlog: bad offset ${masterReplOffset}`);
    this.sizeBytes = sizeBytes;
    // createReplicationBacklog(): virtually, the first byte held is the next one produced.
    this.offset = masterReplOffset + 1;
    this.endOffset = masterReplOffset;
  }

  /**
   * One round of feedReplicationBuffer()'s loop: fill the tail block, then, if bytes remain, one
   * new block. Returns how many bytes of bytes[from..] were taken; the caller advances
   * master_repl_offset alike, attaches replicas to startBlock/startPos, checks their output
   * limits when addedBlock, then calls trim(). Allocation-free unless a block is added.
   */
  appendSome(bytes: Uint8Array, from: number): number {
    let len = bytes.length - from;
    assert(len > 0, 'backlog.appendSome: nothing to append');
    let taken = 0;
    this.startBlock = null;
    this.startPos = 0;
    this.addedBlock = false;
    let tail = this.tail;
    if (tail !== null && tail.size > tail.used) {
      this.startBlock = tail;
      this.startPos = tail.used;
      const copy = Math.min(tail.size - tail.used, len);
      tail.buf.set(copy === bytes.length ? bytes : bytes.subarray(from, from + copy), tail.used);
      tail.used += copy;
      taken += copy;
      len -= copy;
    }
    if (len > 0) {
      // At least PROTO_REPLY_CHUNK_BYTES so later writes can append; at most a 16th of the
      // backlog so a huge block does not pin bytes the backlog no longer needs.
      const limit = Math.max(Math.floor(this.sizeBytes / 16), PROTO_REPLY_CHUNK_BYTES);
      const want = Math.min(Math.max(len, PROTO_REPLY_CHUNK_BYTES), limit);
      const usable = jemallocUsableSize(want + REPL_BUF_BLOCK_HEADER_BYTES);
      const block = new ReplBlock(this.nextBlockId++, this.endOffset + taken + 1, Buffer.allocUnsafe(usable - REPL_BUF_BLOCK_HEADER_BYTES));
      const copy = Math.min(block.size, len);
      const start = from + taken;
      block.buf.set(start === 0 && copy === bytes.length ? bytes : bytes.subarray(start, start + copy), 0);
      block.used = copy;
      if (tail === null) this.head = block;
      else tail.next = block;
      this.tail = tail = block;
      this.blockCount++;
      this.memBytes += usable + LIST_NODE_BYTES;
      this.addedBlock = true;
      if (this.startBlock === null) this.startBlock = block;
      taken += copy;
    }
    this.endOffset += taken;
    this.histlen += taken;
    // The backlog's own reference: the first block ever added.
    if (this.head !== null && this.head.refcount === 0) {
      assert(this.addedBlock && this.startPos === 0 && this.head === this.startBlock, 'backlog: the buffer was not empty when the backlog attached');
      this.ref(this.head);
    }
    return taken;
  }

  /**
   * appendSome() for a command of `sizeBytes` that fits in the tail block's free room, encoded
   * there directly by encodeCommandInto() (no Buffer of its own, no copy). Sets startBlock and
   * startPos as appendSome() does; never adds a block. The caller checked tailRoomBytes().
   */
  appendCommandInTail(argv: readonly string[], sizeBytes: number): void {
    const tail = this.tail!;
    this.startBlock = tail;
    this.startPos = tail.used;
    this.addedBlock = false;
    const end = encodeCommandInto(tail.buf, tail.used, argv);
    if (end !== tail.used + sizeBytes) assert(false, `backlog.appendCommandInTail: ${end - tail.used} bytes encoded, ${sizeBytes} expected`);
    tail.used = end;
    this.endOffset += sizeBytes;
    this.histlen += sizeBytes;
  }

  /** Free bytes in the tail block (0 without one, or before the backlog holds its first block). */
  tailRoomBytes(): number {
    const tail = this.tail;
    return tail === null || this.head === null || this.head.refcount === 0 ? 0 : tail.size - tail.used;
  }

  /** Append all of `bytes` with no readers but the backlog (tests, and callers without replicas). */
  append(bytes: Uint8Array): void {
    for (let from = 0; from < bytes.length;) {
      from += this.appendSome(bytes, from);
      if (this.addedBlock) this.trim(REPL_BACKLOG_TRIM_BLOCKS_PER_CALL);
    }
  }

  /**
   * incrementalTrimReplicationBacklog(): free first blocks that only the backlog references while
   * histlen exceeds repl-backlog-size, keeping at least one block and never going to or below
   * the size; at most maxBlocks per call. Then recompute the first byte's offset.
   */
  trim(maxBlocks: number): void {
    let trimmed = 0;
    while (this.histlen > this.sizeBytes && trimmed < maxBlocks) {
      const first = this.head;
      // We never trim the backlog to less than one block.
      if (first === null || first.next === null) break;
      // A replica still reads from it: the backlog grows past its size instead.
      if (first.refcount !== 1) break;
      // The bytes of this block the backlog covers: its size, except after the zoo's rebase.
      const firstBytes = first.replOffset + first.used - this.offset;
      if (this.histlen - firstBytes <= this.sizeBytes) break;
      const next = first.next;
      this.unref(first);
      this.ref(next);
      this.histlen -= firstBytes;
      this.offset = this.endOffset - this.histlen + 1;
      this.head = next;
      first.next = null;
      first.freed = true;
      this.blockCount--;
      this.memBytes -= first.size + REPL_BUF_BLOCK_HEADER_BYTES + LIST_NODE_BYTES;
      trimmed++;
    }
    this.offset = this.endOffset - this.histlen + 1;
  }

  /** resizeReplicationBacklog(): a new size only trims (incrementally); the content stays. */
  resize(sizeBytes: number): void {
    assert(Number.isSafeInteger(sizeBytes) && sizeBytes > 0, `backlog: bad size ${sizeBytes}`);
    this.sizeBytes = sizeBytes;
    this.trim(REPL_BACKLOG_TRIM_BLOCKS_PER_CALL);
  }

  // --- Readers ------------------------------------------------------------------------------

  /** The first feed after a replica may be fed: it starts where this round's bytes start. */
  attachAtStart(r: ReplBufReader): void {
    const b = this.startBlock;
    assert(b !== null, 'backlog.attachAtStart: no round in progress');
    r.replBlock = b;
    r.replBlockPos = this.startPos;
    this.ref(b);
  }

  /**
   * addReplyReplicationBacklog(): reference the block holding `psyncOffset` (the earlier block
   * when the offset falls on a boundary). Returns the bytes the replica will be sent. With
   * histlen 0 nothing is referenced: the next feed attaches the replica.
   */
  attachAt(r: ReplBufReader, psyncOffset: number): number {
    assert(this.covers(psyncOffset), `backlog: offset ${psyncOffset} outside [${this.offset}, ${this.offset + this.histlen}]`);
    if (this.histlen === 0) return 0;
    let b = this.head;
    while (b !== null && b.replOffset + b.used < psyncOffset) b = b.next;
    assert(b !== null, 'backlog.attachAt: no block holds the offset');
    r.replBlock = b;
    r.replBlockPos = psyncOffset - b.replOffset;
    this.ref(b);
    return this.endOffset - psyncOffset + 1;
  }

  /** copyReplicaOutputBuffer(): `dst` shares `src`'s position (a replica joining a BGSAVE). */
  copyReader(dst: ReplBufReader, src: ReplBufReader): void {
    assert(dst.replBlock === null, 'backlog.copyReader: the destination already reads');
    if (src.replBlock === null) return;
    dst.replBlock = src.replBlock;
    dst.replBlockPos = src.replBlockPos;
    this.ref(src.replBlock);
  }

  /** freeReplicaReferencedReplBuffer(): drop the reader's reference and trim. */
  release(r: ReplBufReader): void {
    const b = r.replBlock;
    if (b !== null) {
      this.unref(b);
      this.trim(REPL_BACKLOG_TRIM_BLOCKS_PER_CALL);
    }
    r.replBlock = null;
    r.replBlockPos = 0;
  }

  /** clientHasPendingReplies() for a replica: bytes after its position. */
  hasPending(r: ReplBufReader): boolean {
    const b = r.replBlock;
    if (b === null) return false;
    return !(b === this.tail && r.replBlockPos === b.used);
  }

  /**
   * _writeToClient() for a replica, once its block is fully sent: move to the next block (if
   * any), dropping the reference to the old one, and trim. Returns false at the tail.
   */
  advance(r: ReplBufReader): boolean {
    const b = r.replBlock;
    assert(b !== null && r.replBlockPos === b.used, 'backlog.advance: the block is not fully sent');
    const next = b.next;
    if (next === null) return false;
    this.unref(b);
    this.ref(next);
    r.replBlock = next;
    r.replBlockPos = 0;
    this.trim(REPL_BACKLOG_TRIM_BLOCKS_PER_CALL);
    return true;
  }

  // The last view made by view(): replicas fed the same bytes send the same object.
  private viewBlock: ReplBlock | null = null;
  private viewFrom = 0;
  private viewTo = 0;
  private lastView: Uint8Array | null = null;

  /**
   * Bytes [from, to) of block `b` as a plain Uint8Array view (cheaper to make than a Buffer
   * view), the same object for the same range: every replica in step sends one view. Blocks never
   * change below `used`, so a range always holds the same bytes.
   */
  view(b: ReplBlock, from: number, to: number): Uint8Array {
    if (b === this.viewBlock && from === this.viewFrom && to === this.viewTo) return this.lastView!;
    const v = new Uint8Array(b.buf.buffer, b.buf.byteOffset + from, to - from);
    this.viewBlock = b;
    this.viewFrom = from;
    this.viewTo = to;
    this.lastView = v;
    return v;
  }

  /**
   * getClientOutputBufferMemoryUsage() for a replica: from the start of its block to the end of
   * the tail block's allocation, plus each block's header and list node.
   */
  outputBufferBytes(r: ReplBufReader): number {
    const cur = r.replBlock;
    const last = this.tail;
    if (cur === null || last === null) return 0;
    return last.replOffset + last.size - cur.replOffset + (REPL_BUF_BLOCK_HEADER_BYTES + LIST_NODE_BYTES) * (last.id - cur.id + 1);
  }

  private ref(b: ReplBlock): void {
    b.refcount++;
    this.totalRefs++;
  }

  private unref(b: ReplBlock): void {
    assert(b.refcount > 0, `backlog: block ${b.id} has no reference to drop`);
    b.refcount--;
    this.totalRefs--;
  }

  // --- History --------------------------------------------------------------------------------

  /**
   * Keep the bytes but claim they end at `endOffset`: only the bug zoo's #2694 does this (a
   * stale backlog reused after a full sync), so the invariants see its consequence, not this.
   * Like rebaseReplicationBuffer(), every block's offset moves by the same amount.
   */
  rebase(endOffset: number): void {
    const delta = endOffset - this.endOffset;
    for (let b = this.head; b !== null; b = b.next) b.replOffset += delta;
    this.endOffset = endOffset;
    this.histlen = Math.min(this.histlen, endOffset);
    this.offset = endOffset - this.histlen + 1;
  }

  /** Do we still hold every byte from `psyncOffset` on? The upper bound is "fully caught up". */
  covers(psyncOffset: number): boolean {
    return psyncOffset >= this.offset && psyncOffset <= this.offset + this.histlen;
  }

  /** A copy of the bytes from psyncOffset to the end (for sim/check and tests; PSYNC uses attachAt). */
  readFrom(psyncOffset: number): Buffer {
    assert(this.covers(psyncOffset), `backlog: offset ${psyncOffset} outside [${this.offset}, ${this.offset + this.histlen}]`);
    const out = Buffer.allocUnsafe(this.endOffset - psyncOffset + 1);
    let filled = 0;
    for (let b = this.head; b !== null; b = b.next) {
      const end = b.replOffset + b.used; // One past the block's last byte.
      if (end <= psyncOffset) continue;
      const from = Math.max(0, psyncOffset - b.replOffset);
      b.buf.copy(out, filled, from, b.used);
      filled += b.used - from;
    }
    assert(filled === out.length, `backlog.readFrom: ${filled} bytes found, ${out.length} expected`);
    return out;
  }
}
