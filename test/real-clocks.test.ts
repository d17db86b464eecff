/**
 * Clocks as Redis keeps them, staged on real redis-server 7.0.15 processes and replayed from the
 * scenario files that tell the same stories (scenarios/features/cron-first-tick.scn,
 * diskless-sync-delay-seconds.scn, min-replicas-cached-count.scn).
 *
 * Theory of operation. Redis reads most replication timers from server.unixtime: whole seconds
 * of a clock cached at every serverCron tick and every command, compared once per second in
 * replicationCron. Whether a fork, a refusal or a timeout comes "early" therefore depends on
 * where in a wall-clock second the story happens and on the master's cron phase (1 ms after its
 * start, then every 100 ms). Each real run here picks its moments in the wall-clock second the
 * scenario picks in virtual time: the master is started just after a second boundary (its cron
 * ticks then fall a little after each boundary, as a simulated node started at 0 s ticks at
 * x.001 s), and the story's step is sent at the same fraction of a second as the scenario's.
 * The real run asserts the rule itself (in which second the event came), then its elapsed time
 * is compared with the simulated one within a cron period plus scheduling noise. The scenario
 * files are run as they are, so their own expectations are checked too.
 * This is test code: it reads the wall clock freely.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { RunResult } from '../sim/scenario/run.ts';
import { formatReply } from '../sim/core/resp.ts';
import type { TraceEvent } from '../sim/trace/events.ts';
import { haveRedisServer, startRedis, stopAllRedis, waitFor, sleepMs } from './support/real-redis.ts';
import type { RealServer } from './support/real-redis.ts';

const root = join(import.meta.dirname, '..');
const COMMON_ARGS = ['--repl-ping-replica-period', '3600', '--enable-debug-command', 'yes'];
/** replicationCron's period: how far apart a real and a simulated event may be when the real
 *  master's cron phase is not the simulated one (its start-up under load takes a variable time). */
const REPLICATION_CRON_PERIOD_SEC = 1;

const wallSec = (): number => Date.now() / 1000;

/** Sleep until the wall clock is at `frac` of a second (0 <= frac < 1), at least `minSec` from now. */
async function untilFraction(frac: number, minSec = 0): Promise<void> {
  const earliest = wallSec() + minSec;
  let target = Math.floor(earliest) + frac;
  if (target < earliest) target += 1;
  await sleepMs(Math.max(0, (target - wallSec()) * 1000));
}

/** A scenario file, run as it is; every check must pass. The events of `kinds` are returned with their times. */
function runScenarioFile(name: string, kinds: ReadonlySet<TraceEvent['kind']>): { result: RunResult; events: Array<{ atUs: number; event: TraceEvent }> } {
  const file = join(root, 'scenarios', 'features', name);
  const text = readFileSync(file, 'latin1');
  const events: Array<{ atUs: number; event: TraceEvent }> = [];
  const result = runScenario(parseScenario(text, file), {
    file, source: text,
    trace: (s) => { if (kinds.has(s.event.kind)) events.push(s); },
  });
  const failed = result.checks.filter((c) => !c.ok).map((c) => `line ${c.line}: ${c.text} — ${c.detail}`);
  expect(failed, name).toEqual([]);
  expect(result.checks.length).toBeGreaterThan(2);
  return { result, events };
}

async function info(s: RealServer, section: string, field: string): Promise<string> {
  const v = (await s.client.info(section)).get(field);
  if (v === undefined) throw new Error(`INFO ${section} of :${s.port} has no ${field}`);
  return v;
}

describe.skipIf(!haveRedisServer)('clocks: psync-sim against redis-server 7.0.15', () => {
  afterAll(() => stopAllRedis());

  it.concurrent('serverCron loop 0 runs before a boot-time replica attaches: no PING in the offsets', async () => {
    const m = await startRedis(COMMON_ARGS);
    let r: RealServer | null = null;
    try {
      r = await startRedis([...COMMON_ARGS, '--replicaof', '127.0.0.1', String(m.port)]);
      const replica = r;
      await waitFor('the link to come up', async () => (await info(replica, 'replication', 'master_link_status')) === 'up');
      // The expectations of cron-first-tick.scn, on the real pair.
      expect(await info(m, 'replication', 'master_repl_offset')).toBe('0');
      expect(formatReply(await m.client.call('SET', 'k', 'v'))).toBe('OK');
      await waitFor('the replica to catch up', async () => (await info(replica, 'replication', 'master_repl_offset')) === '50');
      expect(await info(m, 'replication', 'master_repl_offset')).toBe('50');
    } finally {
      m.stop();
      r?.stop();
    }
    // The scenario, on several simulator seeds: the cron phase no longer depends on the seed.
    for (const seed of ['1', '2', '3', '4', '5']) {
      const file = join(root, 'scenarios', 'features', 'cron-first-tick.scn');
      const text = readFileSync(file, 'latin1');
      const res = runScenario(parseScenario(text, file), { file, source: text, trace: null, seed });
      expect(res.checks.filter((c) => !c.ok).map((c) => `seed ${seed} line ${c.line}: ${c.detail}`)).toEqual([]);
    }
  }, 30_000);

  it.concurrent('repl-diskless-sync-delay: the fork comes at the tick where whole seconds reach the delay', async () => {
    const delaySec = 2;
    await untilFraction(0.0);
    const m = await startRedis([...COMMON_ARGS, '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', String(delaySec)]);
    let r: RealServer | null = null;
    let elapsedRealSec = -1;
    try {
      r = await startRedis(COMMON_ARGS);
      const replica = r;
      // As in the scenario: REPLICAOF at 0.9 of a second (1.9 s there).
      await untilFraction(0.9, 0.5);
      const sentSec = wallSec();
      expect(formatReply(await replica.client.call('REPLICAOF', '127.0.0.1', String(m.port)))).toBe('OK');
      let forkSec = 0;
      await waitFor('the fork for the replica', async () => {
        const forks = Number(await info(m, 'stats', 'total_forks'));
        if (forks > 0) forkSec = wallSec();
        return forks > 0;
      }, 10_000, 10);
      elapsedRealSec = forkSec - sentSec;
      // The rule on the real server: the fork came in the second where
      // unixtime - lastinteraction first reached the delay, well before the delay had passed.
      // (How much earlier depends on the real master's cron phase, which its start-up time sets.)
      expect(Math.floor(forkSec)).toBe(Math.floor(sentSec) + delaySec);
      expect(elapsedRealSec).toBeLessThan(delaySec);
    } finally {
      m.stop();
      r?.stop();
    }
    const { events } = runScenarioFile('diskless-sync-delay-seconds.scn', new Set(['bgsave-start', 'psync-received']));
    const psync = events.find((e) => e.event.kind === 'psync-received')!;
    const fork = events.find((e) => e.event.kind === 'bgsave-start')!;
    expect(psync).toBeDefined();
    expect(fork).toBeDefined();
    // REPLICAOF at 1.9 s in the scenario: the fork falls in the same second after it as on the
    // real server, and as early.
    const elapsedSimSec = (fork.atUs - 1_900_000) / 1e6;
    const figures = `REPLICAOF to fork: real ${elapsedRealSec.toFixed(3)} s, sim ${elapsedSimSec.toFixed(3)} s`;
    expect(Math.floor(fork.atUs / 1e6) - 1, figures).toBe(delaySec);
    expect(elapsedSimSec, figures).toBeLessThan(delaySec - 0.5);
    expect(Math.abs(elapsedRealSec - elapsedSimSec), figures).toBeLessThan(REPLICATION_CRON_PERIOD_SEC);
  }, 30_000);

  it.concurrent('min-replicas: the cached good-replica count lets writes through after the replica stops', async () => {
    await untilFraction(0.0);
    const m = await startRedis([...COMMON_ARGS, '--repl-diskless-sync-delay', '0', '--min-replicas-to-write', '1', '--min-replicas-max-lag', '1']);
    let r: RealServer | null = null;
    let elapsedRealSec = -1;
    try {
      r = await startRedis([...COMMON_ARGS, '--replicaof', '127.0.0.1', String(m.port)]);
      const replica = r;
      await waitFor('the link to come up', async () => (await info(replica, 'replication', 'master_link_status')) === 'up');
      await waitFor('a good replica', async () => (await info(m, 'replication', 'min_slaves_good_slaves')) === '1');
      // As in the scenario: at 0.3 of a second, a write, WAIT (the replica ACKs now), SIGSTOP.
      await untilFraction(0.3, 0.5);
      expect(formatReply(await m.client.call('SET', 'k', 'v'))).toBe('OK');
      expect(formatReply(await m.client.call('WAIT', '1', '1000'))).toBe('(integer) 1');
      const ackSec = wallSec();
      replica.proc.kill('SIGSTOP');
      let refusedSec = 0;
      await waitFor('the first NOREPLICAS', async () => {
        const reply = await m.client.call('SET', 'k', 'v2');
        if (reply.kind === 'error') {
          expect(reply.text).toMatch(/^NOREPLICAS/);
          refusedSec = wallSec();
          return true;
        }
        return false;
      }, 10_000, 20);
      replica.proc.kill('SIGCONT');
      elapsedRealSec = refusedSec - ackSec;
      // The rule on the real server: writes pass until the refresh in the second where the lag
      // (whole seconds) exceeds 1: two seconds after the ACK's second, not 1 s after the ACK.
      expect(Math.floor(refusedSec)).toBe(Math.floor(ackSec) + 2);
      expect(elapsedRealSec).toBeGreaterThan(1.3);
    } finally {
      m.stop();
      r?.stop();
    }
    // In the scenario the ACK comes at 1.302 s; it writes at 2.5 s, 2.999 s (OK) and 3.05 s
    // (NOREPLICAS): the real refusal must fall between its last accepted and first refused write.
    const { result } = runScenarioFile('min-replicas-cached-count.scn', new Set());
    const writes = result.checks.filter((c) => /^expect m: SET k v\d/.test(c.text));
    const lastOk = writes.filter((c) => c.text.endsWith('=> OK')).at(-1);
    const firstRefused = writes.find((c) => c.text.includes('NOREPLICAS'));
    expect(lastOk?.atUs).toBeDefined();
    expect(firstRefused?.atUs).toBeDefined();
    const simOkSec = (lastOk!.atUs - 1_302_000) / 1e6;
    const simRefusedSec = (firstRefused!.atUs - 1_302_000) / 1e6;
    const figures = `ACK to first refusal: real ${elapsedRealSec.toFixed(3)} s; sim between ${simOkSec} and ${simRefusedSec} s`;
    // The simulated refusal comes in the same second after the ACK's as the real one, and a
    // write more than max-lag after the ACK still passes, as on the real server.
    expect(Math.floor(firstRefused!.atUs / 1e6) - 1, figures).toBe(2);
    expect(Math.floor(lastOk!.atUs / 1e6) - 1, figures).toBe(1);
    expect(simOkSec, figures).toBeGreaterThan(1.3);
    expect(Math.abs(elapsedRealSec - simRefusedSec), figures).toBeLessThan(REPLICATION_CRON_PERIOD_SEC);
  }, 30_000);
});
