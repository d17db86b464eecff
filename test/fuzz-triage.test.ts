/**
 * Fuzz triage as a user meets it: a found failure is printed once and its replay line reproduces
 * it exactly (line, check, --bug); the campaign's progress goes on while a failure is shrunk on
 * its own thread; SIGINT keeps every failure file and finishes (or says it did not finish) the
 * `.min.scn` being shrunk.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failureHeadline, fuzzCommand } from '../sim/cli/fuzz.ts';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { BugName } from '../sim/core/bugs.ts';
import { generateScenario } from '../sim/fuzz/generate.ts';
import { executeGenerated } from '../sim/fuzz/run.ts';

const root = join(import.meta.dirname, '..');
const collect = (): { text: () => string; write: (s: string) => void } => {
  const parts: string[] = [];
  return { text: () => parts.join(''), write: (s) => void parts.push(s) };
};

/** Replay a command line `psync-sim run FILE [--bug X]... --trace` as `run` does: its first failed check. */
function replay(line: string): { line: number; text: string } {
  const words = line.replace(/^ *replay: psync-sim run /, '').split(' ');
  const file = words[0]!;
  const bugs = words.flatMap((w, i) => (w === '--bug' ? [words[i + 1] as BugName] : []));
  const source = readFileSync(file, 'utf8');
  const r = runScenario(parseScenario(source, file), { trace: null, file, source, bugs });
  const c = r.checks.find((x) => !x.ok)!;
  return { line: c.line, text: c.text };
}

describe('fuzz triage: a failure is printed once and replays exactly', () => {
  it('the headline names the kind once', () => {
    expect(failureHeadline({ kind: 'invariant', detail: 'line 52: invariant: replica offset\n  more' })).toBe('line 52: invariant: replica offset');
    expect(failureHeadline({ kind: 'liveness', detail: 'line 60: await converged within 60s\n  x' })).toBe('liveness: line 60: await converged within 60s');
    // A crash names its error once: 'exception TypeError: boom', not 'exception TypeError: TypeError: boom'.
    const g = generateScenario('crash/1', { nodesMin: 2, nodesMax: 2 });
    const crashed = executeGenerated('crash/1', g.scenario, g.options, g.faultKindsUsed, () => {
      throw new TypeError('boom');
    });
    expect(crashed.failure?.kind).toBe('crash');
    expect(failureHeadline(crashed.failure!)).toBe('crash: exception TypeError: boom');
    expect(failureHeadline({ kind: 'promise', detail: '1 lost write(s) had been confirmed by WAIT' })).toBe('promise: 1 lost write(s) had been confirmed by WAIT');
  });

  it('--bug: each ✗ line says its failure once; every replay line (.scn and .min.scn, with --bug) fails on that line with that check', () => {
    const out = collect();
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-triage-'));
    const code = fuzzCommand({ runs: 6, seed: 'triage', bugs: ['proxy-unapplied'], out: dir, shrinkRuns: 20, stdout: out.write, stderr: out.write, isTTY: false });
    expect(code).toBe(1);
    const lines = out.text().split('\n');
    const failures = lines.filter((l) => l.startsWith('✗ '));
    expect(failures.length).toBeGreaterThan(1);
    for (const f of failures) {
      expect(f).toMatch(/^✗ triage\/\d: line \d+: invariant: replica offset( \(same signature as .*\))?$/);
      expect(f.match(/invariant/g)).toHaveLength(1);
    }
    // Each failure is printed once (its seed heads one ✗ line), and has one replay line.
    const seeds = failures.map((f) => /^✗ (\S+):/.exec(f)![1]);
    expect(new Set(seeds).size).toBe(seeds.length);
    const replays = lines.filter((l) => l.startsWith('  replay: '));
    expect(replays).toHaveLength(failures.length);
    for (const rl of replays) {
      expect(rl).toContain(' --bug proxy-unapplied --trace');
      const got = replay(rl);
      const file = /run (\S+)/.exec(rl)![1]!;
      const stem = file.replace(/\.min\.scn$|\.scn$/, '').split('/').pop()!.replace('_', '/');
      const printed = failures.find((f) => f.startsWith(`✗ ${stem}:`))!;
      if (!file.endsWith('.min.scn')) expect(printed).toContain(`: line ${got.line}: ${got.text}`);
      expect(got.text).toBe('invariant: replica offset');
      // The file's own header holds the same replay command and the failure comment the same line.
      const text = readFileSync(file, 'utf8');
      expect(text.split('\n')[1]).toBe(`# replay: psync-sim run ${file.split('/').pop()} --bug proxy-unapplied --trace`);
      expect(text).toContain(`#   line ${got.line}: invariant: replica offset`);
    }
    expect(replays.some((r) => r.includes('.min.scn'))).toBe(true);
  }, 120_000);
});

describe('fuzz triage: progress goes on while a failure is shrunk', () => {
  it('on worker threads, the live line (stderr) keeps counting runs while it shows the shrink', async () => {
    const out = collect();
    const err = collect();
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-triage-bg-'));
    const code = await fuzzCommand({
      runs: 12, seed: 'bg', bugs: ['proxy-unapplied'], out: dir, shrinkRuns: 60, workers: 1, interruptible: true,
      stdout: out.write, stderr: err.write, isTTY: true, columns: 400,
    });
    expect(code).toBe(1);
    const drawn = err.text().split('\r\x1b[K').filter((l) => l.length > 0);
    const shrinking = drawn.filter((l) => l.includes(' · shrinking bg/'));
    expect(shrinking.length).toBeGreaterThan(1);
    const runsIn = (l: string): number => Number(/\] (\d+) runs/.exec(l)![1]);
    // While one shrink is shown, the run count grows: the campaign did not wait for it.
    const first = shrinking[0]!;
    const label = / · shrinking (\S+) /.exec(first)![1]!;
    const same = shrinking.filter((l) => l.includes(` · shrinking ${label} `));
    expect(Math.max(...same.map(runsIn))).toBeGreaterThan(runsIn(first));
    expect(first).toMatch(/^\[[#.]{24}\] \d+ runs, \d+ failed, [\d.]+ runs\/s, [\d.]+ s · shrinking \S+ \[invariant replica offset\]: (starting|run \d+\/60, \d+ statements, \d+ nodes)/);
    // stdout keeps the results only: no live line, no escape codes.
    expect(out.text()).not.toMatch(/\r|\x1b\[K/);
    expect(out.text()).toMatch(new RegExp(`\\n  ${label.replace('/', '\\/')} shrunk: \\d+ → \\d+ body statements`));
    expect(out.text()).toContain('12 runs, ');
  }, 180_000);

  it('SIGINT while shrinking: exit 130, every .scn written, the .min.scn in progress finished with what it had, the queued ones named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-triage-int-'));
    const child = spawn(process.execPath, ['sim/psync-sim.js', 'fuzz', '--runs', '100000', '--seed', 'int', '--bug', 'proxy-unapplied', '--shrink-all', '--workers', '1', '--out', dir], {
      cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (out += d.toString()));
    // Interrupt once a few failures are queued behind the first shrink.
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if ((out.match(/shrinking \(at most/g) ?? []).length >= 3) {
          clearInterval(t);
          resolve();
        }
      }, 50);
    });
    child.kill('SIGINT');
    const status = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(status).toBe(130);
    expect(out).toMatch(/interrupted after \d+ runs: every failure file above is written and complete/);
    expect(out).not.toMatch(/\n\s+at .*(\.[jt]s|node:)/);
    // Every failure printed has its .scn, whole (it parses).
    const files = [...out.matchAll(/^ {2}file: (\S+)$/gm)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) expect(() => parseScenario(readFileSync(f, 'utf8'), f)).not.toThrow();
    // The shrink in progress ended with a .min.scn (whole: it replays and fails), said how it ended;
    // the ones not started are named.
    const shrunk = [...out.matchAll(/^ {2}(\S+) shrunk: (.*)$/gm)];
    expect(shrunk.length).toBeGreaterThanOrEqual(1);
    const last = shrunk.at(-1)!;
    const minFile = join(dir, `${last[1]!.replace('/', '_')}.min.scn`);
    expect(existsSync(minFile)).toBe(true);
    expect(replay(`  replay: psync-sim run ${minFile} --bug proxy-unapplied --trace`).text).toBe('invariant: replica offset');
    if (last[2]!.includes('interrupted')) expect(readFileSync(minFile, 'utf8').split('\n')[0]).toContain('(interrupted: the smallest failing story found by then)');
    expect(out).toMatch(/not shrunk \(interrupted before their turn\): (\S+\/\d+ ?)+; their \.scn files are complete/);
  }, 120_000);
});
