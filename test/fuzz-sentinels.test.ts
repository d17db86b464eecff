/**
 * `psync-sim fuzz --sentinels`: the generator draws sentinel deployments and sentinel faults,
 * runs end with `settled` and `converged`, coverage reports the sentinel paths, and what other
 * campaigns generate is unchanged. Plus the campaign's one finding, replayed.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateScenario, drawOptions, SENTINEL_FAULT_KINDS } from '../sim/fuzz/generate.ts';
import { runCampaign, campaignDefault, CampaignTally, LOSS_RANGES } from '../sim/fuzz/campaign.ts';
import { SENTINEL_COVERAGE_KEYS, fuzzOne } from '../sim/fuzz/run.ts';
import { printScenario } from '../sim/scenario/printer.ts';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import { fuzzCommand } from '../sim/cli/fuzz.ts';
import type { FuzzResult } from '../sim/fuzz/run.ts';
import type { Scenario } from '../sim/scenario/ast.ts';
import type { World } from '../sim/world/world.ts';

describe('fuzz --sentinels: the generator', () => {
  it('draws 3 or 5 sentinels with their knobs, and ends with settled then converged', () => {
    const counts = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const g = generateScenario(`gen/${i}`, { sentinels: true });
      const o = g.options;
      expect(o.sentinels).toBe(true);
      expect([3, 5]).toContain(o.sentinelCount);
      counts.add(o.sentinelCount!);
      expect(o.sentinelQuorum).toBeGreaterThanOrEqual(1);
      expect(o.sentinelQuorum).toBeLessThanOrEqual(o.sentinelCount!);
      expect(o.replicaPriorities).toHaveLength(o.nodeCount - 1);
      expect(o.attachVia).toBe('config');
      expect(g.scenario.sentinels!.map((s) => s.name)).toEqual(Array.from({ length: o.sentinelCount! }, (_, k) => `s${k + 1}`));
      expect(g.scenario.sentinelConfigs![0]!.words).toEqual(['monitor', 'mymaster', 'm', '6379', String(o.sentinelQuorum)]);
      const awaits = g.scenario.body.filter((st) => st.kind === 'await');
      expect(awaits.at(-2)!.kind === 'await' && awaits.at(-2)!.pred.kind).toBe('settled');
      expect(awaits.at(-1)!.kind === 'await' && awaits.at(-1)!.pred.kind).toBe('converged');
      // Nobody promotes by hand with sentinels watching.
      expect(g.scenario.body.some((st) => st.kind === 'command' && st.args.join(' ') === 'REPLICAOF NO ONE')).toBe(false);
      // The printed story parses back to the same AST (the failure file is the replay).
      const text = printScenario(g.scenario);
      expect(printScenario(parseScenario(text, 'x.scn'))).toBe(text);
    }
    expect([...counts].sort()).toEqual([3, 5]);
  });

  it('uses every sentinel fault kind over a few dozen seeds', () => {
    const used = new Set<string>();
    for (let i = 0; i < 40; i++) for (const k of generateScenario(`kinds/${i}`, { sentinels: true }).faultKindsUsed) used.add(k);
    for (const k of SENTINEL_FAULT_KINDS) expect(used, k).toContain(k);
    expect(used).not.toContain('promote');
  });

  it('with clients, half the loads follow the sentinels (load @mymaster); every other draw is the story without them', () => {
    /** The story with every load's target and client options blanked, and no clients line. */
    const canonical = (sc: Scenario): string => JSON.stringify({
      ...sc, clients: undefined,
      body: sc.body.map((st) => (st.kind === 'load' ? { ...st, node: 'X', from: undefined, wait: undefined } : st)),
    });
    let follow = 0;
    let pinned = 0;
    for (let i = 0; i < 30; i++) {
      const both = generateScenario(`follow/${i}`, { sentinels: true, clients: true }).scenario;
      const plain = generateScenario(`follow/${i}`, { sentinels: true }).scenario;
      expect(canonical(both)).toBe(canonical(plain));
      for (const st of both.body) {
        if (st.kind !== 'load' || st.from === undefined) continue;
        if (st.node === '@mymaster') follow++;
        else pinned++;
      }
      expect(plain.body.some((st) => st.kind === 'load' && st.node.startsWith('@'))).toBe(false);
      const text = printScenario(both);
      expect(printScenario(parseScenario(text, 'x.scn'))).toBe(text);
    }
    expect(follow).toBeGreaterThan(5);
    expect(pinned).toBeGreaterThan(5);
    // Clients without sentinels stay pinned (nobody to ask).
    expect(printScenario(generateScenario('follow/0', { clients: true }).scenario)).not.toContain('@mymaster');
  });

  it('leaves the options of a campaign without sentinels as they were', () => {
    const o = drawOptions('plain/1');
    expect(Object.keys(o).filter((k) => k.startsWith('sentinel') || k === 'replicaPriorities' || k === 'settleWithinUs')).toEqual([]);
    expect(() => drawOptions('plain/2', { faultKindsAllowed: ['sentinel-crash'] })).toThrow(/need sentinels/);
  });
});

describe('fuzz --sentinels: runs', () => {
  it('a short campaign is clean, deterministic, and covers sentinel paths', () => {
    const results: FuzzResult[] = [];
    const summary = runCampaign({ ...campaignDefault, seed: 'sent-test', runs: 6, fixed: { sentinels: true } }, { onResult: (r) => void results.push(r) });
    expect(summary.failures.map((f) => `${f.seed}: ${f.failure!.detail.split('\n')[0]}`)).toEqual([]);
    const hit = SENTINEL_COVERAGE_KEYS.filter((k) => (summary.coverage.get(k) ?? 0) > 0);
    expect(hit).toContain('sentinel: +sdown master');
    expect(hit).toContain('sentinel: promotion done (+promoted-slave)');
    const again = fuzzOne(results[0]!.seed, { sentinels: true });
    expect(again.text).toBe(results[0]!.text);
    expect(again.events).toBe(results[0]!.events);
  }, 120_000);

  it('with clients, a short campaign is clean and its clients find and follow the master through the sentinels', () => {
    const summary = runCampaign({ ...campaignDefault, seed: 'follow', runs: 8, fixed: { sentinels: true, clients: true } });
    expect(summary.failures.map((f) => `${f.seed}: ${f.failure!.detail.split('\n')[0]}`)).toEqual([]);
    expect(summary.coverage.get('client: master found through the sentinels (load @mymaster)') ?? 0).toBeGreaterThan(0);
  }, 120_000);

  it('with clients, the loss summary counts runs per range and per cause', () => {
    const t = new CampaignTally();
    const r = (lost: number, promotion: number): FuzzResult => ({
      seed: 'x', options: drawOptions('x'), faultKindsUsed: [], scenario: generateScenario('x').scenario, text: '', ok: true,
      coverage: new Set(), virtualUs: 0, events: 0,
      losses: { acked: 100, lost, byCause: { promotion, 'full-sync': lost - promotion, crash: 0, poweroff: 0, unexplained: 0 }, waitPromiseBroken: 0 },
    });
    for (const [lost, promo] of [[0, 0], [0, 0], [5, 5], [50, 0], [2000, 1000]] as const) t.add(r(lost, promo));
    const l = t.summary().losses!;
    expect(LOSS_RANGES.map(([label]) => label)).toEqual(['0', '1-10', '11-100', '101-1000', '>1000']);
    expect(l.runsByLost).toEqual([2, 1, 1, 0, 1]);
    expect(l.runsByCause.promotion).toBe(2);
    expect(l.runsByCause['full-sync']).toBe(2);
  });

  it('the CLI refuses sentinel faults and sentinel bugs without --sentinels', () => {
    const err: string[] = [];
    const o = { stdout: () => {}, stderr: (s: string) => void err.push(s), out: '/tmp/psync-sim-fuzz-sent-test', runs: 1 };
    expect(fuzzCommand({ ...o, faults: 'sentinel-crash' })).toBe(2);
    expect(err.join('')).toMatch(/need --sentinels/);
    expect(fuzzCommand({ ...o, bugs: ['sentinel-hello-same-port'] })).toBe(2);
    expect(err.join('')).toMatch(/add --sentinels/);
  });
});

describe('fuzz --sentinels: the campaign finding (a Redis 7.0.15 behaviour)', () => {
  it('a hello received mid-failover with the old master address keeps two masters for one config epoch', () => {
    const file = join(import.meta.dirname, 'support/sentinel-findings/same-epoch-two-masters.scn');
    const text = readFileSync(file, 'latin1');
    let world: World | undefined;
    const r = runScenario(parseScenario(text, file), { trace: null, file, source: text, onWorld: (w) => (world = w) });
    // Invariant 4 exempts the overtaken leader (Redis promises no more), so the run goes on to
    // its expectations: at the end s5 still announces its promoted r1 at config epoch 2, stuck in
    // reconf_slaves while r1 is down, and the others m at the same epoch.
    expect(r.checks.filter((c) => !c.ok).map((c) => `${c.text}: ${c.detail}`)).toEqual([]);
    expect(r.passed).toBe(5);
    expect([...world!.sentinelChecker!.overtaken]).toEqual(['s5/mymaster/2']);
  });
});
