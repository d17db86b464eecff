/**
 * The bug zoo (sim/core/bugs.ts): every historical bug has a lesson in scenarios/bugs/<name>.scn
 * that passes on the correct core and fails with the bug switched on.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUG_NAMES, isBugName, isSentinelBug } from '../sim/core/bugs.ts';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { BugName } from '../sim/core/bugs.ts';
import { runCampaign, campaignDefault } from '../sim/fuzz/campaign.ts';
import { shrinkFailure } from '../sim/fuzz/shrink.ts';
import type { FuzzResult } from '../sim/fuzz/run.ts';
import { printScenario } from '../sim/scenario/printer.ts';

const root = join(import.meta.dirname, '..');

function run(name: BugName, bugs: BugName[]): { passed: number; failed: number } {
  const file = `scenarios/bugs/${name}.scn`;
  const text = readFileSync(join(root, file), 'latin1');
  return runScenario(parseScenario(text, file), { trace: null, file, source: text, bugs });
}

describe('bug zoo', () => {
  it('knows its bugs by name', () => {
    expect(BUG_NAMES.length).toBeGreaterThanOrEqual(2);
    expect(isBugName('proxy-unapplied')).toBe(true);
    expect(isBugName('nope')).toBe(false);
  });

  for (const name of BUG_NAMES) {
    it(`${name}: its lesson passes on the correct core and fails with the bug on`, () => {
      expect(existsSync(join(root, 'scenarios/bugs', `${name}.scn`))).toBe(true);
      const correct = run(name, []);
      expect(correct.failed).toBe(0);
      expect(correct.passed).toBeGreaterThan(0);
      const buggy = run(name, [name]);
      expect(buggy.failed).toBeGreaterThan(0);
    });
  }
});

/** How many fuzz runs each zoo bug may take to be found (the budget the issue asks for). */
const FUZZ_BUDGET: Record<BugName, number> = {
  'chained-keeps-backlog': 60,
  'master-restores-replid': 60,
  'fullresync-offset-at-psync': 30,
  'no-backlog-after-continue': 60,
  'proxy-unapplied': 10,
  // Sentinel bugs, fuzzed with sentinels (`fuzz --sentinels --bug NAME`): measured 2 and 4 runs.
  'sentinel-hello-same-port': 10,
  'sentinel-epochs-not-persisted': 20,
};

describe('bug zoo: the fuzzer finds every bug within its budget, and the correct core passes the same runs', () => {
  for (const name of BUG_NAMES) {
    it(`${name}: found within ${FUZZ_BUDGET[name]} runs, shrunk to at most a dozen statements`, () => {
      let firstFailure = -1;
      let found: FuzzResult | null = null;
      const sentinels = isSentinelBug(name) ? { sentinels: true } : {};
      runCampaign(
        { ...campaignDefault, seed: `zoo-${name}`, runs: FUZZ_BUDGET[name], fixed: { bugs: [name], ...sentinels } },
        { onResult: (r, i) => { if (!r.ok && found === null) { found = r; firstFailure = i; } }, shouldStop: () => found !== null },
      );
      expect(firstFailure).toBeGreaterThanOrEqual(0);
      // The failure says what broke, every node's replication INFO then, and the last events.
      expect(found!.failure!.detail).toContain("nodes' INFO:");
      expect(found!.failure!.detail).toMatch(/m: (role=|down)/);
      expect(found!.failure!.detail).toContain('last trace events:');
      const clean = runCampaign({ ...campaignDefault, seed: `zoo-${name}`, runs: firstFailure + 1, fixed: { ...sentinels } });
      expect(clean.failures).toEqual([]);
      // Shrunk, the failure is a small scenario that fails with the bug and passes without it.
      // A sentinel run costs about ten replication runs: a smaller shrink budget keeps the test bounded.
      const shrunk = shrinkFailure(found!, isSentinelBug(name) ? 120 : 300)!;
      expect(shrunk).not.toBeNull();
      // At most a dozen steps (time statements — at, run, await — are not steps).
      expect(shrunk.scenario.body.filter((st) => st.kind !== 'at' && st.kind !== 'run' && st.kind !== 'await').length).toBeLessThanOrEqual(12);
      const text = printScenario(shrunk.scenario);
      const replay = (bugs: BugName[]) => runScenario(parseScenario(text, 'min.scn'), { trace: null, file: 'min.scn', source: text, bugs });
      expect(replay([name]).failed).toBeGreaterThan(0);
      expect(replay([]).failed).toBe(0);
    }, 240_000);
  }
});
