import { describe, it, expect } from 'vitest';
import { generateScenario } from '../sim/fuzz/generate.ts';
import { executeGenerated, fuzzOne, scenarioFileText } from '../sim/fuzz/run.ts';
import { failureSignature, minFileText, removeNode, removeSentinel, shrinkFailure, shrinkScenario, validCandidate } from '../sim/fuzz/shrink.ts';
import { compareTraces, fuzzTwice, TraceRecorder } from '../sim/fuzz/determinism.ts';
import { runCampaign } from '../sim/fuzz/campaign.ts';
import { fuzzCommand, writeShrunk } from '../sim/cli/fuzz.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printScenario } from '../sim/scenario/printer.ts';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import { NO_POS } from '../sim/scenario/ast.ts';
import type { Scenario, Statement } from '../sim/scenario/ast.ts';
import type { Stamped } from '../sim/trace/events.ts';

const PLANTED = 'r2.master_repl_offset < -1';

/** The planted expect: impossible, so it fails whenever r2 is still in the scenario. */
const plantedExpect: Statement = {
  kind: 'expect', pos: NO_POS,
  pred: { kind: 'compare', pos: NO_POS, left: { kind: 'field', pos: NO_POS, node: 'r2', field: 'master_repl_offset' }, op: '<', right: { kind: 'number', pos: NO_POS, value: -1 } },
};

/**
 * The planted failure, judged the way `psync-sim run` would see it: print, parse, run; the
 * planted expect fails AND the trace shows a partition that cut r2 off.
 */
function plantedFails(s: Scenario): boolean {
  const text = printScenario(s);
  let partitionedR2 = false;
  const r = runScenario(parseScenario(text, 'planted.scn'), {
    trace: (st: Stamped) => {
      if (st.event.kind === 'fault' && st.event.what.startsWith('partition') && /\br2\b/.test(st.event.what)) partitionedR2 = true;
    },
    source: text,
  });
  return partitionedR2 && r.checks.some((c) => !c.ok && c.text.includes(PLANTED));
}

function plantedScenario(): Scenario {
  // A seed whose story partitions r2 (checked below, so a generator change cannot make this vacuous).
  const g = generateScenario('shrink/planted', { nodesMin: 5, nodesMax: 5, faultKindsAllowed: ['partition', 'crash', 'promote'] });
  return { ...g.scenario, body: [...g.scenario.body, plantedExpect] };
}

describe('shrink: planted failure', () => {
  it('shrinks to a dozen statements that still fail the same way after print, parse and run; deterministic', () => {
    const start = plantedScenario();
    expect(plantedFails(start)).toBe(true);
    const t0 = performance.now();
    const a = shrinkScenario(start, plantedFails, 300);
    const ms = performance.now() - t0;
    const text = printScenario(a.scenario);
    // Much smaller: a handful of body statements, r2 kept, and fewer nodes.
    expect(a.statementsBefore).toBeGreaterThan(20);
    expect(a.statementsAfter).toBeLessThanOrEqual(12);
    expect(a.nodesAfter).toBeLessThan(a.nodesBefore);
    expect(a.scenario.nodes.map((n) => n.name)).toContain('r2');
    expect(a.runs).toBeLessThanOrEqual(300);
    // The text replays (parse + run) and fails the same way.
    expect(plantedFails(parseScenario(text, 'min.scn'))).toBe(true);
    expect(text).toContain(`expect ${PLANTED}`);
    expect(text).toMatch(/partition .*r2/);
    // Deterministic: the same input gives the same output and the same number of runs.
    const b = shrinkScenario(start, plantedFails, 300);
    expect(printScenario(b.scenario)).toBe(text);
    expect(b.runs).toBe(a.runs);
    console.log(`planted shrink: ${a.statementsBefore} -> ${a.statementsAfter} statements, ${a.nodesBefore} -> ${a.nodesAfter} nodes, ${a.runs} runs, ${ms.toFixed(0)} ms\n${text}`);
  }, 20_000);

  it('the run budget bounds the work', () => {
    let calls = 0;
    const r = shrinkScenario(plantedScenario(), (s) => (calls++, s.nodes.some((n) => n.name === 'r2')), 7);
    expect(calls).toBe(7);
    expect(r.runs).toBe(7);
    expect(r.exhausted).toBe(true);
  });

  it('never adopts a candidate that passes', () => {
    const start = plantedScenario();
    const r = shrinkScenario(start, () => false, 5000);
    expect(printScenario(r.scenario)).toBe(printScenario(start));
    expect(r.exhausted).toBe(false); // Ran out of ideas, not of budget.
    expect(r.runs).toBeGreaterThan(20); // It did try.
  });

  it('removeNode drops every line naming the node, and shrinks partitions', () => {
    const s = parseScenario(
      ['nodes m r1 r2', 'config r2 replicaof r1 6379', 'config r1 repl-timeout 5', '', 'at 0s', '  r1: REPLICAOF m 6379', '  r2: REPLICAOF r1 6379',
        '  partition m | r1 r2', '  partition r1 -> m', 'at 1s', '  expect r1.master_repl_offset > 0', 'await converged m r1 r2 within 10s'].join('\n'),
      'x.scn',
    );
    const t = printScenario(removeNode(s, 'r1'));
    expect(t).toBe(['nodes m r2', '', 'at 0s', '  partition m | r2', 'at 1s', 'await converged m r2 within 10s', ''].join('\n'));
  });
});

describe('shrink: fuzz failures', () => {
  it('a planted liveness failure (a partition left in place) shrinks to the partition and the liveness phase', () => {
    const g = generateScenario('planted/2', { nodesMin: 3, nodesMax: 3 });
    const body = [...g.scenario.body];
    const awaitStmt = body.pop()!;
    body.push({ kind: 'partition', pos: NO_POS, groups: [['m'], ['r1', 'r2']] }, { kind: 'partition', pos: NO_POS, groups: [['r1'], ['m', 'r2']] }, awaitStmt);
    const r = executeGenerated('planted/2', { ...g.scenario, body }, g.options, g.faultKindsUsed);
    expect(r.failure?.kind).toBe('liveness');
    const progress: number[] = [];
    const sh = shrinkFailure(r, 150, (p) => progress.push(p.runs))!;
    expect(sh).not.toBeNull();
    expect(sh.statementsAfter).toBeLessThanOrEqual(12);
    expect(sh.result.failure?.kind).toBe('liveness');
    // Progress is reported after every candidate run.
    expect(progress).toEqual(Array.from({ length: sh.runs }, (_, i) => i + 1));
    // The `.min.scn` file replays through parse + run and fails the same way.
    const file = minFileText(sh, scenarioFileText);
    const lines = file.split('\n');
    expect(lines[0]).toMatch(/^# psync-sim fuzz run planted\/2, shrunk: \d+ of \d+ body statements removed, nodes 3 -> \d/);
    expect(lines[1]).toBe('# replay: psync-sim run planted_2.min.scn --trace');
    // The header and the title describe the shrunk story: its nodes, its steps.
    const names = sh.scenario.nodes.map((n) => n.name).join(' ');
    expect(lines).toContain(`# nodes: ${names}`);
    expect(file).toMatch(/^# steps: .*partition/m);
    expect(file).toContain(`title shrunk fuzz run planted/2: ${sh.scenario.nodes.length} nodes, `);
    expect(file).not.toMatch(/nodeCount: 3/);
    const replay = runScenario(parseScenario(file, 'x.min.scn'), { trace: null, source: file });
    expect(replay.failed).toBeGreaterThan(0);
    const failedCheck = replay.checks.find((c) => !c.ok)!;
    expect(failedCheck.kind).toBe('await');
    // The line the failure comment names is the line the replay fails on, and holds that await.
    const named = Number(/^#\s+line (\d+): /m.exec(file)![1]);
    expect(named).toBe(failedCheck.line);
    expect(lines[named - 1]).toMatch(/^await /);
    // The liveness phase is kept: the permanent partition is what fails, not a dropped heal.
    expect(printScenario(sh.scenario)).toMatch(/partition /);
    expect(printScenario(sh.scenario)).toMatch(/REPLICAOF NO ONE/);
    // The command's writer puts it next to the .scn as <seed>.min.scn.
    const dir = mkdtempSync(join(tmpdir(), 'shrink-'));
    const w = writeShrunk(dir, r, 150)!;
    expect(w.file).toBe(join(dir, 'planted_2.min.scn'));
    expect(readFileSync(w.file, 'utf8')).toBe(file);
    expect(w.summary).toMatch(/^\d+ → \d+ body statements, 3 → \d nodes, \d+ runs$/);
  }, 20_000);

  it('failure signatures: invariant by name, crash without numbers', () => {
    expect(failureSignature({ kind: 'invariant', detail: 'line 40: invariant: same-offset-same-data\n  x' })).toBe('invariant same-offset-same-data');
    expect(failureSignature({ kind: 'invariant', detail: 'line 51: invariant: replica offset\n  x' })).toBe('invariant replica offset');
    expect(failureSignature({ kind: 'invariant', detail: 'line 51: invariant: replication buffer\n  x' })).not.toBe(failureSignature({ kind: 'invariant', detail: 'line 9: invariant: replica offset\n  y' }));
    expect(failureSignature({ kind: 'crash', detail: 'assertion failed: bad offset 123\nstack' })).toBe(failureSignature({ kind: 'crash', detail: 'assertion failed: bad offset 7\nother' }));
    expect(failureSignature({ kind: 'liveness', detail: 'line 3: a' })).toBe(failureSignature({ kind: 'liveness', detail: 'line 9: b' }));
  });

  it('a run that passed is not shrunk', () => {
    const r = fuzzOne('shrink/ok', { nodesMin: 2, nodesMax: 2 });
    expect(r.ok).toBe(true);
    expect(shrinkFailure(r)).toBeNull();
  });
});

describe('determinism check', () => {
  it('the correct core runs a seed twice identically', () => {
    const r = fuzzTwice('det/1', { nodesMin: 3, nodesMax: 3 });
    expect(r.failure?.kind).not.toBe('nondeterminism');
    expect(r.ok).toBe(true);
  });

  it('a planted difference (two seeds through the same comparison) reports the first differing event', () => {
    const a = new TraceRecorder();
    const b = new TraceRecorder();
    fuzzOne('det/a', { nodesMin: 2, nodesMax: 2 }, a.sink);
    fuzzOne('det/b', { nodesMin: 2, nodesMax: 2 }, b.sink);
    const d = compareTraces(a.lines, b.lines);
    expect(d).not.toBeNull();
    const first = a.lines.findIndex((l, i) => l !== b.lines[i]);
    expect(d!.index).toBe(first);
    expect(d!.first).not.toBe(d!.second);
    expect(d!.first).toMatch(/^\s*\S+ /); // Rendered with its time, like the trace.
    expect(compareTraces(a.lines, a.lines.slice())).toBeNull();
    // One stream a prefix of the other: the difference is where the shorter one ends.
    const cut = compareTraces(a.lines, a.lines.slice(0, 5));
    expect(cut).toMatchObject({ index: 5, second: '(end of trace)' });
  });

  it('campaign and command: --check-determinism finds nothing on the correct core', () => {
    const s = runCampaign({ seed: 'detc', runs: 2, shardIndex: 0, shardCount: 1, fixed: { nodesMin: 2, nodesMax: 3 }, checkDeterminism: true });
    expect(s.failures).toEqual([]);
    expect(s.byKind.nondeterminism).toBe(0);
    const parts: string[] = [];
    const code = fuzzCommand({ runs: 1, seed: 'detcmd', nodes: '2', checkDeterminism: true, shrink: false, stdout: (x) => void parts.push(x), stderr: (x) => void parts.push(x), isTTY: false });
    expect(code).toBe(0);
    expect(parts.join('')).toContain('1 runs, 0 failed');
  }, 20_000);
});

describe('shrink: every candidate is a file psync-sim run accepts', () => {
  // A sentinel story whose client follows the sentinels: `load @mymaster` needs the `sentinels`
  // line and `sentinel * monitor mymaster ...`; `down-after-milliseconds mymaster` needs the
  // monitor line above it (the executor's start-up check, which the parser does not make).
  const STORY = [
    'nodes m r1 r2', 'sentinels s1 s2 s3', 'clients c1',
    'config r1 replicaof m 6379', 'config r2 replicaof m 6379',
    'sentinel * monitor mymaster m 6379 2', 'sentinel * down-after-milliseconds mymaster 1000', 'sentinel * failover-timeout mymaster 5000',
    '', 'at 0s', 'at 2s', '  load @mymaster 20 over 1s from c1', 'at 3s', '  crash s3', 'at 4s', '  pause s2 500ms', 'at 5s', '  restart s3',
    'await converged within 30s', '',
  ].join('\n');
  const start = (): Scenario => parseScenario(STORY, 'follow.scn');
  /** What `psync-sim run` checks before running: parse, then the executor's set-up. */
  const runAccepts = (text: string): boolean => {
    try {
      runScenario({ ...parseScenario(text, 'c.scn'), body: [] }, { trace: null, source: text });
      return true;
    } catch {
      return false;
    }
  };

  it('the checks the shrinker must make: dropping the monitor line or every sentinel breaks the file', () => {
    const s = start();
    expect(runAccepts(printScenario(s))).toBe(true);
    const noMonitor = { ...s, sentinelConfigs: s.sentinelConfigs!.slice(1) };
    expect(runAccepts(printScenario(noMonitor))).toBe(false); // the parser refuses `load @mymaster`
    const noLoad = { ...noMonitor, body: noMonitor.body.filter((st) => st.kind !== 'load') };
    expect(() => parseScenario(printScenario(noLoad), 'x.scn')).not.toThrow(); // it parses...
    expect(runAccepts(printScenario(noLoad))).toBe(false); // ...but down-after names a master nobody monitors
    expect(validCandidate(noMonitor)).toBeNull();
    expect(validCandidate(noLoad)).toBeNull();
    expect(validCandidate(s)).toBe(printScenario(s));
    let none = s;
    for (const n of ['s1', 's2', 's3']) none = removeSentinel(none, n);
    expect(validCandidate(none)).toBeNull();
  });

  it('a failure that needs the following load shrinks to a valid file: sentinels and lines go, what the load needs stays', () => {
    const tried: string[] = [];
    // "Fails" while the story still has its load through the sentinels (and records every candidate run).
    const stillFails = (c: Scenario): boolean => {
      const text = printScenario(c);
      tried.push(text);
      return /load @mymaster/.test(text);
    };
    const r = shrinkScenario(start(), stillFails, 500);
    expect(tried.length).toBe(r.runs);
    expect(tried.length).toBeGreaterThan(5);
    // No candidate run was one `psync-sim run` refuses; nor is the result.
    for (const t of tried) expect(runAccepts(t), t).toBe(true);
    const text = printScenario(r.scenario);
    expect(runAccepts(text)).toBe(true);
    expect(text).toContain('load @mymaster');
    expect(text).toMatch(/^sentinels s\d$/m); // two of three sentinels dropped, one kept
    expect(text).toContain('sentinel * monitor mymaster m 6379 2');
    expect(text).not.toContain('down-after-milliseconds'); // a line nothing needs: dropped
    expect(text).not.toMatch(/crash s3|pause s2/);
  });

  it('shouldStop ends a shrink early with the smallest failure found so far', () => {
    let calls = 0;
    const r = shrinkScenario(plantedScenario(), (s) => (calls++, s.nodes.some((n) => n.name === 'r2')), { runsMax: 300, keepLivenessPhase: false, shouldStop: () => calls >= 4 });
    expect(calls).toBe(4);
    expect(r.interrupted).toBe(true);
    expect(r.scenario.nodes.map((n) => n.name)).toContain('r2');
    expect(r.statementsAfter).toBeLessThan(r.statementsBefore);
  });
});
