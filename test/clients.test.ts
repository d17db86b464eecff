/**
 * Application clients on the network (sim/clients): the client model (one write in flight,
 * timeout, retry, crash, pause, partitions, WAIT), the ledger's record of where each write landed,
 * the causes the lessons print, the language (parse, errors, round trip) and `compare`.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../sim/scenario/parser.ts';
import { printScenario } from '../sim/scenario/printer.ts';
import { ScenarioError } from '../sim/scenario/errors.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { RunResult } from '../sim/scenario/run.ts';
import type { World } from '../sim/world/world.ts';
import { commandSizeBytes } from '../sim/core/resp.ts';
import { compareVariants, parseSeeds, parseVariant, renderCompare, variantScenario, CompareError } from '../sim/cli/compare.ts';

const root = join(import.meta.dirname, '..');

function run(text: string, seed?: string): { r: RunResult; world: World } {
  let world: World | null = null;
  const r = runScenario(parseScenario(text, 't.scn'), { seed, trace: null, file: 't.scn', source: text, onWorld: (w) => (world = w) });
  return { r, world: world! };
}

function failures(r: RunResult): string[] {
  return r.checks.filter((c) => !c.ok).map((c) => `line ${c.line}: ${c.text} — ${c.detail}`);
}

function outcomes(world: World, client = 'c1'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of world.ledger.entries) if (e.client === client) out[e.outcome] = (out[e.outcome] ?? 0) + 1;
  return out;
}

const PAIR = 'nodes m r1\nclients c1\nconfig r1 replicaof m 6379\nat 0s\nawait converged within 30s\n';

describe('client model', { timeout: 30_000 }, () => {
  it('every write is acknowledged on a healthy pair, and the ledger records where it landed in the stream', () => {
    const { r, world } = run(PAIR + 'at +1s\n  load m 50 over 1s from c1\nat +2s\n  expect c1.acked == 50 and c1.lost == 0 and writes.sent == 50\n');
    expect(failures(r)).toEqual([]);
    const m = world.slot('m').node!;
    const es = world.ledger.entries;
    expect(es.every((e) => e.node === 'm' && e.replid === m.replid)).toBe(true);
    // Each write occupies exactly its SET's bytes, one after the other (no other traffic in 1 s but PINGs).
    for (let i = 1; i < es.length; i++) {
      const e = es[i]!;
      expect(e.endOffset! - e.startOffset!).toBe(commandSizeBytes(['SET', e.key, e.value]));
      expect(e.startOffset!).toBeGreaterThanOrEqual(es[i - 1]!.endOffset!);
    }
    expect(es[0]!.endOffset! - es[0]!.startOffset!).toBeGreaterThanOrEqual(commandSizeBytes(['SET', es[0]!.key, es[0]!.value]));
    expect(r.ledger!.clients[0]).toMatchObject({ client: 'c1', sent: 50, acked: 50, lost: 0 });
  });

  it('a node frozen longer than the timeout: the write in flight is unknown, the client reconnects and catches up after', () => {
    const { r, world } = run(
      'nodes m\nclients c1\nclient c1 timeout 500ms retry 100ms\nat 0s\n  load m 100 over 2s from c1\nat +500ms\n  pause m 2s\nat +5s\n' +
        '  expect c1.unknown >= 2 and c1.failed == 0\n',
    );
    expect(failures(r)).toEqual([]);
    const o = outcomes(world);
    expect(o.acked! + o.unknown!).toBe(100);
    expect(o.pending).toBeUndefined();
    // The unknown writes were applied when m woke (their bytes were queued): unknown is not failed.
    const unknown = world.ledger.entries.filter((e) => e.outcome === 'unknown');
    expect(unknown.every((e) => e.detail === 'no reply to SET within 500ms')).toBe(true);
    expect(unknown.some((e) => world.slot('m').node!.ks.get(0, e.key)?.value === e.value)).toBe(true);
  });

  it('a crashed node refuses connections: writes fail with Connection refused, and succeed after the restart', () => {
    const { r, world } = run('nodes m\nclients c1\nat 0s\n  load m 40 over 4s from c1\nat +1s\n  crash m\nat +1s\n  restart m\nat +3s\n  expect c1.failed > 0 and c1.acked > 20\n');
    expect(failures(r)).toEqual([]);
    const failed = world.ledger.entries.filter((e) => e.outcome === 'failed');
    expect(failed.some((e) => /Connection refused/.test(e.detail))).toBe(true);
  });

  it('a client partitioned from its node times out; a crashed client fails what it was due to send; a paused client queues', () => {
    const part = run('nodes m\nclients c1\nat 0s\n  load m 30 over 3s from c1\nat +1s\n  partition c1 | m\nat +1s\n  heal\nat +3s\n  expect c1.unknown >= 1 and c1.acked > 10\n');
    expect(failures(part.r)).toEqual([]);
    const crash = run('nodes m\nclients c1\nat 0s\n  load m 30 over 3s from c1\nat +1s\n  crash c1\nat +1s\n  restart c1\nat +3s\n  expect c1.failed >= 9 and c1.acked >= 19\n');
    expect(failures(crash.r)).toEqual([]);
    expect(crash.world.ledger.entries.filter((e) => e.outcome === 'failed').every((e) => /c1 (is down|stopped)/.test(e.detail))).toBe(true);
    const pause = run('nodes m\nclients c1\nat 0s\n  load m 30 over 3s from c1\nat +1s\n  pause c1 1s\nat +3s\n  expect c1.acked == 30\n');
    expect(failures(pause.r)).toEqual([]);
  });

  it('wait N TIMEOUT: acknowledged only when WAIT answers at least N', () => {
    const ok = run(PAIR + 'at +1s\n  load m 20 over 1s wait 1 100 from c1\nat +2s\n  expect c1.acked == 20\n');
    expect(failures(ok.r)).toEqual([]);
    const lonely = run('nodes m\nclients c1\nat 0s\n  load m 5 over 1s wait 1 50 from c1\nat +2s\n  expect c1.unknown == 5 and c1.acked == 0\n');
    expect(failures(lonely.r)).toEqual([]);
    expect(lonely.world.ledger.entries[0]!.detail).toBe('WAIT 1 answered (integer) 0');
  });

  it("the ledger flags a write WAIT confirmed everywhere that vanished with no crash (here a FLUSHALL)", () => {
    const { r } = run(PAIR + 'at +1s\n  load m 5 over 1s wait 1 100 from c1\nat +2s\n  m: FLUSHALL\nat +1s\n  expect c1.lost == 5\n');
    expect(failures(r)).toEqual([]);
    expect(r.ledger!.waitPromiseBroken).toBe(5);
    expect(r.ledger!.waitPromiseExample).toMatch(/^c1 wrote key:0 to m \(offset \d+\), WAIT answered 1 at 6\.\d\d s, and no node crashed since, yet master m does not hold it$/);
    expect(r.ledger!.clients[0]!.groups.map((g) => g.cause)).toEqual(['unexplained']);
  });

  it('a lost predicate fails and says why when there is no single master', () => {
    const { r } = run('nodes m r1\nclients c1\nat 0s\n  load m 5 from c1\nat +1s\n  expect c1.lost == 0\n');
    expect(r.checks[0]!.ok).toBe(false);
    expect(r.checks[0]!.detail).toBe('c1.lost cannot be judged: no single master: m and r1 are both masters of up nodes');
  });

  it('loads without from do not touch the ledger', () => {
    const { r, world } = run('nodes m r1\nconfig r1 replicaof m 6379\nat 0s\nawait converged within 30s\nat +1s\n  load m 10\nat +1s\n  expect m.master_repl_offset > 0\n');
    expect(failures(r)).toEqual([]);
    expect(world.ledger.entries).toEqual([]);
    expect(r.ledger).toBeUndefined();
  });
});

describe('lessons: the causes printed', () => {
  const lesson = (name: string): RunResult => {
    const file = join(root, 'scenarios/lessons', name);
    const text = readFileSync(file, 'latin1');
    return runScenario(parseScenario(text, file), { trace: null, file, source: text });
  };
  it('13: the promotion that forked the history before the writes acknowledged after the freeze', () => {
    const r = lesson('13-frozen-master-loses-writes.scn');
    const c1 = r.ledger!.clients[0]!;
    expect(c1.lost).toBeGreaterThan(2000);
    expect(c1.groups.map((g) => g.cause)).toEqual(['promotion']);
    expect(c1.groups[0]!.text).toMatch(/^r1 was promoted at 12\.0\d s holding history [0-9a-f]{4}… up to offset \d+; m acknowledged these \d+ writes at offsets \d+–\d+ of history [0-9a-f]{4}… after the fork$/);
    expect(c1.groups[0]!.count).toBe(c1.lost);
  }, 60_000);
  it('14: min-replicas: nothing acknowledged is lost', () => {
    const r = lesson('14-min-replicas-bounds-the-loss.scn');
    expect(r.ledger!.total.lost).toBe(0);
    expect(r.ledger!.total.failed).toBeGreaterThan(2000);
  }, 60_000);
  it('15: the crash, not the later promotion', () => {
    const r = lesson('15-crash-before-replication.scn');
    expect(r.ledger!.clients[0]!.groups.map((g) => g.cause)).toEqual(['crash']);
  });
  it('17: the minority master loses what it acknowledged after the split; the majority client loses nothing', () => {
    const r = lesson('17-minority-partition.scn');
    const [c1, c2] = r.ledger!.clients;
    expect(c2!.lost).toBe(0);
    // Two groups from the same promotion: unreplicated before the fork, and acknowledged after it.
    expect(c1!.groups.map((g) => [g.cause, g.event?.node, g.text.includes('after the fork')])).toEqual([['promotion', 'n3', false], ['promotion', 'n3', true]]);
    expect(c1!.groups.reduce((a, g) => a + g.count, 0)).toBe(c1!.lost);
  }, 60_000);
  it('16: the full sync that flushed the replica', () => {
    const r = lesson('16-full-sync-flushes-the-replica.scn');
    const g = r.ledger!.clients[0]!.groups;
    expect(g.map((x) => [x.cause, x.event?.node])).toEqual([['full-sync', 'r1']]);
    expect(r.ledger!.byCause['full-sync']).toBe(200);
  });
});

describe('language: clients, client, load ... from / wait, ledger fields', () => {
  const ALL = [
    'nodes m r1', 'clients c1 c2', 'config r1 replicaof m 6379', 'client * timeout 500ms', 'client c2 retry 250ms timeout 2s',
    'at 0s', '  load m 10 over 1s keys 5 db 2 wait 1 100 from c1', '  load r1 5 from c2', '  partition c1 | m r1', '  heal c1 | m r1',
    '  kill-link c1 m', '  pause c2 1s', '  crash c1', '  restart c1', '  poweroff c2',
    'at +1s', '  expect c1.acked >= 0 and writes.lost == 0 and c2.sent == c2.failed', '  let x = writes.unknown',
  ].join('\n') + '\n';

  it('parses, and prints back to text that parses to the same AST', () => {
    const s = parseScenario(ALL, 'all.scn');
    expect(s.clients!.map((c) => c.name)).toEqual(['c1', 'c2']);
    expect(s.clientOptions).toMatchObject([{ target: '*', timeoutUs: 500_000 }, { target: 'c2', retryUs: 250_000, timeoutUs: 2_000_000 }]);
    expect(s.body[1]).toMatchObject({ kind: 'load', node: 'm', from: 'c1', wait: { replicas: 1, timeoutMs: 100 }, keys: 5, db: 2 });
    const text = printScenario(s);
    const strip = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v) => (k === 'pos' ? undefined : v)));
    expect(strip(parseScenario(text, 'printed.scn'))).toEqual(strip(s));
    expect(printScenario(parseScenario(text, 'printed.scn'))).toBe(text);
  });

  it('a file without clients prints no client lines and has no clients in its AST', () => {
    const s = parseScenario('nodes m\nat 0s\n  load m 5\n', 't');
    expect(s.clients).toBeUndefined();
    expect(printScenario(s)).toBe('nodes m\n\nat 0s\n  load m 5\n');
  });

  const bad: Array<[string, string]> = [
    ['nodes m\nat 0s\n  load m 5 wait 1 100\n', "t.scn:3:12: 'wait' needs 'from CLIENT': only a networked client sends WAIT after its writes"],
    ['nodes m\nclients c1\nat 0s\n  load m 5 from c9\n', 't.scn:4:17: unknown client \'c9\' (clients are: c1)'],
    ['nodes m\nclients c1\nat 0s\n  load m 5 ttl 1s from c1\n', "t.scn:4:12: 'ttl' cannot be combined with 'from': the ledger judges writes that do not expire"],
    ['nodes m\nclients m\n', "t.scn:2:9: 'm' is already a node"],
    ['nodes m\nclients writes\n', "t.scn:2:9: client name 'writes' is reserved (it is a predicate keyword)"],
    ['nodes m\nclients c1\nclient c1 speed 3\n', "t.scn:3:11: unknown client option 'speed' (expected timeout or retry)"],
    ['nodes m\nclients c1\nclient c1 timeout 0s\n', "t.scn:3:19: a client's timeout must be more than 0"],
    ['nodes m\nclients c1\nat 0s\n  expect c1.bogus == 1\n', 't.scn:4:13: unknown ledger field \'bogus\' after \'c1.\' (expected sent, acked, failed, unknown, lost)'],
    ['nodes m\nclients c1\nat 0s\n  crash c9\n', "t.scn:4:9: unknown host 'c9' (nodes are: m; clients are: c1)"],
    ['nodes m\nclients c1\nat 0s\n  clients c2\n', "t.scn:4:3: 'clients' belongs in the header, before the first 'at'"],
    ['nodes m\nclients c1\nat 0s\n  load m 5 wait x 100 from c1\n', "t.scn:4:17: bad replica count 'x' after 'wait' (wait N TIMEOUT, as WAIT numreplicas timeout)"],
  ];
  for (const [text, message] of bad) {
    it(`refuses: ${message.slice(message.indexOf(' ') + 1)}`, () => {
      let err: unknown = null;
      try {
        parseScenario(text, 't.scn');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ScenarioError);
      expect((err as ScenarioError).format()).toBe(message);
    });
  }
});

describe('compare', () => {
  const file = join(root, 'scenarios/lessons/13-frozen-master-loses-writes.scn');
  const text = readFileSync(file, 'latin1');

  it('one table: min-replicas loses nothing the base story loses, on the same seeds', () => {
    const rows = compareVariants(text, file, [parseVariant('minrep: config * min-replicas-to-write 1; config * min-replicas-max-lag 10')], parseSeeds('1..2'));
    expect(rows.map((r) => r.name)).toEqual(['base', 'minrep']);
    const [base, minrep] = rows;
    expect(base!.runs.map((r) => r.seed)).toEqual(['1', '2']);
    expect(base!.lost.total).toBe(base!.runs.reduce((a, r) => a + r.lost!, 0));
    expect(base!.lost.max).toBe(Math.max(...base!.runs.map((r) => r.lost!)));
    expect(base!.lost.median).toBeGreaterThan(2000);
    expect(minrep!.lost.total).toBe(0);
    expect(minrep!.failed).toBeGreaterThan(base!.failed);
    expect(base!.failovers).toBe(2);
    expect(base!.fullSyncs).toBeGreaterThanOrEqual(2);
    const table = renderCompare(rows, ['1', '2']);
    expect(table.split('\n')[1]).toMatch(/^variant\s+acked\s+lost\s+median\s+p95\s+max\s+failed\s+unknown\s+full syncs\s+failovers\s+settle\s+checks failed$/);
    expect(table).toMatch(/\n {2}minrep: config \* min-replicas-to-write 1; config \* min-replicas-max-lag 10$/);
  }, 120_000);

  it("the 'wait N TIMEOUT' variant adds WAIT to every client load", () => {
    const s = variantScenario(text, file, parseVariant('w: wait 1 100'));
    expect(s.body.filter((st) => st.kind === 'load').map((st) => st.kind === 'load' && st.wait)).toEqual([{ replicas: 1, timeoutMs: 100 }]);
  });

  it('bad input is one clear line', () => {
    expect(() => parseVariant('nocolon')).toThrow(CompareError);
    expect(() => parseSeeds('5..2')).toThrow(/below/);
    expect(() => parseSeeds('x')).toThrow(/expected A\.\.B/);
    expect(parseSeeds('3..5')).toEqual(['3', '4', '5']);
    expect(() => variantScenario(text, file, parseVariant('v: bogus line'))).toThrow(/^variant 'v': 'bogus line': unknown statement 'bogus'$/);
  });
});

describe('fuzzing with clients: losses as figures', () => {
  it('--clients declares a client and sends the fault-phase loads from it; without it the story is unchanged', async () => {
    const { generateScenario } = await import('../sim/fuzz/generate.ts');
    const plain = generateScenario('ledger/1');
    expect(plain.scenario.clients).toBeUndefined();
    expect('clients' in plain.options).toBe(false);
    const withClients = generateScenario('ledger/1', { clients: true });
    expect(withClients.scenario.clients).toEqual([{ pos: { line: 0, col: 0 }, name: 'c1' }]);
    const loads = (s: typeof plain.scenario): Array<Record<string, unknown>> => s.body.filter((st) => st.kind === 'load').map((st) => ({ ...st }));
    const a = loads(plain.scenario);
    const b = loads(withClients.scenario);
    expect(b.length).toBe(a.length);
    // The same schedule; only the fault-phase loads (not the prefill at 0s) gain `from c1`, every other one a WAIT for all replicas.
    expect(b.map((l) => ({ ...l, from: undefined, wait: undefined }))).toEqual(a.map((l) => ({ ...l, from: undefined })));
    const waits = b.filter((l) => l.wait !== undefined);
    expect(waits.every((l) => JSON.stringify(l.wait) === JSON.stringify({ replicas: withClients.options.nodeCount - 1, timeoutMs: 100 }))).toBe(true);
    expect(b.some((l) => l.from === 'c1')).toBe(withClients.options.writesTotal > 0);
  });

  it('a campaign with clients tallies the lost writes per cause and per run', async () => {
    const { runCampaign } = await import('../sim/fuzz/campaign.ts');
    const s = runCampaign({ seed: 'ledger', runs: 12, shardIndex: 0, shardCount: 1, fixed: { clients: true } });
    expect(s.failures).toEqual([]);
    const l = s.losses!;
    expect(l.runs).toBe(12);
    expect(l.acked).toBeGreaterThan(0);
    expect(Object.values(l.byCause).reduce((a, b) => a + b, 0)).toBe(l.lost);
    expect(l.perRun.max).toBeLessThanOrEqual(l.lost);
    const none = runCampaign({ seed: 'ledger', runs: 2, shardIndex: 0, shardCount: 1, fixed: {} });
    expect(none.losses).toBeUndefined();
  }, 120_000);
});

describe('cli', () => {
  it('run prints the ledger after the checks; compare prints one table and refuses bad input with one line', async () => {
    const { spawnSync } = await import('node:child_process');
    const cli = (...args: string[]): { status: number | null; out: string; err: string } => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      return { status: r.status, out: r.stdout, err: r.stderr };
    };
    const lesson = 'scenarios/lessons/16-full-sync-flushes-the-replica.scn';
    const run = cli('run', lesson);
    expect(run.status).toBe(0);
    expect(run.out).toMatch(/\n {4}c1: 200 sent, 200 acknowledged, 0 failed, 0 unknown, 200 lost\n {6}full-sync: r1 was flushed by a full sync at /);
    expect(run.out.trimEnd().split('\n').pop()).toBe('5 passed, 0 failed');
    const { mkdtempSync, readFileSync: read } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const jsonFile = join(mkdtempSync(join(tmpdir(), 'psync-sim-ledger-')), 'trace.jsonl');
    expect(cli('run', lesson, '--json', jsonFile).status).toBe(0);
    const ledgerLine = read(jsonFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l)).find((o) => 'ledger' in o);
    expect(ledgerLine.ledger.total).toMatchObject({ sent: 200, acked: 200, lost: 200 });
    expect(ledgerLine.ledger.byCause['full-sync']).toBe(200);
    const cmp = cli('compare', lesson, '--seeds', '1..2', '--variant', 'slow: client * timeout 2s');
    expect(cmp.status).toBe(0);
    expect(cmp.out).toMatch(/\nbase +400 +400 +200 +200 +200 +0 +0 /);
    const bad = cli('compare', lesson, '--variant', 'oops');
    expect(bad.status).toBe(2);
    expect(bad.err).toBe("psync-sim: bad --variant 'oops' (expected 'NAME: STATEMENT; STATEMENT')\n");
  }, 60_000);
});
