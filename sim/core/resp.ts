/**
 * RESP2 framing: what a Redis server reads (commands) and writes (replies), byte-exact.
 *
 * Theory of operation: replication offsets ARE byte counts of the command stream, so every
 * byte here matters: encodeCommand() produces exactly what Redis's replicationFeedSlaves()
 * appends to the backlog, and CommandParser reports how many bytes each parsed command
 * occupied so a replica can advance its offset by exactly that much.
 *
 * CommandParser mirrors processInputBuffer() / processMultibulkBuffer() / processInlineBuffer()
 * in redis src/networking.c (7.0): same limits, same error texts, same leniencies (Redis does
 * not check that a bulk is followed by "\r\n", it skips two bytes; nor that the '\r' of a
 * count line is followed by '\n'). ReplyParser is the client side (hiredis-like). Both accept
 * any chunking of the stream: they keep one growable buffer with a read offset, compact it
 * only when space runs out, and remember how far they have searched for a line end, so large
 * inputs fed byte by byte stay linear.
 *
 * Strings are binary strings: one JS char per byte (latin1), as everywhere in the core.
 * This file knows nothing of commands or of the network.
 */
import { assert, assertNever } from '../assert.ts';
import type { Reply } from './reply.ts';

/** The peer broke the protocol. The message is Redis's reply text without the "ERR " prefix. */
export class RespProtocolError extends Error {
  override name = 'RespProtocolError';
}

/** PROTO_INLINE_MAX_SIZE in redis src/server.h: longest inline line or count line. */
export const PROTO_INLINE_MAX_SIZE_BYTES = 64 * 1024;
/** The default proto-max-bulk-len (512 MB). */
export const PROTO_MAX_BULK_LEN_BYTES = 512 * 1024 * 1024;
/** Redis 7.0 refuses a multibulk count above INT_MAX (older versions used 1024*1024). */
const MULTIBULK_COUNT_MAX = 2147483647;

const CR = 0x0d;
const LF = 0x0a;

// ---------------------------------------------------------------------------------------------
// Integers.

/**
 * string2ll() from redis src/util.c over bytes [from, to): strict decimal, optional '-', no
 * '+', no leading zeros, no spaces, within a signed 64-bit range. Null when not a number.
 * Values beyond 2^53 are accepted or refused exactly but returned rounded (JS numbers).
 */
export function string2llBytes(buf: Uint8Array, from: number, to: number): number | null {
  const len = to - from;
  if (len <= 0 || len >= 21) return null; // LONG_STR_SIZE
  if (len === 1 && buf[from] === 0x30) return 0;
  let i = from;
  const negative = buf[i] === 0x2d;
  if (negative) {
    i++;
    if (i === to) return null;
  }
  const first = buf[i]!;
  if (first < 0x31 || first > 0x39) return null; // First digit 1-9, else the string must be "0".
  let v = first - 0x30;
  for (i++; i < to; i++) {
    const d = buf[i]!;
    if (d < 0x30 || d > 0x39) return null;
    v = v * 10 + (d - 0x30);
  }
  const digits = to - from - (negative ? 1 : 0);
  if (digits > 19) return null;
  if (digits === 19) {
    // Compare digit strings exactly against LLONG_MAX / LLONG_MIN (floats cannot).
    let s = '';
    for (let k = to - 19; k < to; k++) s += String.fromCharCode(buf[k]!);
    if (s > (negative ? '9223372036854775808' : '9223372036854775807')) return null;
  }
  return negative ? -v : v;
}

/** string2ll() over a binary string. */
export function string2ll(s: string): number | null {
  if (s.length === 0 || s.length >= 21) return null;
  return string2llBytes(Buffer.from(s, 'latin1'), 0, s.length);
}

function decimalDigits(n: number): number {
  // The message is built only on failure: this runs for every argument of every command encoded.
  if (!(Number.isSafeInteger(n) && n >= 0)) assert(false, `decimalDigits: ${n}`);
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// Encoding.

/** Bytes of `*<argc>\r\n` + each `$<len>\r\n<arg>\r\n`, without allocating. */
export function commandSizeBytes(argv: readonly string[]): number {
  let n = 1 + decimalDigits(argv.length) + 2;
  for (const arg of argv) n += 1 + decimalDigits(arg.length) + 2 + arg.length + 2;
  return n;
}

/** A command as a multibulk, exactly as Redis propagates it (PING = 14 bytes). */
export function encodeCommand(argv: readonly string[]): Buffer {
  const out = Buffer.allocUnsafe(commandSizeBytes(argv));
  const at = encodeCommandInto(out, 0, argv);
  assert(at === out.length, 'encodeCommand: size mismatch');
  return out;
}

/**
 * encodeCommand() into `out` at `at` (room for commandSizeBytes(argv) is the caller's); returns
 * the offset after it. Headers and short arguments are written byte by byte: a Buffer.write()
 * call costs more than the copy for them.
 */
export function encodeCommandInto(out: Buffer, at: number, argv: readonly string[]): number {
  out[at++] = 0x2a; // '*'
  at = writeDecimal(out, at, argv.length);
  out[at++] = CR;
  out[at++] = LF;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const len = arg.length;
    out[at++] = 0x24; // '$'
    at = writeDecimal(out, at, len);
    out[at++] = CR;
    out[at++] = LF;
    if (len <= 32) {
      for (let j = 0; j < len; j++) out[at++] = arg.charCodeAt(j); // latin1: one byte per char
    } else {
      at += out.write(arg, at, 'latin1');
    }
    out[at++] = CR;
    out[at++] = LF;
  }
  return at;
}

/** A non-negative integer's decimal digits at `at`; returns the offset after them. */
function writeDecimal(out: Buffer, at: number, n: number): number {
  if (n < 10) {
    out[at] = 0x30 + n;
    return at + 1;
  }
  const digits = decimalDigits(n);
  for (let i = digits - 1; i >= 0; i--) {
    out[at + i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return at + digits;
}

function replySizeBytes(reply: Reply): number {
  switch (reply.kind) {
    case 'status':
    case 'error':
      return 1 + reply.text.length + 2;
    case 'int':
      return 1 + String(reply.value).length + 2;
    case 'bulk':
      return reply.value === null ? 5 : 1 + decimalDigits(reply.value.length) + 2 + reply.value.length + 2;
    case 'array': {
      if (reply.items === null) return 5;
      let n = 1 + decimalDigits(reply.items.length) + 2;
      for (const item of reply.items) n += replySizeBytes(item);
      return n;
    }
    default:
      return assertNever(reply);
  }
}

function writeReply(out: Buffer, at: number, reply: Reply): number {
  switch (reply.kind) {
    case 'status':
      return at + out.write(`+${reply.text}\r\n`, at, 'latin1');
    case 'error':
      return at + out.write(`-${reply.text}\r\n`, at, 'latin1');
    case 'int':
      return at + out.write(`:${reply.value}\r\n`, at, 'latin1');
    case 'bulk':
      if (reply.value === null) return at + out.write('$-1\r\n', at, 'latin1');
      at += out.write(`$${reply.value.length}\r\n`, at, 'latin1');
      at += out.write(reply.value, at, 'latin1');
      out[at++] = CR;
      out[at++] = LF;
      return at;
    case 'array':
      if (reply.items === null) return at + out.write('*-1\r\n', at, 'latin1');
      at += out.write(`*${reply.items.length}\r\n`, at, 'latin1');
      for (const item of reply.items) at = writeReply(out, at, item);
      return at;
    default:
      return assertNever(reply);
  }
}

/** A reply as RESP2 bytes (addReply*() in redis src/networking.c). */
export function encodeReply(reply: Reply): Buffer {
  if (reply.kind === 'int' && typeof reply.value === 'number') assert(Number.isSafeInteger(reply.value), `encodeReply: integer ${reply.value}`);
  const out = Buffer.allocUnsafe(replySizeBytes(reply));
  const end = writeReply(out, 0, reply);
  assert(end === out.length, 'encodeReply: size mismatch');
  return out;
}

// ---------------------------------------------------------------------------------------------
// A growable receive buffer shared by both parsers.

class ReceiveBuffer {
  buf: Buffer = Buffer.allocUnsafe(16 * 1024);
  /** Live bytes are buf[start, end). */
  start = 0;
  end = 0;
  /** No line terminator in buf[start, start + scannedBytes): where the next search resumes. */
  scannedBytes = 0;

  get length(): number {
    return this.end - this.start;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.start === this.end) {
      this.start = this.end = 0; // Empty: rewind for free.
      if (this.buf.length > 1024 * 1024 && chunk.length <= 16 * 1024) this.buf = Buffer.allocUnsafe(16 * 1024);
    }
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      const need = live + chunk.length;
      if (need <= this.buf.length / 2) {
        // Compact in place only when that leaves at least half the buffer free, so copying
        // stays proportional to the bytes appended (no quadratic shuffling of a big tail).
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
        this.buf.copy(bigger, 0, this.start, this.end);
        this.buf = bigger;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Consume n bytes. */
  skip(n: number): void {
    assert(n >= 0 && this.start + n <= this.end, 'ReceiveBuffer.skip: past the end');
    this.start += n;
    this.scannedBytes = 0;
  }

  /** Absolute index of the first `byte` at or after start (resuming the last search), or -1. */
  find(byte: number): number {
    const at = this.buf.indexOf(byte, this.start + this.scannedBytes);
    if (at === -1 || at >= this.end) {
      this.scannedBytes = this.end - this.start;
      return -1;
    }
    this.scannedBytes = at - this.start; // A later search resumes here until bytes are consumed.
    return at;
  }

  latin1(from: number, to: number): string {
    return this.buf.toString('latin1', from, to);
  }

  clear(): void {
    this.start = this.end = 0;
    this.scannedBytes = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Server side: the query buffer.

export interface ParsedCommand {
  /** The arguments; [] for an empty inline line (a replica's "\n" keepalive) and `*0`/`*-1`. */
  argv: string[];
  /** Exact bytes the command occupied in the stream, for replication offset accounting. */
  sizeBytes: number;
}

export interface CommandParserOptions {
  /** proto-max-bulk-len; not enforced for the master client, as in Redis. */
  protoMaxBulkLenBytes?: number;
}

/**
 * A client's query buffer. feed() bytes as they arrive, then call next() until it returns
 * null. Throws RespProtocolError; after that the connection is to be closed (Redis replies
 * with the error and sets CLIENT_CLOSE_AFTER_REPLY).
 *
 * `*0\r\n` and `*-1\r\n`: Redis resets the client and runs nothing. We return them as
 * `{ argv: [], sizeBytes: 4 | 5 }`, like an empty inline line, so that a caller that counts
 * offsets from sizeBytes sees every byte. Divergence: Redis refreshes a replica's ACK time only
 * for an empty *inline* line; callers that care can look at sizeBytes (an empty inline line
 * is 1 or 2 bytes, `*0\r\n` is 4).
 */
export class CommandParser {
  /** Set for the client that is our master: inline commands are a desync, bulks unlimited. */
  fromMaster = false;
  private readonly protoMaxBulkLenBytes: number;
  private readonly rx = new ReceiveBuffer();
  /** Arguments still to read in the current multibulk; 0 = between commands or inline. */
  private multibulkLeft = 0;
  /** Length of the bulk being read, -1 while its `$<len>` line is not yet read. */
  private bulkLen = -1;
  private argv: string[] = [];
  /** Arguments of the current multibulk read so far (argv[0, argc)). */
  private argc = 0;
  /** Bytes of the current, incomplete command already consumed from the buffer. */
  private partialBytes = 0;
  /** The last argv[0] decoded (commandName()). */
  private lastName = '';

  constructor(options: CommandParserOptions = {}) {
    this.protoMaxBulkLenBytes = options.protoMaxBulkLenBytes ?? PROTO_MAX_BULK_LEN_BYTES;
    assert(Number.isSafeInteger(this.protoMaxBulkLenBytes) && this.protoMaxBulkLenBytes >= 0, 'CommandParser: bad protoMaxBulkLenBytes');
  }

  /** Bytes received but not yet returned as commands (read_reploff - reploff on a replica). */
  get pendingBytes(): number {
    return this.partialBytes + this.rx.length;
  }

  feed(chunk: Uint8Array): void {
    this.rx.append(chunk);
  }

  /** Discard everything buffered, including a half-parsed command. */
  reset(): void {
    this.rx.clear();
    this.multibulkLeft = 0;
    this.bulkLen = -1;
    this.argv = [];
    this.argc = 0;
    this.partialBytes = 0;
  }

  /** The next complete command, or null when more bytes are needed. */
  next(): ParsedCommand | null {
    const rx = this.rx;
    if (this.multibulkLeft === 0) {
      if (rx.length === 0) return null;
      // processInputBuffer(): the first byte of a request decides its type.
      if (rx.buf[rx.start] !== 0x2a /* '*' */) return this.nextInline();
      if (!this.readMultibulkCount()) return null;
      if (this.multibulkLeft === 0) return this.complete(); // `*0` or `*-1`: nothing to run.
    }
    while (this.multibulkLeft > 0) {
      if (this.bulkLen === -1 && !this.readBulkLength()) return null;
      // Not enough data yet (+2 for the trailing \r\n)?
      if (rx.length < this.bulkLen + 2) return null;
      const j = this.argc++;
      this.argv[j] = j === 0 ? this.commandName(rx.start, this.bulkLen) : rx.latin1(rx.start, rx.start + this.bulkLen);
      this.consume(this.bulkLen + 2); // Like Redis, the two bytes after the bulk are not checked.
      this.bulkLen = -1;
      this.multibulkLeft--;
    }
    return this.complete();
  }

  /**
   * argv[0] of a multibulk: the same string as the last command's when the bytes are the same (a
   * stream of SETs decodes "SET" once, and the command table's lookup finds its hash cached).
   */
  private commandName(from: number, len: number): string {
    const last = this.lastName;
    if (len === last.length && len <= 32) {
      const buf = this.rx.buf;
      let i = 0;
      while (i < len && buf[from + i] === last.charCodeAt(i)) i++;
      if (i === len) return last;
    }
    const name = this.rx.latin1(from, from + len);
    if (len <= 32) this.lastName = name;
    return name;
  }

  private consume(n: number): void {
    this.rx.skip(n);
    this.partialBytes += n;
  }

  private complete(): ParsedCommand {
    // No fresh [] here: readMultibulkCount() gives the next command its own array.
    const cmd = { argv: this.argv, sizeBytes: this.partialBytes };
    this.argc = 0;
    this.partialBytes = 0;
    return cmd;
  }

  /** processInlineBuffer(): one line, split like sdssplitargs(). */
  private nextInline(): ParsedCommand | null {
    const rx = this.rx;
    const nl = rx.find(LF);
    if (nl === -1) {
      if (rx.length > PROTO_INLINE_MAX_SIZE_BYTES) throw new RespProtocolError('Protocol error: too big inline request');
      return null;
    }
    const lineEnd = nl > rx.start && rx.buf[nl - 1] === CR ? nl - 1 : nl;
    const argv = splitArgs(rx.latin1(rx.start, lineEnd));
    if (argv === null) throw new RespProtocolError('Protocol error: unbalanced quotes in request');
    // Masters never send inline commands, only a bare newline as a keepalive.
    if (this.fromMaster && lineEnd > rx.start) throw new RespProtocolError('Master using the inline protocol. Desync?');
    const sizeBytes = nl + 1 - rx.start;
    rx.skip(sizeBytes);
    return { argv, sizeBytes };
  }

  /**
   * Finds a count line ("*3\r\n" / "$5\r\n") the way Redis does: the first '\r', with at least
   * one byte after it. Returns the '\r' index, -1 when more bytes are needed.
   */
  private findCountLine(tooBigText: string): number {
    const rx = this.rx;
    const cr = rx.find(CR);
    if (cr === -1) {
      if (rx.length > PROTO_INLINE_MAX_SIZE_BYTES) throw new RespProtocolError(tooBigText);
      return -1;
    }
    return cr + 1 < rx.end ? cr : -1; // "Buffer should also contain \n".
  }

  private readMultibulkCount(): boolean {
    const rx = this.rx;
    const cr = this.findCountLine('Protocol error: too big mbulk count string');
    if (cr === -1) return false;
    const ll = string2llBytes(rx.buf, rx.start + 1, cr);
    if (ll === null || ll > MULTIBULK_COUNT_MAX) throw new RespProtocolError('Protocol error: invalid multibulk length');
    this.consume(cr + 2 - rx.start);
    this.multibulkLeft = ll > 0 ? ll : 0;
    this.bulkLen = -1;
    // Sized once, as processMultibulkBuffer() sizes c->argv (at most 1024 ahead of the data):
    // pushing onto [] would give every 3-argument SET a 17-slot backing store.
    this.argv = ll > 0 ? new Array<string>(Math.min(ll, 1024)) : [];
    return true;
  }

  private readBulkLength(): boolean {
    const rx = this.rx;
    const cr = this.findCountLine('Protocol error: too big bulk count string');
    if (cr === -1) return false;
    const first = rx.buf[rx.start]!;
    if (first !== 0x24 /* '$' */) {
      throw new RespProtocolError(`Protocol error: expected '$', got '${String.fromCharCode(first)}'`);
    }
    const ll = string2llBytes(rx.buf, rx.start + 1, cr);
    if (ll === null || ll < 0 || (!this.fromMaster && ll > this.protoMaxBulkLenBytes)) {
      throw new RespProtocolError('Protocol error: invalid bulk length');
    }
    this.consume(cr + 2 - rx.start);
    this.bulkLen = ll;
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Client side: replies.

interface OpenArray {
  items: Reply[];
  left: number;
}

/**
 * Parses a server's replies (RESP2), as hiredis does for redis-cli. feed() bytes, then call
 * next() until it returns null. Nested arrays are built with an explicit stack, so a large
 * array fed byte by byte is parsed once, not re-parsed from its start on every chunk.
 */
export class ReplyParser {
  private readonly rx = new ReceiveBuffer();
  private stack: OpenArray[] = [];

  feed(chunk: Uint8Array): void {
    this.rx.append(chunk);
  }

  reset(): void {
    this.rx.clear();
    this.stack = [];
  }

  /** Bytes buffered and not yet parsed (items already parsed into an open array are not counted). */
  get pendingBytes(): number {
    return this.rx.length;
  }

  next(): Reply | null {
    for (;;) {
      let value = this.nextValue();
      if (value === null) return null;
      if (value === 'open') continue;
      // Attach the value to the innermost open array, closing arrays that become full.
      for (;;) {
        const top = this.stack[this.stack.length - 1];
        if (top === undefined) return value;
        top.items.push(value);
        if (--top.left > 0) break;
        this.stack.pop();
        value = { kind: 'array', items: top.items };
      }
    }
  }

  /** One scalar reply, 'open' after an array header, or null when incomplete. */
  private nextValue(): Reply | 'open' | null {
    const rx = this.rx;
    if (rx.length === 0) return null;
    const lf = rx.find(LF);
    if (lf === -1) return null;
    if (lf === rx.start || rx.buf[lf - 1] !== CR) throw new RespProtocolError('Protocol error: line not terminated by CRLF');
    const type = rx.buf[rx.start]!;
    const from = rx.start + 1;
    const to = lf - 1;
    const lineBytes = lf + 1 - rx.start;
    switch (type) {
      case 0x2b: // '+'
        rx.skip(lineBytes);
        return { kind: 'status', text: rx.latin1(from, to) };
      case 0x2d: // '-'
        rx.skip(lineBytes);
        return { kind: 'error', text: rx.latin1(from, to) };
      case 0x3a: { // ':'
        const v = string2llBytes(rx.buf, from, to);
        if (v === null) throw new RespProtocolError('Protocol error: bad integer value');
        rx.skip(lineBytes);
        return { kind: 'int', value: v };
      }
      case 0x24: { // '$'
        const len = string2llBytes(rx.buf, from, to);
        if (len === null || len < -1 || len > PROTO_MAX_BULK_LEN_BYTES) throw new RespProtocolError('Protocol error: bad bulk string length');
        if (len === -1) {
          rx.skip(lineBytes);
          return { kind: 'bulk', value: null };
        }
        const body = lf + 1;
        if (rx.end < body + len + 2) return null; // Keep the header; re-read it when more arrives.
        if (rx.buf[body + len] !== CR || rx.buf[body + len + 1] !== LF) throw new RespProtocolError('Protocol error: bulk string not terminated by CRLF');
        const value = rx.latin1(body, body + len);
        rx.skip(lineBytes + len + 2);
        return { kind: 'bulk', value };
      }
      case 0x2a: { // '*'
        const count = string2llBytes(rx.buf, from, to);
        if (count === null || count < -1 || count > MULTIBULK_COUNT_MAX) throw new RespProtocolError('Protocol error: bad multi-bulk length');
        rx.skip(lineBytes);
        if (count === -1) return { kind: 'array', items: null };
        if (count === 0) return { kind: 'array', items: [] };
        this.stack.push({ items: [], left: count });
        return 'open';
      }
      default:
        throw new RespProtocolError(`Protocol error, got "${String.fromCharCode(type)}" as reply type byte`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Text: redis-cli's rendering and argument splitting.

/** sdscatrepr() from redis src/sds.c: a quoted, escaped rendering of a binary string. */
export function quoteRepr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x5c: out += '\\\\'; break;
      case 0x22: out += '\\"'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x07: out += '\\a'; break;
      case 0x08: out += '\\b'; break;
      default:
        out += c >= 0x20 && c <= 0x7e ? s[i] : '\\x' + c.toString(16).padStart(2, '0');
    }
  }
  return out + '"';
}

function formatInto(reply: Reply, prefix: string): string {
  switch (reply.kind) {
    case 'status': return reply.text + '\n';
    case 'error': return `(error) ${reply.text}\n`;
    case 'int': return `(integer) ${reply.value}\n`;
    case 'bulk': return reply.value === null ? '(nil)\n' : quoteRepr(reply.value) + '\n';
    case 'array': {
      if (reply.items === null) return '(nil)\n';
      if (reply.items.length === 0) return '(empty array)\n';
      // cliFormatReplyTTY(): indices right-aligned to the widest, nested items indented past them.
      const idxLen = String(reply.items.length).length;
      const nested = prefix + ' '.repeat(idxLen + 2);
      let out = '';
      reply.items.forEach((item, i) => {
        out += (i === 0 ? '' : prefix) + String(i + 1).padStart(idxLen) + ') ';
        out += formatInto(item, nested);
      });
      return out;
    }
    default:
      return assertNever(reply);
  }
}

/** redis-cli's human rendering of a reply (`OK`, `(integer) 5`, `"abc"`, numbered arrays). */
export function formatReply(reply: Reply): string {
  return formatInto(reply, '').slice(0, -1);
}

/** C's isspace() in the "C" locale. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * sdssplitargs() from redis src/sds.c, the quoting rules of inline commands and redis-cli:
 * blanks separate arguments; "double quotes" understand \xHH, \n \r \t \b \a and \<any>;
 * 'single quotes' understand only \'; a closing quote must be followed by a blank or the end.
 * Returns null on unbalanced quotes. A NUL byte ends the input, as in C.
 */
export function splitArgs(line: string): string[] | null {
  const n = line.length;
  const at = (i: number): number => (i < n ? line.charCodeAt(i) : 0);
  const out: string[] = [];
  let p = 0;
  for (;;) {
    while (at(p) !== 0 && isSpace(at(p))) p++;
    if (at(p) === 0) return out;
    let inDouble = false;
    let inSingle = false;
    let current = '';
    for (let done = false; !done; ) {
      const c = at(p);
      if (inDouble) {
        if (c === 0x5c && at(p + 1) === 0x78 && hexValue(at(p + 2)) >= 0 && hexValue(at(p + 3)) >= 0) {
          current += String.fromCharCode(hexValue(at(p + 2)) * 16 + hexValue(at(p + 3)));
          p += 3;
        } else if (c === 0x5c && at(p + 1) !== 0) {
          p++;
          const e = at(p);
          current += e === 0x6e ? '\n' : e === 0x72 ? '\r' : e === 0x74 ? '\t' : e === 0x62 ? '\b' : e === 0x61 ? '\x07' : line[p];
        } else if (c === 0x22) {
          if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return null; // Closing quote must end the argument.
          done = true;
        } else if (c === 0) {
          return null; // Unterminated quotes.
        } else {
          current += line[p];
        }
      } else if (inSingle) {
        if (c === 0x5c && at(p + 1) === 0x27) {
          p++;
          current += "'";
        } else if (c === 0x27) {
          if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === 0) {
          return null;
        } else {
          current += line[p];
        }
      } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0) {
        done = true;
      } else if (c === 0x22) {
        inDouble = true;
      } else if (c === 0x27) {
        inSingle = true;
      } else {
        current += line[p];
      }
      if (at(p) !== 0) p++;
    }
    out.push(current);
  }
}
