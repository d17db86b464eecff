/**
 * The full sync's data path without per-key copies: the BGSAVE writes from the keyspace's walks
 * (writeRdbFrom), the replica parses straight into a new dataset (parseRdb + Keyspace.restoreNew)
 * and adopts it, and the payload is a view of the master's file when it arrived as consecutive
 * subarrays (joinChunks). Each must give exactly what the array-of-entries path gave.
 */
import { describe, expect, it } from 'vitest';
import { Keyspace } from '../sim/core/keyspace.ts';
import { parseRdb, readRdb, writeRdb, writeRdbFrom, RdbFormatError } from '../sim/core/rdb.ts';
import type { RdbContents, RdbDbSource } from '../sim/core/rdb.ts';
import { joinChunks } from '../sim/core/bytequeue.ts';
import { World } from '../sim/world/world.ts';
import { defaultConfig } from '../sim/core/config.ts';
import type { Reply } from '../sim/core/reply.ts';

const AUX: Array<[string, string]> = [['redis-ver', '7.0.15'], ['redis-bits', '64']];

function sampleKeyspace(): Keyspace {
  const ks = new Keyspace();
  ks.set(0, 'a', 'x'.repeat(40), -1);
  ks.set(0, '123', '456', 1_800_000_000_000);
  ks.set(0, 'b', '', -1);
  ks.set(3, 'far', 'v', 9223372036854775807n);
  ks.set(3, 'past', '\u0000\u00ff', -5);
  return ks;
}

function sourcesOf(ks: Keyspace): RdbDbSource[] {
  const out: RdbDbSource[] = [];
  for (let db = 0; db < ks.databases; db++) {
    const map = ks.dbs[db]!;
    if (map.size === 0) continue;
    out.push({ db, keys: map.size, expires: ks.expiresCount(db), forEach: (visit) => map.forEach((e, k) => visit(k, e.value, e.expireAtMs, e.expireAtBig)) });
  }
  return out;
}

function contentsOf(ks: Keyspace): RdbContents {
  const c: RdbContents = { aux: AUX, dbs: [] };
  for (let db = 0; db < ks.databases; db++) {
    if (ks.dbs[db]!.size === 0) continue;
    c.dbs.push({ db, entries: [...ks.dbs[db]!].map(([key, e]) => ({ key, value: e.value, expireAtMs: e.expireAtMs, expireAtBig: e.expireAtBig })) });
  }
  return c;
}

describe('full sync data path', () => {
  it('writeRdbFrom over the keyspace writes the bytes writeRdb writes for the same entries', () => {
    const ks = sampleKeyspace();
    const direct = writeRdbFrom(AUX, sourcesOf(ks), ks.totalBytes());
    expect(direct.equals(writeRdb(contentsOf(ks)))).toBe(true);
    ks.set(0, 'a', 'changed', -1);
    expect(writeRdbFrom(AUX, sourcesOf(ks), ks.totalBytes()).equals(direct)).toBe(false);
  });

  it('writeRdbFrom refuses a database whose announced expiry count is wrong', () => {
    const ks = sampleKeyspace();
    const wrong = sourcesOf(ks).map((s) => ({ ...s, expires: s.expires + 1 }));
    expect(() => writeRdbFrom(AUX, wrong, ks.totalBytes())).toThrow(/announced 2 expires, holds 1/);
  });

  it('parseRdb into a new keyspace, adopted, holds what readRdb reads, in the same order', () => {
    const file = writeRdb(contentsOf(sampleKeyspace()));
    const target = new Keyspace();
    target.set(5, 'old', 'gone', 1_900_000_000_000);
    const loaded = target.emptyLike();
    const aux = parseRdb(file, { entry: (db, k, v, ms, big) => loaded.restoreNew(db, k, v, big ?? ms) });
    expect(aux).toEqual(AUX);
    const versionBefore = target.version;
    target.adopt(loaded);
    expect(target.version).toBeGreaterThan(versionBefore);
    expect(target.get(5, 'old')).toBeUndefined();
    expect(target.expiresCount(5)).toBe(0);
    expect(contentsOf(target)).toEqual({ aux: AUX, dbs: readRdb(file).dbs.map((d) => ({ db: d.db, entries: d.entries.map((e) => ({ ...e, expireAtBig: e.expireAtBig })) })) });
    expect(target.sameDataset(sampleKeyspace())).toBe(true);
    expect(target.totalBytes()).toBe(sampleKeyspace().totalBytes());
    expect([target.nextExpiryKey(3), target.nextExpiryKey(3), target.nextExpiryKey(3)]).toEqual(['far', 'past', null]);
    // The adopted keyspace keeps nothing: writing to it cannot reach the target.
    expect(loaded.totalKeys()).toBe(0);
    loaded.set(0, 'a', 'leak', -1);
    expect(target.get(0, 'a')!.value).toBe('x'.repeat(40));
  });

  it('a duplicated key is refused with Redis\'s message, by readRdb and by a restoreNew sink alike', () => {
    const c: RdbContents = { aux: [], dbs: [{ db: 2, entries: [{ key: 'k', value: '1', expireAtMs: -1 }, { key: 'k', value: '2', expireAtMs: -1 }] }] };
    const file = writeRdb(c);
    expect(() => readRdb(file)).toThrow(RdbFormatError);
    expect(() => readRdb(file)).toThrow("RDB has duplicated key 'k' in DB 2");
    const ks = new Keyspace();
    expect(() => parseRdb(file, { entry: (db, k, v, ms, big) => ks.restoreNew(db, k, v, big ?? ms) })).toThrow("RDB has duplicated key 'k' in DB 2");
    expect(new Keyspace().restoreNew(0, 'k', 'v', -1)).toBe(true);
  });

  it('joinChunks returns a view for consecutive subarrays of one buffer, a copy otherwise', () => {
    const file = Buffer.from('0123456789abcdef');
    const view = joinChunks([file.subarray(0, 5), file.subarray(5, 9), file.subarray(9)], 16);
    expect(view.buffer).toBe(file.buffer);
    expect(view.byteOffset).toBe(file.byteOffset);
    expect(view.toString()).toBe('0123456789abcdef');
    const gap = joinChunks([file.subarray(0, 5), file.subarray(6, 9)], 8);
    expect(gap.toString()).toBe('01234678');
    expect(gap.buffer === file.buffer && gap.byteOffset === file.byteOffset).toBe(false);
    const other = joinChunks([file.subarray(0, 4), Buffer.from('4567')], 8);
    expect(other.toString()).toBe('01234567');
    expect(joinChunks([], 0).length).toBe(0);
  });

  it('a disk-based full sync: the replica holds the master\'s dataset and shares its file\'s bytes', () => {
    const world = new World({ seed: 7, trace: null });
    const mc = defaultConfig();
    mc.replDisklessSync = false;
    world.addNode('m', mc).start();
    let reply: Reply | null = null;
    world.slot('m').command(world.newClientId(), ['DEBUG', 'POPULATE', '2000', 'key', '100'], (r) => (reply = r));
    world.engine.runUntil(world.engine.nowUs + 1_000_000);
    expect(reply).toEqual({ kind: 'status', text: 'OK' });
    const m = world.slot('m').node!;
    expect(m.ks.get(0, 'key:7')!.value).toBe('value:7' + '\0'.repeat(93));
    const rc = defaultConfig();
    rc.replicaof = { host: 'm', port: 6379 };
    world.addNode('r', rc).start();
    world.engine.runUntil(world.engine.nowUs + 10_000_000);
    const r = world.slot('r').node!;
    expect(r.replState).toBe('connected');
    expect(r.ks.totalKeys()).toBe(2000);
    expect(r.ks.sameDataset(m.ks)).toBe(true);
    const mFile = world.slot('m').readFile('dump.rdb')!;
    const rFile = world.slot('r').readFile('dump.rdb')!;
    expect(Buffer.from(rFile).equals(Buffer.from(mFile))).toBe(true);
    expect(rFile.buffer).toBe(mFile.buffer); // no copy between the master's file and the replica's
  });
});
