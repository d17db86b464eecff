/**
 * A real Redis Sentinel deployment on loopback for the differential tests: a master, N replicas
 * (real redis-server, test/support/real-redis.ts) and 3 redis-sentinel 7.0.15 processes, each in
 * its own temp dir, with every event the sentinels publish collected through `PSUBSCRIBE *` and
 * stamped on receipt (ms after `mark()`). `stop()` kills every process it started by pid (SIGKILL
 * works on a SIGSTOPped one too) and removes the dirs; callers run it in `finally`.
 *
 * Robustness on a loaded 2-core machine: every wait is a poll with a generous deadline, never a
 * fixed sleep that assumes a speed, and times compared with the simulation are bands, not values.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRequest, freePort, parseReplyAt, RespClient, startRedis, waitFor } from './real-redis.ts';
import type { RealServer } from './real-redis.ts';
import { RecordingProxy } from './recording-proxy.ts';
import type { Reply } from '../../sim/core/reply.ts';
import type { Stamped } from '../../sim/trace/events.ts';

export const haveSentinel: boolean = spawnSync('redis-sentinel', ['--version']).status === 0;

/** One sentinel event: who, which, its payload, and when (ms after the mark). */
export interface SentinelEv { atMs: number; node: string; event: string; payload: string }

/** Events that depend on timing or discovery order, not on the failover's logic. */
export const NOISE = new Set(['voted-for', '+sdown', '-sdown', '-odown', '+role-change', '-role-change', '+slave', 'next-failover-delay',
  '+sentinel', '+reboot', '+monitor', '+odown', '+convert-to-slave', '+fix-slave-config', '-tilt', '+tilt']);

/** A node's chain of failover events (noise dropped), up to and including its first +switch-master. */
export function chainOf(evs: readonly SentinelEv[], node: string): string[] {
  const out: string[] = [];
  for (const e of evs) {
    if (e.node !== node || NOISE.has(e.event)) continue;
    out.push(e.event);
    if (e.event === '+switch-master') break;
  }
  return out;
}

/** A `SENTINEL MASTER` (or INFO-like flat array) reply as a map. */
export function fields(r: Reply): Map<string, string> {
  const m = new Map<string, string>();
  if (r.kind !== 'array' || r.items === null) return m;
  for (let i = 0; i + 1 < r.items.length; i += 2) {
    const k = r.items[i]!;
    const v = r.items[i + 1]!;
    if (k.kind === 'bulk' && v.kind === 'bulk') m.set(k.value ?? '', v.value ?? '');
  }
  return m;
}

/** The simulated side's events after `fromUs`, in the same shape (ms after fromUs). */
export function simEvents(out: SentinelEv[], fromUs: () => number): (st: Stamped) => void {
  return (st) => {
    const from = fromUs();
    if (st.event.kind === 'sentinel' && st.atUs >= from) out.push({ atMs: (st.atUs - from) / 1000, node: st.event.node, event: st.event.event, payload: st.event.payload });
  };
}

/** PSUBSCRIBE * on a sentinel: every event it publishes, stamped on receipt (ms after t0()). */
export function listenEvents(port: number, node: string, out: SentinelEv[], t0: () => number): net.Socket {
  const s = net.connect(port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    let at = 0;
    for (let r = parseReplyAt(buf, at); r !== null; r = parseReplyAt(buf, at)) {
      at = r[1];
      const m = r[0];
      if (m.kind === 'array' && m.items !== null && m.items.length === 4) {
        const [kind, , ch, payload] = m.items as Reply[];
        if (kind!.kind === 'bulk' && kind!.value === 'pmessage' && ch!.kind === 'bulk' && payload!.kind === 'bulk') {
          out.push({ atMs: Date.now() - t0(), node, event: ch!.value!, payload: payload!.value ?? '' });
        }
      }
    }
    buf = buf.subarray(at);
  });
  s.on('error', () => {});
  s.write(encodeRequest(['PSUBSCRIBE', '*']));
  return s;
}

export interface DeploymentOptions {
  /** Extra redis-server arguments per replica (its count is the replica count). */
  readonly replicaArgs: ReadonlyArray<readonly string[]>;
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
  /**
   * Put a RecordingProxy (test/support/recording-proxy.ts) in front of every data node: the
   * sentinels monitor the master's proxy, the replicas replicate through it and announce their
   * own proxy's port (replica-announce-port), so every address a sentinel learns, and every
   * command it sends to a node, goes through the node's proxy.
   */
  readonly proxied?: boolean;
}

export class RealDeployment {
  readonly names = ['s1', 's2', 's3'];
  readonly events: SentinelEv[] = [];
  private t0 = Date.now();
  private readonly procs: ChildProcess[] = [];
  private readonly dirs: string[] = [];
  private readonly socks: net.Socket[] = [];
  master: RealServer | null = null;
  replicas: RealServer[] = [];
  sentinels: Array<{ port: number; client: RespClient; proc: ChildProcess }> = [];
  /** With `proxied`: the master's proxy, then the replicas' (empty otherwise). */
  proxies: RecordingProxy[] = [];
  /** Each sentinel's sentinel.conf path. */
  readonly confPaths: string[] = [];

  /** Start everything and wait until every sentinel knows every replica and both other sentinels. */
  static async start(o: DeploymentOptions): Promise<RealDeployment> {
    const d = new RealDeployment();
    try {
      d.master = await startRedis(['--repl-diskless-sync-delay', '0']);
      for (const args of o.replicaArgs) d.replicas.push(await startRedis(['--repl-diskless-sync-delay', '0', ...args]));
      if (o.proxied === true) {
        for (const n of [d.master, ...d.replicas]) {
          const p = await RecordingProxy.start(await freePort(), n.port);
          d.proxies.push(p);
          await n.client.call('CONFIG', 'SET', 'replica-announce-port', String(p.port));
        }
      }
      for (const r of d.replicas) await r.client.call('REPLICAOF', '127.0.0.1', String(d.nodePort(0)));
      for (let i = 0; i < 3; i++) d.sentinels.push(await d.startSentinel(o));
      d.sentinels.forEach((s, i) => d.socks.push(d.listen(s.port, d.names[i]!)));
      const n = String(d.replicas.length);
      await waitFor('sentinel discovery', async () => {
        for (const s of d.sentinels) {
          const f = fields(await s.client.call('SENTINEL', 'MASTER', 'mymaster'));
          if (f.get('num-slaves') !== n || f.get('num-other-sentinels') !== '2') return false;
        }
        return true;
      }, 40_000, 100);
      return d;
    } catch (e) {
      d.stop();
      throw e;
    }
  }

  /** From now on event times count from here; earlier events are dropped. */
  mark(): void {
    this.t0 = Date.now();
    this.events.length = 0;
  }

  sinceMarkMs(): number {
    return Date.now() - this.t0;
  }

  async masterFields(i: number): Promise<Map<string, string>> {
    return fields(await this.sentinels[i]!.client.call('SENTINEL', 'MASTER', 'mymaster'));
  }

  /** Wait until every sentinel names a master other than `oldPort` with flags exactly `master`. */
  async waitSwitched(oldPort: number, timeoutMs: number): Promise<Array<Map<string, string>>> {
    await waitFor('every sentinel switched', async () => {
      for (let i = 0; i < 3; i++) {
        const f = await this.masterFields(i);
        if (f.get('port') === String(oldPort) || f.get('flags') !== 'master') return false;
      }
      return true;
    }, timeoutMs, 50);
    return Promise.all([0, 1, 2].map((i) => this.masterFields(i)));
  }

  /** Which replica index a port is, or -1. */
  replicaIndex(port: string | undefined): number {
    return this.replicas.findIndex((r, i) => String(this.nodePort(i + 1)) === port);
  }

  /** The port the sentinels know node `i` by (0 the master, then the replicas): its proxy's, if proxied. */
  nodePort(i: number): number {
    const p = this.proxies[i];
    if (p !== undefined) return p.port;
    return i === 0 ? this.master!.port : this.replicas[i - 1]!.port;
  }

  /** `m`, `r1`, `r2`... for a port the sentinels know a node by (its proxy's, if proxied), or the port. */
  nodeName(port: string | number): string {
    for (let i = 0; i <= this.replicas.length; i++) if (String(this.nodePort(i)) === String(port)) return i === 0 ? 'm' : `r${i}`;
    return String(port);
  }

  /** Kill the master (SIGKILL); with a proxy, its proxy refuses connections too, as a dead port does. */
  crashMaster(): void {
    this.master!.proc.kill('SIGKILL');
    this.proxies[0]?.down();
  }

  /**
   * A crashed master comes back: a fresh redis-server (empty, a master, no config file, as the
   * old one started) behind the same proxy port. Proxied deployments only (a new server cannot
   * take the old port back reliably).
   */
  async restartMaster(): Promise<void> {
    const p = this.proxies[0];
    if (p === undefined) throw new Error('restartMaster: only for proxied deployments');
    this.master!.stop();
    this.master = await startRedis(['--repl-diskless-sync-delay', '0', '--replica-announce-port', String(p.port)]);
    await p.up(this.master.port);
  }

  /** Kill sentinel `i` (SIGKILL) and start it again on the same port and sentinel.conf. */
  async restartSentinel(i: number): Promise<void> {
    const old = this.sentinels[i]!;
    old.client.close();
    const exitedOld = new Promise<void>((resolve) => (old.proc.exitCode !== null || old.proc.signalCode !== null ? resolve() : old.proc.once('exit', () => resolve())));
    old.proc.kill('SIGKILL');
    await exitedOld;
    this.socks[i]?.destroy();
    const proc = this.spawnSentinel(this.confPaths[i]!);
    let exited = false;
    proc.once('exit', () => (exited = true));
    const client = await RespClient.connect(old.port, () => exited);
    this.sentinels[i] = { port: old.port, client, proc };
    this.socks[i] = this.listen(old.port, this.names[i]!);
  }

  stop(): void {
    for (const s of this.socks.splice(0)) s.destroy();
    for (const s of this.sentinels) s.client.close();
    for (const p of this.procs.splice(0)) p.kill('SIGKILL');
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    for (const p of this.proxies) p.stop();
    this.master?.stop();
    for (const r of this.replicas) r.stop();
  }

  private async startSentinel(o: DeploymentOptions): Promise<{ port: number; client: RespClient; proc: ChildProcess }> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'psync-sim-sentinel-'));
    this.dirs.push(dir);
    const conf = join(dir, 'sentinel.conf');
    this.confPaths.push(conf);
    writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', 'daemonize no', `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${this.nodePort(0)} 2`, `sentinel down-after-milliseconds mymaster ${o.downAfterMs}`,
      `sentinel failover-timeout mymaster ${o.failoverTimeoutMs}`, 'sentinel parallel-syncs mymaster 1', ''].join('\n'));
    const proc = this.spawnSentinel(conf);
    let exited = false;
    proc.once('exit', () => (exited = true));
    const client = await RespClient.connect(port, () => exited);
    return { port, client, proc };
  }

  private spawnSentinel(conf: string): ChildProcess {
    const proc = spawn('redis-sentinel', [conf], { cwd: join(conf, '..'), stdio: 'ignore' });
    this.procs.push(proc);
    return proc;
  }

  private listen(port: number, node: string): net.Socket {
    return listenEvents(port, node, this.events, () => this.t0);
  }
}

/** Poll a real node's role on fresh connections (the sentinels' CLIENT KILL cuts old ones). */
export async function waitRole(port: number, role: string, timeoutMs: number, everyMs = 200): Promise<void> {
  await waitFor(`127.0.0.1:${port} role:${role}`, async () => {
    try {
      const c = await RespClient.connect(port, () => false, 2000);
      try {
        return (await c.info('replication')).get('role') === role;
      } finally {
        c.close();
      }
    } catch {
      return false;
    }
  }, timeoutMs, everyMs);
}
