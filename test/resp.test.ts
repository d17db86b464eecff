import { describe, it, expect } from 'vitest';
import {
  CommandParser, ReplyParser, RespProtocolError, commandSizeBytes, encodeCommand, encodeReply,
  formatReply, splitArgs, string2ll,
} from '../sim/core/resp.ts';
import type { ParsedCommand } from '../sim/core/resp.ts';
import { ByteQueue } from '../sim/core/bytequeue.ts';
import { array, bulk, err, int, NIL, OK, status } from '../sim/core/reply.ts';
import type { Reply } from '../sim/core/reply.ts';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const SPLITS = ['whole', 'byte-by-byte', 'chunks of 7'] as const;
type Split = (typeof SPLITS)[number];

function chunks(data: Buffer, split: Split): Buffer[] {
  const size = split === 'whole' ? Math.max(1, data.length) : split === 'byte-by-byte' ? 1 : 7;
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

/** Feeds the stream in the given chunking, draining the parser after every chunk. */
function parseCommands(data: Buffer, split: Split, parser = new CommandParser()): ParsedCommand[] {
  const out: ParsedCommand[] = [];
  for (const c of chunks(data, split)) {
    parser.feed(c);
    for (let cmd = parser.next(); cmd !== null; cmd = parser.next()) out.push(cmd);
  }
  return out;
}

function commandError(data: Buffer, split: Split, parser = new CommandParser()): string {
  try {
    parseCommands(data, split, parser);
  } catch (e) {
    expect(e).toBeInstanceOf(RespProtocolError);
    return (e as Error).message;
  }
  return 'no error';
}

function parseReplies(data: Buffer, split: Split): Reply[] {
  const parser = new ReplyParser();
  const out: Reply[] = [];
  for (const c of chunks(data, split)) {
    parser.feed(c);
    for (let r = parser.next(); r !== null; r = parser.next()) out.push(r);
  }
  return out;
}

describe('resp: encodeCommand', () => {
  it('produces the exact byte counts that replication offsets are made of', () => {
    expect(encodeCommand(['PING']).length).toBe(14);
    expect(encodeCommand(['SELECT', '0']).length).toBe(23);
    expect(encodeCommand(['SET', 'x', '1']).length).toBe(27);
    expect(encodeCommand(['REPLCONF', 'GETACK', '*']).length).toBe(37);
    expect(encodeCommand(['SET', 'x', '1']).toString('latin1')).toBe('*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n');
  });

  it('commandSizeBytes agrees with encodeCommand, including multi-digit counts and binary args', () => {
    const cases: string[][] = [
      [], ['PING'], ['SET', 'k', 'x'.repeat(9)], ['SET', 'k', 'x'.repeat(10)], ['SET', 'k', 'y'.repeat(100_000)],
      Array.from({ length: 12 }, (_, i) => `a${i}`), ['SET', '\r\n\x00\xff', ''],
    ];
    for (const argv of cases) expect(commandSizeBytes(argv)).toBe(encodeCommand(argv).length);
    expect(encodeCommand(['SET', '\xff', '']).toString('latin1')).toBe('*3\r\n$3\r\nSET\r\n$1\r\n\xff\r\n$0\r\n\r\n');
  });
});

describe('resp: encodeReply', () => {
  it('encodes every reply kind', () => {
    const cases: Array<[Reply, string]> = [
      [OK, '+OK\r\n'],
      [err('ERR syntax error'), '-ERR syntax error\r\n'],
      [int(-42), ':-42\r\n'],
      [bulk('abc'), '$3\r\nabc\r\n'],
      [bulk(''), '$0\r\n\r\n'],
      [NIL, '$-1\r\n'],
      [array(null), '*-1\r\n'],
      [array([]), '*0\r\n'],
      [array([int(1), array([bulk('a'), NIL]), status('PONG')]), '*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n+PONG\r\n'],
    ];
    for (const [reply, text] of cases) expect(encodeReply(reply).toString('latin1')).toBe(text);
  });
});

describe('resp: CommandParser', () => {
  const stream = Buffer.concat([
    encodeCommand(['SET', 'k', 'a\r\nb']),
    bytes('PING\r\n'),
    bytes('set "a b" \'c d\' "\\x41\\n"\n'),
    bytes('\n'),
    bytes('\r\n'),
    bytes('*0\r\n'),
    bytes('*-1\r\n'),
    encodeCommand(['SET', 'big', 'v'.repeat(70_000)]),
    encodeCommand([]),
    encodeCommand(['GET', '\x00\xff']),
  ]);
  const expected: ParsedCommand[] = [
    { argv: ['SET', 'k', 'a\r\nb'], sizeBytes: commandSizeBytes(['SET', 'k', 'a\r\nb']) },
    { argv: ['PING'], sizeBytes: 6 },
    { argv: ['set', 'a b', 'c d', 'A\n'], sizeBytes: 25 },
    { argv: [], sizeBytes: 1 }, // A replica's keepalive newline.
    { argv: [], sizeBytes: 2 },
    { argv: [], sizeBytes: 4 }, // `*0`: Redis runs nothing; the bytes still count.
    { argv: [], sizeBytes: 5 },
    { argv: ['SET', 'big', 'v'.repeat(70_000)], sizeBytes: commandSizeBytes(['SET', 'big', 'v'.repeat(70_000)]) },
    { argv: [], sizeBytes: 4 },
    { argv: ['GET', '\x00\xff'], sizeBytes: commandSizeBytes(['GET', '\x00\xff']) },
  ];

  for (const split of SPLITS) {
    it(`parses multibulk, inline and empty requests with exact sizes (${split})`, () => {
      const got = parseCommands(stream, split);
      expect(got).toEqual(expected);
      expect(got.reduce((n, c) => n + c.sizeBytes, 0)).toBe(stream.length);
    });
  }

  it('pendingBytes counts a half-received command, including its consumed header', () => {
    const p = new CommandParser();
    const cmd = encodeCommand(['SET', 'key', 'value']);
    p.feed(Buffer.concat([encodeCommand(['PING']), cmd.subarray(0, 20)]));
    expect(p.next()).toEqual({ argv: ['PING'], sizeBytes: 14 });
    expect(p.next()).toBeNull();
    expect(p.pendingBytes).toBe(20);
    p.feed(cmd.subarray(20));
    expect(p.next()).toEqual({ argv: ['SET', 'key', 'value'], sizeBytes: cmd.length });
    expect(p.pendingBytes).toBe(0);
    p.feed(cmd.subarray(0, 9));
    expect(p.next()).toBeNull();
    p.reset();
    expect(p.pendingBytes).toBe(0);
    p.feed(encodeCommand(['PING']));
    expect(p.next()).toEqual({ argv: ['PING'], sizeBytes: 14 });
  });

  const errors: Array<[string, Buffer, string]> = [
    ['bad multibulk count', bytes('*abc\r\n'), 'Protocol error: invalid multibulk length'],
    ['leading zero count', bytes('*01\r\n'), 'Protocol error: invalid multibulk length'],
    ['count above INT_MAX', bytes('*2147483648\r\n'), 'Protocol error: invalid multibulk length'],
    ['negative bulk length', bytes('*1\r\n$-1\r\n'), 'Protocol error: invalid bulk length'],
    ['bulk above proto-max-bulk-len', bytes('*1\r\n$536870913\r\n'), 'Protocol error: invalid bulk length'],
    ['missing $', bytes('*1\r\nfoo\r\n'), "Protocol error: expected '$', got 'f'"],
    ['unbalanced quotes', bytes('SET "a b\r\n'), 'Protocol error: unbalanced quotes in request'],
    ['junk after a closing quote', bytes('SET "a"b\r\n'), 'Protocol error: unbalanced quotes in request'],
    ['inline line over 64 KB', bytes('a'.repeat(64 * 1024 + 1)), 'Protocol error: too big inline request'],
    ['count line over 64 KB', bytes('*' + '1'.repeat(64 * 1024)), 'Protocol error: too big mbulk count string'],
    ['bulk count line over 64 KB', bytes('*1\r\n$' + '1'.repeat(64 * 1024)), 'Protocol error: too big bulk count string'],
  ];
  for (const [name, data, message] of errors) {
    for (const split of ['whole', 'byte-by-byte'] as const) {
      it(`protocol error: ${name} (${split})`, () => {
        expect(commandError(data, split)).toBe(message);
      });
    }
  }

  it('a line of exactly 64 KB without a newline is still waited for, as in Redis', () => {
    const p = new CommandParser();
    p.feed(bytes('a'.repeat(64 * 1024)));
    expect(p.next()).toBeNull();
    p.feed(bytes('\n'));
    expect(p.next()?.sizeBytes).toBe(64 * 1024 + 1);
  });

  it('from a master: a bare newline is fine, an inline command is a desync, bulks are unlimited', () => {
    const limited = (): CommandParser => {
      const p = new CommandParser({ protoMaxBulkLenBytes: 4 });
      p.fromMaster = true;
      return p;
    };
    expect(parseCommands(bytes('\n\r\n'), 'whole', limited())).toEqual([{ argv: [], sizeBytes: 1 }, { argv: [], sizeBytes: 2 }]);
    expect(commandError(bytes('PING\r\n'), 'byte-by-byte', limited())).toBe('Master using the inline protocol. Desync?');
    expect(parseCommands(encodeCommand(['SET', 'k', 'longer']), 'whole', limited())[0]!.argv).toEqual(['SET', 'k', 'longer']);
    expect(commandError(encodeCommand(['SET', 'k', 'longer']), 'whole', new CommandParser({ protoMaxBulkLenBytes: 4 })))
      .toBe('Protocol error: invalid bulk length');
  });

  it('stays linear on big inputs: 1 MB pipelined byte by byte, 8 MB bulk in 1 KB chunks', () => {
    const cmd = encodeCommand(['SET', 'key:000', 'value-000']);
    const n = Math.floor((1 << 20) / cmd.length);
    const pipelined = Buffer.concat(Array.from({ length: n }, () => cmd));
    const t0 = performance.now();
    const got = parseCommands(pipelined, 'byte-by-byte');
    expect(got.length).toBe(n);
    const big = encodeCommand(['SET', 'k', 'x'.repeat(8 << 20)]);
    const p = new CommandParser();
    let parsed: ParsedCommand | null = null;
    for (let i = 0; i < big.length; i += 1024) {
      p.feed(big.subarray(i, i + 1024));
      parsed = p.next() ?? parsed;
    }
    expect(parsed?.sizeBytes).toBe(big.length);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

describe('resp: ReplyParser', () => {
  const replies: Reply[] = [
    OK, err('ERR unknown command'), int(0), int(-9007199254740991), bulk(''), bulk('a\r\nb\x00\xff'), NIL,
    array(null), array([]), array([int(1), array([array([bulk('deep')]), NIL]), status('x')]),
    bulk('z'.repeat(100_000)),
  ];
  const data = Buffer.concat(replies.map(encodeReply));
  for (const split of SPLITS) {
    it(`round-trips every reply kind through encodeReply (${split})`, () => {
      expect(parseReplies(data, split)).toEqual(replies);
    });
    it(`parses the handshake replies a master sends (${split})`, () => {
      const text = '+PONG\r\n+OK\r\n+FULLRESYNC 8de1f2b4a6c9d0e3f5a7b9c1d2e4f6a8b0c2d4e6 42\r\n';
      expect(parseReplies(bytes(text), split)).toEqual([status('PONG'), OK, status('FULLRESYNC 8de1f2b4a6c9d0e3f5a7b9c1d2e4f6a8b0c2d4e6 42')]);
    });
  }

  it('rejects a bad type byte and a bad length', () => {
    expect(() => parseReplies(bytes('?x\r\n'), 'whole')).toThrow('Protocol error, got "?" as reply type byte');
    expect(() => parseReplies(bytes('$-2\r\n'), 'byte-by-byte')).toThrow(RespProtocolError);
    expect(() => parseReplies(bytes(':1x\r\n'), 'whole')).toThrow(RespProtocolError);
  });
});

describe('resp: formatReply (redis-cli style)', () => {
  it('renders scalars', () => {
    expect(formatReply(OK)).toBe('OK');
    expect(formatReply(int(5))).toBe('(integer) 5');
    expect(formatReply(bulk('abc'))).toBe('"abc"');
    expect(formatReply(bulk('a"b\\c\n\x01\xff'))).toBe('"a\\"b\\\\c\\n\\x01\\xff"');
    expect(formatReply(NIL)).toBe('(nil)');
    expect(formatReply(array(null))).toBe('(nil)');
    expect(formatReply(array([]))).toBe('(empty array)');
    expect(formatReply(err('ERR syntax error'))).toBe('(error) ERR syntax error');
  });

  it('numbers and indents nested arrays like cliFormatReplyTTY', () => {
    expect(formatReply(array([bulk('a'), array([bulk('b'), int(2)]), NIL])))
      .toBe('1) "a"\n2) 1) "b"\n   2) (integer) 2\n3) (nil)');
    // Checked against `redis-cli --no-raw eval "return {'a',{'b',2},false,{},{1,...,10}}" 0`.
    const oneToTen = array(Array.from({ length: 10 }, (_, i) => int(i + 1)));
    expect(formatReply(array([bulk('a'), array([bulk('b'), int(2)]), NIL, array([]), oneToTen]))).toBe([
      '1) "a"', '2) 1) "b"', '   2) (integer) 2', '3) (nil)', '4) (empty array)', '5)  1) (integer) 1',
      ...[2, 3, 4, 5, 6, 7, 8, 9].map((i) => `    ${i}) (integer) ${i}`), '   10) (integer) 10',
    ].join('\n'));
    const ten = array(Array.from({ length: 10 }, (_, i) => int(i)));
    expect(formatReply(ten).split('\n')[0]).toBe(' 1) (integer) 0');
    expect(formatReply(ten).split('\n')[9]).toBe('10) (integer) 9');
  });
});

describe('resp: splitArgs (sdssplitargs)', () => {
  it('splits on blanks and understands both kinds of quotes', () => {
    expect(splitArgs('')).toEqual([]);
    expect(splitArgs('   \t ')).toEqual([]);
    expect(splitArgs('SET  key   value')).toEqual(['SET', 'key', 'value']);
    expect(splitArgs('set "a b" \'c d\'')).toEqual(['set', 'a b', 'c d']);
    expect(splitArgs('"\\x41\\x4a\\n\\r\\t\\b\\a\\"\\\\\\z"')).toEqual(['AJ\n\r\t\b\x07"\\z']);
    expect(splitArgs('"\\xZZ"')).toEqual(['xZZ']);
    expect(splitArgs("'it\\'s' '\\n'")).toEqual(["it's", '\\n']);
    expect(splitArgs('a"b c"')).toEqual(['ab c']);
    expect(splitArgs('""')).toEqual(['']);
  });

  it('returns null on unbalanced quotes or text glued to a closing quote', () => {
    expect(splitArgs('"abc')).toBeNull();
    expect(splitArgs("'abc")).toBeNull();
    expect(splitArgs('"a"b')).toBeNull();
    expect(splitArgs("'a'b")).toBeNull();
  });
});

describe('resp: string2ll', () => {
  it('is as strict as Redis', () => {
    expect(string2ll('0')).toBe(0);
    expect(string2ll('-12')).toBe(-12);
    expect(string2ll('9223372036854775807')).not.toBeNull();
    expect(string2ll('-9223372036854775808')).not.toBeNull();
    for (const bad of ['', '-', '-0', '01', '+1', ' 1', '1 ', '1a', '9223372036854775808', '-9223372036854775809']) {
      expect(string2ll(bad)).toBeNull();
    }
  });
});

describe('bytequeue', () => {
  it('reads lines across chunks, stripping an optional \\r', () => {
    const q = new ByteQueue();
    for (const c of chunks(bytes('+PONG\r\n+OK\nrest'), 'byte-by-byte')) q.push(c);
    expect(q.readLine()).toBe('+PONG');
    expect(q.readLine()).toBe('+OK');
    expect(q.readLine()).toBeNull();
    expect(q.length).toBe(4);
    q.push(bytes('\r\n'));
    expect(q.readLine()).toBe('rest');
    q.push(bytes('\n'));
    expect(q.readLine()).toBe('');
    expect(q.length).toBe(0);
  });

  it('takes exact counts within and across chunks, peeks without consuming', () => {
    const q = new ByteQueue();
    q.push(bytes('abc'));
    q.push(bytes(''));
    q.push(bytes('defg'));
    expect(q.peekByte(3)).toBe(0x64);
    expect(q.indexOf(0x66)).toBe(5);
    expect(q.take(2).toString()).toBe('ab');
    expect(q.indexOf(0x66, 4)).toBe(-1);
    expect(q.take(3).toString()).toBe('cde');
    expect(() => q.take(3)).toThrow();
    expect(q.takeAll().toString()).toBe('fg');
    q.push(bytes('xyz'));
    q.clear();
    expect(q.length).toBe(0);
    expect(q.readLine()).toBeNull();
  });

  it('handles an RDB-sized payload: $<len> line then 8 MB in 16 KB chunks, then lines', () => {
    const payload = Buffer.alloc(8 << 20, 0x61);
    const stream = Buffer.concat([bytes(`$${payload.length}\r\n`), payload, bytes('*1\r\n')]);
    const q = new ByteQueue();
    let header: string | null = null;
    const parts: Buffer[] = [];
    let remaining = -1;
    const t0 = performance.now();
    for (let i = 0; i < stream.length; i += 16 * 1024) {
      q.push(stream.subarray(i, i + 16 * 1024));
      if (header === null) {
        header = q.readLine();
        if (header !== null) remaining = Number(header.slice(1));
      }
      if (remaining > 0) {
        const n = Math.min(remaining, q.length);
        parts.push(q.take(n));
        remaining -= n;
      }
    }
    expect(header).toBe(`$${payload.length}`);
    expect(Buffer.concat(parts).equals(payload)).toBe(true);
    expect(q.readLine()).toBe('*1');
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
