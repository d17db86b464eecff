/**
 * INFO and ROLE, with Redis 7.0.15's field names in its order (server.c genRedisInfoString()),
 * so scenario predicates like `r1.master_link_status == up` read what a Redis user reads, and a
 * tool that parses INFO (Sentinel's sentinelRefreshInstanceInfo(), a test suite) finds every field
 * where it expects it. test/info.test.ts compares the names, section by section, with a real
 * master and replica.
 *
 * Fields that describe the real machine or counters we do not model (CPU, OS, memory allocator,
 * network byte counts, keyspace hits, defrag, pubsub, tracking) print a plausible constant; the
 * README's fidelity table lists them. The memory, cpu, modules, commandstats, errorstats and
 * latencystats sections are not printed.
 */
import type { RedisNode } from './node.ts';
import type { Reply } from './reply.ts';
import { array, bulk, int } from './reply.ts';
import { loadingInfoLines } from './loading.ts';

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

/** Which section prints a field, learned from a full INFO in which exactly one section printed it. */
const fieldSection = new Map<string, Section>();

/** Sections formatted so far (any caller): tests check that `await` on a direct field formats none. */
let sectionsBuilt = 0;
export function infoSectionsBuilt(): number {
  return sectionsBuilt;
}

/**
 * The fields scenarios await most, each computed alone: O(1), whatever the node's state. The
 * section builders below print these same functions, so a field reads the same either way;
 * undefined means the section does not print it in this state (a master has no master_host).
 */
const direct = {
  role: (n: RedisNode): string => (n.isReplica ? 'slave' : 'master'),
  master_host: (n: RedisNode): string | undefined => (n.isReplica ? `${n.masterhost}` : undefined),
  master_port: (n: RedisNode): string | undefined => (n.isReplica ? `${n.masterport}` : undefined),
  master_link_status: (n: RedisNode): string | undefined => (n.isReplica ? (n.replState === 'connected' ? 'up' : 'down') : undefined),
  master_sync_in_progress: (n: RedisNode): string | undefined => (n.isReplica ? (n.replState === 'transfer' ? '1' : '0') : undefined),
  connected_slaves: (n: RedisNode): string => String(n.replicas.length),
  master_failover_state: (n: RedisNode): string => n.failoverState,
  master_replid: (n: RedisNode): string => n.replid,
  master_replid2: (n: RedisNode): string => n.replid2,
  master_repl_offset: (n: RedisNode): string => String(n.masterReplOffset),
  second_repl_offset: (n: RedisNode): string => String(n.secondReplidOffset),
  repl_backlog_active: (n: RedisNode): string => (n.backlog ? '1' : '0'),
  repl_backlog_size: (n: RedisNode): string => String(n.config.replBacklogSizeBytes),
  repl_backlog_first_byte_offset: (n: RedisNode): string => String(n.backlog ? n.backlog.offset : 0),
  repl_backlog_histlen: (n: RedisNode): string => String(n.backlog ? n.backlog.histlen : 0),
  sync_full: (n: RedisNode): string => String(n.statSyncFull),
  sync_partial_ok: (n: RedisNode): string => String(n.statSyncPartialOk),
  sync_partial_err: (n: RedisNode): string => String(n.statSyncPartialErr),
  loading: (n: RedisNode): string => (n.loading !== null && !n.loading.async ? '1' : '0'),
  async_loading: (n: RedisNode): string => (n.loading !== null && n.loading.async ? '1' : '0'),
  rdb_bgsave_in_progress: (n: RedisNode): string => (n.rdbBgsaveInProgress ? '1' : '0'),
} as const;
const directFields: ReadonlyMap<string, (n: RedisNode) => string | undefined> = new Map(Object.entries(direct));

/**
 * One INFO field, as infoFields(n).get(field), for predicates that an `await` evaluates after
 * every event: a direct field (above) is computed alone; any other formats only the section that
 * prints it (a few dozen lines at most, whatever the dataset), not the whole INFO. A field not
 * found there (one printed only in some states, or never seen yet) falls back to every section.
 */
export function infoField(n: RedisNode, field: string): string | undefined {
  const get = directFields.get(field);
  if (get !== undefined) return get(n);
  if (field.includes(':')) return undefined; // no INFO name holds one
  const known = fieldSection.get(field);
  if (known !== undefined) {
    const v = fieldIn(sectionLines(n, known), field);
    if (v !== undefined) return v;
  }
  let value: string | undefined;
  let where: Section | null = null;
  let printed = 0;
  for (const s of SECTIONS) {
    const v = fieldIn(sectionLines(n, s), field);
    if (v === undefined) continue;
    value = v;
    where = s;
    printed++;
  }
  if (printed === 1) fieldSection.set(field, where!);
  return value;
}

/** The value of the last line that names the field (a Map built from the lines keeps the last), or undefined. */
function fieldIn(lines: readonly string[], field: string): string | undefined {
  let value: string | undefined;
  const n = field.length;
  for (const line of lines) {
    if (line.length > n && line.charCodeAt(n) === 58 /* ':' */ && line.startsWith(field)) value = line.slice(n + 1);
  }
  return value;
}

/** The field names of one section, in order (tests compare them with redis-server's). */
export function infoSectionNames(n: RedisNode, section: Section): string[] {
  return sectionLines(n, section).map((l) => l.slice(0, l.indexOf(':')));
}

function sectionLines(n: RedisNode, s: Section): string[] {
  sectionsBuilt++;
  switch (s) {
    case 'server': return serverLines(n);
    case 'clients': return clientsLines(n);
    case 'persistence': return persistenceLines(n);
    case 'stats': return statsLines(n);
    case 'replication': return replicationLines(n);
    case 'keyspace': return keyspaceLines(n);
  }
}

/** printf("%.2f"): JS's toFixed() drops the sign of -0 (0.0 / -1 is -0.00 in C) and rounds ties up. */
export function formatFixed2(x: number): string {
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  // An exact tie at the third decimal rounds to even in glibc; toFixed() rounds it away from zero.
  const scaled = a * 100;
  let text = a.toFixed(2);
  if (scaled - Math.floor(scaled) === 0.5 && Math.floor(scaled) % 2 === 0 && scaled / 100 === a) {
    text = (Math.floor(scaled) / 100).toFixed(2);
  }
  return (neg ? '-' : '') + text;
}

// Constant fields (see the header comment): what a freshly started 7.0.15 on Linux prints.
const SERVER_BUILD = [
  'redis_git_sha1:00000000', 'redis_git_dirty:0', 'redis_build_id:7b8617dd94058f85', 'redis_mode:standalone',
  'os:Linux 6.1.0 x86_64', 'arch_bits:64', 'monotonic_clock:POSIX clock_gettime', 'multiplexing_api:epoll',
  'atomicvar_api:c11-builtin', 'gcc_version:12.2.0',
];

function serverLines(n: RedisNode): string[] {
  const nowMs = n.host.unixMs();
  // server.unixtime - server.stat_starttime: whole seconds of the clock, not elapsed seconds.
  const uptimeSec = n.unixtime - n.startUnixSec;
  const out = [
    'redis_version:7.0.15',
    ...SERVER_BUILD,
    // A pid per process start, drawn from the (seeded) run id.
    `process_id:${1000 + (parseInt(n.runId.slice(0, 6), 16) % 4_000_000)}`,
    'process_supervised:no',
    `run_id:${n.runId}`,
    `tcp_port:${n.config.port}`,
    `server_time_usec:${nowMs * 1000}`,
    `uptime_in_seconds:${uptimeSec}`,
    `uptime_in_days:${Math.floor(uptimeSec / 86400)}`,
    `hz:${n.config.hz}`,
    `configured_hz:${n.config.hz}`,
    // getLRUClock(): seconds, 24 bits.
    `lru_clock:${Math.floor(nowMs / 1000) % (1 << 24)}`,
    'executable:/usr/bin/redis-server',
    'config_file:',
    'io_threads_active:0',
  ];
  // isShutdownInitiated(): a SHUTDOWN waiting for lagging replicas.
  if (n.shutdownPending !== null) {
    out.push(`shutdown_in_milliseconds:${Math.max(0, n.shutdownPending.deadlineMs - n.mstime)}`);
  }
  return out;
}

function clientsLines(n: RedisNode): string[] {
  const clients = n.allClients();
  let blocked = 0;
  let inTimeoutTable = 0;
  for (const c of clients) {
    if (c.blockedWait === null) continue;
    blocked++;
    if (c.blockedWait.deadlineMs > 0) inTimeoutTable++;
  }
  return [
    // listLength(server.clients) - listLength(server.slaves): replicas are not counted.
    `connected_clients:${n.clientCount - n.replicas.length}`,
    'cluster_connections:0',
    'maxclients:10000',
    'client_recent_max_input_buffer:20480',
    'client_recent_max_output_buffer:0',
    `blocked_clients:${blocked}`,
    'tracking_clients:0',
    `clients_in_timeout_table:${inTimeoutTable}`,
  ];
}

function persistenceLines(n: RedisNode): string[] {
  const nowSec = Math.floor(n.host.unixMs() / 1000);
  const out = [
    `loading:${direct.loading(n)}`,
    `async_loading:${direct.async_loading(n)}`,
    'current_cow_peak:0',
    'current_cow_size:0',
    'current_cow_size_age:0',
    'current_fork_perc:0.00',
    'current_save_keys_processed:0',
    'current_save_keys_total:0',
    `rdb_changes_since_last_save:${n.dirty}`,
    `rdb_bgsave_in_progress:${direct.rdb_bgsave_in_progress(n)}`,
    `rdb_last_save_time:${n.lastSaveUnixSec}`,
    'rdb_last_bgsave_status:ok',
    `rdb_last_bgsave_time_sec:${n.rdbSaveTimeLastSec}`,
    `rdb_current_bgsave_time_sec:${n.child !== null ? nowSec - n.childStartUnixSec : -1}`,
    `rdb_saves:${n.statRdbSaves}`,
    'rdb_last_cow_size:0',
    `rdb_last_load_keys_expired:${n.rdbLastLoadKeysExpired}`,
    `rdb_last_load_keys_loaded:${n.rdbLastLoadKeysLoaded}`,
    `aof_enabled:${n.config.appendonly ? 1 : 0}`,
    // The AOF is rewritten synchronously (aof.ts rewriteAof), never by a child.
    'aof_rewrite_in_progress:0',
    'aof_rewrite_scheduled:0',
    'aof_last_rewrite_time_sec:-1',
    'aof_current_rewrite_time_sec:-1',
    'aof_last_bgrewrite_status:ok',
    'aof_rewrites:0',
    'aof_rewrites_consecutive_failures:0',
    'aof_last_write_status:ok',
    'aof_last_cow_size:0',
    'module_fork_in_progress:0',
    'module_fork_last_cow_size:0',
  ];
  if (n.config.appendonly) {
    let bufferBytes = 0;
    for (const b of n.aofBuf) bufferBytes += b.length;
    out.push(
      // Simplification: the file sizes are not tracked; aof_buffer_length is.
      'aof_current_size:0',
      'aof_base_size:0',
      'aof_pending_rewrite:0',
      `aof_buffer_length:${bufferBytes}`,
      'aof_pending_bio_fsync:0',
      'aof_delayed_fsync:0',
    );
  }
  // The loading_* fields end the section while a load is under way (genRedisInfoString).
  out.push(...loadingInfoLines(n));
  return out;
}

function statsLines(n: RedisNode): string[] {
  return [
    `total_connections_received:${n.statConnectionsReceived}`,
    `total_commands_processed:${n.statCommandsProcessed}`,
    'instantaneous_ops_per_sec:0',
    'total_net_input_bytes:0',
    'total_net_output_bytes:0',
    'total_net_repl_input_bytes:0',
    'total_net_repl_output_bytes:0',
    'instantaneous_input_kbps:0.00',
    'instantaneous_output_kbps:0.00',
    'instantaneous_input_repl_kbps:0.00',
    'instantaneous_output_repl_kbps:0.00',
    `rejected_connections:${n.statRejectedConn}`,
    `sync_full:${direct.sync_full(n)}`,
    `sync_partial_ok:${direct.sync_partial_ok(n)}`,
    `sync_partial_err:${direct.sync_partial_err(n)}`,
    `expired_keys:${n.statExpiredKeys + n.ks.lazyExpiredKeys}`,
    'expired_stale_perc:0.00',
    'expired_time_cap_reached_count:0',
    'expire_cycle_cpu_milliseconds:0',
    'evicted_keys:0',
    'evicted_clients:0',
    'total_eviction_exceeded_time:0',
    'current_eviction_exceeded_time:0',
    'keyspace_hits:0',
    'keyspace_misses:0',
    'pubsub_channels:0',
    'pubsub_patterns:0',
    'pubsubshard_channels:0',
    // A fork costs no time here; Redis measures it (a few hundred µs for a small dataset).
    `latest_fork_usec:${n.statTotalForks > 0 ? 300 : 0}`,
    `total_forks:${n.statTotalForks}`,
    'migrate_cached_sockets:0',
    'slave_expires_tracked_keys:0',
    'active_defrag_hits:0',
    'active_defrag_misses:0',
    'active_defrag_key_hits:0',
    'active_defrag_key_misses:0',
    'total_active_defrag_time:0',
    'current_active_defrag_time:0',
    'tracking_total_keys:0',
    'tracking_total_items:0',
    'tracking_total_prefixes:0',
    'unexpected_error_replies:0',
    `total_error_replies:${n.statTotalErrorReplies}`,
    'dump_payload_sanitizations:0',
    'total_reads_processed:0',
    'total_writes_processed:0',
    'io_threaded_reads_processed:0',
    'io_threaded_writes_processed:0',
    'reply_buffer_shrinks:0',
    'reply_buffer_expands:0',
  ];
}

/**
 * The order is genRedisInfoString("replication") in server.c, 7.0. Every "seconds ago" field is
 * `server.unixtime - stamp` with both in whole seconds of the cached clock (INFO runs inside
 * call(), so unixtime is fresh), as Redis computes them: a replica that ACKed at 4.99 s shows
 * lag=1 at 5.01 s.
 */
function replicationLines(n: RedisNode): string[] {
  const out: string[] = [];
  const now = n.unixtime;
  out.push(`role:${direct.role(n)}`);
  if (n.isReplica) {
    const m = n.master;
    out.push(`master_host:${direct.master_host(n)}`, `master_port:${direct.master_port(n)}`);
    out.push(`master_link_status:${direct.master_link_status(n)}`);
    out.push(`master_last_io_seconds_ago:${m ? now - m.lastInteractionSec : -1}`);
    out.push(`master_sync_in_progress:${direct.master_sync_in_progress(n)}`);
    // With neither a live nor a cached master Redis prints 1 (yes, literally).
    const cm = n.cachedMaster;
    out.push(`slave_read_repl_offset:${m ? m.readReploff : cm ? cm.reploff : 1}`);
    out.push(`slave_repl_offset:${m ? m.reploff : cm ? cm.reploff : 1}`);
    if (n.replState === 'transfer' && n.link !== null) {
      // server.repl_transfer_size is -1 until the `$<len>` line is read, 0 for an `$EOF:` transfer
      // (its size is unknown), else the length; left is size - read even when that is negative.
      const l = n.link;
      const size = l.format === 'length' ? l.payloadBytes + l.remainingBytes : l.format === 'eof' ? 0 : -1;
      const read = l.payloadBytes;
      const perc = size !== 0 ? (read / size) * 100 : 0;
      out.push(`master_sync_total_bytes:${size}`, `master_sync_read_bytes:${read}`,
        `master_sync_left_bytes:${size - read}`,
        `master_sync_perc:${formatFixed2(perc)}`,
        `master_sync_last_io_seconds_ago:${now - n.replTransferLastioSec}`);
    }
    if (n.replState !== 'connected') {
      out.push(`master_link_down_since_seconds:${n.replDownSinceSec ? now - n.replDownSinceSec : -1}`);
    }
    out.push(`slave_priority:${n.config.replicaPriority}`, `slave_read_only:${n.config.replicaReadOnly ? 1 : 0}`,
      `replica_announced:${n.config.replicaAnnounced ? 1 : 0}`);
  }
  out.push(`connected_slaves:${direct.connected_slaves(n)}`);
  // The cached count of refreshGoodSlavesCount(), printed whenever both options are set (a
  // replica too).
  if (n.config.minReplicasToWrite > 0 && n.config.minReplicasMaxLagSec > 0) {
    out.push(`min_slaves_good_slaves:${n.replGoodSlavesCount}`);
  }
  n.replicas.forEach((r, i) => {
    const state = r.replState === 'online' ? 'online' : r.replState === 'send_bulk' ? 'send_bulk' : 'wait_bgsave';
    const lag = r.replState === 'online' ? n.timeNowSec() - r.replAckTimeSec : 0; // time(NULL) - repl_ack_time
    out.push(`slave${i}:ip=${r.peer},port=${r.listeningPort},state=${state},offset=${r.replAckOff},lag=${lag}`);
  });
  out.push(
    `master_failover_state:${direct.master_failover_state(n)}`,
    `master_replid:${direct.master_replid(n)}`,
    `master_replid2:${direct.master_replid2(n)}`,
    `master_repl_offset:${direct.master_repl_offset(n)}`,
    `second_repl_offset:${direct.second_repl_offset(n)}`,
    `repl_backlog_active:${direct.repl_backlog_active(n)}`,
    `repl_backlog_size:${direct.repl_backlog_size(n)}`,
    `repl_backlog_first_byte_offset:${direct.repl_backlog_first_byte_offset(n)}`,
    `repl_backlog_histlen:${direct.repl_backlog_histlen(n)}`,
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

