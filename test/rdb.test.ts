import { describe, it, expect, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc64, Crc64 } from '../sim/core/crc64.ts';
import { lzfDecompress, LzfError } from '../sim/core/lzf.ts';
import { readRdb, writeRdb, RdbFormatError } from '../sim/core/rdb.ts';
import type { RdbContents, RdbEntry } from '../sim/core/rdb.ts';
import { encodeCommand, ReplyParser } from '../sim/core/resp.ts';
import type { Reply } from '../sim/core/reply.ts';

const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
const haveCheckRdb = spawnSync('redis-check-rdb', ['/nonexistent']).error === undefined;

const AUX: Array<[string, string]> = [
  ['redis-ver', '7.0.15'], ['redis-bits', '64'], ['ctime', '1767225600'], ['used-mem', '1000000'],
  ['repl-stream-db', '0'], ['repl-id', '8de1f2b4a6c9d0e3f5a7b9c1d2e4f6a8b0c2d4e6'], ['repl-offset', '12345'],
  ['aof-base', '0'],
];
const ALL_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
const FAR_FUTURE_MS = 4102444800123; // 2100-01-01, so no key expires during a test.

/** A dataset that exercises every length and integer encoding. */
function sampleContents(): RdbContents {
  const ints = ['0', '-1', '127', '-128', '128', '-129', '32767', '-32768', '32768', '2147483647', '-2147483648',
    '2147483648', '12345678901', '007', '-0', '+1', ' 1', '1.5', ''];
  const db0: RdbEntry[] = ints.map((v, i) => ({ key: `int:${i}`, value: v, expireAtMs: -1 }));
  db0.push({ key: 'bin', value: ALL_BYTES, expireAtMs: -1 });
  db0.push({ key: 'len63', value: 'a'.repeat(63), expireAtMs: -1 });
  db0.push({ key: 'len64', value: 'b'.repeat(64), expireAtMs: FAR_FUTURE_MS });
  db0.push({ key: 'len16383', value: 'c'.repeat(16383), expireAtMs: -1 });
  db0.push({ key: 'len16384', value: 'd'.repeat(16384), expireAtMs: 1 });
  db0.push({ key: '42', value: 'an integer-looking key', expireAtMs: -1 });
  return {
    aux: AUX,
    dbs: [
      { db: 0, entries: db0 },
      { db: 3, entries: [{ key: 'k3', value: 'v3', expireAtMs: FAR_FUTURE_MS }] },
      { db: 15, entries: [{ key: 'k15', value: '', expireAtMs: -1 }] },
    ],
  };
}

describe('crc64', () => {
  it('matches Redis: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca', () => {
    expect(crc64(0n, '123456789')).toBe(0xe9c6d914c4b8d9can);
    expect(crc64(0n, '')).toBe(0n);
  });

  it('gives the same value however the input is chunked, and is fast', () => {
    const data = Buffer.alloc(32 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const t0 = performance.now();
    const whole = crc64(0n, data);
    const mbPerSec = 32 / ((performance.now() - t0) / 1000);
    console.log(`crc64: ${mbPerSec.toFixed(0)} MB/s`);
    const c = new Crc64();
    for (let i = 0; i < data.length; i += 12_345) c.update(data, i, Math.min(data.length, i + 12_345));
    expect(c.value).toBe(whole);
    // Continuing from a previous value, as Redis does: crc64(crc64(0, a), b) == crc64(0, a + b).
    expect(crc64(crc64(0n, data.subarray(0, 1001)), data.subarray(1001, 5000))).toBe(crc64(0n, data.subarray(0, 5000)));
    expect(mbPerSec).toBeGreaterThan(50);
  });
});

describe('lzf', () => {
  it('decodes literal runs and overlapping back references', () => {
    // Literal "ab", then a back reference of length 9 at distance 2 ("ababababa"), then literal "Z".
    const input = Buffer.from([0x01, 0x61, 0x62, (7 << 5) | 0, 0, 1, 0x00, 0x5a]);
    expect(lzfDecompress(input, 12).toString('latin1')).toBe('abababababaZ');
    // A long match: literal "x" then 7+11+2 = 20 more x's at distance 1.
    expect(lzfDecompress(Buffer.from([0x00, 0x78, 0xe0, 11, 0x00]), 21).toString()).toBe('x'.repeat(21));
  });

  it('rejects corrupt input', () => {
    expect(() => lzfDecompress(Buffer.from([0x00, 0x78, 0xe0, 11, 0x00]), 20)).toThrow(LzfError); // Overflow.
    expect(() => lzfDecompress(Buffer.from([0x00, 0x78]), 2)).toThrow(LzfError); // Too short.
    expect(() => lzfDecompress(Buffer.from([0x00, 0x78, 0x20, 0x05]), 4)).toThrow(LzfError); // Before the start.
    expect(() => lzfDecompress(Buffer.from([0x05, 0x78]), 6)).toThrow(LzfError); // Truncated literal.
  });
});

describe('rdb: write and read', () => {
  it('round-trips every encoding, expiry and db number', () => {
    const contents = sampleContents();
    expect(readRdb(writeRdb(contents))).toEqual(contents);
    expect(readRdb(writeRdb({ aux: [], dbs: [] }))).toEqual({ aux: [], dbs: [] });
  });

  it('writes what Redis writes: magic, int-encoded aux, SELECTDB, RESIZEDB, EXPIRETIME_MS, EOF, CRC', () => {
    const file = writeRdb({
      aux: [['redis-bits', '64'], ['x', '300']],
      dbs: [{ db: 0, entries: [] }, { db: 2, entries: [{ key: 'k', value: 'v', expireAtMs: 1000 }, { key: 'n', value: '-2', expireAtMs: -1 }] }],
    });
    const body = Buffer.concat([
      Buffer.from('REDIS0010', 'latin1'),
      Buffer.from([0xfa, 10]), Buffer.from('redis-bits'), Buffer.from([0xc0, 64]),
      Buffer.from([0xfa, 1, 0x78, 0xc1, 0x2c, 0x01]), // "300" as INT16
      Buffer.from([0xfe, 2, 0xfb, 2, 1]), // db 0 is empty: skipped
      Buffer.from([0xfc, 0xe8, 0x03, 0, 0, 0, 0, 0, 0, 0x00, 1, 0x6b, 1, 0x76]),
      Buffer.from([0x00, 1, 0x6e, 0xc0, 0xfe]),
      Buffer.from([0xff]),
    ]);
    const crc = Buffer.alloc(8);
    crc.writeBigUInt64LE(crc64(0n, body));
    expect(file.equals(Buffer.concat([body, crc]))).toBe(true);
  });

  it('accepts a zero checksum (rdbchecksum no) and the old EXPIRETIME in seconds', () => {
    const body = Buffer.concat([
      Buffer.from('REDIS0009', 'latin1'),
      Buffer.from([0xfd, 0x10, 0, 0, 0, 0x00, 1, 0x6b, 1, 0x76]), // expires at 16 s
      Buffer.from([0xf8, 5, 0xf9, 3, 0x00, 1, 0x6c, 1, 0x77]), // IDLE and FREQ are skipped
      Buffer.from([0xf5, 3, 0x66, 0x6e, 0x31]), // FUNCTION2 payload is skipped
      Buffer.from([0xff]), Buffer.alloc(8),
    ]);
    expect(readRdb(body)).toEqual({
      aux: [],
      dbs: [{ db: 0, entries: [{ key: 'k', value: 'v', expireAtMs: 16000 }, { key: 'l', value: 'w', expireAtMs: -1 }] }],
    });
  });

  it('refuses damaged or unsupported files with RdbFormatError', () => {
    const good = writeRdb(sampleContents());
    const flipped = Buffer.from(good);
    flipped[100] ^= 0x01;
    const cases: Array<[Uint8Array, RegExp]> = [
      [Buffer.from('RIDES0010\xff', 'latin1'), /Wrong signature/],
      [Buffer.from('REDIS0011\xff', 'latin1'), /Can't handle RDB format version 0011/],
      [flipped, /Wrong RDB checksum|Unknown|unsupported|unexpected/],
      [good.subarray(0, good.length - 3), /unexpected end of file/],
      [good.subarray(0, 500), /unexpected end of file/],
      [Buffer.concat([good, Buffer.from([0])]), /bytes after the end/],
      [Buffer.from('REDIS0010\x02\x01k\x01\x01a\xff', 'latin1'), /unsupported value type 2/],
      [Buffer.from('REDIS0010\x00\x01k\xc4', 'latin1'), /Unknown RDB string encoding type 4/],
      [Buffer.from('REDIS0010\x00\x01k\x01a\x00\x01k\x01b\xff', 'latin1'), /duplicated key 'k'/],
    ];
    for (const [file, message] of cases) {
      expect(() => readRdb(file)).toThrow(RdbFormatError);
      expect(() => readRdb(file)).toThrow(message);
    }
    // A flipped byte inside a value is caught by the checksum alone.
    const inValue = Buffer.from(good);
    const at = inValue.indexOf('cccc');
    inValue[at] = 0x43;
    expect(() => readRdb(inValue)).toThrow(/Wrong RDB checksum/);
  });

  it.skipIf(!haveCheckRdb)('redis-check-rdb accepts what writeRdb produces', () => {
    const dir = mkdtempSync(join(tmpdir(), 'psync-rdb-'));
    try {
      const path = join(dir, 'ours.rdb');
      writeFileSync(path, writeRdb(sampleContents()));
      const run = spawnSync('redis-check-rdb', [path], { encoding: 'utf8' });
      expect(run.stdout).toContain('Checksum OK');
      expect(run.stdout).toContain('RDB looks OK!');
      expect(run.stdout).toContain(`${sampleContents().dbs.reduce((n, d) => n + d.entries.length, 0)} keys read`);
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Against a real redis-server.

class RealRedis {
  private constructor(readonly proc: ChildProcess, readonly port: number, readonly dir: string) {}

  static async start(dir: string): Promise<RealRedis> {
    for (let attempt = 0; ; attempt++) {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
        '--daemonize', 'no', '--appendonly', 'no'], { stdio: 'ignore' });
      const server = new RealRedis(proc, port, dir);
      running.add(server);
      for (let i = 0; i < 100 && proc.exitCode === null; i++) {
        try {
          const [pong] = await server.send([['PING']]);
          if (pong?.kind === 'status') return server;
        } catch {
          // Not listening yet.
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      server.kill();
      if (attempt >= 3) throw new Error('redis-server did not start');
    }
  }

  /** Sends commands pipelined on a fresh connection, with our own encoder and reply parser. */
  send(commands: string[][], expectClose = false): Promise<Reply[]> {
    return new Promise((resolve, reject) => {
      const socket: Socket = createConnection({ port: this.port, host: '127.0.0.1' });
      const parser = new ReplyParser();
      const replies: Reply[] = [];
      socket.on('error', reject);
      socket.on('close', () => (expectClose ? resolve(replies) : reject(new Error('closed early'))));
      socket.on('data', (chunk) => {
        parser.feed(chunk);
        for (let r = parser.next(); r !== null; r = parser.next()) replies.push(r);
        if (!expectClose && replies.length === commands.length) {
          socket.removeAllListeners('close');
          socket.end();
          resolve(replies);
        }
      });
      socket.write(Buffer.concat(commands.map(encodeCommand)));
    });
  }

  async shutdown(): Promise<void> {
    const exited = new Promise((r) => this.proc.once('exit', r));
    await this.send([['SHUTDOWN', 'NOSAVE']], true);
    await exited;
    running.delete(this);
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    running.delete(this);
  }
}

const running = new Set<RealRedis>();
const dirs: string[] = [];
afterAll(() => {
  for (const s of [...running]) s.kill();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'psync-rdb-real-'));
  dirs.push(d);
  return d;
}

const byKey = (a: RdbEntry, b: RdbEntry): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
const sorted = (c: RdbContents): Array<{ db: number; entries: RdbEntry[] }> =>
  c.dbs.map((d) => ({ db: d.db, entries: [...d.entries].sort(byKey) })).sort((a, b) => a.db - b.db);

describe('rdb: real redis-server', () => {
  it.skipIf(!haveRedis)('reads dumps written by redis-server, and rewrites a short-string dump byte for byte', async () => {
    const server = await RealRedis.start(newDir());
    try {
      const short: RdbContents = {
        aux: [],
        dbs: [
          { db: 0, entries: [
            { key: 'i8', value: '-7', expireAtMs: -1 }, { key: 'i16', value: '300', expireAtMs: -1 },
            { key: 'i32', value: '-70000', expireAtMs: -1 }, { key: 'i64', value: '12345678901', expireAtMs: -1 },
            { key: 'lead0', value: '007', expireAtMs: -1 }, { key: 'short', value: 'hello', expireAtMs: FAR_FUTURE_MS },
            { key: 'bin', value: '\x00\r\n\xff', expireAtMs: -1 },
            // The edges of INT8 / INT16 / INT32 (rdbEncodeInteger()): the bytes must match exactly.
            ...['-128', '127', '128', '-129', '32767', '-32768', '32768', '-32769', '2147483647', '-2147483648', '2147483648']
              .map((v) => ({ key: `edge:${v}`, value: v, expireAtMs: -1 })),
          ] },
          { db: 4, entries: [{ key: 'k4', value: 'v4', expireAtMs: FAR_FUTURE_MS + 1 }] },
        ],
      };
      const load = (c: RdbContents): string[][] => c.dbs.flatMap((d) => [
        ['SELECT', String(d.db)],
        ...d.entries.flatMap((e) => [['SET', e.key, e.value], ...(e.expireAtMs === -1 ? [] : [['PEXPIREAT', e.key, String(e.expireAtMs)]])]),
      ]);
      await server.send(load(short));
      await server.send([['SAVE']]);
      const first = readFileSync(join(server.dir, 'dump.rdb'));
      const parsed = readRdb(first);
      expect(parsed.aux.map(([k]) => k)).toEqual(['redis-ver', 'redis-bits', 'ctime', 'used-mem', 'aof-base']);
      expect(parsed.aux.slice(0, 2)).toEqual([['redis-ver', '7.0.15'], ['redis-bits', '64']]);
      expect(sorted(parsed)).toEqual(sorted(short));
      // Nothing here is long enough for Redis to compress, so our writer must agree byte for byte.
      expect(writeRdb(parsed).equals(first)).toBe(true);

      // Long strings that Redis LZF-compresses, and more databases.
      const long: RdbContents = {
        aux: [],
        dbs: [
          { db: 0, entries: [
            { key: 'runs', value: 'x'.repeat(5000), expireAtMs: -1 },
            { key: 'text', value: 'the quick brown fox jumps over the lazy dog; '.repeat(40), expireAtMs: FAR_FUTURE_MS },
            { key: 'all-bytes', value: ALL_BYTES.repeat(8), expireAtMs: -1 },
            { key: 'big', value: Array.from({ length: 3000 }, (_, i) => `k${i % 97}:${i}`).join(','), expireAtMs: -1 },
          ] },
          { db: 9, entries: [{ key: 'k'.repeat(300), value: 'y'.repeat(21), expireAtMs: -1 }] },
        ],
      };
      await server.send(load(long));
      await server.send([['SAVE']]);
      const second = readFileSync(join(server.dir, 'dump.rdb'));
      const expected: RdbContents = {
        aux: [],
        dbs: [
          { db: 0, entries: [...short.dbs[0]!.entries, ...long.dbs[0]!.entries] },
          short.dbs[1]!,
          long.dbs[1]!,
        ],
      };
      expect(second.indexOf('x'.repeat(5000))).toBe(-1); // Redis did compress it.
      expect(sorted(readRdb(second))).toEqual(sorted(expected));
      await server.shutdown();
    } finally {
      server.kill();
    }
  }, 30_000);

  it.skipIf(!haveRedis)('redis-server loads what writeRdb produces', async () => {
    const dir = newDir();
    const contents = sampleContents();
    contents.dbs[0]!.entries = contents.dbs[0]!.entries.filter((e) => e.expireAtMs === -1 || e.expireAtMs > 2e12);
    writeFileSync(join(dir, 'dump.rdb'), writeRdb(contents));
    const server = await RealRedis.start(dir);
    try {
      for (const db of contents.dbs) {
        const commands = [['SELECT', String(db.db)], ['DBSIZE'], ...db.entries.flatMap((e) => [['GET', e.key], ['PEXPIRETIME', e.key]])];
        const replies = await server.send(commands);
        expect(replies[1]).toEqual({ kind: 'int', value: db.entries.length });
        db.entries.forEach((e, i) => {
          expect(replies[2 + 2 * i]).toEqual({ kind: 'bulk', value: e.value });
          expect(replies[3 + 2 * i]).toEqual({ kind: 'int', value: e.expireAtMs });
        });
      }
      const [info] = await server.send([['INFO', 'persistence']]);
      expect(info?.kind === 'bulk' && info.value?.includes('rdb_last_load_keys_loaded:')).toBe(true);
      await server.shutdown();
      expect(existsSync(join(dir, 'dump.rdb'))).toBe(true);
    } finally {
      server.kill();
    }
  }, 30_000);
});
