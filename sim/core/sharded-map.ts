/**
 * A Map and a Set that hold more than V8's 2^24 entries, for the keyspace.
 *
 * Theory of operation. V8 refuses to grow one Map or Set past 16,777,216 entries ("Map maximum
 * size exceeded"); Redis's dict has no such limit, so `DEBUG POPULATE 20000000` must work. A
 * ShardedMap is a list of Maps ("shards"). A new key always goes into the last shard, and a new
 * shard is opened when the last one is full, so iterating the shards in turn visits the keys in
 * insertion order, exactly as one Map would (deleting a key and adding it again moves it to the
 * end, as in a Map). Updating an existing key updates it in the shard that holds it.
 *
 * The hot path is one Map: while a database holds fewer than `shardEntriesMax` keys, every
 * method is a call on `first` plus one length test. Shards emptied by deletes are kept (an
 * iterator may be walking them) until clear(): a database that once went past 2^24 keys pays one
 * extra lookup per shard for the rest of its life, a price only such a database pays.
 *
 * Iteration is live, as a Map's: keys added during an iteration are visited, deleted ones skipped,
 * including across shards (the shard list is read by index as the walk proceeds).
 */

/** V8's limit on entries in one Map or Set (OrderedHashTable's maximum capacity). */
export const MAP_ENTRIES_MAX = 1 << 24;

export class ShardedMap<K, V> {
  private first = new Map<K, V>();
  /** Further shards, in insertion order; empty for every database below the limit. */
  private rest: Map<K, V>[] = [];
  private count = 0;

  constructor(private readonly shardEntriesMax: number = MAP_ENTRIES_MAX) {}

  get size(): number {
    return this.rest.length === 0 ? this.first.size : this.count;
  }

  get(key: K): V | undefined {
    const v = this.first.get(key);
    if (v !== undefined || this.rest.length === 0) return v;
    for (const s of this.rest) {
      const w = s.get(key);
      if (w !== undefined) return w;
    }
    return undefined;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  set(key: K, value: V): this {
    if (this.rest.length === 0 && (this.first.size < this.shardEntriesMax || this.first.has(key))) {
      this.first.set(key, value);
      return this;
    }
    // Slow path: past the first shard's capacity.
    const holder = this.shardOf(key);
    if (holder !== null) {
      holder.set(key, value);
      return this;
    }
    if (this.rest.length === 0) this.count = this.first.size;
    let last = this.rest.length === 0 ? this.first : this.rest[this.rest.length - 1]!;
    if (last.size >= this.shardEntriesMax) {
      last = new Map<K, V>();
      this.rest.push(last);
    }
    last.set(key, value);
    this.count++;
    return this;
  }

  delete(key: K): boolean {
    if (this.rest.length === 0) return this.first.delete(key);
    const holder = this.shardOf(key);
    if (holder === null) return false;
    holder.delete(key);
    this.count--;
    return true;
  }

  clear(): void {
    this.first.clear();
    this.rest = [];
    this.count = 0;
  }

  /** How many Maps hold this database (1 below the limit); for tests. */
  get shardCount(): number {
    return 1 + this.rest.length;
  }

  /** Every entry in insertion order, without an [key, value] array per entry (Map.forEach). */
  forEach(visit: (value: V, key: K) => void): void {
    this.first.forEach(visit);
    for (let i = 0; i < this.rest.length; i++) this.rest[i]!.forEach(visit);
  }

  *entries(): IterableIterator<[K, V]> {
    yield* this.first.entries();
    for (let i = 0; i < this.rest.length; i++) yield* this.rest[i]!.entries();
  }

  *keys(): IterableIterator<K> {
    yield* this.first.keys();
    for (let i = 0; i < this.rest.length; i++) yield* this.rest[i]!.keys();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.rest.length === 0 ? this.first.entries() : this.entries();
  }

  private shardOf(key: K): Map<K, V> | null {
    if (this.first.has(key)) return this.first;
    for (const s of this.rest) if (s.has(key)) return s;
    return null;
  }
}

/** A Set of more than 2^24 keys: a ShardedMap whose values are unused. */
export class ShardedSet<K> {
  private readonly map: ShardedMap<K, true>;

  constructor(shardEntriesMax: number = MAP_ENTRIES_MAX) {
    this.map = new ShardedMap<K, true>(shardEntriesMax);
  }

  get size(): number {
    return this.map.size;
  }

  has(key: K): boolean {
    return this.map.get(key) !== undefined;
  }

  add(key: K): this {
    this.map.set(key, true);
    return this;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  /** A live iterator, as Set.prototype.values(). */
  values(): IterableIterator<K> {
    return this.map.keys();
  }

  [Symbol.iterator](): IterableIterator<K> {
    return this.map.keys();
  }
}
