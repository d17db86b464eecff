/**
 * Sentinel mode: the 3-sentinel crashed-master example fails over inside the time bands measured
 * on real redis-sentinel 7.0.15 (SDOWN in [down-after, down-after + 1 s + 2 ticks], ODOWN within
 * 1 s + a tick of the first SDOWN, the leader elected within 0.5 s of its ODOWN, the promotion
 * within 1.5 s of the election, the followers switching within 0.2 s of the promotion), on many
 * seeds, with the event chain in Redis's order and the final state agreed by all three.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { Stamped } from '../sim/trace/events.ts';

const FILE = 'scenarios/sentinel/crashed-master.scn';
const CRASH_US = 30e6;
const TICK_MAX_US = 100_000;

interface Ev { atUs: number; node: string; event: string; payload: string }

function runSeed(seed: string): { events: Ev[]; failed: string[] } {
  const source = readFileSync(FILE, 'utf8');
  const events: Ev[] = [];
  const trace = (s: Stamped): void => {
    if (s.event.kind === 'sentinel') events.push({ atUs: s.atUs, node: s.event.node, event: s.event.event, payload: s.event.payload });
  };
  const r = runScenario(parseScenario(source, FILE), { trace, seed, file: FILE, source });
  return { events, failed: r.checks.filter((c) => !c.ok).map((c) => `${c.line}: ${c.text} — ${c.detail}`) };
}

const after = (evs: Ev[], pred: (e: Ev) => boolean): Ev[] => evs.filter((e) => e.atUs >= CRASH_US && pred(e));

describe('sentinel: a crashed master fails over inside the measured time bands', () => {
  for (const seed of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']) {
    it(`seed ${seed}`, () => {
      const { events, failed } = runSeed(seed);
      expect(failed).toEqual([]);
      const sdown = after(events, (e) => e.event === '+sdown' && e.payload.startsWith('master'));
      expect(sdown.map((e) => e.node).sort()).toEqual(['s1', 's2', 's3']);
      for (const e of sdown) {
        expect(e.atUs - CRASH_US).toBeGreaterThan(5e6);
        expect(e.atUs - CRASH_US).toBeLessThanOrEqual(5e6 + 1e6 + 2 * TICK_MAX_US);
      }
      const firstSdown = Math.min(...sdown.map((e) => e.atUs));
      const odown = after(events, (e) => e.event === '+odown');
      expect(odown.length).toBeGreaterThan(0);
      expect(odown[0]!.atUs - firstSdown).toBeLessThanOrEqual(1e6 + TICK_MAX_US);
      const elected = after(events, (e) => e.event === '+elected-leader');
      expect(elected.length).toBe(1); // One leader, one epoch.
      const leader = elected[0]!.node;
      const leaderOdown = odown.find((e) => e.node === leader)!;
      expect(elected[0]!.atUs - leaderOdown.atUs).toBeLessThanOrEqual(0.5e6);
      const promoted = after(events, (e) => e.event === '+promoted-slave');
      expect(promoted.length).toBe(1);
      expect(promoted[0]!.atUs - elected[0]!.atUs).toBeLessThanOrEqual(1.5e6);
      const followers = after(events, (e) => e.event === '+switch-master' && e.node !== leader);
      expect(followers.map((e) => e.node).sort()).toEqual(['s1', 's2', 's3'].filter((n) => n !== leader));
      for (const f of followers) expect(f.atUs - promoted[0]!.atUs).toBeLessThanOrEqual(0.2e6);
      // The leader's chain, in Redis's order.
      const chain = after(events, (e) => e.node === leader).map((e) => e.event)
        .filter((e) => !['voted-for', '+sdown', '-sdown', '-odown', '+role-change', '-role-change', '+slave', 'next-failover-delay', '+sentinel', '+reboot'].includes(e));
      expect(chain).toEqual(['+odown', '+new-epoch', '+try-failover', '+vote-for-leader', '+elected-leader',
        '+failover-state-select-slave', '+selected-slave', '+failover-state-send-slaveof-noone', '+failover-state-wait-promotion',
        '+promoted-slave', '+failover-state-reconf-slaves', '+slave-reconf-sent', '+slave-reconf-inprog', '+slave-reconf-done',
        '+failover-end', '+switch-master']);
      // Followers: a vote (or their own try), then the config update.
      for (const f of followers) {
        const mine = after(events, (e) => e.node === f.node).map((e) => e.event);
        expect(mine).toContain('+vote-for-leader');
        expect(mine.indexOf('+config-update-from')).toBe(mine.indexOf('+switch-master') - 1);
      }
    });
  }

  it('the same seed gives the same sentinel events (determinism)', () => {
    const a = runSeed('3').events;
    const b = runSeed('3').events;
    expect(a.length).toBeGreaterThan(30);
    expect(b).toEqual(a);
  });
});
