/**
 * RdbImage: an RDB file as a disk BGSAVE (or SAVE) leaves it, written only when something reads it.
 *
 * Theory of operation. With `save 1 1` every node serialises its whole dataset about once a
 * second, and almost none of those files is ever read: the next save replaces it. Serialising
 * (copying every value, CRC-64 over the result) is wasted work for those. A lazy image captures
 * at fork time what the file depends on, the aux fields (rdbPopulateSaveInfo() as of the fork)
 * and a snapshot of the dataset (Keyspace.clone(), the fork's copy-on-write view: later writes
 * to the live keyspace do not show in it), and produces the bytes on the first bytes() call,
 * identical to what writeRdbFrom() would have written at the fork, checksum included.
 *
 * The fork's duration and the traces need the file's size at once: sizeBytes computes it from
 * the snapshot without writing (our writer does no LZF, so the size follows from rdbSaveLen()'s
 * 1/2/5/9-byte lengths, rdbTryIntegerEncoding()'s INT8/16/32 rule via rdbInt32(), 9 bytes per
 * expiry and one byte per opcode). writeRdbFrom() asserts the written length equals it.
 *
 * An RdbImage is not a Uint8Array: every reader goes through bytes(), so nobody can read a file
 * that was not produced yet. Host.writeFile() takes one; a host that stores it calls bytes()
 * only when the file is read.
 */
import { assert } from '../assert.ts';
import type { Keyspace } from './keyspace.ts';
import { rdbInt32, writeRdbFrom, type RdbDbSource } from './rdb.ts';

/** What a host's writeFile() takes: plain bytes, or an RDB image produced on demand. */
export type FileContents = Uint8Array | RdbImage;

/** The bytes of what writeFile() was given (an image is produced now if it was not yet). */
export function fileBytes(contents: FileContents): Uint8Array {
  return contents instanceof RdbImage ? contents.bytes() : contents;
}

export class RdbImage {
  private produced: Buffer | null;
  /** Until produced: the aux fields as of the fork and the dataset's snapshot. */
  private pending: { aux: ReadonlyArray<readonly [string, string]>; snapshot: Keyspace } | null;
  private sizeMemo: number;

  private constructor(produced: Buffer | null, pending: RdbImage['pending']) {
    this.produced = produced;
    this.pending = pending;
    this.sizeMemo = produced === null ? -1 : produced.length;
  }

  /** An image of bytes already written (a diskless sync's file, a test's). */
  static ofBytes(bytes: Buffer): RdbImage {
    return new RdbImage(bytes, null);
  }

  /**
   * The file writeRdbFrom(aux, keyspaceSources(snapshot)) produces, later. `snapshot` must be a
   * Keyspace.clone() nobody else holds: its entries never change afterwards.
   */
  static lazy(aux: ReadonlyArray<readonly [string, string]>, snapshot: Keyspace): RdbImage {
    return new RdbImage(null, { aux, snapshot });
  }

  /** Whether bytes() has run (tests, and readers that only want to know). */
  get isProduced(): boolean {
    return this.produced !== null;
  }

  /** The file's exact size in bytes, without producing it. */
  get sizeBytes(): number {
    if (this.sizeMemo < 0) {
      const p = this.pending!;
      this.sizeMemo = rdbFileSizeBytes(p.aux, p.snapshot);
    }
    return this.sizeMemo;
  }

  /** The file's bytes (written on the first call; the snapshot is released then). */
  bytes(): Buffer {
    if (this.produced !== null) return this.produced;
    const p = this.pending;
    assert(p !== null, 'RdbImage: neither bytes nor a snapshot');
    this.produced = writeRdbFrom(p.aux, keyspaceSources(p.snapshot), p.snapshot.totalBytes(), this.sizeBytes);
    this.pending = null;
    return this.produced;
  }
}

/** The keyspace's non-empty databases as writeRdbFrom() walks them: straight from its Maps, nothing allocated per key. */
export function keyspaceSources(ks: Keyspace): RdbDbSource[] {
  const sources: RdbDbSource[] = [];
  for (let db = 0; db < ks.dbs.length; db++) {
    const map = ks.dbs[db]!;
    if (map.size === 0) continue;
    sources.push({
      db, keys: map.size, expires: ks.expiresCount(db),
      forEach: (visit) => map.forEach((e, key) => visit(key, e.value, e.expireAtMs, e.expireAtBig)),
    });
  }
  return sources;
}

/** rdbSaveLen()'s size: 1, 2, 5 or 9 bytes. */
function lenSizeBytes(n: number): number {
  return n < 1 << 6 ? 1 : n < 1 << 14 ? 2 : n <= 0xffffffff ? 5 : 9;
}

/** rdbSaveRawString()'s size without LZF: an INT8/16/32 encoding, or the length and the bytes. */
function stringSizeBytes(s: string): number {
  const len = s.length;
  if (len <= 11) {
    const v = rdbInt32(s);
    if (v !== null) return v >= -128 && v <= 127 ? 2 : v >= -32768 && v <= 32767 ? 3 : 5;
  }
  return lenSizeBytes(len) + len;
}

/** The exact length of the file writeRdbFrom(aux, keyspaceSources(ks)) writes. */
export function rdbFileSizeBytes(aux: ReadonlyArray<readonly [string, string]>, ks: Keyspace): number {
  let size = 9; // REDIS0010
  for (const [key, value] of aux) size += 1 + stringSizeBytes(key) + stringSizeBytes(value);
  for (let db = 0; db < ks.dbs.length; db++) {
    const map = ks.dbs[db]!;
    if (map.size === 0) continue;
    const expires = ks.expiresCount(db);
    // SELECTDB <db>, RESIZEDB <keys> <expires>; per key EXPIRETIME_MS + int64, type, key, value.
    size += 1 + lenSizeBytes(db) + 1 + lenSizeBytes(map.size) + lenSizeBytes(expires) + 9 * expires + map.size;
    map.forEach((e, key) => {
      size += stringSizeBytes(key) + stringSizeBytes(e.value);
    });
  }
  return size + 1 + 8; // EOF, CRC-64
}
