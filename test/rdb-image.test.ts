/**
 * Lazy RDB images (sim/core/rdb-image.ts) and the replica's trusted checksum (rdb.ts
 * isOwnRdbFile): an image's size, computed without writing, is the eager writer's length and its
 * bytes are the eager writer's bytes as of the fork; a save point leaves an unwritten image on
 * the disk that a restart reads as the fork-time dataset; a replica skips the CRC-64 only for the
 * very memory our writer produced, and still refuses a corrupted or foreign payload.
 */
import { describe, expect, it } from 'vitest';
import { Keyspace } from '../sim/core/keyspace.ts';
import { isOwnRdbFile, parseRdb, readRdb, writeRdbFramed, writeRdbFrom } from '../sim/core/rdb.ts';
import { keyspaceSources, rdbFileSizeBytes, RdbImage } from '../sim/core/rdb-image.ts';
import { RedisNode } from '../sim/core/node.ts';
import { defaultConfig } from '../sim/core/config.ts';
import type { Reply } from '../sim/core/reply.ts';
import { World } from '../sim/world/world.ts';
import { FakeHost } from './support/fake-host.ts';

const AUX: Array<[string, string]> = [['redis-ver', '7.0.15'], ['redis-bits', '64'], ['ctime', '1767225600'], ['used-mem', '1000123'], ['repl-id', 'a'.repeat(40)], ['repl-offset', '-1'], ['aof-base', '0']];

/** Values on every side of each encoding boundary: INT8/16/32, verbatim, and 6/14/32-bit lengths. */
const EDGE_VALUES = [
  '0', '-0', '1', '-1', '127', '128', '-128', '-129', '255', '256', '32767', '32768', '-32768', '-32769',
  '65535', '2147483647', '2147483648', '-2147483648', '-2147483649', '4294967296', '12345678901',
  '-1234567890', '01', '007', '+1', ' 1', '1 ', '1.5', '9223372036854775807', '-9223372036854775808',
  '99999999999999999999', '', 'x', '\u0000\u00ff', 'a'.repeat(63), 'a'.repeat(64), 'b'.repeat(16383),
  'b'.repeat(16384), 'c'.repeat(70_000),
];

function edgeKeyspace(): Keyspace {
  const ks = new Keyspace();
  EDGE_VALUES.forEach((v, i) => ks.set(0, `k${i}`, v, -1));
  // Integer-looking keys are integer-encoded too; expiries of every kind, in a database past 63.
  EDGE_VALUES.forEach((v, i) => ks.set(2, v, `v${i}`, i % 3 === 0 ? -1 : 1_800_000_000_000 + i));
  ks.set(5, 'far', 'v', 9223372036854775807n);
  ks.set(5, 'far-negative', 'v', -9223372036854775808n);
  ks.set(5, 'past', 'v', -5);
  ks.set(5, 'zero', 'v', 0);
  ks.set(15, 'last-db', '1', -1);
  return ks;
}

function eagerFile(aux: ReadonlyArray<readonly [string, string]>, ks: Keyspace): Buffer {
  return writeRdbFrom(aux, keyspaceSources(ks), ks.totalBytes());
}

/** A deterministic pseudo-random string of `len` latin1 chars drawn from `alphabet`. */
function lcgString(state: { x: number }, len: number, alphabet: string): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    state.x = (Math.imul(state.x, 1103515245) + 12345) >>> 0;
    s += alphabet[(state.x >>> 8) % alphabet.length];
  }
  return s;
}

describe('RdbImage: a file produced on demand', () => {
  it('its size, computed without writing, equals the eager writer\'s length, and its bytes are the eager bytes', () => {
    const ks = edgeKeyspace();
    const eager = eagerFile(AUX, ks);
    const image = RdbImage.lazy(AUX, ks.clone());
    expect(image.isProduced).toBe(false);
    expect(image.sizeBytes).toBe(eager.length);
    expect(image.isProduced).toBe(false); // the size alone writes nothing
    expect(image.bytes().equals(eager)).toBe(true);
    expect(image.isProduced).toBe(true);
    expect(image.bytes()).toBe(image.bytes()); // produced once
    // The file holds what was put in, with the exact bigint expiries.
    const read = readRdb(image.bytes());
    expect(read.aux).toEqual(AUX);
    expect(read.dbs.map((d) => d.db)).toEqual([0, 2, 5, 15]);
    expect(read.dbs[2]!.entries.find((e) => e.key === 'far')!.expireAtBig).toBe(9223372036854775807n);
    expect(read.dbs[0]!.entries.find((e) => e.key === 'k38')!.value).toBe('c'.repeat(70_000));
  });

  it('sizes agree over empty datasets, empty aux, empty databases between full ones and random data', () => {
    const empty = new Keyspace();
    expect(rdbFileSizeBytes([], empty)).toBe(eagerFile([], empty).length);
    expect(rdbFileSizeBytes([], empty)).toBe(18); // REDIS0010, EOF, CRC
    expect(RdbImage.lazy(AUX, empty.clone()).bytes().equals(eagerFile(AUX, empty))).toBe(true);
    const flushed = edgeKeyspace();
    flushed.flushDb(2);
    expect(rdbFileSizeBytes(AUX, flushed)).toBe(eagerFile(AUX, flushed).length);
    const state = { x: 12345 };
    for (let round = 0; round < 20; round++) {
      const ks = new Keyspace();
      const keys = 1 + (round * 37) % 300;
      for (let i = 0; i < keys; i++) {
        const db = (state.x >>> 3) % 16;
        const digits = i % 2 === 0;
        const value = lcgString(state, (state.x >>> 5) % (i % 7 === 0 ? 200 : 12), digits ? '-0123456789' : 'ab\u0000\u00ff9');
        const expireAt = (state.x & 3) === 0 ? -1 : (state.x & 3) === 1 ? 1_700_000_000_000 + i : (state.x & 3) === 2 ? -3 : 9007199254740993n;
        ks.set(db, lcgString(state, 1 + (state.x >>> 9) % 11, digits ? '0123456789-' : 'kxyz'), value, expireAt);
      }
      const image = RdbImage.lazy(AUX, ks.clone());
      const eager = eagerFile(AUX, ks);
      expect(image.sizeBytes).toBe(eager.length);
      expect(image.bytes().equals(eager)).toBe(true);
    }
  });

  it('holds the dataset as of its snapshot: later writes to the live keyspace do not show', () => {
    const ks = edgeKeyspace();
    const atFork = eagerFile(AUX, ks);
    const image = RdbImage.lazy(AUX, ks.clone());
    ks.set(0, 'k0', 'changed after the fork', 1_900_000_000_000);
    ks.set(7, 'new', 'key', -1);
    ks.flushDb(2);
    expect(image.sizeBytes).toBe(atFork.length);
    expect(image.bytes().equals(atFork)).toBe(true);
    expect(eagerFile(AUX, ks).equals(atFork)).toBe(false);
  });

  it('a diskless payload is written framed in one buffer: the file is a view inside it, the same bytes', () => {
    const ks = edgeKeyspace();
    const { payload, rdb } = writeRdbFramed(AUX, keyspaceSources(ks), ks.totalBytes(), '$EOF:mark\r\n', 'mark');
    expect(rdb.buffer).toBe(payload.buffer);
    expect(rdb.byteOffset).toBe(payload.byteOffset + 11);
    expect(payload.length).toBe(11 + rdb.length + 4);
    expect(payload.toString('latin1', 0, 11)).toBe('$EOF:mark\r\n');
    expect(payload.toString('latin1', payload.length - 4)).toBe('mark');
    expect(rdb.equals(eagerFile(AUX, ks))).toBe(true);
  });

  it('an image of written bytes is those bytes', () => {
    const eager = eagerFile(AUX, edgeKeyspace());
    const image = RdbImage.ofBytes(eager);
    expect(image.isProduced).toBe(true);
    expect(image.sizeBytes).toBe(eager.length);
    expect(image.bytes()).toBe(eager);
  });
});

function run(world: World, ms: number): void {
  world.engine.runUntil(world.engine.nowUs + ms * 1000);
}

function command(world: World, node: string, ...argv: string[]): Reply | null {
  let reply: Reply | null = null;
  world.slot(node).command(world.newClientId(), argv, (r) => (reply = r));
  run(world, 1);
  return reply;
}

describe('save points write lazily', () => {
  it('a save point leaves an unwritten image; a crash after more writes restarts with the fork-time data', () => {
    const world = new World({ seed: 3, trace: null });
    const cfg = defaultConfig();
    cfg.save = [{ seconds: 1, changes: 1 }];
    world.addNode('m', cfg).start();
    run(world, 100);
    for (let i = 0; i < 50; i++) command(world, 'm', 'SET', `k${i}`, `v${i}`);
    command(world, 'm', 'SET', 'counter', '41');
    command(world, 'm', 'SET', 'ttl', 'x', 'PXAT', '9999999999999');
    const m = world.slot('m').node!;
    const forkedBefore = m.statRdbSaves;
    // serverCron forks once `now - lastsave > 1`; the file is on the disk when the child exits.
    for (let i = 0; i < 40 && m.statRdbSaves === forkedBefore; i++) run(world, 100);
    expect(m.statRdbSaves).toBe(forkedBefore + 1);
    run(world, 100);
    expect(m.child).toBeNull();
    const datasetAtSave = readRdb(m.snapshotRdb()).dbs; // nothing changed since the fork
    const onDisk = world.slot('m').disk.get('dump.rdb')!.durable[0]!;
    expect(onDisk).toBeInstanceOf(RdbImage);
    expect((onDisk as RdbImage).isProduced).toBe(false);
    // Writes after the save, then a crash before the next one.
    command(world, 'm', 'SET', 'k0', 'after');
    command(world, 'm', 'DEL', 'k1');
    command(world, 'm', 'INCR', 'counter');
    command(world, 'm', 'SET', 'new', 'x');
    world.slot('m').stop('crash');
    run(world, 10);
    world.slot('m').start();
    run(world, 100);
    const r = world.slot('m').node!;
    expect((onDisk as RdbImage).isProduced).toBe(true);
    expect(r.ks.get(0, 'k0')!.value).toBe('v0');
    expect(r.ks.get(0, 'k1')!.value).toBe('v1');
    expect(r.ks.get(0, 'counter')!.value).toBe('41');
    expect(r.ks.get(0, 'new')).toBeUndefined();
    expect(r.ks.get(0, 'ttl')!.expireAtMs).toBe(9999999999999);
    expect(r.ks.totalKeys()).toBe(52);
    expect(readRdb(world.slot('m').readFile('dump.rdb')!).dbs).toEqual(datasetAtSave);
  });

  it('SAVE stores an image too; reading the file produces it', () => {
    const world = new World({ seed: 4, trace: null });
    world.addNode('m', defaultConfig()).start();
    run(world, 100);
    command(world, 'm', 'SET', 'a', '1');
    expect(command(world, 'm', 'SAVE')).toEqual({ kind: 'status', text: 'OK' });
    const onDisk = world.slot('m').disk.get('dump.rdb')!.durable[0] as RdbImage;
    expect(onDisk.isProduced).toBe(false);
    command(world, 'm', 'SET', 'a', '2');
    const file = world.slot('m').readFile('dump.rdb')!;
    expect(onDisk.isProduced).toBe(true);
    expect(readRdb(file).dbs).toEqual([{ db: 0, entries: [{ key: 'a', value: '1', expireAtMs: -1 }] }]);
  });
});

/** A replica on a FakeHost that has done its handshake and reads a `$<len>` payload. */
function replicaReading(payload: Uint8Array): { node: RedisNode; host: FakeHost } {
  const host = new FakeHost();
  const node = new RedisNode('r', host, defaultConfig());
  node.start();
  node.ks.set(0, 'old', 'data', -1);
  node.localCommand(1, ['REPLICAOF', 'm', '6379']);
  const conn = host.connects[0]!.conn;
  node.connected(conn);
  node.received(conn, Buffer.from(`+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC ${'b'.repeat(40)} 0\r\n$${payload.length}\r\n`, 'latin1'));
  node.received(conn, payload);
  return { node, host };
}

function loadFailure(host: FakeHost): string | undefined {
  const e = host.events.find((ev) => ev.kind === 'note' && ev.text.startsWith('failed to load the RDB from the master'));
  return e?.kind === 'note' ? e.text : undefined;
}

describe('the replica\'s RDB check', () => {
  const file = (): Buffer => eagerFile(AUX, edgeKeyspace());

  it('knows our writer\'s memory: the buffer and any view of exactly it, nothing else', () => {
    const own = file();
    expect(isOwnRdbFile(own)).toBe(true);
    expect(isOwnRdbFile(Buffer.from(own.buffer, own.byteOffset, own.length))).toBe(true);
    expect(isOwnRdbFile(new Uint8Array(own.buffer, own.byteOffset, own.length))).toBe(true);
    expect(isOwnRdbFile(Buffer.from(own))).toBe(false); // a copy: not provably untouched
    expect(isOwnRdbFile(own.subarray(0, own.length - 1))).toBe(false);
    expect(isOwnRdbFile(own.subarray(1))).toBe(false);
    expect(isOwnRdbFile(RdbImage.lazy(AUX, edgeKeyspace().clone()).bytes())).toBe(true);
    // A diskless payload: the file inside the frame is ours, the frame is not a file.
    const ks = edgeKeyspace();
    const { payload, rdb } = writeRdbFramed(AUX, keyspaceSources(ks), ks.totalBytes(), '$EOF:mark\r\n', 'mark');
    expect(isOwnRdbFile(rdb)).toBe(true);
    expect(isOwnRdbFile(payload)).toBe(false);
  });

  it('loads our own bytes, and a copy of them, with every key', () => {
    for (const payload of [file(), Buffer.from(file())]) {
      const { node, host } = replicaReading(payload);
      expect(loadFailure(host)).toBeUndefined();
      node.loadingDone();
      expect(node.replState).toBe('connected');
      expect(node.ks.sameDataset(edgeKeyspace())).toBe(true);
    }
  });

  it('refuses a corrupted copy, a foreign file with a bad checksum, a truncated payload and a rewritten checksum, as rdbLoad does', () => {
    const good = file();
    const flipped = Buffer.from(good);
    flipped[flipped.indexOf('c'.repeat(100))] = 0x43; // inside a value: only the checksum sees it
    const foreign = Buffer.from(good);
    foreign.writeBigUInt64LE(0x1234n, foreign.length - 8);
    const truncated = Buffer.concat([good.subarray(0, good.length - 9), Buffer.from([0xff]), Buffer.alloc(8, 1)]);
    // Our own memory with its checksum overwritten in place is no longer provably ours.
    const rewritten = file();
    rewritten.writeBigUInt64LE(rewritten.readBigUInt64LE(rewritten.length - 8) ^ 1n, rewritten.length - 8);
    expect(isOwnRdbFile(rewritten)).toBe(false);
    for (const payload of [flipped, foreign, truncated, rewritten]) {
      const { node, host } = replicaReading(payload);
      expect(loadFailure(host)).toMatch(/Wrong RDB checksum|unexpected|Unknown|unsupported/);
      expect(host.events.some((ev) => ev.kind === 'conn-closed' && ev.why === 'bad RDB')).toBe(true);
      expect(node.replState).not.toBe('connected');
      expect(node.ks.get(0, 'old')).toBeUndefined(); // disk load: flushed first, as Redis does
    }
    expect(() => parseRdb(flipped, { entry: () => true }, { trustOwnChecksum: true })).toThrow(/Wrong RDB checksum/);
  });

  it('in the world, a replica\'s payload is a view of the master\'s own memory, by disk and by socket', () => {
    for (const diskless of [false, true]) {
      const world = new World({ seed: 9, trace: null });
      const mc = defaultConfig();
      mc.replDisklessSync = diskless;
      mc.replDisklessSyncDelaySec = 0;
      world.addNode('m', mc).start();
      run(world, 100);
      command(world, 'm', 'DEBUG', 'POPULATE', '3000', 'key', '100');
      const rc = defaultConfig();
      rc.replicaof = { host: 'm', port: 6379 };
      world.addNode('r', rc).start();
      run(world, 5000);
      const r = world.slot('r').node!;
      expect(r.replState).toBe('connected');
      expect(r.ks.sameDataset(world.slot('m').node!.ks)).toBe(true);
      // repl-diskless-load disabled: the replica stored the payload it parsed, which is ours.
      expect(isOwnRdbFile(world.slot('r').readFile('dump.rdb')!)).toBe(true);
    }
  });
});
