/**
 * A story on real redis-server processes: 2-4 nodes on 127.0.0.1 (random ports, one temp dir
 * each), the plan's steps in order, and at each checkpoint what every node reports.
 *
 * Theory of operation. Each node is a RealNode: a port and a directory that survive restarts
 * (kill -9 and SHUTDOWN keep the directory, so a restart loads its RDB or AOF), a monitor
 * connection for INFO and DEBUG DIGEST, and a story connection that plays the scenario's local
 * client (SELECT sticks; a restart opens a new one, in DB 0, as the simulator's client is).
 * A checkpoint waits, by bounded polling, until the real side is quiescent: no node loading or
 * syncing, every replica's link up and its master listing it as online, the nodes of each
 * replication tree at one offset, and two polls 100 ms apart reporting the same values. Only
 * then is it observed. The configuration keeps the real side deterministic: no PING in the
 * stream (repl-ping-replica-period 3600), no save points, diskless sync without delay.
 * Test code: wall-clock timers are fine here. Every process started is killed and its directory
 * removed by stop(), and at process exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatReply } from '../../sim/core/resp.ts';
import { RespClient, freePort, parseInfo, sleepMs } from './real-redis.ts';
import type { NodeName, Step, Story } from './story-gen.ts';
import { planStory } from './story-gen.ts';

/** What a node reports at a checkpoint: the values compared with the simulator. */
export interface NodeObservation {
  readonly role: 'master' | 'slave';
  /** The node it replicates from (by name), null for a master. */
  readonly master: NodeName | null;
  readonly connectedSlaves: number;
  readonly syncFull: number;
  readonly syncPartialOk: number;
  readonly syncPartialErr: number;
  readonly offset: number;
  readonly secondOffset: number;
  readonly replid: string;
  readonly replid2: string;
  readonly backlogActive: number;
  /** DBSIZE of the story client's current DB. */
  readonly dbsize: number;
  readonly digest: string;
}

export interface Checkpoint {
  readonly what: string;
  /** Index of the checkpoint step in the plan. */
  readonly step: number;
  readonly nodes: ReadonlyMap<NodeName, NodeObservation>;
  /** Wall time the real side took to settle. */
  readonly settleMs: number;
}

export interface RealStoryRun {
  readonly ports: ReadonlyMap<NodeName, number>;
  /** The reply to each plan step that is a command (null for noReply steps), by step index. */
  readonly replies: ReadonlyMap<number, string | null>;
  readonly checkpoints: Checkpoint[];
}

/** The server options both sides share (the scenario's config lines say the same). */
export function storyServerArgs(story: Story): string[] {
  return [
    '--bind', '127.0.0.1', '--daemonize', 'no', '--save', '', '--enable-debug-command', 'yes',
    '--repl-ping-replica-period', '3600', '--repl-diskless-sync-delay', '0',
    '--repl-diskless-sync', story.diskSync ? 'no' : 'yes',
    '--appendonly', story.aof ? 'yes' : 'no',
    // everysec is not deterministic on a real server: flushAppendOnlyFile() postpones the write
    // (up to 2 s) while a background fsync runs, and a kill -9 then loses acknowledged writes.
    '--appendfsync', 'always',
  ];
}

const live = new Set<RealNode>();
process.once('exit', () => {
  for (const n of [...live]) n.stop();
});

class RealNode {
  proc: ChildProcess | null = null;
  mon: RespClient | null = null;
  cli: RespClient | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(readonly name: NodeName, readonly port: number, readonly dir: string, private readonly args: readonly string[]) {
    live.add(this);
  }

  async start(): Promise<void> {
    const proc = spawn('redis-server', ['--port', String(this.port), ...this.args], { cwd: this.dir, stdio: 'ignore' });
    this.proc = proc;
    let gone = false;
    this.exited = new Promise((resolve) => proc.once('exit', () => { gone = true; resolve(); }));
    const mon = await RespClient.connect(this.port, () => gone, 10_000);
    // Loading a big AOF or RDB can take a moment: wait until the server answers INFO as ours.
    // (INFO answers while loading; the story's commands would get -LOADING, so wait for loading:0.)
    for (;;) {
      const r = await mon.call('INFO', 'all');
      if (r.kind === 'bulk' && r.value !== null) {
        const info = parseInfo(r.value);
        const pid = info.get('process_id');
        if (pid !== String(proc.pid)) throw new Error(`port ${this.port} is served by process ${String(pid)}, not ${String(proc.pid)}`);
        if (info.get('loading') === '0') break;
      }
      await sleepMs(10);
    }
    this.mon = mon;
    this.cli = await RespClient.connect(this.port);
  }

  /** kill -9, and wait until the process is gone. */
  async kill(): Promise<void> {
    this.closeClients();
    this.proc?.kill('SIGKILL');
    await this.exited;
  }

  /** For SHUTDOWN: the process exits by itself. */
  async awaitExit(timeoutMs: number): Promise<void> {
    const t = sleepMs(timeoutMs).then(() => { throw new Error(`${this.name} did not exit within ${timeoutMs} ms of SHUTDOWN`); });
    await Promise.race([this.exited, t]);
    this.closeClients();
  }

  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    this.proc?.kill(sig);
  }

  private closeClients(): void {
    this.mon?.close();
    this.cli?.close();
    this.mon = null;
    this.cli = null;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    this.closeClients();
    this.proc?.kill('SIGCONT');
    this.proc?.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const int = (info: Map<string, string>, name: string): number => {
  const v = info.get(name);
  if (v === undefined || !/^-?\d+$/.test(v)) throw new Error(`INFO field ${name} is ${String(v)}`);
  return Number(v);
};

/** A replica line of the master's INFO: `slave0:ip=127.0.0.1,port=P,state=online,offset=N,lag=0`. */
function replicaLines(info: Map<string, string>): Array<{ port: number; state: string; offset: number }> {
  const out: Array<{ port: number; state: string; offset: number }> = [];
  for (const [k, v] of info) {
    if (!/^slave\d+$/.test(k)) continue;
    const f = new Map(v.split(',').map((kv) => kv.split('=') as [string, string]));
    out.push({ port: Number(f.get('port')), state: f.get('state') ?? '', offset: Number(f.get('offset')) });
  }
  return out;
}

interface Poll {
  readonly obs: Map<NodeName, NodeObservation>;
  /** Why the real side is not quiescent yet, or null. */
  readonly busy: string | null;
}

async function poll(nodes: readonly RealNode[], needAcks: boolean): Promise<Poll> {
  const byPort = new Map(nodes.map((n) => [n.port, n.name]));
  const obs = new Map<NodeName, NodeObservation>();
  const infos = new Map<NodeName, Map<string, string>>();
  let busy: string | null = null;
  for (const n of nodes) {
    const r = await n.mon!.call('INFO', 'all');
    if (r.kind !== 'bulk' || r.value === null) { busy ??= `${n.name} answers INFO with ${formatReply(r)}`; continue; }
    const info = parseInfo(r.value);
    infos.set(n.name, info);
    const role = info.get('role') === 'slave' ? 'slave' : 'master';
    let master: NodeName | null = null;
    if (role === 'slave') {
      master = byPort.get(int(info, 'master_port')) ?? null;
      if (master === null) throw new Error(`${n.name} replicates from port ${info.get('master_port')}, not one of the story's nodes`);
      if (info.get('master_link_status') !== 'up') busy ??= `${n.name}'s link is ${info.get('master_link_status')}`;
      if (info.get('master_sync_in_progress') !== '0') busy ??= `${n.name} is syncing`;
    }
    if (info.get('loading') !== '0') busy ??= `${n.name} is loading`;
    const size = await n.cli!.call('DBSIZE');
    const digest = await n.mon!.call('DEBUG', 'DIGEST');
    if (size.kind !== 'int' || digest.kind !== 'status') { busy ??= `${n.name}: DBSIZE ${formatReply(size)}, DEBUG DIGEST ${formatReply(digest)}`; continue; }
    obs.set(n.name, {
      role, master,
      connectedSlaves: int(info, 'connected_slaves'),
      syncFull: int(info, 'sync_full'),
      syncPartialOk: int(info, 'sync_partial_ok'),
      syncPartialErr: int(info, 'sync_partial_err'),
      offset: int(info, 'master_repl_offset'),
      secondOffset: int(info, 'second_repl_offset'),
      replid: info.get('master_replid') ?? '',
      replid2: info.get('master_replid2') ?? '',
      backlogActive: int(info, 'repl_backlog_active'),
      dbsize: Number(size.value),
      digest: digest.text,
    });
  }
  if (busy !== null) return { obs, busy };
  // Every master lists exactly the replicas that name it, all online; one offset per tree.
  for (const n of nodes) {
    const o = obs.get(n.name)!;
    const lines = replicaLines(infos.get(n.name)!);
    const followers = nodes.filter((r) => obs.get(r.name)!.master === n.name);
    if (lines.length !== followers.length || o.connectedSlaves !== followers.length) busy ??= `${n.name} lists ${lines.length} replicas, ${followers.length} follow it`;
    for (const l of lines) {
      if (l.state !== 'online') busy ??= `${n.name}'s replica on port ${l.port} is ${l.state}`;
      if (needAcks && l.offset !== o.offset) busy ??= `${n.name} has an ACK for ${l.offset} of ${o.offset}`;
    }
    if (o.master !== null && obs.get(o.master)!.offset !== o.offset) busy ??= `${n.name} at ${o.offset}, its master at ${obs.get(o.master)!.offset}`;
  }
  return { obs, busy };
}

const same = (a: Map<NodeName, NodeObservation>, b: Map<NodeName, NodeObservation>): boolean =>
  JSON.stringify([...a]) === JSON.stringify([...b]);

/** Poll until quiescent and unchanged over two polls; throws after `timeoutMs`. */
async function settle(nodes: readonly RealNode[], needAcks: boolean, timeoutMs: number): Promise<Map<NodeName, NodeObservation>> {
  const deadline = Date.now() + timeoutMs;
  let last: Poll | null = null;
  for (;;) {
    const p = await poll(nodes, needAcks);
    if (p.busy === null && last !== null && last.busy === null && same(p.obs, last.obs)) return p.obs;
    if (Date.now() > deadline) throw new RealUnsettled(`the real servers did not settle within ${timeoutMs} ms: ${p.busy ?? 'values still changing'}`);
    last = p;
    await sleepMs(p.busy === null ? 100 : 50);
  }
}

/** The real side could not reach a quiescent state: not a divergence, the story is void. */
export class RealUnsettled extends Error {}

/** REPLICAOF b 6379 → REPLICAOF 127.0.0.1 <port of b>; FAILOVER TO b 6379 likewise. */
function toReal(argv: readonly string[], ports: ReadonlyMap<NodeName, number>): string[] {
  const out = [...argv];
  for (let i = 0; i + 1 < out.length; i++) {
    const port = ports.get(out[i]!);
    if (port !== undefined && out[i + 1] === '6379') {
      out[i] = '127.0.0.1';
      out[i + 1] = String(port);
    }
  }
  return out;
}

export interface RealOptions {
  /** How long a checkpoint may take to settle. */
  readonly settleTimeoutMs: number;
}

export async function runStoryReal(story: Story, o: RealOptions = { settleTimeoutMs: 30_000 }): Promise<RealStoryRun> {
  const args = storyServerArgs(story);
  const nodes: RealNode[] = [];
  const ports = new Map<NodeName, number>();
  try {
    for (const name of story.nodes) {
      const port = await freePort();
      const node = new RealNode(name, port, mkdtempSync(join(tmpdir(), `psync-sim-story-${name}-`)), args);
      nodes.push(node);
      ports.set(name, port);
    }
    await Promise.all(nodes.map((n) => n.start()));
    const byName = new Map(nodes.map((n) => [n.name, n]));
    const node = (name: NodeName): RealNode => byName.get(name)!;
    const replies = new Map<number, string | null>();
    const checkpoints: Checkpoint[] = [];
    const background: Array<Promise<void>> = [];
    const pausedAt = new Map<NodeName, { atMs: number; durMs: number }>();
    const steps: Step[] = planStory(story);
    let needAcks = false;
    for (let i = 0; i < steps.length; i++) {
      const st = steps[i]!;
      switch (st.k) {
        case 'cmd': {
          const cli = node(st.node).cli!;
          if (st.noReply) {
            replies.set(i, null);
            await cli.call(...toReal(st.argv, ports)).then((r) => { throw new Error(`${st.argv.join(' ')} replied ${formatReply(r)}`); }, () => undefined);
            await node(st.node).awaitExit(20_000);
          } else if (st.pipeWithNext) {
            const next = steps[i + 1];
            if (next === undefined || next.k !== 'cmd' || next.node !== st.node) throw new Error('pipeWithNext: the next step is not a command on the same node');
            const [a, b] = await cli.pipeline(toReal(st.argv, ports), toReal(next.argv, ports));
            replies.set(i, formatReply(a!));
            replies.set(i + 1, formatReply(b!));
            i++;
          } else if (st.background) {
            const at = i;
            background.push(cli.call(...toReal(st.argv, ports)).then((r) => { replies.set(at, formatReply(r)); }));
          } else {
            replies.set(i, formatReply(await cli.call(...toReal(st.argv, ports))));
          }
          break;
        }
        case 'join':
          await Promise.all(background.splice(0));
          break;
        case 'crash':
          await node(st.node).kill();
          break;
        case 'restart':
          await node(st.node).start();
          break;
        case 'pause':
          node(st.node).signal('SIGSTOP');
          pausedAt.set(st.node, { atMs: Date.now(), durMs: st.durMs });
          break;
        case 'resume': {
          const p = pausedAt.get(st.node)!;
          await sleepMs(Math.max(0, p.atMs + p.durMs - Date.now()));
          node(st.node).signal('SIGCONT');
          pausedAt.delete(st.node);
          break;
        }
        case 'sleep':
          await sleepMs(st.ms);
          break;
        case 'acks':
          needAcks = true;
          await settle(nodes, true, o.settleTimeoutMs);
          needAcks = false;
          break;
        case 'checkpoint': {
          const t0 = Date.now();
          const obs = await settle(nodes, needAcks, o.settleTimeoutMs);
          checkpoints.push({ what: st.what, step: i, nodes: obs, settleMs: Date.now() - t0 });
          break;
        }
        default: {
          const never: never = st;
          throw new Error(`runStoryReal: ${JSON.stringify(never)}`);
        }
      }
    }
    return { ports, replies, checkpoints };
  } finally {
    for (const n of nodes) n.stop();
  }
}
