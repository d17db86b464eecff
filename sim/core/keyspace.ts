/**
 * The keyspace: `databases` (default 16) databases of binary-string keys, each with an optional
 * absolute expiry.
 *
 * Theory of operation. Redis keeps two dicts per database (db.c): `dict` (key → value) and
 * `expires` (key → unix ms). We keep `dbs[db]` (key → Entry, the expiry inside the entry) and,
 * as the index that Redis's `expires` dict is, a Set per database of the keys that have an
 * expiry: INFO's `expires=` count and the active expire cycle read it. Every mutation goes through
 * the methods below so that the index and the byte count stay true; code that writes `dbs[db]`
 * directly (the RDB loader) must call rebuildIndexes() afterwards.
 *
 * clone() (a copy-on-write snapshot) is a copy of the Maps that shares the Entry objects, so an
 * entry that a clone may hold never changes. A write edits an entry in place only when the entry
 * is ours alone, which its `valueBytes` says: the value's length (>= 0) while no clone holds it;
 * clone() turns every entry's into ~length (< 0, "shared"), and a shared entry is thereafter
 * replaced, never edited. Editing in place saves the write's second hash probe (Map.set) and an
 * allocation; the stored length spares reading the old value (a cache miss) for the byte count.
 *
 * A database is a ShardedMap (sharded-map.ts): one JS Map until V8's 2^24-entry limit, more Maps
 * past it, iterated in insertion order either way. An expiry is a signed 64-bit unix-ms time, as
 * in Redis: `expireAtMs` holds it as a number (exact within ±2^53, which every real clock is),
 * and a time beyond that (PEXPIREAT k 9223372036854775807) keeps its exact value in
 * `expireAtBig` as well; comparisons with the clock use the number, replies and files the exact one.
 *
 * This file knows nothing of time or of commands: whether a key is "logically expired" is decided
 * by the caller (commands/lookup.ts mirrors expireIfNeeded()). Strings are binary strings: one JS
 * char per byte (latin1).
 */
import { assert } from '../assert.ts';
import type { Reply } from './reply.ts';
import { ShardedMap, ShardedSet, MAP_ENTRIES_MAX } from './sharded-map.ts';

export interface Entry {
  value: string;
  /** Absolute unix time in ms at which the key expires; -1 = no expiry. Rounded beyond ±2^53. */
  expireAtMs: number;
  /** The exact expiry when it lies beyond ±2^53 ms (absent otherwise). */
  expireAtBig?: bigint;
  /**
   * value.length while no clone() holds the entry (a write may then edit it in place); ~length
   * (negative) once a clone shares it. Absent (an entry made outside this file): never edited.
   */
  valueBytes?: number;
}

/** The value's length of an entry, from its tag where it has one (no read of the string). */
function valueBytesOf(e: Entry): number {
  const tag = e.valueBytes;
  return tag === undefined ? e.value.length : tag >= 0 ? tag : ~tag;
}

/** An expiry as Redis's int64: the number where exact, else a bigint. */
export type ExpireAt = number | bigint;

/** The exact expiry of an entry (-1n = none), for replies, RDB and AOF. */
export function exactExpireAt(e: { expireAtMs: number; expireAtBig?: bigint }): bigint {
  return e.expireAtBig ?? BigInt(e.expireAtMs);
}

/** The same, as text (a propagated or rewritten PEXPIREAT). */
export function exactExpireAtText(e: { expireAtMs: number; expireAtBig?: bigint }): string {
  return e.expireAtBig !== undefined ? e.expireAtBig.toString() : String(e.expireAtMs);
}

/** An int64 expiry as the number keyspace.set() takes, or the bigint where a number is inexact. */
export function expireAtFromBig(v: bigint): ExpireAt {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** Redis's `databases` default. */
export const DATABASES = 16;

export class Keyspace {
  readonly dbs: ShardedMap<string, Entry>[];
  /** The keys of each database that have an expiry (Redis's `db->expires` dict, keys only). */
  private readonly expires: ShardedSet<string>[];
  /** Per database, where the active expire cycle stopped (a live Set iterator), or null. */
  private readonly expireCursors: (IterableIterator<string> | null)[];
  private bytes = 0;
  /** Keys deleted because a lookup found them expired on a master (stat_expiredkeys, lazy part). */
  lazyExpiredKeys = 0;
  /**
   * Bumped by every change to the data (set, delete, flush, rebuild): a reader that compared two
   * datasets (`converged`) skips comparing them again while neither changed.
   */
  version = 0;
  /**
   * @param databases Redis's `databases` (SELECT accepts 0..databases-1).
   * @param shardEntriesMax keys per JS Map before a database opens another (tests lower it).
   */
  constructor(readonly databases: number = DATABASES, private readonly shardEntriesMax: number = MAP_ENTRIES_MAX) {
    assert(Number.isSafeInteger(databases) && databases >= 1, `Keyspace: bad databases ${databases}`);
    this.dbs = [];
    this.expires = [];
    this.expireCursors = [];
    for (let db = 0; db < databases; db++) {
      this.dbs.push(new ShardedMap(shardEntriesMax));
      this.expires.push(new ShardedSet(shardEntriesMax));
      this.expireCursors.push(null);
    }
  }

  /**
   * The last get(), remembered until the next change: a command that looks a key up and then
   * writes it (SET: lookupKeyWrite, then setKey) probes the hash table once, not twice.
   */
  private lastDb = -1;
  private lastKey = '';
  private lastEntry: Entry | undefined = undefined;

  /** The raw entry, expired or not (dictFind). */
  get(db: number, key: string): Entry | undefined {
    const e = this.dbs[db]!.get(key);
    this.lastDb = db;
    this.lastKey = key;
    this.lastEntry = e;
    return e;
  }

  /** Forget the remembered get() (every change calls this). */
  private changed(): void {
    this.version++;
    this.lastDb = -1;
  }

  /**
   * Insert or replace a key with its expiry (setKey + setExpire/removeExpire). The expiry is a
   * number within ±2^53, or a bigint beyond it (expireAtFromBig()).
   */
  set(db: number, key: string, value: string, expireAt: ExpireAt): void {
    const map = this.dbs[db]!;
    const old = db === this.lastDb && key === this.lastKey ? this.lastEntry : map.get(key);
    this.changed();
    if (typeof expireAt === 'number') {
      // The message is built only on failure: every SET of every node passes here.
      if (!Number.isSafeInteger(expireAt)) assert(false, `keyspace.set: bad expireAtMs ${expireAt}`);
      // valueBytes >= 0: ours alone. Edit in place, no second probe (dbOverwrite() too keeps the
      // dictEntry). (undefined >= 0 is false.)
      if (old !== undefined && (old.valueBytes as number) >= 0 && old.expireAtBig === undefined) {
        this.bytes += value.length - old.valueBytes!;
        old.value = value;
        old.valueBytes = value.length;
        const hadExpiry = old.expireAtMs !== -1;
        old.expireAtMs = expireAt;
        if (expireAt !== -1) this.expires[db]!.add(key);
        else if (hadExpiry) this.expires[db]!.delete(key);
        return;
      }
      map.set(key, { value, expireAtMs: expireAt, valueBytes: value.length });
    } else {
      assert(expireAt > 9007199254740991n || expireAt < -9007199254740991n, `keyspace.set: ${expireAt} fits a number`);
      map.set(key, { value, expireAtMs: Number(expireAt), expireAtBig: expireAt, valueBytes: value.length });
    }
    const expireAtMs = typeof expireAt === 'number' ? expireAt : Number(expireAt);
    if (old !== undefined) this.bytes -= key.length + valueBytesOf(old);
    this.bytes += key.length + value.length;
    // The index holds exactly the keys whose entry has an expiry: only those can need removing.
    if (expireAtMs === -1) {
      if (old !== undefined && old.expireAtMs !== -1) this.expires[db]!.delete(key);
    } else this.expires[db]!.add(key);
  }

  /** Replace the value, keeping the key's expiry (KEEPTTL, APPEND, INCR, SETRANGE). */
  setValueKeepTtl(db: number, key: string, value: string): void {
    const old = db === this.lastDb && key === this.lastKey ? this.lastEntry : this.dbs[db]!.get(key);
    this.set(db, key, value, old === undefined ? -1 : old.expireAtBig ?? old.expireAtMs);
  }

  /** The RDB loader's entry point (persist.ts): the same as set(). */
  restore(db: number, key: string, value: string, expireAt: ExpireAt): void {
    this.set(db, key, value, expireAt);
  }

  /**
   * The RDB loader's insert into a dataset being built (emptyLike()): one hash probe, where
   * set() needs two. False if the key was already there: a duplicate, which the loader refuses,
   * and this keyspace is then not to be used (the duplicate replaced the first value).
   */
  restoreNew(db: number, key: string, value: string, expireAt: ExpireAt): boolean {
    const map = this.dbs[db]!;
    const sizeBefore = map.size;
    let expireAtMs: number;
    if (typeof expireAt === 'number') {
      if (!Number.isSafeInteger(expireAt)) assert(false, `keyspace.restoreNew: bad expireAtMs ${expireAt}`);
      expireAtMs = expireAt;
      map.set(key, { value, expireAtMs, valueBytes: value.length });
    } else {
      assert(expireAt > 9007199254740991n || expireAt < -9007199254740991n, `keyspace.restoreNew: ${expireAt} fits a number`);
      expireAtMs = Number(expireAt);
      map.set(key, { value, expireAtMs, expireAtBig: expireAt, valueBytes: value.length });
    }
    this.changed();
    if (map.size === sizeBefore) return false;
    this.bytes += key.length + value.length;
    if (expireAtMs !== -1) this.expires[db]!.add(key);
    return true;
  }

  /** An empty keyspace shaped like this one (databases, shard size): what a load fills. */
  emptyLike(): Keyspace {
    return new Keyspace(this.databases, this.shardEntriesMax);
  }

  /**
   * emptyData() and then the whole of `loaded` (a dataset built by the RDB loader, which must not
   * be used afterwards): its Maps become ours, with no copy. The lazy-expire count stays ours.
   */
  adopt(loaded: Keyspace): void {
    assert(loaded.databases === this.databases && loaded.shardEntriesMax === this.shardEntriesMax, 'keyspace.adopt: another shape');
    this.flushAll();
    this.changed();
    for (let db = 0; db < this.databases; db++) {
      this.dbs[db] = loaded.dbs[db]!;
      this.expires[db] = loaded.expires[db]!;
      this.expireCursors[db] = null;
    }
    this.bytes = loaded.bytes;
    // The loaded keyspace keeps nothing of its own: a later use would corrupt ours.
    for (let db = 0; db < loaded.databases; db++) {
      loaded.dbs[db] = new ShardedMap(loaded.shardEntriesMax);
      loaded.expires[db] = new ShardedSet(loaded.shardEntriesMax);
    }
    loaded.bytes = 0;
    loaded.changed();
  }

  /** setExpire(): the key must exist. */
  setExpire(db: number, key: string, expireAt: ExpireAt): void {
    const old = this.dbs[db]!.get(key);
    assert(old !== undefined, 'keyspace.setExpire: no such key');
    assert(expireAt !== -1, 'keyspace.setExpire: use removeExpire');
    this.set(db, key, old.value, expireAt);
  }

  /** removeExpire(): true if the key had an expiry. */
  removeExpire(db: number, key: string): boolean {
    const old = this.dbs[db]!.get(key);
    if (old === undefined || old.expireAtMs === -1) return false;
    this.set(db, key, old.value, -1);
    return true;
  }

  /** dbSyncDelete(): true if the key existed. */
  delete(db: number, key: string): boolean {
    const map = this.dbs[db]!;
    const old = map.get(key);
    if (old === undefined) return false;
    map.delete(key);
    this.changed();
    this.bytes -= key.length + valueBytesOf(old);
    if (old.expireAtMs !== -1) this.expires[db]!.delete(key);
    return true;
  }

  /** dictSize(db->dict): logically expired keys still count, as in DBSIZE. */
  size(db: number): number {
    return this.dbs[db]!.size;
  }

  /** dictSize(db->expires), for INFO keyspace. */
  expiresCount(db: number): number {
    return this.expires[db]!.size;
  }

  keysWithExpiry(db: number): IterableIterator<string> {
    return this.expires[db]!.values();
  }

  /** Sum of key and value lengths over all databases (a stand-in for used_memory). */
  totalBytes(): number {
    return this.bytes;
  }

  /**
   * True when `other` holds exactly this dataset as DEBUG DIGEST sees it (debug.c
   * computeDatasetDigest): the same keys in every database, the same values, and an expiry on the
   * same keys (its time is not part of the digest). Logically expired keys count. One lookup per
   * key, no hashing: what `converged` compares instead of two SHA1 digests.
   */
  sameDataset(other: Keyspace): boolean {
    const dbCount = Math.max(this.dbs.length, other.dbs.length);
    for (let db = 0; db < dbCount; db++) {
      const a = this.dbs[db];
      const b = other.dbs[db];
      const aSize = a === undefined ? 0 : a.size;
      if (aSize !== (b === undefined ? 0 : b.size)) return false;
      if (aSize === 0) continue;
      for (const [key, e] of a!) {
        const f = b!.get(key);
        if (f === undefined || f.value !== e.value || (f.expireAtMs === -1) !== (e.expireAtMs === -1)) return false;
      }
    }
    return true;
  }

  /** Number of keys in all databases. */
  totalKeys(): number {
    let n = 0;
    for (const map of this.dbs) n += map.size;
    return n;
  }

  /** emptyData() for one database; returns the number of keys removed. */
  flushDb(db: number): number {
    const map = this.dbs[db]!;
    const removed = map.size;
    this.changed();
    map.forEach((e, key) => (this.bytes -= key.length + valueBytesOf(e)));
    map.clear();
    this.expires[db]!.clear();
    this.expireCursors[db] = null;
    return removed;
  }

  /** emptyData(-1); returns the number of keys removed. */
  flushAll(): number {
    let removed = 0;
    for (let db = 0; db < this.databases; db++) removed += this.flushDb(db);
    assert(this.bytes === 0, `keyspace.flushAll: byte count ${this.bytes} after flush`);
    return removed;
  }

  /**
   * A snapshot for the BGSAVE child: later writes to either copy do not show in the other, nor in
   * any entry the snapshot holds. Every entry is now shared, and tagged so (valueBytes < 0):
   * neither copy edits one of them again.
   */
  clone(): Keyspace {
    const copy = new Keyspace(this.databases, this.shardEntriesMax);
    for (let db = 0; db < this.databases; db++) {
      const to = copy.dbs[db]!;
      this.dbs[db]!.forEach((e, key) => {
        const tag = e.valueBytes;
        if (tag !== undefined && tag >= 0) e.valueBytes = ~tag;
        to.set(key, e);
      });
      for (const key of this.expires[db]!) copy.expires[db]!.add(key);
    }
    copy.bytes = this.bytes;
    return copy;
  }

  /** Recompute the expiry index and byte count after `dbs` was written directly. */
  rebuildIndexes(): void {
    this.bytes = 0;
    this.changed();
    for (let db = 0; db < this.databases; db++) {
      const set = this.expires[db]!;
      set.clear();
      this.expireCursors[db] = null;
      for (const [key, e] of this.dbs[db]!) {
        this.bytes += key.length + e.value.length;
        if (e.expireAtMs !== -1) set.add(key);
      }
    }
  }

  /**
   * The next key with an expiry in `db`, continuing where the previous call stopped, or null
   * when one pass over the index is complete (the next call starts a new pass). The index's
   * iterator stays valid while it changes: deleted keys are skipped, new ones visited.
   */
  nextExpiryKey(db: number): string | null {
    let it = this.expireCursors[db];
    if (it === null) {
      it = this.expires[db]!.values();
      this.expireCursors[db] = it;
    }
    const r = it.next();
    if (r.done === true) {
      this.expireCursors[db] = null;
      return null;
    }
    return r.value;
  }
}

/**
 * Who is looking at the keyspace, as Redis 7.0 expireIfNeeded() distinguishes it: a master deletes
 * an expired key it meets and propagates DEL; a replica never deletes (its master will send the
 * DEL): to its own clients the key is missing, to its master link it still exists.
 */
export type ExpiryView = 'master' | 'replica-client' | 'replica-master-link';

export interface DataContext {
  ks: Keyspace;
  db: number;
  /** The node's unix clock in ms; fixed for the whole command (server.mstime, fixed_time_expire). */
  nowMs: number;
  view: ExpiryView;
  /** Append an effect command to the replication stream (in db = ctx.db). */
  propagate(argv: string[]): void;
}

export interface DataCommand {
  /** Lowercase command name. */
  name: string;
  /** Redis's convention: N = exactly N args including the name; -N = at least N. */
  arity: number;
  /** Flagged `write` in Redis's command table (a read-only replica refuses it). */
  write: boolean;
  run(ctx: DataContext, argv: string[]): Reply;
}
