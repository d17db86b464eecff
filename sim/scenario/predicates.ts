/**
 * Evaluating predicates and operands against a running world (scenarios/README.md, "Predicates").
 * Every evaluation returns a verdict with the actual values, so a failing `expect` can say
 * what it saw ("m.sync_full is 2, expected == 1"). INFO values are strings; two values that
 * both read as numbers compare as numbers, anything else compares as text.
 */
import { assertNever } from '../assert.ts';
import type { World } from '../world/world.ts';
import type { Operand, Predicate, ExpectedReply, FieldRef } from './ast.ts';
import type { Reply } from '../core/reply.ts';
import type { Keyspace } from '../core/keyspace.ts';
import { infoField } from '../core/info.ts';
import { formatReply } from '../core/resp.ts';
import { quoteIfNeeded } from './lexer.ts';
import { ledgerField } from '../clients/report.ts';
import { sentinelFieldValue, settled } from './sentinel-predicates.ts';

export interface Verdict {
  ok: boolean;
  /** What was seen, for a failure message. */
  detail: string;
}

export interface EvalContext {
  readonly world: World;
  readonly vars: Map<string, string>;
  /** Run a command on NODE's scenario client; null if no reply came at once (paused, blocked, down). */
  commandNow(node: string, args: string[]): Reply | null;
}

/** A field's value, or an explanation of why there is none. */
export function fieldValue(ctx: EvalContext, f: FieldRef): { value: string } | { missing: string } {
  if (f.node === 'writes' || ctx.world.clients.has(f.node)) return ledgerField(ctx.world, f.node, f.field);
  const fromSentinel = ctx.world.sentinelSlots.size > 0 ? sentinelFieldValue(ctx.world, f) : null;
  if (fromSentinel !== null) return fromSentinel;
  const slot = ctx.world.slots.get(f.node);
  const node = slot?.node ?? null;
  if (node === null) return { missing: `${f.node} is down` };
  const v = infoField(node, f.field);
  if (v === undefined) return { missing: `${f.node} has no INFO field '${f.field}'` };
  return { value: v };
}

export function operandValue(ctx: EvalContext, o: Operand): { value: string } | { missing: string } {
  switch (o.kind) {
    case 'field': return fieldValue(ctx, o);
    case 'number': return { value: String(o.value) };
    case 'word': return { value: o.value };
    case 'string': return { value: o.value };
    case 'var': {
      const v = ctx.vars.get(o.name);
      return v === undefined ? { missing: `$${o.name} is not set` } : { value: v };
    }
    default: return assertNever(o);
  }
}

function describe(o: Operand, v: string): string {
  switch (o.kind) {
    case 'field': return `${o.node}.${o.master !== undefined ? `${o.master}.` : ''}${o.field} is ${v}`;
    case 'var': return `$${o.name} is ${v}`;
    case 'number': case 'word': case 'string': return v;
    default: return assertNever(o);
  }
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

export function compareValues(a: string, op: string, b: string): boolean {
  if (op === 'contains') return a.includes(b);
  const numeric = NUMERIC.test(a) && NUMERIC.test(b);
  const c = numeric ? Math.sign(Number(a) - Number(b)) : a < b ? -1 : a > b ? 1 : 0;
  switch (op) {
    case '==': return c === 0;
    case '!=': return c !== 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
    default: return false;
  }
}

export function evalPredicate(ctx: EvalContext, p: Predicate): Verdict {
  switch (p.kind) {
    case 'compare': {
      const l = fieldValue(ctx, p.left);
      if ('missing' in l) return { ok: false, detail: l.missing };
      const r = operandValue(ctx, p.right);
      if ('missing' in r) return { ok: false, detail: r.missing };
      const ok = compareValues(l.value, p.op, r.value);
      const rightText = p.right.kind === 'field' || p.right.kind === 'var' ? describe(p.right, r.value) : r.value;
      const leftName = `${p.left.node}.${p.left.master !== undefined ? `${p.left.master}.` : ''}${p.left.field}`;
      return { ok, detail: `${leftName} is ${l.value}; expected ${p.op} ${rightText}` };
    }
    case 'reply': {
      const reply = ctx.commandNow(p.node, p.args);
      if (reply === null) return { ok: false, detail: `${p.node} did not reply at once (paused, blocked or sleeping)` };
      const ok = replyMatches(reply, p.expected, ctx.vars);
      // An array reply on one line, in the syntax of the expectation, so the two read side by side.
      const seen = reply.kind === 'array' && reply.items !== null ? replyText(reply) : formatReply(reply);
      return { ok, detail: `replied ${seen}; expected ${expectedText(p.expected, ctx.vars)}` };
    }
    case 'converged': return converged(ctx, p.nodes);
    case 'settled': return settled(ctx.world, p.master);
    case 'and': {
      const l = evalPredicate(ctx, p.left);
      if (!l.ok) return l;
      return evalPredicate(ctx, p.right);
    }
    case 'or': {
      const l = evalPredicate(ctx, p.left);
      if (l.ok) return l;
      const r = evalPredicate(ctx, p.right);
      return r.ok ? r : { ok: false, detail: `${l.detail}; and ${r.detail}` };
    }
    case 'not': {
      const v = evalPredicate(ctx, p.operand);
      return { ok: !v.ok, detail: v.ok ? `it holds: ${v.detail}` : v.detail };
    }
    default: return assertNever(p);
  }
}

export function replyMatches(r: Reply, e: ExpectedReply, vars: ReadonlyMap<string, string> = new Map()): boolean {
  switch (e.kind) {
    case 'ok': return r.kind === 'status' && r.text === 'OK';
    case 'nil': return (r.kind === 'bulk' && r.value === null) || (r.kind === 'array' && r.items === null);
    case 'integer': return r.kind === 'int' && r.value === e.value;
    case 'string': return (r.kind === 'bulk' && r.value === e.value) || (r.kind === 'status' && r.text === e.value);
    case 'error': return r.kind === 'error' && r.text.startsWith(e.prefix);
    case 'array':
      return r.kind === 'array' && r.items !== null && r.items.length === e.items.length && e.items.every((x, i) => replyMatches(r.items![i]!, x, vars));
    case 'any': return true;
    case 'var': {
      // The variable holds INFO text (`let off = m.master_repl_offset`): ROLE's offset is an
      // integer for the node itself and a bulk string in a master's list of replicas.
      const v = vars.get(e.name);
      if (v === undefined) return false;
      return (r.kind === 'int' && String(r.value) === v) || (r.kind === 'bulk' && r.value === v) || (r.kind === 'status' && r.text === v);
    }
    default: return assertNever(e);
  }
}

function expectedText(e: ExpectedReply, vars: ReadonlyMap<string, string>): string {
  switch (e.kind) {
    case 'ok': return 'OK';
    case 'nil': return 'nil';
    case 'integer': return String(e.value);
    case 'string': return JSON.stringify(e.value);
    case 'error': return `an error starting with ${e.prefix}`;
    case 'array': return `[ ${e.items.map((x) => expectedText(x, vars)).join(' ')} ]`;
    case 'any': return '*';
    case 'var': {
      const v = vars.get(e.name);
      return v === undefined ? `$${e.name} (not set)` : `$${e.name} (${v})`;
    }
    default: return assertNever(e);
  }
}

/** A reply in the expectation syntax: `[ "master" 14 [ [ "r1" "6379" "14" ] ] ]`. */
export function replyText(r: Reply): string {
  switch (r.kind) {
    case 'status': return r.text === 'OK' ? 'OK' : quoteIfNeeded(r.text, true);
    case 'error': return `error ${quoteIfNeeded(r.text, true)}`;
    case 'int': return String(r.value);
    case 'bulk': return r.value === null ? 'nil' : quoteIfNeeded(r.value, true);
    case 'array': return r.items === null ? 'nil' : `[ ${r.items.map(replyText).join(' ')} ]`;
    default: return assertNever(r);
  }
}

/**
 * `converged [NODE...]`: same master_replid and master_repl_offset, same DEBUG DIGEST, and every
 * replica's link up. With no names: every node that is up.
 *
 * An await evaluates this after every event, so it is kept cheap: ids, offsets and links first;
 * then, instead of hashing every key of every node (DEBUG DIGEST, five SHA1s per key), a direct
 * comparison of each dataset with the first (Keyspace.sameDataset: equal datasets are exactly
 * the ones with equal digests), remembered until either dataset changes (Keyspace.version). The
 * digests themselves are computed only when the verdict's detail is read (a check's record).
 */
export function converged(ctx: EvalContext, names: readonly string[]): Verdict {
  const list = names.length > 0 ? names : [...ctx.world.slots.keys()].filter((n) => ctx.world.slots.get(n)!.node !== null);
  const nodes = list.map((name) => ({ name, node: ctx.world.slots.get(name)?.node ?? null }));
  let ok = nodes.every(({ node }) => node !== null && (!node.isReplica || node.replState === 'connected'));
  const first = nodes[0]?.node ?? null;
  if (ok && first !== null) {
    ok = nodes.every(({ node }) => node!.replid === first.replid && node!.masterReplOffset === first.masterReplOffset);
  }
  const compared = ok;
  if (ok && first !== null) ok = nodes.every(({ node }) => node === first || sameDatasetCached(first.ks, node!.ks));
  let detail: string | null = null;
  return {
    ok,
    get detail(): string {
      if (detail !== null) return detail;
      // Datasets found equal have equal digests: hash one of them.
      const digests = !compared ? null : ok ? nodes.map(() => first!.digest()) : nodes.map(({ node }) => node!.digest());
      const rows = nodes.map(({ name, node }, i) => {
        if (node === null) return `${name} down`;
        const link = node.isReplica ? (node.replState === 'connected' ? ' link up' : ' link DOWN') : '';
        const digest = digests !== null ? ` digest ${digests[i]!.slice(0, 8)}…` : '';
        return `${name} ${node.replid.slice(0, 8)}…:${node.masterReplOffset}${digest}${link}`;
      });
      detail = rows.join(', ');
      return detail;
    },
  };
}

/** The last comparison of two keyspaces, by the first's identity, valid while both versions hold. */
const comparisons = new WeakMap<Keyspace, Map<Keyspace, { aVersion: number; bVersion: number; equal: boolean }>>();

function sameDatasetCached(a: Keyspace, b: Keyspace): boolean {
  let byOther = comparisons.get(a);
  if (byOther === undefined) {
    byOther = new Map();
    comparisons.set(a, byOther);
  }
  const last = byOther.get(b);
  if (last !== undefined && last.aVersion === a.version && last.bVersion === b.version) return last.equal;
  const equal = a.sameDataset(b);
  byOther.set(b, { aVersion: a.version, bVersion: b.version, equal });
  return equal;
}
