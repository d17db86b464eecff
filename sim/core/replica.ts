/**
 * The replica side of replication: REPLICAOF, the link state machine (connect, handshake,
 * PSYNC, RDB transfer, streaming), the cached master, and the replica half of replicationCron.
 *
 * Theory of operation (replication.c syncWithMaster, slaveTryPartialResynchronization,
 * readSyncBulkPayload, replicationCacheMaster). While the link is being set up
 * the socket is read by a line reader (`LinkInProgress`); once CONNECTED the socket belongs to a
 * master client whose bytes are parsed as commands, applied, and only then proxied, exactly as
 * applied, to our own backlog and sub-replicas (replicationFeedStreamFromMasterStream, fix #3899). `reploff` counts applied
 * bytes; `masterReplOffset` always equals the live master's reploff.
 * Simplifications: no AUTH (masterauth), no legacy SYNC fallback (an unexpected PSYNC reply is
 * retried). Loading the master's RDB takes the host's time (loading.ts).
 */
import { assert } from '../assert.ts';
import type { RedisNode } from './node.ts';
import type { Client } from './client.ts';
import type { ConnId } from './host.ts';
import type { ReplState } from '../trace/events.ts';
import { ByteQueue, joinChunks } from './bytequeue.ts';
import { encodeCommand, RespProtocolError } from './resp.ts';
import { OK, err, status } from './reply.ts';
import { parseRdb, RdbFormatError } from './rdb.ts';
import type { Keyspace } from './keyspace.ts';
import { startLoading } from './loading.ts';
import { abortFailover, clearFailoverState } from './failover.ts';
import { rewriteAof } from './aof.ts';
import { exitIfTooManyDatabases } from './persist.ts';
import { traceApplied, traceProxied, traceAckSent } from './stream-trace.ts';
import { createBacklog, freeBacklog, shiftReplicationId, clearReplicationId2, feedStream, queueStreamWithoutBacklog } from './master.ts';

/** The link while it is not yet a master client: connecting, handshake, transfer. */
export interface LinkInProgress {
  readonly conn: ConnId;
  readonly rx: ByteQueue;
  /** TRANSFER: null until the `$` header is read. */
  format: 'length' | 'eof' | null;
  /** Length mode: bytes still to read. */
  remainingBytes: number;
  eofMark: string;
  payload: Buffer[];
  payloadBytes: number;
}

const HANDSHAKE: ReadonlySet<ReplState> = new Set<ReplState>([
  'receive_ping_reply', 'send_handshake', 'receive_auth_reply', 'receive_port_reply',
  'receive_ip_reply', 'receive_capa_reply', 'send_psync', 'receive_psync_reply',
]);

function setState(n: RedisNode, to: ReplState): void {
  const from = n.replState;
  if (from === to) return;
  n.replState = to;
  if (n.host.tracing) n.host.trace({ kind: 'repl-state', node: n.name, from, to });
}

function peerName(n: RedisNode): string {
  return n.masterhost ?? '?';
}

// ---------------------------------------------------------------------------------------------
// REPLICAOF (replicaofCommand).

export function replicaofCommand(n: RedisNode, c: Client, argv: string[]): void {
  if (c.replState !== null) return n.addReply(c, err('ERR Command is not valid when client is a replica.'));
  if (n.failoverState !== 'no-failover') return n.addReply(c, err('ERR REPLICAOF not allowed while failing over.'));
  if (argv[1]!.toLowerCase() === 'no' && argv[2]!.toLowerCase() === 'one') {
    if (n.masterhost !== null) replicationUnsetMaster(n, `REPLICAOF NO ONE`);
    return n.addReply(c, OK);
  }
  const portText = argv[2]!;
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) return n.addReply(c, err('ERR Invalid master port'));
  if (n.masterhost === argv[1] && n.masterport === port) {
    return n.addReply(c, status('OK Already connected to specified master'));
  }
  replicationSetMaster(n, argv[1]!, port, `REPLICAOF ${argv[1]} ${port}`);
  n.addReply(c, OK);
}

/** replicationSetMaster(): follow host:port, keeping our history for a PSYNC. */
export function replicationSetMaster(n: RedisNode, host: string, port: number, why: string): void {
  const wasMaster = n.masterhost === null;
  // masterhost is cleared while the old master client is freed, so freeing it does not reconnect.
  n.masterhost = null;
  if (n.master !== null) n.freeClient(n.master, why);
  n.masterhost = host;
  n.masterport = port;
  cancelHandshake(n, false, why);
  if (wasMaster) {
    // replicationCacheMasterUsingMyself(): a demoted master PSYNCs with its own history.
    n.cachedMaster = { replid: n.replid, reploff: n.masterReplOffset, db: 0 };
  }
  if (n.host.tracing) n.host.trace({ kind: 'role', node: n.name, role: 'replica', master: `${host}:${port}` });
  setState(n, 'connect');
  connectWithMaster(n);
}

/**
 * `replicaof` in the startup config: the node boots as a replica in state CONNECT and the first
 * replicationCron connects. Unlike REPLICAOF at run time it does not offer its own history: it
 * has a cached master only if its RDB carried replication info (rdbPopulateSaveInfo), else it asks PSYNC ? -1.
 */
export function startAsReplica(n: RedisNode, host: string, port: number): void {
  n.masterhost = host;
  n.masterport = port;
  if (n.host.tracing) n.host.trace({ kind: 'role', node: n.name, role: 'replica', master: `${host}:${port}` });
  setState(n, 'connect');
}

/** replicationUnsetMaster(): REPLICAOF NO ONE — promotion. */
export function replicationUnsetMaster(n: RedisNode, why: string): void {
  if (n.masterhost === null) return;
  n.masterhost = null;
  if (n.master !== null) n.freeClient(n.master, why);
  n.cachedMaster = null;
  cancelHandshake(n, false, why);
  shiftReplicationId(n, `${why}: promoted to master, the old history is kept as replid2`);
  // Sub-replicas must learn the new id: they reconnect and continue via our replid2.
  disconnectReplicas(n, 'our replid changed on promotion');
  setState(n, 'none');
  n.slaveseldb = -1;
  n.replNoSlavesSinceSec = n.unixtime; // Fix #4607: do not let the backlog TTL fire at once.
  n.replDownSinceSec = 0;
  if (n.host.tracing) n.host.trace({ kind: 'role', node: n.name, role: 'master', master: null });
}

/** disconnectSlaves(). */
export function disconnectReplicas(n: RedisNode, why: string): void {
  for (const r of n.replicas.slice()) n.freeClient(r, why);
}

// ---------------------------------------------------------------------------------------------
// The link: connect and handshake (connectWithMaster, syncWithMaster).

export function connectWithMaster(n: RedisNode): void {
  assert(n.masterhost !== null, 'connectWithMaster: no master');
  assert(n.link === null, 'connectWithMaster: a link is in progress');
  const conn = n.host.connect(n.masterhost, n.masterport);
  n.link = { conn, rx: new ByteQueue(), format: null, remainingBytes: 0, eofMark: '', payload: [], payloadBytes: 0 };
  n.replTransferLastioSec = n.unixtime;
  if (n.host.tracing) n.host.trace({ kind: 'conn-open', node: n.name, peer: n.masterhost, conn, dir: 'out' });
  setState(n, 'connecting');
}

/**
 * cancelReplicationHandshake(): drop a link that is connecting, in handshake or in transfer.
 * With `reconnect`, try again at once; otherwise replicationCron retries within a second.
 */
function cancelHandshake(n: RedisNode, reconnect: boolean, why: string): void {
  const link = n.link;
  if (link === null) return;
  n.link = null;
  n.host.close(link.conn);
  if (n.host.tracing) n.host.trace({ kind: 'conn-closed', node: n.name, peer: peerName(n), conn: link.conn, why });
  if (n.masterhost === null) return;
  setState(n, 'connect');
  if (reconnect) connectWithMaster(n);
}

function sendHandshake(n: RedisNode, argv: string[]): void {
  const link = n.link!;
  n.host.send(link.conn, encodeCommand(argv));
  if (n.host.tracing) n.host.trace({ kind: 'handshake-send', node: n.name, peer: peerName(n), command: argv.join(' ') });
}

export function linkConnected(n: RedisNode, conn: ConnId): void {
  if (n.link === null || n.link.conn !== conn) return;
  n.replTransferLastioSec = n.unixtime;
  sendHandshake(n, ['PING']);
  setState(n, 'receive_ping_reply');
}

export function linkConnectFailed(n: RedisNode, conn: ConnId, why: string): void {
  if (n.link === null || n.link.conn !== conn) return;
  n.link = null;
  if (n.host.tracing) n.host.trace({ kind: 'connect-failed', node: n.name, peer: peerName(n), why });
  setState(n, 'connect'); // replicationCron retries within a second.
}

export function linkClosed(n: RedisNode, why: string): void {
  const link = n.link;
  if (link === null) return;
  n.link = null;
  if (n.host.tracing) n.host.trace({ kind: 'conn-closed', node: n.name, peer: peerName(n), conn: link.conn, why: `master closed the link during ${n.replState}: ${why}` });
  const wasTransfer = n.replState === 'transfer';
  setState(n, 'connect');
  if (wasTransfer) connectWithMaster(n); // Transfer failures reconnect at once (replicationAbortSyncTransfer).
}

/** Handshake error path: close, state CONNECT, the cron retries (syncWithMaster error path). */
function handshakeError(n: RedisNode, why: string): void {
  if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `replication handshake failed: ${why}` });
  cancelHandshake(n, false, why);
}

function traceReply(n: RedisNode, line: string): void {
  if (n.host.tracing) n.host.trace({ kind: 'handshake-reply', node: n.name, peer: peerName(n), reply: line });
}

/** syncWithMaster() and readSyncBulkPayload(): bytes on the link before it is CONNECTED. */
export function linkReceived(n: RedisNode, bytes: Uint8Array): void {
  const link = n.link!;
  link.rx.push(bytes);
  n.replTransferLastioSec = n.unixtime;
  while (n.link === link) {
    switch (n.replState) {
      case 'receive_ping_reply': {
        const line = link.rx.readLine();
        if (line === null) return;
        traceReply(n, line);
        // +PONG, or an auth error that a later AUTH would fix (syncWithMaster accepts -NOAUTH, -NOPERM, -ERR operation not permitted).
        if (!line.startsWith('+') && !line.startsWith('-NOAUTH') && !line.startsWith('-NOPERM') &&
            !line.startsWith('-ERR operation not permitted')) {
          return handshakeError(n, `error reply to PING: ${line}`);
        }
        // One pipelined batch: REPLCONF listening-port, REPLCONF capa eof capa psync2 (no AUTH).
        sendHandshake(n, ['REPLCONF', 'listening-port', String(n.config.port)]);
        sendHandshake(n, ['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
        setState(n, 'receive_port_reply');
        break;
      }
      case 'receive_port_reply':
      case 'receive_capa_reply': {
        const line = link.rx.readLine();
        if (line === null) return;
        traceReply(n, line);
        // Errors to REPLCONF are ignored: old masters do not know it.
        if (n.replState === 'receive_port_reply') {
          setState(n, 'receive_capa_reply');
        } else {
          setState(n, 'send_psync');
          sendPsync(n);
        }
        break;
      }
      case 'receive_psync_reply': {
        const line = link.rx.readLine();
        if (line === null) return;
        if (line === '') break; // The master's keepalive while it prepares.
        if (line.startsWith('+FULLRESYNC')) {
          const [, id, off] = line.split(' ');
          n.masterReplidScratch = id !== undefined && id.length === 40 ? id : '';
          n.masterInitialOffset = Number(off ?? -1);
          if (n.host.tracing) n.host.trace({ kind: 'fullresync-received', node: n.name, peer: peerName(n), replid: n.masterReplidScratch, offset: n.masterInitialOffset });
          if (n.failoverState === 'failover-in-progress') clearFailoverState(n, 'the target answered +FULLRESYNC: failover done');
          // The cached master is kept until the new data is loaded (fix #9398).
          link.format = null;
          setState(n, 'transfer');
          break;
        }
        if (line.startsWith('+CONTINUE')) {
          const id = line.length > 10 ? line.slice(10).trim() : null;
          continueReceived(n, id);
          if (n.failoverState === 'failover-in-progress') clearFailoverState(n, 'the target answered +CONTINUE: failover done');
          return;
        }
        traceReply(n, line);
        if (n.failoverState === 'failover-in-progress') {
          return abortFailover(n, 'Failover target rejected psync request');
        }
        if (line.startsWith('-NOMASTERLINK') || line.startsWith('-LOADING')) {
          return handshakeError(n, `master is not ready: ${line}`);
        }
        // Simplification: Redis would fall back to SYNC here; we retry.
        return handshakeError(n, `unexpected reply to PSYNC: ${line}`);
      }
      case 'transfer': {
        if (!readPayload(n, link)) return;
        return transferDone(n, link);
      }
      case 'none': case 'connect': case 'connecting': case 'send_handshake': case 'receive_auth_reply':
      case 'receive_ip_reply': case 'send_psync': case 'connected':
        assert(false, `linkReceived in state ${n.replState}`);
    }
  }
}

/** slaveTryPartialResynchronization(), the send half. */
function sendPsync(n: RedisNode): void {
  n.masterInitialOffset = -1;
  const cm = n.cachedMaster;
  const replid = cm ? cm.replid : '?';
  const offset = cm ? cm.reploff + 1 : -1;
  // An old master handing over in a FAILOVER asks its target to promote itself (failoverCommand).
  const argv = ['PSYNC', replid, String(offset)];
  if (n.failoverState === 'failover-in-progress') argv.push('FAILOVER');
  n.host.send(n.link!.conn, encodeCommand(argv));
  if (n.host.tracing) n.host.trace({ kind: 'psync-sent', node: n.name, peer: peerName(n), replid, offset });
  setState(n, 'receive_psync_reply');
}

/** readSyncBulkPayload(): the `$` header, then the payload. True when complete. */
function readPayload(n: RedisNode, link: LinkInProgress): boolean {
  if (link.format === null) {
    const line = link.rx.readLine();
    if (line === null) return false;
    if (line === '') return readPayload(n, link); // Keepalive while the master runs BGSAVE.
    if (line.startsWith('-')) {
      handshakeError(n, `master aborted the transfer: ${line}`);
      return false;
    }
    if (!line.startsWith('$')) {
      handshakeError(n, `bad protocol from the master during the transfer: '${line}'`);
      return false;
    }
    if (line.startsWith('$EOF:')) {
      link.format = 'eof';
      link.eofMark = line.slice(5);
    } else {
      link.format = 'length';
      link.remainingBytes = Number(line.slice(1));
    }
    if (n.host.tracing) n.host.trace({ kind: 'transfer-start', node: n.name, peer: peerName(n), format: link.format, sizeBytes: link.format === 'length' ? link.remainingBytes : -1 });
  }
  if (link.format === 'length') {
    const take = Math.min(link.remainingBytes, link.rx.length);
    if (take > 0) {
      link.payload.push(link.rx.take(take));
      link.payloadBytes += take;
      link.remainingBytes -= take;
    }
    return link.remainingBytes === 0;
  }
  // EOF mode: the master sends nothing after the mark until our first ACK, so the mark ends it.
  if (link.rx.length > 0) {
    const chunk = link.rx.takeAll();
    link.payload.push(chunk);
    link.payloadBytes += chunk.length;
  }
  const mark = link.eofMark;
  if (link.payloadBytes < mark.length) return false;
  const tail = lastBytes(link.payload, mark.length);
  return tail === mark;
}

function lastBytes(chunks: Buffer[], n: number): string {
  let s = '';
  for (let i = chunks.length - 1; i >= 0 && s.length < n; i--) {
    const c = chunks[i]!;
    s = c.toString('latin1', Math.max(0, c.length - (n - s.length))) + s; // Only the tail: not 64 KB per arrival.
  }
  return s;
}

/**
 * The RDB is here (readSyncBulkPayload()): replicationAttachToNewMaster(), load, and only when the
 * load is done become CONNECTED and ACK. repl-diskless-load: `swapdb` parses into a
 * temporary dataset and gives up the old history only once the new one loaded; `on-empty-db`
 * with an empty dataset parses straight into it; `disabled` (and on-empty-db with data, which
 * falls back to it) has written the payload to disk and loads the file. Every mode but a
 * temporary dataset drops the cached master, sub-replicas and backlog and flushes first.
 * The load takes the host's time (loading.ts); with swapdb and a master whose replid is already
 * ours the load is asynchronous and the old dataset keeps serving reads meanwhile.
 * Simplification: a diskless load starts when the whole payload is here; Redis parses it from
 * the socket as it arrives (loading:1 during the transfer), so its load overlaps the transfer.
 */
function transferDone(n: RedisNode, link: LinkInProgress): void {
  let rdb = joinChunks(link.payload, link.payloadBytes);
  if (link.format === 'eof') rdb = rdb.subarray(0, rdb.length - link.eofMark.length);
  const mode = n.config.replDisklessLoad;
  const diskless = mode === 'swapdb' || (mode === 'on-empty-db' && n.ks.totalKeys() === 0); // useDisklessLoad()
  const tempDb = diskless && mode === 'swapdb';
  if (!tempDb) attachToNewMaster(n);
  // Loading from disk, readSyncBulkPayload() renames the transfer's temp file to dbfilename
  // before rdbLoad() (rdb-del-sync-files is no by default): the RDB stays, with the master's
  // repl-id and repl-offset, so a restart (crash, SHUTDOWN without a save) loads it.
  if (!diskless) n.host.writeFile(n.config.dbfilename, rdb);
  // Parsed straight into the dataset that replaces ours when the load is done (no array of
  // entries in between); a database past `databases` is noted and its keys skipped, as the
  // process exits over it.
  const loaded = n.ks.emptyLike();
  let highestDb = -1;
  let keys = 0;
  let aux: Array<[string, string]>;
  try {
    // rdbLoad() verifies the CRC-64; skipped only for the very bytes (a view of the same memory:
    // the network and ByteQueue pass views) that our simulated master wrote and summed.
    aux = parseRdb(rdb, {
      entry(db, key, value, expireAtMs, expireAtBig) {
        if (db > highestDb) highestDb = db;
        if (db >= loaded.databases) return true;
        keys++;
        return loaded.restoreNew(db, key, value, expireAtBig ?? expireAtMs);
      },
    }, { trustOwnChecksum: true });
  } catch (e) {
    if (!(e instanceof RdbFormatError)) throw e;
    if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `failed to load the RDB from the master: ${e.message}` + (tempDb ? '; the old dataset is kept' : '') });
    cancelHandshake(n, true, 'bad RDB');
    return;
  }
  if (exitIfTooManyDatabases(n, highestDb)) return;
  // Async loading only when the old dataset is an earlier point of the same history.
  const asyncLoad = tempDb && n.replid === n.masterReplidScratch;
  const usedMem = Number(aux.find(([k]) => k === 'used-mem')?.[1] ?? 0) || 0;
  startLoading(n, {
    source: diskless ? 'sync-socket' : 'sync-disk',
    async: asyncLoad,
    diskBytes: diskless ? 0 : rdb.length,
    sizeBytes: rdb.length,
    // startLoading(server.repl_transfer_size): 0 for a payload streamed with an EOF mark.
    totalBytes: diskless && link.format === 'eof' ? 0 : rdb.length,
    rdbUsedMem: usedMem,
    keys,
    finish: () => loadedFromMaster(n, link, rdb.length, aux, loaded, tempDb),
  });
}

/** The load of the master's RDB finished: the rest of readSyncBulkPayload(). */
function loadedFromMaster(n: RedisNode, link: LinkInProgress, sizeBytes: number, aux: Array<[string, string]>, loaded: Keyspace, tempDb: boolean): void {
  assert(n.link === link, 'loadedFromMaster: the link changed while loading');
  if (tempDb) attachToNewMaster(n);
  n.ks.adopt(loaded); // emptyData(), then the keys loaded
  n.fullSyncLoads++;
  const keys = n.ks.totalKeys();
  n.rdbLastLoadKeysLoaded = keys; // rdbLoadRio(): a replica deletes no expired key while loading
  n.rdbLastLoadKeysExpired = 0;
  const streamDb = Number(aux.find(([k]) => k === 'repl-stream-db')?.[1] ?? 0);
  const offset = n.masterInitialOffset;
  const m = n.createClient(link.conn, peerName(n));
  m.isMaster = true;
  m.parser!.fromMaster = true;
  m.reploff = m.readReploff = offset;
  m.replid = n.masterReplidScratch;
  m.db = streamDb;
  n.link = null;
  n.master = m;
  n.replid = m.replid;
  n.masterReplOffset = offset;
  clearReplicationId2(n);
  if (n.backlog !== null) n.backlog.rebase(offset); // Only with the zoo's #2694: stale bytes, new offsets.
  else createBacklog(n, 'a replica keeps a backlog so it can serve PSYNC if promoted');
  n.replDownSinceSec = 0;
  setState(n, 'connected');
  if (n.host.tracing) {
    n.host.trace({ kind: 'rdb-loaded', node: n.name, keys, sizeBytes, replid: n.replid, offset });
    n.host.trace({ kind: 'replid-change', node: n.name, replid: n.replid, replid2: n.replid2, secondOffset: n.secondReplidOffset, why: "full sync done: this node now follows its master's history" });
  }
  // The AOF was stopped for the load; it restarts with a rewrite of the new dataset (restartAOFAfterSYNC).
  if (n.config.appendonly) rewriteAof(n);
  // EOF mode: ACK at once; it releases the master's buffered stream (replconfCommand).
  if (link.format === 'eof') {
    n.host.send(m.conn!, encodeCommand(['REPLCONF', 'ACK', String(offset)]));
    if (n.host.traceStream === true) traceAckSent(n, m, offset, 'rdb-loaded');
  }
  const rest = link.rx.takeAll();
  if (rest.length > 0) masterStreamReceived(n, m, rest);
  // What the socket brought during the load is read now, in order.
  for (const item of n.linkHeldDuringLoad.splice(0)) {
    if (typeof item === 'string') n.closed(link.conn, item);
    else n.received(link.conn, item);
  }
}

/**
 * replicationAttachToNewMaster(): our old history is gone, so nobody may PSYNC against it: not
 * us (cached master), not our sub-replicas (disconnected), not via our backlog (freed) (#2694).
 */
function attachToNewMaster(n: RedisNode): void {
  n.host.history?.({ kind: 'flush', replid: n.replid, offset: n.masterReplOffset });
  n.cachedMaster = null;
  n.ks.flushAll();
  // The zoo's #2694: sub-replicas and the stale backlog survive the full sync.
  if (n.bugs.has('chained-keeps-backlog')) return;
  disconnectReplicas(n, 'this node full-synced from its master: its old history is gone');
  freeBacklog(n, 'full sync: the old history is discarded');
}

/** +CONTINUE: resurrect the cached master; shift ids if the master's history has a new id (slaveTryPartialResynchronization). */
function continueReceived(n: RedisNode, newId: string | null): void {
  const link = n.link!;
  const cm = n.cachedMaster;
  assert(cm !== null, '+CONTINUE without a cached master');
  assert(n.masterReplOffset === cm.reploff, `cached master offset ${cm.reploff} != master_repl_offset ${n.masterReplOffset}`);
  let why = 'the master continues the same history';
  if (newId !== null && newId !== cm.replid) {
    n.replid2 = cm.replid;
    n.secondReplidOffset = n.masterReplOffset + 1;
    n.replid = newId;
    cm.replid = newId;
    why = `the master's history has a new id ${newId.slice(0, 8)}…: the old one becomes replid2`;
    if (n.host.tracing) n.host.trace({ kind: 'replid-change', node: n.name, replid: n.replid, replid2: n.replid2, secondOffset: n.secondReplidOffset, why: 'PSYNC continued under a new replid' });
    disconnectReplicas(n, 'our replid changed: sub-replicas must learn the new id');
  }
  if (n.host.tracing) n.host.trace({ kind: 'continue-received', node: n.name, peer: peerName(n), replid: newId, why });
  const m = n.createClient(link.conn, peerName(n));
  m.isMaster = true;
  m.parser!.fromMaster = true;
  m.reploff = m.readReploff = cm.reploff;
  m.replid = cm.replid;
  m.db = cm.db;
  n.cachedMaster = null;
  n.link = null;
  n.master = m;
  n.replDownSinceSec = 0;
  // A node that booted from an RDB has no backlog yet (fix #4268).
  if (n.backlog === null && !n.bugs.has('no-backlog-after-continue')) createBacklog(n, 'partial resync on a node without a backlog');
  setState(n, 'connected');
  const rest = link.rx.takeAll();
  if (rest.length > 0) masterStreamReceived(n, m, rest);
}

// ---------------------------------------------------------------------------------------------
// Streaming (replicationFeedStreamFromMasterStream).

/**
 * Bytes from our master: apply each complete command, then proxy exactly its bytes to our
 * backlog and sub-replicas. Half-received commands stay in the parser (fix #3899).
 */
export function masterStreamReceived(n: RedisNode, m: Client, bytes: Uint8Array): void {
  m.readReploff += bytes.length;
  m.lastInteractionSec = n.unixtime; // readQueryFromClient(), the cached clock
  // The zoo's #3899: proxy what arrived, whether or not it is a whole applied command.
  if (n.bugs.has('proxy-unapplied')) proxyApplied(n, m, bytes);
  else n.streamRaw.push(bytes);
  const parser = m.parser!;
  parser.feed(bytes);
  for (;;) {
    let parsed;
    try {
      parsed = parser.next();
    } catch (e) {
      if (!(e instanceof RespProtocolError)) throw e;
      // A protocol error destroys the master client: no cached master, the next sync is full.
      m.protocolError = true;
      if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `protocol error from the master: ${e.message}` });
      n.freeClient(m, `protocol error from master: ${e.message}`);
      return;
    }
    if (parsed === null) return;
    if (parsed.argv.length > 0) {
      n.processCommand(m, parsed.argv);
      m.unappliedCommands++;
    }
    m.unappliedBytes += parsed.sizeBytes;
    if (m.closed || n.exited) return;
    // Inside MULTI nothing is applied until EXEC runs: the offset stays and nothing is proxied,
    // so a cut link re-requests the whole transaction (fixes 22be435ef and 189a12afb).
    if (m.multi !== null) continue;
    const applied = m.unappliedBytes;
    m.unappliedBytes = 0;
    m.reploff += applied;
    if (n.host.traceStream === true) traceApplied(n, m, parsed.argv, m.unappliedCommands, applied);
    m.unappliedCommands = 0;
    if (!n.bugs.has('proxy-unapplied')) proxyApplied(n, m, n.streamRaw.takeBytes(applied));
    // (With a zoo bug on, sim/check's "replica offset" invariant reports this instead.)
    if (n.bugs.size === 0) assert(n.masterReplOffset === m.reploff, 'replica: master_repl_offset must equal the applied reploff');
  }
}

/** replicationFeedStreamFromMasterStream(): the applied bytes go into our replication buffer (backlog and sub-replicas). */
function proxyApplied(n: RedisNode, m: Client, bytes: Uint8Array): void {
  const b = n.backlog;
  if (b === null && n.bugs.has('no-backlog-after-continue')) {
    // The zoo's #4268: with no backlog nothing is counted (feedReplicationBacklog never runs).
    queueStreamWithoutBacklog(n, bytes);
    return;
  }
  assert(b !== null, 'replica without a backlog while streaming');
  feedStream(n, bytes);
  if (n.host.traceStream === true) traceProxied(n, m, bytes.length);
}

/**
 * The master client was freed (link error, timeout, CLIENT KILL, REPLICAOF): cache it for a later
 * PSYNC (replicationCacheMaster) and reconnect at once. Sub-replicas stay connected.
 */
export function masterClientFreed(n: RedisNode, m: Client, why: string): void {
  n.master = null;
  n.streamRaw.clear();
  if (!m.protocolError) {
    // The unapplied tail of the query buffer is dropped: read_reploff := reploff.
    n.cachedMaster = { replid: m.replid, reploff: m.reploff, db: m.db };
  }
  if (n.host.tracing) n.host.trace({ kind: 'conn-closed', node: n.name, peer: m.peer, conn: m.conn ?? -1, why: `link with master lost: ${why}` });
  n.replDownSinceSec = n.unixtime; // replicationHandleMasterDisconnection()
  if (n.masterhost === null) return;
  setState(n, 'connect');
  connectWithMaster(n);
}

// ---------------------------------------------------------------------------------------------
// Cron (replicationCron: connect, timeouts, REPLCONF ACK).

/**
 * The replica half of replicationCron(), once per second. Its three repl-timeout checks compare
 * time(NULL), the real clock in whole seconds, with stamps taken from the cached clock
 * (repl_transfer_lastio, master->lastinteraction): `time(NULL) - stamp > repl-timeout`.
 */
export function replicaCron(n: RedisNode): void {
  if (n.masterhost === null) return;
  const now = n.timeNowSec();
  const timeoutSec = n.config.replTimeoutSec;
  if ((n.replState === 'connecting' || HANDSHAKE.has(n.replState)) && now - n.replTransferLastioSec > timeoutSec) {
    if (n.host.tracing) n.host.trace({ kind: 'timeout', node: n.name, peer: peerName(n), what: `timeout connecting to the master (${n.replState} for more than repl-timeout ${n.config.replTimeoutSec}s)` });
    cancelHandshake(n, true, 'timeout connecting to the master');
  }
  if (n.replState === 'transfer' && now - n.replTransferLastioSec > timeoutSec) {
    if (n.host.tracing) n.host.trace({ kind: 'timeout', node: n.name, peer: peerName(n), what: `timeout receiving the RDB from the master (nothing for more than repl-timeout ${n.config.replTimeoutSec}s)` });
    cancelHandshake(n, true, 'timeout receiving bulk data');
  }
  if (n.replState === 'connected' && n.master !== null && now - n.master.lastInteractionSec > timeoutSec) {
    if (n.host.tracing) n.host.trace({ kind: 'timeout', node: n.name, peer: peerName(n), what: `MASTER timeout: no data nor PING received for more than repl-timeout ${n.config.replTimeoutSec}s` });
    n.freeClient(n.master, 'master timed out');
  }
  if (n.replState === 'connect' && n.link === null) connectWithMaster(n);
  // replicationSendAck(): our applied offset, once per second.
  if (n.master !== null && n.replState === 'connected') {
    n.host.send(n.master.conn!, encodeCommand(['REPLCONF', 'ACK', String(n.master.reploff)]));
    if (n.host.traceStream === true) traceAckSent(n, n.master, n.master.reploff, 'cron');
  }
}
