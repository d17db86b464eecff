import { describe, it, expect } from 'vitest';
import { Backlog, jemallocUsableSize, REPL_BUF_BLOCK_HEADER_BYTES, LIST_NODE_BYTES } from '../sim/core/backlog.ts';
import type { ReplBufReader } from '../sim/core/backlog.ts';

/** 20480 (jemalloc's class for 16 KiB + the 40-byte header) minus the header. */
const BLOCK_BYTES = 20440;

const reader = (): ReplBufReader => ({ replBlock: null, replBlockPos: 0 });

/** Deterministic bytes: chunk i, byte j. */
function chunk(i: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let j = 0; j < len; j++) b[j] = (i * 31 + j) & 0xff;
  return b;
}

/** What must hold after any append or trim, checked against the whole stream kept aside. */
function check(b: Backlog, stream: Buffer): void {
  expect(b.endOffset).toBe(stream.length);
  // offset + histlen - 1 == master_repl_offset.
  expect(b.offset + b.histlen - 1).toBe(stream.length);
  for (const from of [b.offset, b.offset + Math.floor(b.histlen / 2), b.offset + b.histlen]) {
    expect(b.readFrom(from).equals(stream.subarray(from - 1))).toBe(true);
  }
  // The list accounts for exactly its blocks.
  let blocks = 0;
  let mem = 0;
  for (let blk = b.head; blk !== null; blk = blk.next) {
    blocks++;
    mem += blk.size + REPL_BUF_BLOCK_HEADER_BYTES + LIST_NODE_BYTES;
  }
  expect(b.blockCount).toBe(blocks);
  expect(b.memBytes).toBe(mem);
}

describe('jemalloc size classes (the block sizes of Debian redis-server 7.0.15)', () => {
  it('rounds as jemalloc 5 does', () => {
    expect(jemallocUsableSize(16384 + 40)).toBe(20480);
    expect(jemallocUsableSize(16384)).toBe(16384);
    expect(jemallocUsableSize(20481)).toBe(24576);
    expect(jemallocUsableSize(65536 + 40)).toBe(81920);
    expect(jemallocUsableSize(100)).toBe(112);
    expect(jemallocUsableSize(5)).toBe(8);
  });
});

describe('backlog: the shared block list (7.0 replication buffer)', () => {
  it('a fresh backlog holds nothing, allocates nothing and covers only the next byte', () => {
    const b = new Backlog(16 * 1024, 100);
    expect(b.offset).toBe(101);
    expect(b.histlen).toBe(0);
    expect(b.blockCount).toBe(0);
    expect(b.covers(101)).toBe(true);
    expect(b.covers(100)).toBe(false);
    expect(b.covers(102)).toBe(false);
    expect(b.readFrom(101).length).toBe(0);
  });

  it('an 8gb backlog allocates nothing up front and one 16 KiB block for a small write', () => {
    const b = new Backlog(8 * 1024 ** 3, 0);
    expect(b.memBytes).toBe(0);
    b.append(Buffer.from('*1\r\n$4\r\nPING\r\n'));
    expect(b.blockCount).toBe(1);
    expect(b.head!.size).toBe(BLOCK_BYTES);
    expect(b.memBytes).toBe(20480 + LIST_NODE_BYTES);
  });

  it('appends into the tail block and adds a block only when it is full', () => {
    const b = new Backlog(1024 * 1024, 0);
    b.append(chunk(0, 100));
    const first = b.head!;
    b.append(chunk(1, BLOCK_BYTES - 100)); // Exactly fills it.
    expect(b.blockCount).toBe(1);
    expect(first.used).toBe(BLOCK_BYTES);
    b.append(chunk(2, 1));
    expect(b.blockCount).toBe(2);
    expect(b.tail!.replOffset).toBe(BLOCK_BYTES + 1);
  });

  it('a write larger than a block makes blocks of up to repl-backlog-size / 16', () => {
    const b = new Backlog(1024 * 1024, 0); // Limit 64 KiB: blocks of 81920 - 40.
    b.append(chunk(0, 200_000));
    const sizes: number[] = [];
    for (let blk = b.head; blk !== null; blk = blk.next) sizes.push(blk.size);
    expect(sizes).toEqual([81880, 81880, jemallocUsableSize(200_000 - 2 * 81880 + 40) - 40]);
    expect(b.histlen).toBe(200_000);
  });

  it('trims whole first blocks, never to repl-backlog-size or below: histlen ends in (size, size + block]', () => {
    for (const size of [16 * 1024, 40_000, 100_000]) {
      const b = new Backlog(size, 0);
      let stream = Buffer.alloc(0);
      let seed = size;
      for (let i = 0; i < 300; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const c = chunk(i, seed % 3000);
        if (c.length === 0) continue;
        b.append(c);
        stream = Buffer.concat([stream, c]);
        check(b, stream);
        b.trim(640); // beforeSleep's trim: the list reaches its fixed point.
        check(b, stream);
        if (b.blockCount > 1) {
          // The fixed point of incrementalTrimReplicationBacklog(): freeing the first block would
          // take histlen to the size or below.
          expect(b.histlen - b.head!.size).toBeLessThanOrEqual(size);
        }
        if (stream.length > size + BLOCK_BYTES) expect(b.histlen).toBeGreaterThan(size);
      }
    }
  });

  it('a reader on an old block holds it and every later one; releasing it lets the trim run', () => {
    const b = new Backlog(16 * 1024, 0);
    let stream = Buffer.alloc(0);
    const slow = reader();
    const feed = (c: Buffer): void => {
      for (let from = 0; from < c.length;) {
        from += b.appendSome(c, from);
        if (slow.replBlock === null) b.attachAtStart(slow);
        if (b.addedBlock) b.trim(64);
      }
      stream = Buffer.concat([stream, c]);
    };
    for (let i = 0; i < 20; i++) feed(chunk(i, 5000));
    check(b, stream);
    // Nothing was trimmed: the reader still references the first block.
    expect(b.offset).toBe(1);
    expect(b.histlen).toBe(100_000);
    expect(b.head!.refcount).toBe(2);
    expect(b.totalRefs).toBe(2);
    expect(b.outputBufferBytes(slow)).toBe(b.tail!.replOffset + b.tail!.size - 1 + 64 * b.blockCount);
    b.release(slow);
    check(b, stream);
    expect(b.histlen - b.head!.size).toBeLessThanOrEqual(16 * 1024);
    expect(b.histlen).toBeGreaterThan(16 * 1024);
    expect(b.totalRefs).toBe(1);
  });

  it('trims at most maxBlocks per call (incrementalTrimReplicationBacklog)', () => {
    const b = new Backlog(16 * 1024, 0);
    const slow = reader();
    const c = chunk(0, 1000);
    for (let i = 0; i < 2000; i++) {
      for (let from = 0; from < c.length;) {
        from += b.appendSome(c, from);
        if (slow.replBlock === null) b.attachAtStart(slow);
      }
    }
    const blocks = b.blockCount;
    expect(blocks).toBeGreaterThan(64);
    slow.replBlock!.refcount--; // Drop the reference without release()'s own trim.
    (b as unknown as { totalRefs: number }).totalRefs--;
    b.trim(10);
    expect(b.blockCount).toBe(blocks - 10);
    b.trim(1000);
    expect(b.histlen - b.head!.size).toBeLessThanOrEqual(16 * 1024);
  });

  it('a PSYNC reader starts in the block holding its offset; advance moves it on', () => {
    const b = new Backlog(16 * 1024, 0); // Blocks of 20440 bytes.
    const r0 = reader(); // Holds the first block so nothing is trimmed.
    b.append(chunk(6, 1));
    b.attachAt(r0, 1);
    const stream = Buffer.concat([chunk(6, 1), chunk(7, 49_999)]);
    b.append(stream.subarray(1));
    const r = reader();
    expect(b.attachAt(r, 30_000)).toBe(20_001);
    expect(r.replBlock!.replOffset).toBe(BLOCK_BYTES + 1);
    expect(r.replBlockPos).toBe(30_000 - BLOCK_BYTES - 1);
    // A boundary offset lands at the end of the earlier block (o->repl_offset + used >= offset).
    const edge = reader();
    b.attachAt(edge, BLOCK_BYTES + 1);
    expect(edge.replBlock).toBe(b.head);
    expect(edge.replBlockPos).toBe(BLOCK_BYTES);
    // Sending: the views, concatenated, are the stream from the offset.
    const sent: Buffer[] = [];
    for (let blk = r.replBlock; blk !== null; blk = r.replBlock) {
      sent.push(blk.buf.subarray(r.replBlockPos, blk.used));
      r.replBlockPos = blk.used;
      if (!b.advance(r)) break;
    }
    expect(Buffer.concat(sent).equals(stream.subarray(29_999))).toBe(true);
    expect(b.hasPending(r)).toBe(false);
    expect(r.replBlock).toBe(b.tail);
  });

  it('resizing keeps the content and only trims', () => {
    const b = new Backlog(1024 * 1024, 0);
    const stream = chunk(3, 300_000);
    b.append(stream);
    expect(b.offset).toBe(1);
    b.resize(32 * 1024);
    check(b, stream);
    expect(b.histlen).toBeGreaterThan(32 * 1024);
    expect(b.histlen - b.head!.size).toBeLessThanOrEqual(32 * 1024);
    b.resize(8 * 1024 ** 3);
    check(b, stream);
  });

  it('refuses to read outside what it holds (an assertion, not garbage)', () => {
    const b = new Backlog(16 * 1024, 0);
    b.append(Buffer.from('abcdef'));
    expect(() => b.readFrom(8)).toThrow(/outside/);
    expect(() => b.attachAt(reader(), 0)).toThrow(/outside/);
  });

  it('rebase (the zoo\'s #2694) keeps the bytes under new offsets', () => {
    const b = new Backlog(16 * 1024, 0);
    b.append(Buffer.from('abcdefghij'));
    b.rebase(4);
    expect(b.offset).toBe(1);
    expect(b.histlen).toBe(4);
    expect(b.readFrom(1).toString()).toBe('ghij');
    b.rebase(100);
    expect(b.readFrom(97).toString()).toBe('ghij');
  });
});

describe('backlog: repl-backlog-size 8gb on a node', () => {
  it('runs a replicated story without allocating the size (scenarios/features/backlog-8gb.scn)', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseScenario } = await import('../sim/scenario/parser.ts');
    const { runScenario } = await import('../sim/scenario/run.ts');
    const file = 'scenarios/features/backlog-8gb.scn';
    const source = readFileSync(file, 'latin1');
    const before = process.memoryUsage().arrayBuffers;
    const result = runScenario(parseScenario(source, file), { file, source, trace: null });
    const grownBytes = process.memoryUsage().arrayBuffers - before;
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.checks.length).toBeGreaterThanOrEqual(10);
    // Two nodes' streams of ~1 MB each, not 8 GiB: far below even one gigabyte.
    expect(grownBytes).toBeLessThan(256 * 1024 * 1024);
  }, 60_000);
});
