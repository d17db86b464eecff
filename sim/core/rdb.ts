/**
 * RDB files, version 10 (what Redis 7.0 writes as "REDIS0010"), for a string-only keyspace.
 *
 * Theory of operation. writeRdb() mirrors rdbSaveRio() in redis src/rdb.c:
 *   magic "REDIS0010"; AUX fields in the order the caller gives (Redis: redis-ver, redis-bits,
 *   ctime, used-mem, [repl-stream-db, repl-id, repl-offset], aof-base); for each non-empty DB
 *   SELECTDB <db>, RESIZEDB <keys> <expires>, then per key [EXPIRETIME_MS <int64 LE>], type 0,
 *   key, value; EOF; and the CRC-64 of everything before it as 8 little-endian bytes.
 * Every string goes through rdbSaveRawString()'s rules: a string of up to 11 bytes that
 * string2ll() accepts and that fits 32 bits is stored as INT8/16/32 (so "64" and ctime values
 * become integers, exactly as Redis writes them), anything else verbatim with its length.
 * Simplification: no LZF compression on write (Redis compresses strings over 20 bytes when
 * rdbcompression is on), so our files can be larger than Redis's for the same data. The
 * result is still a valid RDB that redis-server and redis-check-rdb load.
 *
 * readRdb() mirrors rdbLoadRioWithLoadingCtx(): it accepts any RDB 1..10 file that holds only
 * strings, with every length and string encoding (6/14/32/64-bit lengths, INT8/16/32, LZF),
 * the opcodes AUX, SELECTDB, RESIZEDB, EXPIRETIME (seconds), EXPIRETIME_MS, IDLE and FREQ
 * (skipped), MODULE_AUX (skipped the way redis-check-rdb does), FUNCTION/FUNCTION2 (skipped:
 * we do not run functions), and verifies the checksum (a stored 0 means "checksum disabled").
 * It does not expire keys: the caller decides, as Redis does per role.
 * Divergence: Redis ignores bytes after the checksum; we refuse them, because in this
 * simulator they can only mean a framing bug (e.g. an EOF mark left on the payload).
 */
import { assert } from '../assert.ts';
import { Crc64 } from './crc64.ts';
import { LzfError, lzfDecompress } from './lzf.ts';
import { string2ll } from './resp.ts';

/** expireAtMs -1 = no expiry; expireAtBig holds the exact time beyond ±2^53 ms (keyspace.ts Entry). */
export interface RdbEntry { key: string; value: string; expireAtMs: number; expireAtBig?: bigint }
export interface RdbDb { db: number; entries: RdbEntry[] }
export interface RdbContents { aux: Array<[string, string]>; dbs: RdbDb[] } // aux in file order

/** The file is not an RDB we can load. The message says why. */
export class RdbFormatError extends Error {
  override name = 'RdbFormatError';
}

export const RDB_VERSION = 10;

// Opcodes and encodings from redis src/rdb.h.
const OPCODE_FUNCTION2 = 245;
const OPCODE_FUNCTION_PRE_GA = 246;
const OPCODE_MODULE_AUX = 247;
const OPCODE_IDLE = 248;
const OPCODE_FREQ = 249;
const OPCODE_AUX = 250;
const OPCODE_RESIZEDB = 251;
const OPCODE_EXPIRETIME_MS = 252;
const OPCODE_EXPIRETIME = 253;
const OPCODE_SELECTDB = 254;
const OPCODE_EOF = 255;
const TYPE_STRING = 0;
const LEN_32BIT = 0x80;
const LEN_64BIT = 0x81;
const ENC_INT8 = 0;
const ENC_INT16 = 1;
const ENC_INT32 = 2;
const ENC_LZF = 3;
const MODULE_OPCODE_EOF = 0;
const MODULE_OPCODE_SINT = 1;
const MODULE_OPCODE_UINT = 2;
const MODULE_OPCODE_FLOAT = 3;
const MODULE_OPCODE_DOUBLE = 4;
const MODULE_OPCODE_STRING = 5;

// ---------------------------------------------------------------------------------------------
// Writing.

/** Node's Buffer methods behind write(s, at, 'latin1') and toString('latin1', start, end). */
interface LatinBuffer extends Buffer {
  latin1Write(s: string, at: number, length: number): number;
  latin1Slice(start: number, end: number): string;
}
/** Node has them; the browser lab's `buffer` package does not (it gets write/toString). */
const nodeLatin1 = typeof (Buffer.prototype as Partial<LatinBuffer>).latin1Write === 'function' &&
  typeof (Buffer.prototype as Partial<LatinBuffer>).latin1Slice === 'function';

/** An append-only byte buffer that doubles when full (sized up front by writeRdb, so it rarely does). */
class Writer {
  buf: Buffer;
  at = 0;

  constructor(initialBytes = 4096) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  latin1(s: string): void {
    const len = s.length;
    this.room(len);
    if (len <= 32) {
      // Byte by byte: a Buffer.write() call costs more than the copy for short strings.
      const buf = this.buf;
      let at = this.at;
      for (let j = 0; j < len; j++) buf[at++] = s.charCodeAt(j);
      this.at = at;
    } else {
      // Buffer#latin1Write, what write(s, at, 'latin1') calls after parsing its arguments.
      this.at += nodeLatin1 ? (this.buf as LatinBuffer).latin1Write(s, this.at, len) : this.buf.write(s, this.at, 'latin1');
    }
  }

  /** rdbSaveLen(): 6-bit, 14-bit, 32-bit big-endian or 64-bit big-endian length. */
  len(n: number): void {
    // The message is built only on failure: this runs twice per key.
    if (!(Number.isSafeInteger(n) && n >= 0)) assert(false, `rdb: bad length ${n}`);
    this.room(9);
    if (n < 1 << 6) {
      this.buf[this.at++] = n;
    } else if (n < 1 << 14) {
      this.buf[this.at++] = 0x40 | (n >>> 8);
      this.buf[this.at++] = n & 0xff;
    } else if (n <= 0xffffffff) {
      this.buf[this.at++] = LEN_32BIT;
      this.buf.writeUInt32BE(n, this.at);
      this.at += 4;
    } else {
      this.buf[this.at++] = LEN_64BIT;
      this.buf.writeBigUInt64BE(BigInt(n), this.at);
      this.at += 8;
    }
  }

  /** rdbSaveRawString(): integer encoding when it applies, else length + bytes. */
  string(s: string): void {
    if (s.length <= 11) {
      const v = rdbInt32(s);
      if (v !== null) {
        // rdbEncodeInteger(): the smallest of INT8 / INT16 / INT32.
        this.room(5);
        if (v >= -128 && v <= 127) {
          this.buf[this.at++] = 0xc0 | ENC_INT8;
          this.buf.writeInt8(v, this.at);
          this.at += 1;
        } else if (v >= -32768 && v <= 32767) {
          this.buf[this.at++] = 0xc0 | ENC_INT16;
          this.buf.writeInt16LE(v, this.at);
          this.at += 2;
        } else {
          this.buf[this.at++] = 0xc0 | ENC_INT32;
          this.buf.writeInt32LE(v, this.at);
          this.at += 4;
        }
        return;
      }
    }
    this.len(s.length);
    this.latin1(s);
  }

  /** rdbSaveMillisecondTime(): int64 little-endian. */
  int64LE(v: number | bigint): void {
    if (!(typeof v === 'bigint' || Number.isSafeInteger(v))) assert(false, `rdb: bad time ${v}`);
    this.room(8);
    this.buf.writeBigInt64LE(BigInt(v), this.at);
    this.at += 8;
  }
}

/**
 * rdbTryIntegerEncoding(): the value a string of up to 11 bytes is stored as (INT8/16/32), or
 * null when it is stored verbatim. Shared with the size computation (rdb-image.ts).
 */
export function rdbInt32(s: string): number | null {
  if (s.length > 11 || s.length === 0) return null;
  // Most keys start with a letter: answer before string2ll() copies the string into a Buffer.
  const first = s.charCodeAt(0);
  if (first !== 0x2d && (first < 0x30 || first > 0x39)) return null;
  const v = string2ll(s);
  return v !== null && v >= -2147483648 && v <= 2147483647 ? v : null;
}

/**
 * One database as writeRdbFrom() reads it: its key and expiry counts (RESIZEDB) and a walk over
 * its keys in order. A walk by callback, not an array of entries: the BGSAVE of a 1M-key dataset
 * then allocates nothing per key (rdbSnapshot walks the keyspace's Maps directly).
 */
export interface RdbDbSource {
  readonly db: number;
  readonly keys: number;
  readonly expires: number;
  forEach(visit: (key: string, value: string, expireAtMs: number, expireAtBig: bigint | undefined) => void): void;
}

/** The RDB file Redis 7.0 would write for this dataset (without LZF compression). */
export function writeRdb(contents: RdbContents): Buffer {
  // An upper bound of the file's size, so the buffer never grows (each growth copied the whole
  // file so far).
  let dataBytes = 0;
  const sources: RdbDbSource[] = [];
  for (const db of contents.dbs) {
    let expires = 0;
    for (const e of db.entries) {
      dataBytes += e.key.length + e.value.length;
      if (e.expireAtMs !== -1) expires++;
    }
    sources.push({
      db: db.db, keys: db.entries.length, expires,
      forEach: (visit) => { for (const e of db.entries) visit(e.key, e.value, e.expireAtMs, e.expireAtBig); },
    });
  }
  return writeRdbFrom(contents.aux, sources, dataBytes);
}

/**
 * writeRdb() over databases given as walks; `dataBytes` is at least the sum of every key's and
 * value's length (Keyspace.totalBytes()), for the size bound. `exactBytes`, when the caller knows
 * the file's size (rdb-image.ts), sizes the buffer exactly.
 */
export function writeRdbFrom(aux: ReadonlyArray<readonly [string, string]>, dbs: readonly RdbDbSource[], dataBytes: number, exactBytes?: number): Buffer {
  const w = new Writer(exactBytes ?? sizeBound(aux, dbs, dataBytes));
  const size = writeFile(w, aux, dbs);
  if (exactBytes !== undefined && size !== exactBytes) assert(false, `writeRdbFrom: wrote ${size} bytes, ${exactBytes} announced`);
  // The bound is loose for small values (integers, short strings): copy when it wasted much.
  const rdb = size * 2 < w.buf.length ? Buffer.from(w.buf.subarray(0, size)) : w.buf.subarray(0, size);
  rememberOwn(rdb);
  return rdb;
}

/**
 * The same file inside a frame: `head` before it and `tail` after it (latin1), in one buffer,
 * as rdbSaveToSlavesSockets() sends it ($EOF:<mark>\r\n, the RDB, the mark). `rdb` is a view of
 * `payload` (no copy of the file into a second buffer).
 */
export function writeRdbFramed(aux: ReadonlyArray<readonly [string, string]>, dbs: readonly RdbDbSource[], dataBytes: number, head: string, tail: string): { payload: Buffer; rdb: Buffer } {
  const w = new Writer(head.length + sizeBound(aux, dbs, dataBytes) + tail.length);
  w.latin1(head);
  const size = writeFile(w, aux, dbs) - head.length;
  w.latin1(tail);
  let payload = w.buf.subarray(0, w.at);
  if (payload.length * 2 < w.buf.length) payload = Buffer.from(payload);
  const rdb = payload.subarray(head.length, head.length + size);
  rememberOwn(rdb);
  return { payload, rdb };
}

/** An upper bound of the file's size, so the buffer never grows (each growth copied the whole file so far). */
function sizeBound(aux: ReadonlyArray<readonly [string, string]>, dbs: readonly RdbDbSource[], dataBytes: number): number {
  // Per key at most an expiry (9 bytes), a type byte, two 9-byte lengths.
  let bound = 64 + 8 + dataBytes;
  for (const [key, value] of aux) bound += 1 + 18 + key.length + value.length;
  for (const db of dbs) bound += 1 + 9 + 1 + 18 + db.keys * (9 + 1 + 18);
  return bound;
}

/** Appends the whole file, checksum included, to `w`; returns w.at after it. */
function writeFile(w: Writer, aux: ReadonlyArray<readonly [string, string]>, dbs: readonly RdbDbSource[]): number {
  const start = w.at;
  w.latin1(`REDIS${String(RDB_VERSION).padStart(4, '0')}`);
  for (const [key, value] of aux) {
    w.byte(OPCODE_AUX);
    w.string(key);
    w.string(value);
  }
  const seenDbs = new Set<number>();
  // rdbSaveKeyValuePair(): expire, then type, key, value. No IDLE/FREQ: maxmemory-policy noeviction.
  let expiresSeen = 0;
  const visit = (key: string, value: string, expireAtMs: number, expireAtBig: bigint | undefined): void => {
    if (expireAtMs !== -1) {
      expiresSeen++;
      // Any int64, as rdbSaveMillisecondTime() writes it: a writable replica may hold a past time.
      w.byte(OPCODE_EXPIRETIME_MS);
      w.int64LE(expireAtBig ?? expireAtMs);
    }
    w.byte(TYPE_STRING);
    w.string(key);
    w.string(value);
  };
  for (const db of dbs) {
    assert(Number.isSafeInteger(db.db) && db.db >= 0, `writeRdb: bad db number ${db.db}`);
    assert(!seenDbs.has(db.db), `writeRdb: db ${db.db} listed twice`);
    seenDbs.add(db.db);
    if (db.keys === 0) continue; // rdbSaveDb() skips empty databases.
    w.byte(OPCODE_SELECTDB);
    w.len(db.db);
    w.byte(OPCODE_RESIZEDB);
    w.len(db.keys);
    w.len(db.expires);
    expiresSeen = 0;
    db.forEach(visit);
    if (expiresSeen !== db.expires) assert(false, `writeRdb: db ${db.db} announced ${db.expires} expires, holds ${expiresSeen}`);
  }
  w.byte(OPCODE_EOF);
  const crc = new Crc64().update(w.buf, start, w.at);
  w.room(8);
  crc.writeLE(w.buf, w.at);
  w.at += 8;
  return w.at;
}

/**
 * The files writeRdbFrom()/writeRdbFramed() produced, by their memory (ArrayBuffer, then
 * byteOffset → length and the checksum written): a replica handed a view of exactly that memory
 * (the network and ByteQueue pass views, never copies, of what a master sent) has bytes whose
 * checksum we computed ourselves. Ownership rule, as for ByteQueue: nobody writes into a buffer
 * the writer returned. Weak: a file forgotten by everyone leaves the table with its memory.
 */
const ownFiles = new WeakMap<ArrayBufferLike, Map<number, { sizeBytes: number; crc: bigint }>>();

function rememberOwn(rdb: Buffer): void {
  let byOffset = ownFiles.get(rdb.buffer);
  if (byOffset === undefined) {
    byOffset = new Map();
    ownFiles.set(rdb.buffer, byOffset);
  }
  byOffset.set(rdb.byteOffset, { sizeBytes: rdb.length, crc: rdb.readBigUInt64LE(rdb.length - 8) });
}

/**
 * True when `bytes` is exactly a file our writer produced and checksummed: the same memory, the
 * same length, and its last 8 bytes still the checksum written there.
 */
export function isOwnRdbFile(bytes: Uint8Array): boolean {
  const own = ownFiles.get(bytes.buffer)?.get(bytes.byteOffset);
  if (own === undefined || own.sizeBytes !== bytes.length || bytes.length < 8) return false;
  const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return view.readBigUInt64LE(bytes.length - 8) === own.crc;
}

// ---------------------------------------------------------------------------------------------
// Reading.

class Reader {
  at = 0;
  constructor(readonly buf: Buffer) {}

  need(n: number, what: string): void {
    if (this.at + n > this.buf.length) throw new RdbFormatError(`unexpected end of file reading ${what} at offset ${this.at}`);
  }

  byte(what: string): number {
    this.need(1, what);
    return this.buf[this.at++]!;
  }

  /** Set by lenOrEncoding(): the value read is a special string encoding, not a length. */
  encoded = false;

  /**
   * rdbLoadLenByRef(): a length, or (then `encoded` is true) a special string encoding number.
   * A field rather than a returned object: this runs twice per key.
   */
  lenOrEncoding(what: string): number {
    const b = this.byte(what);
    this.encoded = false;
    switch (b >>> 6) {
      case 3: this.encoded = true; return b & 0x3f;
      case 0: return b & 0x3f;
      case 1: return ((b & 0x3f) << 8) | this.byte(what);
      default:
        break;
    }
    if (b === LEN_32BIT) {
      this.need(4, what);
      const v = this.buf.readUInt32BE(this.at);
      this.at += 4;
      return v;
    }
    if (b === LEN_64BIT) {
      this.need(8, what);
      const v = this.buf.readBigUInt64BE(this.at);
      this.at += 8;
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RdbFormatError(`length ${v} too large in ${what}`);
      return Number(v);
    }
    throw new RdbFormatError(`Unknown length encoding ${b >>> 6} in rdbLoadLen() (${what}, byte 0x${b.toString(16)})`);
  }

  len(what: string): number {
    const value = this.lenOrEncoding(what);
    if (this.encoded) throw new RdbFormatError(`unexpected string encoding where a length was expected (${what})`);
    return value;
  }

  /** rdbGenericLoadStringObject(): raw, integer-encoded or LZF-compressed, as a binary string. */
  string(what: string): string {
    const value = this.lenOrEncoding(what);
    if (!this.encoded) {
      this.need(value, what);
      // Buffer#latin1Slice, what toString('latin1', start, end) calls after checking its arguments.
      const end = this.at + value;
      const s = nodeLatin1 ? (this.buf as LatinBuffer).latin1Slice(this.at, end) : this.buf.toString('latin1', this.at, end);
      this.at += value;
      return s;
    }
    switch (value) {
      case ENC_INT8: {
        this.need(1, what);
        const v = this.buf.readInt8(this.at);
        this.at += 1;
        return String(v);
      }
      case ENC_INT16: {
        this.need(2, what);
        const v = this.buf.readInt16LE(this.at);
        this.at += 2;
        return String(v);
      }
      case ENC_INT32: {
        this.need(4, what);
        const v = this.buf.readInt32LE(this.at);
        this.at += 4;
        return String(v);
      }
      case ENC_LZF: {
        const compressedBytes = this.len(what);
        const plainBytes = this.len(what);
        this.need(compressedBytes, what);
        let plain: Buffer;
        try {
          plain = lzfDecompress(this.buf.subarray(this.at, this.at + compressedBytes), plainBytes);
        } catch (e) {
          if (!(e instanceof LzfError)) throw e;
          throw new RdbFormatError(`Invalid LZF compressed string (${what}): ${e.message}`);
        }
        this.at += compressedBytes;
        return plain.toString('latin1');
      }
      default:
        throw new RdbFormatError(`Unknown RDB string encoding type ${value} (${what})`);
    }
  }

  skip(n: number, what: string): void {
    this.need(n, what);
    this.at += n;
  }
}

/**
 * Skips a module AUX payload the way redis-check-rdb does (rdbLoadCheckModuleValue()): a
 * sequence of typed values ending with the module EOF opcode.
 */
function skipModuleAux(r: Reader): void {
  r.len('module id');
  const whenOpcode = r.len('module aux when opcode');
  if (whenOpcode !== MODULE_OPCODE_UINT) throw new RdbFormatError('bad when_opcode in MODULE_AUX');
  r.len('module aux when');
  for (;;) {
    const op = r.len('module value opcode');
    switch (op) {
      case MODULE_OPCODE_EOF: return;
      case MODULE_OPCODE_SINT:
      case MODULE_OPCODE_UINT: r.len('module integer'); break;
      case MODULE_OPCODE_FLOAT: r.skip(4, 'module float'); break;
      case MODULE_OPCODE_DOUBLE: r.skip(8, 'module double'); break;
      case MODULE_OPCODE_STRING: r.string('module string'); break;
      default: throw new RdbFormatError(`unknown module value opcode ${op} in MODULE_AUX`);
    }
  }
}

/**
 * Where parseRdb() puts each key: `entry` returns false when `db` already holds `key` (the file
 * is refused: rdbLoadRio()'s "Duplicated key found in RDB file").
 */
export interface RdbSink {
  entry(db: number, key: string, value: string, expireAtMs: number, expireAtBig: bigint | undefined): boolean;
}

/** Parse an RDB file into RdbContents. Throws RdbFormatError on anything we cannot load. */
export function readRdb(bytes: Uint8Array): RdbContents {
  const dbs: RdbDb[] = [];
  const dbsByNumber = new Map<number, { db: RdbDb; keys: Set<string> }>();
  let last: { db: RdbDb; keys: Set<string> } | null = null;
  const aux = parseRdb(bytes, {
    entry(db, key, value, expireAtMs, expireAtBig) {
      let d = last !== null && last.db.db === db ? last : dbsByNumber.get(db);
      if (d === undefined) {
        d = { db: { db, entries: [] }, keys: new Set() };
        dbsByNumber.set(db, d);
        dbs.push(d.db);
      }
      last = d;
      if (d.keys.has(key)) return false;
      d.keys.add(key);
      d.db.entries.push(expireAtBig === undefined ? { key, value, expireAtMs } : { key, value, expireAtMs, expireAtBig });
      return true;
    },
  });
  return { aux, dbs };
}

/**
 * Parse an RDB file, handing each key to `sink` as it is read (no array of entries: a replica
 * loads 1M keys straight into its new dataset). Returns the AUX fields in file order. Throws
 * RdbFormatError on anything we cannot load; `sink` may have received keys by then.
 * `trustOwnChecksum`: skip the CRC-64 when isOwnRdbFile(bytes) (a replica loading the very bytes
 * its simulated master wrote); everything else is parsed and checked alike.
 */
export function parseRdb(bytes: Uint8Array, sink: RdbSink, opts?: { readonly trustOwnChecksum?: boolean }): Array<[string, string]> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const r = new Reader(buf);
  r.need(9, 'the signature');
  if (buf.toString('latin1', 0, 5) !== 'REDIS') throw new RdbFormatError('Wrong signature trying to load DB from file');
  const versionText = buf.toString('latin1', 5, 9);
  const version = /^[0-9]{4}$/.test(versionText) ? Number(versionText) : 0;
  if (version < 1 || version > RDB_VERSION) throw new RdbFormatError(`Can't handle RDB format version ${versionText}`);
  r.at = 9;

  const aux: Array<[string, string]> = [];
  let currentDb = 0;
  let expireAtMs = -1; // Set by an expire opcode for the next key only.
  let expireAtBig: bigint | undefined; // Its exact value beyond ±2^53.

  for (;;) {
    const type = r.byte('a type or opcode');
    switch (type) {
      case OPCODE_EXPIRETIME: {
        r.need(4, 'EXPIRETIME');
        expireAtMs = buf.readInt32LE(r.at) * 1000;
        r.at += 4;
        continue;
      }
      case OPCODE_EXPIRETIME_MS: {
        r.need(8, 'EXPIRETIME_MS');
        const v = buf.readBigInt64LE(r.at);
        r.at += 8;
        expireAtMs = Number(v);
        expireAtBig = v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER) ? v : undefined;
        continue;
      }
      case OPCODE_FREQ: r.skip(1, 'FREQ'); continue; // LFU counter: we do not evict.
      case OPCODE_IDLE: r.len('IDLE'); continue; // LRU idle time: we do not evict.
      case OPCODE_SELECTDB: currentDb = r.len('SELECTDB'); continue;
      case OPCODE_RESIZEDB: r.len('RESIZEDB db size'); r.len('RESIZEDB expires size'); continue;
      case OPCODE_AUX: {
        const key = r.string('AUX key');
        const value = r.string('AUX value');
        aux.push([key, value]);
        continue;
      }
      case OPCODE_MODULE_AUX: skipModuleAux(r); continue;
      case OPCODE_FUNCTION2: r.string('FUNCTION2 payload'); continue;
      case OPCODE_FUNCTION_PRE_GA: {
        r.string('FUNCTION name');
        r.string('FUNCTION engine');
        if (r.len('FUNCTION description flag') !== 0) r.string('FUNCTION description');
        r.string('FUNCTION blob');
        continue;
      }
      case OPCODE_EOF: {
        if (version >= 5) {
          const crcEnd = r.at;
          r.need(8, 'the checksum');
          const stored = buf.readBigUInt64LE(r.at);
          r.at += 8;
          // A stored 0 means the writer ran with rdbchecksum no: Redis skips the check. Bytes
          // that are provably our own writer's, checksummed by it, need not be summed again.
          if (stored !== 0n && !(opts?.trustOwnChecksum === true && isOwnRdbFile(buf))) {
            const expected = new Crc64().update(buf, 0, crcEnd).value;
            if (stored !== expected) {
              throw new RdbFormatError(`Wrong RDB checksum expected: (${expected.toString(16)}) got: (${stored.toString(16)})`);
            }
          }
        }
        if (r.at !== buf.length) throw new RdbFormatError(`${buf.length - r.at} bytes after the end of the RDB`);
        return aux;
      }
      case TYPE_STRING: {
        const key = r.string('a key');
        const value = r.string('a string value');
        if (!sink.entry(currentDb, key, value, expireAtMs, expireAtBig)) throw new RdbFormatError(`RDB has duplicated key '${key}' in DB ${currentDb}`);
        expireAtMs = -1;
        expireAtBig = undefined;
        continue;
      }
      default:
        throw new RdbFormatError(`unsupported value type ${type}`);
    }
  }
}
