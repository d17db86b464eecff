/**
 * The node's clocks and cron cadence, without real servers: serverCron's first tick and period
 * (sim/world/world.ts), run_with_period (sim/core/node.ts), the cached clock, and the timers the
 * scenario language cannot pin to the microsecond (SHUTDOWN finishing at a cron tick, WAIT's
 * millisecond deadline). test/real-clocks.test.ts compares the second-level rules with
 * redis-server itself.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { World, cronPeriodUs, CRON_FIRST_TICK_US } from '../sim/world/world.ts';
import { runWithPeriod } from '../sim/core/node.ts';
import { defaultConfig } from '../sim/core/config.ts';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { Stamped } from '../sim/trace/events.ts';

const root = join(import.meta.dirname, '..');

describe('clocks: serverCron cadence', () => {
  it('the period is 1000/hz whole milliseconds', () => {
    expect(cronPeriodUs(10)).toBe(100_000);
    expect(cronPeriodUs(3)).toBe(333_000); // not 333,333 µs
    expect(cronPeriodUs(7)).toBe(142_000);
    expect(cronPeriodUs(500)).toBe(2_000);
    expect(cronPeriodUs(1)).toBe(1_000_000);
  });

  it('run_with_period: every (ms / (1000/hz))-th loop from loop 0, every loop when ms <= one tick', () => {
    const loops = (hz: number, ms: number): number[] => Array.from({ length: 40 }, (_, i) => i).filter((i) => runWithPeriod(hz, i, ms));
    expect(loops(10, 1000)).toEqual([0, 10, 20, 30]);
    expect(loops(10, 100)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // hz 15: a tick is 66 ms, so replicationCron runs every 1000/66 = 15th loop, and during a
    // FAILOVER (100 ms) every 100/66 = 1st loop: every tick.
    expect(loops(15, 1000)).toEqual([0, 15, 30]);
    expect(loops(15, 100).length).toBe(40);
    // hz 1: every period up to a second runs every loop.
    expect(loops(1, 1000).length).toBe(40);
  });

  it('the first tick comes 1 ms after the process starts, and again 1 ms after a restart', () => {
    const world = new World({ seed: 'clocks', trace: null });
    const slot = world.addNode('m', defaultConfig());
    slot.start();
    const loops = (): number => slot.node!.cronloops;
    world.engine.runUntil(CRON_FIRST_TICK_US - 1);
    expect(loops()).toBe(0);
    world.engine.runUntil(CRON_FIRST_TICK_US);
    expect(loops()).toBe(1);
    world.engine.runUntil(CRON_FIRST_TICK_US + 100_000);
    expect(loops()).toBe(2);
    world.engine.runUntil(523_400);
    slot.stop('crash');
    slot.start();
    expect(loops()).toBe(0);
    world.engine.runUntil(523_400 + CRON_FIRST_TICK_US - 1);
    expect(loops()).toBe(0);
    world.engine.runUntil(523_400 + CRON_FIRST_TICK_US);
    expect(loops()).toBe(1);
    world.engine.runUntil(523_400 + CRON_FIRST_TICK_US + 1_000_000);
    expect(loops()).toBe(11);
  });

  it('the cached clock moves at cron ticks and commands, not at socket reads', () => {
    const world = new World({ seed: 'clocks', trace: null });
    const slot = world.addNode('m', defaultConfig());
    slot.start();
    world.engine.runUntil(950_000);
    // The last tick was at 0.901 s: server.unixtime is still second 0 of the epoch.
    const node = slot.node!;
    const second0 = node.unixtime;
    world.engine.runUntil(1_000_500);
    expect(node.unixtime).toBe(second0); // no tick since 0.901 s
    expect(node.timeNowSec()).toBe(second0 + 1); // time(NULL) reads the clock itself
    world.engine.runUntil(1_001_000);
    expect(node.unixtime).toBe(second0 + 1); // the tick at 1.001 s
  });
});

describe('clocks: timers the scenario language cannot pin to the microsecond', () => {
  it('a SHUTDOWN waiting for a replica finishes at the next serverCron tick after the ACK (serverCron, not beforeSleep)', () => {
    const file = join(root, 'scenarios', 'features', 'shutdown-waits-for-replicas.scn');
    const text = readFileSync(file, 'latin1');
    const events: Stamped[] = [];
    const result = runScenario(parseScenario(text, file), { file, source: text, trace: (s) => events.push(s) });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    const exit = events.find((e) => e.event.kind === 'process' && e.event.node === 'm' && e.event.what === 'exit');
    expect(exit).toBeDefined();
    // m started at 0 s: its ticks fall at x.x01 s. r1's ACK arrives 1 ms after r1's own tick at
    // 3.001 s, i.e. at 3.002 s; m exits at its tick at 3.101 s (its exit event follows at once).
    expect(exit!.atUs % 100_000).toBe(CRON_FIRST_TICK_US);
    expect(exit!.atUs).toBe(3_101_000);
  });

  it("WAIT's timeout is a deadline in whole milliseconds, seen at the first iteration after it", () => {
    const text = [
      'nodes m r1',
      'config * repl-diskless-sync-delay 0',
      'config r1 replicaof m 6379',
      'at 0s',
      'await r1.master_link_status == up within 2s',
      'at 0.5004s',
      '  pause r1 5s',
      '  m: SET k v',
      '  expect m: WAIT 1 100 => 0',
      '',
    ].join('\n');
    const events: Stamped[] = [];
    const result = runScenario(parseScenario(text, 'wait.scn'), { file: 'wait.scn', source: text, trace: (s) => events.push(s) });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    const wait = result.checks.find((c) => c.text.startsWith('expect m: WAIT'));
    // Blocked at 0.5004 s (mstime 500) with 100 ms: unblocked once mstime > 600, at the first
    // event after it, m's tick at 0.601 s.
    expect(wait?.atUs).toBe(601_000);
  });
});
