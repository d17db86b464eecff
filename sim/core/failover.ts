/**
 * Coordinated failover: FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | ABORT (failoverCommand(), updateFailoverStatus(), abortFailover() in replication.c).
 *
 * Theory of operation. The master pauses client writes and waits (WAITING_FOR_SYNC) until the
 * target — or, without TO, any replica — has ACKed exactly master_repl_offset. Then
 * (FAILOVER_IN_PROGRESS) it demotes itself with replicationSetMaster(target) and sends
 * `PSYNC <replid> <offset+1> FAILOVER`; the target promotes itself and continues the old master's
 * history via replid2. +CONTINUE or +FULLRESYNC ends the failover; any other answer aborts it, and
 * an aborted in-progress failover turns the node back into a master with a new replid. With
 * TIMEOUT the wait is bounded: on expiry it aborts, or with FORCE fails over anyway.
 * While the failover runs, writes wait (they are not refused), PSYNCs get -NOMASTERLINK and
 * REPLICAOF is refused; with TIMEOUT the master stops sending PINGs.
 */
import type { RedisNode } from './node.ts';
import type { Client } from './client.ts';
import { OK, err, errSyntax, errNotInteger } from './reply.ts';
import { replicationSetMaster, replicationUnsetMaster } from './replica.ts';

export type FailoverState = 'no-failover' | 'waiting-for-sync' | 'failover-in-progress';

function parseLong(text: string): number | null {
  return /^-?\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : null;
}

function findReplica(n: RedisNode, host: string, port: number): Client | null {
  return n.replicas.find((r) => r.peer.toLowerCase() === host.toLowerCase() && r.listeningPort === port) ?? null;
}

export function failoverCommand(n: RedisNode, c: Client, argv: string[]): void {
  if (argv.length === 2 && argv[1]!.toLowerCase() === 'abort') {
    if (n.failoverState === 'no-failover') return n.addReply(c, err('ERR No failover in progress.'));
    abortFailover(n, 'Failover manually aborted');
    return n.addReply(c, OK);
  }
  let timeoutMs = 0;
  let force = false;
  let host: string | null = null;
  let port = 0;
  for (let j = 1; j < argv.length; j++) {
    const a = argv[j]!.toLowerCase();
    if (a === 'timeout' && j + 1 < argv.length && timeoutMs === 0) {
      const t = parseLong(argv[j + 1]!);
      if (t === null) return n.addReply(c, errNotInteger);
      if (t <= 0) return n.addReply(c, err('ERR FAILOVER timeout must be greater than 0'));
      timeoutMs = t;
      j++;
    } else if (a === 'to' && j + 2 < argv.length && host === null) {
      const p = parseLong(argv[j + 2]!);
      if (p === null) return n.addReply(c, errNotInteger);
      host = argv[j + 1]!;
      port = p;
      j += 2;
    } else if (a === 'force' && !force) {
      force = true;
    } else {
      return n.addReply(c, errSyntax);
    }
  }
  if (n.failoverState !== 'no-failover') return n.addReply(c, err('ERR FAILOVER already in progress.'));
  if (n.isReplica) return n.addReply(c, err('ERR FAILOVER is not valid when server is a replica.'));
  if (n.replicas.length === 0) return n.addReply(c, err('ERR FAILOVER requires connected replicas.'));
  if (force && (timeoutMs === 0 || host === null)) {
    return n.addReply(c, err('ERR FAILOVER with force option requires both a timeout and target HOST and IP.'));
  }
  if (host !== null) {
    const r = findReplica(n, host, port);
    if (r === null) return n.addReply(c, err('ERR FAILOVER target HOST and PORT is not a replica.'));
    if (r.replState !== 'online') return n.addReply(c, err('ERR FAILOVER target replica is not online.'));
    n.failoverTarget = { host, port };
  }
  n.failoverEndMs = timeoutMs > 0 ? n.host.unixMs() + timeoutMs : 0; // mstime() + timeout
  n.failoverForce = force;
  setState(n, 'waiting-for-sync', host !== null ? `FAILOVER requested to ${host}:${port}` : 'FAILOVER requested to any replica');
  n.addReply(c, OK);
}

function setState(n: RedisNode, to: FailoverState, why: string): void {
  n.failoverState = to;
  if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `failover state ${to}: ${why}` });
}

/** updateFailoverStatus(), from beforeSleep: start the switch once the target has caught up. */
export function updateFailoverStatus(n: RedisNode): void {
  if (n.failoverState !== 'waiting-for-sync') return;
  // server.failover_end_time <= server.mstime: the cached clock, in milliseconds.
  if (n.failoverEndMs !== 0 && n.failoverEndMs <= n.mstime) {
    if (n.failoverForce) {
      const t = n.failoverTarget!;
      setState(n, 'failover-in-progress', `timeout exceeded, failing over to ${t.host}:${t.port} anyway (FORCE)`);
      replicationSetMaster(n, t.host, t.port, 'FAILOVER FORCE');
    } else {
      abortFailover(n, 'Replica never caught up before timeout');
    }
    return;
  }
  let r: Client | null = null;
  if (n.failoverTarget !== null) {
    r = findReplica(n, n.failoverTarget.host, n.failoverTarget.port);
  } else {
    r = n.replicas.find((x) => x.replAckOff === n.masterReplOffset) ?? null;
    if (r !== null) n.failoverTarget = { host: r.peer, port: r.listeningPort };
  }
  if (r !== null && r.replAckOff === n.masterReplOffset) {
    const t = n.failoverTarget!;
    setState(n, 'failover-in-progress', `target ${t.host}:${t.port} has ACKed offset ${n.masterReplOffset}: failing over`);
    replicationSetMaster(n, t.host, t.port, 'FAILOVER');
  }
}

/** clearFailoverState(): back to normal, and the paused writers run. */
export function clearFailoverState(n: RedisNode, why: string): void {
  n.failoverEndMs = 0;
  n.failoverForce = false;
  n.failoverTarget = null;
  setState(n, 'no-failover', why);
  n.unpauseWriters();
}

/** abortFailover(): an in-progress failover turns the node back into a master (new replid). */
export function abortFailover(n: RedisNode, why: string): void {
  if (n.failoverState === 'no-failover') return;
  if (n.failoverState === 'failover-in-progress') replicationUnsetMaster(n, `FAILOVER aborted (${why})`);
  clearFailoverState(n, `aborted: ${why}`);
}
