/**
 * Real behaviours: the replication stories of Redis's own test suite that can be staged on
 * loopback, each played twice, on real redis-server 7.0.15 processes and as a psync-sim scenario.
 *
 * Theory of operation. Each behaviour is one `it`: a real run (fresh servers in temp dirs,
 * REPLICAOF at run time, commands through each server's plain client) reads the counters that
 * define the behaviour (sync_full, sync_partial_ok/err, master_replid2, second_repl_offset,
 * master_repl_offset, connected_slaves, DEBUG DIGEST) and asserts the behaviour itself on the
 * real servers (e.g. "sync_partial_ok went up by one"), so a broken oracle fails loudly. Then
 * the same story is written as scenario text whose `expect` lines carry the real values, and
 * runScenario must pass every one of them: the simulator reproduces the counters, not just the
 * direction of the story. As in differential.test.ts, a failure prints the .scn text and saves
 * it for `npx tsx sim/cli.ts run FILE --trace`.
 *
 * Offsets. With `repl-ping-replica-period 3600` no PING enters the stream, so the stream holds
 * only what the story writes and absolute offsets compare directly (differential.test.ts relies
 * on the same fact). Where an offset could depend on timing, the expectation is written as a
 * delta from a value the scenario itself reads with `let`. Replids are random on both sides, so
 * they are compared by relation (`m.master_replid2 == $oldid`), never by value.
 *
 * Redis 7.0 replicas attached by REPLICAOF at run time first offer their own history
 * (PSYNC <own replid> 1), which the master refuses: every master here starts with
 * sync_full 1 and sync_partial_err 1, on both sides.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { formatReply } from '../sim/core/resp.ts';
import type { Reply } from '../sim/core/reply.ts';
import { haveRedisServer, startRedis, stopAllRedis, waitFor, expectScenarioPasses } from './support/real-redis.ts';
import type { RealServer } from './support/real-redis.ts';

/** The configuration both sides share (each scenario's `config *` lines say the same). */
const SERVER_ARGS = [
  '--repl-ping-replica-period', '3600', // No PING in the stream: offsets are the story's bytes.
  '--repl-diskless-sync-delay', '0',
  '--enable-debug-command', 'yes',
];

const SCENARIO_HEADER = [
  'seed 1',
  'config * repl-ping-replica-period 3600',
  'config * repl-diskless-sync-delay 0',
];

// ---------------------------------------------------------------------------------------------
// The real side.

/** Start `count` servers; the caller stops them (stopAll in a finally). */
const startServers = (count: number): Promise<RealServer[]> => Promise.all(Array.from({ length: count }, () => startRedis(SERVER_ARGS)));
const stopAll = (servers: readonly RealServer[]): void => servers.forEach((s) => s.stop());

/** A command on the server's own plain client; the reply must be of `kind`. */
async function run(s: RealServer, kind: Reply['kind'], ...argv: string[]): Promise<Reply> {
  const r = await s.client.call(...argv);
  if (r.kind !== kind) throw new Error(`${argv.join(' ')} on :${s.port} replied ${formatReply(r)}, expected a ${kind} reply`);
  return r;
}

/** INFO replication and INFO stats of one server, as one map. */
async function infoOf(s: RealServer): Promise<Map<string, string>> {
  return new Map([...(await s.client.info('replication')), ...(await s.client.info('stats'))]);
}

function field(info: Map<string, string>, name: string): string {
  const v = info.get(name);
  if (v === undefined) throw new Error(`INFO has no field ${name}`);
  return v;
}
const num = (info: Map<string, string>, name: string): number => {
  const v = field(info, name);
  if (!/^-?\d+$/.test(v)) throw new Error(`INFO field ${name} is ${v}, not an integer`);
  return Number(v);
};

const replicaOf = async (replica: RealServer, master: RealServer): Promise<void> => {
  await run(replica, 'status', 'REPLICAOF', '127.0.0.1', String(master.port));
};
const linkUp = (s: RealServer): Promise<void> =>
  waitFor(`the link of :${s.port} to come up`, async () => (await s.client.infoField('replication', 'master_link_status')) === 'up');

/** Wait until every server reports the same master_repl_offset and every replica's link is up. */
async function settle(servers: readonly RealServer[]): Promise<number> {
  let offset = -1;
  await waitFor('the offsets to agree', async () => {
    const infos = await Promise.all(servers.map(infoOf));
    const offsets = infos.map((i) => num(i, 'master_repl_offset'));
    offset = offsets[0]!;
    return offsets.every((o) => o === offset) && infos.every((i) => i.get('role') === 'master' || i.get('master_link_status') === 'up');
  });
  return offset;
}

async function digestOf(s: RealServer): Promise<string> {
  const r = await run(s, 'status', 'DEBUG', 'DIGEST');
  if (r.kind !== 'status') throw new Error('unreachable: run() checked the kind');
  return r.text;
}

/** The sync counters a scenario line can expect: `expect NODE.sync_full == N` and so on. */
const SYNC_COUNTERS = ['sync_full', 'sync_partial_ok', 'sync_partial_err'] as const;
type SyncCounters = Record<(typeof SYNC_COUNTERS)[number], number>;
const countersOf = (info: Map<string, string>): SyncCounters => ({
  sync_full: num(info, 'sync_full'),
  sync_partial_ok: num(info, 'sync_partial_ok'),
  sync_partial_err: num(info, 'sync_partial_err'),
});
const expectCounters = (node: string, c: SyncCounters): string[] =>
  SYNC_COUNTERS.map((name) => `  expect ${node}.${name} == ${c[name]}`);

// ---------------------------------------------------------------------------------------------
// The simulated side.

/** Writes used by the stories, in the scenario's syntax and as argv for the real client. */
const WRITES_BEFORE = [['SET', 'a', '1'], ['INCR', 'a'], ['MSET', 'b', '2', 'c', 'hello']];
const WRITES_AFTER = [['SET', 'd', '4'], ['INCR', 'a'], ['APPEND', 'c', '-world']];
const stepLines = (node: string, writes: readonly string[][]): string[] => writes.map((argv) => `  ${node}: ${argv.join(' ')}`);
async function writeAll(s: RealServer, writes: readonly string[][]): Promise<void> {
  for (const argv of writes) {
    const r = await s.client.call(...argv);
    if (r.kind === 'error') throw new Error(`${argv.join(' ')} replied ${formatReply(r)}`);
  }
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(!haveRedisServer)('real behaviours on redis-server 7.0.15 and in psync-sim', () => {
  afterAll(() => stopAllRedis());

  // replication-psync.tcl: the replica drops its master link, caches the master
  // and continues with PSYNC <replid> <offset+1>; nothing is sent twice.
  it.concurrent('a. CLIENT KILL TYPE master on the replica: partial resync, no new full sync', async () => {
    const servers = await startServers(2);
    const [m, r] = servers as [RealServer, RealServer];
    let text: string;
    try {
      await replicaOf(r, m);
      await linkUp(r);
      await writeAll(m, WRITES_BEFORE);
      const offsetBefore = await settle([m, r]);
      const before = countersOf(await infoOf(m));
      const killed = await run(r, 'int', 'CLIENT', 'KILL', 'TYPE', 'master');
      await writeAll(m, WRITES_AFTER);
      await waitFor('the replica to reconnect', async () => num(await infoOf(m), 'sync_partial_ok') > before.sync_partial_ok);
      const offsetAfter = await settle([m, r]);
      const after = countersOf(await infoOf(m));
      const digest = await digestOf(m);

      // The behaviour, on the real servers.
      expect(killed).toEqual({ kind: 'int', value: 1 });
      expect(before).toEqual({ sync_full: 1, sync_partial_ok: 0, sync_partial_err: 1 });
      expect(after.sync_partial_ok - before.sync_partial_ok).toBe(1);
      expect(after.sync_full).toBe(before.sync_full);
      expect(offsetAfter).toBeGreaterThan(offsetBefore);
      expect(await digestOf(r)).toBe(digest);

      text = [
        'title Real behaviour a: CLIENT KILL TYPE master on the replica, then a partial resync',
        '# Generated by test/real-behaviours.test.ts; every value expected below was read from redis-server 7.0.15.',
        'nodes m r1',
        ...SCENARIO_HEADER,
        '',
        'at 1s',
        '  r1: REPLICAOF m 6379',
        'await r1.master_link_status == up within 10s',
        ...stepLines('m', WRITES_BEFORE),
        'await converged within 5s',
        `  expect m.master_repl_offset == ${offsetBefore}`,
        ...expectCounters('m', before),
        `  expect r1: CLIENT KILL TYPE master => ${(killed as { value: number }).value}`,
        ...stepLines('m', WRITES_AFTER),
        'await converged within 5s',
        ...expectCounters('m', after),
        `  expect m.master_repl_offset == ${offsetAfter}`,
        `  expect r1.master_repl_offset == ${offsetAfter}`,
        `  expect r1: DEBUG DIGEST => "${digest}"`,
        '',
      ].join('\n');
    } finally {
      stopAll(servers);
    }
    expectScenarioPasses(text, 'a-client-kill-master', 13, 'real-behaviour-');
  }, 15_000);

  // psync2-pingoff.tcl: promotion keeps the old history as replid2 up to second_repl_offset, so the old
  // master, turned replica, continues with PSYNC instead of a full sync.
  it.concurrent('b. promotion: REPLICAOF NO ONE, then the old master follows it by partial resync', async () => {
    const servers = await startServers(2);
    const [m, r] = servers as [RealServer, RealServer];
    let text: string;
    try {
      await replicaOf(r, m);
      await linkUp(r);
      await writeAll(m, WRITES_BEFORE);
      const offset = await settle([m, r]);
      const oldId = field(await infoOf(m), 'master_replid');
      await run(r, 'status', 'REPLICAOF', 'NO', 'ONE');
      const promoted = await infoOf(r);
      await replicaOf(m, r);
      await linkUp(m);
      const newMaster = await infoOf(r);
      const oldMaster = await infoOf(m);
      await writeAll(r, WRITES_AFTER);
      const offsetAfter = await settle([r, m]);
      const digest = await digestOf(r);

      // The behaviour, on the real servers.
      expect(field(promoted, 'role')).toBe('master');
      expect(field(promoted, 'master_replid')).not.toBe(oldId);
      expect(field(promoted, 'master_replid2')).toBe(oldId);
      expect(num(promoted, 'second_repl_offset')).toBe(offset + 1);
      expect(countersOf(newMaster)).toEqual({ sync_full: 0, sync_partial_ok: 1, sync_partial_err: 0 });
      expect(field(oldMaster, 'master_replid')).toBe(field(promoted, 'master_replid'));
      expect(field(oldMaster, 'master_replid2')).toBe(oldId);
      expect(num(oldMaster, 'second_repl_offset')).toBe(offset + 1);
      expect(await digestOf(m)).toBe(digest);

      text = [
        'title Real behaviour b: promotion, then the old master follows the new one with PSYNC',
        '# Generated by test/real-behaviours.test.ts; every value expected below was read from redis-server 7.0.15.',
        'nodes m r1',
        ...SCENARIO_HEADER,
        '',
        'at 1s',
        '  r1: REPLICAOF m 6379',
        'await r1.master_link_status == up within 10s',
        ...stepLines('m', WRITES_BEFORE),
        'await converged within 5s',
        `  expect m.master_repl_offset == ${offset}`,
        '  let oldid = m.master_replid',
        '  r1: REPLICAOF NO ONE',
        `  expect r1.role == ${field(promoted, 'role')}`,
        '  expect r1.master_replid != $oldid',
        '  expect r1.master_replid2 == $oldid',
        `  expect r1.second_repl_offset == ${num(promoted, 'second_repl_offset')}`,
        `  expect r1.master_repl_offset == ${num(promoted, 'master_repl_offset')}`,
        '  m: REPLICAOF r1 6379',
        'await m.master_link_status == up within 5s',
        ...expectCounters('r1', countersOf(newMaster)),
        '  expect m.master_replid == r1.master_replid',
        '  expect m.master_replid2 == $oldid',
        `  expect m.second_repl_offset == ${num(oldMaster, 'second_repl_offset')}`,
        `  expect m.master_repl_offset == ${num(oldMaster, 'master_repl_offset')}`,
        ...stepLines('r1', WRITES_AFTER),
        'await converged within 5s',
        `  expect r1.master_repl_offset == ${offsetAfter}`,
        `  expect m: DEBUG DIGEST => "${digest}"`,
        `  expect r1: DEBUG DIGEST => "${digest}"`,
        '',
      ].join('\n');
    } finally {
      stopAll(servers);
    }
    expectScenarioPasses(text, 'b-promotion', 19, 'real-behaviour-');
  }, 15_000);

  // psync2-pingoff.tcl (c): a chained replica proxies its master's stream; when the middle node's own
  // link drops and it continues by PSYNC, its replid does not change and its sub-replica stays.
  it.concurrent('c. chain m -> r1 -> r2: equal offsets; r1 reconnects by PSYNC and keeps r2', async () => {
    const servers = await startServers(3);
    const [m, r1, r2] = servers as [RealServer, RealServer, RealServer];
    let text: string;
    try {
      await replicaOf(r1, m);
      await linkUp(r1);
      await replicaOf(r2, r1);
      await linkUp(r2);
      await writeAll(m, WRITES_BEFORE);
      const offset = await settle([m, r1, r2]);
      const [mBefore, r1Before] = await Promise.all([infoOf(m), infoOf(r1)]);
      await run(r1, 'int', 'CLIENT', 'KILL', 'TYPE', 'master');
      await writeAll(m, WRITES_AFTER);
      await waitFor('r1 to reconnect', async () => num(await infoOf(m), 'sync_partial_ok') > num(mBefore, 'sync_partial_ok'));
      const offsetAfter = await settle([m, r1, r2]);
      const [mAfter, r1After, r2After] = await Promise.all([infoOf(m), infoOf(r1), infoOf(r2)]);
      const digest = await digestOf(m);

      // The behaviour, on the real servers.
      expect(num(mBefore, 'connected_slaves')).toBe(1);
      expect(num(r1Before, 'connected_slaves')).toBe(1);
      expect(num(mAfter, 'sync_partial_ok') - num(mBefore, 'sync_partial_ok')).toBe(1);
      expect(num(mAfter, 'sync_full')).toBe(num(mBefore, 'sync_full'));
      expect(countersOf(r1After)).toEqual(countersOf(r1Before)); // r2 never had to resync.
      expect(num(r1After, 'connected_slaves')).toBe(1);
      expect(field(r2After, 'master_link_status')).toBe('up');
      expect(await digestOf(r2)).toBe(digest);

      text = [
        'title Real behaviour c: a chain m -> r1 -> r2; r1 drops its master link and continues by PSYNC',
        '# Generated by test/real-behaviours.test.ts; every value expected below was read from redis-server 7.0.15.',
        'nodes m r1 r2',
        ...SCENARIO_HEADER,
        '',
        'at 1s',
        '  r1: REPLICAOF m 6379',
        'await r1.master_link_status == up within 10s',
        '  r2: REPLICAOF r1 6379',
        'await r2.master_link_status == up within 10s',
        ...stepLines('m', WRITES_BEFORE),
        'await converged within 5s',
        `  expect m.master_repl_offset == ${offset}`,
        `  expect r1.master_repl_offset == ${offset}`,
        `  expect r2.master_repl_offset == ${offset}`,
        `  expect m.connected_slaves == ${num(mBefore, 'connected_slaves')}`,
        `  expect r1.connected_slaves == ${num(r1Before, 'connected_slaves')}`,
        ...expectCounters('m', countersOf(mBefore)),
        ...expectCounters('r1', countersOf(r1Before)),
        '  r1: CLIENT KILL TYPE master',
        ...stepLines('m', WRITES_AFTER),
        'await converged within 5s',
        ...expectCounters('m', countersOf(mAfter)),
        ...expectCounters('r1', countersOf(r1After)),
        `  expect r1.connected_slaves == ${num(r1After, 'connected_slaves')}`,
        `  expect r2.master_link_status == ${field(r2After, 'master_link_status')}`,
        `  expect m.master_repl_offset == ${offsetAfter}`,
        `  expect r2.master_repl_offset == ${offsetAfter}`,
        `  expect r2: DEBUG DIGEST => "${digest}"`,
        '',
      ].join('\n');
    } finally {
      stopAll(servers);
    }
    expectScenarioPasses(text, 'c-chain', 25, 'real-behaviour-');
  }, 15_000);

  // replication.tcl (fix #10243): the offset is parsed before anything else, and a bad one
  // is an ordinary error, not a crash and not a sync attempt.
  it.concurrent('d. PSYNC <replid> notanumber from a plain client: an error, the server lives', async () => {
    const servers = await startServers(2);
    const [m, r] = servers as [RealServer, RealServer];
    let text: string;
    try {
      await replicaOf(r, m);
      await linkUp(r);
      await writeAll(m, WRITES_BEFORE);
      await settle([m, r]);
      const replid = field(await infoOf(m), 'master_replid');
      const before = countersOf(await infoOf(m));
      const psync = await m.client.call('PSYNC', replid, 'notanumber');
      const ping = await m.client.call('PING');
      await writeAll(m, WRITES_AFTER);
      const offsetAfter = await settle([m, r]);
      const after = countersOf(await infoOf(m));
      const digest = await digestOf(r);

      // The behaviour, on the real servers.
      expect(psync).toEqual({ kind: 'error', text: 'ERR value is not an integer or out of range' });
      expect(ping).toEqual({ kind: 'status', text: 'PONG' });
      expect(after).toEqual(before);
      expect(await digestOf(m)).toBe(digest);

      // The replid is the real one: the sim's differs, but the offset is refused before the
      // replid is looked at, on both sides.
      text = [
        'title Real behaviour d: PSYNC with an offset that is not a number is an error, and the server lives',
        '# Generated by test/real-behaviours.test.ts; every value expected below was read from redis-server 7.0.15.',
        'nodes m r1',
        ...SCENARIO_HEADER,
        '',
        'at 1s',
        '  r1: REPLICAOF m 6379',
        'await r1.master_link_status == up within 10s',
        ...stepLines('m', WRITES_BEFORE),
        'await converged within 5s',
        `  expect m: PSYNC ${replid} notanumber => error "${psync.kind === 'error' ? psync.text : formatReply(psync)}"`,
        `  expect m: PING => "${ping.kind === 'status' ? ping.text : formatReply(ping)}"`,
        ...stepLines('m', WRITES_AFTER),
        'await converged within 5s',
        ...expectCounters('m', after),
        `  expect m.master_repl_offset == ${offsetAfter}`,
        `  expect r1: DEBUG DIGEST => "${digest}"`,
        '',
      ].join('\n');
    } finally {
      stopAll(servers);
    }
    expectScenarioPasses(text, 'd-psync-bad-offset', 9, 'real-behaviour-');
  }, 15_000);
});
