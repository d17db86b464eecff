/**
 * The write ledger: every write of every client load, with its key, value, client, the node that
 * answered, that node's replid and offset when it applied it, and its outcome; and, at the end,
 * which acknowledged writes are lost and which recorded event discarded them.
 *
 * Theory of operation. An outcome is what the client saw: `acked` (+OK, and WAIT answered at
 * least N when the load asks for it), `failed` (nothing was written: an error reply such as
 * -READONLY or -NOREPLICAS, or no connection to send it on), `unknown` (sent, but no reply before
 * the connection closed or the client's timeout; or WAIT answered fewer than N), `pending` (the
 * run ended before the client got to it). A write is `lost` when it was acknowledged and its
 * value is not in the dataset of the group's single master now: the node that every up data node
 * follows, directly or down a chain. With `keys N` a later write to the same key may have
 * replaced it: a write is only lost if the value the master holds for its key belongs to no write
 * issued after it.
 *
 * Causes are computed from the histories (history.ts), never guessed. For a lost write at offsets
 * (start, end] of history H: if the master's history forked from H before `end` (a promotion),
 * and that fork came no later than the last moment some node stopped holding the write, the
 * promotion threw it away; otherwise the cause is that last hold's end: a full sync that flushed
 * the node, or a crash / power-off of a node that had neither replicated nor persisted it.
 */
import type { HistoryLog, Fork, HoldEnd } from './history.ts';

export type Outcome = 'pending' | 'acked' | 'failed' | 'unknown';

export interface LedgerEntry {
  /** Order of issue over the whole run. */
  readonly seq: number;
  readonly client: string;
  /** The scenario line of the load that scheduled it. */
  readonly line: number;
  readonly key: string;
  readonly value: string;
  readonly db: number;
  /** When the load scheduled it. */
  readonly dueUs: number;
  /** The node the client sent it to, or null if it never went out. */
  node: string | null;
  /** The answering node's master_replid and master_repl_offset when it processed the write. */
  replid: string | null;
  offset: number;
  /** The stream bytes the write occupies in that history, (startOffset, endOffset]; null when not propagated. */
  startOffset: number | null;
  endOffset: number | null;
  outcome: Outcome;
  /** The error reply, or why the outcome is unknown. */
  detail: string;
  /** When the outcome was settled (-1 while pending). */
  doneUs: number;
  /** With `wait N TIMEOUT`: what WAIT answered (replicas that acknowledged the write), else null. */
  waitAcks: number | null;
}

export class Ledger {
  readonly entries: LedgerEntry[] = [];
  /**
   * The entries of each db and key, in issue order, kept as entries are added: `await
   * writes.lost` asks after every event, and regrouping the whole ledger each time was its cost.
   */
  readonly byKey = new Map<string, LedgerEntry[]>();

  add(client: string, line: number, key: string, value: string, db: number, dueUs: number): LedgerEntry {
    const e: LedgerEntry = {
      seq: this.entries.length, client, line, key, value, db, dueUs, node: null, replid: null, offset: -1,
      startOffset: null, endOffset: null, outcome: 'pending', detail: '', doneUs: -1, waitAcks: null,
    };
    this.entries.push(e);
    const k = `${db}\0${key}`;
    const list = this.byKey.get(k);
    if (list === undefined) this.byKey.set(k, [e]);
    else list.push(e);
    return e;
  }

  settle(e: LedgerEntry, outcome: Exclude<Outcome, 'pending'>, detail: string, nowUs: number): void {
    if (e.outcome !== 'pending') return;
    e.outcome = outcome;
    e.detail = detail;
    e.doneUs = nowUs;
  }
}

// ---------------------------------------------------------------------------------------------
// The world as the analysis needs it (an adapter builds it from the World; tests fake it).

export interface DataNodeView {
  readonly name: string;
  readonly up: boolean;
  /** REPLICAOF target, or null for a master. */
  readonly masterhost: string | null;
  readonly replid: string;
  readonly offset: number;
  /** The value of db/key, or undefined when absent (expired keys count as absent). */
  get(db: number, key: string): string | undefined;
}

export type MasterResult = { ok: true; node: DataNodeView } | { ok: false; why: string };

/** The one node every up data node follows, directly or down a chain. */
export function singleMaster(nodes: readonly DataNodeView[]): MasterResult {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const up = nodes.filter((n) => n.up);
  if (up.length === 0) return { ok: false, why: 'no data node is up' };
  const roots = new Set<string>();
  for (const n of up) {
    let cur = n;
    for (let hops = 0; ; hops++) {
      if (cur.masterhost === null) break;
      const next = byName.get(cur.masterhost);
      if (next === undefined) return { ok: false, why: `${cur.name} follows ${cur.masterhost}, which is not a data node` };
      if (!next.up) return { ok: false, why: `${cur.name} follows ${next.name}, which is down` };
      if (hops > nodes.length) return { ok: false, why: `${n.name} follows a loop of replicas` };
      cur = next;
    }
    roots.add(cur.name);
  }
  if (roots.size > 1) return { ok: false, why: `no single master: ${[...roots].join(' and ')} are both masters of up nodes` };
  return { ok: true, node: byName.get([...roots][0]!)! };
}

/**
 * How many of lostWrites(ledger.entries, master) `client` issued (every client's with null):
 * the same rule, over the ledger's own grouping, without building the list.
 */
export function lostWritesCount(ledger: Ledger, master: DataNodeView, client: string | null): number {
  let lost = 0;
  for (const list of ledger.byKey.values()) {
    const first = list[0]!;
    const held = master.get(first.db, first.key);
    let keptSeq = -1;
    if (held !== undefined) for (const e of list) if (e.value === held) keptSeq = e.seq;
    for (const e of list) if (e.outcome === 'acked' && e.seq > keptSeq && (client === null || e.client === client)) lost++;
  }
  return lost;
}

/** Acknowledged writes whose value the master no longer holds (see the file comment). */
export function lostWrites(entries: readonly LedgerEntry[], master: DataNodeView): LedgerEntry[] {
  const byKey = new Map<string, LedgerEntry[]>();
  for (const e of entries) {
    const k = `${e.db}\0${e.key}`;
    const list = byKey.get(k);
    if (list === undefined) byKey.set(k, [e]);
    else list.push(e);
  }
  const lost: LedgerEntry[] = [];
  for (const list of byKey.values()) {
    const first = list[0]!;
    const held = master.get(first.db, first.key);
    // The latest write (in issue order) whose value is the one held: everything issued before it was replaced.
    let keptSeq = -1;
    if (held !== undefined) for (const e of list) if (e.value === held) keptSeq = e.seq;
    for (const e of list) if (e.outcome === 'acked' && e.seq > keptSeq) lost.push(e);
  }
  return lost.sort((a, b) => a.seq - b.seq);
}

export type CauseKind = 'promotion' | 'full-sync' | 'crash' | 'poweroff' | 'unexplained';

export interface LossGroup {
  readonly cause: CauseKind;
  /** One sentence: the event, the node that acknowledged the writes, their offsets. */
  readonly text: string;
  readonly count: number;
  /** The node that acknowledged them. */
  readonly node: string;
  readonly event: { node: string; atUs: number; replid: string; offset: number } | null;
  readonly offsets: { from: number; to: number } | null;
  readonly ackedUs: { from: number; to: number };
  /** Up to five keys, for the reader to look up. */
  readonly keys: string[];
}

interface Attribution {
  cause: CauseKind;
  fork: Fork | null;
  end: HoldEnd | null;
  /** For a promotion: the write was acknowledged after the fork (not just unreplicated lag). */
  afterFork: boolean;
}

/** Why one lost write is gone, from the recorded histories. */
export function attribute(e: LedgerEntry, master: DataNodeView, histories: HistoryLog): Attribution {
  if (e.replid === null) return { cause: 'unexplained', fork: null, end: null, afterFork: false };
  const endOffset = e.endOffset ?? e.offset;
  const a = histories.ancestry(master.replid, master.offset, e.replid);
  const fork = a !== null && a.bound < endOffset ? a.fork : null;
  let last: HoldEnd | null = null;
  for (const h of histories.ends) {
    if (histories.holds(h.replid, h.offset, e.replid, endOffset) && (last === null || h.atUs >= last.atUs)) last = h;
  }
  if (fork !== null && (last === null || fork.atUs <= last.atUs)) {
    return { cause: 'promotion', fork, end: null, afterFork: e.doneUs >= fork.atUs };
  }
  if (last !== null) return { cause: last.why, fork: null, end: last, afterFork: false };
  return { cause: 'unexplained', fork: null, end: null, afterFork: false };
}

function seconds(us: number): string {
  return `${(us / 1e6).toFixed(2)} s`;
}

function short(replid: string): string {
  return `${replid.slice(0, 4)}…`;
}

/** The lost writes grouped by the event that discarded them and the node that acknowledged them. */
export function lossGroups(lost: readonly LedgerEntry[], master: DataNodeView, histories: HistoryLog): LossGroup[] {
  const groups = new Map<string, { at: Attribution; items: LedgerEntry[] }>();
  for (const e of lost) {
    const at = attribute(e, master, histories);
    const id = at.fork !== null ? `f${histories.forks.indexOf(at.fork)}${at.afterFork ? 'a' : 'b'}` : at.end !== null ? `e${histories.ends.indexOf(at.end)}` : 'u';
    const key = `${id} ${e.node}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { at, items: [e] });
    else g.items.push(e);
  }
  const out: LossGroup[] = [];
  for (const { at, items } of groups.values()) {
    const node = items[0]!.node ?? '?';
    const starts = items.map((e) => (e.startOffset ?? e.offset) + (e.startOffset !== null ? 1 : 0));
    const ends = items.map((e) => e.endOffset ?? e.offset);
    const offsets = items[0]!.replid !== null ? { from: Math.min(...starts), to: Math.max(...ends) } : null;
    const ackedUs = { from: Math.min(...items.map((e) => e.doneUs)), to: Math.max(...items.map((e) => e.doneUs)) };
    const n = items.length;
    const these = n === 1 ? 'this write' : `these ${n} writes`;
    const where = offsets !== null ? ` at offsets ${offsets.from}–${offsets.to} of history ${short(items[0]!.replid!)}` : '';
    let text: string;
    let event: LossGroup['event'] = null;
    if (at.fork !== null) {
      const f = at.fork;
      event = { node: f.node, atUs: f.atUs, replid: f.fromReplid, offset: f.offset };
      const what = f.why === 'promotion' ? 'was promoted' : f.why === 'restart' ? 'restarted' : 'started a new history';
      text = `${f.node} ${what} at ${seconds(f.atUs)} holding history ${short(f.fromReplid)} up to offset ${f.offset}; ` +
        `${node} acknowledged ${these}${where} ` +
        (at.afterFork ? 'after the fork' : `before the fork, but ${n === 1 ? 'it' : 'they'} had not reached ${f.node}`);
    } else if (at.end !== null) {
      const h = at.end;
      event = { node: h.node, atUs: h.atUs, replid: h.replid, offset: h.offset };
      const held = `holding history ${short(h.replid)} up to offset ${h.offset}`;
      if (h.why === 'full-sync') {
        text = `${h.node} was flushed by a full sync at ${seconds(h.atUs)} (${held}); no other node kept ${these} acknowledged by ${node}${where}`;
      } else {
        const how = h.why === 'crash' ? 'crashed' : 'was powered off';
        text = `${h.node} ${how} at ${seconds(h.atUs)} ${held}; ${these} acknowledged by ${node}${where} had not been replicated or persisted`;
      }
    } else {
      text = `${these} acknowledged by ${node}${where} are gone, and no recorded promotion, full sync or crash explains it (overwritten or deleted by a command?)`;
    }
    out.push({ cause: at.cause, text, count: n, node, event, offsets, ackedUs, keys: items.slice(0, 5).map((e) => e.key) });
  }
  return out;
}

/**
 * Lost writes that broke WAIT's promise: WAIT said every other data node had the write (so it was
 * on all of them), and yet it is gone although no node crashed or was powered off from that
 * moment on. Without a failure nothing can discard a write every node holds: a promotion of any
 * of them keeps it, and a full sync can only copy it from another holder. A loss with a crash in
 * between is Redis by design (an empty restart wipes its replicas through a full sync), so it is
 * a figure, not a broken promise.
 */
export function brokenWaitPromises(lost: readonly LedgerEntry[], dataNodeCount: number, histories: HistoryLog): LedgerEntry[] {
  const needed = Math.max(1, dataNodeCount - 1);
  return lost.filter((e) => e.waitAcks !== null && e.waitAcks >= needed &&
    !histories.ends.some((h) => (h.why === 'crash' || h.why === 'poweroff') && h.atUs >= e.doneUs));
}

export interface ClientReport {
  readonly client: string;
  readonly sent: number;
  readonly acked: number;
  readonly failed: number;
  readonly unknown: number;
  readonly pending: number;
  /** null when there is no single master to judge against. */
  readonly lost: number | null;
  readonly groups: LossGroup[];
}

export interface LedgerReport {
  /** The master the losses were judged against, or why there is none. */
  readonly master: string | null;
  readonly masterWhy: string;
  readonly clients: ClientReport[];
  readonly total: Omit<ClientReport, 'client' | 'groups'>;
  /** Lost writes per cause over every client. */
  readonly byCause: Record<CauseKind, number>;
  /** Lost writes that WAIT had confirmed on every other node, with no crash since (brokenWaitPromises). */
  readonly waitPromiseBroken: number;
  /** The first of them, described, or null. */
  readonly waitPromiseExample: string | null;
}

export function counts(entries: readonly LedgerEntry[]): { sent: number; acked: number; failed: number; unknown: number; pending: number } {
  const c = { sent: entries.length, acked: 0, failed: 0, unknown: 0, pending: 0 };
  for (const e of entries) c[e.outcome]++;
  return c;
}

/** The whole report: per client, and totals. */
export function ledgerReport(ledger: Ledger, clients: readonly string[], nodes: readonly DataNodeView[], histories: HistoryLog): LedgerReport {
  const m = singleMaster(nodes);
  const lost = m.ok ? lostWrites(ledger.entries, m.node) : null;
  const byCause: Record<CauseKind, number> = { promotion: 0, 'full-sync': 0, crash: 0, poweroff: 0, unexplained: 0 };
  const rows: ClientReport[] = clients.map((client) => {
    const mine = ledger.entries.filter((e) => e.client === client);
    const lostMine = lost === null ? null : lost.filter((e) => e.client === client);
    const groups = lostMine === null || !m.ok ? [] : lossGroups(lostMine, m.node, histories);
    for (const g of groups) byCause[g.cause] += g.count;
    return { client, ...counts(mine), lost: lostMine === null ? null : lostMine.length, groups };
  });
  const total = { ...counts(ledger.entries), lost: lost === null ? null : lost.length };
  const broken = lost === null ? [] : brokenWaitPromises(lost, nodes.length, histories);
  const ex = broken[0];
  const waitPromiseExample = ex === undefined ? null
    : `${ex.client} wrote ${ex.key} to ${ex.node} (offset ${ex.endOffset ?? ex.offset}), WAIT answered ${ex.waitAcks} at ${seconds(ex.doneUs)}, and no node crashed since, yet master ${m.ok ? m.node.name : '?'} does not hold it`;
  return { master: m.ok ? m.node.name : null, masterWhy: m.ok ? '' : m.why, clients: rows, total, byCause, waitPromiseBroken: broken.length, waitPromiseExample };
}
