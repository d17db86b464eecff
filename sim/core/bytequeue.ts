/**
 * ByteQueue: a FIFO of received bytes that can be read line by line or in exact counts.
 *
 * Theory of operation: the replica reads its master's handshake replies one line at a time
 * (syncReadLine() in redis src/syncio.c / connSyncReadLine), then switches to reading the raw
 * RDB payload by length or until an EOF mark (readSyncBulkPayload() in replication.c). Bytes
 * arrive in arbitrary chunks, often 16-64 KB of a multi-MB payload, so the queue keeps the
 * pushed chunks as they are (no concatenation on push) plus an offset into the first one.
 * take() returns a view when the bytes lie in one chunk and copies only when it must span
 * chunks. readLine() remembers how far it has already searched, so a line dribbling in byte
 * by byte costs linear, not quadratic, time.
 *
 * Ownership: the queue keeps references to pushed chunks and take() may return views of
 * them, so a caller must not mutate a chunk after pushing it.
 */
import { assert } from '../assert.ts';

const LF = 0x0a;
const CR = 0x0d;

export class ByteQueue {
  /**
   * Live chunks are chunks[head, tail); the array keeps its capacity when the queue drains (a
   * replica's stream queue drains after every delivery: a new array each time would be garbage).
   */
  private chunks: (Uint8Array | null)[] = [];
  /** Index of the first live chunk in `chunks` (dead chunks are moved out occasionally). */
  private head = 0;
  private tail = 0;
  /** Bytes already consumed from chunks[head]. */
  private headOffset = 0;
  private totalBytes = 0;
  /** readLine() found no \n in the first `scannedBytes` bytes; reset when bytes are consumed. */
  private scannedBytes = 0;

  /** Bytes buffered and not yet read. */
  get length(): number {
    return this.totalBytes;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.tail < this.chunks.length) this.chunks[this.tail] = chunk;
    else this.chunks.push(chunk);
    this.tail++;
    this.totalBytes += chunk.length;
  }

  /** Discard everything (the link was closed). */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.tail = 0;
    this.headOffset = 0;
    this.totalBytes = 0;
    this.scannedBytes = 0;
  }

  /** The byte at `index` from the front, without consuming it. */
  peekByte(index: number): number {
    assert(Number.isInteger(index) && index >= 0 && index < this.totalBytes, `ByteQueue.peekByte: ${index} out of range`);
    let i = this.head;
    let at = index + this.headOffset;
    while (at >= this.chunks[i]!.length) {
      at -= this.chunks[i]!.length;
      i++;
    }
    return this.chunks[i]![at]!;
  }

  /** Position of the first `byte` at or after `from` (counted from the front), or -1. */
  indexOf(byte: number, from = 0): number {
    let base = -this.headOffset; // Queue position of chunks[i][0].
    for (let i = this.head; i < this.tail; i++) {
      const chunk = this.chunks[i]!;
      if (base + chunk.length > from) {
        const start = Math.max(0, from - base);
        const at = chunk.indexOf(byte, start);
        if (at !== -1) return base + at;
      }
      base += chunk.length;
    }
    return -1;
  }

  /**
   * One line, as syncReadLine() reads it: up to and including \n, returned as latin1 text
   * without the \n and without one \r before it. Null when no complete line is buffered.
   */
  readLine(): string | null {
    const nl = this.indexOf(LF, this.scannedBytes);
    if (nl === -1) {
      this.scannedBytes = this.totalBytes;
      return null;
    }
    const raw = this.take(nl + 1);
    const end = nl > 0 && raw[nl - 1] === CR ? nl - 1 : nl;
    return raw.toString('latin1', 0, end);
  }

  /** Exactly n bytes from the front. The caller must have checked `length`. */
  take(n: number): Buffer {
    // Messages built only on failure: a replica takes once per applied command.
    if (!(Number.isInteger(n) && n >= 0)) assert(false, `ByteQueue.take: bad count ${n}`);
    if (n > this.totalBytes) assert(false, `ByteQueue.take: ${n} bytes asked, ${this.totalBytes} buffered`);
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[this.head]!;
    let out: Buffer;
    if (this.headOffset === 0 && n === first.length && first instanceof Buffer) {
      // The commonest case (a replica applies what one delivery brought): the chunk itself.
      this.consume(n);
      return first;
    }
    if (first.length - this.headOffset >= n) {
      // The common case: a view into one chunk, no copy.
      out = Buffer.from(first.buffer, first.byteOffset + this.headOffset, n);
      this.consume(n);
      return out;
    }
    out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head]!;
      const avail = chunk.length - this.headOffset;
      const want = Math.min(avail, n - filled);
      out.set(chunk.subarray(this.headOffset, this.headOffset + want), filled);
      filled += want;
      this.consume(want);
    }
    return out;
  }

  /**
   * take() for a caller that only needs the bytes (a replica proxying what it applied): the head
   * chunk itself when it is exactly n bytes, else a plain Uint8Array view when they lie in one
   * chunk (a Buffer view costs several times as much to make), else a copy.
   */
  takeBytes(n: number): Uint8Array {
    const first = this.chunks[this.head];
    if (first === undefined || first === null || n === 0 || first.length - this.headOffset < n) return this.take(n);
    const out = this.headOffset === 0 && n === first.length ? first : new Uint8Array(first.buffer, first.byteOffset + this.headOffset, n);
    this.consume(n);
    return out;
  }

  /** Everything buffered. */
  takeAll(): Buffer {
    return this.take(this.totalBytes);
  }

  /** Advance past n bytes that lie within chunks[head]. */
  private consume(n: number): void {
    const chunk = this.chunks[this.head]!;
    assert(this.headOffset + n <= chunk.length, 'ByteQueue.consume: crosses a chunk');
    this.headOffset += n;
    this.totalBytes -= n;
    this.scannedBytes = Math.max(0, this.scannedBytes - n);
    if (this.headOffset === chunk.length) {
      this.chunks[this.head] = null; // Let the bytes be collected.
      this.head++;
      this.headOffset = 0;
      if (this.head === this.tail) {
        this.head = this.tail = 0;
      } else if (this.head >= 64 && this.head * 2 >= this.tail) {
        // Move the live chunks to the front now and then, so this is amortised O(1).
        this.chunks.copyWithin(0, this.head, this.tail);
        this.chunks.fill(null, this.tail - this.head, this.tail);
        this.tail -= this.head;
        this.head = 0;
      }
    }
  }
}

/**
 * The chunks as one Buffer. When they are consecutive views of one ArrayBuffer (an RDB payload
 * that the network delivered as subarrays of the master's file, which take() handed on as views)
 * the result is a view of it too, with no copy: a 1M-key full sync then holds one copy of the
 * file, not three. Otherwise a copy (Buffer.concat). The ownership rule of ByteQueue applies.
 */
export function joinChunks(chunks: readonly Uint8Array[], totalBytes: number): Buffer {
  if (chunks.length > 0) {
    const first = chunks[0]!;
    let end = first.byteOffset + first.length;
    let contiguous = true;
    for (let i = 1; i < chunks.length && contiguous; i++) {
      const c = chunks[i]!;
      contiguous = c.buffer === first.buffer && c.byteOffset === end;
      end += c.length;
    }
    if (contiguous && end - first.byteOffset === totalBytes) return Buffer.from(first.buffer, first.byteOffset, totalBytes);
  }
  return Buffer.concat(chunks, totalBytes);
}
