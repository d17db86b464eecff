/**
 * Trace events for the replication stream itself (`--trace-level stream`): each command a master
 * propagates with the offsets it occupies, what a sub-master proxies, what a replica applies,
 * and the REPLCONF ACKs that travel back.
 *
 * Theory of operation. These are the busiest events a run has (one per write per replica), so
 * every call site is gated on `n.host.traceStream === true` and calls in here only then: with the
 * stream off nothing is formatted or allocated, and the default trace is byte for byte what it
 * was. Offsets are read after the bytes were counted, so `last` is master_repl_offset (or the
 * replica's reploff) once the command is in, and `first` is `last - size + 1`.
 */
import type { RedisNode } from './node.ts';
import type { Client } from './client.ts';
import type { AckWhy } from '../trace/events.ts';
import { STREAM_ARG_CHARS_MAX } from '../trace/events.ts';

/** The arguments as the trace shows them: each cut to `maxChars` characters, saying how long it was. */
export function streamArgs(argv: readonly string[], maxChars = STREAM_ARG_CHARS_MAX): string[] {
  const out: string[] = [];
  for (const a of argv) out.push(a.length <= maxChars ? a : `${a.slice(0, maxChars - 16)}...(${a.length} bytes)`);
  return out;
}

/** The replicas that get bytes fed now (canFeedReplicaReplBuffer: past wait_bgsave_start). */
function fedReplicas(n: RedisNode): string[] {
  const to: string[] = [];
  for (const r of n.replicas) if (r.replState !== 'wait_bgsave_start') to.push(r.peer);
  return to;
}

/** replicationFeedSlaves() just appended `argv`, `sizeBytes` long, to the stream of top-level master `n`. */
export function traceFed(n: RedisNode, argv: readonly string[], sizeBytes: number): void {
  const last = n.masterReplOffset;
  n.host.trace({ kind: 'stream-fed', node: n.name, first: last - sizeBytes + 1, last, args: streamArgs(argv), to: fedReplicas(n) });
}

/** replicationFeedStreamFromMasterStream(): sub-master `n` just passed `sizeBytes` of its master's stream on. */
export function traceProxied(n: RedisNode, master: Client, sizeBytes: number): void {
  const to = fedReplicas(n);
  // Without sub-replicas the bytes only go to the backlog; the apply event already says so.
  if (to.length === 0) return;
  const last = n.masterReplOffset;
  n.host.trace({ kind: 'stream-proxied', node: n.name, peer: master.peer, first: last - sizeBytes + 1, last, to });
}

/** Replica `n` applied `sizeBytes` of its master's stream: `commands` commands, the last `argv` (EXEC for a transaction). */
export function traceApplied(n: RedisNode, master: Client, argv: readonly string[], commands: number, sizeBytes: number): void {
  const last = master.reploff;
  n.host.trace({ kind: 'stream-applied', node: n.name, peer: master.peer, first: last - sizeBytes + 1, last, args: streamArgs(argv), commands });
}

/** Replica `n` sends REPLCONF ACK `offset` to its master. */
export function traceAckSent(n: RedisNode, master: Client, offset: number, why: AckWhy): void {
  n.host.trace({ kind: 'ack-sent', node: n.name, peer: master.peer, offset, why });
}

/** Master `n` read REPLCONF ACK `offset` from replica `r`. */
export function traceAckReceived(n: RedisNode, r: Client, offset: number): void {
  n.host.trace({ kind: 'ack-received', node: n.name, peer: r.peer, offset });
}
