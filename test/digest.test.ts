/**
 * DEBUG DIGEST / DIGEST-VALUE: properties of the construction, then equality with a real
 * redis-server 7.0 loaded with the same keys (several dbs, binary values, with and without expiry,
 * a logically expired key).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { Keyspace } from '../sim/core/keyspace.ts';
import { debugDigest, debugDigestValue } from '../sim/core/digest.ts';

const ZEROS = '0'.repeat(40);
const NOW_MS = 1_767_225_600_000;

describe('digest: construction', () => {
  it('the empty dataset is 40 zeros', () => {
    expect(debugDigest(new Keyspace())).toBe(ZEROS);
  });

  it('is independent of insertion order, but depends on db, value and expiry presence', () => {
    const a = new Keyspace();
    a.set(0, 'x', '1', -1);
    a.set(0, 'y', '2', -1);
    const b = new Keyspace();
    b.set(0, 'y', '2', -1);
    b.set(0, 'x', '1', -1);
    expect(debugDigest(a)).toBe(debugDigest(b));
    expect(debugDigest(a)).toMatch(/^[0-9a-f]{40}$/);
    const moved = new Keyspace();
    moved.set(1, 'x', '1', -1);
    moved.set(1, 'y', '2', -1);
    expect(debugDigest(moved)).not.toBe(debugDigest(a));
    b.set(0, 'x', '1', NOW_MS + 5);
    expect(debugDigest(b)).not.toBe(debugDigest(a));
    const c = b.clone();
    c.set(0, 'x', '1', NOW_MS + 99_999); // only the presence of an expiry is hashed
    expect(debugDigest(c)).toBe(debugDigest(b));
  });

  it('with nowMs, logically expired keys (and dbs left empty) are ignored', () => {
    const a = new Keyspace();
    a.set(0, 'x', '1', -1);
    const b = a.clone();
    b.set(0, 'gone', 'v', NOW_MS - 1);
    b.set(4, 'gone', 'v', NOW_MS - 1);
    expect(debugDigest(b)).not.toBe(debugDigest(a));
    expect(debugDigest(b, NOW_MS)).toBe(debugDigest(a));
  });

  it('DIGEST-VALUE of a missing key is 40 zeros', () => {
    expect(debugDigestValue(new Keyspace(), 0, 'nope')).toBe(ZEROS);
  });
});

// ---------------------------------------------------------------------------------------------

function encodeCommand(argv: string[]): Buffer {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
  return Buffer.from(s, 'latin1');
}

/** A client for the few reply shapes used here: status, error, array of statuses. */
class MiniClient {
  private buf = '';
  private readonly waiting: ((r: string | string[]) => void)[] = [];
  constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      for (;;) {
        const eol = this.buf.indexOf('\r\n');
        if (eol < 0) return;
        if (this.buf[0] === '*') {
          const n = Number(this.buf.slice(1, eol));
          const lines = this.buf.slice(eol + 2).split('\r\n');
          if (lines.length <= n) return;
          this.buf = lines.slice(n).join('\r\n');
          this.waiting.shift()!(lines.slice(0, n).map((l) => l.slice(1)));
        } else {
          const line = this.buf.slice(0, eol);
          this.buf = this.buf.slice(eol + 2);
          this.waiting.shift()!(line);
        }
      }
    });
  }
  call(...argv: string[]): Promise<string | string[]> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.sock.write(encodeCommand(argv));
    });
  }
  close(): void {
    this.sock.destroy();
  }
}

async function connect(port: number): Promise<net.Socket> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (attempt > 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const haveRedis = spawnSync('redis-server', ['--version']).status === 0;

describe.skipIf(!haveRedis)('digest: equal to redis-server 7.0 DEBUG DIGEST', () => {
  let proc: ChildProcess | null = null;
  let client: MiniClient;

  beforeAll(async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    proc = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no',
      '--enable-debug-command', 'yes',
    ], { stdio: 'ignore', cwd: mkdtempSync(join(tmpdir(), 'psync-sim-redis-')) }); // its dump.rdb goes there, not into the repo
    client = new MiniClient(await connect(port));
    expect(await client.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0')).toBe('+OK');
  }, 20_000);

  afterAll(() => {
    client?.close();
    proc?.kill('SIGKILL');
  });

  it('empty, then the same keys in several dbs', async () => {
    expect(await client.call('DEBUG', 'DIGEST')).toBe('+' + ZEROS);
    const ks = new Keyspace();
    let allBytes = '';
    for (let b = 0; b < 256; b++) allBytes += String.fromCharCode(b);
    const farMs = 4_000_000_000_000;
    const keys: [number, string, string, number][] = [
      [0, 'plain', 'hello', -1],
      [0, 'int', '42', -1], // int-encoded in Redis: hashed as its decimal bytes
      [0, 'neg', '-9223372036854775808', -1],
      [0, 'empty', '', -1],
      [0, 'bin\x00key\xff', allBytes, -1],
      [0, 'ttl', 'v', farMs],
      [0, 'stale', 'still in the dict', 1000], // logically expired, not yet deleted
      [3, 'plain', 'hello', -1],
      [3, 'big', 'x'.repeat(100_000), farMs + 1],
      [15, 'last', '\r\n', -1],
    ];
    for (const [db, key, value, expireAtMs] of keys) {
      await client.call('SELECT', String(db));
      const args = ['SET', key, value];
      if (expireAtMs !== -1) args.push('PXAT', String(expireAtMs));
      expect(await client.call(...args)).toBe('+OK');
      ks.set(db, key, value, expireAtMs);
    }
    expect(await client.call('DEBUG', 'DIGEST')).toBe('+' + debugDigest(ks));
    expect(debugDigest(ks)).not.toBe(ZEROS);

    for (const db of [0, 3, 15]) {
      await client.call('SELECT', String(db));
      const names = [...ks.dbs[db]!.keys(), 'missing'];
      const real = await client.call('DEBUG', 'DIGEST-VALUE', ...names);
      expect(real).toEqual(names.map((k) => debugDigestValue(ks, db, k)));
    }
  });
});
