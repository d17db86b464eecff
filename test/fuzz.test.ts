import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateScenario, drawOptions, FAULT_KINDS } from '../sim/fuzz/generate.ts';
import { fuzzOne, executeGenerated, CoverageSink, scenarioFileText } from '../sim/fuzz/run.ts';
import { runCampaign } from '../sim/fuzz/campaign.ts';
import { fuzzCommand } from '../sim/cli/fuzz.ts';
import { printScenario } from '../sim/scenario/printer.ts';
import { parseScenario } from '../sim/scenario/parser.ts';
import { NO_POS } from '../sim/scenario/ast.ts';
import type { Scenario, Statement } from '../sim/scenario/ast.ts';

/** The AST with every position replaced by NO_POS, so parsed and built trees compare. */
function stripPos<T>(x: T): T {
  return JSON.parse(JSON.stringify(x), (k, v) => (k === 'pos' ? NO_POS : v)) as T;
}

const seeds = Array.from({ length: 40 }, (_, i) => `gen/${i}`);

describe('fuzz: generate', () => {
  it('the same seed gives the same scenario text and options', () => {
    for (const seed of seeds.slice(0, 10)) {
      const a = generateScenario(seed);
      const b = generateScenario(seed);
      expect(printScenario(a.scenario)).toBe(printScenario(b.scenario));
      expect(a.options).toEqual(b.options);
    }
    const texts = new Set(seeds.map((s) => printScenario(generateScenario(s).scenario)));
    expect(texts.size).toBe(seeds.length);
  });

  it('printed scenarios re-parse to the same AST', () => {
    for (const seed of seeds) {
      const { scenario } = generateScenario(seed);
      const text = printScenario(scenario);
      const parsed = parseScenario(text, `${seed}.scn`);
      expect(stripPos(parsed)).toEqual(stripPos(scenario));
      expect(printScenario(parsed)).toBe(text);
    }
  });

  it('options stay in their documented ranges and honour fixed knobs', () => {
    for (const seed of seeds) {
      const o = drawOptions(seed);
      expect(o.nodeCount).toBeGreaterThanOrEqual(2);
      expect(o.nodeCount).toBeLessThanOrEqual(6);
      expect(o.replBacklogSizeBytes).toBeGreaterThanOrEqual(16 * 1024);
      expect(o.replBacklogSizeBytes).toBeLessThanOrEqual(1024 * 1024);
      expect(o.replPingReplicaPeriodSec).toBeLessThan(o.replTimeoutSec);
      expect(o.replDisklessSyncDelaySec).toBeLessThanOrEqual(2);
      expect(o.faultPhaseUs).toBeGreaterThanOrEqual(5e6);
      expect(o.faultPhaseUs).toBeLessThanOrEqual(30e6);
      expect(o.faultKinds.length).toBeGreaterThan(0);
      const fixed = drawOptions(seed, { nodesMin: 3, nodesMax: 3, faultKindsAllowed: ['crash', 'promote'] });
      expect(fixed.nodeCount).toBe(3);
      expect(fixed.faultKinds.every((k) => k === 'crash' || k === 'promote')).toBe(true);
      // Fixing one knob does not shift the others (each has its own stream).
      expect(fixed.replTimeoutSec).toBe(o.replTimeoutSec);
      expect(fixed.topology).toBe(o.topology);
    }
  });

  it('every story ends with the liveness phase: heal, one master, everyone follows, await converged', () => {
    for (const seed of seeds) {
      const { scenario } = generateScenario(seed);
      const names = scenario.nodes.map((n) => n.name);
      const body = scenario.body;
      const last = body[body.length - 1] as Statement;
      expect(last.kind).toBe('await');
      if (last.kind !== 'await') continue;
      expect(last.pred).toMatchObject({ kind: 'converged', nodes: names });
      const promoted = body.filter((s) => s.kind === 'command' && s.args.join(' ') === 'REPLICAOF NO ONE').at(-1);
      expect(promoted).toBeDefined();
      const master = promoted!.kind === 'command' ? promoted!.node : '';
      const tailSteps = body.slice(body.indexOf(promoted!));
      for (const n of names.filter((x) => x !== master)) {
        expect(tailSteps.some((s) => s.kind === 'command' && s.node === n && s.args.join(' ') === `REPLICAOF ${master} 6379`)).toBe(true);
      }
      expect(body.some((s) => s.kind === 'heal-all')).toBe(true);
    }
  });

  it('swarm: over many seeds every fault kind is enabled and used', () => {
    const used = new Set<string>();
    for (let i = 0; i < 150; i++) for (const k of generateScenario(`swarm/${i}`).faultKindsUsed) used.add(k);
    expect([...used].sort()).toEqual([...FAULT_KINDS].sort());
  });
});

describe('fuzz: run', () => {
  it('a run is deterministic and reports coverage', () => {
    const a = fuzzOne('run/1');
    const b = fuzzOne('run/1');
    expect(a.ok).toBe(b.ok);
    expect(a.events).toBe(b.events);
    expect(a.virtualUs).toBe(b.virtualUs);
    expect([...a.coverage].sort()).toEqual([...b.coverage].sort());
    expect(a.coverage.size).toBeGreaterThan(0);
  });

  it('a planted impossible expect is caught as a failure, with its line in the file', () => {
    const g = generateScenario('planted/1');
    const scenario: Scenario = {
      ...g.scenario,
      body: [...g.scenario.body, { kind: 'expect', pos: NO_POS, pred: { kind: 'compare', pos: NO_POS, left: { kind: 'field', pos: NO_POS, node: 'm', field: 'master_repl_offset' }, op: '<', right: { kind: 'number', pos: NO_POS, value: -1 } } }],
    };
    const r = executeGenerated('planted/1', scenario, g.options, g.faultKindsUsed);
    expect(r.ok).toBe(false);
    expect(r.failure?.kind).toBe('liveness');
    const file = scenarioFileText(r);
    const lineNo = Number(/^line (\d+):/.exec(r.failure!.detail)?.[1]);
    expect(file.split('\n')[lineNo - 1]).toContain('expect m.master_repl_offset < -1');
    expect(file).toContain('# psync-sim fuzz run planted/1\n# replay: psync-sim run planted_1.scn --trace\n');
  });

  it('an unreachable convergence is a liveness failure', () => {
    const g = generateScenario('planted/2', { nodesMin: 3, nodesMax: 3 });
    // Partition the chosen master away for good just before the final await.
    const body = [...g.scenario.body];
    const awaitStmt = body.pop()!;
    body.push({ kind: 'partition', pos: NO_POS, groups: [['m'], ['r1', 'r2']] }, { kind: 'partition', pos: NO_POS, groups: [['r1'], ['m', 'r2']] }, awaitStmt);
    const r = executeGenerated('planted/2', { ...g.scenario, body }, g.options, g.faultKindsUsed);
    expect(r.ok).toBe(false);
    expect(r.failure?.kind).toBe('liveness');
  });

  it('maps trace events to coverage keys', () => {
    const c = new CoverageSink();
    const at = (event: Parameters<CoverageSink['sink']>[0]['event']): void => c.sink({ atUs: 0, event });
    at({ kind: 'bgsave-start', node: 'm', target: 'sockets', sizeBytes: 1, replicas: ['r1'], offset: 1 });
    at({ kind: 'psync-decision', node: 'm', peer: 'r1', accepted: true, sendBytes: 0, reason: "partial resync accepted: replid matches this node's previous replid (replid2, valid up to 5)" });
    at({ kind: 'psync-decision', node: 'm', peer: 'r1', accepted: false, sendBytes: 0, reason: 'full resync: requested offset 9 is outside the backlog [1, 5]: those bytes were already overwritten' });
    at({ kind: 'process', node: 'r2', what: 'restart' });
    at({ kind: 'psync-sent', node: 'r2', peer: 'm', replid: 'abc', offset: 10 });
    at({ kind: 'psync-decision', node: 'm', peer: 'r2', accepted: true, sendBytes: 0, reason: 'partial resync accepted: replid matches, requested offset 10 is within the backlog [1, 10]' });
    at({ kind: 'replica-dropped', node: 'm', peer: 'r1', why: 'client-output-buffer-limit replica: output buffer 1 bytes reached the hard limit 1' });
    at({ kind: 'continue-received', node: 'r3', peer: 'r2', replid: 'new', why: "the master's history has a new id new…: the old one becomes replid2" });
    expect([...c.coverage].sort()).toEqual([
      'chain cascade (+CONTINUE new id)', 'full sync: diskless', 'output-buffer disconnect', 'partial: replid', 'partial: replid2',
      'refused: backlog miss', 'restart then PSYNC', 'restart then partial',
    ]);
    expect(c.lastLines().length).toBe(8);
  });
});

describe('fuzz: campaign', () => {
  it('30 runs on the correct core finish with no failures', () => {
    const failures: string[] = [];
    const s = runCampaign({ seed: 'ci', runs: 30, shardIndex: 0, shardCount: 1, fixed: {} }, {
      onResult: (r) => {
        if (!r.ok) failures.push(`${r.seed}: ${r.failure!.kind}: ${r.failure!.detail.split('\n')[0]}\n${scenarioFileText(r)}`);
      },
    });
    expect(failures).toEqual([]);
    expect(s.runs).toBe(30);
    expect(s.coverage.get('full sync: disk')! + s.coverage.get('full sync: diskless')!).toBeGreaterThan(0);
    expect(s.coverage.get('partial: replid') ?? 0).toBeGreaterThan(0);
  }, 60_000);

  it('shards split the seeds with no overlap and no gap', () => {
    const seen = (i: number, n: number): string[] => {
      const out: string[] = [];
      runCampaign({ seed: 'sh', runs: 5, shardIndex: i, shardCount: n, fixed: { nodesMin: 2, nodesMax: 2 } }, { onResult: (r) => out.push(r.seed) });
      return out;
    };
    expect(seen(0, 2)).toEqual(['sh/0', 'sh/2', 'sh/4']);
    expect(seen(1, 2)).toEqual(['sh/1', 'sh/3']);
  }, 30_000);
});

describe('fuzz: command', () => {
  const collect = (): { text: () => string; write: (s: string) => void } => {
    const parts: string[] = [];
    return { text: () => parts.join(''), write: (s) => void parts.push(s) };
  };

  it('runs a campaign, prints progress and the coverage table, exits 0', () => {
    const out = collect();
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-'));
    const code = fuzzCommand({ runs: 3, seed: 'cmd', out: dir, stdout: out.write, stderr: out.write, isTTY: false, nodes: '2..3', faults: 'crash,promote' });
    expect(code).toBe(0);
    expect(out.text()).toContain('3 runs, 0 failed');
    expect(out.text()).toContain('coverage (runs that hit each protocol path):');
    expect(readdirSync(dir)).toEqual([]);
  }, 30_000);

  it('--json prints a summary object', () => {
    const out = collect();
    const code = fuzzCommand({ runs: 2, seed: 'js', json: true, stdout: out.write, stderr: out.write, isTTY: false });
    expect(code).toBe(0);
    const summary = JSON.parse(out.text().trim().split('\n').at(-1)!);
    expect(summary.runs).toBe(2);
    expect(summary.failed).toBe(0);
    expect(Object.keys(summary.coverage)).toContain('partial: replid2');
  }, 30_000);

  it('bad arguments exit 2 with a message', () => {
    for (const bad of [{ nodes: '1..9' }, { faults: 'meteor' }, { shard: '2/2' }, { time: 'soon' }]) {
      const err = collect();
      expect(fuzzCommand({ ...bad, stdout: () => {}, stderr: err.write })).toBe(2);
      expect(err.text()).toMatch(/^psync-sim fuzz: --/);
    }
  });

  it('a failure file starts with the options and replays', () => {
    // Any run can be written; the file must parse (comments at the top, failure at the end).
    const r = fuzzOne('file/1');
    const text = scenarioFileText({ ...r, ok: false, failure: { kind: 'liveness', detail: 'line 1: planted\n  detail → arrow' } });
    const parsed = parseScenario(text, 'x.scn');
    expect(stripPos(parsed)).toEqual(stripPos(r.scenario));
    expect(text.split('\n')[0]).toBe('# psync-sim fuzz run file/1');
  });
});

describe('fuzz: worker threads', () => {
  it('two workers cover exactly the runs one thread does, with the same totals', async () => {
    const { runCampaignOnWorkers } = await import('../sim/cli/fuzz.ts');
    const { runCampaign, campaignDefault } = await import('../sim/fuzz/campaign.ts');
    const campaign = { ...campaignDefault, seed: 'workers', runs: 12 };
    const seen: string[] = [];
    const parallel = await runCampaignOnWorkers(campaign, 2, null, (r) => seen.push(r.seed));
    const serial = runCampaign(campaign);
    expect(parallel.runs).toBe(12);
    expect(seen.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `workers/${i}`).sort());
    expect(parallel.events).toBe(serial.events);
    expect(parallel.virtualUs).toBe(serial.virtualUs);
    expect([...parallel.coverage].sort()).toEqual([...serial.coverage].sort());
  }, 60_000);
});
