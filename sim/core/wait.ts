/**
 * WAIT numreplicas timeout and REPLCONF GETACK (waitCommand(),
 * processClientsWaitingReplicas() and the get_ack_from_slaves flag in replication.c / server.c).
 * A client blocked in WAIT runs nothing else until it is unblocked; the master asks every replica
 * for an ACK with `REPLCONF GETACK *`, which is part of the stream (37 bytes).
 */
import type { RedisNode } from './node.ts';
import type { Client } from './client.ts';
import { err, errNotInteger, int } from './reply.ts';
import { feedCommand } from './master.ts';

export function countAcked(n: RedisNode, offset: number): number {
  let count = 0;
  for (const r of n.replicas) if (r.replState === 'online' && r.replAckOff >= offset) count++;
  return count;
}

/** WAIT numreplicas timeout: block until that many replicas ACKed this client's last write. */
export function waitCommand(n: RedisNode, c: Client, argv: string[]): void {
  if (n.isReplica) {
    return n.addReply(c, err('ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.'));
  }
  const numreplicas = Number(argv[1]);
  if (!/^-?\d+$/.test(argv[1]!)) return n.addReply(c, errNotInteger);
  if (!/^-?\d+$/.test(argv[2]!)) return n.addReply(c, err('ERR timeout is not an integer or out of range'));
  const timeoutMs = Number(argv[2]);
  if (timeoutMs < 0) return n.addReply(c, err('ERR timeout is negative'));
  const offset = c.woff;
  const acked = countAcked(n, offset);
  // Enough already, or inside EXEC where a client cannot block: answer now.
  if (acked >= numreplicas || c.replyCapture !== null) return n.addReply(c, int(acked));
  // getTimeoutFromObjectOrReply(): an absolute deadline in whole milliseconds of the real clock.
  c.blockedWait = { numreplicas, offset, deadlineMs: timeoutMs === 0 ? 0 : n.host.unixMs() + timeoutMs };
  n.waitingClients.add(c);
  // beforeSleep will send REPLCONF GETACK * so the replicas answer at once.
  n.getackPending = true;
}

/**
 * processClientsWaitingReplicas() and the WAIT timeouts, from beforeSleep. A timeout fires as
 * handleBlockedClientsTimeout() decides: once mstime() is past the deadline (`timeout >= now`
 * keeps the client blocked), at the first event-loop iteration after it: nothing wakes the
 * loop for it, so without other input that is the next serverCron tick.
 */
export function processClientsWaitingReplicas(n: RedisNode): void {
  const nowMs = n.host.unixMs();
  for (const c of n.waitingClients) {
    const w = c.blockedWait!;
    const acked = countAcked(n, w.offset);
    if (acked >= w.numreplicas || (w.deadlineMs !== 0 && nowMs > w.deadlineMs)) {
      c.blockedWait = null;
      n.waitingClients.delete(c);
      n.addReply(c, int(acked));
      // What the client sent while it was blocked runs now.
      n.processInputBuffer(c);
    }
  }
}

/** REPLCONF GETACK *, in the stream (it advances the offset by 37 bytes). */
export function sendGetack(n: RedisNode): void {
  feedCommand(n, -1, ['REPLCONF', 'GETACK', '*']);
}
