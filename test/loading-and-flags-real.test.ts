/**
 * Real-server twins of the command-flag and loading rules: each story is staged on real
 * redis-server 7.0.15 processes on loopback, the replies are recorded, and the same story is
 * written as a psync-sim scenario whose `expect` lines carry the real replies (error texts
 * exactly, other replies as "not an error" where their value is not deterministic).
 *
 *  a. replica-serve-stale-data no on a replica whose link is down: which commands get
 *     -MASTERDOWN (PING and WAIT do: no STALE flag), inside MULTI too, and -READONLY first.
 *  b. a replica loading its master's RDB (repl-diskless-load disabled, key-load-delay to make the
 *     load last): loading:1, the loading_* INFO fields, -LOADING for GET/PING/DBSIZE, INFO and
 *     ECHO answered.
 *  c. swapdb with the same replid (the replica fell out of the backlog): async_loading:1, the old
 *     dataset answers DBSIZE, SAVE and REPLICAOF get -LOADING.
 *  d. a master restarted from an RDB whose load outlasts serverCron's first tick (key-load-delay):
 *     the overdue tick runs at the load's end, so cron loop 0 PINGs no replica that attaches after.
 * Every test stops the servers it starts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { CheckResult } from '../sim/scenario/run.ts';
import type { Reply } from '../sim/core/reply.ts';
import type { RedisNode } from '../sim/core/node.ts';
import { loadingInfoLines } from '../sim/core/loading.ts';
import type { LoadingState } from '../sim/core/loading.ts';
import { haveRedisServer, startRedis, stopAllRedis, waitFor, sleepMs } from './support/real-redis.ts';
import type { RealServer } from './support/real-redis.ts';

const BASE = ['--repl-diskless-sync-delay', '0', '--enable-debug-command', 'yes', '--repl-ping-replica-period', '3600'];

/** A scenario token for a string: double-quoted, with the escapes the lexer knows. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The expectation a real reply makes: the exact error text, else "not an error". */
function expectLine(node: string, argv: readonly string[], r: Reply): string {
  const cmd = `${node}: ${argv.join(' ')}`;
  if (r.kind === 'error') return `  expect ${cmd} => error ${quote(r.text)}`;
  if (r.kind === 'status' && r.text === 'OK') return `  expect ${cmd} => OK`;
  if (r.kind === 'status' && r.text === 'PONG') return `  expect ${cmd} => "PONG"`;
  return `  expect not ${cmd} => error ""`;
}

async function replyAll(s: RealServer, commands: readonly string[][]): Promise<Reply[]> {
  const out: Reply[] = [];
  for (const argv of commands) out.push(await s.client.call(...argv));
  return out;
}

function expectScenarioPasses(text: string, name: string, checksMin: number): void {
  const file = `real-${name}.scn`;
  const result = runScenario(parseScenario(text, file), { file, source: text, trace: null });
  const failed: CheckResult[] = result.checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    const path = join(tmpdir(), `psync-sim-${file}`);
    writeFileSync(path, text, 'latin1');
    expect.fail([
      `${name}: psync-sim disagrees with redis-server 7.0.15 (${failed.length} check(s) failed)`,
      ...failed.map((c) => `  - line ${c.line}: ${c.text}\n      ${c.detail}`),
      `replay: npx tsx sim/cli.ts run ${path} --trace`,
      '--- scenario ---',
      text,
    ].join('\n'));
  }
  expect(result.checks.length).toBeGreaterThanOrEqual(checksMin);
}

/** Just enough of a node for loadingInfoLines(): a load in progress and a clock. */
function fakeLoadingNode(): RedisNode {
  const loading: LoadingState = { source: 'sync-disk', async: false, startUnixSec: 0, totalBytes: 10, rdbUsedMem: 0, loadedBytes: 5, finish: () => {}, blockedLastCronMs: 0 };
  return { loading, host: { unixMs: () => 2000 } } as unknown as RedisNode;
}

const infoField = async (s: RealServer, section: string, name: string): Promise<string> => (await s.client.info(section)).get(name) ?? '';

describe.skipIf(!haveRedisServer)('command flags and loading on redis-server 7.0.15 and in psync-sim', () => {
  afterAll(() => stopAllRedis());

  it.concurrent('a. replica-serve-stale-data no, link down: -MASTERDOWN for commands without the STALE flag', async () => {
    // Port 1 on loopback refuses connections: the replica's link stays down.
    const r = await startRedis([...BASE, '--replicaof', '127.0.0.1', '1', '--replica-serve-stale-data', 'no']);
    const commands = [
      ['PING'], ['ECHO', 'hi'], ['GET', 'k'], ['DBSIZE'], ['EXISTS', 'k'], ['TTL', 'k'], ['WAIT', '0', '0'],
      ['SET', 'k', 'v'], ['DEL', 'k'], ['INFO', 'replication'], ['ROLE'], ['TIME'], ['LASTSAVE'], ['SELECT', '0'],
      ['CONFIG', 'GET', 'repl-timeout'], ['CLIENT', 'ID'], ['DEBUG', 'DIGEST'], ['BGSAVE'],
      ['MULTI'], ['GET', 'k'], ['EXEC'],
      ['MULTI'], ['ECHO', 'x'], ['EXEC'],
      ['MULTI'], ['SAVE'], ['DISCARD'],
      ['PSYNC', '?', '-1'],
    ];
    let replies: Reply[];
    try {
      await waitFor('the link to be down', async () => (await infoField(r, 'replication', 'master_link_status')) === 'down');
      replies = await replyAll(r, commands);
    } finally {
      r.stop();
    }
    // The rule itself, on the real server.
    expect(replies[0]).toEqual({ kind: 'error', text: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'." });
    expect(replies[1]).toEqual({ kind: 'bulk', value: 'hi' });
    const text = [
      'title Real twin a: a disconnected replica with replica-serve-stale-data no',
      '# Generated by test/loading-and-flags-real.test.ts; every reply expected below was read from redis-server 7.0.15.',
      'seed 1',
      'nodes m r1',
      'config * repl-ping-replica-period 3600',
      'config r1 replicaof m 6379',
      'config r1 replica-serve-stale-data no',
      'at 0s',
      '  crash m',
      'at 2s',
      '  expect r1.master_link_status == down',
      ...commands.map((argv, i) => expectLine('r1', argv, replies[i]!)),
    ].join('\n');
    expectScenarioPasses(text, 'stale-data', commands.length);
  }, 30_000);

  it.concurrent('b. a replica loading its master\'s RDB: loading:1, the loading_* fields and -LOADING', async () => {
    const m = await startRedis(BASE);
    const r = await startRedis([...BASE, '--repl-diskless-load', 'disabled', '--key-load-delay', '200', '--loading-process-events-interval-bytes', '1024']);
    const commands = [['GET', 'key:1'], ['PING'], ['DBSIZE'], ['ECHO', 'x'], ['INFO', 'persistence'], ['CONFIG', 'GET', 'repl-timeout'], ['REPLICAOF', 'NO', 'ONE']];
    let replies: Reply[];
    let persistence: Map<string, string>;
    let replicationDuring: Map<string, string>;
    try {
      expect(await m.client.call('DEBUG', 'POPULATE', '10000')).toEqual({ kind: 'status', text: 'OK' });
      await r.client.call('REPLICAOF', '127.0.0.1', String(m.port));
      await waitFor('the replica to be loading', async () => (await infoField(r, 'persistence', 'loading')) === '1', 10_000, 2);
      persistence = await r.client.info('persistence');
      replicationDuring = await r.client.info('replication');
      replies = await replyAll(r, commands);
      await waitFor('the load to end', async () => (await infoField(r, 'persistence', 'loading')) === '0', 20_000, 20);
      await waitFor('the link to come up', async () => (await infoField(r, 'replication', 'master_link_status')) === 'up', 10_000, 20);
    } finally {
      m.stop();
      r.stop();
    }
    expect(persistence.get('async_loading')).toBe('0');
    expect(replies[0]).toEqual({ kind: 'error', text: 'LOADING Redis is loading the dataset in memory' });
    expect(replicationDuring.get('master_link_status')).toBe('down');
    const loadingFields = [...persistence.keys()].filter((k) => k.startsWith('loading_'));
    expect(loadingFields.length).toBe(6);
    // Our loading_* fields, in Redis's order, and where Redis puts them: at the section's end.
    const ours = loadingInfoLines(fakeLoadingNode()).map((l) => l.slice(0, l.indexOf(':')));
    expect(ours).toEqual(loadingFields);
    expect([...persistence.keys()].slice(-6)).toEqual(loadingFields);
    const text = [
      'title Real twin b: a replica loading its master\'s RDB after a full sync',
      '# Generated by test/loading-and-flags-real.test.ts; every reply expected below was read from redis-server 7.0.15.',
      'seed 1',
      'nodes m r1',
      'config * repl-diskless-sync-delay 0',
      'config * repl-ping-replica-period 3600',
      'config r1 repl-diskless-load disabled',
      'config r1 key-load-delay 200',
      'config r1 loading-process-events-interval-bytes 1024',
      'at 0s',
      '  expect m: DEBUG POPULATE 10000 => OK',
      'at 10ms',
      '  r1: REPLICAOF m 6379',
      'await r1.loading == 1 within 5s',
      `  expect r1.async_loading == ${persistence.get('async_loading')}`,
      `  expect r1.master_link_status == ${replicationDuring.get('master_link_status')}`,
      `  expect r1.master_sync_in_progress == ${replicationDuring.get('master_sync_in_progress')}`,
      // The loading_* fields Redis prints exist (values depend on timing).
      ...loadingFields.map((k) => `  expect r1.${k} >= 0`),
      `  expect r1.loading_total_bytes == ${persistence.get('loading_total_bytes')}`,
      ...commands.map((argv, i) => expectLine('r1', argv, replies[i]!)),
      'await r1.loading == 0 within 10s',
      'await r1.master_link_status == up within 5s',
      '  expect r1: DBSIZE => 10000',
    ].join('\n');
    expectScenarioPasses(text, 'loading-full-sync', commands.length + loadingFields.length + 5);
  }, 60_000);

  it.concurrent('c. swapdb with the same replid: async_loading:1 and the old dataset serves reads', async () => {
    const m = await startRedis([...BASE, '--repl-backlog-size', '16kb']);
    const r = await startRedis([...BASE, '--repl-diskless-load', 'swapdb', '--key-load-delay', '200', '--loading-process-events-interval-bytes', '1024']);
    const commands = [['DBSIZE'], ['GET', 'key:1'], ['SAVE'], ['REPLICAOF', 'NO', 'ONE'], ['PING']];
    let replies: Reply[];
    let during: Map<string, string>;
    let sameReplid: boolean;
    try {
      await r.client.call('REPLICAOF', '127.0.0.1', String(m.port));
      await waitFor('the link to come up', async () => (await infoField(r, 'replication', 'master_link_status')) === 'up');
      for (let i = 0; i < 10000; i += 500) {
        await m.client.call('MSET', ...Array.from({ length: 500 }, (_, j) => [`key:${i + j}`, `v${i + j}`]).flat());
      }
      await waitFor('the replica to catch up', async () => (await infoField(r, 'keyspace', 'db0')).startsWith('keys=10000,'));
      // Drop the replica and, before its replicationCron reconnects (within a second), write
      // past the 16 kB backlog: its PSYNC is refused and it full-syncs from the same history.
      const [killed] = await m.client.pipeline(
        ['CLIENT', 'KILL', 'TYPE', 'replica'],
        ['MSET', ...Array.from({ length: 2000 }, (_, j) => [`key:${10000 + j}`, `w${10000 + j}`]).flat()],
      );
      expect(killed).toEqual({ kind: 'int', value: 1 });
      await waitFor('the replica to load asynchronously', async () => (await infoField(r, 'persistence', 'async_loading')) === '1', 10_000, 2);
      during = new Map([...(await r.client.info('persistence')), ...(await r.client.info('replication'))]);
      sameReplid = during.get('master_replid') === (await infoField(m, 'replication', 'master_replid'));
      replies = await replyAll(r, commands);
      await waitFor('the load to end', async () => (await infoField(r, 'persistence', 'async_loading')) === '0', 20_000, 20);
      await sleepMs(10);
    } finally {
      m.stop();
      r.stop();
    }
    expect(during.get('loading')).toBe('0');
    expect(sameReplid).toBe(true);
    expect(replies[0]).toEqual({ kind: 'int', value: 10000 });
    const text = [
      'title Real twin c: repl-diskless-load swapdb with the same replid loads asynchronously',
      '# Generated by test/loading-and-flags-real.test.ts; every reply expected below was read from redis-server 7.0.15.',
      'seed 1',
      'nodes m r1',
      'config * repl-diskless-sync-delay 0',
      'config * repl-ping-replica-period 3600',
      'config m repl-backlog-size 16kb',
      'config r1 replicaof m 6379',
      'config r1 repl-diskless-load swapdb',
      'config r1 key-load-delay 200',
      'config r1 loading-process-events-interval-bytes 1024',
      'at 0s',
      'await r1.master_link_status == up within 5s',
      '  load m 10000',
      'await converged within 5s',
      '  partition m | r1',
      '  load m 2000',
      '  kill-link m r1',
      '  heal',
      'await r1.async_loading == 1 within 5s',
      `  expect r1.loading == ${during.get('loading')}`,
      `  expect r1.master_link_status == ${during.get('master_link_status')}`,
      ...commands.filter((a) => a[0] !== 'GET').map((argv) => expectLine('r1', argv, replies[commands.indexOf(argv)]!)),
      'await r1.async_loading == 0 within 10s',
      '  expect r1: DBSIZE => 12000',
    ].join('\n');
    expectScenarioPasses(text, 'loading-async', commands.length + 2);
  }, 60_000);
  it.concurrent('d. a master restarted from a 150 ms load: serverCron\'s overdue tick runs at the load\'s end, loop 0 PINGs no replica', async () => {
    // The dump.rdb survives the first process in a directory of our own (--dir; later args win).
    const dir = mkdtempSync(join(tmpdir(), 'psync-sim-restart-'));
    const MASTER = [...BASE, '--dir', dir, '--key-load-delay', '100']; // 1500 keys x 100 us: a 150 ms load
    let offsets: { m: string; r: string; keys: string };
    try {
      const m1 = await startRedis(MASTER);
      try {
        expect(await m1.client.call('DEBUG', 'POPULATE', '1500', 'key', '1000')).toEqual({ kind: 'status', text: 'OK' });
        expect(await m1.client.call('SAVE')).toEqual({ kind: 'status', text: 'OK' });
      } finally {
        m1.stop();
      }
      const r = await startRedis(BASE);
      const m = await startRedis(MASTER);
      try {
        await waitFor('the restarted master to load', async () => (await infoField(m, 'persistence', 'loading')) === '0', 20_000, 1);
        // At once: the replica attaches a few ms after the load, well inside the 100 ms a
        // timer kept on its start-up phase would still wait.
        await r.client.call('REPLICAOF', '127.0.0.1', String(m.port));
        await waitFor('the link to come up', async () => (await infoField(r, 'replication', 'master_link_status')) === 'up', 10_000, 5);
        await sleepMs(1500); // past cronloops 10, where a loop 0 counted late would have run
        offsets = {
          m: await infoField(m, 'replication', 'master_repl_offset'),
          r: await infoField(r, 'replication', 'master_repl_offset'),
          keys: await infoField(m, 'persistence', 'rdb_last_load_keys_loaded'),
        };
      } finally {
        m.stop();
        r.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(offsets.keys).toBe('1500');
    expect(offsets.m).toBe('0');
    const text = [
      'title Real twin d: a master restarted from a 150 ms load PINGs no replica that attaches after it',
      '# Generated by test/loading-and-flags-real.test.ts; every value expected below was read from redis-server 7.0.15.',
      'seed 1',
      'nodes m r1',
      'config * repl-diskless-sync-delay 0',
      'config * repl-ping-replica-period 3600',
      'config m key-load-delay 100',
      'at 0s',
      '  expect m: DEBUG POPULATE 1500 key 1000 => OK',
      '  expect m: SAVE => OK',
      '  crash m',
      '  restart m',
      'await m.loading == 0 within 5s',
      `  expect m.rdb_last_load_keys_loaded == ${offsets.keys}`,
      '  r1: REPLICAOF m 6379',
      'await r1.master_link_status == up within 5s',
      'run 1500ms',
      `  expect m.master_repl_offset == ${offsets.m}`,
      `  expect r1.master_repl_offset == ${offsets.r}`,
    ].join('\n');
    expectScenarioPasses(text, 'restart-cron-after-load', 5);
  }, 60_000);
});
