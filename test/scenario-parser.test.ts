import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_POS } from '../sim/scenario/ast.ts';
import type { Predicate, Scenario, Statement } from '../sim/scenario/ast.ts';
import { ScenarioError } from '../sim/scenario/errors.ts';
import { lexLine, lexScenario, quoteIfNeeded } from '../sim/scenario/lexer.ts';
import { parseScenario } from '../sim/scenario/parser.ts';
import { printPredicate, printScenario } from '../sim/scenario/printer.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { Reply } from '../sim/core/reply.ts';
import {
  formatDurationUs,
  formatRateBps,
  formatSizeBytes,
  parseDurationUs,
  parseRateBps,
  parseSizeBytes,
} from '../sim/scenario/units.ts';

/** Deep copy without `pos` keys: what the round trip promises to keep. */
function stripPos<T>(x: T): T {
  if (Array.isArray(x)) return x.map(stripPos) as T;
  if (x !== null && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (k !== 'pos') out[k] = stripPos(v);
    return out as T;
  }
  return x;
}

const HEAD = 'nodes m r1 r2\nat 0s\n';
/** Parse HEAD + body lines and return the body statements after the `at 0s`, positions stripped. */
function body(text: string): Statement[] {
  return stripPos(parseScenario(HEAD + text, 't.scn').body.slice(1));
}
function step(text: string): Statement {
  const b = body(text);
  expect(b).toHaveLength(1);
  return b[0];
}
function pred(text: string): Predicate {
  const s = step(`expect ${text}`);
  if (s.kind !== 'expect') throw new Error('not an expect');
  return s.pred;
}
function roundTrip(s: Scenario): void {
  const text = printScenario(s);
  expect(stripPos(parseScenario(text, 'printed.scn'))).toEqual(stripPos(s));
  // Canonical: printing the reparsed AST gives the same text.
  expect(printScenario(parseScenario(text, 'printed.scn'))).toBe(text);
}

const EXAMPLE = `title  Partial resync after the link drops
seed   7
nodes  m r1
config * repl-backlog-size 1mb
link   * latency 1ms jitter 200us bandwidth 1gbit

at 0s
  r1: REPLICAOF m 6379
await converged within 10s
at +100ms
  load m 1000 size 64
  kill-link m r1
  load m 100
await converged within 5s
expect m.sync_full == 1
expect m.sync_partial_ok == 1
`;

describe('scenario parser: the language reference example', () => {
  it('parses to the expected AST, with positions', () => {
    const s = parseScenario(EXAMPLE, 'ex.scn');
    expect(s.title).toBe('Partial resync after the link drops');
    expect(s.seed).toBe('7');
    expect(s.nodes).toEqual([
      { pos: { line: 3, col: 8 }, name: 'm' },
      { pos: { line: 3, col: 10 }, name: 'r1' },
    ]);
    expect(s.configs).toEqual([{ pos: { line: 4, col: 1 }, target: '*', name: 'repl-backlog-size', value: '1mb' }]);
    expect(s.links).toEqual([
      { pos: { line: 5, col: 1 }, target: '*', model: { latencyUs: 1000, jitterUs: 200, bandwidthBps: 1_000_000_000 } },
    ]);
    expect(s.disks).toEqual([]);
    expect(stripPos(s.body)).toEqual([
      { kind: 'at', relative: false, timeUs: 0 },
      { kind: 'command', node: 'r1', args: ['REPLICAOF', 'm', '6379'] },
      { kind: 'await', pred: { kind: 'converged', nodes: [] }, withinUs: 10_000_000 },
      { kind: 'at', relative: true, timeUs: 100_000 },
      { kind: 'load', node: 'm', count: 1000, overUs: 0, sizeBytes: 64, keys: null, db: 0 },
      { kind: 'kill-link', a: 'm', b: 'r1' },
      { kind: 'load', node: 'm', count: 100, overUs: 0, sizeBytes: 16, keys: null, db: 0 },
      { kind: 'await', pred: { kind: 'converged', nodes: [] }, withinUs: 5_000_000 },
      {
        kind: 'expect',
        pred: { kind: 'compare', left: { kind: 'field', node: 'm', field: 'sync_full' }, op: '==', right: { kind: 'number', value: 1 } },
      },
      {
        kind: 'expect',
        pred: { kind: 'compare', left: { kind: 'field', node: 'm', field: 'sync_partial_ok' }, op: '==', right: { kind: 'number', value: 1 } },
      },
    ]);
    expect(s.body[1].pos).toEqual({ line: 8, col: 3 });
    const last = s.body[9];
    if (last.kind !== 'expect' || last.pred.kind !== 'compare') throw new Error('shape');
    expect(last.pred.pos).toEqual({ line: 16, col: 8 });
    expect(last.pred.right.pos).toEqual({ line: 16, col: 29 });
  });

  it('round-trips', () => roundTrip(parseScenario(EXAMPLE, 'ex.scn')));
});

describe('scenario parser: array replies with * and $var (ROLE, CONFIG GET)', () => {
  it('parses, prints back and matches: $var by its text against an integer or a bulk string, * anything', async () => {
    const src = 'nodes m\nat 0s\n  let off = m.master_repl_offset\nexpect m: ROLE => [ "master" $off [ [ * "6379" $off ] ] ]\n';
    const s = parseScenario(src, 't');
    const e = s.body[2]!;
    expect(e.kind === 'expect' && e.pred.kind === 'reply' && e.pred.expected).toEqual({
      kind: 'array', items: [{ kind: 'string', value: 'master' }, { kind: 'var', name: 'off' }, { kind: 'array', items: [{ kind: 'array', items: [{ kind: 'any' }, { kind: 'string', value: '6379' }, { kind: 'var', name: 'off' }] }] }],
    });
    expect(printScenario(s)).toContain('expect m: ROLE => [ "master" $off [ [ * "6379" $off ] ] ]');
    const { replyMatches } = await import('../sim/scenario/predicates.ts');
    const vars = new Map([['off', '14']]);
    const role = (off: number | string, ack: string): Reply => ({ kind: 'array', items: [
      { kind: 'bulk', value: 'master' }, { kind: 'int', value: off as number },
      { kind: 'array', items: [{ kind: 'array', items: [{ kind: 'bulk', value: 'r1' }, { kind: 'bulk', value: '6379' }, { kind: 'bulk', value: ack }] }] }] });
    const want = e.kind === 'expect' && e.pred.kind === 'reply' ? e.pred.expected : null;
    expect(replyMatches(role(14, '14'), want!, vars)).toBe(true);
    expect(replyMatches(role(14, '13'), want!, vars)).toBe(false);
    expect(replyMatches(role(15, '14'), want!, vars)).toBe(false);
    expect(replyMatches(role(14, '14'), want!, new Map())).toBe(false); // an unset variable matches nothing
  });

  it('a failing array expectation shows the reply on one line, in the same syntax', () => {
    const src = 'nodes m\nat 0s\nexpect m: CONFIG GET repl-timeout => [ "repl-timeout" "61" ]\n';
    const r = runScenario(parseScenario(src, 't'), { trace: null, source: src });
    expect(r.checks[0]!.ok).toBe(false);
    expect(r.checks[0]!.detail).toBe('replied [ "repl-timeout" "60" ]; expected [ "repl-timeout" "61" ]');
  });
});

describe('scenario parser: header statements', () => {
  it('title keeps the rest of the line as written, comment removed', () => {
    const s = parseScenario(`title Don't  "panic": a 'test'   # not this\nnodes m\n`, 't');
    expect(s.title).toBe(`Don't  "panic": a 'test'`);
  });

  it('a # glued to a word stays in the title (issue numbers); a lone # starts the comment', () => {
    expect(parseScenario('title Bug zoo #3899: a replica proxies # why\nnodes m\n', 't').title).toBe('Bug zoo #3899: a replica proxies');
    expect(parseScenario('title a#b #c\nnodes m\n', 't').title).toBe('a#b #c');
    expect(parseScenario('title x #\nnodes m\n', 't').title).toBe('x');
    // The bug zoo's titles name the Redis issue: the whole title, not `Bug zoo`.
    for (const f of readdirSync('scenarios/bugs').filter((n) => n.endsWith('.scn'))) {
      const title = parseScenario(readFileSync(join('scenarios/bugs', f), 'utf8'), f).title ?? '';
      expect(title, f).toMatch(/^Bug zoo (#\d+|[0-9a-f]{9}): \S/);
    }
  });

  it('seed accepts decimal and hex, kept as written', () => {
    expect(parseScenario('seed 0x5eedBEEF\nnodes m\n', 't').seed).toBe('0x5eedBEEF');
    expect(parseScenario('nodes m\n', 't').seed).toBeNull();
    expect(parseScenario('nodes m\n', 't').title).toBeNull();
  });

  it('several nodes lines accumulate', () => {
    expect(parseScenario('nodes m\nnodes r1 r-2 r_3\n', 't').nodes.map((n) => n.name)).toEqual(['m', 'r1', 'r-2', 'r_3']);
  });

  it('config keeps NAME and the raw rest of the line', () => {
    const s = parseScenario(
      [
        'nodes m r1',
        'config m save 900 1   # comment',
        'config * client-output-buffer-limit replica 64kb 32kb 10',
        'config r1 replicaof m 6379',
        'config * save ""',
      ].join('\n'),
      't',
    );
    expect(stripPos(s.configs)).toEqual([
      { target: 'm', name: 'save', value: '900 1' },
      { target: '*', name: 'client-output-buffer-limit', value: 'replica 64kb 32kb 10' },
      { target: 'r1', name: 'replicaof', value: 'm 6379' },
      { target: '*', name: 'save', value: '""' },
    ]);
  });

  it('link and disk lines, per pair and default', () => {
    const s = parseScenario(
      'nodes m r1\nlink m r1 bandwidth 10mb/s latency 2.5ms\nlink * jitter 0us\ndisk * write 500mb/s read 1gb/s\ndisk r1 read 100mbit\n',
      't',
    );
    expect(stripPos(s.links)).toEqual([
      { target: ['m', 'r1'], model: { bandwidthBps: 10 * 1048576 * 8, latencyUs: 2500 } },
      { target: '*', model: { jitterUs: 0 } },
    ]);
    expect(stripPos(s.disks)).toEqual([
      { target: '*', model: { writeBps: 500 * 1048576 * 8, readBps: 8 * 2 ** 30 } },
      { target: 'r1', model: { readBps: 100_000_000 } },
    ]);
  });
});

describe('scenario parser: time statements', () => {
  it('at absolute and relative, run, await within', () => {
    expect(body('at +1.5s\nrun 2m\nat 200s\nawait m.role == master within 250ms\n')).toEqual([
      { kind: 'at', relative: true, timeUs: 1_500_000 },
      { kind: 'run', durUs: 120_000_000 },
      { kind: 'at', relative: false, timeUs: 200_000_000 },
      {
        kind: 'await',
        pred: { kind: 'compare', left: { kind: 'field', node: 'm', field: 'role' }, op: '==', right: { kind: 'word', value: 'master' } },
        withinUs: 250_000,
      },
    ]);
  });

  it('an absolute at equal to the known time is fine; await adds no time', () => {
    expect(() => parseScenario('nodes m\nat 1s\nat +1s\nawait converged within 5s\nat 2s\nat 2s\n', 't')).not.toThrow();
  });
});

describe('scenario parser: steps', () => {
  it('command: args unquoted and unescaped as binary strings', () => {
    expect(step(`m: SET "k 1" 'it\\'s' "\\x00\\xff\\n\\t\\r\\"\\\\" v#1 ""`)).toEqual({
      kind: 'command',
      node: 'm',
      args: ['SET', 'k 1', "it's", '\x00\xff\n\t\r"\\', 'v#1', ''],
    });
    expect(step('r1: REPLICAOF NO ONE')).toEqual({ kind: 'command', node: 'r1', args: ['REPLICAOF', 'NO', 'ONE'] });
    expect(step('m: SET k "=>"')).toEqual({ kind: 'command', node: 'm', args: ['SET', 'k', '=>'] });
  });

  it('load with defaults and with every option in any order', () => {
    expect(step('load m 10')).toEqual({ kind: 'load', node: 'm', count: 10, overUs: 0, sizeBytes: 16, keys: null, db: 0 });
    expect(step('load r1 1000 db 3 keys 50 size 1kb over 2s')).toEqual({
      kind: 'load', node: 'r1', count: 1000, overUs: 2_000_000, sizeBytes: 1024, keys: 50, db: 3,
    });
    expect(step('load m 5 size 100')).toMatchObject({ sizeBytes: 100 });
  });

  it('partition and heal in every form', () => {
    expect(body('partition m | r1 r2\npartition m -> r1\npartition m | r1 | r2\nheal\nheal m | r1 r2\nheal m -> r1\n')).toEqual([
      { kind: 'partition', groups: [['m'], ['r1', 'r2']] },
      { kind: 'partition-one-way', from: 'm', to: 'r1' },
      { kind: 'partition', groups: [['m'], ['r1'], ['r2']] },
      { kind: 'heal-all' },
      { kind: 'heal', groups: [['m'], ['r1', 'r2']] },
      { kind: 'heal-one-way', from: 'm', to: 'r1' },
    ]);
  });

  it('node faults, pause, kill-link, link change', () => {
    expect(body('kill-link m r1\ncrash m\npoweroff r1\nrestart m\npause r2 1500ms\nlink m r2 latency 50ms\nlink * bandwidth 1gbit\n')).toEqual([
      { kind: 'kill-link', a: 'm', b: 'r1' },
      { kind: 'crash', node: 'm' },
      { kind: 'poweroff', node: 'r1' },
      { kind: 'restart', node: 'm' },
      { kind: 'pause', node: 'r2', durUs: 1_500_000 },
      { kind: 'link', target: ['m', 'r2'], model: { latencyUs: 50_000 } },
      { kind: 'link', target: '*', model: { bandwidthBps: 1_000_000_000 } },
    ]);
  });

  it('let with every kind of value, redefinition allowed, $var after let', () => {
    expect(body('let a = m.master_replid\nlet b = 42\nlet c = up\nlet d = "two words"\nlet a = $b\nexpect r1.master_replid == $a\n')).toEqual([
      { kind: 'let', name: 'a', value: { kind: 'field', node: 'm', field: 'master_replid' } },
      { kind: 'let', name: 'b', value: { kind: 'number', value: 42 } },
      { kind: 'let', name: 'c', value: { kind: 'word', value: 'up' } },
      { kind: 'let', name: 'd', value: { kind: 'string', value: 'two words' } },
      { kind: 'let', name: 'a', value: { kind: 'var', name: 'b' } },
      {
        kind: 'expect',
        pred: { kind: 'compare', left: { kind: 'field', node: 'r1', field: 'master_replid' }, op: '==', right: { kind: 'var', name: 'a' } },
      },
    ]);
  });
});

describe('scenario parser: predicates', () => {
  const f = (node: string, field: string) => ({ kind: 'field', node, field });

  it('every comparison operator and every kind of value', () => {
    const ops = ['==', '!=', '<', '<=', '>', '>='] as const;
    for (const op of ops) expect(pred(`m.x ${op} 1`)).toEqual({ kind: 'compare', left: f('m', 'x'), op, right: { kind: 'number', value: 1 } });
    expect(pred('m.x == -1.25')).toMatchObject({ right: { kind: 'number', value: -1.25 } });
    expect(pred('m.x == up')).toMatchObject({ right: { kind: 'word', value: 'up' } });
    expect(pred('m.x == 8de1a')).toMatchObject({ right: { kind: 'word', value: '8de1a' } });
    expect(pred("m.x == 'a b'")).toMatchObject({ right: { kind: 'string', value: 'a b' } });
    expect(pred('m.x == "42"')).toMatchObject({ right: { kind: 'string', value: '42' } });
    expect(pred('m.master_repl_offset == r1.master_repl_offset')).toMatchObject({ right: f('r1', 'master_repl_offset') });
  });

  it('command replies: OK, nil, integer, string, error PREFIX', () => {
    const r = (text: string) => pred(text);
    expect(r('m: SET k v => OK')).toEqual({ kind: 'reply', node: 'm', args: ['SET', 'k', 'v'], expected: { kind: 'ok' } });
    expect(r('m: GET nope => nil')).toMatchObject({ expected: { kind: 'nil' } });
    expect(r('m: DBSIZE => 1100')).toMatchObject({ args: ['DBSIZE'], expected: { kind: 'integer', value: 1100 } });
    expect(r('m: TTL k => -1')).toMatchObject({ expected: { kind: 'integer', value: -1 } });
    expect(r('r1: GET k => "from-master"')).toMatchObject({ expected: { kind: 'string', value: 'from-master' } });
    expect(r('r1: GET k => ""')).toMatchObject({ expected: { kind: 'string', value: '' } });
    expect(r('r1: SET k v => error READONLY')).toMatchObject({ expected: { kind: 'error', prefix: 'READONLY' } });
    expect(r('r1: ECHO and "=>" or => "and"')).toMatchObject({ args: ['ECHO', 'and', '=>', 'or'], expected: { kind: 'string', value: 'and' } });
  });

  it('converged with and without nodes', () => {
    expect(pred('converged')).toEqual({ kind: 'converged', nodes: [] });
    expect(pred('converged m r2')).toEqual({ kind: 'converged', nodes: ['m', 'r2'] });
  });

  it('and is left-associative; and binds tighter than or; not tighter than and', () => {
    const a = { kind: 'converged', nodes: ['m'] };
    const b = { kind: 'converged', nodes: ['r1'] };
    const c = { kind: 'converged', nodes: ['r2'] };
    expect(pred('converged m and converged r1 and converged r2')).toEqual({ kind: 'and', left: { kind: 'and', left: a, right: b }, right: c });
    expect(pred('converged m or converged r1 and converged r2')).toEqual({ kind: 'or', left: a, right: { kind: 'and', left: b, right: c } });
    expect(pred('not converged m and converged r1')).toEqual({ kind: 'and', left: { kind: 'not', operand: a }, right: b });
    expect(pred('m: GET k => "v" and m.role == master')).toMatchObject({ kind: 'and', left: { kind: 'reply' }, right: { kind: 'compare' } });
  });

  it('await stops the predicate at within', () => {
    const s = step('await converged m and r1.master_link_status == up within 3s');
    expect(s).toMatchObject({ kind: 'await', withinUs: 3_000_000, pred: { kind: 'and' } });
  });

  it('positions of predicates and operands', () => {
    const s = parseScenario(HEAD + 'expect not m.x == 1 and r1: PING => "PONG"\n', 't').body[1];
    if (s.kind !== 'expect' || s.pred.kind !== 'and' || s.pred.left.kind !== 'not') throw new Error('shape');
    expect(s.pos).toEqual({ line: 3, col: 1 });
    expect(s.pred.pos).toEqual({ line: 3, col: 8 });
    expect(s.pred.left.operand.pos).toEqual({ line: 3, col: 12 });
    expect(s.pred.right.pos).toEqual({ line: 3, col: 25 });
  });
});

describe('scenario lexer', () => {
  it('keeps columns, strips comments only at a token start, handles tabs and CRLF', () => {
    const toks = lexLine('\tm:  SET k#1 "a b" # gone', 1, 't');
    expect(toks.map((t) => [t.text, t.col, t.quoted])).toEqual([
      ['m:', 2, false],
      ['SET', 6, false],
      ['k#1', 10, false],
      ['a b', 14, true],
    ]);
    const lines = lexScenario('nodes m\r\n\r\n   # only a comment\nat 0s\r\n', 't');
    expect(lines.map((l) => [l.line, l.tokens.map((t) => t.text)])).toEqual([
      [1, ['nodes', 'm']],
      [4, ['at', '0s']],
    ]);
  });

  it('escapes as redis-cli: \\xHH, \\n, unknown \\c is c; single quotes only escape \\\'', () => {
    expect(lexLine('"\\x41\\x4a\\q\\\\" \'a\\nb\\\'\'', 1, 't').map((t) => t.text)).toEqual(['AJq\\', "a\\nb'"]);
  });

  it('quoteIfNeeded quotes what would not read back as itself', () => {
    expect(quoteIfNeeded('plain')).toBe('plain');
    expect(quoteIfNeeded('')).toBe('""');
    expect(quoteIfNeeded('a b')).toBe('"a b"');
    expect(quoteIfNeeded('#x')).toBe('"#x"');
    expect(quoteIfNeeded('\x00\xff"\\\n')).toBe('"\\x00\\xff\\"\\\\\\n"');
    for (const s of ['', 'a b', "'", '"', '\x00\x7f\x80\xff', '#', '\\x41', 'tab\there']) {
      expect(lexLine(quoteIfNeeded(s), 1, 't').map((t) => t.text)).toEqual([s]);
    }
  });
});

describe('scenario units', () => {
  it('durations are exact integer microseconds', () => {
    expect(parseDurationUs('1.5s')).toEqual({ ok: true, value: 1_500_000 });
    expect(parseDurationUs('0.1s')).toEqual({ ok: true, value: 100_000 });
    expect(parseDurationUs('2m')).toEqual({ ok: true, value: 120_000_000 });
    expect(parseDurationUs('250MS')).toEqual({ ok: true, value: 250_000 });
    expect(parseDurationUs('1.5us').ok).toBe(false);
    expect(parseDurationUs('10').ok).toBe(false);
    expect(parseDurationUs('-1s').ok).toBe(false);
  });

  it('sizes are Redis units; bare numbers are bytes', () => {
    expect(parseSizeBytes('1kb')).toEqual({ ok: true, value: 1024 });
    expect(parseSizeBytes('1mb')).toEqual({ ok: true, value: 1048576 });
    expect(parseSizeBytes('1.5gb')).toEqual({ ok: true, value: 1.5 * 2 ** 30 });
    expect(parseSizeBytes('64')).toEqual({ ok: true, value: 64 });
    expect(parseSizeBytes('0.5b').ok).toBe(false);
  });

  it('rates: bit units are decimal, byte units binary times 8', () => {
    expect(parseRateBps('100mbit')).toEqual({ ok: true, value: 100_000_000 });
    expect(parseRateBps('1gbit')).toEqual({ ok: true, value: 1_000_000_000 });
    expect(parseRateBps('10kbit')).toEqual({ ok: true, value: 10_000 });
    expect(parseRateBps('64bit')).toEqual({ ok: true, value: 64 });
    expect(parseRateBps('10mb/s')).toEqual({ ok: true, value: 83_886_080 });
    expect(parseRateBps('1kb/s')).toEqual({ ok: true, value: 8192 });
    expect(parseRateBps('0mbit').ok).toBe(false);
    expect(parseRateBps('100').ok).toBe(false);
  });

  it('format picks the largest exact unit and parses back', () => {
    expect(formatDurationUs(0)).toBe('0s');
    expect(formatDurationUs(1_500_000)).toBe('1500ms');
    expect(formatDurationUs(120_000_000)).toBe('2m');
    expect(formatDurationUs(7)).toBe('7us');
    expect(formatSizeBytes(64)).toBe('64');
    expect(formatSizeBytes(65536)).toBe('64kb');
    expect(formatRateBps(83_886_080)).toBe('10mb/s');
    expect(formatRateBps(12)).toBe('12bit');
    for (const v of [0, 1, 999, 1000, 1024, 60_000_000, 83_886_080, 123_456_789, 2 ** 40]) {
      expect(parseDurationUs(formatDurationUs(v))).toEqual({ ok: true, value: v });
      expect(parseSizeBytes(formatSizeBytes(v))).toEqual({ ok: true, value: v });
      if (v > 0) expect(parseRateBps(formatRateBps(v))).toEqual({ ok: true, value: v });
    }
  });
});

describe('scenario parser: errors say FILE:LINE:COL: what is wrong', () => {
  const H = 'nodes m r1\n'; // line 1
  const B = H + 'at 0s\n'; // steps start on line 3
  const cases: Array<[string, string, string]> = [
    ['unknown statement', B + 'frobnicate m\n', "3:1: unknown statement 'frobnicate'"],
    ['command without colon', B + 'm SET k v\n', "3:1: unknown statement 'm' (a command needs a colon: 'm: SET k v')"],
    ['unknown node in a command', B + '  r9: SET k v\n', "3:3: unknown node 'r9' (nodes are: m, r1)"],
    ['unknown node in a field', B + 'expect m.x == r9.y\n', "3:15: unknown node 'r9' (nodes are: m, r1)"],
    ['unknown node in a group', B + 'partition m | r1 r2\n', "3:18: unknown node 'r2' (nodes are: m, r1)"],
    ['unknown config target', H + 'config r2 appendonly yes\n', "2:8: unknown node 'r2' (nodes are: m, r1)"],
    ['node before nodes', 'config m appendonly yes\nnodes m\n', "1:8: unknown node 'm' (no 'nodes' line above declares any node)"],
    ['duplicate node', 'nodes m r1 m\n', "1:12: duplicate node 'm'"],
    ['bad node name', 'nodes m R1\n', "1:9: bad node name 'R1' (a node name is a lowercase letter then lowercase letters, digits, '_' or '-')"],
    ['reserved node name', 'nodes m and\n', "1:9: node name 'and' is reserved (it is a predicate keyword)"],
    ['nodes missing', 'title x\nseed 1\n', "1:1: no 'nodes' line: declare the nodes first, e.g. 'nodes m r1'"],
    ['nodes empty', 'nodes   # none\n', "1:1: 'nodes' needs at least one node name"],
    ['at before nodes', 'at 0s\n', "1:1: 'at' before 'nodes': declare the nodes in the header"],
    ['bad duration unit', B + 'run 5x\n', "3:5: bad duration '5x': has unknown unit 'x' (units: m, s, ms, us)"],
    ['duration without unit', B + 'pause m 5\n', "3:9: bad duration '5': needs a unit (units: m, s, ms, us)"],
    ['fractional microseconds', H + 'at 1.5us\n', "2:4: bad duration '1.5us': not a whole number of microseconds"],
    ['bad size', B + 'load m 10 size 3tb\n', "3:16: bad size '3tb': has unknown unit 'tb' (units: gb, mb, kb, b)"],
    ['bad rate', H + 'link * bandwidth 10mbps\n', "2:18: bad rate '10mbps': has unknown unit 'mbps' (units: gbit, mbit, kbit, gb/s, mb/s, kb/s, b/s, bit)"],
    ['missing within', B + 'await converged\n', "3:1: 'await' needs a time limit: add 'within DUR' at the end"],
    ['junk instead of within', B + 'await m.x == 1 soon 5s\n', "3:16: expected 'within', 'and' or 'or', got 'soon'"],
    ['config after at', B + 'config m appendonly yes\n', "3:1: 'config' belongs in the header, before the first 'at' (to change a config at run time, use 'NODE: CONFIG SET NAME VALUE')"],
    ['nodes after at', B + 'nodes r2\n', "3:1: 'nodes' belongs in the header, before the first 'at'"],
    ['step before at', H + '  m: SET k v\n', "2:3: a command before the first 'at' (steps need a time: add 'at 0s' above)"],
    ['keyword step before at', H + 'crash m\n', "2:1: 'crash' before the first 'at' (steps need a time: add 'at 0s' above)"],
    ['run before at', H + 'run 1s\n', "2:1: 'run' before the first 'at' (start the timeline with 'at 0s')"],
    ['time going backwards', H + 'at 2s\nrun 1s\nat 2500ms\n', "4:4: 'at 2500ms' goes back in time: the clock is already at least 3s here"],
    ['unknown operator', B + 'expect m.x = 1\n', "3:12: unknown operator '=' (expected == != < <= > >= contains)"],
    ['field without operator', B + 'expect m.role\n', "3:8: 'm.role' needs a comparison, e.g. 'm.role == 1' (operators: == != < <= > >= contains)"],
    ['bad load option', B + 'load m 10 during 1s\n', "3:11: bad load option 'during' (expected over, size, keys, db, ttl, from or wait)"],
    ['duplicate load option', B + 'load m 10 size 1 size 2\n', "3:18: duplicate load option 'size'"],
    ['bad load count', B + 'load m lots\n', "3:8: bad write count 'lots' (expected a positive integer)"],
    ['load option without value', B + 'load m 10 keys\n', "3:16: missing value after 'keys'"],
    ['empty partition group', B + 'partition m | | r1\n', "3:15: empty group in 'partition' (a group is one or more node names)"],
    ['trailing empty group', B + 'partition m r1 |\n', "3:16: empty group in 'partition' (a group is one or more node names)"],
    ['one group only', B + 'partition m r1\n', "3:1: 'partition' needs at least two groups separated by '|' (e.g. 'partition m | r1 r2')"],
    ['node in two groups', B + 'heal m | r1 m\n', "3:13: node 'm' is in two groups"],
    ['one-way with extra nodes', B + 'partition m r1 -> m\n', "3:16: a one-way partition is 'partition A -> B' with one node on each side"],
    ['one-way without its target', B + 'heal m ->\n', "3:11: missing node after '->' ('heal A -> B')"],
    ['var before let', B + 'expect m.master_replid == $old\n', "3:27: '$old' is used before any 'let old = ...'"],
    ['let without =', B + 'let x 5\n', "3:7: expected '=', got '5' (let NAME = VALUE)"],
    ['reply without =>', B + 'expect m: GET k\n', "3:8: missing '=> REPLY' after the command (e.g. 'm: GET k => \"v\"')"],
    ['unquoted string reply', B + 'expect m: GET k => hello\n', "3:20: bad reply 'hello': expected OK, nil, an integer, a \"quoted string\", error PREFIX, [ ... ], * or $var (a string reply must be quoted: \"hello\")"],
    ['unset variable in a reply', B + 'expect m: ROLE => [ "master" $off [ ] ]\n', "3:30: '$off' is used before any 'let off = ...'"],
    ['=> in a command step', B + 'm: GET k => OK\n', "3:10: '=>' in a command step: to check the reply write 'expect m: ...'; to send '=>' quote it"],
    ['unterminated quote', B + 'm: SET k "v\n', '3:10: unterminated "double quoted" string'],
    ['text after closing quote', B + 'm: SET k "v"x\n', '3:13: closing quote must be followed by a space or the end of the line'],
    ['link to itself', H + 'link m m latency 1ms\n', "2:8: a link joins two different nodes, not 'm' to itself"],
    ['unknown link option', H + 'link * delay 1ms\n', "2:8: unknown link option 'delay' (expected latency, jitter or bandwidth)"],
    ['bad seed', 'seed abc\nnodes m\n', "1:6: bad seed 'abc' (expected an integer such as 7 or 0x5eed)"],
    ['duplicate title', 'title a\ntitle b\nnodes m\n', "2:1: duplicate 'title'"],
    ['junk after a node', B + 'crash m r1\n', "3:9: unexpected 'r1' after the node"],
    ['not a predicate', B + 'expect 42\n', "3:8: expected a predicate (NODE.FIELD OP VALUE, NODE: COMMAND... => REPLY, converged [NODE...], not P), got '42'"],
    ['missing command', B + 'm:\n', "3:4: missing command after 'm:'"],
    ['title without text', 'title   # nothing\nnodes m\n', "1:7: missing title text"],
    ['kill-link to itself', B + 'kill-link m m\n', "3:13: 'kill-link' needs two different nodes, not 'm' twice"],
  ];

  for (const [name, text, where] of cases) {
    it(name, () => {
      let caught: unknown;
      try {
        parseScenario(text, 'f.scn');
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(ScenarioError);
      const e = caught as ScenarioError;
      expect(e.format()).toBe(`f.scn:${where}`);
      const [line, col] = where.split(':').map(Number);
      expect([e.file, e.line, e.col]).toEqual(['f.scn', line, col]);
    });
  }
});

describe('scenario printer: round trip', () => {
  const EVERYTHING = `title Every construct: "quoted" words, it's fine
seed 0x5eed
nodes m r1 r2
config * repl-backlog-size 1mb
config m save ""
config r2 client-output-buffer-limit replica 64kb 32kb 10
link * latency 1ms jitter 200us bandwidth 1gbit
link m r2 bandwidth 10mb/s
disk * write 500mb/s read 1gbit
disk r1 write 12bit

at 0s
  r1: REPLICAOF m 6379
  m: SET "a key" "\\x00\\xff\\r\\n" '#' "=>" and or
  load m 1000 over 1500ms size 64kb keys 10 db 2
  load r1 1
  partition m | r1 r2
  partition m -> r2
  heal m | r1 | r2
  heal m -> r2
  heal
  kill-link m r1
  crash r1
  poweroff r2
  restart r1
  pause m 250us
  link m r1 latency 2m
  link * jitter 0s
  let old = m.master_replid
  let n = -1.5
  let w = up
  let s = "two words"
  let old = $old
  expect m.master_replid != $old and r1.role == slave or not converged r1 r2 and converged
  expect m: GET k => "v" or m: GET k => nil or m: SET k v => OK or m: DBSIZE => -3 or m: X => error "ERR x"
  expect m.master_repl_offset >= r1.master_repl_offset and m.a < 1 and m.b <= 2 and m.c > 3 and m.d == 'q'
at +100ms
await converged m r1 within 10s
run 5s
at 20s
`;

  it('every construct', () => roundTrip(parseScenario(EVERYTHING, 'all.scn')));

  it('canonical text of a sample', () => {
    const text = printScenario(parseScenario('nodes  m r1\nat 0s\nload m 5 size 16 over 0s db 0\n r1: GET "k"\nawait  m.x  ==   1 within 1000ms\n', 't'));
    expect(text).toBe('nodes m r1\n\nat 0s\n  load m 5\n  r1: GET k\nawait m.x == 1 within 1s\n');
  });

  it('an AST built in code with NO_POS', () => {
    const s: Scenario = {
      title: null,
      seed: '42',
      nodes: [{ pos: NO_POS, name: 'a' }, { pos: NO_POS, name: 'b' }],
      configs: [{ pos: NO_POS, target: 'b', name: 'replicaof', value: 'a 6379' }],
      links: [{ pos: NO_POS, target: ['a', 'b'], model: { latencyUs: 123 } }],
      disks: [],
      body: [
        { kind: 'at', pos: NO_POS, relative: false, timeUs: 1 },
        { kind: 'command', pos: NO_POS, node: 'a', args: ['SET', 'k', 'v\x00 \u00e9', '=>', '', "'"] },
        { kind: 'let', pos: NO_POS, name: 'x', value: { kind: 'string', pos: NO_POS, value: '1' } },
        {
          kind: 'await',
          pos: NO_POS,
          withinUs: 60_000_000,
          pred: {
            kind: 'and',
            pos: NO_POS,
            left: { kind: 'not', pos: NO_POS, operand: { kind: 'converged', pos: NO_POS, nodes: ['a'] } },
            right: {
              kind: 'compare',
              pos: NO_POS,
              left: { kind: 'field', pos: NO_POS, node: 'b', field: 'x' },
              op: '<',
              right: { kind: 'var', pos: NO_POS, name: 'x' },
            },
          },
        },
        { kind: 'expect', pos: NO_POS, pred: { kind: 'reply', pos: NO_POS, node: 'b', args: ['GET', 'k'], expected: { kind: 'error', prefix: 'WRONG TYPE' } } },
      ],
    };
    roundTrip(s);
  });

  it('refuses ASTs that no text reproduces', () => {
    const c = (nodes: string[]): Predicate => ({ kind: 'converged', pos: NO_POS, nodes });
    const andOr: Predicate = { kind: 'and', pos: NO_POS, left: c(['a']), right: { kind: 'or', pos: NO_POS, left: c([]), right: c([]) } };
    expect(() => printPredicate(andOr)).toThrow(/parentheses/);
    const rightNested: Predicate = { kind: 'and', pos: NO_POS, left: c([]), right: { kind: 'and', pos: NO_POS, left: c([]), right: c([]) } };
    expect(() => printPredicate(rightNested)).toThrow(/left-associative/);
    const numWord: Predicate = {
      kind: 'compare', pos: NO_POS, left: { kind: 'field', pos: NO_POS, node: 'a', field: 'x' }, op: '==', right: { kind: 'word', pos: NO_POS, value: '12' },
    };
    expect(() => printPredicate(numWord)).toThrow(/bare word/);
    const base = parseScenario('nodes m\n', 't');
    expect(() => printScenario({ ...base, title: 'two\nlines' })).toThrow(/spans lines/);
    expect(() => printScenario({ ...base, title: 'a # comment' })).toThrow(/comment/);
    expect(printScenario({ ...base, title: 'Bug zoo #3899' })).toMatch(/^title Bug zoo #3899\n/);
    expect(() => printScenario({ ...base, nodes: [{ pos: NO_POS, name: 'Bad' }] })).toThrow(/bad node name/);
  });

  const dir = join(import.meta.dirname, '..', 'scenarios');
  const files = existsSync(dir)
    ? (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.scn')).sort()
    : [];
  it('finds the scenario files (or there are none yet)', () => {
    expect(Array.isArray(files)).toBe(true);
  });
  for (const f of files) {
    it(`scenarios/${f}`, () => roundTrip(parseScenario(readFileSync(join(dir, f), 'latin1'), f)));
  }

  // Every prefix of every line of every sample (cut at each character): the parser either
  // accepts it, and then the round trip holds, or throws a ScenarioError, never anything else.
  it('truncated lines give a ScenarioError or a round-trippable scenario', () => {
    const samples = [EXAMPLE, EVERYTHING, ...files.slice(0, 6).map((f) => readFileSync(join(dir, f), 'latin1'))];
    let accepted = 0;
    let refused = 0;
    for (const sample of samples) {
      const lines = sample.split('\n');
      for (let k = 0; k < lines.length; k++) {
        for (let cut = 0; cut < lines[k].length; cut++) {
          const text = [...lines.slice(0, k), lines[k].slice(0, cut), ...lines.slice(k + 1)].join('\n');
          let s: Scenario;
          try {
            s = parseScenario(text, 'cut.scn');
          } catch (e) {
            if (!(e instanceof ScenarioError)) throw e;
            expect(e.line).toBeGreaterThanOrEqual(1);
            expect(e.col).toBeGreaterThanOrEqual(1);
            refused++;
            continue;
          }
          accepted++;
          roundTrip(s);
        }
      }
    }
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  }, 60_000); // about 2 s alone; 7.7 s in a full run on a busy 2-core machine broke the 5 s default
});

describe('scenario: load ttl (an extension)', () => {
  it('parses, prints and round-trips `ttl DUR`', () => {
    const s = parseScenario('nodes m\nat 0s\n  load m 10 ttl 250ms\n', 'x.scn');
    const step = s.body[1];
    expect(step).toMatchObject({ kind: 'load', count: 10, ttlUs: 250_000 });
    expect(printScenario(s)).toContain('load m 10 ttl 250ms');
    expect(parseScenario(printScenario(s), 'x.scn').body[1]).toMatchObject({ ttlUs: 250_000 });
  });
  it('refuses a ttl that is not whole milliseconds', () => {
    let message = '';
    try {
      parseScenario('nodes m\nat 0s\n  load m 10 ttl 1500us\n', 'x.scn');
    } catch (e) {
      message = (e as ScenarioError).format();
    }
    expect(message).toMatch(/^x\.scn:3:17: bad ttl '1500us'/);
  });
});
