/**
 * `--nodes a,b`: keep the trace events that concern those processes. An event concerns a
 * process when it names it as the actor (`node`), the other end (`peer`), a receiver of the
 * stream (`to`), a replica fed by a BGSAVE (`replicas`) or a side of a fault (`groups`). Events
 * that belong to no process are kept: checks, faults on every link (`heal` alone, `link *`) and the
 * world's own notes (node `-`), because they are the story's frame.
 */
import { assertNever } from '../assert.ts';
import type { TraceEvent } from './events.ts';

export function concerns(e: TraceEvent, names: ReadonlySet<string>): boolean {
  switch (e.kind) {
    case 'conn-open': case 'conn-closed': case 'connect-failed': case 'handshake-send': case 'handshake-reply':
    case 'psync-sent': case 'fullresync-received': case 'continue-received': case 'transfer-start':
    case 'psync-received': case 'psync-decision': case 'fullresync-sent': case 'rdb-sent': case 'replica-online':
    case 'replica-dropped': case 'timeout': case 'ack-sent': case 'ack-received':
      return names.has(e.node) || names.has(e.peer);
    case 'stream-fed':
      return names.has(e.node) || e.to.some((r) => names.has(r));
    case 'stream-proxied':
      return names.has(e.node) || names.has(e.peer) || e.to.some((r) => names.has(r));
    case 'stream-applied':
      return names.has(e.node) || names.has(e.peer);
    case 'bgsave-start':
      return names.has(e.node) || e.replicas.some((r) => names.has(r));
    case 'role':
      // `master` is host:port as REPLICAOF gave it.
      return names.has(e.node) || (e.master !== null && names.has(e.master.replace(/:\d+$/, '')));
    case 'repl-state': case 'rdb-loaded': case 'bgsave-done': case 'replid-change': case 'backlog':
    case 'sentinel': case 'command': case 'reply': case 'load': case 'process':
      return names.has(e.node);
    case 'note':
      return e.node === '-' || names.has(e.node);
    case 'fault':
      return e.groups.length === 0 || e.groups.some((g) => g.some((x) => names.has(x)));
    case 'check':
      return true;
    default:
      return assertNever(e);
  }
}

/** Parse `--nodes a,b` into names (spaces allowed around commas); null for an empty list. */
export function parseNodeList(text: string): string[] | null {
  const names = text.split(',').map((s) => s.trim());
  return names.length === 0 || names.some((s) => s.length === 0) ? null : names;
}
