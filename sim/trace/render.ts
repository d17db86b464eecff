/**
 * Renderers for trace events: one readable line per event for `--trace` (coloured with chalk
 * when the terminal wants colour), and JSON lines for `--json`. Both read the same union with an
 * exhaustive switch, so a new event kind fails to compile until it is rendered.
 */
import { assertNever } from '../assert.ts';
import type { AckWhy, Stamped, TraceEvent } from './events.ts';

/** Colour functions; identity when colour is off. The CLI passes chalk's. */
export interface Palette {
  time(s: string): string;
  node(s: string): string;
  good(s: string): string;
  bad(s: string): string;
  dim(s: string): string;
  em(s: string): string;
}
const id = (s: string): string => s;
export const plainPalette: Palette = { time: id, node: id, good: id, bad: id, dim: id, em: id };

/** Virtual time as seconds with microsecond precision: `12.000345s`. */
export function formatTimeUs(us: number): string {
  const s = Math.floor(us / 1e6);
  const frac = String(us % 1e6).padStart(6, '0');
  return `${s}.${frac}s`;
}

export function renderEvent(e: TraceEvent, p: Palette = plainPalette): string {
  const n = (name: string): string => p.node(name);
  switch (e.kind) {
    case 'conn-open':
      return e.dir === 'out' ? `${n(e.node)} connects to ${n(e.peer)} (conn ${e.conn})` : `${n(e.node)} accepts a connection from ${n(e.peer)} (conn ${e.conn})`;
    case 'conn-closed':
      return p.dim(`${n(e.node)} closes its connection with ${n(e.peer)}: ${e.why}`);
    case 'connect-failed':
      return p.bad(`${n(e.node)} cannot connect to ${n(e.peer)}: ${e.why}`);
    case 'repl-state':
      return p.dim(`${n(e.node)} repl_state ${e.from} → ${e.to}`);
    case 'handshake-send':
      return `${n(e.node)} → ${n(e.peer)}: ${e.command}`;
    case 'handshake-reply':
      return `${n(e.node)} ← ${n(e.peer)}: ${e.reply}`;
    case 'psync-sent':
      return p.em(`${n(e.node)} → ${n(e.peer)}: PSYNC ${e.replid} ${e.offset}`);
    case 'fullresync-received':
      return `${n(e.node)} ← ${n(e.peer)}: +FULLRESYNC ${e.replid} ${e.offset} (a full sync: the RDB will follow)`;
    case 'continue-received':
      return p.good(`${n(e.node)} ← ${n(e.peer)}: +CONTINUE${e.replid ? ' ' + e.replid : ''} (${e.why})`);
    case 'transfer-start':
      return `${n(e.node)} receives the RDB from ${n(e.peer)} (${e.format === 'eof' ? '$EOF:<mark> diskless format' : `$${e.sizeBytes} bytes`})`;
    case 'rdb-loaded':
      return p.good(`${n(e.node)} loaded the RDB: ${e.keys} keys, ${e.sizeBytes} bytes; now at replid ${e.replid} offset ${e.offset}`);
    case 'psync-received':
      return p.em(`${n(e.node)} ← ${n(e.peer)}: PSYNC ${e.replid} ${e.offset}`);
    case 'psync-decision':
      return (e.accepted ? p.good : p.bad)(`${n(e.node)} decides for ${n(e.peer)}: ${e.reason}`);
    case 'fullresync-sent':
      return `${n(e.node)} → ${n(e.peer)}: +FULLRESYNC ${e.replid} ${e.offset}`;
    case 'bgsave-start':
      return `${n(e.node)} forks a BGSAVE to ${e.target} (${e.sizeBytes} bytes, snapshot at offset ${e.offset}) for ${e.replicas.join(', ') || 'no replica'}`;
    case 'bgsave-done':
      return `${n(e.node)} BGSAVE child ${e.ok ? 'finished' : p.bad('failed')}`;
    case 'rdb-sent':
      return `${n(e.node)} → ${n(e.peer)}: RDB, ${e.sizeBytes} bytes (${e.format === 'eof' ? 'diskless, $EOF:<mark>' : 'from disk, $<len>'})`;
    case 'replica-online':
      return p.good(`${n(e.node)} sees replica ${n(e.peer)} online: ${e.why}`);
    case 'replica-dropped':
      return p.bad(`${n(e.node)} drops replica ${n(e.peer)}: ${e.why}`);
    case 'replid-change':
      return p.em(`${n(e.node)} replid ${e.replid} replid2 ${e.replid2} second_repl_offset ${e.secondOffset}: ${e.why}`);
    case 'backlog':
      return `${n(e.node)} backlog ${e.action} (first byte ${e.offset}): ${e.why}`;
    case 'role':
      return p.em(e.role === 'master' ? `${n(e.node)} is now a master` : `${n(e.node)} is now a replica of ${e.master}`);
    case 'timeout':
      return p.bad(`${n(e.node)} timeout with ${n(e.peer)}: ${e.what}`);
    case 'note':
      return p.dim(`${n(e.node)}: ${e.text}`);
    case 'sentinel': {
      const text = `${n(e.node)} ${e.event} ${e.payload}${e.reason ? ` — ${e.reason}` : ''}`;
      return e.event.startsWith('-') || e.event === '+sdown' || e.event === '+odown' || e.event === '+tilt' ? p.bad(text) : e.event === '+switch-master' || e.event === '+elected-leader' || e.event === '+promoted-slave' ? p.em(text) : text;
    }
    case 'stream-fed': {
      const what = `${n(e.node)} → stream [${e.first}..${e.last}] ${e.args.map(quoteArg).join(' ')}`;
      const to = e.to.length > 0 ? ` (to ${e.to.map(n).join(', ')})` : ' (backlog only: no replica is fed)';
      return streamNote(e.args) === '' ? what + p.dim(to) : p.dim(what + ` — ${streamNote(e.args)}` + to);
    }
    case 'stream-proxied':
      return p.dim(`${n(e.node)} → stream [${e.first}..${e.last}] proxies ${e.last - e.first + 1} bytes of ${n(e.peer)}'s stream (to ${e.to.map(n).join(', ')})`);
    case 'stream-applied': {
      const cmd = e.commands > 1 ? `${e.commands} commands ending with ${e.args.map(quoteArg).join(' ')}` : e.args.map(quoteArg).join(' ');
      return p.dim(`${n(e.node)} ← ${n(e.peer)}: applies [${e.first}..${e.last}] ${cmd}; slave_repl_offset ${e.last}`);
    }
    case 'ack-sent':
      return p.dim(`${n(e.node)} → ${n(e.peer)}: REPLCONF ACK ${e.offset} (${ACK_WHY[e.why]})`);
    case 'ack-received':
      return p.dim(`${n(e.node)} ← ${n(e.peer)}: REPLCONF ACK ${e.offset} (the replica has applied up to offset ${e.offset})`);
    case 'command':
      return `${n(e.node)} ${p.dim(`[${e.client}]`)} ${e.argv.map(quoteArg).join(' ')}`;
    case 'reply':
      return `${n(e.node)} ${p.dim(`[${e.client}]`)} → ${e.reply}`;
    case 'load':
      return `${n(e.node)} load: ${e.sent} writes sent, ${e.ok} ok, ${e.errors} errors`;
    case 'fault':
      return p.bad(`fault: ${e.what}`);
    case 'process':
      return p.bad(`${n(e.node)} process: ${e.what}`);
    case 'check':
      return (e.ok ? p.good : p.bad)(`line ${e.line}: ${e.ok ? 'ok' : 'FAILED'} ${e.text}${e.detail ? ` (${e.detail})` : ''}`);
    default:
      return assertNever(e);
  }
}

export function renderStamped(s: Stamped, p: Palette = plainPalette): string {
  return `${p.time(formatTimeUs(s.atUs).padStart(13))} ${renderEvent(s.event, p)}`;
}

/** One JSON object per line: {"atUs":..., "kind":..., ...}. */
export function jsonLine(s: Stamped): string {
  return JSON.stringify({ atUs: s.atUs, ...s.event });
}

const ACK_WHY: Record<AckWhy, string> = {
  cron: 'replicationCron, once a second',
  getack: 'the answer to REPLCONF GETACK',
  'rdb-loaded': 'the diskless RDB is loaded: the master may start the stream',
};

/** What a learner should know about a command the master put in the stream itself. */
function streamNote(args: readonly string[]): string {
  const c = args[0]?.toUpperCase();
  if (c === 'PING' && args.length === 1) return 'replicationCron PINGs the replicas every repl-ping-replica-period seconds';
  if (c === 'REPLCONF' && args[1]?.toUpperCase() === 'GETACK') return 'asks every replica for its offset (WAIT, FAILOVER, SHUTDOWN)';
  if (c === 'SELECT') return 'the next command is for another database';
  return '';
}

function quoteArg(a: string): string {
  if (a.length > 0 && /^[\x21-\x7e]+$/.test(a) && !/["'\\]/.test(a)) return a;
  let out = '"';
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    const ch = a[i]!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (ch === '\n') out += '\\n';
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return out + '"';
}
