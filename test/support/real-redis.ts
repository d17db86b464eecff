/**
 * Real redis-server processes for differential tests, and a tiny RESP2 client over node:net.
 *
 * Theory of operation. startRedis() picks a free port (the OS hands one out, we release it and
 * give it to redis-server: a small race, retried; INFO's process_id proves the connection reached
 * our process and not another test's), starts `redis-server` in the foreground in its
 * own temporary directory (so nothing it writes, dump.rdb included, lands in the repository) and
 * connects. stop() kills it with SIGKILL and removes the directory; every started server is also
 * remembered so stopAllRedis() can clean up after a failed test. The client parses replies with
 * its own small parser, independent of sim/core/resp.ts on purpose: a differential test must not
 * share the code it checks. Strings are latin1 (one char per byte), as everywhere in psync-sim.
 * This is test code: it uses wall-clock timers freely.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Reply } from '../../sim/core/reply.ts';
import { parseScenario } from '../../sim/scenario/parser.ts';
import { runScenario } from '../../sim/scenario/run.ts';
import type { CheckResult } from '../../sim/scenario/run.ts';

/** True when a redis-server binary can be run (the differential tests skip otherwise). */
export const haveRedisServer: boolean = spawnSync('redis-server', ['--version']).status === 0;

export interface RealServer {
  readonly port: number;
  readonly dir: string;
  readonly proc: ChildProcess;
  /** A client connection opened at start, for the test's own commands. */
  readonly client: RespClient;
  /** Kill the process (SIGKILL) and remove its directory. Idempotent. */
  stop(): void;
}

const started = new Set<RealServer>();
// A worker that exits without running afterAll (a crash, a timeout) must not leave servers behind.
process.once('exit', () => stopAllRedis());

/** Stop every server started by this module and not yet stopped (afterAll, failure paths). */
export function stopAllRedis(): void {
  for (const s of [...started]) s.stop();
}

/** The options every test server gets; `extraArgs` adds or overrides (later wins in redis). */
const BASE_ARGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];

export async function startRedis(extraArgs: readonly string[] = []): Promise<RealServer> {
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'psync-sim-redis-'));
    const proc = spawn('redis-server', ['--port', String(port), ...BASE_ARGS, ...extraArgs], { cwd: dir, stdio: 'ignore' });
    let exited = false;
    proc.once('exit', () => (exited = true));
    try {
      const client = await RespClient.connect(port, () => exited);
      // Two starts may draw the same free port: the loser's process exits (address in use), but
      // its client may already have connected to the winner. Make sure we talk to our own.
      const pid = (await client.info('server')).get('process_id');
      if (pid !== String(proc.pid)) {
        client.close();
        throw new Error(`port ${port} is served by process ${String(pid)}, not by ours (${String(proc.pid)})`);
      }
      let stopped = false;
      const server: RealServer = {
        port, dir, proc, client,
        stop(): void {
          if (stopped) return;
          stopped = true;
          started.delete(server);
          client.close();
          proc.kill('SIGKILL');
          rmSync(dir, { recursive: true, force: true });
        },
      };
      started.add(server);
      return server;
    } catch (e) {
      lastError = e;
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new Error(`startRedis: could not start redis-server: ${String(lastError)}`);
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `pred` every `everyMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, pred: () => Promise<boolean>, timeoutMs = 10_000, everyMs = 5): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadlineMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleepMs(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------
// RESP2.

/** The request encoding every client library uses: a multibulk of bulk strings. */
export function encodeRequest(argv: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`, 'latin1')];
  for (const a of argv) {
    const b = Buffer.from(a, 'latin1');
    parts.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

/** One reply starting at `at` in `buf`: [reply, index after it], or null if incomplete. */
export function parseReplyAt(buf: Buffer, at: number): [Reply, number] | null {
  if (at >= buf.length) return null;
  const eol = buf.indexOf('\r\n', at, 'latin1');
  if (eol < 0) return null;
  const line = buf.toString('latin1', at + 1, eol);
  const next = eol + 2;
  const type = String.fromCharCode(buf[at]!);
  switch (type) {
    case '+': return [{ kind: 'status', text: line }, next];
    case '-': return [{ kind: 'error', text: line }, next];
    case ':': {
      // Integers beyond ±2^53 stay exact, as sim/core/reply.ts intExact() gives them.
      const v = Number(line);
      return [{ kind: 'int', value: Number.isSafeInteger(v) ? v : BigInt(line) }, next];
    }
    case '$': {
      const len = Number(line);
      if (len < 0) return [{ kind: 'bulk', value: null }, next];
      if (buf.length < next + len + 2) return null;
      return [{ kind: 'bulk', value: buf.toString('latin1', next, next + len) }, next + len + 2];
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return [{ kind: 'array', items: null }, next];
      const items: Reply[] = [];
      let j = next;
      for (let k = 0; k < count; k++) {
        const r = parseReplyAt(buf, j);
        if (r === null) return null;
        items.push(r[0]);
        j = r[1];
      }
      return [{ kind: 'array', items }, j];
    }
    default:
      throw new Error(`RESP: bad type byte ${JSON.stringify(type)} at ${at}`);
  }
}

/** A pipelining RESP2 client: replies resolve calls in order. */
export class RespClient {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  private failure: Error | null = null;

  private constructor(private readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      let at = 0;
      for (let r = parseReplyAt(this.buf, at); r !== null; r = parseReplyAt(this.buf, at)) {
        at = r[1];
        const w = this.waiting.shift();
        if (w === undefined) throw new Error('RespClient: a reply nobody asked for');
        w.resolve(r[0]);
      }
      this.buf = this.buf.subarray(at);
    });
    const fail = (e: Error): void => {
      this.failure ??= e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('RespClient: connection closed')));
  }

  /** Connect, retrying while the server starts; gives up early if `gaveUp()` says so. */
  static async connect(port: number, gaveUp: () => boolean = () => false, timeoutMs = 5000): Promise<RespClient> {
    const deadlineMs = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1', () => resolve(s));
          s.once('error', reject);
        });
        return new RespClient(sock);
      } catch (e) {
        if (gaveUp() || Date.now() > deadlineMs) throw e;
        await sleepMs(20);
      }
    }
  }

  call(...argv: string[]): Promise<Reply> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.sock.write(encodeRequest(argv));
    });
  }

  /**
   * Several commands in one socket write, so they reach the server in one read and run in one
   * event-loop iteration (nothing, not even a replica's ACK, is processed between them).
   */
  pipeline(...argvs: string[][]): Promise<Reply[]> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const replies = argvs.map(() => new Promise<Reply>((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.sock.write(Buffer.concat(argvs.map((argv) => encodeRequest(argv))));
    return Promise.all(replies);
  }

  /** INFO [section] as a map of its `name:value` lines. */
  async info(section = 'replication'): Promise<Map<string, string>> {
    const r = await this.call('INFO', section);
    if (r.kind !== 'bulk' || r.value === null) throw new Error(`INFO ${section}: unexpected reply ${JSON.stringify(r)}`);
    return parseInfo(r.value);
  }

  /** One INFO field; throws if the server does not report it. */
  async infoField(section: string, field: string): Promise<string> {
    const v = (await this.info(section)).get(field);
    if (v === undefined) throw new Error(`INFO ${section} has no field ${field}`);
    return v;
  }

  close(): void {
    this.sock.destroy();
  }
}

/** The `name:value` lines of an INFO reply (section headers and blank lines skipped). */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return out;
}

/**
 * The simulated side of a real-server twin: run the scenario (its expectations read from real
 * servers) in psync-sim. If a check fails, the test fails with the failed checks, a replay
 * command and the scenario, which is also written to the temp dir as `psync-sim-<prefix><name>.scn`.
 * At least `checksMin` checks must have run (a parse that dropped lines would pass vacuously).
 */
export function expectScenarioPasses(text: string, name: string, checksMin: number, filePrefix = 'real-'): void {
  const file = `${filePrefix}${name}.scn`;
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
