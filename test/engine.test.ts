import { describe, it, expect } from 'vitest';
import { EventQueue } from '../sim/engine/queue.ts';
import type { Scheduled } from '../sim/engine/queue.ts';
import { Engine } from '../sim/engine/engine.ts';
import { RandomStreams } from '../sim/engine/random.ts';
import { AssertionError } from '../sim/assert.ts';

interface Item extends Scheduled {
  readonly id: number;
}

describe('engine: queue', () => {
  it('pops in (atUs, push order) for random times, with many ties', () => {
    const rng = new RandomStreams(7).stream('queue');
    const q = new EventQueue<Item>();
    const items: Item[] = [];
    for (let id = 0; id < 5000; id++) {
      const item = { atUs: rng.int(50), seq: 0, id };
      items.push(item);
      q.push(item);
    }
    expect(q.size).toBe(5000);
    const expected = [...items].sort((a, b) => a.atUs - b.atUs || a.id - b.id).map((i) => i.id);
    const got: number[] = [];
    for (let it = q.pop(); it !== undefined; it = q.pop()) got.push(it.id);
    expect(got).toEqual(expected);
    expect(q.pop()).toBeUndefined();
  });

  it('interleaved push and pop keep the order; retain() rebuilds a valid heap', () => {
    const rng = new RandomStreams(8).stream('queue');
    const q = new EventQueue<Item>();
    let id = 0;
    let lastAt = -1;
    let lastSeq = -1;
    for (let round = 0; round < 2000; round++) {
      q.push({ atUs: lastAt + 1 + rng.int(100), seq: 0, id: id++ });
      q.push({ atUs: lastAt + 1 + rng.int(100), seq: 0, id: id++ });
      const top = q.pop()!;
      expect(top.atUs > lastAt || (top.atUs === lastAt && top.seq > lastSeq)).toBe(true);
      lastAt = top.atUs;
      lastSeq = top.seq;
    }
    q.retain((it) => it.id % 3 !== 0);
    const rest: Item[] = [];
    for (let it = q.pop(); it !== undefined; it = q.pop()) rest.push(it);
    expect(rest.every((it) => it.id % 3 !== 0)).toBe(true);
    for (let i = 1; i < rest.length; i++) {
      const a = rest[i - 1];
      const b = rest[i];
      expect(a.atUs < b.atUs || (a.atUs === b.atUs && a.seq < b.seq)).toBe(true);
    }
  });
});

describe('engine: clock and events', () => {
  it('runs events in time order, equal times first come first served, and moves the clock', () => {
    const e = new Engine();
    const log: string[] = [];
    e.schedule(30, () => log.push(`c@${e.nowUs}`));
    e.schedule(10, () => log.push(`a@${e.nowUs}`));
    e.schedule(10, () => log.push(`b@${e.nowUs}`));
    e.scheduleAt(20, () => {
      log.push(`x@${e.nowUs}`);
      e.schedule(0, () => log.push(`y@${e.nowUs}`)); // Same time, after what is already due.
    });
    expect(e.pendingEvents).toBe(4);
    while (e.step()) { /* drain */ }
    expect(log).toEqual(['a@10', 'b@10', 'x@20', 'y@20', 'c@30']);
    expect(e.eventsRun).toBe(5);
    expect(e.nowUs).toBe(30);
    expect(e.step()).toBe(false);
    expect(e.nowUs).toBe(30);
  });

  it('cancel() skips the event, is idempotent, and does not count as run', () => {
    const e = new Engine();
    let ran = 0;
    const t = e.schedule(5, () => ran++);
    e.schedule(6, () => ran++);
    t.cancel();
    t.cancel();
    expect(t.pending).toBe(false);
    expect(e.pendingEvents).toBe(1);
    e.runUntil(100);
    expect(ran).toBe(1);
    expect(e.eventsRun).toBe(1);
    expect(e.pendingEvents).toBe(0);
  });

  it('cancelling after the event ran changes nothing', () => {
    const e = new Engine();
    const t = e.schedule(1, () => {});
    e.runUntil(1);
    t.cancel();
    expect(e.pendingEvents).toBe(0);
    e.schedule(1, () => {});
    expect(e.pendingEvents).toBe(1);
  });

  it('sweeps many cancelled timers and keeps the live ones in order', () => {
    const e = new Engine();
    const fired: number[] = [];
    const timers = [];
    for (let i = 0; i < 5000; i++) timers.push(e.schedule(1 + (i % 97), () => fired.push(i)));
    for (let i = 0; i < 5000; i++) if (i % 10 !== 0) timers[i].cancel();
    expect(e.pendingEvents).toBe(500);
    e.runUntil(1000);
    expect(fired.length).toBe(500);
    const expected = Array.from({ length: 500 }, (_, k) => k * 10).sort((a, b) => (1 + (a % 97)) - (1 + (b % 97)) || a - b);
    expect(fired).toEqual(expected);
  });

  it('runUntil runs events up to and including atUs, then sets the clock', () => {
    const e = new Engine();
    const log: number[] = [];
    for (const t of [5, 10, 11]) e.scheduleAt(t, () => log.push(e.nowUs));
    e.runUntil(10);
    expect(log).toEqual([5, 10]);
    expect(e.nowUs).toBe(10);
    e.runUntil(10);
    expect(e.nowUs).toBe(10);
    e.runUntil(50);
    expect(log).toEqual([5, 10, 11]);
    expect(e.nowUs).toBe(50);
  });

  it('runUntilOr stops at the event that makes the predicate true', () => {
    const e = new Engine();
    let count = 0;
    for (const t of [100, 200, 300]) e.scheduleAt(t, () => count++);
    expect(e.runUntilOr(() => count === 2, 1000)).toBe(true);
    expect(e.nowUs).toBe(200);
    expect(e.runUntilOr(() => count === 2, 1000)).toBe(true); // Already true: no event runs.
    expect(count).toBe(2);
    expect(e.runUntilOr(() => count === 5, 1000)).toBe(false);
    expect(count).toBe(3);
    expect(e.nowUs).toBe(1000);
    expect(e.runUntilOr(() => false, 1000)).toBe(false);
  });

  it('runUntilOr leaves events past the deadline pending', () => {
    const e = new Engine();
    let ran = false;
    e.scheduleAt(2000, () => (ran = true));
    expect(e.runUntilOr(() => ran, 1999)).toBe(false);
    expect(e.nowUs).toBe(1999);
    expect(e.pendingEvents).toBe(1);
    expect(e.runUntilOr(() => ran, 2000)).toBe(true);
    expect(e.nowUs).toBe(2000);
  });

  it('asserts on the past, on fractions and on re-entrant driving', () => {
    const e = new Engine();
    e.runUntil(100);
    expect(() => e.scheduleAt(99, () => {})).toThrow(AssertionError);
    expect(() => e.schedule(-1, () => {})).toThrow(AssertionError);
    expect(() => e.schedule(0.5, () => {})).toThrow(AssertionError);
    expect(() => e.runUntil(50)).toThrow(AssertionError);
    e.schedule(1, () => e.step());
    expect(() => e.step()).toThrow(AssertionError);
    // The engine is usable after an action threw.
    let ok = false;
    e.schedule(1, () => (ok = true));
    e.runUntil(200);
    expect(ok).toBe(true);
  });
});

describe('engine: random streams', () => {
  it('the same seed and name give the same sequence', () => {
    const a = new RandomStreams('seed-1').stream('network');
    const b = new RandomStreams('seed-1').stream('network');
    const xs = Array.from({ length: 100 }, () => a.next());
    const ys = Array.from({ length: 100 }, () => b.next());
    expect(xs).toEqual(ys);
    expect(new Set(xs).size).toBe(100);
  });

  it('two names, or two seeds, give different sequences', () => {
    const root = new RandomStreams(42);
    const n = root.stream('network');
    const w = root.stream('workload');
    const xs = Array.from({ length: 20 }, () => n.int(1_000_000));
    const ys = Array.from({ length: 20 }, () => w.int(1_000_000));
    expect(xs).not.toEqual(ys);
    const other = new RandomStreams(43).stream('network');
    expect(Array.from({ length: 20 }, () => other.int(1_000_000))).not.toEqual(xs);
  });

  it('drawing from one stream does not shift another', () => {
    const r1 = new RandomStreams(1);
    const r2 = new RandomStreams(1);
    const busy = r1.stream('workload');
    for (let i = 0; i < 1000; i++) busy.next();
    expect(r1.stream('network').hex(40)).toBe(r2.stream('network').hex(40));
  });

  it('int, between, chance, hex, bytes, pick stay in range', () => {
    const r = new RandomStreams(3).stream('ranges');
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(7);
      expect(Number.isInteger(v) && v >= 0 && v < 7).toBe(true);
      seen.add(v);
      const w = r.between(-3, 3);
      expect(Number.isInteger(w) && w >= -3 && w <= 3).toBe(true);
    }
    expect(seen.size).toBe(7);
    const big = r.int(2 ** 40);
    expect(Number.isInteger(big) && big >= 0 && big < 2 ** 40).toBe(true);
    expect(r.chance(0)).toBe(false);
    expect(r.chance(1)).toBe(true);
    const replid = r.hex(40);
    expect(replid).toMatch(/^[0-9a-f]{40}$/);
    for (const n of [0, 1, 3, 4, 5, 1000]) expect(r.bytes(n).length).toBe(n);
    const bytes = r.bytes(4096);
    expect(new Set(bytes).size).toBeGreaterThan(200);
    expect(['x', 'y', 'z']).toContain(r.pick(['x', 'y', 'z']));
    expect(() => r.int(0)).toThrow(AssertionError);
    expect(() => r.chance(1.5)).toThrow(AssertionError);
  });
});
