/**
 * Redis 7.0's replication buffer, side by side: the same story on real redis-server 7.0.15 and as
 * a psync-sim scenario, comparing repl_backlog_histlen and repl_backlog_first_byte_offset exactly.
 *
 * The story: a master with a 16kb backlog full-syncs a replica over a slow disk BGSAVE. While the
 * BGSAVE runs, the replica (WAIT_BGSAVE_END) references the first block of the shared buffer,
 * so nothing can be trimmed and the backlog holds every byte written since (histlen far above
 * repl-backlog-size). Once the replica is online and has read the blocks, the trim frees whole
 * first blocks down to its fixed point (one block more than repl-backlog-size needs); more writes
 * with the replica online keep it there. The replica's own backlog (fed by what it applies, in
 * reads of at most 16 KiB on the real server, one command at a time in psync-sim: the same blocks
 * for commands this small) is compared too. A 16 KiB block really holds 20440 bytes (jemalloc's
 * 20480-byte class minus the block header), which is why these figures are exact only with the
 * allocator modelled.
 *
 * The second story uses that: a replica cut off while another waits for its RDB comes back 41 kB
 * behind a 16kb backlog and still continues with PSYNC (sync counters and figures compared).
 *
 * The slow BGSAVE is made differently on each side, and that is the one thing not shared: the
 * real master gets `rdb-key-save-delay` (microseconds per key, one key), the simulated one a disk
 * of 1 kB/s. Both only keep the replica in WAIT_BGSAVE_END while the story writes; the INFO
 * fields compared do not depend on how long that lasts. Writes go one per round trip on the real
 * side and all at one instant in the scenario; the figures compared do not depend on that either
 * (nothing is trimmed while the replica holds the first block, and afterwards every trim runs to
 * the same fixed point), which the test proves by agreeing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { haveRedisServer, startRedis, stopAllRedis, waitFor, expectScenarioPasses } from './support/real-redis.ts';
import type { RealServer } from './support/real-redis.ts';

const SERVER_ARGS = ['--repl-ping-replica-period', '3600', '--repl-diskless-sync', 'no', '--repl-backlog-size', '16kb'];

async function info(s: RealServer): Promise<Map<string, string>> {
  return new Map([...(await s.client.info('replication')), ...(await s.client.info('persistence')), ...(await s.client.info('stats'))]);
}
async function num(s: RealServer, name: string): Promise<number> {
  const v = (await info(s)).get(name);
  if (v === undefined || !/^-?\d+$/.test(v)) throw new Error(`INFO field ${name} is ${String(v)}`);
  return Number(v);
}

/** What `load m COUNT size BYTES` writes, key by key: `SET key:<n> <BYTES bytes>` from key:<first>. */
async function load(s: RealServer, first: number, count: number, sizeBytes: number): Promise<void> {
  const value = 'v'.repeat(sizeBytes);
  for (let i = first; i < first + count; i++) {
    const r = await s.client.call('SET', `key:${i}`, value);
    if (r.kind !== 'status') throw new Error(`SET key:${i} failed`);
  }
}

interface BacklogFigures { histlen: number; firstByte: number; offset: number }
async function figures(s: RealServer): Promise<BacklogFigures> {
  return {
    histlen: await num(s, 'repl_backlog_histlen'),
    firstByte: await num(s, 'repl_backlog_first_byte_offset'),
    offset: await num(s, 'master_repl_offset'),
  };
}

describe.skipIf(!haveRedisServer)('replication buffer (7.0) on redis-server 7.0.15 and in psync-sim', () => {
  afterAll(() => stopAllRedis());

  it('a replica waiting for its RDB holds the blocks: histlen outgrows repl-backlog-size, then trims', async () => {
    const servers = await Promise.all([startRedis(SERVER_ARGS), startRedis(SERVER_ARGS)]);
    const [m, r] = servers as [RealServer, RealServer];
    let during: BacklogFigures;
    let after: BacklogFigures;
    let later: BacklogFigures;
    let replicaAfter: BacklogFigures;
    let replicaLater: BacklogFigures;
    try {
      await m.client.call('SET', 'seed', '1'); // One key for rdb-key-save-delay to slow down.
      await m.client.call('CONFIG', 'SET', 'rdb-key-save-delay', '1500000');
      await r.client.call('REPLICAOF', '127.0.0.1', String(m.port));
      await waitFor('the BGSAVE for the replica', async () => {
        const i = await info(m);
        return i.get('rdb_bgsave_in_progress') === '1' && (i.get('slave0') ?? '').includes('state=wait_bgsave');
      });
      await load(m, 0, 40, 1000);
      during = await figures(m);
      const stillWaiting = (await info(m)).get('slave0') ?? '';
      await m.client.call('CONFIG', 'SET', 'rdb-key-save-delay', '0');
      await waitFor('the replica to be online and caught up', async () => {
        const i = await info(m);
        return (i.get('slave0') ?? '').includes(`state=online,offset=${i.get('master_repl_offset')}`);
      }, 20_000);
      after = await figures(m);
      replicaAfter = await figures(r);
      await load(m, 40, 30, 1000);
      await waitFor('the replica to catch up', async () => {
        const i = await info(m);
        return (i.get('slave0') ?? '').includes(`offset=${i.get('master_repl_offset')}`);
      });
      later = await figures(m);
      await waitFor('the replica to apply everything', async () => (await num(r, 'master_repl_offset')) === later.offset);
      replicaLater = await figures(r);

      // The behaviour on the real server: the backlog outgrew its size while the replica waited,
      // and trimmed to above the size (by less than one block) once it was online.
      expect(stillWaiting).toContain('state=wait_bgsave');
      expect(during.firstByte).toBe(1);
      expect(during.histlen).toBe(during.offset);
      expect(during.histlen).toBeGreaterThan(2 * 16384);
      for (const f of [after, later]) {
        expect(f.histlen).toBeGreaterThan(16384);
        expect(f.histlen).toBeLessThanOrEqual(16384 + 20440);
        expect(f.firstByte + f.histlen - 1).toBe(f.offset);
      }
    } finally {
      servers.forEach((s) => s.stop());
    }

    const text = [
      'title Replication buffer: a replica waiting for its RDB keeps the backlog above repl-backlog-size',
      '# Generated by test/real-repl-buffer.test.ts; every figure expected below was read from redis-server 7.0.15.',
      'seed 1',
      'nodes m r1',
      'config * repl-ping-replica-period 3600',
      'config * repl-diskless-sync no',
      'config * repl-backlog-size 16kb',
      'disk m write 1kb/s',
      '',
      'at 1s',
      '  m: SET seed 1',
      '  r1: REPLICAOF m 6379',
      'await m.rdb_bgsave_in_progress == 1 within 5s',
      '  load m 40 size 1000',
      `  expect m.master_repl_offset == ${during.offset}`,
      `  expect m.repl_backlog_histlen == ${during.histlen}`,
      `  expect m.repl_backlog_first_byte_offset == ${during.firstByte}`,
      'await converged within 30s',
      `  expect m.repl_backlog_histlen == ${after.histlen}`,
      `  expect m.repl_backlog_first_byte_offset == ${after.firstByte}`,
      `  expect r1.repl_backlog_histlen == ${replicaAfter.histlen}`,
      `  expect r1.repl_backlog_first_byte_offset == ${replicaAfter.firstByte}`,
      '  load m 30 size 1000',
      'await converged within 5s',
      `  expect m.master_repl_offset == ${later.offset}`,
      `  expect m.repl_backlog_histlen == ${later.histlen}`,
      `  expect m.repl_backlog_first_byte_offset == ${later.firstByte}`,
      `  expect r1.repl_backlog_histlen == ${replicaLater.histlen}`,
      `  expect r1.repl_backlog_first_byte_offset == ${replicaLater.firstByte}`,
      '',
    ].join('\n');
    expectScenarioPasses(text, 'slow-replica', 14, 'real-repl-buffer-');
  }, 40_000);
  it('a PSYNC is served from blocks kept beyond repl-backlog-size while another replica waits for its RDB', async () => {
    const servers = await Promise.all([startRedis(SERVER_ARGS), startRedis(SERVER_ARGS), startRedis(SERVER_ARGS)]);
    const [m, r1, r2] = servers as [RealServer, RealServer, RealServer];
    let missedFrom: number;
    let during: BacklogFigures;
    let after: BacklogFigures;
    let counters: { full: number; ok: number; err: number };
    try {
      await r2.client.call('REPLICAOF', '127.0.0.1', String(m.port));
      await waitFor('r2 online', async () => ((await info(m)).get('slave0') ?? '').includes('state=online'));
      await m.client.call('SET', 'seed', '1');
      await waitFor('r2 to apply the SET', async () => (await num(r2, 'master_repl_offset')) === (await num(m, 'master_repl_offset')));
      missedFrom = (await num(m, 'master_repl_offset')) + 1;
      // r2 stops; its link is cut from the master's side (the only replica yet), so it misses what follows.
      r2.proc.kill('SIGSTOP');
      const killed = await m.client.call('CLIENT', 'KILL', 'TYPE', 'replica');
      if (killed.kind !== 'int' || killed.value !== 1) throw new Error('CLIENT KILL TYPE replica did not kill r2');
      await m.client.call('CONFIG', 'SET', 'rdb-key-save-delay', '4000000'); // The child reads it at fork.
      await r1.client.call('REPLICAOF', '127.0.0.1', String(m.port));
      await waitFor('the BGSAVE for r1', async () => (await info(m)).get('rdb_bgsave_in_progress') === '1');
      await load(m, 0, 40, 1000);
      during = await figures(m);
      r2.proc.kill('SIGCONT');
      await waitFor('r2 to continue', async () => (await num(m, 'sync_partial_ok')) === 1, 10_000);
      const stillWaiting = (await info(m)).get('rdb_bgsave_in_progress');
      await waitFor('both replicas online and caught up', async () => {
        const i = await info(m);
        const end = `offset=${i.get('master_repl_offset')}`;
        return [i.get('slave0') ?? '', i.get('slave1') ?? ''].every((l) => l.includes('state=online') && l.includes(end));
      }, 20_000);
      after = await figures(m);
      const i = await info(m);
      counters = { full: Number(i.get('sync_full')), ok: Number(i.get('sync_partial_ok')), err: Number(i.get('sync_partial_err')) };

      // On the real server: r2 was 41 kB behind a 16kb backlog and still continued, while r1 waited.
      expect(stillWaiting).toBe('1');
      expect(during.offset - missedFrom + 1).toBeGreaterThan(2 * 16384);
      expect(during.firstByte).toBeLessThanOrEqual(missedFrom);
      expect(counters.ok).toBe(1);
    } finally {
      servers.forEach((s) => {
        s.proc.kill('SIGCONT');
        s.stop();
      });
    }

    const text = [
      'title Replication buffer: a PSYNC served from blocks kept beyond repl-backlog-size',
      '# Generated by test/real-repl-buffer.test.ts; every figure expected below was read from redis-server 7.0.15.',
      'seed 1',
      'nodes m r1 r2',
      'config * repl-ping-replica-period 3600',
      'config * repl-diskless-sync no',
      'config * repl-backlog-size 16kb',
      'disk m write 1kbit',
      '',
      'at 1s',
      '  r2: REPLICAOF m 6379',
      'await r2.master_link_status == up within 10s',
      '  m: SET seed 1',
      'await converged m r2 within 5s',
      `  expect r2.master_repl_offset == ${missedFrom - 1}`,
      '  pause r2 1s',
      '  m: CLIENT KILL TYPE replica',
      '  r1: REPLICAOF m 6379',
      'await m.rdb_bgsave_in_progress == 1 within 5s',
      '  load m 40 size 1000',
      `  expect m.master_repl_offset == ${during.offset}`,
      `  expect m.repl_backlog_histlen == ${during.histlen}`,
      `  expect m.repl_backlog_first_byte_offset == ${during.firstByte}`,
      'await m.sync_partial_ok == 1 within 5s',
      '  expect m.rdb_bgsave_in_progress == 1',
      'await converged within 30s',
      `  expect m.sync_full == ${counters.full}`,
      `  expect m.sync_partial_ok == ${counters.ok}`,
      `  expect m.sync_partial_err == ${counters.err}`,
      `  expect m.repl_backlog_histlen == ${after.histlen}`,
      `  expect m.repl_backlog_first_byte_offset == ${after.firstByte}`,
      '',
    ].join('\n');
    expectScenarioPasses(text, 'psync-beyond-backlog', 12, 'real-repl-buffer-');
  }, 60_000);
});
