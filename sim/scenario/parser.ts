/**
 * The scenario parser: text -> Scenario (ast.ts), or a ScenarioError at the offending token.
 *
 * Theory of operation. The file is lexed into lines of tokens (lexer.ts); each line is one
 * statement, chosen by its first token. The parser is a single pass in file order that keeps
 * the little state static validation needs:
 *   - the phase: header until the first `at`, body after it. Header-only statements (`title`,
 *     `seed`, `nodes`, `config`, `disk`) are refused in the body; steps and `run`/`await` are
 *     refused before the first `at` (a step needs a time). `link` is both: a header default or,
 *     in the body, a change from now on.
 *   - the declared nodes: `nodes` must come before any reference, and every node reference
 *     (targets, groups, NODE.FIELD, `NODE:`) is checked against them.
 *   - the `let` names seen so far, so `$name` before its first `let` is an error. A later `let`
 *     of the same name overwrites (that is the executor's business; statically it is fine).
 *   - a lower bound on virtual time: absolute `at` sets it, `at +D` and `run D` add to it, an
 *     `await` adds nothing (it may return at once). An absolute `at` below the bound would go
 *     back in time and is an error.
 * Predicates are parsed by precedence climbing over the line's tokens: `or` < `and` < `not` <
 * atoms (`converged`, `NODE: CMD... => REPLY`, `NODE.FIELD OP VALUE`); `and`/`or` are
 * left-associative. There are no parentheses (tokens split on spaces only, so they would read
 * badly); printer.ts refuses ASTs that would need them. Keywords and operators are only
 * recognised unquoted, so a quoted "=>" or "and" is an ordinary argument.
 */
import type {
  CompareOp,
  ExpectedReply,
  FieldRef,
  LinkModel,
  LinkTarget,
  DiskModel,
  LoadStep,
  Operand,
  Pos,
  Predicate,
  Scenario,
  Statement,
} from './ast.ts';
import { COMPARE_OPS } from './ast.ts';
import { ScenarioError } from './errors.ts';
import { lexScenario, rawToken } from './lexer.ts';
import type { LexedLine, Token } from './lexer.ts';
import { formatDurationUs, parseCount, parseDurationUs, parseRateBps, parseSizeBytes } from './units.ts';
import type { UnitResult } from './units.ts';
import { isKnownInfoField, suggestInfoField } from './info-fields.ts';
import { applyStartupConfig, ConfigError, defaultConfig } from '../core/config.ts';
import { splitArgs } from '../core/resp.ts';

/** The most virtual time one story may span (every `at`, `run` and `await ... within` added up). */
export const STORY_TIME_MAX_US = 24 * 3600 * 1_000_000;
/** The most writes one `load` step may send. */
export const LOAD_WRITES_MAX = 100_000_000;
/** Redis's default proto-max-bulk-len: no value may be larger. */
export const VALUE_SIZE_MAX_BYTES = 512 * 1024 * 1024;

/** The most `and`/`or`/`not` in one predicate: deeper nesting is refused, never a stack overflow. */
export const PREDICATE_OPERATORS_MAX = 256;

/** `[a-z][a-z0-9_-]*`, as the language defines node names. */
export const NODE_NAME = /^[a-z][a-z0-9_-]*$/;
/** `let` names, used as `$name`. */
export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An INFO field name after `NODE.`. */
export const FIELD_NAME = /^[A-Za-z0-9_-]+$/;
/** What reads as a number operand. */
export const NUMBER_LITERAL = /^-?\d+(\.\d+)?$/;
/** Words that would be ambiguous as node names inside predicates. */
export const RESERVED_NODE_NAMES: readonly string[] = ['and', 'or', 'not', 'within', 'converged', 'writes', 'settled', 'contains'];
/** The ledger fields of `CLIENT.FIELD` and `writes.FIELD`. */
export const LEDGER_FIELDS: readonly string[] = ['sent', 'acked', 'failed', 'unknown', 'lost'];

const HEADER_ONLY = new Set(['title', 'seed', 'nodes', 'config', 'disk', 'clients', 'client', 'sentinels', 'sentinel']);
const TIME_STATEMENTS = new Set(['at', 'run', 'await']);
const STEP_KEYWORDS = new Set([
  'load', 'partition', 'heal', 'kill-link', 'crash', 'poweroff', 'restart', 'pause', 'let', 'expect',
]);

/** Parse a whole scenario file. `file` is only used in error messages. */
export function parseScenario(text: string, file: string): Scenario {
  return new Parser(file).parse(text);
}

/** A cursor over one line's tokens. */
interface Cursor {
  line: LexedLine;
  i: number;
}

class Parser {
  private readonly s: Scenario = { title: null, seed: null, nodes: [], configs: [], links: [], disks: [], body: [] };
  private readonly nodeNames = new Set<string>();
  private readonly clientNames = new Set<string>();
  /** `sentinels` names: hosts too, but not data nodes. */
  private readonly sentinelNames = new Set<string>();
  private readonly vars = new Set<string>();
  private inBody = false;
  private minTimeUs = 0;
  /** An upper bound on virtual time: as minTimeUs, plus every await's `within`. */
  private maxTimeUs = 0;

  constructor(private readonly file: string) {}

  parse(text: string): Scenario {
    // A UTF-8 byte order mark (as some editors write it), read as UTF-16 or as Latin-1 bytes.
    if (text.startsWith('\uFEFF')) text = text.slice(1);
    else if (text.startsWith('\xEF\xBB\xBF')) text = text.slice(3);
    for (const line of lexScenario(text, this.file)) this.statement(line);
    if (this.s.nodes.length === 0) throw new ScenarioError(this.file, 1, 1, "no 'nodes' line: declare the nodes first, e.g. 'nodes m r1'");
    return this.s;
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  private err(line: LexedLine | number, col: number, message: string): ScenarioError {
    return new ScenarioError(this.file, typeof line === 'number' ? line : line.line, col, message);
  }

  private pos(line: LexedLine, t: Token): Pos {
    return { line: line.line, col: t.col };
  }

  /** Column just past the last token: where a missing token would go. */
  private endCol(line: LexedLine): number {
    const last = line.tokens[line.tokens.length - 1];
    return last.end + 2;
  }

  /** True when the token is this unquoted keyword or operator. */
  private static is(t: Token | undefined, word: string): boolean {
    return t !== undefined && !t.quoted && t.text === word;
  }

  private expectEnd(c: Cursor, what: string): void {
    const t = c.line.tokens[c.i];
    if (t !== undefined) throw this.err(c.line, t.col, `unexpected '${rawToken(c.line, t)}' after ${what}`);
  }

  /** The next token, or an error saying what was missing (pointing just past the line's end). */
  private need(c: Cursor, what: string): Token {
    const t = c.line.tokens[c.i];
    if (t === undefined) throw this.err(c.line, this.endCol(c.line), `missing ${what}`);
    c.i++;
    return t;
  }

  /** A duration token, at most STORY_TIME_MAX_US: longer would spin the engine for hours. */
  private duration(line: LexedLine, t: Token, text: string): number {
    const us = this.unit(line, t, parseDurationUs(text));
    if (us > STORY_TIME_MAX_US) throw this.err(line, t.col, `duration '${rawToken(line, t)}' is longer than the 24 hours a story may span`);
    return us;
  }

  /** Advance the script's clock bounds; a story longer than STORY_TIME_MAX_US is refused here. */
  private advance(line: LexedLine, t: Token, lowerUs: number, upperUs: number): void {
    this.minTimeUs = lowerUs;
    this.maxTimeUs = upperUs;
    if (upperUs > STORY_TIME_MAX_US) throw this.err(line, t.col, `the story would run past 24 hours of virtual time here, the most a story may span`);
  }

  private unit(line: LexedLine, t: Token, r: UnitResult): number {
    if (!r.ok) throw this.err(line, t.col, r.message);
    return r.value;
  }

  private nodeList(): string {
    return this.s.nodes.map((n) => n.name).join(', ');
  }

  /** A reference to a declared node. */
  private node(line: LexedLine, t: Token): string {
    if (this.nodeNames.has(t.text) && !t.quoted) return t.text;
    if (this.s.nodes.length === 0) {
      throw this.err(line, t.col, `unknown node '${t.text}' (no 'nodes' line above declares any node)`);
    }
    throw this.err(line, t.col, `unknown node '${t.text}' (nodes are: ${this.nodeList()})`);
  }

  /**
   * A host a step may name: a data node, a sentinel, or (for faults) a client. Sentinels have a
   * process and a network host like nodes (command steps, process faults, partitions, links,
   * fields); clients have a host and a process.
   */
  private host(line: LexedLine, t: Token): string {
    if (!t.quoted && (this.clientNames.has(t.text) || this.sentinelNames.has(t.text))) return t.text;
    if ((this.clientNames.size > 0 || this.sentinelNames.size > 0) && !this.nodeNames.has(t.text)) {
      const kinds = [`nodes are: ${this.nodeList()}`];
      if (this.sentinelNames.size > 0) kinds.push(`sentinels are: ${[...this.sentinelNames].join(', ')}`);
      if (this.clientNames.size > 0) kinds.push(`clients are: ${[...this.clientNames].join(', ')}`);
      const what = this.clientNames.size === 0 ? 'node or sentinel' : 'host';
      throw this.err(line, t.col, `unknown ${what} '${t.text}' (${kinds.join('; ')})`);
    }
    return this.node(line, t);
  }

  /** A declared client. */
  private client(line: LexedLine, t: Token): string {
    if (!t.quoted && this.clientNames.has(t.text)) return t.text;
    if (this.clientNames.size === 0) throw this.err(line, t.col, `unknown client '${t.text}' (no 'clients' line above declares any client)`);
    throw this.err(line, t.col, `unknown client '${t.text}' (clients are: ${[...this.clientNames].join(', ')})`);
  }

  /** A node name or `*`. */
  private target(line: LexedLine, t: Token): string {
    return Parser.is(t, '*') ? '*' : this.node(line, t);
  }

  // -------------------------------------------------------------------------------------------
  // Statements

  private statement(line: LexedLine): void {
    const first = line.tokens[0];
    const c: Cursor = { line, i: 1 };
    const kw = first.quoted ? '' : first.text;

    if (kw.length > 1 && kw.endsWith(':')) return this.step(line, first, () => this.commandStep(c, first));

    if (HEADER_ONLY.has(kw)) {
      if (this.inBody) {
        const hint = kw === 'config' ? " (to change a config at run time, use 'NODE: CONFIG SET NAME VALUE')" : '';
        throw this.err(line, first.col, `'${kw}' belongs in the header, before the first 'at'${hint}`);
      }
      switch (kw) {
        case 'title': return this.title(c);
        case 'seed': return this.seed(c);
        case 'nodes': return this.nodes(c);
        case 'config': return this.config(c);
        case 'disk': return this.disk(c);
        case 'clients': return this.clients(c);
        case 'client': return this.clientOptions(c);
        case 'sentinels': return this.sentinels(c);
        case 'sentinel': return this.sentinelConfig(c);
      }
    }
    if (kw === 'link') {
      const [target, model] = this.linkArgs(c, first);
      if (this.inBody) this.s.body.push({ kind: 'link', pos: this.pos(line, first), target, model });
      else this.s.links.push({ pos: this.pos(line, first), target, model });
      return;
    }
    if (TIME_STATEMENTS.has(kw)) {
      if (kw === 'at') return this.at(c, first);
      if (!this.inBody) throw this.err(line, first.col, `'${kw}' before the first 'at' (start the timeline with 'at 0s')`);
      return kw === 'run' ? this.run(c, first) : this.await(c, first);
    }
    if (STEP_KEYWORDS.has(kw)) return this.step(line, first, () => this.keywordStep(kw, c, first));

    let hint = '';
    if (this.nodeNames.has(kw)) hint = ` (a command needs a colon: '${kw}: ${line.tokens.slice(1).map((t) => t.text).join(' ')}')`;
    else if (/^[a-z][a-z0-9_-]*:./.test(kw)) hint = ` (put a space after the colon: '${kw.replace(':', ': ')}')`;
    throw this.err(line, first.col, `unknown statement '${rawToken(line, first)}'${hint}`);
  }

  /** Steps need a time: refuse them before the first `at`. */
  private step(line: LexedLine, first: Token, parse: () => Statement): void {
    if (!this.inBody) {
      const what = first.text.endsWith(':') ? 'a command' : `'${first.text}'`;
      throw this.err(line, first.col, `${what} before the first 'at' (steps need a time: add 'at 0s' above)`);
    }
    this.s.body.push(parse());
  }

  private title(c: Cursor): void {
    const kwTok = c.line.tokens[0];
    if (this.s.title !== null) throw this.err(c.line, kwTok.col, "duplicate 'title'");
    this.s.title = this.need(c, 'title text').text; // lexTitle() made the rest one token.
  }

  private seed(c: Cursor): void {
    const kwTok = c.line.tokens[0];
    if (this.s.seed !== null) throw this.err(c.line, kwTok.col, "duplicate 'seed'");
    const t = this.need(c, "seed value (an integer such as 7 or 0x5eed)");
    if (t.quoted || !/^(\d+|0x[0-9a-fA-F]+)$/.test(t.text)) {
      throw this.err(c.line, t.col, `bad seed '${t.text}' (expected an integer such as 7 or 0x5eed)`);
    }
    this.expectEnd(c, 'the seed');
    this.s.seed = t.text;
  }

  private nodes(c: Cursor): void {
    if (c.line.tokens.length === 1) throw this.err(c.line, c.line.tokens[0].col, "'nodes' needs at least one node name");
    for (; c.i < c.line.tokens.length; c.i++) {
      const t = c.line.tokens[c.i];
      if (t.quoted || !NODE_NAME.test(t.text)) {
        throw this.err(c.line, t.col, `bad node name '${t.text}' (a node name is a lowercase letter then lowercase letters, digits, '_' or '-')`);
      }
      if (RESERVED_NODE_NAMES.includes(t.text)) throw this.err(c.line, t.col, `node name '${t.text}' is reserved (it is a predicate keyword)`);
      if (this.nodeNames.has(t.text)) throw this.err(c.line, t.col, `duplicate node '${t.text}'`);
      if (this.clientNames.has(t.text)) throw this.err(c.line, t.col, `'${t.text}' is already a client`);
      this.nodeNames.add(t.text);
      this.s.nodes.push({ pos: this.pos(c.line, t), name: t.text });
    }
  }

  /** `clients NAME...`: application client hosts. */
  private clients(c: Cursor): void {
    if (c.line.tokens.length === 1) throw this.err(c.line, c.line.tokens[0].col, "'clients' needs at least one client name");
    const list = (this.s.clients ??= []);
    for (; c.i < c.line.tokens.length; c.i++) {
      const t = c.line.tokens[c.i];
      if (t.quoted || !NODE_NAME.test(t.text)) {
        throw this.err(c.line, t.col, `bad client name '${t.text}' (a lowercase letter then lowercase letters, digits, '_' or '-')`);
      }
      if (RESERVED_NODE_NAMES.includes(t.text)) throw this.err(c.line, t.col, `client name '${t.text}' is reserved (it is a predicate keyword)`);
      if (this.nodeNames.has(t.text)) throw this.err(c.line, t.col, `'${t.text}' is already a node`);
      if (this.clientNames.has(t.text)) throw this.err(c.line, t.col, `duplicate client '${t.text}'`);
      if (this.sentinelNames.has(t.text)) throw this.err(c.line, t.col, `'${t.text}' is already a sentinel`);
      this.clientNames.add(t.text);
      list.push({ pos: this.pos(c.line, t), name: t.text });
    }
  }

  /** `client TARGET [timeout DUR] [retry DUR]` */
  private clientOptions(c: Cursor): void {
    const kwTok = c.line.tokens[0];
    const tt = this.need(c, "client target (a client or '*')");
    const target = Parser.is(tt, '*') ? '*' : this.client(c.line, tt);
    const decl: import('./ast.ts').ClientOptionsDecl = { pos: this.pos(c.line, kwTok), target };
    const seen = new Set<string>();
    while (c.i < c.line.tokens.length) {
      const o = c.line.tokens[c.i++];
      if (o.quoted || (o.text !== 'timeout' && o.text !== 'retry')) {
        throw this.err(c.line, o.col, `unknown client option '${o.text}' (expected timeout or retry)`);
      }
      if (seen.has(o.text)) throw this.err(c.line, o.col, `duplicate client option '${o.text}'`);
      seen.add(o.text);
      const v = this.need(c, `duration after '${o.text}' (e.g. 500ms)`);
      const us = this.unit(c.line, v, parseDurationUs(v.text));
      if (o.text === 'timeout') {
        if (us === 0) throw this.err(c.line, v.col, "a client's timeout must be more than 0");
        decl.timeoutUs = us;
      } else decl.retryUs = us;
    }
    if (seen.size === 0) throw this.err(c.line, kwTok.col, "'client' needs timeout DUR and/or retry DUR");
    (this.s.clientOptions ??= []).push(decl);
  }

  private sentinels(c: Cursor): void {
    if (c.line.tokens.length === 1) throw this.err(c.line, c.line.tokens[0].col, "'sentinels' needs at least one sentinel name");
    this.s.sentinels ??= [];
    for (; c.i < c.line.tokens.length; c.i++) {
      const t = c.line.tokens[c.i];
      if (t.quoted || !NODE_NAME.test(t.text)) {
        throw this.err(c.line, t.col, `bad sentinel name '${t.text}' (a lowercase letter then lowercase letters, digits, '_' or '-')`);
      }
      if (RESERVED_NODE_NAMES.includes(t.text)) throw this.err(c.line, t.col, `sentinel name '${t.text}' is reserved (it is a predicate keyword)`);
      if (this.nodeNames.has(t.text) || this.sentinelNames.has(t.text) || this.clientNames.has(t.text)) throw this.err(c.line, t.col, `duplicate host '${t.text}'`);
      this.sentinelNames.add(t.text);
      this.s.sentinels.push({ pos: this.pos(c.line, t), name: t.text });
    }
  }

  /** `sentinel TARGET WORDS...`: a sentinel.conf line (the executor checks the directive). */
  private sentinelConfig(c: Cursor): void {
    const kwTok = c.line.tokens[0];
    if (this.sentinelNames.size === 0) throw this.err(c.line, kwTok.col, "'sentinel' before 'sentinels': declare the sentinels first (sentinels NAME...)");
    const t = this.need(c, "sentinel target (a sentinel or '*')");
    let target: string;
    if (Parser.is(t, '*')) target = '*';
    else if (!t.quoted && this.sentinelNames.has(t.text)) target = t.text;
    else throw this.err(c.line, t.col, `unknown sentinel '${t.text}' (sentinels are: ${[...this.sentinelNames].join(', ')})`);
    if (c.i >= c.line.tokens.length) throw this.err(c.line, this.endCol(c.line), 'missing sentinel directive (e.g. monitor mymaster m 6379 2)');
    const words = c.line.tokens.slice(c.i).map((w) => w.text);
    c.i = c.line.tokens.length;
    this.s.sentinelConfigs ??= [];
    this.s.sentinelConfigs.push({ pos: this.pos(c.line, kwTok), target, words });
  }

  private config(c: Cursor): void {
    const kwTok = c.line.tokens[0];
    const target = this.target(c.line, this.need(c, "config target (a node or '*')"));
    const name = this.need(c, 'config name (e.g. repl-backlog-size)');
    const first = this.need(c, `value for config '${name.text}'`);
    const last = c.line.tokens[c.line.tokens.length - 1];
    const value = c.line.text.slice(first.start, last.end);
    // Checked here against Redis's config table on a default config, so the error points at
    // the name (unknown) or at the value (bad); the executor applies it for real.
    const args = splitArgs(value);
    if (args !== null) {
      try {
        applyStartupConfig(defaultConfig(), name.text, args);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        throw this.err(c.line, /^unknown config/.test(e.message) ? name.col : first.col, e.message);
      }
    }
    this.s.configs.push({ pos: this.pos(c.line, kwTok), target, name: name.text, value });
  }

  /** How many databases `node` has: the last `config databases` for it or `*`, else 16. */
  private databases(node: string): number {
    let n = defaultConfig().databases;
    for (const d of this.s.configs) {
      if (d.name.toLowerCase() !== 'databases' || (d.target !== '*' && d.target !== node)) continue;
      const v = Number(d.value);
      if (Number.isSafeInteger(v) && v >= 1) n = v;
    }
    return n;
  }

  /** `link * OPTIONS` or `link A B OPTIONS`; options `latency DUR`, `jitter DUR`, `bandwidth RATE`. */
  private linkArgs(c: Cursor, kwTok: Token): [LinkTarget, LinkModel] {
    const a = this.need(c, "link target ('*' or two nodes)");
    let target: LinkTarget;
    if (Parser.is(a, '*')) target = '*';
    else {
      const an = this.host(c.line, a);
      const b = this.need(c, 'second node of the link');
      const bn = this.host(c.line, b);
      if (an === bn) throw this.err(c.line, b.col, `a link joins two different nodes, not '${an}' to itself`);
      target = [an, bn];
    }
    const model: LinkModel = {};
    const seen = new Set<string>();
    while (c.i < c.line.tokens.length) {
      const o = c.line.tokens[c.i++];
      if (o.quoted || !['latency', 'jitter', 'bandwidth'].includes(o.text)) {
        throw this.err(c.line, o.col, `unknown link option '${o.text}' (expected latency, jitter or bandwidth)`);
      }
      if (seen.has(o.text)) throw this.err(c.line, o.col, `duplicate link option '${o.text}'`);
      seen.add(o.text);
      if (o.text === 'bandwidth') {
        const v = this.need(c, "rate after 'bandwidth' (e.g. 1gbit)");
        model.bandwidthBps = this.unit(c.line, v, parseRateBps(v.text));
      } else {
        const v = this.need(c, `duration after '${o.text}' (e.g. 1ms)`);
        const us = this.duration(c.line, v, v.text);
        if (o.text === 'latency') model.latencyUs = us;
        else model.jitterUs = us;
      }
    }
    if (seen.size === 0) throw this.err(c.line, kwTok.col, "'link' needs at least one of latency, jitter, bandwidth");
    return [target, model];
  }

  /** `disk TARGET [write RATE] [read RATE]` */
  private disk(c: Cursor): void {
    const kwTok = c.line.tokens[0];
    const target = this.target(c.line, this.need(c, "disk target (a node or '*')"));
    const model: DiskModel = {};
    const seen = new Set<string>();
    while (c.i < c.line.tokens.length) {
      const o = c.line.tokens[c.i++];
      if (o.quoted || (o.text !== 'write' && o.text !== 'read')) {
        throw this.err(c.line, o.col, `unknown disk option '${o.text}' (expected write or read)`);
      }
      if (seen.has(o.text)) throw this.err(c.line, o.col, `duplicate disk option '${o.text}'`);
      seen.add(o.text);
      const v = this.need(c, `rate after '${o.text}' (e.g. 500mb/s)`);
      const bps = this.unit(c.line, v, parseRateBps(v.text));
      if (o.text === 'write') model.writeBps = bps;
      else model.readBps = bps;
    }
    if (seen.size === 0) throw this.err(c.line, kwTok.col, "'disk' needs write RATE and/or read RATE");
    this.s.disks.push({ pos: this.pos(c.line, kwTok), target, model });
  }

  private at(c: Cursor, kwTok: Token): void {
    if (this.s.nodes.length === 0) throw this.err(c.line, kwTok.col, "'at' before 'nodes': declare the nodes in the header");
    const t = this.need(c, "time after 'at' (e.g. 'at 1s' or 'at +100ms')");
    const relative = !t.quoted && t.text.startsWith('+');
    const timeUs = this.duration(c.line, t, relative ? t.text.slice(1) : t.text);
    this.expectEnd(c, 'the time');
    if (relative) this.advance(c.line, t, this.minTimeUs + timeUs, this.maxTimeUs + timeUs);
    else {
      if (timeUs < this.minTimeUs) {
        throw this.err(c.line, t.col, `'at ${t.text}' goes back in time: the clock is already at least ${formatDurationUs(this.minTimeUs)} here`);
      }
      this.advance(c.line, t, timeUs, Math.max(timeUs, this.maxTimeUs));
    }
    this.inBody = true;
    this.s.body.push({ kind: 'at', pos: this.pos(c.line, kwTok), relative, timeUs });
  }

  private run(c: Cursor, kwTok: Token): void {
    const t = this.need(c, "duration after 'run' (e.g. 'run 1s')");
    const durUs = this.duration(c.line, t, t.text);
    this.expectEnd(c, 'the duration');
    this.advance(c.line, t, this.minTimeUs + durUs, this.maxTimeUs + durUs);
    this.s.body.push({ kind: 'run', pos: this.pos(c.line, kwTok), durUs });
  }

  private await(c: Cursor, kwTok: Token): void {
    if (c.line.tokens.length === 1) throw this.err(c.line, this.endCol(c.line), "missing predicate after 'await'");
    const pred = this.predicate(c);
    const w = c.line.tokens[c.i];
    if (w === undefined) throw this.err(c.line, kwTok.col, "'await' needs a time limit: add 'within DUR' at the end");
    if (!Parser.is(w, 'within')) throw this.err(c.line, w.col, `expected 'within', 'and' or 'or', got '${rawToken(c.line, w)}'`);
    c.i++;
    const d = this.need(c, "duration after 'within' (e.g. 'within 10s')");
    const withinUs = this.duration(c.line, d, d.text);
    this.expectEnd(c, 'the duration');
    this.advance(c.line, d, this.minTimeUs, this.maxTimeUs + withinUs);
    this.s.body.push({ kind: 'await', pos: this.pos(c.line, kwTok), pred, withinUs });
  }

  private commandStep(c: Cursor, first: Token): Statement {
    const node = this.host(c.line, { ...first, text: first.text.slice(0, -1) });
    const args: string[] = [];
    for (; c.i < c.line.tokens.length; c.i++) {
      const t = c.line.tokens[c.i];
      if (Parser.is(t, '=>')) {
        throw this.err(c.line, t.col, `'=>' in a command step: to check the reply write 'expect ${first.text} ...'; to send '=>' quote it`);
      }
      args.push(t.text);
    }
    if (args.length === 0) throw this.err(c.line, this.endCol(c.line), `missing command after '${first.text}'`);
    return { kind: 'command', pos: this.pos(c.line, first), node, args };
  }

  private keywordStep(kw: string, c: Cursor, kwTok: Token): Statement {
    const pos = this.pos(c.line, kwTok);
    switch (kw) {
      case 'load': return this.load(c, pos);
      case 'partition':
      case 'heal': {
        if (kw === 'heal' && c.line.tokens.length === 1) return { kind: 'heal-all', pos };
        const arrow = c.line.tokens.findIndex((t) => Parser.is(t, '->'));
        if (arrow >= 0) {
          const [from, to] = this.oneWay(c, arrow);
          return kw === 'partition' ? { kind: 'partition-one-way', pos, from, to } : { kind: 'heal-one-way', pos, from, to };
        }
        const groups = this.groups(c, kw);
        return kw === 'partition' ? { kind: 'partition', pos, groups } : { kind: 'heal', pos, groups };
      }
      case 'kill-link': {
        const a = this.host(c.line, this.need(c, "first node after 'kill-link'"));
        const bt = this.need(c, "second node after 'kill-link'");
        const b = this.host(c.line, bt);
        if (a === b) throw this.err(c.line, bt.col, `'kill-link' needs two different nodes, not '${a}' twice`);
        this.expectEnd(c, 'the two nodes');
        return { kind: 'kill-link', pos, a, b };
      }
      case 'crash':
      case 'poweroff':
      case 'restart': {
        const node = this.host(c.line, this.need(c, `node after '${kw}'`));
        this.expectEnd(c, 'the node');
        return { kind: kw, pos, node };
      }
      case 'pause': {
        const node = this.host(c.line, this.need(c, "node after 'pause'"));
        const d = this.need(c, "duration after 'pause NODE' (e.g. 'pause r1 2s')");
        const durUs = this.duration(c.line, d, d.text);
        this.expectEnd(c, 'the duration');
        return { kind: 'pause', pos, node, durUs };
      }
      case 'let': {
        const n = this.need(c, "name after 'let' (let NAME = VALUE)");
        if (n.quoted || !VAR_NAME.test(n.text)) throw this.err(c.line, n.col, `bad variable name '${n.text}' (letters, digits and '_', not starting with a digit)`);
        const eq = this.need(c, "'=' after the variable name (let NAME = VALUE)");
        if (!Parser.is(eq, '=')) throw this.err(c.line, eq.col, `expected '=', got '${rawToken(c.line, eq)}' (let NAME = VALUE)`);
        const value = this.operand(c, this.need(c, "value after '='"));
        this.expectEnd(c, 'the value');
        this.vars.add(n.text); // After the value: `let x = $x` needs an earlier x.
        return { kind: 'let', pos, name: n.text, value };
      }
      case 'expect': {
        if (c.line.tokens.length === 1) throw this.err(c.line, this.endCol(c.line), "missing predicate after 'expect'");
        const pred = this.predicate(c);
        const extra = c.line.tokens[c.i];
        if (extra !== undefined) throw this.err(c.line, extra.col, `expected 'and' or 'or', got '${rawToken(c.line, extra)}'`);
        return { kind: 'expect', pos, pred };
      }
      default:
        throw this.err(c.line, kwTok.col, `unknown statement '${kw}'`); // unreachable: STEP_KEYWORDS
    }
  }

  /** `load NODE COUNT [over DUR] [size BYTES] [keys N] [db N] [ttl DUR]` (ttl: an extension) */
  private load(c: Cursor, pos: Pos): Statement {
    const targetTok = this.need(c, "node or @MASTERNAME after 'load'");
    const follows = !targetTok.quoted && targetTok.text.startsWith('@');
    const node = follows ? this.followedMaster(c.line, targetTok) : this.node(c.line, targetTok);
    const ct = this.need(c, "write count after 'load NODE' (e.g. 'load m 1000')");
    const count = parseCount(ct.text);
    if (ct.quoted || count === null || count === 0) throw this.err(c.line, ct.col, `bad write count '${ct.text}' (expected a positive integer)`);
    if (count > LOAD_WRITES_MAX) throw this.err(c.line, ct.col, `write count '${ct.text}' is more than the ${LOAD_WRITES_MAX} one 'load' may send`);
    const step: LoadStep = { kind: 'load', pos, node, count, overUs: 0, sizeBytes: 16, keys: null, db: 0 };
    const seen = new Set<string>();
    let waitTok: Token | null = null;
    let ttlTok: Token | null = null;
    while (c.i < c.line.tokens.length) {
      const o = c.line.tokens[c.i++];
      if (o.quoted || !['over', 'size', 'keys', 'db', 'ttl', 'from', 'wait'].includes(o.text)) {
        throw this.err(c.line, o.col, `bad load option '${o.text}' (expected over, size, keys, db, ttl, from or wait)`);
      }
      if (seen.has(o.text)) throw this.err(c.line, o.col, `duplicate load option '${o.text}'`);
      seen.add(o.text);
      const v = this.need(c, `value after '${o.text}'`);
      switch (o.text) {
        case 'from':
          step.from = this.client(c.line, v);
          break;
        case 'wait': {
          const n = parseCount(v.text);
          if (v.quoted || n === null) throw this.err(c.line, v.col, `bad replica count '${v.text}' after 'wait' (wait N TIMEOUT, as WAIT numreplicas timeout)`);
          const tt = this.need(c, "timeout after 'wait N' (milliseconds, as WAIT's: 'wait 1 100')");
          const ms = parseCount(tt.text);
          if (tt.quoted || ms === null) throw this.err(c.line, tt.col, `bad WAIT timeout '${tt.text}' (milliseconds, an integer such as 100)`);
          step.wait = { replicas: n, timeoutMs: ms };
          waitTok = o;
          break;
        }
        case 'over': step.overUs = this.duration(c.line, v, v.text); break;
        case 'size':
          step.sizeBytes = this.unit(c.line, v, parseSizeBytes(v.text));
          // Redis refuses bulk strings over proto-max-bulk-len (512mb by default).
          if (step.sizeBytes > VALUE_SIZE_MAX_BYTES) throw this.err(c.line, v.col, `value size '${v.text}' is more than Redis's 512mb proto-max-bulk-len`);
          break;
        case 'keys': {
          const n = parseCount(v.text);
          if (v.quoted || n === null || n === 0) throw this.err(c.line, v.col, `bad key count '${v.text}' (expected a positive integer)`);
          step.keys = n;
          break;
        }
        case 'db': {
          const n = parseCount(v.text);
          if (v.quoted || n === null) throw this.err(c.line, v.col, `bad db '${v.text}' (expected a database number such as 0)`);
          const dbs = this.databases(node);
          // Redis: SELECT beyond `databases` is "-ERR DB index is out of range".
          if (n >= dbs) throw this.err(c.line, v.col, `db ${n} is out of range: ${node} has ${dbs} databases (0..${dbs - 1}; config databases N for more)`);
          step.db = n;
          break;
        }
        case 'ttl': {
          const us = this.duration(c.line, v, v.text);
          if (us < 1000 || us % 1000 !== 0) throw this.err(c.line, v.col, `bad ttl '${v.text}' (writes use PX: a whole number of milliseconds, at least 1ms)`);
          step.ttlUs = us;
          ttlTok = o;
          break;
        }
      }
    }
    if (follows && step.from === undefined) throw this.err(c.line, targetTok.col, `'load ${targetTok.text}' needs 'from CLIENT': only a networked client asks the sentinels where the master is`);
    if (waitTok !== null && step.from === undefined) throw this.err(c.line, waitTok.col, "'wait' needs 'from CLIENT': only a networked client sends WAIT after its writes");
    if (ttlTok !== null && step.from !== undefined) throw this.err(c.line, ttlTok.col, "'ttl' cannot be combined with 'from': the ledger judges writes that do not expire");
    return step;
  }

  /**
   * `@MASTERNAME`: a master the sentinels monitor, by a header `sentinel ... monitor NAME ...`
   * line or a `SENTINEL MONITOR NAME ...` command step above this line.
   */
  private followedMaster(line: LexedLine, t: Token): string {
    const name = t.text.slice(1);
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw this.err(line, t.col, `bad master name '${t.text}' (expected @ then the name the sentinels monitor, e.g. @mymaster)`);
    if (this.sentinelNames.size === 0) throw this.err(line, t.col, `'${t.text}' needs sentinels to ask: declare them with 'sentinels NAME...' and 'sentinel * monitor ${name} NODE 6379 QUORUM'`);
    const known = new Set<string>();
    for (const d of this.s.sentinelConfigs ?? []) if (d.words[0]?.toLowerCase() === 'monitor' && d.words[1] !== undefined) known.add(d.words[1]);
    for (const st of this.s.body) {
      if (st.kind === 'command' && this.sentinelNames.has(st.node) && st.args[0]?.toLowerCase() === 'sentinel' && st.args[1]?.toLowerCase() === 'monitor' && st.args[2] !== undefined) known.add(st.args[2]);
    }
    if (known.has(name)) return t.text;
    if (known.size === 0) throw this.err(line, t.col, `unknown master '${name}': no sentinel monitors any master (add 'sentinel * monitor ${name} NODE 6379 QUORUM')`);
    throw this.err(line, t.col, `unknown master '${name}' (the sentinels monitor: ${[...known].join(', ')})`);
  }

  /** `A -> B` where the arrow is token `arrow`. */
  private oneWay(c: Cursor, arrow: number): [string, string] {
    const toks = c.line.tokens;
    const kw = toks[0].text;
    if (arrow === 2 && toks.length === 3) throw this.err(c.line, this.endCol(c.line), `missing node after '->' ('${kw} A -> B')`);
    if (arrow !== 2 || toks.length !== 4) {
      const at = arrow !== 2 ? toks[arrow] : toks[4];
      throw this.err(c.line, at.col, `a one-way ${kw} is '${kw} A -> B' with one node on each side`);
    }
    const from = this.host(c.line, toks[1]);
    const to = this.host(c.line, toks[3]);
    if (from === to) throw this.err(c.line, toks[3].col, `a one-way ${kw} needs two different nodes, not '${from}' twice`);
    c.i = 4;
    return [from, to];
  }

  /** `G1 | G2 [| G3...]`: at least two non-empty groups, no node in two of them. */
  private groups(c: Cursor, kw: string): string[][] {
    const groups: string[][] = [[]];
    const where = new Map<string, number>();
    let lastBar: Token = c.line.tokens[0];
    for (; c.i < c.line.tokens.length; c.i++) {
      const t = c.line.tokens[c.i];
      if (Parser.is(t, '|')) {
        if (groups[groups.length - 1].length === 0) throw this.err(c.line, t.col, `empty group in '${kw}' (a group is one or more node names)`);
        groups.push([]);
        lastBar = t;
        continue;
      }
      if (!t.quoted && t.text.includes('|')) throw this.err(c.line, t.col, `put spaces around '|' in '${t.text}'`);
      const name = this.host(c.line, t);
      const g = where.get(name);
      if (g !== undefined) {
        throw this.err(c.line, t.col, g === groups.length - 1 ? `node '${name}' is listed twice in the same group` : `node '${name}' is in two groups`);
      }
      where.set(name, groups.length - 1);
      groups[groups.length - 1].push(name);
    }
    if (groups[groups.length - 1].length === 0) {
      if (groups.length === 1) throw this.err(c.line, this.endCol(c.line), `missing groups after '${kw}' (e.g. '${kw} m | r1 r2')`);
      throw this.err(c.line, lastBar.col, `empty group in '${kw}' (a group is one or more node names)`);
    }
    if (groups.length < 2) throw this.err(c.line, c.line.tokens[0].col, `'${kw}' needs at least two groups separated by '|' (e.g. '${kw} m | r1 r2')`);
    return groups;
  }

  // -------------------------------------------------------------------------------------------
  // Predicates

  /** or := and ('or' and)*; stops at the end of the line or at an unquoted `within`. */
  private predicate(c: Cursor): Predicate {
    let operators = 0;
    for (let i = c.i; i < c.line.tokens.length; i++) {
      const t = c.line.tokens[i];
      if (Parser.is(t, 'within')) break;
      if ((Parser.is(t, 'and') || Parser.is(t, 'or') || Parser.is(t, 'not')) && ++operators > PREDICATE_OPERATORS_MAX) {
        throw this.err(c.line, t!.col, `predicate too long: at most ${PREDICATE_OPERATORS_MAX} 'and'/'or'/'not' in one predicate`);
      }
    }
    let left = this.conjunction(c);
    while (Parser.is(c.line.tokens[c.i], 'or')) {
      c.i++;
      const right = this.conjunction(c);
      left = { kind: 'or', pos: left.pos, left, right };
    }
    return left;
  }

  private conjunction(c: Cursor): Predicate {
    let left = this.unary(c);
    while (Parser.is(c.line.tokens[c.i], 'and')) {
      c.i++;
      const right = this.unary(c);
      left = { kind: 'and', pos: left.pos, left, right };
    }
    return left;
  }

  private unary(c: Cursor): Predicate {
    const t = c.line.tokens[c.i];
    if (Parser.is(t, 'not')) {
      c.i++;
      return { kind: 'not', pos: this.pos(c.line, t), operand: this.unary(c) };
    }
    return this.atom(c);
  }

  private atom(c: Cursor): Predicate {
    const t = this.need(c, 'predicate');
    const pos = this.pos(c.line, t);
    if (Parser.is(t, 'converged')) {
      const nodes: string[] = [];
      for (; c.i < c.line.tokens.length; c.i++) {
        const n = c.line.tokens[c.i];
        if (Parser.is(n, 'and') || Parser.is(n, 'or') || Parser.is(n, 'within')) break;
        const name = this.node(c.line, n);
        if (nodes.includes(name)) throw this.err(c.line, n.col, `node '${name}' is listed twice`);
        nodes.push(name);
      }
      return { kind: 'converged', pos, nodes };
    }
    if (Parser.is(t, 'settled')) {
      const m = this.need(c, "master name after 'settled' (the name the sentinels monitor, e.g. mymaster)");
      if (m.quoted || !/^[A-Za-z0-9_.-]+$/.test(m.text)) throw this.err(c.line, m.col, `bad master name '${m.text}'`);
      if (this.sentinelNames.size === 0) throw this.err(c.line, t.col, "'settled' needs sentinels: declare them with 'sentinels NAME...'");
      return { kind: 'settled', pos, master: m.text };
    }
    if (!t.quoted && t.text.length > 1 && t.text.endsWith(':')) return this.replyPredicate(c, t, pos);
    if (!t.quoted && t.text.includes('.')) {
      const left = this.field(c.line, t);
      const opTok = c.line.tokens[c.i];
      if (opTok === undefined || Parser.is(opTok, 'within') || Parser.is(opTok, 'and') || Parser.is(opTok, 'or')) {
        throw this.err(c.line, t.col, `'${t.text}' needs a comparison, e.g. '${t.text} == 1' (operators: ${COMPARE_OPS.join(' ')})`);
      }
      c.i++;
      if (opTok.quoted || !(COMPARE_OPS as readonly string[]).includes(opTok.text)) {
        throw this.err(c.line, opTok.col, `unknown operator '${rawToken(c.line, opTok)}' (expected ${COMPARE_OPS.join(' ')})`);
      }
      const right = this.operand(c, this.need(c, `value after '${opTok.text}'`));
      return { kind: 'compare', pos, left, op: opTok.text as CompareOp, right };
    }
    if (!t.quoted && this.nodeNames.has(t.text)) {
      throw this.err(c.line, t.col, `expected a predicate after node '${t.text}': '${t.text}.FIELD OP VALUE' or '${t.text}: COMMAND... => REPLY'`);
    }
    throw this.err(
      c.line,
      t.col,
      `expected a predicate (NODE.FIELD OP VALUE, NODE: COMMAND... => REPLY, converged [NODE...], not P), got '${rawToken(c.line, t)}'`,
    );
  }

  /** `NODE: COMMAND ARGS... => REPLY`; `t` is the `NODE:` token, already consumed. */
  private replyPredicate(c: Cursor, t: Token, pos: Pos): Predicate {
    const node = this.host(c.line, { ...t, text: t.text.slice(0, -1) });
    const args: string[] = [];
    for (;;) {
      const a = c.line.tokens[c.i];
      if (a === undefined) throw this.err(c.line, t.col, `missing '=> REPLY' after the command (e.g. '${t.text} GET k => "v"')`);
      c.i++;
      if (Parser.is(a, '=>')) {
        if (args.length === 0) throw this.err(c.line, a.col, `missing command between '${t.text}' and '=>'`);
        break;
      }
      args.push(a.text);
    }
    const expected = this.expectedReply(c);
    return { kind: 'reply', pos, node, args, expected };
  }

  /** One expected reply: OK, nil, an integer, a "quoted string", error PREFIX, or `[ REPLY... ]`. */
  private expectedReply(c: Cursor): ExpectedReply {
    const r = this.need(c, "reply after '=>' (OK, nil, an integer, a \"quoted string\", error PREFIX or [ ... ])");
    let expected: ExpectedReply;
    if (Parser.is(r, '[')) {
      const items: ExpectedReply[] = [];
      for (;;) {
        const n = c.line.tokens[c.i];
        if (n === undefined) throw this.err(c.line, r.col, "unclosed '[': end the array reply with ' ]'");
        if (Parser.is(n, ']')) {
          c.i++;
          return { kind: 'array', items };
        }
        items.push(this.expectedReply(c));
      }
    }
    if (!r.quoted && r.text.length > 1 && (r.text.startsWith('[') || r.text.endsWith(']'))) {
      throw this.err(c.line, r.col, `put spaces around '[' and ']' in '${r.text}' (e.g. [ "r1" "6379" ])`);
    }
    if (r.quoted) expected = { kind: 'string', value: r.text };
    else if (r.text === 'OK') expected = { kind: 'ok' };
    else if (r.text === 'nil') expected = { kind: 'nil' };
    else if (/^-?\d+$/.test(r.text) && Number.isSafeInteger(Number(r.text))) expected = { kind: 'integer', value: Number(r.text) };
    else if (/^-?[1-9]\d{0,18}$/.test(r.text) && BigInt(r.text) >= -(1n << 63n) && BigInt(r.text) < 1n << 63n) {
      expected = { kind: 'integer', value: BigInt(r.text) }; // an int64 beyond ±2^53 (PEXPIRETIME)
    }
    else if (r.text === 'error') {
      const p = this.need(c, "error prefix after 'error' (e.g. 'error READONLY')");
      expected = { kind: 'error', prefix: p.text };
    } else {
      const hint = /^[A-Za-z]/.test(r.text) ? ` (a string reply must be quoted: "${r.text}")` : '';
      throw this.err(c.line, r.col, `bad reply '${rawToken(c.line, r)}': expected OK, nil, an integer, a "quoted string", error PREFIX or [ ... ]${hint}`);
    }
    return expected;
  }

  /** `NODE.FIELD` */
  private field(line: LexedLine, t: Token): FieldRef {
    const dot = t.text.indexOf('.');
    const nodeText = t.text.slice(0, dot);
    let field = t.text.slice(dot + 1);
    if (!t.quoted && (nodeText === 'writes' || this.clientNames.has(nodeText))) {
      if (!LEDGER_FIELDS.includes(field)) {
        throw this.err(line, t.col + dot + 1, `unknown ledger field '${field}' after '${nodeText}.' (expected ${LEDGER_FIELDS.join(', ')})`);
      }
      return { kind: 'field', pos: this.pos(line, t), node: nodeText, field };
    }
    const node = this.host(line, { ...t, text: nodeText });
    if (this.sentinelNames.has(node) && field.includes('.')) {
      // SENTINEL.MASTER.FIELD: a field of SENTINEL MASTER MASTER.
      const dot2 = field.indexOf('.');
      const master = field.slice(0, dot2);
      field = field.slice(dot2 + 1);
      if (!FIELD_NAME.test(field) || master === '') {
        throw this.err(line, t.col + dot + dot2 + 2, `bad field '${field}' after '${node}.${master}.' (a SENTINEL MASTER field such as flags or num-slaves)`);
      }
      return { kind: 'field', pos: this.pos(line, t), node, field, master };
    }
    if (!FIELD_NAME.test(field)) {
      throw this.err(line, t.col + dot + 1, `bad field name '${field}' after '${node}.' (an INFO field such as master_repl_offset)`);
    }
    // Refused only when it is close to a known field (a typo): fields of other node kinds
    // (sentinels) and of passing states are not all in the probe, and stay a run-time check.
    if (!isKnownInfoField(field)) {
      const hint = suggestInfoField(field);
      if (hint !== null) throw this.err(line, t.col + dot + 1, `unknown INFO field '${field}' (did you mean '${hint}'?)`);
    }
    return { kind: 'field', pos: this.pos(line, t), node, field };
  }

  /** A value: "string", $var, number, NODE.FIELD, or a bare word. */
  private operand(c: Cursor, t: Token): Operand {
    const pos = this.pos(c.line, t);
    if (t.quoted) return { kind: 'string', pos, value: t.text };
    if (t.text.startsWith('$')) {
      const name = t.text.slice(1);
      if (!VAR_NAME.test(name)) throw this.err(c.line, t.col, `bad variable '${t.text}' (expected $NAME)`);
      if (!this.vars.has(name)) throw this.err(c.line, t.col, `'${t.text}' is used before any 'let ${name} = ...'`);
      return { kind: 'var', pos, name };
    }
    if (NUMBER_LITERAL.test(t.text)) return { kind: 'number', pos, value: Number(t.text) };
    if (/^[a-z][a-z0-9_-]*\./.test(t.text)) return this.field(c.line, t);
    return { kind: 'word', pos, value: t.text };
  }
}
