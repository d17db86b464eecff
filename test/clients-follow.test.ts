/**
 * Clients that follow the sentinels (`load @MASTERNAME ... from CLIENT`): the language (parse,
 * print back, FILE:LINE:COL errors), the resolution as Redis's sentinel-client guidelines describe
 * it (sentinels asked in turn, the one that answered first next time, ROLE checked, resolved
 * again on every reconnect and after -READONLY), and the frozen-master story with a pinned and a
 * following client.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../sim/scenario/parser.ts';
import { printScenario } from '../sim/scenario/printer.ts';
import { parseErrorOf } from './support/parse-error.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { RunResult } from '../sim/scenario/run.ts';
import type { World } from '../sim/world/world.ts';
import type { TraceSink } from '../sim/world/world.ts';
import { lostWrites, singleMaster } from '../sim/clients/ledger.ts';
import { dataNodeViews } from '../sim/clients/report.ts';
import { compareVariants, parseSeeds, parseVariant, renderCompare } from '../sim/cli/compare.ts';

const root = join(import.meta.dirname, '..');

const errorOf = (text: string): string => parseErrorOf(text);

interface Run { r: RunResult; world: World; notes: string[] }

function run(text: string, file = 't.scn'): Run {
  let world: World | null = null;
  const notes: string[] = [];
  const trace: TraceSink = (rec) => {
    if (rec.event.kind === 'note') notes.push(`${(rec.atUs / 1e6).toFixed(3)} ${rec.event.node}: ${rec.event.text}`);
  };
  const r = runScenario(parseScenario(text, file), { trace, file, source: text, onWorld: (w) => (world = w) });
  return { r, world: world!, notes };
}

function failures(r: RunResult): string[] {
  return r.checks.filter((c) => !c.ok).map((c) => `line ${c.line}: ${c.text} — ${c.detail}`);
}

const HEAD = 'nodes m r1\nsentinels s1 s2\nclients c1\nconfig r1 replicaof m 6379\nsentinel * monitor mymaster m 6379 2\n';

describe('load @MASTERNAME: the language', () => {
  it('parses, and prints back as written', () => {
    const text = HEAD + 'at 0s\n  load @mymaster 100 over 1s wait 1 100 from c1\n';
    const s = parseScenario(text, 'x.scn');
    const st = s.body[1]!;
    expect(st).toMatchObject({ kind: 'load', node: '@mymaster', from: 'c1', count: 100 });
    const printed = printScenario(s);
    expect(printed).toContain('load @mymaster 100 over 1s wait 1 100 from c1');
    expect(parseScenario(printed, 'y.scn').body[1]).toMatchObject({ kind: 'load', node: '@mymaster', from: 'c1' });
  });

  it('a master monitored only by a SENTINEL MONITOR step above is known', () => {
    const text = 'nodes m\nsentinels s1\nclients c1\nat 0s\n  s1: SENTINEL MONITOR other m 6379 1\n  load @other 1 from c1\n';
    expect(errorOf(text)).toBe('no error');
  });

  it('refuses what cannot be followed, at the token', () => {
    expect(errorOf('nodes m\nclients c1\nat 0s\n  load @mymaster 10 from c1\n')).toBe(
      "x.scn:4:8: '@mymaster' needs sentinels to ask: declare them with 'sentinels NAME...' and 'sentinel * monitor mymaster NODE 6379 QUORUM'");
    expect(errorOf('nodes m\nsentinels s1\nclients c1\nat 0s\n  load @mymaster 10 from c1\n')).toBe(
      "x.scn:5:8: unknown master 'mymaster': no sentinel monitors any master (add 'sentinel * monitor mymaster NODE 6379 QUORUM')");
    expect(errorOf(HEAD + 'at 0s\n  load @cache 10 from c1\n')).toBe("x.scn:7:8: unknown master 'cache' (the sentinels monitor: mymaster)");
    expect(errorOf(HEAD + 'at 0s\n  load @mymaster 10\n')).toBe(
      "x.scn:7:8: 'load @mymaster' needs 'from CLIENT': only a networked client asks the sentinels where the master is");
    expect(errorOf(HEAD + 'at 0s\n  load @my/master 10 from c1\n')).toMatch(/^x\.scn:7:8: bad master name '@my\/master'/);
  });
});

describe('load @MASTERNAME: resolution through the sentinels', { timeout: 60_000 }, () => {
  it('asks the sentinels in turn, connects, checks ROLE, and asks the one that answered first next time', () => {
    const { r, world, notes } = run(HEAD + 'client c1 timeout 300ms\nat 0s\nawait converged and settled mymaster within 30s\n' +
      'at +1s\n  crash s1\n  load @mymaster 1 from c1\nat +1s\n  restart s1\n  kill-link c1 m\nat +1s\n  load @mymaster 1 from c1\nat +1s\n' +
      '  expect c1.acked == 2 and c1.lost == 0\n');
    expect(failures(r)).toEqual([]);
    const c1 = notes.filter((n) => / c1: /.test(n)).map((n) => n.replace(/^[\d.]+ c1: /, ''));
    expect(c1).toEqual([
      'load: 1 writes of 16 bytes over 0.000000s to @mymaster',
      'asking sentinel s1:26379: SENTINEL get-master-addr-by-name mymaster',
      'sentinel s1: connection refused',
      'asking sentinel s2:26379: SENTINEL get-master-addr-by-name mymaster',
      'sentinel s2 says mymaster is at m:6379',
      'connecting to m:6379',
      'ROLE m: master; writing to m',
      // kill-link: the next write finds no connection and resolves again, s2 first now.
      'load: 1 writes of 16 bytes over 0.000000s to @mymaster',
      'asking sentinel s2:26379: SENTINEL get-master-addr-by-name mymaster',
      'sentinel s2 says mymaster is at m:6379',
      'connecting to m:6379',
      'ROLE m: master; writing to m',
    ]);
    expect(world.ledger.entries.every((e) => e.node === 'm')).toBe(true);
  });

  it('a sentinel that does not know the master (null reply) or does not answer (paused) is skipped', () => {
    const { r, notes } = run('nodes m\nsentinels s1 s2\nclients c1\nclient c1 timeout 300ms\nsentinel s1 monitor other m 6379 1\nsentinel s2 monitor mymaster m 6379 1\n' +
      'at 0s\nawait converged within 30s\nat +2s\n  load @mymaster 1 from c1\nat +1s\n  kill-link c1 m\n  s2: SENTINEL MONITOR other m 6379 1\n  s1: SENTINEL MONITOR mymaster m 6379 1\n' +
      '  pause s2 5s\n  load @mymaster 1 from c1\nat +2s\n  expect c1.acked == 2\n');
    expect(failures(r)).toEqual([]);
    const asked = notes.filter((n) => / c1: (sentinel|asking)/.test(n)).map((n) => n.replace(/^[\d.]+ c1: /, ''));
    expect(asked).toEqual([
      'asking sentinel s1:26379: SENTINEL get-master-addr-by-name mymaster',
      'sentinel s1: does not know mymaster (null reply)',
      'asking sentinel s2:26379: SENTINEL get-master-addr-by-name mymaster',
      'sentinel s2 says mymaster is at m:6379',
      // s2 answered first last time, so it is asked first; it is frozen now.
      'asking sentinel s2:26379: SENTINEL get-master-addr-by-name mymaster',
      'sentinel s2: no answer within 300ms',
      'asking sentinel s1:26379: SENTINEL get-master-addr-by-name mymaster',
      'sentinel s1 says mymaster is at m:6379',
    ]);
  });

  it('a sentinel naming a replica: ROLE says slave, the client disconnects and the write fails; no sentinel at all fails too', () => {
    const { r, world } = run('nodes m r1\nsentinels s1\nclients c1\nconfig r1 replicaof m 6379\nsentinel s1 monitor mymaster r1 6379 1\n' +
      'at 0s\nawait converged within 30s\nat +1s\n  load @mymaster 2 from c1\nat +1s\n  crash s1\n  load @mymaster 1 from c1\nat +3s\n  expect c1.failed == 3\n');
    expect(failures(r)).toEqual([]);
    const d = world.ledger.entries.map((e) => e.detail);
    expect(d[0]).toBe('r1 is not a master (ROLE says slave)');
    expect(d[1]).toBe('r1 is not a master (ROLE says slave)');
    expect(d[2]).toBe('no master to write to: no sentinel gave an address for mymaster (s1: connection refused)');
  });

  it('-READONLY: the following client drops the connection and resolves again; a pinned client keeps it', () => {
    // m is demoted by hand: REPLICAOF does not disconnect normal clients, only -READONLY tells them.
    const story = (target: string): Run => run('nodes m r1\nsentinels s1\nclients c1\nconfig r1 replicaof m 6379\nsentinel s1 monitor mymaster m 6379 1\n' +
      `at 0s\nawait converged and settled mymaster within 30s\nat +1s\n  load ${target} 3 over 2s from c1\nat +500ms\n  r1: REPLICAOF NO ONE\n  m: REPLICAOF r1 6379\nat +3s\n  expect c1.sent == 3\n`);
    const follow = story('@mymaster');
    expect(failures(follow.r)).toEqual([]);
    expect(follow.world.ledger.entries.map((e) => [e.outcome, e.detail])).toEqual([
      ['acked', ''],
      ['failed', "READONLY You can't write against a read only replica."],
      // The sentinel still names m (nothing told it otherwise yet): ROLE catches it.
      ['failed', 'm is not a master (ROLE says slave)'],
    ]);
    expect(follow.notes.some((n) => n.endsWith('c1: -READONLY from m: disconnecting to resolve @mymaster again'))).toBe(true);
    const pinned = story('m');
    expect(pinned.world.ledger.entries.map((e) => e.detail)).toEqual(['', "READONLY You can't write against a read only replica.", "READONLY You can't write against a read only replica."]);
  });
});

describe('the frozen master: a pinned client loses what the woken master acknowledged, the following client nothing', () => {
  it('scenarios/sentinel/clients-frozen-master.scn', () => {
    const file = join(root, 'scenarios/sentinel/clients-frozen-master.scn');
    const { r, world, notes } = run(readFileSync(file, 'latin1'), file);
    expect(failures(r)).toEqual([]);
    const [c1, c2] = r.ledger!.clients;
    expect(c2!.lost).toBe(0);
    expect(c2!.acked).toBeGreaterThan(2900);
    // Every write c1 got acknowledged is lost: the freeze began as its load did, so each one was
    // acknowledged by m after it woke (26 s), on the history the promotion had forked.
    expect(c1!.lost).toBe(c1!.acked);
    expect(c1!.lost).toBeGreaterThan(2000);
    const acks = world.ledger.entries.filter((e) => e.client === 'c1' && e.outcome === 'acked');
    expect(Math.min(...acks.map((e) => e.doneUs))).toBeGreaterThanOrEqual(26_000_000);
    expect(c1!.groups.map((g) => g.cause)).toEqual(['promotion']);
    // c2 went to the promoted replica through a sentinel once its connection to m timed out.
    const promoted = world.ledger.entries.filter((e) => e.client === 'c2' && e.outcome === 'acked').at(-1)!.node!;
    expect(promoted).not.toBe('m');
    expect(notes.some((n) => n.endsWith(`c2: ROLE ${promoted}: master; writing to ${promoted}`))).toBe(true);
  }, 60_000);
});

/**
 * The stories measured on real redis-server and redis-sentinel 7.0.15 (loopback, down-after 5000,
 * failover-timeout 60000, two clients at 100 writes/s where there are two), replayed: the
 * outcomes that follow from the mechanism exactly, the timing ones within the stated bands.
 */
describe('the measured stories', { timeout: 60_000 }, () => {
  const story = (name: string): Run => {
    const file = join(root, 'scenarios/sentinel', name);
    const out = run(readFileSync(file, 'latin1'), file);
    expect(failures(out.r)).toEqual([]);
    return out;
  };
  const noteAtS = (notes: string[], re: RegExp): number => {
    const n = notes.find((x) => re.test(x));
    return n === undefined ? NaN : Number(n.split(' ')[0]);
  };

  it('min-replicas: the pinned client gets -NOREPLICAS from its first write after the wake; nothing acknowledged is lost', () => {
    const { r, world } = story('clients-frozen-master-min-replicas.scn');
    expect(r.ledger!.total.lost).toBe(0);
    const afterWake = world.ledger.entries.filter((e) => e.client === 'c1' && e.doneUs >= 26_000_000).sort((a, b) => a.doneUs - b.doneUs);
    expect(afterWake[0]!.detail).toBe('NOREPLICAS Not enough good replicas to write.');
    // Refused until the load ends (with the conversion at 36 s): never an acknowledgement.
    expect(afterWake.length).toBeGreaterThan(900);
    expect(afterWake.every((e) => e.outcome === 'failed' && /^(NOREPLICAS|READONLY) /.test(e.detail))).toBe(true);
  });

  it('SENTINEL FAILOVER: about 1100 acknowledged writes lost per client, the following one included, between the promotion and +convert-to-slave', () => {
    const { r, world, notes } = story('clients-manual-failover.scn');
    const [c1, c2] = r.ledger!.clients;
    for (const c of [c1!, c2!]) {
      expect(c.lost).toBeGreaterThan(900);
      expect(c.lost).toBeLessThan(1200);
      expect(c.groups.map((g) => g.cause)).toEqual(['promotion']);
    }
    // The loss window, from the SENTINEL FAILOVER at 11.0 s (real: 0.26 s to 11.29 s after it).
    const lost = world.ledger.entries.filter((e) => e.outcome === 'acked' && e.node === 'm' && e.doneUs > 11_000_000);
    const first = (Math.min(...lost.map((e) => e.doneUs)) - 11_002_104) / 1e6;
    const last = (Math.max(...lost.map((e) => e.doneUs)) - 11_002_104) / 1e6;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(0.5);
    expect(last).toBeGreaterThan(10);
    expect(last).toBeLessThan(11.5);
    // c2 moved only when the conversion's CLIENT KILL cut it.
    const kill = noteAtS(notes, /c2: ROLE r\d: master/);
    expect(kill - 11.002104).toBeGreaterThan(10);
  });

  it('crashed master: the following client writes to the promoted replica 5.2-7.5 s after the crash; nothing acknowledged is lost', () => {
    const { r, world } = story('clients-crashed-master.scn');
    expect(r.ledger!.total.lost).toBe(0);
    const crashUs = 16_002_104;
    const firstNew = Math.min(...world.ledger.entries.filter((e) => e.outcome === 'acked' && e.node !== 'm').map((e) => e.doneUs));
    const gapS = (firstNew - crashUs) / 1e6;
    expect(gapS).toBeGreaterThan(5.2);
    expect(gapS).toBeLessThan(7.5);
    // Nothing went to the restarted, empty m.
    expect(world.ledger.entries.filter((e) => e.node === 'm' && e.doneUs > crashUs && e.outcome === 'acked')).toEqual([]);
  });
});

describe('compare: the frozen master with and without min-replicas, in one table', () => {
  it('base loses every post-wake acknowledgement on each seed, min-replicas none; both rows in one table', () => {
    const file = join(root, 'scenarios/sentinel/clients-frozen-master.scn');
    const text = readFileSync(file, 'latin1');
    const seeds = parseSeeds('1..2');
    const rows = compareVariants(text, file, [parseVariant('minrep: config * min-replicas-to-write 1; config * min-replicas-max-lag 10')], seeds);
    const [base, minrep] = rows;
    expect(base!.runs.map((x) => x.lost)).toEqual([2982, 2982]);
    expect(base!.checksFailed).toBe(0);
    expect(minrep!.lost).toMatchObject({ total: 0, max: 0 });
    // The price: what was lost is refused instead, and the story's `c1.lost > 0` fails under it.
    expect(minrep!.failed - base!.failed).toBeGreaterThan(2 * 2900);
    expect(minrep!.acked).toBe(base!.acked - base!.lost.total);
    expect(minrep!.checksFailed).toBe(2);
    const table = renderCompare(rows, seeds).split('\n');
    expect(table[1]).toMatch(/^variant +acked +lost +median +p95 +max +failed +unknown /);
    expect(table[2]).toMatch(/^base +\d+ +5964 +2982 +2982 +2982 /);
    expect(table[3]).toMatch(/^minrep +\d+ +0 +0 +0 +0 +\d+ /);
    expect(table[4]).toBe('  minrep: config * min-replicas-to-write 1; config * min-replicas-max-lag 10');
  }, 120_000);
});

describe("lesson: Jepsen's partition with five sentinels", () => {
  const file = join(root, 'scenarios/lessons-sentinel/08-minority-partition-jepsen.scn');
  const text = readFileSync(file, 'latin1');
  const SPLIT_US = 11_002_104;

  it('the minority client loses exactly what n1 acknowledged after the split; the majority client nothing', () => {
    const { r, world } = run(text, file);
    expect(failures(r)).toEqual([]);
    const m = singleMaster(dataNodeViews(world));
    if (!m.ok) throw new Error(m.why);
    const lost = new Set(lostWrites(world.ledger.entries, m.node));
    const c1AckedAfterSplit = world.ledger.entries.filter((e) => e.client === 'c1' && e.outcome === 'acked' && e.node === 'n1' && e.doneUs > SPLIT_US);
    expect(c1AckedAfterSplit.length).toBe(2500);
    expect([...lost].every((e) => c1AckedAfterSplit.includes(e))).toBe(true);
    expect(c1AckedAfterSplit.every((e) => lost.has(e))).toBe(true);
    const [c1, c2] = r.ledger!.clients;
    expect(c2!.lost).toBe(0);
    // Two groups, both the promotion: acknowledged before it but past the fork offset, and after it.
    expect(c1!.groups.map((g) => [g.cause, g.text.includes('before the fork, but they had not reached'), g.text.includes('after the fork')]))
      .toEqual([['promotion', true, false], ['promotion', false, true]]);
    expect(c1!.groups[0]!.count + c1!.groups[1]!.count).toBe(2500);
    const fraction = r.ledger!.total.lost! / r.ledger!.total.acked;
    expect(fraction).toBeGreaterThan(0.4);
    expect(fraction).toBeLessThan(0.45);
  }, 60_000);

  it('min-replicas-to-write 2 with a 10 s lag: n1 refuses once the majority is 10 s silent, so c1 loses only the first 11 s', () => {
    const variant = text.replace('\nat 0s\n', '\nconfig * min-replicas-to-write 2\nconfig * min-replicas-max-lag 10\nat 0s\n');
    const { r, world } = run(variant, file);
    const c1 = world.ledger.entries.filter((e) => e.client === 'c1');
    const firstRefusal = c1.find((e) => e.detail.startsWith('NOREPLICAS'))!;
    expect((firstRefusal.doneUs - SPLIT_US) / 1e6).toBeGreaterThan(10);
    expect((firstRefusal.doneUs - SPLIT_US) / 1e6).toBeLessThan(12);
    expect(r.ledger!.clients[0]!.lost).toBe(1100);
    expect(r.ledger!.clients[1]!.lost).toBe(0);
  }, 60_000);
});
