/**
 * The `psync-sim run` contract (scenarios/README.md, "Running"): exit status 0/1/2, `N passed, N failed`
 * alone on the last line, FILE:LINE:COL for a bad file and never a stack trace, --json lines.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'psync-sim-cli-'));

function cli(...args: string[]): { status: number | null; out: string; err: string } {
  // The compiled CLI, as installed (vitest's globalSetup builds dist/ first).
  const r = spawnSync(process.execPath, ['sim/psync-sim.js', ...args], {
    cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined },
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const lastLine = (s: string): string => s.trimEnd().split('\n').pop()!;

describe('cli: psync-sim run', { timeout: 60_000 }, () => {
  it('exit 0 and "N passed, 0 failed" when every check holds', () => {
    const p = file('ok.scn', 'nodes m r1\nat 0s\n  r1: REPLICAOF m 6379\nawait converged within 10s\nexpect m.connected_slaves == 1\n');
    const r = cli('run', p);
    expect(r.status).toBe(0);
    expect(lastLine(r.out)).toBe('2 passed, 0 failed');
    expect(r.out).not.toMatch(/\x1b\[/); // NO_COLOR and not a TTY: no escape codes
  });

  it('exit 1 with the actual value when an expectation fails, and the run goes on', () => {
    const p = file('fail.scn', 'nodes m\nat 0s\nexpect m.role == slave\nexpect m.connected_slaves == 0\n');
    const r = cli('run', p);
    expect(r.status).toBe(1);
    expect(r.out).toContain('m.role is master; expected == slave');
    expect(lastLine(r.out)).toBe('1 passed, 1 failed');
  });

  it('exit 2 with FILE:LINE:COL and no stack trace for an invalid file', () => {
    const p = file('bad.scn', 'nodes m r1\nat 0s\n  r1: REPLICAOF m 6379\nawait converged withn 10s\n');
    const r = cli('run', p);
    expect(r.status).toBe(2);
    expect(r.out + r.err).toMatch(new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: `));
    expect(r.out + r.err).not.toMatch(/\n\s+at .*\.ts:\d+/);
  });

  it('exit 2 for a config name Redis does not know, at its line', () => {
    const p = file('badconfig.scn', 'nodes m\nconfig m repl-backlog-sise 1mb\nat 0s\nexpect m.role == master\n');
    const r = cli('run', p);
    expect(r.status).toBe(2);
    expect(r.out).toContain(`${p}:2:`);
    expect(r.out).toContain("unknown config 'repl-backlog-sise'");
  });

  it('exit 2 with a message for a missing file', () => {
    const r = cli('run', join(dir, 'nope.scn'));
    expect(r.status).toBe(2);
    expect(r.err).toContain('no such file or folder');
  });

  it('--json writes one JSON object per trace event', () => {
    const p = file('json.scn', 'nodes m r1\nat 0s\n  r1: REPLICAOF m 6379\nawait converged within 10s\n');
    const out = join(dir, 'trace.jsonl');
    expect(cli('run', p, '--json', out).status).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'event');
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.some((e) => e.kind === 'psync-decision')).toBe(true);
    expect(lines.every((e) => Number.isInteger(e.atUs))).toBe(true);
  });

  it('--bug switches on a zoo bug, and an unknown one is refused with the list', () => {
    const lesson = join(root, 'scenarios/bugs/proxy-unapplied.scn');
    expect(cli('run', lesson).status).toBe(0);
    const r = cli('run', lesson, '--bug', 'proxy-unapplied');
    expect(r.status).toBe(1);
    expect(r.out).toContain('invariant: replica offset');
    const bad = cli('run', lesson, '--bug', 'nosuch');
    expect(bad.status).toBe(2);
    expect(bad.err).toContain("unknown bug 'nosuch' (the zoo has: ");
  });

  it('--timeline draws one lane per node', () => {
    const p = file('timeline.scn', 'nodes m r1\nat 0s\n  r1: REPLICAOF m 6379\nawait converged within 10s\n');
    const r = cli('run', p, '--timeline');
    expect(r.status).toBe(0);
    const lines = r.out.split('\n');
    const header = lines.find((l) => /^\s+m\s+r1\s*$/.test(l));
    expect(header).toBeDefined();
    // A PSYNC sent by r1 sits in r1's lane (right of m's), the decision in m's lane.
    const psync = lines.find((l) => l.includes('→ m: PSYNC'))!;
    const decision = lines.find((l) => l.includes('decides for r1'))!;
    expect(psync.indexOf('→ m: PSYNC')).toBeGreaterThan(decision.indexOf('decides for r1'));
  });

  it("the README's lesson-04 run, --trace excerpt and explain excerpt are what the CLI prints", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = (after: string): string => {
      const i = readme.indexOf(after);
      expect(i, after).toBeGreaterThan(-1);
      const a = readme.indexOf('```\n', i) + 4;
      return readme.slice(a, readme.indexOf('```', a));
    };
    const lesson = 'scenarios/lessons/04-partial-resync.scn';
    const wall = (t: string): string => t.replace(/in \d+ ms wall/, 'in N ms wall');
    const cmd = '$ npx psync-sim run ' + lesson + '\n';
    expect(readme).toContain(cmd);
    const from = readme.indexOf(cmd) + cmd.length;
    const run = readme.slice(from, readme.indexOf('```', from));
    expect(wall(run)).toBe(wall(cli('run', lesson).out));
    const trace = cli('run', lesson, '--trace').out.split('\n');
    for (const line of block('With `--trace`, every decision').trimEnd().split('\n')) expect(trace, line).toContain(line);
    const flat = (t: string): string => t.replace(/\s+/g, ' ').trim();
    const story = flat(cli('explain', lesson).out);
    for (const para of block("with the run's own numbers. From lesson 04:").split('\n\n')) expect(story).toContain(flat(para));
  });

  it('--timeline wraps long texts within COLUMNS instead of cutting them', () => {
    const p = file('timeline-narrow.scn', 'nodes m r1\nat 0s\n  r1: REPLICAOF m 6379\nawait converged within 10s\n');
    for (const columns of [60, 100]) {
      const r = spawnSync(process.execPath, ['sim/psync-sim.js', 'run', p, '--timeline'], {
        cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, COLUMNS: String(columns) },
      });
      expect(r.status).toBe(0);
      const lines = r.stdout.split('\n');
      const top = lines.findIndex((l) => /^\s+m\s+r1\s*$/.test(l));
      expect(top).toBeGreaterThan(0);
      const timeline = lines.slice(top, lines.findIndex((l, i) => i > top && /^\s+seed /.test(l)));
      for (const l of timeline) expect(l.length, l).toBeLessThanOrEqual(columns);
      expect(timeline.join('\n')).not.toContain('…ccb'); // nothing cut with an ellipsis mid-word
      // The decision, wrapped over rows in m's lane, reads back whole.
      const start = timeline.findIndex((l) => l.includes('decides for r1'));
      const rows = [timeline[start]!.slice(14)];
      for (let k = start + 1; k < timeline.length && /^ {14}\S/.test(timeline[k]!); k++) rows.push(timeline[k]!.slice(14).trim());
      expect(rows.join(' ')).toMatch(/decides for r1: full resync: replid mismatch: the replica follows [0-9a-f]{8}…, this node's history is [0-9a-f]{8}…$/);
    }
  });

  it('--help lists the commands', () => {
    const r = cli('--help');
    expect(r.status).toBe(0);
    expect(r.out).toContain('psync-sim run <files..>');
  });
});
