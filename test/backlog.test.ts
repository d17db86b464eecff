import { describe, it, expect } from 'vitest';
import { Backlog } from '../sim/core/backlog.ts';

/** A reference model: the whole stream kept in memory. */
function check(b: Backlog, stream: Buffer): void {
  expect(b.endOffset).toBe(stream.length);
  expect(b.histlen).toBe(Math.min(stream.length, b.sizeBytes));
  // The backlog invariant: offset + histlen - 1 == master_repl_offset.
  expect(b.offset + b.histlen - 1).toBe(stream.length);
  for (const from of [b.offset, b.offset + Math.floor(b.histlen / 2), b.offset + b.histlen]) {
    expect(b.readFrom(from).equals(stream.subarray(from - 1))).toBe(true);
  }
}

describe('backlog', () => {
  it('a fresh backlog holds nothing and covers only the next byte', () => {
    const b = new Backlog(16, 100);
    expect(b.offset).toBe(101);
    expect(b.histlen).toBe(0);
    expect(b.covers(101)).toBe(true);
    expect(b.covers(100)).toBe(false);
    expect(b.covers(102)).toBe(false);
    expect(b.readFrom(101).length).toBe(0);
  });

  it('wraps around: holds exactly the last sizeBytes bytes, for any write sizes', () => {
    for (const size of [1, 7, 16, 100]) {
      const b = new Backlog(size, 0);
      let stream = Buffer.alloc(0);
      let seed = size;
      for (let i = 0; i < 200; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const len = seed % (size * 2 + 3);
        const chunk = Buffer.alloc(len);
        for (let j = 0; j < len; j++) chunk[j] = (i * 31 + j) & 0xff;
        b.append(chunk);
        stream = Buffer.concat([stream, chunk]);
        check(b, stream);
      }
    }
  });

  it('a write larger than the backlog keeps only its tail', () => {
    const b = new Backlog(4, 0);
    b.append(Buffer.from('abcdefghij'));
    expect(b.offset).toBe(7);
    expect(b.readFrom(7).toString()).toBe('ghij');
    expect(b.covers(6)).toBe(false);
  });

  it('refuses to read outside what it holds (an assertion, not garbage)', () => {
    const b = new Backlog(4, 0);
    b.append(Buffer.from('abcdef'));
    expect(() => b.readFrom(2)).toThrow(/outside/);
  });
});
