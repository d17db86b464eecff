/**
 * INFO as redis-server 7.0.15 prints it: for a master with a replica and for that replica, while
 * it syncs and once its link is up, every field name of the server, clients, persistence, stats
 * and replication sections, in order, equals the real server's (values may differ: run ids,
 * times, counters of what we do not model). Sentinel (sentinelRefreshInstanceInfo()) and Redis's
 * own tests parse these lines; a missing or reordered field is a fidelity bug.
 *
 * The real side: a master and a replica on loopback (test/support/real-redis.ts). The sim side:
 * the same two nodes in a World, driven to the same states. Plus unit checks of the fields whose
 * formula matters (master_sync_left_bytes, master_sync_perc, total_forks, rdb_saves).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { haveRedisServer, startRedis, stopAllRedis, waitFor } from './support/real-redis.ts';
import type { RealServer } from './support/real-redis.ts';
import { World } from '../sim/world/world.ts';
import { defaultConfig } from '../sim/core/config.ts';
import type { Reply } from '../sim/core/reply.ts';
import { formatFixed2, infoField, infoFields, infoSectionsBuilt } from '../sim/core/info.ts';
import { runScenario } from '../sim/scenario/run.ts';
import { parseScenario } from '../sim/scenario/parser.ts';
import { INFO_FIELD_NAMES, INFO_FIELD_NAMES_BY_SECTION } from '../sim/core/info-names.ts';
import { readFileSync } from 'node:fs';
import { isKnownInfoField, suggestInfoField } from '../sim/scenario/info-fields.ts';

const SECTIONS = ['server', 'clients', 'persistence', 'stats', 'replication'] as const;

/** The field names of an INFO reply, in order, per section header. */
function namesBySection(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of text.split('\r\n')) {
    if (line.startsWith('# ')) {
      current = [];
      out.set(line.slice(2).toLowerCase(), current);
    } else if (line !== '' && current !== null) {
      current.push(line.slice(0, line.indexOf(':')));
    }
  }
  return out;
}

function fields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

async function realInfo(s: RealServer, section: string): Promise<string> {
  const r = await s.client.call('INFO', section);
  if (r.kind !== 'bulk' || r.value === null) throw new Error(`INFO ${section}: ${JSON.stringify(r)}`);
  return r.value;
}

/** A two-node world: m, and r which replicates it from t = 0. */
function simPair(): { w: World; info: (node: string, section: string) => string; run: (pred: () => boolean, what: string) => void; cli: number } {
  const w = new World({ seed: 1, trace: null });
  for (const name of ['m', 'r']) {
    const c = defaultConfig();
    if (name === 'r') c.replicaof = { host: 'm', port: 6379 };
    w.addNode(name, c);
  }
  w.slot('m').start();
  w.slot('r').start();
  const cli = w.newClientId();
  const info = (node: string, section: string): string => {
    let reply: Reply | null = null;
    w.slot(node).command(cli, ['INFO', section], (r) => (reply = r));
    w.engine.runUntilOr(() => reply !== null, w.engine.nowUs + 1e6);
    const r = reply as Reply | null;
    if (r === null || r.kind !== 'bulk' || r.value === null) throw new Error(`sim INFO ${section} on ${node}: no bulk reply`);
    return r.value;
  };
  const run = (pred: () => boolean, what: string): void => {
    if (!w.engine.runUntilOr(pred, w.engine.nowUs + 60e6)) throw new Error(`sim: timed out waiting for ${what}`);
  };
  return { w, info, run, cli };
}

describe('INFO field names the parser accepts (sim/core/info-names.ts)', () => {
  it('are exactly the names info.ts and loading.ts print, read from their source', () => {
    const printed = new Set<string>();
    for (const f of ['sim/core/info.ts', 'sim/core/loading.ts']) {
      // A printed line starts a string literal: 'name:value' or `name:${...}`.
      for (const m of readFileSync(f, 'utf8').matchAll(/(?<=['`])([a-z][a-z0-9_]*)(?=:)/g)) printed.add(m[1]!);
    }
    expect([...INFO_FIELD_NAMES].sort()).toEqual([...printed].sort());
    expect(INFO_FIELD_NAMES.size).toBe(Object.values(INFO_FIELD_NAMES_BY_SECTION).flat().length); // no name twice
  });

  it('hold every field a master and a syncing replica print (families by pattern)', () => {
    const { w, run } = simPair();
    run(() => w.slot('r').node!.replState === 'transfer', 'r transferring');
    for (const n of ['m', 'r']) for (const k of infoFields(w.slot(n).node!).keys()) expect(isKnownInfoField(k), k).toBe(true);
    expect(isKnownInfoField('connected_replicas')).toBe(false);
    expect(suggestInfoField('connected_replicas')).toBe('connected_slaves');
    expect(isKnownInfoField('master_sync_foo')).toBe(false);
  });
});

describe('INFO field formulas', () => {
  it('master_sync_perc is printf %.2f: the sign of -0, ties to even', () => {
    expect(formatFixed2(0)).toBe('0.00');
    expect(formatFixed2((0 / -1) * 100)).toBe('-0.00'); // size -1, nothing read yet
    expect(formatFixed2(12.5)).toBe('12.50');
    expect(formatFixed2(0.125)).toBe('0.12'); // glibc rounds the exact tie to even
    expect(formatFixed2(0.375)).toBe('0.38');
    expect(formatFixed2(100)).toBe('100.00');
  });

  it('counts forks and rdb saves as Redis does: a diskless sync forks without an rdb save; BGSAVE and SAVE are saves', () => {
    const { w, info, run } = simPair();
    run(() => w.slot('r').node!.replState === 'connected', 'r connected');
    let stats = fields(info('m', 'stats'));
    let persistence = fields(info('m', 'persistence'));
    expect(stats.get('total_forks')).toBe('1');
    expect(persistence.get('rdb_saves')).toBe('0');
    expect(persistence.get('rdb_last_bgsave_time_sec')).toBe('0');
    let reply: Reply | null = null;
    const cli = w.newClientId();
    w.slot('m').command(cli, ['BGSAVE'], (r) => (reply = r));
    run(() => reply !== null && w.slot('m').node!.child === null, 'BGSAVE done');
    w.slot('m').command(cli, ['SAVE'], () => undefined);
    run(() => true, 'SAVE');
    stats = fields(info('m', 'stats'));
    persistence = fields(info('m', 'persistence'));
    expect(stats.get('total_forks')).toBe('2');
    expect(persistence.get('rdb_saves')).toBe('2');
    expect(stats.get('latest_fork_usec')).not.toBe('0');
  });

  it('master_sync_left_bytes is size - read, negative for an $EOF transfer; replicas are not connected_clients', () => {
    const { w, info, run } = simPair();
    run(() => w.slot('r').node!.link?.format === 'eof' && w.slot('r').node!.link!.payloadBytes > 0, 'r reading an EOF payload');
    const f = fields(info('r', 'replication'));
    const read = Number(f.get('master_sync_read_bytes'));
    expect(read).toBeGreaterThan(0);
    expect(f.get('master_sync_total_bytes')).toBe('0');
    expect(f.get('master_sync_left_bytes')).toBe(String(-read));
    expect(f.get('master_sync_perc')).toBe('0.00');
    run(() => w.slot('r').node!.replState === 'connected', 'r connected');
    // The one client is ours (the INFO caller); the replica is in server.slaves, not counted.
    expect(fields(info('m', 'clients')).get('connected_clients')).toBe('1');
  });
});

describe('infoField (one field, for await) equals the whole INFO', () => {
  it('every field of master and replica, while syncing and once up, and fields printed only in some states', () => {
    const { w, run } = simPair();
    // Fields printed only in some states, the direct fields among them (master_host: not on a master).
    const probe = ['master_sync_total_bytes', 'master_sync_perc', 'master_link_down_since_seconds', 'slave0', 'db0', 'nope', 'a:b',
      'master_host', 'master_port', 'master_link_status', 'master_sync_in_progress', 'loading', 'async_loading'];
    let compared = 0;
    const check = (): void => {
      for (const name of ['m', 'r']) {
        const node = w.slot(name).node!;
        const all = infoFields(node);
        for (const [k, v] of all) expect(infoField(node, k), `${name}.${k}`).toBe(v);
        for (const k of probe) expect(infoField(node, k), `${name}.${k}`).toBe(all.get(k));
        compared += all.size;
      }
    };
    check();
    run(() => w.slot('r').node!.link?.format === 'eof' && w.slot('r').node!.link!.payloadBytes > 0, 'r reading an EOF payload');
    check();
    run(() => w.slot('r').node!.replState === 'connected', 'r connected');
    check();
    expect(compared).toBeGreaterThan(300);
  });
});

describe('await on an INFO field: O(1) per event', () => {
  /** Sections of INFO formatted while `await PRED` ran, and the events it ran over. */
  const measure = (pred: string): { ok: boolean; sections: number; events: number } => {
    const text = `nodes m r\nat 0s\n  r: REPLICAOF m 6379\nawait ${pred} within 30s\n`;
    let atStart = 0;
    let atCheck = -1;
    let eventsAtCheck = 0;
    const world: { w: World | null } = { w: null };
    const r = runScenario(parseScenario(text, 'await.scn'), {
      trace: null,
      onWorld: (w) => { world.w = w; atStart = infoSectionsBuilt(); },
      onCheck: () => { atCheck = infoSectionsBuilt(); eventsAtCheck = world.w!.engine.eventsRun; },
    });
    return { ok: r.checks[0]!.ok, sections: atCheck - atStart, events: eventsAtCheck };
  };

  it('a field awaited often (master_link_status) formats no INFO section at all, however many events', () => {
    const direct = measure('r.master_link_status == up and m.connected_slaves == 1 and r.master_repl_offset == m.master_repl_offset');
    expect(direct.ok).toBe(true);
    expect(direct.events).toBeGreaterThan(20);
    expect(direct.sections).toBe(0);
    // The counter counts: a field outside the direct set formats its section at every event.
    const other = measure('m.total_connections_received >= 1');
    expect(other.ok).toBe(true);
    expect(other.sections).toBeGreaterThanOrEqual(other.events > 0 ? 2 : 1);
  });
});

describe.skipIf(!haveRedisServer)('INFO field names and order equal redis-server 7.0.15', () => {
  afterAll(() => stopAllRedis());

  it('master and replica, while syncing and once up, section by section', async () => {
    // A slow transfer (rdb-key-save-delay, µs per key, over 20 keys: about 1 s) keeps the replica in
    // REPL_STATE_TRANSFER long enough to read its sync fields even on a busy machine.
    const realM = await startRedis(['--rdb-key-save-delay', '50000', '--enable-debug-command', 'yes']);
    // Without the 20 keys the transfer takes a few ms and the poll below can miss it.
    expect(await realM.client.call('DEBUG', 'POPULATE', '20')).toEqual({ kind: 'status', text: 'OK' });
    const realR = await startRedis(['--replicaof', '127.0.0.1', String(realM.port)]);
    const real = new Map<string, string>();
    // While syncing: the replica's sync fields exist only in REPL_STATE_TRANSFER.
    await waitFor('the real replica to be transferring', async () =>
      fields(await realInfo(realR, 'replication')).get('master_sync_in_progress') === '1', 20_000, 2);
    real.set('r syncing replication', await realInfo(realR, 'replication'));
    await waitFor('the real link to be up', async () => {
      const m = fields(await realInfo(realM, 'replication'));
      const r = fields(await realInfo(realR, 'replication'));
      return r.get('master_link_status') === 'up' && (m.get('slave0') ?? '').includes('state=online');
    }, 20_000);
    for (const s of SECTIONS) {
      real.set(`m ${s}`, await realInfo(realM, s));
      real.set(`r ${s}`, await realInfo(realR, s));
    }
    realR.stop();
    realM.stop();

    const { w, info, run, cli } = simPair();
    const sim = new Map<string, string>();
    let populated: Reply | null = null;
    w.slot('m').command(cli, ['DEBUG', 'POPULATE', '20'], (r) => (populated = r));
    run(() => populated !== null, 'DEBUG POPULATE');
    expect(populated).toEqual({ kind: 'status', text: 'OK' });
    run(() => w.slot('r').node!.replState === 'transfer', 'r transferring');
    sim.set('r syncing replication', info('r', 'replication'));
    run(() => w.slot('r').node!.replState === 'connected' && w.slot('m').node!.replicas[0]?.replState === 'online', 'link up');
    for (const s of SECTIONS) {
      sim.set(`m ${s}`, info('m', s));
      sim.set(`r ${s}`, info('r', s));
    }

    expect([...sim.keys()]).toEqual([...real.keys()]);
    for (const [what, realText] of real) {
      const section = what.split(' ').at(-1)!;
      const realNames = namesBySection(realText).get(section);
      const simNames = namesBySection(sim.get(what)!).get(section);
      expect(realNames, `${what}: the real server printed the section`).toBeDefined();
      expect(simNames, `${what}: field names in order`).toEqual(realNames);
    }
    // Values that do not depend on timing agree too.
    const same = ['role', 'connected_slaves', 'master_link_status', 'master_sync_in_progress', 'master_failover_state',
      'repl_backlog_active', 'repl_backlog_size', 'slave_priority', 'slave_read_only', 'replica_announced',
      'sync_full', 'sync_partial_ok', 'sync_partial_err', 'total_forks', 'rdb_saves', 'rdb_bgsave_in_progress',
      'rdb_last_bgsave_status', 'loading', 'aof_enabled', 'connected_clients', 'blocked_clients', 'redis_version',
      'redis_mode', 'hz', 'configured_hz', 'rdb_last_load_keys_loaded', 'rdb_last_load_keys_expired'];
    for (const [what, realText] of real) {
      if (what.startsWith('r syncing')) continue; // bytes read so far depend on timing
      const r = fields(realText);
      const s = fields(sim.get(what)!);
      for (const k of same) if (r.has(k)) expect(`${what} ${k}=${s.get(k)}`).toBe(`${what} ${k}=${r.get(k)}`);
    }
  }, 60_000);
});
