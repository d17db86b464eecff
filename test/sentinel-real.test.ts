/**
 * Differential test against real redis-sentinel 7.0.15 on loopback: 3 sentinels (quorum 2,
 * down-after 2000 ms), a master and 2 replicas; the master is killed with SIGKILL. The same story
 * runs as a psync-sim scenario. Compared: the leader's ordered chain of failover events, that
 * every follower takes the new config from a hello (+config-update-from, +switch-master), the
 * SDOWN time band after the crash, and the final state every sentinel agrees on (config epoch 1,
 * the master moved to a former replica, 2 replicas, 2 other sentinels, flags exactly `master`).
 * Bounded (about 20 s) and every process started is stopped by pid, whatever happens.
 * Events on the real side come from `PSUBSCRIBE *` on each sentinel, timed on receipt.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, RespClient, startRedis, stopAllRedis, waitFor } from './support/real-redis.ts';
import type { RealServer } from './support/real-redis.ts';
import type { Reply } from '../sim/core/reply.ts';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { Stamped } from '../sim/trace/events.ts';
import { Sentinel } from '../sim/sentinel/sentinel.ts';
import type { SentinelHost } from '../sim/sentinel/host.ts';
import { fields, listenEvents } from './support/real-sentinel.ts';

const haveSentinel = spawnSync('redis-sentinel', ['--version']).status === 0;
const DOWN_AFTER_MS = 2000;
/** Events that depend on timing or discovery order, not on the failover's logic. */
const NOISE = new Set(['voted-for', '+sdown', '-sdown', '-odown', '+role-change', '-role-change', '+slave', 'next-failover-delay', '+sentinel', '+reboot', '+monitor', '+odown']);
const FAILOVER_CHAIN = ['+new-epoch', '+try-failover', '+vote-for-leader', '+elected-leader', '+failover-state-select-slave',
  '+selected-slave', '+failover-state-send-slaveof-noone', '+failover-state-wait-promotion', '+promoted-slave',
  '+failover-state-reconf-slaves', '+slave-reconf-sent', '+slave-reconf-inprog', '+slave-reconf-done', '+failover-end', '+switch-master'];

interface Ev { atMs: number; node: string; event: string; payload: string }

const procs: ChildProcess[] = [];
const dirs: string[] = [];
function stopEverything(): void {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  stopAllRedis();
}
afterAll(stopEverything);


async function startSentinel(masterPort: number): Promise<{ port: number; client: RespClient }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'psync-sim-sentinel-'));
  dirs.push(dir);
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', 'daemonize no', `dir ${dir}`,
    `sentinel monitor mymaster 127.0.0.1 ${masterPort} 2`, `sentinel down-after-milliseconds mymaster ${DOWN_AFTER_MS}`,
    'sentinel failover-timeout mymaster 20000', 'sentinel parallel-syncs mymaster 1', ''].join('\n'));
  const p = spawn('redis-sentinel', [conf], { cwd: dir, stdio: 'ignore' });
  procs.push(p);
  let exited = false;
  p.once('exit', () => (exited = true));
  const client = await RespClient.connect(port, () => exited);
  return { port, client };
}


const SIM = `
nodes      m r1 r2
sentinels  s1 s2 s3
config     r1 replicaof m 6379
config     r2 replicaof m 6379
sentinel * monitor mymaster m 6379 2
sentinel * down-after-milliseconds mymaster ${DOWN_AFTER_MS}
sentinel * failover-timeout mymaster 20000
sentinel * parallel-syncs mymaster 1
at 0s
await s1.mymaster.num-slaves == 2 and s2.mymaster.num-slaves == 2 and s3.mymaster.num-slaves == 2 and s1.mymaster.num-other-sentinels == 2 and s2.mymaster.num-other-sentinels == 2 and s3.mymaster.num-other-sentinels == 2 within 30s
at 20s
  crash m
await s1.mymaster.ip != m and s2.mymaster.ip != m and s3.mymaster.ip != m and s1.mymaster.flags == master and s2.mymaster.flags == master and s3.mymaster.flags == master within 20s
`;

function chainOf(evs: Ev[], node: string): string[] {
  return evs.filter((e) => e.node === node && !NOISE.has(e.event)).map((e) => e.event);
}

function compareShape(evs: Ev[], names: string[], sdownBandMs: [number, number], label: string): void {
  const leaders = [...new Set(evs.filter((e) => e.event === '+elected-leader').map((e) => e.node))];
  expect(leaders, `${label}: one leader`).toHaveLength(1);
  const leader = leaders[0]!;
  expect(chainOf(evs, leader), `${label}: the leader's chain`).toEqual(FAILOVER_CHAIN);
  for (const f of names.filter((n) => n !== leader)) {
    const mine = chainOf(evs, f);
    expect(mine, `${label}: follower ${f}`).toContain('+config-update-from');
    expect(mine.indexOf('+switch-master'), `${label}: follower ${f} switches after the config update`).toBe(mine.indexOf('+config-update-from') + 1);
  }
  const sdowns = evs.filter((e) => e.event === '+sdown' && e.payload.startsWith('master'));
  expect(sdowns.map((e) => e.node).sort(), `${label}: every sentinel sees SDOWN`).toEqual([...names].sort());
  for (const e of sdowns) {
    expect(e.atMs, `${label}: ${e.node} SDOWN after the crash`).toBeGreaterThanOrEqual(sdownBandMs[0]);
    expect(e.atMs, `${label}: ${e.node} SDOWN after the crash`).toBeLessThanOrEqual(sdownBandMs[1]);
  }
}

/** Commands whose replies do not depend on timing: the same bytes from a real and a simulated sentinel. */
const COMMANDS: string[][] = [
  ['SENTINEL', 'MASTER', 'nosuch'], ['SENTINEL', 'FAILOVER', 'mymaster'], ['SENTINEL', 'SET', 'mymaster', 'quorum', '-20'],
  ['SENTINEL', 'SET', 'mymaster', 'quorum', 'abc'], ['SENTINEL', 'SET', 'mymaster', 'foo', '1'], ['SENTINEL', 'SET', 'mymaster', 'quorum'],
  ['SENTINEL', 'SET', 'mymaster', 'parallel-syncs', '0'], ['SENTINEL', 'SET', 'mymaster', 'down-after-milliseconds', '0'],
  ['SENTINEL', 'MONITOR', 'x', '127.0.0.1', '7397', '0'], ['SENTINEL', 'MONITOR', 'x', '127.0.0.1', 'abc', '1'], ['SENTINEL', 'MONITOR', 'x', '127.0.0.1', '99999', '1'],
  ['SENTINEL', 'BOGUS'], ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'nosuch'], ['SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', 'h', 'x', '0', '*'],
  ['SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', 'nohost', '7397', '0', '*'], ['SENTINEL', 'CKQUORUM', 'mymaster'],
  ['SENTINEL', 'SIMULATE-FAILURE', 'bogus'], ['SENTINEL', 'RESET', 'nomatch'], ['SENTINEL', 'MASTER'], ['PUBLISH', 'foo', 'bar'],
  ['GET', 'x'], ['ROLE'], ['PING'],
];

describe('sentinel: differential against real redis-sentinel 7.0.15', () => {
  it.skipIf(!haveSentinel)('SENTINEL command replies and errors are the same', async () => {
    try {
      const port = await freePort();
      const real = await startSentinel(port); // Monitors a master port nobody listens on.
      const got: Reply[] = [];
      for (const argv of COMMANDS) got.push(await real.client.call(...argv));
      const replies: Reply[] = [];
      const host: SentinelHost = {
        nowUs: () => 0, unixMs: () => 1_767_225_600_000, randomHex: (n) => 'a'.repeat(n), rand: () => 1,
        connect: () => 1, send: () => {}, close: () => {}, writeFile: () => {}, readFile: () => null,
        reply: (_c, r) => replies.push(r), sleep: () => {}, exit: () => {}, tracing: false, trace: () => {},
      };
      const sim = new Sentinel('s1', host, { configLines: [['monitor', 'mymaster', 'h', String(port), '2']], flushLatencyUs: 0 });
      sim.start();
      for (const argv of COMMANDS) sim.localCommand(1, argv);
      expect(replies.map((r, i) => [COMMANDS[i]!.join(' '), r])).toEqual(got.map((r, i) => [COMMANDS[i]!.join(' '), r]));
    } finally {
      stopEverything();
    }
  }, 30_000);

  it.skipIf(!haveSentinel)('a crashed master: same event chains, time band and final state as the simulation', async () => {
    const socks: net.Socket[] = [];
    let master: RealServer | null = null;
    try {
      // --- The real run.
      master = await startRedis(['--repl-diskless-sync-delay', '0']);
      const replicas = await Promise.all([0, 1].map(() => startRedis(['--repl-diskless-sync-delay', '0'])));
      for (const r of replicas) await r.client.call('REPLICAOF', '127.0.0.1', String(master.port));
      const sentinels = await Promise.all([0, 1, 2].map(() => startSentinel(master!.port)));
      const names = ['s1', 's2', 's3'];
      const real: Ev[] = [];
      let crashAt = 0;
      sentinels.forEach((s, i) => socks.push(listenEvents(s.port, names[i]!, real, () => crashAt)));
      await waitFor('discovery', async () => {
        for (const s of sentinels) {
          const f = fields(await s.client.call('SENTINEL', 'MASTER', 'mymaster'));
          if (f.get('num-slaves') !== '2' || f.get('num-other-sentinels') !== '2') return false;
        }
        return true;
      }, 20_000, 100);
      crashAt = Date.now();
      real.length = 0;
      master.proc.kill('SIGKILL');
      const replicaPorts = replicas.map((r) => String(r.port));
      await waitFor('every sentinel switched', async () => {
        for (const s of sentinels) {
          const f = fields(await s.client.call('SENTINEL', 'MASTER', 'mymaster'));
          if (!replicaPorts.includes(f.get('port') ?? '') || f.get('flags') !== 'master') return false;
        }
        return true;
      }, 20_000, 50);
      const realFinal = await Promise.all(sentinels.map(async (s) => fields(await s.client.call('SENTINEL', 'MASTER', 'mymaster'))));

      // --- The simulated run.
      const sim: Ev[] = [];
      const crashUs = 20e6;
      const trace = (st: Stamped): void => {
        if (st.event.kind === 'sentinel' && st.atUs >= crashUs) sim.push({ atMs: (st.atUs - crashUs) / 1000, node: st.event.node, event: st.event.event, payload: st.event.payload });
      };
      const r = runScenario(parseScenario(SIM, 'sim.scn'), { trace, seed: '1' });
      expect(r.checks.filter((c) => !c.ok).map((c) => c.detail)).toEqual([]);

      // --- Compare.
      const band: [number, number] = [DOWN_AFTER_MS, DOWN_AFTER_MS + 1000 + 2 * 100 + 50];
      compareShape(real, names, band, 'real');
      compareShape(sim, names, band, 'sim');
      for (const f of realFinal) {
        expect(f.get('config-epoch')).toBe('1');
        expect(f.get('num-slaves')).toBe('2');
        expect(f.get('num-other-sentinels')).toBe('2');
        expect(f.get('flags')).toBe('master');
      }
      // The simulated sentinels' final state, read the same way.
      const simFinal = `
${SIM}
expect s1.mymaster.config-epoch == 1 and s2.mymaster.config-epoch == 1 and s3.mymaster.config-epoch == 1
expect s1.mymaster.num-slaves == 2 and s2.mymaster.num-slaves == 2 and s3.mymaster.num-slaves == 2
expect s1.mymaster.num-other-sentinels == 2 and s2.mymaster.num-other-sentinels == 2
expect settled mymaster
`;
      const r2 = runScenario(parseScenario(simFinal, 'sim2.scn'), { trace: null, seed: '1' });
      expect(r2.checks.filter((c) => !c.ok).map((c) => `${c.text}: ${c.detail}`)).toEqual([]);
      expect(r2.passed).toBe(6);
    } finally {
      for (const s of socks) s.destroy();
      stopEverything();
    }
  }, 90_000);
});
