/**
 * The CLI as a CI sees it: exit statuses (0 passed, 1 failed, 2 invalid input, 3 internal error)
 * and hostile input that used to crash, hang or misreport. Every case spawns the compiled CLI
 * (dist/, built by vitest's globalSetup) and asserts the status and that no stack trace leaks.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'psync-sim-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], timeoutMs = 60_000): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['sim/psync-sim.js', ...args], {
    cwd: root, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined },
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const STACK = /\n\s+at .*(\.[jt]s|node:)/;
function expectNoStack(r: { out: string; err: string }): void {
  expect(r.out + r.err).not.toMatch(STACK);
}

describe('cli: exit statuses and hostile input', { timeout: 120_000 }, () => {
  it('--help names every exit status; --version prints the package version', () => {
    const h = cli(['run', '--help']);
    expect(h.status).toBe(0);
    for (const code of ['0 ', '1 ', '2 ', '3 ', '130']) expect(h.out).toContain(`  ${code}`);
    expect(h.out).toContain('A whole example');
    const v = cli(['--version']);
    expect(v.status).toBe(0);
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('a misspelt flag is exit 2 naming it (strict mode)', () => {
    const r = cli(['run', 'scenarios/lessons', '--seedz', '3']);
    expect(r.status).toBe(2);
    expect(r.err).toContain('seedz');
    expectNoStack(r);
  });

  it('predicates thousands deep are refused with exit 2, never a stack overflow', () => {
    for (const [name, pred] of [
      ['not.scn', 'not '.repeat(20_000) + 'm.role == master'],
      ['and.scn', Array(20_000).fill('m.role == master').join(' and ')],
      ['or.scn', Array(20_000).fill('m.role == slave').join(' or ')],
    ] as const) {
      const r = cli(['run', file(name, `nodes m\nat 0s\nexpect ${pred}\n`)]);
      expect(r.status, name).toBe(2);
      expect(r.out, name).toMatch(/:3:\d+: predicate too long/);
      expectNoStack(r);
    }
    // A sane depth still works.
    const ok = cli(['run', file('not200.scn', `nodes m\nat 0s\nexpect ${'not not '.repeat(100)}m.role == master\n`)]);
    expect(ok.status).toBe(0);
  });

  it('a huge file and /dev/zero are refused at a size limit with one line', () => {
    const big = file('big.scn', Buffer.alloc(5 * 1024 * 1024, 0x23)); // '#' comments, 5 MB
    const r = cli(['run', big]);
    expect(r.status).toBe(2);
    expect(r.err).toContain('larger than 4 MB');
    expectNoStack(r);
    const z = cli(['run', '/dev/zero'], 30_000);
    expect(z.status).toBe(2);
    expect(z.err).toContain('larger than');
  });

  it('durations and times beyond what a story may span are refused at the token', () => {
    const p = cli(['run', file('pause.scn', 'nodes m\nat 0s\n  pause m 9007199254740991us\n')]);
    expect(p.status).toBe(2);
    expect(p.out).toMatch(/pause\.scn:3:11: duration '9007199254740991us' is longer than/);
    const a = cli(['run', file('at.scn', 'nodes m\nat 9007199254740991us\nexpect m.role == master\n')]);
    expect(a.status).toBe(2);
    expect(a.out).toMatch(/at\.scn:2:4: /);
    const sum = cli(['run', file('sum.scn', 'nodes m\nat 0s\n' + 'run 1440m\n'.repeat(2))]);
    expect(sum.status).toBe(2);
    expect(sum.out).toMatch(/sum\.scn:4:5: the story would run past 24 hours/);
    const size = cli(['run', file('size.scn', 'nodes m\nat 0s\n  load m 10 size 1gb\n')]);
    expect(size.status).toBe(2);
    expect(size.out).toMatch(/size\.scn:3:18: value size '1gb'/);
    expectNoStack(size);
  });

  it('load ... db N beyond the node\'s databases is refused', () => {
    const r = cli(['run', file('db.scn', 'nodes m\nat 0s\n  load m 10 db 16\n')]);
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/db\.scn:3:16: db 16 is out of range: m has 16 databases/);
    const ok = cli(['run', file('db15.scn', 'nodes m\nat 0s\n  load m 10 db 15\nrun 1s\nexpect m: DBSIZE => 0\n')]);
    expect(ok.status).toBe(0);
    // More databases configured: db 16 is a database like any other (it was an internal error).
    const more = cli(['run', file('db32.scn', 'nodes m\nconfig m databases 32\nat 0s\n  load m 10 db 16\nrun 1s\nexpect m.db16 == "keys=10,expires=0,avg_ttl=0"\nexpect m: SELECT 31 => OK\n')]);
    expect(more.status, more.out + more.err).toBe(0);
    expectNoStack(more);
    const past = cli(['run', file('db32b.scn', 'nodes m\nconfig m databases 32\nat 0s\n  load m 10 db 32\n')]);
    expect(past.status).toBe(2);
    expect(past.out).toMatch(/db32b\.scn:4:16: db 32 is out of range: m has 32 databases/);
  });

  it('a client named as the host of a command is a FILE:LINE:COL error, not an internal error', () => {
    const step = cli(['run', file('chost.scn', 'nodes m\nclients c1\nat 0s\n  c1: SET k v\n')]);
    expect(step.status).toBe(2);
    expect(step.out).toMatch(/chost\.scn:4:3: 'c1' is a client, not a server/);
    expectNoStack(step);
    const pred = cli(['run', file('chost2.scn', 'nodes m\nclients c1\nat 0s\nexpect c1: PING => PONG\n')]);
    expect(pred.status).toBe(2);
    expect(pred.out).toMatch(/chost2\.scn:4:8: 'c1' is a client/);
  });

  it('config errors point at the bad value (or the unknown name)', () => {
    const v = cli(['run', file('cv.scn', 'nodes m\nconfig m repl-backlog-size 1xb\nat 0s\n')]);
    expect(v.status).toBe(2);
    expect(v.out).toContain(':2:28: config repl-backlog-size');
    const n = cli(['run', file('cn.scn', 'nodes m\nconfig m repl-backlog-sise 1mb\nat 0s\n')]);
    expect(n.status).toBe(2);
    expect(n.out).toContain(":2:10: unknown config 'repl-backlog-sise'");
  });

  it('a UTF-8 BOM is accepted', () => {
    const r = cli(['run', file('bom.scn', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('nodes m\nat 0s\nexpect m.role == master\n')]))]);
    expect(r.status).toBe(0);
    expect(r.out.trimEnd().split('\n').pop()).toBe('1 passed, 0 failed');
  });

  it('an unknown INFO field is a parse-time error with "did you mean"', () => {
    const r = cli(['run', file('field.scn', 'nodes m r1\nat 0s\nexpect m.connected_replicas == 0\n')]);
    expect(r.status).toBe(2);
    expect(r.out).toContain("field.scn:3:10: unknown INFO field 'connected_replicas' (did you mean 'connected_slaves'?)");
    // Fields of a replica's INFO and the per-item families are known too.
    const ok = cli(['run', file('fields.scn', 'nodes m r1\nat 0s\n  r1: REPLICAOF m 6379\nawait converged within 10s\nexpect r1.master_link_status == up and m.slave0 != x and r1.slave_read_only == 1\n')]);
    expect(ok.status).toBe(0);
  });

  it('REPLCONF ACK from a client (never answered by Redis) does not shift later replies', () => {
    const r = cli(['run', file('ack.scn', 'nodes m\nat 0s\n  m: REPLCONF ACK 0\n  m: SET a b\nexpect m: GET a => "b"\nexpect m: PING => "PONG"\n')]);
    expect(r.status).toBe(0);
    expect(r.out.trimEnd().split('\n').pop()).toBe('2 passed, 0 failed');
  });

  it('--json - writes JSON lines to stdout (the text goes to stderr)', () => {
    const r = cli(['run', file('j.scn', 'nodes m\nat 0s\nexpect m.role == master\n'), '--json', '-']);
    expect(r.status).toBe(0);
    const recs = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs[0].type).toBe('header');
    expect(recs.some((x) => x.type === 'check' && x.ok === true)).toBe(true);
    expect(r.err).toContain('1 passed, 0 failed');
  });

  it('an unwritable --json path, bad --workers/--shard and an unusable --out are exit 2 before any run', () => {
    const j = cli(['run', 'scenarios/lessons/01-first-sync.scn', '--json', join(dir, 'no/such/dir/x.jsonl')]);
    expect(j.status).toBe(2);
    expect(j.err).toContain('--json: cannot write');
    expect(j.out).not.toContain('▶'); // nothing ran
    for (const args of [['--workers', '1.5'], ['--workers', '0'], ['--shard', '3/2'], ['--shard', '0/99999999999999999999'], ['--out', '/dev/null/x']]) {
      const r = cli(['fuzz', '--runs', '1', ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.out).not.toContain('runs/s');
      expectNoStack(r);
    }
  });

  it('a numeric flag given text names what is wrong, not NaN', () => {
    for (const [flag, message] of [['--runs', '--runs: expected a count'], ['--workers', '--workers: expected a whole number'], ['--shrink-runs', '--shrink-runs: expected a count']] as const) {
      const r = cli(['fuzz', ...(flag === '--runs' ? [] : ['--runs', '1']), flag, 'abc']);
      expect(r.status, flag).toBe(2);
      expect(r.err.trim(), flag).toBe(`psync-sim fuzz: ${message}${flag === '--workers' ? ' from 1 to 256' : ''}, got something that is not a number`);
      expectNoStack(r);
    }
  });

  it('EPIPE on stdout ends quietly', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; node sim/psync-sim.js run scenarios/lessons --trace | head -1 >/dev/null; echo "status $?"`], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
    expect(r.stdout).toMatch(/status (0|141)/);
  });

  it('a full disk (ENOSPC) on stdout or for --json is one line and exit 2', () => {
    const r = spawnSync('bash', ['-c', 'node sim/psync-sim.js run scenarios/lessons/01-first-sync.scn > /dev/full'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['psync-sim: stdout: no space left on device']);
    const j = cli(['run', 'scenarios/lessons/01-first-sync.scn', '--json', '/dev/full']);
    expect(j.status).toBe(2);
    expect(j.err).toContain('--json: cannot write /dev/full: ENOSPC');
    expectNoStack(j);
  });

  it('SIGINT during a fuzz campaign: exit 130 after the summary so far', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['sim/psync-sim.js', 'fuzz', '--runs', '100000', '--seed', 'sigint', '--workers', '1', '--out', join(dir, 'sigint')], {
      cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    // Interrupt once the campaign has started (its first line is printed before any run).
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (out.includes('psync-sim fuzz: seed sigint')) {
          clearInterval(t);
          setTimeout(resolve, 1500);
        }
      }, 50);
    });
    child.kill('SIGINT');
    const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect(status).toBe(130);
    expect(out).toContain('coverage (runs that hit each protocol path):');
    expect(out).toMatch(/interrupted after \d+ runs: every failure file above is written and complete/);
    expect(out).not.toMatch(STACK);
  });

  it('--seeds sweeps a story and counts, per check, on how many seeds it held', () => {
    const p = file('sweep.scn', 'nodes m r1\nat 0s\n  r1: REPLICAOF m 6379\nawait converged within 10s\nexpect m.sync_full == 1\nexpect m.connected_slaves == 2\n');
    const r = cli(['run', p, '--seeds', '1..5']);
    expect(r.status).toBe(1);
    expect(r.out).toContain('✓ line 5: expect m.sync_full == 1 — held on 5/5 seeds');
    expect(r.out).toContain('✗ line 6: expect m.connected_slaves == 2 — held on 0/5 seeds');
    expect(r.out).toContain('failed on seeds: 1 2 3 4 5');
    const bad = cli(['run', p, '--seeds', '5..1']);
    expect(bad.status).toBe(2);
  });
});
