/**
 * The lab's program (sim/lab/program.ts): learner actions become scenario steps at their
 * virtual times, the export is the program's text, and replaying the export gives the same
 * trace; the run before an action is the one the learner watched. Also the browser bundle's
 * SHA-1 stand-in against node:crypto, and the lab server's routes (no path traversal).
 */
import { describe, it, expect } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabSession, runProgramText, insertSteps, actionStep, cutAt, LabError } from '../sim/lab/program.ts';
import { parseScenario } from '../sim/scenario/parser.ts';
import { printScenario } from '../sim/scenario/printer.ts';
import { sha1 } from '../sim/lab/shims/crypto.ts';
import { route } from '../sim/lab/server.ts';

const root = join(import.meta.dirname, '..');
const LESSON = 'scenarios/lessons/04-partial-resync.scn';
const lesson = readFileSync(join(root, LESSON), 'latin1');

function atUsOf(line: string): number {
  return (JSON.parse(line) as { atUs: number }).atUs;
}

describe('lab program: actions -> .scn -> parse -> the same AST and trace', { timeout: 120_000 }, () => {
  it('crash, a console command, restart, run on, partition: the export replays to the same trace', () => {
    const s = new LabSession(lesson, LESSON);
    const untouched = s.run.traceLines;
    expect(s.run.result.failed).toBe(0);
    s.act({ kind: 'crash', node: 'm' }, 3_217_412);
    s.act({ kind: 'command', node: 'r1', line: 'SET greeting "hello world"' }, 3_500_000);
    s.act({ kind: 'restart', node: 'm' }, 4_000_000);
    s.runOn(2_000_000);
    s.act({ kind: 'partition', groups: [['m'], ['r1']] }, s.endUs - 500_000);
    const text = s.exportText();
    // The steps sit at their virtual times, in the file's own language.
    expect(text).toContain('at 3217412us\n  crash m\n');
    expect(text).toContain('at 3500ms\n  r1: SET greeting "hello world"\n');
    expect(text).toContain('at 4s\n  restart m\n');
    expect(text).toMatch(/\n {2}partition m \| r1\nrun 500ms\n/);
    // The await that was running at 3.217412 s was cut: same deadline (10 s from 0 s).
    expect(text).toContain('\nawait converged within 6s\n');
    // Parse the export: the same AST the lab ran, and replaying it gives the same trace.
    expect(parseScenario(text, LESSON)).toEqual(s.run.program);
    const replay = runProgramText(text, LESSON);
    expect(replay.traceLines).toEqual(s.run.traceLines);
    expect(replay.traceLines.some((l) => l.includes('"what":"crash"'))).toBe(true);
    // Everything before the first action is what the learner watched.
    const before = untouched.filter((l) => atUsOf(l) < 3_217_412);
    expect(before.length).toBeGreaterThan(5);
    expect(s.run.traceLines.slice(0, before.length)).toEqual(before);
    expect(s.run.traceLines).not.toEqual(untouched);
  });

  it('undo goes back to the program before the action', () => {
    const s = new LabSession(lesson, LESSON);
    const first = s.run.text;
    s.act({ kind: 'pause', node: 'r1', durUs: 1_000_000 }, 2_000_000);
    expect(s.run.text).not.toBe(first);
    expect(s.undo()).toBe(true);
    expect(s.run.text).toBe(first);
    expect(s.undo()).toBe(false);
  });

  it('a seed from the page is written into the program, so the export needs no --seed', () => {
    const s = new LabSession(lesson, LESSON, '77');
    expect(s.exportText()).toContain('\nseed 77\n');
    expect(s.run.result.seed).toBe('77');
    expect(() => new LabSession(lesson, LESSON, 'x y')).toThrow(LabError);
  });

  it('each kind of time statement is cut around the steps with its end unchanged', () => {
    const src = 'nodes m r1\nat 0s\n  r1: REPLICAOF m 6379\nat +2s\nrun 3s\nawait m.connected_slaves == 9 within 4s\nat 20s\n';
    const s = new LabSession(src, 'cut.scn');
    const crash = [actionStep({ kind: 'crash', node: 'r1' })];
    const body = (atUs: number): string => printScenario(insertSteps(s.run.program, s.run.spans, atUs, crash).scenario).split('\n\n')[1]!;
    expect(body(1_000_000)).toContain('at 1s\n  crash r1\nat +1s\nrun 3s\n');
    expect(body(3_500_000)).toContain('at +2s\nat 3500ms\n  crash r1\nrun 1500ms\n');
    expect(body(6_000_000)).toContain('run 3s\nat 6s\n  crash r1\nawait m.connected_slaves == 9 within 3s\n');
    expect(body(15_000_000)).toContain('within 4s\nat 15s\n  crash r1\nat 20s\n');
    expect(body(25_000_000)).toMatch(/at 20s\nat 25s\n {2}crash r1\n$/);
  });

  it('an action the scenario language refuses changes nothing', () => {
    const s = new LabSession(lesson, LESSON);
    const text = s.run.text;
    expect(() => s.act({ kind: 'crash', node: 'nobody' }, 1_000_000)).toThrow(/nobody/);
    expect(s.run.text).toBe(text);
    expect(s.done).toEqual([]);
  });

  it('a console line that does not split is refused', () => {
    expect(() => actionStep({ kind: 'command', node: 'm', line: 'SET "a' })).toThrow(LabError);
    expect(() => actionStep({ kind: 'command', node: 'm', line: '   ' })).toThrow(LabError);
  });

  it('cutAt keeps only what happened up to now', () => {
    const s = new LabSession(lesson, LESSON);
    const cut = cutAt(s.run.recording, 5_100_000);
    expect(cut.endUs).toBe(5_100_000);
    expect(cut.events.length).toBeGreaterThan(0);
    expect(cut.events.length).toBeLessThan(s.run.recording.events.length);
    expect(cut.events.every((e) => e.atUs <= 5_100_000)).toBe(true);
    expect(Object.values(cut.states).flat().every((x) => x.atUs <= 5_100_000)).toBe(true);
  });
});

describe('lab bundle: the SHA-1 stand-in for node:crypto', () => {
  it('equals node:crypto on lengths around the block boundaries', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 4097]) {
      const bytes = randomBytes(n);
      expect(Buffer.from(sha1(bytes)).toString('hex'), `length ${n}`).toBe(createHash('sha1').update(bytes).digest('hex'));
    }
  });
});

describe('lab server routes', () => {
  it('serves its own files and lessons, refuses traversal', () => {
    expect(route('/')).toEqual({ kind: 'page' });
    expect(route('/lab.js')).toEqual({ kind: 'bundle' });
    expect(route('/scenarios/lessons/04-partial-resync.scn')).toEqual({ kind: 'lesson', dir: 'lessons', name: '04-partial-resync.scn' });
    for (const bad of ['/../package.json', '/%2e%2e/package.json', '/scenarios/lessons/..%2f..%2fpackage.json', '/scenarios/lessons/%2E%2E%5Cx.scn', '/%zz', '/a%00.scn']) {
      expect(route(bad), bad).toBe('bad');
    }
    for (const missing of ['/package.json', '/scenarios/faults/crash.scn', '/scenarios/lessons/x.txt', '/dist/cli.js']) {
      expect(route(missing), missing).toBeNull();
    }
  });
});
