/** The always-on sentinel invariants fire on the states they forbid, and stay quiet on real runs. */
import { describe, expect, it } from 'vitest';
import { Sentinel } from '../sim/sentinel/sentinel.ts';
import type { SentinelHost } from '../sim/sentinel/host.ts';
import { SentinelChecker } from '../sim/check/sentinel-invariants.ts';
import { InvariantViolation } from '../sim/check/invariants.ts';
import { Instance } from '../sim/sentinel/state.ts';

function sentinel(name: string): Sentinel {
  let hex = 0;
  const host: SentinelHost = {
    nowUs: () => 0, unixMs: () => 1_767_225_600_000, randomHex: (n) => (++hex).toString(16).padStart(n, name === 's1' ? 'a' : 'b'),
    rand: () => 7, connect: () => 1, send: () => {}, close: () => {}, writeFile: () => {}, readFile: () => null,
    reply: () => {}, sleep: () => {}, exit: () => {}, tracing: false, trace: () => {},
  };
  const s = new Sentinel(name, host, { configLines: [['monitor', 'mymaster', 'm', '6379', '2']], flushLatencyUs: 0 });
  s.start();
  return s;
}

function violation(f: () => void): string {
  try {
    f();
  } catch (e) {
    if (e instanceof InvariantViolation) return e.invariant;
    throw e;
  }
  return 'none';
}

describe('sentinel invariants', () => {
  it('epochs never decrease', () => {
    const c = new SentinelChecker();
    const s = sentinel('s1');
    s.currentEpoch = 3;
    c.afterIteration('s1', s, 0);
    s.currentEpoch = 2;
    expect(violation(() => c.afterIteration('s1', s, 1))).toBe('sentinel epoch monotonic');
  });

  it('one vote per epoch', () => {
    const c = new SentinelChecker();
    const s = sentinel('s1');
    const m = s.masterByName('mymaster')!;
    m.leader = 'a'.repeat(40);
    m.leaderEpoch = 1;
    c.afterIteration('s1', s, 0);
    m.leader = 'b'.repeat(40);
    expect(violation(() => c.afterIteration('s1', s, 1))).toBe('one vote per epoch');
  });

  it('a failover past WAIT_START needs the votes', () => {
    const c = new SentinelChecker();
    const s = sentinel('s1');
    const m = s.masterByName('mymaster')!;
    for (const peer of ['x', 'y']) {
      const p = new Instance('sentinel', `${peer}:26379`, peer, 26379, m, 0);
      p.runid = peer.repeat(40);
      m.sentinels.set(p.runid, p);
    }
    m.failoverInProgress = true;
    m.failoverEpoch = 1;
    m.failoverState = 'select_slave';
    m.leader = s.myid;
    m.leaderEpoch = 1;
    // Only its own vote: 1 of 3.
    expect(violation(() => c.afterIteration('s1', s, 0))).toBe('failover under an elected leader');
    // With a second sentinel's vote for it, the same state is fine.
    const c2 = new SentinelChecker();
    const other = sentinel('s2');
    const om = other.masterByName('mymaster')!;
    om.leader = s.myid;
    om.leaderEpoch = 1;
    c2.afterIteration('s2', other, 0);
    expect(violation(() => c2.afterIteration('s1', s, 1))).toBe('none');
  });

  it('one master per config epoch', () => {
    const c = new SentinelChecker();
    const a = sentinel('s1');
    const b = sentinel('s2');
    a.masterByName('mymaster')!.configEpoch = 1;
    const bm = b.masterByName('mymaster')!;
    bm.configEpoch = 1;
    bm.host = 'r1';
    c.afterIteration('s1', a, 0);
    expect(violation(() => c.afterIteration('s2', b, 1))).toBe('one master per config epoch');
  });

  it('one master per config epoch, except a leader whose failover a newer epoch overtook', () => {
    // s1 leads epoch 1 and announces its promoted r1 (reconf_slaves); a hello brings config epoch
    // 2 naming m, master->addr still m: sentinelProcessHelloMessage takes the epoch, no switch.
    const setUp = (failoverEpoch: number): { c: SentinelChecker; leader: Sentinel; other: Sentinel } => {
      const c = new SentinelChecker();
      const leader = sentinel('s1');
      const lm = leader.masterByName('mymaster')!;
      lm.failoverInProgress = true;
      lm.forceFailover = true; // no election to check here (SENTINEL FAILOVER needs no votes)
      lm.failoverState = 'reconf_slaves';
      lm.failoverEpoch = failoverEpoch;
      lm.configEpoch = 2;
      lm.promotedSlave = new Instance('slave', 'r1:6379', 'r1', 6379, lm, 0);
      const other = sentinel('s2');
      other.masterByName('mymaster')!.configEpoch = 2;
      c.afterIteration('s2', other, 0);
      return { c, leader, other };
    };
    const overtaken = setUp(1);
    expect(violation(() => overtaken.c.afterIteration('s1', overtaken.leader, 1))).toBe('none');
    expect([...overtaken.c.overtaken]).toEqual(['s1/mymaster/2']);
    // Once the failover ends on the promoted replica, the epoch stays exempt for that leader.
    const lm = overtaken.leader.masterByName('mymaster')!;
    lm.failoverInProgress = false;
    lm.failoverState = 'none';
    lm.host = 'r1';
    expect(violation(() => overtaken.c.afterIteration('s1', overtaken.leader, 2))).toBe('none');
    // A leader announcing its own epoch's promoted replica is compared as any other.
    const own = setUp(2);
    expect(violation(() => own.c.afterIteration('s1', own.leader, 1))).toBe('one master per config epoch');
  });
});
