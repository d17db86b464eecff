/**
 * `psync-sim run FILE --html OUT.html`: one self-contained page that shows a recorded run — a
 * space-time diagram (a lane per process, an arrow per message, faults as shaded spans, checks as
 * marks), a time cursor with every node's state at that moment (role, replid, offsets, the backlog
 * as a bar with each replica's offset on it), a chart of every node's offset over time, and a card
 * per PSYNC decision drawing the request against the server's history.
 *
 * Theory of operation. Everything the page shows is derived here, in Node, from the Recording
 * (sim/trace/record.ts) into plain arrays (`PageData`), embedded as JSON; the page's script
 * (sim/trace/page-client.ts) only draws. Nothing is fetched: the script, the styles and the
 * charting library (uPlot, MIT) are inlined. Strings from the scenario or the trace reach the
 * page only inside the two data blocks (html-block.ts), gzipped and in base64 (no `<` can end
 * a block), and the script puts them in the DOM as text (never as HTML), so a `</script>` in a
 * title stays text.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import type { Recording, RecordedEvent, NodeState } from './record.ts';
import { stateAt } from './record.ts';
import { STREAM_KINDS } from './events.ts';
import { explain } from './explain.ts';
import { pageMain } from './page-client.ts';
import { encodePageBlock, decodePageBlock } from './html-block.ts';
import type { PageLater } from './html-block.ts';

/** A message between two processes, drawn as an arrow. */
export interface Arrow {
  readonly from: string;
  readonly fromUs: number;
  readonly to: string;
  readonly toUs: number;
  /** Colour and legend: the handshake, PSYNC and its answer, the RDB (a band), the stream, REPLCONF ACK and GETACK. */
  readonly kind: 'handshake' | 'psync' | 'fullresync' | 'continue' | 'rdb' | 'stream' | 'ack' | 'getack';
  readonly label: string;
}

/** A fault drawn as a shaded span over the lanes it concerns. */
export interface Span {
  readonly kind: 'partition' | 'pause' | 'crash' | 'poweroff' | 'sleep';
  readonly nodes: readonly string[];
  readonly fromUs: number;
  /** null: still in force when the run ended. */
  readonly toUs: number | null;
  readonly label: string;
}

/** One PSYNC decision: the request drawn against the server's history and backlog window. */
export interface PsyncCard {
  readonly atUs: number;
  readonly seq: number;
  readonly master: string;
  readonly replica: string;
  readonly replid: string;
  readonly offset: string;
  readonly accepted: boolean;
  readonly reason: string;
  readonly sendBytes: number;
  /** The server's history and backlog just before it decided (what the card draws). */
  readonly server: Pick<NodeState, 'replid' | 'replid2' | 'offset' | 'secondOffset' | 'backlogFirst' | 'backlogHistlen'> | null;
}

export interface PageData {
  readonly title: string | null;
  readonly file: string;
  readonly seed: string;
  readonly endUs: number;
  readonly lanes: readonly string[];
  /** The trace's events, but for the stream's (`--trace-level stream`: those are drawn as arrows,
   *  in batches), packed (packEvents): what the page lists and draws of each, not every field. */
  readonly events: PackedEvents;
  /** How many stream events the run traced (0 unless `--trace-level stream`). */
  readonly streamEvents: number;
  /** Every node's states, packed (packStates): a sample is a row of numbers into `strings`. */
  readonly states: PackedStates;
  /** Every arrow, packed (packArrows). */
  readonly arrows: PackedArrows;
  readonly spans: readonly Span[];
  readonly cards: readonly PsyncCard[];
  readonly story: readonly string[];
}

/**
 * NodeState samples packed for the page: strings (replids, names, states) are interned once, a
 * sample is one row of numbers, and time, seq and offset are stored as differences from the
 * previous row. A 40k-event run's 70k samples take about a tenth of their JSON as objects.
 * A node's rows follow each other in one flat array (the page gets it as a typed array, see
 * encodePageBlock, and reads a row where it is instead of building an object per sample).
 */
export interface PackedStates {
  readonly strings: readonly string[];
  /** Per node, its rows one after the other, each STATE_ROW_FIXED + 3 × (replica count) numbers:
   *  [dAtUs, dSeq, process, role(0 master, 1 replica), master, link(0 none, 1 up, 2 down),
   *  replState, replid, replid2, dOffset, secondOffset, backlogFirst, backlogHistlen, keys,
   *  replica count, then per replica: name, ackOffset, state] (strings as indexes, master -1 for none). */
  readonly rows: Readonly<Record<string, ArrayLike<number>>>;
}

/** The numbers of a state row before its replicas (the replica count is the last of them). */
export const STATE_ROW_FIXED = 15;

/** A string table for packing: `str(v)` is v's index in `strings`, added on first sight. */
function internTable(): { strings: string[]; str: (v: string) => number } {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const str = (v: string): number => {
    let i = index.get(v);
    if (i === undefined) {
      i = strings.length;
      strings.push(v);
      index.set(v, i);
    }
    return i;
  };
  return { strings, str };
}

export function packStates(states: Recording['states']): PackedStates {
  const { strings, str } = internTable();
  const rows: Record<string, number[]> = {};
  for (const [node, list] of Object.entries(states)) {
    let t = 0;
    let seq = 0;
    let off = 0;
    const row: number[] = [];
    for (const s of list) {
      row.push(s.atUs - t, s.seq - seq, str(s.process), s.role === 'replica' ? 1 : 0, s.master === null ? -1 : str(s.master),
        s.link === null ? 0 : s.link === 'up' ? 1 : 2, str(s.replState), str(s.replid), str(s.replid2), s.offset - off,
        s.secondOffset, s.backlogFirst, s.backlogHistlen, s.keys, s.replicas.length);
      for (const r of s.replicas) row.push(str(r.name), r.ackOffset, str(r.state));
      t = s.atUs;
      seq = s.seq;
      off = s.offset;
    }
    rows[node] = row;
  }
  return { strings, rows };
}

/** The inverse of packStates (the tests check the round trip; the page reads rows in place). */
export function unpackStates(p: PackedStates): Record<string, NodeState[]> {
  const out: Record<string, NodeState[]> = {};
  const S = p.strings;
  for (const node of Object.keys(p.rows)) {
    const r = p.rows[node]!;
    let t = 0;
    let seq = 0;
    let off = 0;
    const list: NodeState[] = [];
    for (let i = 0; i < r.length; i += STATE_ROW_FIXED + 3 * r[i + 14]!) {
      t += r[i]!;
      seq += r[i + 1]!;
      off += r[i + 9]!;
      const replicas: Array<{ name: string; ackOffset: number; state: string }> = [];
      for (let k = 0, j = i + STATE_ROW_FIXED; k < r[i + 14]!; k++, j += 3) replicas.push({ name: S[r[j]!]!, ackOffset: r[j + 1]!, state: S[r[j + 2]!]! });
      list.push({
        atUs: t, seq, process: S[r[i + 2]!]!, role: r[i + 3] === 1 ? 'replica' : 'master', master: r[i + 4] === -1 ? null : S[r[i + 4]!]!,
        link: r[i + 5] === 0 ? null : r[i + 5] === 1 ? 'up' : 'down', replState: S[r[i + 6]!]!, replid: S[r[i + 7]!]!, replid2: S[r[i + 8]!]!,
        offset: off, secondOffset: r[i + 10]!, backlogFirst: r[i + 11]!, backlogHistlen: r[i + 12]!, keys: r[i + 13]!, replicas,
      });
    }
    out[node] = list;
  }
  return out;
}

/**
 * The events as the page needs them: when, in what order, on whose lane, the sentence `--trace`
 * prints, and a check's verdict. A 100k-event run's events as whole objects were 19 MB of the
 * page's 31 MB; most sentences repeat (the handshake of every reconnection reads the same), so
 * each distinct one is stored once.
 */
export interface PackedEvents {
  /** Distinct sentences. */
  readonly sentences: readonly string[];
  /** Four numbers per event: dAtUs and dSeq (from the previous event), lane index (-1: none), sentence index. */
  readonly rows: ArrayLike<number>;
  /** The check events, whole (a page draws each as a mark). */
  readonly checks: ReadonlyArray<{ readonly atUs: number; readonly seq: number; readonly line: number; readonly ok: boolean; readonly text: string; readonly detail: string }>;
}

export function packEvents(events: readonly RecordedEvent[], lanes: readonly string[]): PackedEvents {
  const sentences: string[] = [];
  const index = new Map<string, number>();
  const rows: number[] = [];
  const checks: Array<PackedEvents['checks'][number]> = [];
  let t = 0;
  let seq = 0;
  for (const e of events) {
    let i = index.get(e.sentence);
    if (i === undefined) {
      i = sentences.length;
      sentences.push(e.sentence);
      index.set(e.sentence, i);
    }
    rows.push(e.atUs - t, e.seq - seq, 'node' in e ? lanes.indexOf(e.node) : -1, i);
    t = e.atUs;
    seq = e.seq;
    if (e.kind === 'check') checks.push({ atUs: e.atUs, seq: e.seq, line: e.line, ok: e.ok, text: e.text, detail: e.detail });
  }
  return { sentences, rows, checks };
}

const ARROW_KINDS: ReadonlyArray<Arrow['kind']> = ['handshake', 'psync', 'fullresync', 'continue', 'rdb', 'stream', 'ack', 'getack'];

/** Arrows packed for the page: six numbers per arrow, names and labels interned (the handshake's
 *  labels repeat at every reconnection), in order of departure (fromUs). */
export interface PackedArrows {
  readonly kinds: ReadonlyArray<Arrow['kind']>;
  readonly strings: readonly string[];
  /** Per arrow: from (string), fromUs, to (string), toUs, kind (index into kinds), label (string). */
  readonly rows: ArrayLike<number>;
}

export function packArrows(arrows: readonly Arrow[]): PackedArrows {
  const { strings, str } = internTable();
  const rows: number[] = [];
  for (const a of arrows) rows.push(str(a.from), a.fromUs, str(a.to), a.toUs, ARROW_KINDS.indexOf(a.kind), str(a.label));
  return { kinds: ARROW_KINDS, strings, rows };
}

/** Stream traffic is drawn as at most this many arrows per master → replica pair. */
const STREAM_ARROWS_MAX = 400;
/** How long an arrow for a command that was never answered is drawn (its arrival is unknown). */
const UNANSWERED_US = 1000;

export function pageData(rec: Recording): PageData {
  let streamEvents = 0;
  for (const e of rec.events) if (STREAM_KINDS.has(e.kind)) streamEvents++;
  return {
    title: rec.title,
    file: rec.file,
    seed: rec.seed,
    endUs: rec.endUs,
    lanes: rec.nodes,
    events: packEvents(streamEvents === 0 ? rec.events : rec.events.filter((e) => !STREAM_KINDS.has(e.kind)), rec.nodes),
    streamEvents,
    states: packStates(rec.states),
    // By departure (a stable sort): the page finds the arrows in view by binary search.
    arrows: packArrows([...messageArrows(rec.events), ...(streamEvents === 0 ? streamArrows(rec) : streamEventArrows(rec.events))].sort((a, b) => a.fromUs - b.fromUs)),
    spans: faultSpans(rec),
    cards: psyncCards(rec),
    story: explain(rec),
  };
}

/**
 * Arrows from the events that name both ends: a command and its answer are matched in order
 * per (sender, receiver), as TCP delivers them; a handshake reply comes back to its sender.
 */
export function messageArrows(events: readonly RecordedEvent[]): Arrow[] {
  const out: Arrow[] = [];
  const pending = new Map<string, RecordedEvent[]>();
  const push = (key: string, e: RecordedEvent): void => {
    const q = pending.get(key);
    if (q) q.push(e);
    else pending.set(key, [e]);
  };
  const take = (key: string): RecordedEvent | undefined => pending.get(key)?.shift();
  const lastPsyncReceived = new Map<string, number>();
  const unanswered = (s: RecordedEvent): void => {
    if (s.kind === 'handshake-send') out.push({ from: s.node, fromUs: s.atUs, to: s.peer, toUs: s.atUs + UNANSWERED_US, kind: 'handshake', label: `${s.command} (never answered)` });
  };
  for (const e of events) {
    switch (e.kind) {
      case 'handshake-send':
        push(`hs ${e.node} ${e.peer}`, e);
        break;
      case 'handshake-reply': {
        const s = take(`hs ${e.node} ${e.peer}`);
        if (s !== undefined && s.kind === 'handshake-send') {
          const mid = Math.round((s.atUs + e.atUs) / 2);
          out.push({ from: e.node, fromUs: s.atUs, to: e.peer, toUs: mid, kind: 'handshake', label: s.command });
          out.push({ from: e.peer, fromUs: mid, to: e.node, toUs: e.atUs, kind: 'handshake', label: e.reply });
        } else {
          // An answer to a PSYNC (e.g. -NOMASTERLINK): it leaves when the server read the PSYNC.
          const asked = lastPsyncReceived.get(`${e.peer} ${e.node}`);
          out.push({ from: e.peer, fromUs: asked ?? e.atUs, to: e.node, toUs: e.atUs, kind: 'handshake', label: e.reply });
        }
        break;
      }
      case 'conn-closed': {
        // Commands that were never answered: drawn as short arrows marked so.
        for (const key of [`hs ${e.node} ${e.peer}`, `hs ${e.peer} ${e.node}`]) {
          for (const s of pending.get(key) ?? []) unanswered(s);
          pending.delete(key);
        }
        break;
      }
      case 'psync-sent':
        push(`psync ${e.node} ${e.peer}`, e);
        break;
      case 'psync-received': {
        lastPsyncReceived.set(`${e.node} ${e.peer}`, e.atUs);
        const s = take(`psync ${e.peer} ${e.node}`);
        if (s !== undefined) out.push({ from: e.peer, fromUs: s.atUs, to: e.node, toUs: e.atUs, kind: 'psync', label: `PSYNC ${e.replid} ${e.offset}` });
        break;
      }
      case 'fullresync-sent':
        push(`full ${e.node} ${e.peer}`, e);
        break;
      case 'fullresync-received': {
        const s = take(`full ${e.peer} ${e.node}`);
        if (s !== undefined) out.push({ from: e.peer, fromUs: s.atUs, to: e.node, toUs: e.atUs, kind: 'fullresync', label: `+FULLRESYNC ${e.replid} ${e.offset}` });
        break;
      }
      case 'psync-decision':
        if (e.accepted) push(`cont ${e.node} ${e.peer}`, e);
        break;
      case 'continue-received': {
        const s = take(`cont ${e.peer} ${e.node}`);
        if (s !== undefined) out.push({ from: e.peer, fromUs: s.atUs, to: e.node, toUs: e.atUs, kind: 'continue', label: `+CONTINUE${e.replid ? ' ' + e.replid : ''}` });
        break;
      }
      case 'rdb-sent':
        push(`rdb ${e.node} ${e.peer}`, e);
        break;
      case 'rdb-loaded': {
        // The RDB band: from the first byte sent to the end of the load, whoever sent it.
        for (const [key, q] of pending) {
          if (!key.startsWith('rdb ') || !key.endsWith(` ${e.node}`) || q.length === 0) continue;
          const s = q.shift()!;
          if (s.kind !== 'rdb-sent') continue;
          out.push({ from: s.node, fromUs: s.atUs, to: e.node, toUs: e.atUs, kind: 'rdb', label: `RDB, ${s.sizeBytes} bytes (${e.keys} keys)` });
          break;
        }
        break;
      }
      default:
        break;
    }
  }
  for (const [key, q] of pending) if (key.startsWith('hs ')) for (const s of q) unanswered(s);
  return out;
}

/**
 * The replication stream as arrows, aggregated: when a replica's offset reaches X, the bytes up
 * to X left its master when the master's offset first reached X (within the same history).
 * Sampled down to STREAM_ARROWS_MAX arrows per pair so a long run stays light.
 */
export function streamArrows(rec: Recording): Arrow[] {
  const out: Arrow[] = [];
  for (const node of rec.nodes) {
    const list = rec.states[node] ?? [];
    // Advances of a connected replica's offset, grouped by master.
    const advances = new Map<string, NodeState[]>();
    for (let i = 1; i < list.length; i++) {
      const s = list[i]!;
      const prev = list[i - 1]!;
      if (s.role !== 'replica' || s.link !== 'up' || s.master === null || s.offset <= prev.offset || prev.replid !== s.replid) continue;
      const m = s.master.replace(/:\d+$/, '');
      const a = advances.get(m);
      if (a) a.push(s);
      else advances.set(m, [s]);
    }
    for (const [master, adv] of advances) {
      const ms = rec.states[master];
      if (ms === undefined) continue;
      const step = Math.max(1, Math.ceil(adv.length / STREAM_ARROWS_MAX));
      for (let i = 0; i < adv.length; i += step) {
        const s = adv[Math.min(adv.length - 1, i + step - 1)]!;
        const sent = firstReaching(ms, s.replid, s.offset, s.seq);
        if (sent === null) continue;
        out.push({ from: master, fromUs: sent.atUs, to: node, toUs: s.atUs, kind: 'stream', label: `stream up to offset ${s.offset}` });
      }
    }
  }
  return out;
}

/** At most this many REPLCONF ACK (and GETACK) arrows per pair of processes; more are sampled evenly. */
const ACK_ARROWS_MAX = 2000;

/**
 * The stream as the trace recorded it (`--trace-level stream`): per sender → replica pair, the
 * commands a replica applied, in batches of consecutive applies so that a pair has at most
 * STREAM_ARROWS_MAX arrows (a batch of one is one command). A batch leaves its sender when the
 * sender fed or proxied its first byte, and arrives when the replica applied its last. Each
 * REPLCONF GETACK is also an arrow of its own, and each REPLCONF ACK goes from the replica that
 * sent it to the master that read it (an ACK lost with its connection has no arrow).
 */
export function streamEventArrows(events: readonly RecordedEvent[]): Arrow[] {
  type Applied = Extract<RecordedEvent, { kind: 'stream-applied' }>;
  /** `${sender} ${first}` -> when the sender put the command starting at byte `first` in its stream. */
  const fedAt = new Map<string, number>();
  const lastFedAt = new Map<string, number>();
  const applies = new Map<string, Array<{ e: Applied; fromUs: number }>>();
  const getacks = new Map<string, Arrow[]>();
  const acks = new Map<string, Arrow[]>();
  const inFlight = new Map<string, Array<Extract<RecordedEvent, { kind: 'ack-sent' }>>>();
  const add = <T>(m: Map<string, T[]>, key: string, v: T): void => {
    const l = m.get(key);
    if (l) l.push(v);
    else m.set(key, [v]);
  };
  for (const e of events) {
    switch (e.kind) {
      case 'stream-fed': case 'stream-proxied':
        fedAt.set(`${e.node} ${e.first}`, e.atUs);
        lastFedAt.set(e.node, e.atUs);
        break;
      case 'stream-applied': {
        const fromUs = fedAt.get(`${e.peer} ${e.first}`) ?? lastFedAt.get(e.peer) ?? e.atUs;
        add(applies, `${e.peer} ${e.node}`, { e, fromUs });
        if (e.args[0]?.toUpperCase() === 'REPLCONF' && e.args[1]?.toUpperCase() === 'GETACK') {
          add(getacks, `${e.peer} ${e.node}`, { from: e.peer, fromUs, to: e.node, toUs: e.atUs, kind: 'getack', label: `REPLCONF GETACK * [${e.first}..${e.last}]` });
        }
        break;
      }
      case 'ack-sent':
        add(inFlight, `${e.node} ${e.peer}`, e);
        break;
      case 'ack-received': {
        // TCP keeps order: skip ACKs that were sent on an older connection, then match the offset.
        const q = inFlight.get(`${e.peer} ${e.node}`);
        while (q !== undefined && q.length > 0 && q[0]!.offset !== e.offset) q.shift();
        const s = q?.shift();
        if (s !== undefined) add(acks, `${e.peer} ${e.node}`, { from: e.peer, fromUs: s.atUs, to: e.node, toUs: e.atUs, kind: 'ack', label: `REPLCONF ACK ${e.offset}` });
        break;
      }
      case 'conn-closed':
        inFlight.delete(`${e.node} ${e.peer}`);
        inFlight.delete(`${e.peer} ${e.node}`);
        break;
      default:
        break;
    }
  }
  const out: Arrow[] = [];
  for (const [key, list] of applies) {
    const [from, to] = key.split(' ') as [string, string];
    const step = Math.max(1, Math.ceil(list.length / STREAM_ARROWS_MAX));
    for (let i = 0; i < list.length; i += step) {
      const batch = list.slice(i, i + step);
      const a = batch[0]!;
      const z = batch[batch.length - 1]!.e;
      const commands = batch.reduce((n, b) => n + b.e.commands, 0);
      const label = batch.length === 1 && a.e.commands === 1 ? `[${a.e.first}..${a.e.last}] ${a.e.args.join(' ')}`
        : `[${a.e.first}..${z.last}] ${commands} commands, ${z.last - a.e.first + 1} bytes (${a.e.args.join(' ')} … ${z.args.join(' ')})`;
      out.push({ from, fromUs: a.fromUs, to, toUs: z.atUs, kind: 'stream', label });
    }
  }
  for (const m of [getacks, acks]) {
    for (const list of m.values()) {
      const step = Math.max(1, Math.ceil(list.length / ACK_ARROWS_MAX));
      for (let i = 0; i < list.length; i += step) out.push(list[i]!);
    }
  }
  return out;
}

/** The master's first sample, before `seq`, at or past `offset` in history `replid`. */
function firstReaching(states: readonly NodeState[], replid: string, offset: number, seq: number): NodeState | null {
  let lo = 0;
  let hi = states.length - 1;
  let found: NodeState | null = null;
  // Offsets grow within one history; a binary search over all samples is close enough, then verify.
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = states[mid]!;
    if (s.seq < seq && s.offset >= offset) {
      found = s;
      hi = mid - 1;
    } else if (s.seq >= seq) hi = mid - 1;
    else lo = mid + 1;
  }
  return found !== null && (found.replid === replid || found.replid2 === replid) ? found : null;
}

export function faultSpans(rec: Recording): Span[] {
  const out: Span[] = [];
  const open = new Map<string, { kind: Span['kind']; nodes: string[]; fromUs: number; label: string }>();
  const close = (key: string, atUs: number): void => {
    const o = open.get(key);
    if (o === undefined) return;
    open.delete(key);
    out.push({ ...o, toUs: atUs });
  };
  for (const e of rec.events) {
    if (e.kind === 'process') {
      switch (e.what) {
        case 'pause': case 'sleep':
          open.set(`p ${e.node}`, { kind: e.what, nodes: [e.node], fromUs: e.atUs, label: `${e.node} ${e.what === 'pause' ? 'paused' : 'in DEBUG SLEEP'}` });
          break;
        case 'resume':
          close(`p ${e.node}`, e.atUs);
          break;
        case 'crash': case 'poweroff': case 'exit':
          close(`p ${e.node}`, e.atUs);
          open.set(`d ${e.node}`, { kind: e.what === 'poweroff' ? 'poweroff' : 'crash', nodes: [e.node], fromUs: e.atUs, label: `${e.node} ${e.what === 'exit' ? 'exited' : e.what === 'crash' ? 'crashed' : 'powered off'}` });
          break;
        case 'restart':
          close(`d ${e.node}`, e.atUs);
          break;
      }
    } else if (e.kind === 'fault') {
      switch (e.op) {
        case 'partition': case 'partition-one-way': {
          const key = `n ${e.groups.map((g) => [...g].sort().join(',')).join('|')}`;
          open.set(key, { kind: 'partition', nodes: e.groups.flat(), fromUs: e.atUs, label: e.what });
          break;
        }
        case 'heal-all':
          for (const key of [...open.keys()]) if (key.startsWith('n ')) close(key, e.atUs);
          break;
        case 'heal': case 'heal-one-way': {
          const names = new Set(e.groups.flat());
          for (const [key, o] of [...open]) {
            if (key.startsWith('n ') && o.nodes.some((n) => names.has(n))) close(key, e.atUs);
          }
          break;
        }
        case 'kill-link': case 'link':
          break;
      }
    }
  }
  for (const o of open.values()) out.push({ ...o, toUs: null });
  return out.sort((a, b) => a.fromUs - b.fromUs);
}

export function psyncCards(rec: Recording): PsyncCard[] {
  const out: PsyncCard[] = [];
  const asked = new Map<string, Extract<RecordedEvent, { kind: 'psync-received' }>>();
  for (const e of rec.events) {
    if (e.kind === 'psync-received') asked.set(`${e.node} ${e.peer}`, e);
    if (e.kind !== 'psync-decision') continue;
    const q = asked.get(`${e.node} ${e.peer}`);
    // The server's state just before it decided: the decision itself may start a new history.
    const server = stateAt(rec, e.node, q?.seq ?? e.seq);
    out.push({
      atUs: e.atUs, seq: e.seq, master: e.node, replica: e.peer,
      replid: q?.replid ?? '?', offset: q?.offset ?? '-1',
      accepted: e.accepted, reason: e.reason, sendBytes: e.sendBytes,
      server: server === null ? null : { replid: server.replid, replid2: server.replid2, offset: server.offset, secondOffset: server.secondOffset, backlogFirst: server.backlogFirst, backlogHistlen: server.backlogHistlen },
    });
  }
  return out;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const require = createRequire(import.meta.url);
let uplotCache: { js: string; css: string } | null = null;
function uplot(): { js: string; css: string } {
  uplotCache ??= {
    js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
  return uplotCache;
}

export function renderHtml(rec: Recording): string {
  const { story, cards, ...first } = pageData(rec);
  const u = uplot();
  const title = rec.title ?? rec.file;
  // Two blocks (html-block.ts): what the first paint needs, its numbers in binary, and the story
  // and cards, inflated after that paint. Both gzipped, in base64 (DecompressionStream unpacks
  // them): a 100k-event run's 11 MB of JSON is about 1 MB so. gzipSync writes no timestamp,
  // so the same run gives the same page, byte for byte. The client function is inlined as
  // source; `__name` covers transpilers that keep names.
  const firstBlock = gzipSync(encodePageBlock(first), { level: 9 }).toString('base64');
  const laterBlock = gzipSync(JSON.stringify({ story, cards } satisfies PageLater), { level: 9 }).toString('base64');
  const script = `var __name = function (f) { return f; };\n${decodePageBlock.toString()}\n` +
    `(async function () {\n` +
    `  function inflate(id) {\n` +
    `    var text = document.getElementById(id).textContent.trim(), bytes;\n` +
    `    if (typeof Uint8Array.fromBase64 === 'function') bytes = Uint8Array.fromBase64(text);\n` +
    `    else { var bin = atob(text); bytes = new Uint8Array(bin.length); for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i); }\n` +
    `    return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();\n` +
    `  }\n` +
    `  var first = decodePageBlock(await inflate('psync-data'));\n` +
    `  (${pageMain.toString()})(first, { later: function () { return inflate('psync-later').then(function (b) { return JSON.parse(new TextDecoder().decode(b)); }); } });\n` +
    `})().catch(function (e) { console.error('psync-sim page: ' + (e && e.stack || e)); });`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)} — psync-sim</title>
<style>${u.css.replace(/<\//g, '<\\/')}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<div id="app"></div>
<script type="application/octet-stream" id="psync-data">${firstBlock}</script>
<script type="application/octet-stream" id="psync-later">${laterBlock}</script>
<script>${u.js.replace(/<\/script/gi, '<\\/script')}</script>
<script>${script.replace(/<\/script/gi, '<\\/script')}</script>
</body>
</html>
`;
}

export const PAGE_CSS = `
:root { --bg: #fbfbfa; --fg: #1d1f21; --dim: #6b7075; --line: #d9dcdf; --good: #1a7f37; --bad: #c62828;
  --handshake: #8d99a6; --psync: #6f42c1; --fullresync: #d9480f; --continue: #1a7f37; --rdb: #e8590c; --stream: #1971c2; --ack: #0c8599; --getack: #c2255c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
header { padding: 14px 20px 6px; }
h1 { font-size: 19px; margin: 0 0 2px; }
h2 { font-size: 15px; margin: 18px 0 8px; }
.meta { color: var(--dim); font-size: 13px; }
main { padding: 0 20px 40px; }
.controls { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin: 8px 0; position: sticky; top: 0; background: var(--bg); padding: 6px 0; z-index: 2; }
.controls button { font: inherit; padding: 3px 10px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
.controls button:hover { background: #f0f2f4; }
button.more { font: inherit; margin: 8px 0; padding: 3px 10px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
#cursor-time { font-variant-numeric: tabular-nums; min-width: 120px; font-weight: 600; }
#diagram-wrap { position: relative; border: 1px solid var(--line); background: #fff; border-radius: 4px; }
#diagram { display: block; width: 100%; cursor: crosshair; }
#tooltip { position: absolute; pointer-events: none; background: #1d1f21; color: #fff; padding: 5px 8px; border-radius: 4px; font-size: 12px; max-width: 520px; display: none; z-index: 3; white-space: pre-wrap; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; color: var(--dim); font-size: 12px; margin: 6px 0; }
.legend i { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 4px; }
.states { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap: 10px; }
.state { border: 1px solid var(--line); background: #fff; border-radius: 6px; padding: 8px 10px; }
.state h3 { margin: 0 0 4px; font-size: 14px; display: flex; justify-content: space-between; }
.state .role { font-weight: 400; color: var(--dim); }
.state dl { display: grid; grid-template-columns: auto 1fr; gap: 1px 10px; margin: 0; font-size: 12.5px; }
.state dt { color: var(--dim); }
.state dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; overflow-wrap: anywhere; }
.state.down { opacity: .55; }
.bar { position: relative; height: 16px; background: #eef1f4; border-radius: 3px; margin: 6px 0 2px; }
.bar .fill { position: absolute; top: 0; bottom: 0; background: #a5c8ee; border-radius: 3px; }
.bar .mark { position: absolute; top: -3px; bottom: -3px; width: 2px; background: var(--fg); }
.bar .mark span { position: absolute; top: 18px; left: -10px; font-size: 10.5px; color: var(--dim); white-space: nowrap; }
.barlabel { font-size: 11px; color: var(--dim); display: flex; justify-content: space-between; margin-bottom: 12px; }
#chart { background: #fff; border: 1px solid var(--line); border-radius: 4px; }
/* Below the fold: laid out and painted only when scrolled to. */
.cards, ol.story { content-visibility: auto; contain-intrinsic-size: auto 1200px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-left: 4px solid var(--bad); background: #fff; border-radius: 6px; padding: 8px 10px; cursor: pointer; }
.card.ok { border-left-color: var(--good); }
.card .verdict { font-weight: 600; }
.card svg { width: 100%; height: 74px; display: block; margin: 4px 0; }
.card .reason { font-size: 12.5px; }
ol.story li { margin-bottom: 6px; }
#events { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; overflow: auto; border: 1px solid var(--line); background: #fff; border-radius: 4px; contain: strict; }
#events div { padding: 0 8px; height: 18px; line-height: 18px; white-space: pre; cursor: pointer; }
#events div.now { background: #fff3bf; }
#events div.bad { color: var(--bad); }
#events div.good { color: var(--good); }
#details { min-height: 1.4em; color: var(--dim); font-size: 13px; margin: 4px 0; white-space: pre-wrap; }
`;
