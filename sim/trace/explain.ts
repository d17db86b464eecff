/**
 * `psync-sim explain`: a recorded run told as numbered paragraphs, one per thing a learner
 * should see — a sync and why it was full or partial, a fault and who noticed it when, a
 * promotion and what it did to the history, a load, a check that failed — with the numbers.
 *
 * Theory of operation. One pass over the events in time order. A replica's sync is an episode
 * that opens at its PSYNC and closes at +CONTINUE, at the end of its RDB load, or when its link
 * breaks first; the paragraph is written when it closes, so it can tell the whole exchange. A
 * fault or process event opens a paragraph that collects, until the next fault, the moments at
 * which the nodes involved noticed it (a closed connection, a timeout, a dropped replica). States
 * (offsets, backlog windows) come from the recording's samples at the moment of each event.
 */
import type { FaultOp } from './events.ts';
import type { Recording, RecordedEvent } from './record.ts';
import { stateAt } from './record.ts';
import { formatTimeUs } from './render.ts';

/** Sentinel events the story tells (sentinel.c's names). */
const STORY_SENTINEL_EVENTS: ReadonlySet<string> = new Set(['+odown', '+elected-leader', '+promoted-slave', '+switch-master',
  '-failover-abort-not-elected', '-failover-abort-no-good-slave', '+convert-to-slave', '+tilt', '-tilt']);

/** `82c177ce…`: enough of a replid to tell histories apart in prose. */
export function shortId(replid: string): string {
  return /^0+$/.test(replid) ? 'none' : replid.slice(0, 8) + '…';
}

/** 101913 → "101,913". */
export function grouped(n: number): string {
  return Math.trunc(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A time for prose: "5.094555 s". */
function at(us: number): string {
  return formatTimeUs(us).replace(/s$/, ' s');
}

/** A duration for prose: "2 s", "1.5 ms", "120 µs". */
export function duration(us: number): string {
  if (us >= 1e6) return `${+(us / 1e6).toFixed(3)} s`;
  if (us >= 1e3) return `${+(us / 1e3).toFixed(3)} ms`;
  return `${us} µs`;
}

interface Paragraph {
  readonly atUs: number;
  text: string;
  /** Nodes whose noticing of this fault is still news. */
  watch?: Set<string>;
  noticed?: string[];
}

interface SyncEpisode {
  readonly replica: string;
  readonly master: string;
  readonly startUs: number;
  readonly replid: string;
  readonly offset: number;
  decision?: { accepted: boolean; reason: string; sendBytes: number; atUs: number; seq: number };
  fullresync?: { replid: string; offset: number };
  bgsave?: { target: 'disk' | 'sockets'; sizeBytes: number; offset: number; atUs: number; shared: string[] };
  rdbBytes?: number;
}

export function explain(rec: Recording): string[] {
  const out: Paragraph[] = [];
  const syncs = new Map<string, SyncEpisode>();
  /** The open fault paragraphs that still collect who noticed. */
  let openFaults: Paragraph[] = [];
  const wasReplica = new Map<string, string | null>();

  const say = (atUs: number, text: string): Paragraph => {
    const p: Paragraph = { atUs, text };
    out.push(p);
    return p;
  };
  const notice = (node: string, atUs: number, what: string): void => {
    for (const p of openFaults) {
      if (!p.watch!.has(node)) continue;
      p.watch!.delete(node);
      const delay = atUs - p.atUs;
      p.noticed!.push(`${node} ${delay === 0 ? 'at once' : `${duration(delay)} later`} (${what})`);
    }
  };

  const first = rec.nodes.map((n) => {
    const s = rec.states[n]?.[0];
    return s ? `${n} (${s.role === 'replica' ? `replica of ${s.master}` : 'master'})` : n;
  });
  say(0, `The story has ${rec.nodes.length} node${rec.nodes.length === 1 ? '' : 's'}: ${first.join(', ')}. ` +
    'Every node starts with a fresh replication ID of its own and offset 0.');

  for (const e of rec.events) {
    switch (e.kind) {
      case 'role': {
        const before = wasReplica.get(e.node);
        wasReplica.set(e.node, e.role === 'replica' ? e.master : null);
        if (e.role === 'replica') {
          say(e.atUs, `At ${at(e.atUs)} ${e.node} is told to replicate from ${e.master}. It connects and does the ` +
            'handshake (PING, REPLCONF listening-port, REPLCONF capa eof psync2) before asking for the stream with PSYNC.');
        } else if (before !== undefined && before !== null) {
          promotion(e);
        }
        break;
      }
      case 'psync-sent':
        syncs.set(e.node, { replica: e.node, master: e.peer, startUs: e.atUs, replid: e.replid, offset: e.offset });
        break;
      case 'psync-decision': {
        const ep = syncs.get(e.peer);
        if (ep !== undefined && ep.master === e.node) ep.decision = { accepted: e.accepted, reason: e.reason, sendBytes: e.sendBytes, atUs: e.atUs, seq: e.seq };
        break;
      }
      case 'fullresync-sent': {
        const ep = syncs.get(e.peer);
        if (ep !== undefined) ep.fullresync = { replid: e.replid, offset: e.offset };
        break;
      }
      case 'bgsave-start':
        for (const r of e.replicas) {
          const ep = syncs.get(r);
          if (ep !== undefined && ep.master === e.node) {
            ep.bgsave = { target: e.target, sizeBytes: e.sizeBytes, offset: e.offset, atUs: e.atUs, shared: e.replicas.filter((x) => x !== r) };
          }
        }
        break;
      case 'rdb-sent': {
        const ep = syncs.get(e.peer);
        if (ep !== undefined) ep.rdbBytes = e.sizeBytes;
        break;
      }
      case 'rdb-loaded': {
        const ep = syncs.get(e.node);
        if (ep !== undefined) {
          syncs.delete(e.node);
          fullSync(ep, e);
        }
        break;
      }
      case 'continue-received': {
        const ep = syncs.get(e.node);
        if (ep !== undefined) {
          syncs.delete(e.node);
          partialSync(ep, e);
        }
        break;
      }
      case 'conn-closed': {
        notice(e.node, e.atUs, `${e.node} closes its connection with ${e.peer}: ${e.why}`);
        const ep = syncs.get(e.node);
        if (ep !== undefined && ep.master === e.peer) {
          syncs.delete(e.node);
          say(e.atUs, `At ${at(e.atUs)} ${e.node}'s attempt to sync with ${e.peer}, begun at ${at(ep.startUs)}, is cut: ${e.why}. ` +
            'It will try again from the start of the handshake.');
        }
        break;
      }
      case 'timeout':
        notice(e.node, e.atUs, `timeout: ${e.what}`);
        break;
      case 'replica-dropped': {
        const wasNoticed = openFaults.some((p) => p.watch!.has(e.node));
        notice(e.node, e.atUs, `it drops replica ${e.peer}: ${e.why}`);
        if (!wasNoticed && openFaults.length === 0) say(e.atUs, `At ${at(e.atUs)} ${e.node} drops its replica ${e.peer}: ${e.why}.`);
        break;
      }
      case 'fault': {
        const p = say(e.atUs, `At ${at(e.atUs)} ${faultSentence(e.op, e.groups, e.what)}`);
        p.watch = new Set(e.groups.flat());
        p.noticed = [];
        openFaults = e.op === 'heal-all' || e.op === 'heal' || e.op === 'heal-one-way' || e.op === 'link' ? [] : [p];
        break;
      }
      case 'process': {
        const s = processSentence(e.node, e.what);
        if (s === null) break;
        const p = say(e.atUs, `At ${at(e.atUs)} ${s}`);
        if (e.what === 'crash' || e.what === 'poweroff' || e.what === 'pause' || e.what === 'sleep') {
          p.watch = new Set(rec.nodes.filter((n) => n !== e.node));
          p.noticed = [];
          openFaults = [p];
        }
        break;
      }
      case 'load': {
        const s = stateAt(rec, e.node, e.seq);
        say(e.atUs, `At ${at(e.atUs)} ${e.node} has answered ${grouped(e.sent)} writes of a load: ${grouped(e.ok)} OK` +
          (e.errors ? `, ${grouped(e.errors)} refused with an error` : '') +
          (s ? `. Its replication offset is now ${grouped(s.offset)}, the number of stream bytes it has produced or applied.` : '.'));
        break;
      }
      case 'replid-change':
        // A change inside a sync or a promotion is told with it.
        if (syncs.has(e.node) || /promot|no one|full sync|first replica/i.test(e.why)) break;
        say(e.atUs, `At ${at(e.atUs)} ${e.node} changes its replication ID to ${shortId(e.replid)}` +
          (e.secondOffset > 0 ? `, keeping ${shortId(e.replid2)} as replid2 up to offset ${grouped(e.secondOffset)}` : '') + `: ${e.why}.`);
        break;
      case 'check':
        if (!e.ok) say(e.atUs, `At ${at(e.atUs)} the check on line ${e.line} fails: ${e.text}. ${e.detail}`);
        break;
      case 'sentinel':
        // Only the turning points of a failover are told; the trace has every event.
        if (STORY_SENTINEL_EVENTS.has(e.event)) say(e.atUs, `At ${at(e.atUs)} sentinel ${e.node} logs ${e.event} ${e.payload}: ${e.reason}.`);
        break;
      case 'conn-open': case 'connect-failed': case 'repl-state': case 'handshake-send': case 'handshake-reply':
      case 'fullresync-received': case 'transfer-start': case 'psync-received': case 'bgsave-done':
      case 'replica-online': case 'backlog': case 'note': case 'command': case 'reply':
        break;
      // The stream is for the trace and the page; the narration tells the offsets where they matter.
      case 'stream-fed': case 'stream-proxied': case 'stream-applied': case 'ack-sent': case 'ack-received':
        break;
      default:
        e satisfies never;
    }
  }

  const checks = rec.events.filter((e): e is Extract<RecordedEvent, { kind: 'check' }> => e.kind === 'check');
  const failed = checks.filter((c) => !c.ok).length;
  if (checks.length > 0) {
    say(rec.endUs, failed === 0
      ? `The run ends at ${at(rec.endUs)}, and all ${checks.length} of its checks held.`
      : `The run ends at ${at(rec.endUs)}: ${failed} of its ${checks.length} checks failed.`);
  }
  // A sync is written when it ends but told from when it began: keep time order (stable).
  const ordered = out.map((p, i) => ({ p, i })).sort((a, b) => a.p.atUs - b.p.atUs || a.i - b.i).map((x) => x.p);
  return ordered.map((p, i) => `${i + 1}. ${p.text}${noticedSentence(p)}`);

  function noticedSentence(p: Paragraph): string {
    if (p.noticed === undefined || p.noticed.length === 0) return '';
    return ` Noticed by ${p.noticed.join('; ')}.`;
  }

  function fullSync(ep: SyncEpisode, e: Extract<RecordedEvent, { kind: 'rdb-loaded' }>): void {
    const asked = ep.replid === '?' ? 'PSYNC ? -1, a request for everything' : `PSYNC ${shortId(ep.replid)} ${ep.offset}, to continue that history from byte ${grouped(ep.offset)}`;
    const parts = [`At ${at(ep.startUs)} ${ep.replica} asks ${ep.master} for ${asked}.`];
    if (ep.decision) parts.push(`${ep.master} cannot continue: ${stripPrefix(ep.decision.reason)}.`);
    if (ep.fullresync) parts.push(`It answers +FULLRESYNC ${shortId(ep.fullresync.replid)} ${grouped(ep.fullresync.offset)}: a full sync from a snapshot taken at offset ${grouped(ep.fullresync.offset)}.`);
    if (ep.bgsave) {
      const wait = ep.decision ? ep.bgsave.atUs - ep.decision.atUs : 0;
      parts.push(`${wait > 0 ? `After ${duration(wait)} it` : 'It'} forks a BGSAVE child that writes the RDB ` +
        `${ep.bgsave.target === 'disk' ? 'to disk, then sends the file' : 'straight to the socket (diskless)'}` +
        `${ep.bgsave.shared.length ? `, shared with ${ep.bgsave.shared.join(', ')}` : ''}.`);
    }
    parts.push(`${ep.replica} loads ${grouped(e.keys)} key${e.keys === 1 ? '' : 's'} (${grouped(e.sizeBytes)} bytes of RDB) at ${at(e.atUs)}, ` +
      `${duration(e.atUs - ep.startUs)} after it asked, and now follows history ${shortId(e.replid)} at offset ${grouped(e.offset)}; ` +
      'from here the master streams every write, and the commands buffered during the transfer first.');
    say(ep.startUs, parts.join(' '));
  }

  function partialSync(ep: SyncEpisode, e: Extract<RecordedEvent, { kind: 'continue-received' }>): void {
    const m = stateAt(rec, ep.master, ep.decision?.seq ?? e.seq);
    const window = m !== null && m.backlogHistlen > 0
      ? `${ep.master} still holds bytes ${grouped(m.backlogFirst)}–${grouped(m.backlogFirst + m.backlogHistlen - 1)} of its history in the backlog`
      : `${ep.master} still has what ${ep.replica} lacks`;
    const resend = ep.decision ? ep.decision.sendBytes : 0;
    const how = e.replid !== null && e.replid !== ep.replid
      ? `answers +CONTINUE ${shortId(e.replid)}: the same bytes, now under a new ID, which ${ep.replica} adopts (keeping ${shortId(ep.replid)} as its replid2)`
      : 'answers +CONTINUE';
    say(ep.startUs, `At ${at(ep.startUs)} ${ep.replica} asks ${ep.master} to continue history ${shortId(ep.replid)} from byte ${grouped(ep.offset)} ` +
      `(PSYNC ${shortId(ep.replid)} ${ep.offset}). ${window}, so it ${how} and resends ${grouped(resend)} byte${resend === 1 ? '' : 's'}. ` +
      'No snapshot, no reload: a partial resync.');
  }

  function promotion(e: Extract<RecordedEvent, { kind: 'role' }>): void {
    const change = rec.events.find((x): x is Extract<RecordedEvent, { kind: 'replid-change' }> =>
      x.kind === 'replid-change' && x.node === e.node && x.atUs === e.atUs);
    const s = stateAt(rec, e.node, e.seq);
    let text = `At ${at(e.atUs)} ${e.node} becomes a master (REPLICAOF NO ONE).`;
    if (change) {
      text += ` It starts a new history ${shortId(change.replid)} and keeps the one it followed, ${shortId(change.replid2)}, as replid2 ` +
        `valid up to second_repl_offset ${grouped(change.secondOffset)}: a node that followed the old master can still continue from ${e.node} ` +
        `up to that byte, and what the old master wrote after it is not part of ${e.node}'s history.`;
    } else if (s) {
      text += ` Its offset is ${grouped(s.offset)}.`;
    }
    say(e.atUs, text);
  }
}

/** "partial resync accepted: ..." / "full resync: ..." → the explanation after the colon. */
function stripPrefix(reason: string): string {
  const i = reason.indexOf(': ');
  return i >= 0 ? reason.slice(i + 2) : reason;
}

function faultSentence(op: FaultOp, groups: readonly (readonly string[])[], what: string): string {
  switch (op) {
    case 'partition':
      return `the network is split into ${groups.map((g) => `{${g.join(', ')}}`).join(' and ')}. Bytes already sent are held, as TCP would hold them, not lost; nobody is told.`;
    case 'partition-one-way':
      return `what ${groups[0]![0]} sends to ${groups[1]![0]} is held from now on (a one-way partition); the other direction still works.`;
    case 'heal-all':
      return 'every partition heals: held bytes are delivered and new connections go through.';
    case 'heal':
    case 'heal-one-way':
      return `the partition ${what.replace(/^heal /, '')} heals.`;
    case 'kill-link':
      return `every connection between ${groups[0]![0]} and ${groups[1]![0]} is reset (kill-link): both ends see it close.`;
    case 'link':
      return `${what}.`;
  }
}

function processSentence(node: string, what: Extract<RecordedEvent, { kind: 'process' }>['what']): string | null {
  switch (what) {
    case 'crash': return `${node} crashes: its process dies and the OS closes its sockets, so peers see the connections close; what it had not persisted is gone.`;
    case 'poweroff': return `${node} loses power: nothing is closed, so its peers can only find out through timeouts.`;
    case 'restart': return `${node} starts again from its configuration and whatever it had persisted.`;
    case 'pause': return `${node} is frozen (like SIGSTOP): its input queues up, and it notices nothing until it wakes.`;
    case 'sleep': return `${node} runs DEBUG SLEEP: it is frozen until the sleep ends.`;
    case 'exit': return `${node} exits (SHUTDOWN).`;
    case 'resume': return `${node} wakes up and works through the input that queued while it was frozen.`;
  }
}
