/**
 * The scenario printer: Scenario (ast.ts) -> canonical `.scn` text.
 *
 * Theory of operation. The fuzzer builds ASTs in code and writes its failures with this
 * printer, so the one promise is the round trip: parseScenario(printScenario(ast)) equals ast
 * in everything but positions. The output is canonical: header in a fixed order (title, seed,
 * nodes, config, link, disk), a blank line, then the body with time statements at the margin
 * and steps indented two spaces under them; units in their largest exact form (units.ts);
 * defaults left out (`load` without `over 0s size 16 db 0`); arguments quoted only when
 * they need it (lexer.ts quoteIfNeeded) and always when they would otherwise read as
 * syntax (`=>` in a command). Comments are not in the AST and so are not printed.
 *
 * An AST that no text could reproduce (a node name that is not a name, a bare word that
 * would read as a number, `A and (B or C)` for a language without parentheses, a title
 * spanning lines) is a bug in whatever built it: the printer fails an assertion rather than
 * print something that parses differently.
 */
import { assert, assertNever } from '../assert.ts';
import type {
  DiskModel,
  ExpectedReply,
  LinkModel,
  LinkTarget,
  Operand,
  Predicate,
  Scenario,
  Statement,
} from './ast.ts';
import { isTitleText, lexLine, quoteIfNeeded } from './lexer.ts';
import { FIELD_NAME, NODE_NAME, NUMBER_LITERAL, VAR_NAME } from './parser.ts';
import { formatDurationUs, formatRateBps, formatSizeBytes } from './units.ts';

const INDENT = '  ';

export function printScenario(s: Scenario): string {
  const out: string[] = [];
  if (s.title !== null) {
    assert(isTitleText(s.title), `printer: title '${s.title}' is empty, spans lines, has a comment or surrounding spaces`);
    out.push(`title ${s.title}`);
  }
  if (s.seed !== null) {
    assert(/^(\d+|0x[0-9a-fA-F]+)$/.test(s.seed), `printer: bad seed '${s.seed}'`);
    out.push(`seed ${s.seed}`);
  }
  assert(s.nodes.length > 0, 'printer: a scenario needs at least one node');
  out.push(`nodes ${s.nodes.map((n) => nodeName(n.name)).join(' ')}`);
  if (s.clients !== undefined && s.clients.length > 0) out.push(`clients ${s.clients.map((n) => nodeName(n.name)).join(' ')}`);
  for (const o of s.clientOptions ?? []) {
    const parts: string[] = [];
    if (o.timeoutUs !== undefined) parts.push(`timeout ${formatDurationUs(o.timeoutUs)}`);
    if (o.retryUs !== undefined) parts.push(`retry ${formatDurationUs(o.retryUs)}`);
    assert(parts.length > 0, 'printer: a client line needs timeout and/or retry');
    out.push(`client ${target(o.target)} ${parts.join(' ')}`);
  }
  for (const c of s.configs) {
    assert(c.name !== '' && /^[\x21-\x7e]+$/.test(c.name) && !/^["'#]/.test(c.name), `printer: bad config name '${c.name}'`);
    out.push(`config ${target(c.target)} ${c.name} ${restOfLine(c.value, 'config value')}`);
  }
  for (const l of s.links) out.push(`link ${linkTarget(l.target)} ${linkModel(l.model)}`);
  for (const d of s.disks) out.push(`disk ${target(d.target)} ${diskModel(d.model)}`);
  if (s.sentinels !== undefined && s.sentinels.length > 0) out.push(`sentinels ${s.sentinels.map((n) => nodeName(n.name)).join(' ')}`);
  for (const c of s.sentinelConfigs ?? []) {
    assert(c.words.length > 0, 'printer: a sentinel line needs a directive');
    out.push(`sentinel ${target(c.target)} ${c.words.map((w) => quoteIfNeeded(w)).join(' ')}`);
  }
  if (s.body.length > 0) {
    assert(s.body[0].kind === 'at', "printer: the body must start with an 'at'");
    out.push('');
    for (const st of s.body) out.push(printStatement(st));
  }
  return out.join('\n') + '\n';
}

/** One body statement as a line: time statements at the margin, steps indented. */
export function printStatement(st: Statement): string {
  switch (st.kind) {
    case 'at':
      return `at ${st.relative ? '+' : ''}${formatDurationUs(st.timeUs)}`;
    case 'run':
      return `run ${formatDurationUs(st.durUs)}`;
    case 'await':
      return `await ${printPredicate(st.pred)} within ${formatDurationUs(st.withinUs)}`;
    case 'command':
      return INDENT + `${nodeName(st.node)}: ${commandArgs(st.args)}`;
    case 'load': {
      let line = `load ${st.node.startsWith('@') ? st.node : nodeName(st.node)} ${count(st.count, 1)}`;
      if (st.overUs !== 0) line += ` over ${formatDurationUs(st.overUs)}`;
      if (st.sizeBytes !== 16) line += ` size ${formatSizeBytes(st.sizeBytes)}`;
      if (st.keys !== null) line += ` keys ${count(st.keys, 1)}`;
      if (st.db !== 0) line += ` db ${count(st.db, 0)}`;
      if (st.ttlUs !== undefined) line += ` ttl ${formatDurationUs(st.ttlUs)}`;
      if (st.wait !== undefined) line += ` wait ${count(st.wait.replicas, 0)} ${count(st.wait.timeoutMs, 0)}`;
      if (st.from !== undefined) line += ` from ${nodeName(st.from)}`;
      return INDENT + line;
    }
    case 'partition':
      return INDENT + `partition ${groups(st.groups)}`;
    case 'partition-one-way':
      return INDENT + `partition ${nodeName(st.from)} -> ${nodeName(st.to)}`;
    case 'heal-all':
      return INDENT + 'heal';
    case 'heal':
      return INDENT + `heal ${groups(st.groups)}`;
    case 'heal-one-way':
      return INDENT + `heal ${nodeName(st.from)} -> ${nodeName(st.to)}`;
    case 'kill-link':
      return INDENT + `kill-link ${nodeName(st.a)} ${nodeName(st.b)}`;
    case 'crash':
    case 'poweroff':
    case 'restart':
      return INDENT + `${st.kind} ${nodeName(st.node)}`;
    case 'pause':
      return INDENT + `pause ${nodeName(st.node)} ${formatDurationUs(st.durUs)}`;
    case 'link':
      return INDENT + `link ${linkTarget(st.target)} ${linkModel(st.model)}`;
    case 'let':
      assert(VAR_NAME.test(st.name), `printer: bad variable name '${st.name}'`);
      return INDENT + `let ${st.name} = ${printOperand(st.value)}`;
    case 'expect':
      return INDENT + `expect ${printPredicate(st.pred)}`;
    default:
      return assertNever(st);
  }
}

/** Binding strength: a child printed without parentheses must bind at least this tightly. */
function level(p: Predicate): number {
  switch (p.kind) {
    case 'or': return 1;
    case 'and': return 2;
    case 'not': return 3;
    case 'compare':
    case 'reply':
    case 'converged':
    case 'settled':
      return 4;
    default:
      return assertNever(p);
  }
}

/**
 * A predicate as the parser reads it: `or` < `and` < `not` < atoms, left-associative. A
 * `converged` with its open node list may only be last in its chain or followed by and/or,
 * which the parser stops at, so it needs no care.
 */
export function printPredicate(p: Predicate): string {
  switch (p.kind) {
    case 'compare':
      return `${printOperand(p.left)} ${p.op} ${printOperand(p.right)}`;
    case 'reply':
      return `${nodeName(p.node)}: ${commandArgs(p.args)} => ${printReply(p.expected)}`;
    case 'converged':
      return ['converged', ...p.nodes.map(nodeName)].join(' ');
    case 'settled':
      assert(/^[A-Za-z0-9_.-]+$/.test(p.master), `printer: bad master name '${p.master}'`);
      return `settled ${p.master}`;
    case 'and':
    case 'or': {
      const me = level(p);
      assert(level(p.left) >= me, `printer: '${p.kind}' over a looser '${p.left.kind}' needs parentheses, which the language lacks`);
      assert(level(p.right) > me, `printer: '${p.kind}' with a right operand '${p.right.kind}' needs parentheses (chains are left-associative)`);
      return `${printPredicate(p.left)} ${p.kind} ${printPredicate(p.right)}`;
    }
    case 'not':
      assert(level(p.operand) >= 3, `printer: 'not' over '${p.operand.kind}' needs parentheses, which the language lacks`);
      return `not ${printPredicate(p.operand)}`;
    default:
      return assertNever(p);
  }
}

/** A value as it must be written to read back as the same kind and value. */
export function printOperand(o: Operand): string {
  switch (o.kind) {
    case 'field':
      assert(FIELD_NAME.test(o.field), `printer: bad field name '${o.field}'`);
      if (o.master !== undefined) return `${nodeName(o.node)}.${o.master}.${o.field}`;
      return `${nodeName(o.node)}.${o.field}`;
    case 'number': {
      const text = String(o.value);
      assert(NUMBER_LITERAL.test(text), `printer: number ${text} has no literal form (use a decimal like 1.5)`);
      return text;
    }
    case 'word':
      assert(isBareWord(o.value), `printer: '${o.value}' cannot be written as a bare word (make it a string)`);
      return o.value;
    case 'string':
      return quoteIfNeeded(o.value, true);
    case 'var':
      assert(VAR_NAME.test(o.name), `printer: bad variable name '${o.name}'`);
      return `$${o.name}`;
    default:
      return assertNever(o);
  }
}

export function printReply(r: ExpectedReply): string {
  switch (r.kind) {
    case 'ok': return 'OK';
    case 'nil': return 'nil';
    case 'integer':
      assert(typeof r.value === 'bigint' || Number.isSafeInteger(r.value), `printer: reply integer ${r.value} is not a safe integer`);
      return String(r.value);
    case 'string': return quoteIfNeeded(r.value, true);
    case 'error': return `error ${quoteIfNeeded(r.prefix)}`;
    case 'array': return ['[', ...r.items.map(printReply), ']'].join(' ');
    default: return assertNever(r);
  }
}

/** A word the parser's operand() would read back as that same word. */
function isBareWord(w: string): boolean {
  return (
    /^[\x21-\x7e]+$/.test(w) &&
    !/^["'#$]/.test(w) &&
    !NUMBER_LITERAL.test(w) &&
    !/^[a-z][a-z0-9_-]*\./.test(w)
  );
}

/** Command arguments, quoted as needed; an `=>` is always quoted so it stays an argument. */
function commandArgs(args: string[]): string {
  assert(args.length > 0, 'printer: a command needs at least its name');
  return args.map((a) => quoteIfNeeded(a, a === '=>')).join(' ');
}

function nodeName(n: string): string {
  assert(NODE_NAME.test(n), `printer: bad node name '${n}'`);
  return n;
}

function target(t: string): string {
  return t === '*' ? '*' : nodeName(t);
}

function linkTarget(t: LinkTarget): string {
  return t === '*' ? '*' : `${nodeName(t[0])} ${nodeName(t[1])}`;
}

function linkModel(m: LinkModel): string {
  const parts: string[] = [];
  if (m.latencyUs !== undefined) parts.push(`latency ${formatDurationUs(m.latencyUs)}`);
  if (m.jitterUs !== undefined) parts.push(`jitter ${formatDurationUs(m.jitterUs)}`);
  if (m.bandwidthBps !== undefined) parts.push(`bandwidth ${formatRateBps(m.bandwidthBps)}`);
  assert(parts.length > 0, 'printer: a link line needs at least one option');
  return parts.join(' ');
}

function diskModel(m: DiskModel): string {
  const parts: string[] = [];
  if (m.writeBps !== undefined) parts.push(`write ${formatRateBps(m.writeBps)}`);
  if (m.readBps !== undefined) parts.push(`read ${formatRateBps(m.readBps)}`);
  assert(parts.length > 0, 'printer: a disk line needs write and/or read');
  return parts.join(' ');
}

function groups(gs: string[][]): string {
  assert(gs.length >= 2 && gs.every((g) => g.length > 0), 'printer: a partition needs two or more non-empty groups');
  return gs.map((g) => g.map(nodeName).join(' ')).join(' | ');
}

function count(n: number, min: number): string {
  assert(Number.isSafeInteger(n) && n >= min, `printer: bad count ${n}`);
  return String(n);
}

/**
 * Raw rest-of-line text (a config value): printed as is, so it must lex as it was parsed:
 * one line, no comment, no leading/trailing space, quotes balanced.
 */
function restOfLine(text: string, what: string): string {
  assert(!/[\n\r]/.test(text), `printer: ${what} spans lines`);
  let tokens;
  try {
    tokens = lexLine(text, 1, '<printer>');
  } catch {
    tokens = null;
  }
  assert(tokens !== null && tokens.length > 0, `printer: ${what} '${text}' does not lex`);
  const last = tokens[tokens.length - 1];
  assert(tokens[0].start === 0 && last.end === text.length, `printer: ${what} '${text}' has a comment or surrounding spaces`);
  return text;
}
