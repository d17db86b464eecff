/**
 * INFO and ROLE, with Redis 7.0's field names and order (server.c genRedisInfoString), so scenario
 * predicates like `r1.master_link_status == up` read what a Redis user reads.
 * Fields that describe the real machine (memory, CPU, OS) are left out or fixed.
 */
import type { RedisNode } from './node.ts';
import type { Reply } from './reply.ts';
import { array, bulk, int } from './reply.ts';
import { goodReplicas } from './master.ts';

const SECTIONS = ['server', 'clients', 'persistence', 'stats', 'replication', 'keyspace'] as const;
type Section = (typeof SECTIONS)[number];

/** INFO [section ...]: default/all/everything give every section we model. */
export function infoCommand(n: RedisNode, args: string[]): string {
  const wanted = new Set<Section>();
  if (args.length === 0) for (const s of SECTIONS) wanted.add(s);
  for (const a of args) {
    const t = a.toLowerCase();
    if (t === 'all' || t === 'default' || t === 'everything') for (const s of SECTIONS) wanted.add(s);
    else if ((SECTIONS as readonly string[]).includes(t)) wanted.add(t as Section);
  }
  const parts: string[] = [];
  for (const s of SECTIONS) {
    if (!wanted.has(s)) continue;
    const lines = sectionLines(n, s);
    parts.push(`# ${s[0]!.toUpperCase()}${s.slice(1)}\r\n` + lines.map((l) => l + '\r\n').join(''));
  }
  return parts.join('\r\n');
}

/** Every INFO field as a map, for predicates (`NODE.FIELD`). */
export function infoFields(n: RedisNode): Map<string, string> {
  const m = new Map<string, string>();
  for (const s of SECTIONS) {
    for (const line of sectionLines(n, s)) {
      const i = line.indexOf(':');
      m.set(line.slice(0, i), line.slice(i + 1));
    }
  }
  return m;
}

function sectionLines(n: RedisNode, s: Section): string[] {
  switch (s) {
    case 'server': return serverLines(n);
    case 'clients': return [`connected_clients:${n.allClients().length}`, 'blocked_clients:0'];
    case 'persistence': return persistenceLines(n);
    case 'stats': return statsLines(n);
    case 'replication': return replicationLines(n);
    case 'keyspace': return keyspaceLines(n);
  }
}

function serverLines(n: RedisNode): string[] {
  const uptimeSec = Math.floor((n.host.nowUs() - n.startUs) / 1e6);
  return [
    'redis_version:7.0.15',
    'redis_mode:standalone',
    `run_id:${n.runId}`,
    `tcp_port:${n.config.port}`,
    `server_time_usec:${n.host.unixMs() * 1000}`,
    `uptime_in_seconds:${uptimeSec}`,
    `uptime_in_days:${Math.floor(uptimeSec / 86400)}`,
    `hz:${n.config.hz}`,
    `configured_hz:${n.config.hz}`,
  ];
}

function persistenceLines(n: RedisNode): string[] {
  return [
    'loading:0',
    'async_loading:0',
    `rdb_changes_since_last_save:${n.dirty}`,
    `rdb_bgsave_in_progress:${n.rdbBgsaveInProgress ? 1 : 0}`,
    `rdb_last_save_time:${n.lastSaveUnixSec}`,
    'rdb_last_bgsave_status:ok',
    `rdb_last_load_keys_expired:${n.rdbLastLoadKeysExpired}`,
    `aof_enabled:${n.config.appendonly ? 1 : 0}`,
  ];
}

function statsLines(n: RedisNode): string[] {
  return [
    `total_connections_received:${n.statConnectionsReceived}`,
    `total_commands_processed:${n.statCommandsProcessed}`,
    `rejected_connections:${n.statRejectedConn}`,
    `sync_full:${n.statSyncFull}`,
    `sync_partial_ok:${n.statSyncPartialOk}`,
    `sync_partial_err:${n.statSyncPartialErr}`,
    `expired_keys:${n.statExpiredKeys + n.ks.lazyExpiredKeys}`,
  ];
}

/** The order is replication.c's genRedisInfoString("replication") in 7.0. */
function replicationLines(n: RedisNode): string[] {
  const out: string[] = [];
  const now = n.host.nowUs();
  out.push(`role:${n.isReplica ? 'slave' : 'master'}`);
  if (n.isReplica) {
    const m = n.master;
    out.push(`master_host:${n.masterhost}`, `master_port:${n.masterport}`);
    out.push(`master_link_status:${n.replState === 'connected' ? 'up' : 'down'}`);
    out.push(`master_last_io_seconds_ago:${m ? Math.floor((now - m.lastInteractionUs) / 1e6) : -1}`);
    out.push(`master_sync_in_progress:${n.replState === 'transfer' ? 1 : 0}`);
    // With neither a live nor a cached master Redis prints 1 (yes, literally).
    const cm = n.cachedMaster;
    out.push(`slave_read_repl_offset:${m ? m.readReploff : cm ? cm.reploff : 1}`);
    out.push(`slave_repl_offset:${m ? m.reploff : cm ? cm.reploff : 1}`);
    if (n.replState === 'transfer' && n.link !== null) {
      const l = n.link;
      const total = l.format === 'length' ? l.payloadBytes + l.remainingBytes : l.format === 'eof' ? 0 : -1;
      out.push(`master_sync_total_bytes:${total}`, `master_sync_read_bytes:${l.payloadBytes}`,
        `master_sync_left_bytes:${l.format === 'length' ? l.remainingBytes : 0}`,
        `master_sync_perc:${total > 0 ? ((l.payloadBytes * 100) / total).toFixed(2) : '0.00'}`,
        `master_sync_last_io_seconds_ago:${Math.floor((now - n.replTransferLastioUs) / 1e6)}`);
    }
    if (n.replState !== 'connected') {
      out.push(`master_link_down_since_seconds:${n.replDownSinceUs ? Math.floor((now - n.replDownSinceUs) / 1e6) : -1}`);
    }
    out.push(`slave_priority:${n.config.replicaPriority}`, `slave_read_only:${n.config.replicaReadOnly ? 1 : 0}`,
      `replica_announced:${n.config.replicaAnnounced ? 1 : 0}`);
  }
  out.push(`connected_slaves:${n.replicas.length}`);
  if (!n.isReplica && n.config.minReplicasToWrite > 0 && n.config.minReplicasMaxLagSec > 0) {
    out.push(`min_slaves_good_slaves:${goodReplicas(n)}`);
  }
  n.replicas.forEach((r, i) => {
    const state = r.replState === 'online' ? 'online' : r.replState === 'send_bulk' ? 'send_bulk' : 'wait_bgsave';
    const lag = r.replState === 'online' ? Math.floor((now - r.replAckTimeUs) / 1e6) : 0;
    out.push(`slave${i}:ip=${r.peer},port=${r.listeningPort},state=${state},offset=${r.replAckOff},lag=${lag}`);
  });
  const b = n.backlog;
  out.push(
    `master_failover_state:${n.failoverState}`,
    `master_replid:${n.replid}`,
    `master_replid2:${n.replid2}`,
    `master_repl_offset:${n.masterReplOffset}`,
    `second_repl_offset:${n.secondReplidOffset}`,
    `repl_backlog_active:${b ? 1 : 0}`,
    `repl_backlog_size:${n.config.replBacklogSizeBytes}`,
    `repl_backlog_first_byte_offset:${b ? b.offset : 0}`,
    `repl_backlog_histlen:${b ? b.histlen : 0}`,
  );
  return out;
}

function keyspaceLines(n: RedisNode): string[] {
  const out: string[] = [];
  for (let db = 0; db < n.ks.dbs.length; db++) {
    const keys = n.ks.dbs[db]!.size;
    if (keys === 0) continue;
    out.push(`db${db}:keys=${keys},expires=${n.ks.expiresCount(db)},avg_ttl=0`);
  }
  return out;
}

/** ROLE (replication.c roleCommand): master → [master, offset, [[ip, port, ack]...]]; replica → [slave, host, port, state, offset]. */
export function roleReply(n: RedisNode): Reply {
  if (!n.isReplica) {
    const rs = n.replicas.filter((r) => r.replState === 'online')
      .map((r) => array([bulk(r.peer), bulk(String(r.listeningPort)), bulk(String(r.replAckOff))]));
    return array([bulk('master'), int(n.masterReplOffset), array(rs)]);
  }
  const s = n.replState;
  const state = s === 'none' ? 'none' : s === 'connect' ? 'connect' : s === 'connecting' ? 'connecting'
    : s === 'transfer' ? 'sync' : s === 'connected' ? 'connected' : 'handshake';
  return array([bulk('slave'), bulk(n.masterhost!), int(n.masterport), bulk(state), int(n.master ? n.master.reploff : -1)]);
}

