/**
 * The real side of `npm run bench`: redis-server 7.0 processes on 127.0.0.1 that the bench starts
 * and stops itself, each in a temporary directory of its own, driven through redis-cli and
 * measured with redis-benchmark. Everything here is bounded: a server that does not answer within
 * its start timeout, a command or a benchmark that overruns its timeout, is killed and reported;
 * every started server is killed on exit, whatever happened. Wall-clock reads and timers are
 * allowed here: this is tooling, not the simulation.
 */
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why the real side cannot run (a missing binary), or null when it can. */
export function realRedisMissing(): string | null {
  for (const bin of ['redis-server', 'redis-cli', 'redis-benchmark']) {
    if (spawnSync(bin, ['--version']).status !== 0) return `${bin} is not installed`;
  }
  return null;
}

export interface RealServer {
  readonly port: number;
  /** redis-cli ARGS against this server: its output, trimmed. */
  cli(args: readonly string[], timeoutMs?: number): Promise<string>;
  /** INFO SECTION as a field map. */
  info(section: string): Promise<Map<string, string>>;
  stop(): void;
}

const running = new Set<RealServer>();
process.once('exit', () => {
  for (const s of [...running]) s.stop();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function run(bin: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, [...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err !== null) reject(new Error(`${bin} ${args.join(' ')}: ${err.message.split('\n')[0]}`));
      else resolve(stdout.trim());
    });
  });
}

/** Start redis-server on a free loopback port with these extra options; waits for PONG (bounded). */
export async function startReal(extra: readonly string[] = [], startTimeoutMs = 10_000): Promise<RealServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'psync-sim-bench-'));
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'no', '--enable-debug-command', 'yes', ...extra], { cwd: dir, stdio: 'ignore' });
  let stopped = false;
  const server: RealServer = {
    port,
    cli: (args, timeoutMs = 30_000) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], timeoutMs),
    async info(section) {
      const m = new Map<string, string>();
      for (const line of (await server.cli(['INFO', section])).split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
      }
      return m;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      running.delete(server);
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(server);
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    try {
      if ((await server.cli(['PING'], 2000)) === 'PONG') return server;
    } catch { /* not up yet */ }
    if (Date.now() > deadline || proc.exitCode !== null) {
      server.stop();
      throw new Error(`redis-server on port ${port} did not answer within ${startTimeoutMs} ms`);
    }
    await sleepMs(20);
  }
}

/** Poll until `pred` holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, pred: () => Promise<boolean>, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleepMs(everyMs);
  }
}

export function stopAllReal(): void {
  for (const s of [...running]) s.stop();
}

/**
 * Write burst on real servers: a master and two replicas on loopback, redis-benchmark SETs of
 * `sizeBytes` to random keys among `keys`, pipelined. Returns redis-benchmark's requests per
 * second (acknowledged by the master) and the writes per second until both replicas had them all.
 */
export async function realWriteBurst(writes: number, sizeBytes: number, keys: number, pipeline: number, clients: number):
  Promise<{ ackedPerSec: number; replicatedPerSec: number }> {
  const m = await startReal();
  try {
    const replicas = [await startReal(['--replicaof', '127.0.0.1', String(m.port)]), await startReal(['--replicaof', '127.0.0.1', String(m.port)])];
    for (const r of replicas) {
      await waitUntil('a replica link up', async () => (await r.info('replication')).get('master_link_status') === 'up', 30_000, 20);
    }
    const t0 = performance.now();
    const out = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(m.port), '-t', 'set', '-n', String(writes), '-r', String(keys),
      '-d', String(sizeBytes), '-P', String(pipeline), '-c', String(clients), '-q', '--csv'], 300_000);
    const target = (await m.info('replication')).get('master_repl_offset');
    for (const r of replicas) {
      await waitUntil('a replica caught up', async () => (await r.info('replication')).get('slave_repl_offset') === target, 60_000, 2);
    }
    const wallS = (performance.now() - t0) / 1000;
    const row = out.split('\n').find((l) => l.startsWith('"SET"'));
    const rps = row === undefined ? NaN : Number(row.split(',')[1]!.replace(/"/g, ''));
    for (const r of replicas) r.stop();
    return { ackedPerSec: rps, replicatedPerSec: writes / wallS };
  } finally {
    stopAllReal();
  }
}

/**
 * Full sync on real servers: a master holding `keys` keys of `sizeBytes` (DEBUG POPULATE), disk
 * based (repl-diskless-sync no), and a replica told REPLICAOF: wall seconds until its link is up,
 * and the master's used_memory per key.
 */
export async function realFullSync(keys: number, sizeBytes: number, timeoutMs: number):
  Promise<{ syncS: number; usedMemoryPerKey: number; replicaUsedMemoryPerKey: number }> {
  const m = await startReal(['--repl-diskless-sync', 'no']);
  try {
    const before = Number((await m.info('memory')).get('used_memory'));
    await m.cli(['DEBUG', 'POPULATE', String(keys), 'key', String(sizeBytes)], timeoutMs);
    const used = Number((await m.info('memory')).get('used_memory'));
    const r = await startReal();
    const rBefore = Number((await r.info('memory')).get('used_memory'));
    const t0 = performance.now();
    await r.cli(['REPLICAOF', '127.0.0.1', String(m.port)]);
    await waitUntil('the replica link up', async () => (await r.info('replication')).get('master_link_status') === 'up', timeoutMs, 5);
    const syncS = (performance.now() - t0) / 1000;
    const rUsed = Number((await r.info('memory')).get('used_memory'));
    return { syncS, usedMemoryPerKey: (used - before) / keys, replicaUsedMemoryPerKey: (rUsed - rBefore) / keys };
  } finally {
    stopAllReal();
  }
}
