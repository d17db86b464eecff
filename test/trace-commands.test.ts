/**
 * `--trace-level commands` (RunOptions.traceCommands): every command a node reads from a network
 * client is a `command` event naming the sender. Checked on the reconfiguration scenario: each
 * node's MULTI ... EXEC from the sentinels, in order, followed by the kills; off by default (the
 * default trace, and so every trace hash, holds only the scenario's own `cli` commands); and the
 * CLI prints the transaction and refuses an unknown level in one line.
 * The comparison with what real nodes receive is test/sentinel-real-reconf.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { Stamped } from '../sim/trace/events.ts';

const root = join(import.meta.dirname, '..');
const FILE = 'scenarios/sentinel/reconfiguration-transaction.scn';
const TX = (target: string): string[] => ['MULTI', `SLAVEOF ${target}`, 'CONFIG REWRITE', 'CLIENT KILL TYPE normal', 'CLIENT KILL TYPE pubsub', 'EXEC'];

function run(traceCommands: boolean): Stamped[] {
  const text = readFileSync(join(root, FILE), 'latin1');
  const trace: Stamped[] = [];
  const r = runScenario(parseScenario(text, FILE), { file: FILE, source: text, traceCommands, trace: (s) => void trace.push(s) });
  expect(r.checks.filter((c) => !c.ok)).toEqual([]);
  return trace;
}

/** Per node, the transactions each sentinel sent it: `node <- sN: CMD; CMD; ...`. */
function transactions(trace: readonly Stamped[]): string[] {
  const open = new Map<string, string[]>();
  const out: string[] = [];
  for (const { event: e } of trace) {
    if (e.kind !== 'command' || !/^s\d$/.test(e.client)) continue;
    const key = `${e.node} <- ${e.client}`;
    const cmd = e.argv.join(' ');
    if (cmd === 'MULTI') open.set(key, [cmd]);
    else if (open.has(key)) {
      open.get(key)!.push(cmd);
      if (cmd === 'EXEC') {
        out.push(`${key}: ${open.get(key)!.join('; ')}`);
        open.delete(key);
      }
    }
  }
  return out;
}

describe('--trace-level commands', { timeout: 120_000 }, () => {
  it('shows each node the transaction the leader (or a converter) sent it, then the kills', () => {
    const trace = run(true);
    const txs = transactions(trace);
    const sentinelEvents = trace.flatMap((s) => (s.event.kind === 'sentinel' ? [s.event] : []));
    const leader = sentinelEvents.find((e) => e.event === '+elected-leader')!.node;
    const converters = new Set(sentinelEvents.filter((e) => e.event === '+convert-to-slave').map((e) => e.node));
    expect(txs.filter((t) => !t.startsWith('m <-'))).toEqual([`r1 <- ${leader}: ${TX('NO ONE').join('; ')}`, `r2 <- ${leader}: ${TX('r1 6379').join('; ')}`]);
    const toOld = txs.filter((t) => t.startsWith('m <-'));
    expect(toOld.length).toBeGreaterThanOrEqual(1);
    for (const t of toOld) {
      expect(converters.has(t.slice(5, 7)), t).toBe(true);
      expect(t.slice(9)).toBe(TX('r1 6379').join('; '));
    }
    // The EXEC's CLIENT KILLs close the other sentinels' links at once (the caller's own command link is spared).
    const exec = trace.findIndex((s) => s.event.kind === 'command' && s.event.node === 'r1' && s.event.argv[0] === 'EXEC');
    const kills = trace.slice(exec + 1).filter((s) => s.atUs === trace[exec]!.atUs && s.event.kind === 'conn-closed' && s.event.node === 'r1' && s.event.why === 'CLIENT KILL');
    const expected = ['s1', 's1', 's2', 's2', 's3', 's3'];
    expected.splice(expected.indexOf(leader), 1);
    expect(kills.map((s) => (s.event.kind === 'conn-closed' ? s.event.peer : '')).sort()).toEqual(expected);
  });

  it('is off by default: only the scenario\'s own commands are traced', () => {
    const trace = run(false);
    const clients = new Set(trace.flatMap((s) => (s.event.kind === 'command' ? [s.event.client] : [])));
    expect([...clients].filter((c) => c !== 'cli')).toEqual([]);
    expect(trace.some((s) => s.event.kind === 'sentinel' && s.event.event === '+switch-master')).toBe(true);
  });

  it('the CLI prints the transaction; an unknown level is one line', () => {
    const r = spawnSync(process.execPath, ['sim/psync-sim.js', 'run', FILE, '--trace-level', 'commands', '--nodes', 'r1'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/r1 \[s\d\] SLAVEOF NO ONE\n.*r1 \[s\d\] CONFIG REWRITE\n/);
    const bad = spawnSync(process.execPath, ['sim/psync-sim.js', 'run', FILE, '--trace-level', 'everything'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('expected protocol, stream or commands');
  });
});
