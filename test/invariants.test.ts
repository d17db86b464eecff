/**
 * The always-on replication invariants (sim/check/invariants.ts) hold in healthy runs (every
 * scenario file runs with them) and fire when the state is corrupted on purpose: each test
 * breaks one invariant and expects that one to be named.
 */
import { describe, it, expect } from 'vitest';
import { World } from '../sim/world/world.ts';
import { defaultConfig } from '../sim/core/config.ts';
import { InvariantViolation } from '../sim/check/invariants.ts';
import type { RedisNode } from '../sim/core/node.ts';
import type { Backlog } from '../sim/core/backlog.ts';

function pair(): { world: World; m: RedisNode; r: RedisNode } {
  const world = new World({ seed: 1, trace: null });
  const cm = defaultConfig();
  cm.replDisklessSyncDelaySec = 0;
  const cr = defaultConfig();
  cr.replicaof = { host: 'm', port: 6379 };
  world.addNode('m', cm).start();
  world.addNode('r', cr).start();
  world.engine.runUntil(1_000_000);
  const m = world.slot('m').node!;
  const r = world.slot('r').node!;
  expect(r.replState).toBe('connected');
  return { world, m, r };
}

function violation(world: World, untilUs: number): InvariantViolation {
  try {
    world.engine.runUntil(untilUs);
  } catch (e) {
    if (e instanceof InvariantViolation) return e;
    throw e;
  }
  throw new Error('no invariant fired');
}

describe('invariants', () => {
  it('hold through a healthy run with writes and a partial resync', () => {
    const { world, m } = pair();
    world.slot('m').command(99, ['SET', 'a', '1'], () => {});
    world.net.killLink('m', 'r');
    world.engine.runUntil(3_000_000);
    expect(m.statSyncPartialOk).toBe(1);
    expect(world.checker!.checks).toBeGreaterThan(10);
  });

  it('backlog: offset + histlen - 1 must equal master_repl_offset', () => {
    const { world, m } = pair();
    m.masterReplOffset += 1;
    const v = violation(world, 2_000_000);
    expect(v.invariant).toBe('backlog');
    expect(v.node).toBe('m');
  });

  it('replication buffer: a replica that drops its block without releasing it is caught', () => {
    const { world, m } = pair();
    world.slot('m').command(99, ['SET', 'a', '1'], () => {});
    world.engine.runUntil(1_100_000);
    const c = m.replicas[0]!;
    expect(c.replBlock).not.toBeNull();
    c.replBlock = null; // The block's refcount still counts it: a leak that would pin blocks forever.
    const v = violation(world, 2_000_000);
    expect(v.invariant).toBe('replication buffer');
    expect(v.node).toBe('m');
  });

  it('replication buffer: the tail block must end at master_repl_offset', () => {
    const { world, m } = pair();
    world.slot('m').command(99, ['SET', 'a', '1'], () => {});
    world.engine.runUntil(1_100_000);
    m.backlog!.tail!.used -= 1;
    const v = violation(world, 2_000_000);
    expect(v.invariant).toBe('replication buffer');
  });

  it('offset monotonic: master_repl_offset never moves back under one replid', () => {
    const { world, m } = pair();
    world.slot('m').command(99, ['SET', 'a', '1'], () => {});
    world.engine.runUntil(1_100_000);
    // Keep the backlog and its block list consistent, so only this invariant breaks.
    const b = m.backlog as Backlog;
    b.endOffset -= 5;
    b.histlen -= 5;
    b.tail!.used -= 5;
    for (const c of m.replicas) if (c.replBlock === b.tail) c.replBlockPos = Math.min(c.replBlockPos, b.tail!.used);
    m.masterReplOffset -= 5;
    const v = violation(world, 2_000_000);
    expect(v.invariant).toBe('offset monotonic');
  });

  it('history agreement: an accepted PSYNC over different bytes is caught', () => {
    const { world, m, r } = pair();
    world.slot('m').command(99, ['SET', 'a', '1'], () => {});
    world.engine.runUntil(1_100_000);
    // Corrupt one byte of the replica's copy of the stream, then make it PSYNC.
    const buf = r.backlog!.head!.buf;
    buf[0] = buf[0]! ^ 0xff;
    world.net.killLink('m', 'r');
    const v = violation(world, 3_000_000);
    expect(v.invariant).toBe('history agreement');
    expect(v.node).toBe('m');
    expect(m.statSyncPartialOk).toBe(1);
  });
});

describe('invariants: what is not a violation', () => {
  it('a replica repointed to a node behind it full-syncs back to an older offset of the same replid', () => {
    const world = new World({ seed: 3, trace: null });
    for (const name of ['m', 'r1', 'r2']) {
      const c = defaultConfig();
      c.replDisklessSyncDelaySec = 0;
      if (name !== 'm') c.replicaof = { host: 'm', port: 6379 };
      world.addNode(name, c).start();
    }
    world.engine.runUntil(1_000_000);
    const [m, r1, r2] = ['m', 'r1', 'r2'].map((n) => world.slot(n).node!) as [RedisNode, RedisNode, RedisNode];
    world.net.partitionOneWay('m', 'r2'); // r2 falls behind without noticing
    for (let i = 0; i < 20; i++) world.slot('m').command(99, ['SET', `k${i}`, 'v'], () => {});
    world.engine.runUntil(1_100_000);
    const ahead = r1.masterReplOffset;
    expect(ahead).toBeGreaterThan(r2.masterReplOffset);
    world.slot('r1').command(98, ['REPLICAOF', 'r2', '6379'], () => {});
    world.engine.runUntil(2_000_000); // no InvariantViolation thrown
    expect(r1.replid).toBe(m.replid);
    expect(r1.masterReplOffset).toBeLessThan(ahead);
    expect(r2.statSyncFull).toBe(1);
  });
});
