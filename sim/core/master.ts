/**
 * The serving side of replication: feeding the stream, deciding PSYNC, producing RDBs for full
 * syncs, and the master half of replicationCron. Chained replicas use the same code to serve
 * their sub-replicas (replicationFeedStreamFromMasterStream); only feedCommand() is a top-level master's alone.
 *
 * References, all in Redis's src/replication.c: syncCommand, masterTryPartialResynchronization,
 * startBgsaveForReplication (full sync), replicationFeedSlaves (the stream), changeReplicationId and
 * shiftReplicationId (replid lifecycle), replicationCron (keepalives, timeouts).
 */
import { assert } from '../assert.ts';
import type { RedisNode } from './node.ts';
import { ZERO_REPLID } from './node.ts';
import type { Client } from './client.ts';
import { traceFed, traceAckReceived, traceAckSent } from './stream-trace.ts';
import { Backlog, PROTO_REPLY_CHUNK_BYTES, REPL_BACKLOG_TRIM_BLOCKS_PER_CALL } from './backlog.ts';
import { encodeCommand, commandSizeBytes } from './resp.ts';
import { OK, err, errSyntax, errNotInteger } from './reply.ts';
import { writeRdbFramed, writeRdbFrom } from './rdb.ts';
import { keyspaceSources, RdbImage } from './rdb-image.ts';
import { replicationUnsetMaster } from './replica.ts';
import { saveRdbToDisk } from './persist.ts';

const enc = (text: string): Buffer => Buffer.from(text, 'latin1');
const NEWLINE = enc('\n');

// ---------------------------------------------------------------------------------------------
// Replication IDs and the backlog (changeReplicationId, createReplicationBacklog).

/** changeReplicationId(): a fresh random replid. */
export function changeReplicationId(n: RedisNode, why: string): void {
  const from = n.replid;
  n.replid = n.host.randomHex(40);
  n.host.history?.({ kind: 'fork', why: 'new-id', fromReplid: from, toReplid: n.replid, offset: n.masterReplOffset });
  traceReplid(n, why);
}

/** clearReplicationId2(): forget the previous history. */
export function clearReplicationId2(n: RedisNode): void {
  n.replid2 = ZERO_REPLID;
  n.secondReplidOffset = -1;
}

/**
 * shiftReplicationId(): the current history becomes replid2, valid up to the next byte, and a
 * new history starts. Used on promotion (replicationUnsetMaster). offset+1 because PSYNC names the first byte
 * the replica lacks (slaveTryPartialResynchronization sends reploff + 1).
 */
export function shiftReplicationId(n: RedisNode, why: string): void {
  n.replid2 = n.replid;
  n.secondReplidOffset = n.masterReplOffset + 1;
  n.replid = n.host.randomHex(40);
  n.host.history?.({ kind: 'fork', why: 'promotion', fromReplid: n.replid2, toReplid: n.replid, offset: n.masterReplOffset });
  traceReplid(n, why);
}

function traceReplid(n: RedisNode, why: string): void {
  if (n.host.tracing) {
    n.host.trace({ kind: 'replid-change', node: n.name, replid: n.replid, replid2: n.replid2, secondOffset: n.secondReplidOffset, why });
  }
}

/** createReplicationBacklog(): an empty backlog whose first byte is the next one produced. */
export function createBacklog(n: RedisNode, why: string): void {
  assert(n.backlog === null, 'createBacklog: backlog exists');
  n.backlog = new Backlog(n.config.replBacklogSizeBytes, n.masterReplOffset);
  if (n.host.tracing) n.host.trace({ kind: 'backlog', node: n.name, action: 'created', offset: n.backlog.offset, why });
}

/**
 * freeReplicationBacklog(): the backlog and the whole block list go. Only without replicas, so
 * the backlog held the last reference to every block.
 */
export function freeBacklog(n: RedisNode, why: string): void {
  if (n.backlog === null) return;
  assert(n.replicas.length === 0, 'freeBacklog: replicas still read the replication buffer');
  n.backlog = null;
  if (n.host.tracing) n.host.trace({ kind: 'backlog', node: n.name, action: 'freed', offset: n.masterReplOffset + 1, why });
}

/**
 * CONFIG SET repl-backlog-size: resizeReplicationBacklog() keeps the content and only trims
 * (incrementally, as far as no replica still reads the first blocks), so a replica that was
 * behind can still continue if its offset survived the trim.
 */
export function resizeBacklog(n: RedisNode): void {
  const b = n.backlog;
  if (b === null || b.sizeBytes === n.config.replBacklogSizeBytes) return;
  b.resize(n.config.replBacklogSizeBytes);
  if (n.host.tracing) {
    n.host.trace({ kind: 'backlog', node: n.name, action: 'resized', offset: b.offset, why: `repl-backlog-size is now ${b.sizeBytes}; the content is kept, trimmed to histlen ${b.histlen}` });
  }
}

// ---------------------------------------------------------------------------------------------
// The stream (replicationFeedSlaves).

/**
 * replicationFeedSlaves(): a top-level master appends one command (preceded by SELECT when the
 * stream is positioned in another DB) to its backlog and every replica that is being fed.
 * A replica never feeds: it proxies its master's bytes instead (replica.ts).
 */
export function feedCommand(n: RedisNode, db: number, argv: readonly string[]): void {
  if (n.isReplica) return;
  // Without a backlog and replicas nothing is produced, and the offset does not move (replicationFeedSlaves returns early).
  if (n.backlog === null && n.replicas.length === 0) return;
  assert(n.backlog !== null, 'feedCommand: replicas without a backlog');
  if (db !== -1 && db !== n.slaveseldb) {
    const select = encodeCommand(['SELECT', String(db)]);
    feedStream(n, select);
    n.slaveseldb = db;
    if (n.host.traceStream === true) traceFed(n, ['SELECT', String(db)], select.length);
  }
  // Most commands fit in the tail block: encoded there, with no Buffer of their own.
  const sizeBytes = commandSizeBytes(argv);
  if (sizeBytes <= n.backlog.tailRoomBytes()) {
    feedCommandInTail(n, argv, sizeBytes);
    if (n.host.traceStream === true) traceFed(n, argv, sizeBytes);
    return;
  }
  const bytes = encodeCommand(argv);
  if (bytes.length <= PROTO_REPLY_CHUNK_BYTES) feedStream(n, bytes);
  else feedCommandInPieces(n, bytes, argv);
  if (n.host.traceStream === true) traceFed(n, argv, bytes.length);
}

/**
 * replicationFeedSlaves() feeds a command piece by piece (`*<argc>\r\n`, then `$<len>\r\n`, the
 * argument and `\r\n` for each argument), and a block that a piece opens is sized by what is left
 * of that piece. Feeding the whole command gives the same blocks while it is at most 16 KiB (every
 * new block is then the minimum size); a longer one is fed as Redis feeds it, so a big value
 * opens a block of its own size, exactly as on a real server.
 */
function feedCommandInPieces(n: RedisNode, bytes: Buffer, argv: readonly string[]): void {
  let at = 3 + String(argv.length).length;
  feedStream(n, bytes.subarray(0, at));
  for (const arg of argv) {
    const header = 3 + String(arg.length).length;
    feedStream(n, bytes.subarray(at, at + header));
    at += header;
    if (arg.length > 0) feedStream(n, bytes.subarray(at, at + arg.length));
    at += arg.length;
    feedStream(n, bytes.subarray(at, at + 2));
    at += 2;
  }
  assert(at === bytes.length, `feedCommandInPieces: ${at} of ${bytes.length} bytes fed`);
}

/**
 * feedReplicationBuffer(): append stream bytes to the shared block list, round by round (a round
 * fills the tail block and at most one new block). A replica that may be fed (canFeedReplicaReplBuffer:
 * past WAIT_BGSAVE_START, so it gets the stream from its fork point on) and reads nothing yet
 * starts at this round's first byte; when a round added a block, every such replica's output
 * buffer limit is checked and the backlog is trimmed. Replicas are written at beforeSleep.
 */
export function feedStream(n: RedisNode, bytes: Uint8Array): void {
  const b = n.backlog;
  assert(b !== null, 'feedStream: no backlog');
  const rs = n.replicas;
  // prepareReplicasToWrite(): ask beforeSleep to look at every replica that gets these bytes.
  for (let i = 0; i < rs.length; i++) if (rs[i]!.replState !== 'wait_bgsave_start') n.markPendingWrite(rs[i]!);
  for (let from = 0; from < bytes.length;) {
    const taken = b.appendSome(bytes, from);
    from += taken;
    n.masterReplOffset += taken;
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      if (r.replState === 'wait_bgsave_start') continue;
      if (r.replBlock === null) b.attachAtStart(r);
      if (b.addedBlock) checkOutputBufferLimits(n, b, r);
    }
    if (b.addedBlock) b.trim(REPL_BACKLOG_TRIM_BLOCKS_PER_CALL);
  }
  assert(b.endOffset === n.masterReplOffset, 'backlog invariant: offset + histlen - 1 == master_repl_offset');
}

/** feedStream() of a command that fits in the backlog's tail block: one round, no block added. */
function feedCommandInTail(n: RedisNode, argv: readonly string[], sizeBytes: number): void {
  const b = n.backlog!;
  const rs = n.replicas;
  for (let i = 0; i < rs.length; i++) if (rs[i]!.replState !== 'wait_bgsave_start') n.markPendingWrite(rs[i]!);
  b.appendCommandInTail(argv, sizeBytes);
  n.masterReplOffset += sizeBytes;
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i]!;
    if (r.replState !== 'wait_bgsave_start' && r.replBlock === null) b.attachAtStart(r);
  }
  assert(b.endOffset === n.masterReplOffset, 'backlog invariant: offset + histlen - 1 == master_repl_offset');
}

/**
 * Only the bug zoo's #4268 feeds replicas without a backlog (Redis 7.0 has no replication buffer
 * then, and would feed nothing): the bytes go to each replica's own output, unaccounted.
 */
export function queueStreamWithoutBacklog(n: RedisNode, bytes: Uint8Array): void {
  const rs = n.replicas;
  for (let i = 0; i < rs.length; i++) if (rs[i]!.replState !== 'wait_bgsave_start') n.queueBytes(rs[i]!, bytes);
}

/**
 * _writeToClient() for a replica, called by beforeSleep: send what it has not sent from the
 * shared blocks, each block's part as a view (no copy; replicas at the same place share one). The simulated socket takes everything, so
 * the replica ends on the tail block, fully sent, still referencing it as Redis's does.
 */
export function writeReplicaOutput(n: RedisNode, c: Client): void {
  const b = n.backlog;
  const conn = c.conn;
  assert(b !== null, 'writeReplicaOutput: a replica reads blocks but there is no backlog');
  assert(conn !== null, 'writeReplicaOutput: a replica without a socket');
  for (let blk = c.replBlock; blk !== null; blk = c.replBlock) {
    if (blk.used > c.replBlockPos) {
      n.host.send(conn, b.view(blk, c.replBlockPos, blk.used));
      c.replBlockPos = blk.used;
    }
    if (!b.advance(c)) return;
  }
}

/** beforeSleep() trims the backlog at ten times the normal pace. */
export function trimBacklogBeforeSleep(n: RedisNode): void {
  if (n.backlog !== null) n.backlog.trim(10 * REPL_BACKLOG_TRIM_BLOCKS_PER_CALL);
}

/**
 * checkClientOutputBufferLimits() for class replica, run when a block is added. A
 * replica's usage is getClientOutputBufferMemoryUsage(): the blocks from the one it reads to the
 * tail, allocation and headers included, so a replica waiting for its RDB, or one the stream
 * outruns, is measured over the same shared bytes the backlog holds. The hard limit is never
 * below repl-backlog-size (a PSYNC the backlog can serve is not killed at once); the soft limit
 * must hold for more than soft-seconds of server.unixtime (whole seconds). The client is closed
 * asynchronously (freeClientAsync). The simulated socket has no send buffer limit, so an online
 * replica is fully written at every beforeSleep and only the blocks fed since count.
 */
function checkOutputBufferLimits(n: RedisNode, b: Backlog, r: Client): void {
  const lim = n.config.obufReplica;
  const usedBytes = b.outputBufferBytes(r);
  let hard = lim.hardBytes;
  if (hard > 0 && hard < n.config.replBacklogSizeBytes) hard = n.config.replBacklogSizeBytes;
  let why: string | null = null;
  if (hard > 0 && usedBytes >= hard) why = `output buffer ${usedBytes} bytes reached the hard limit ${hard}`;
  if (lim.softBytes > 0 && usedBytes >= lim.softBytes) {
    // checkClientOutputBufferLimits(): both ends in server.unixtime, whole seconds.
    if (r.obufSoftSinceSec === 0) r.obufSoftSinceSec = n.unixtime;
    else if (n.unixtime - r.obufSoftSinceSec > lim.softSeconds) {
      why ??= `output buffer over the soft limit ${lim.softBytes} bytes for more than ${lim.softSeconds}s`;
    }
  } else {
    r.obufSoftSinceSec = 0;
  }
  if (why !== null) n.freeClientAsync(r, `client-output-buffer-limit replica: ${why}`);
}

// ---------------------------------------------------------------------------------------------
// SYNC / PSYNC (syncCommand).

export function syncCommand(n: RedisNode, c: Client, argv: string[]): void {
  // Already a replica: ignore silently.
  if (c.replState !== null) return;
  const isPsync = argv[0]!.toLowerCase() === 'psync';
  if (isPsync && argv.length > 3) {
    // PSYNC <replid> <offset> FAILOVER (failoverCommand): only a replica whose history matches promotes itself.
    if (argv[3]!.toLowerCase() !== 'failover') return n.addReply(c, errSyntax);
    if (!n.isReplica) return n.addReply(c, err("ERR PSYNC FAILOVER can't be sent to a master."));
    if (argv[1]!.toLowerCase() !== n.replid) return n.addReply(c, err('ERR PSYNC FAILOVER replid must match my replid.'));
    replicationUnsetMaster(n, `PSYNC FAILOVER from ${c.peer}`);
  }
  if (n.failoverState !== 'no-failover') return n.addReply(c, err("NOMASTERLINK Can't SYNC while failing over"));
  // A chained replica serves syncs only while its own link is up (syncCommand).
  if (n.isReplica && n.replState !== 'connected') {
    return n.addReply(c, err("NOMASTERLINK Can't SYNC while not connected with my master"));
  }
  if (c.outBytes > 0) return n.addReply(c, err('ERR SYNC and PSYNC are invalid with pending output'));

  if (isPsync) {
    const replid = argv[1]!;
    const offsetText = argv[2]!;
    // The offset must parse before anything else happens (fix #10243).
    if (!/^-?\d+$/.test(offsetText) || !Number.isSafeInteger(Number(offsetText))) {
      return n.addReply(c, errNotInteger);
    }
    if (n.host.tracing) n.host.trace({ kind: 'psync-received', node: n.name, peer: c.peer, replid, offset: offsetText });
    if (tryPartialResync(n, c, replid, Number(offsetText))) {
      n.statSyncPartialOk++;
      return;
    }
    if (replid !== '?') n.statSyncPartialErr++;
  } else {
    // Simplification: legacy SYNC is served as a full sync with the FULLRESYNC line (not modelled).
    if (n.host.tracing) n.host.trace({ kind: 'psync-received', node: n.name, peer: c.peer, replid: 'SYNC', offset: '' });
  }

  n.statSyncFull++;
  c.psyncRequestOffset = n.masterReplOffset;
  c.replState = 'wait_bgsave_start';
  c.replAckTimeSec = n.unixtime;
  n.replicas.push(c);
  // The first replica makes the backlog, and with it a new history (syncCommand, changeReplicationId).
  if (n.replicas.length === 1 && n.backlog === null) {
    changeReplicationId(n, 'the first replica attached and there was no backlog: a new history starts');
    clearReplicationId2(n);
    createBacklog(n, `first replica ${c.peer} attached`);
  }

  // startBgsaveForReplication: join a disk BGSAVE that another replica is waiting for, or start one, or wait.
  const child = n.child;
  if (child !== null && child.target === 'disk') {
    const other = n.replicas.find((r) => r !== c && r.replState === 'wait_bgsave_end' && !r.disklessTarget);
    if (other && (!other.capaEof || c.capaEof)) {
      // Share the other replica's stream from its fork point (copyReplicaOutputBuffer).
      n.backlog!.copyReader(c, other);
      setupFullResync(n, c, other.psyncInitialOffset);
      n.markPendingWrite(c);
      note(n, `${c.peer} attaches to the BGSAVE already running for ${other.peer}`);
    } else {
      note(n, `${c.peer} waits: a BGSAVE is running that it cannot share; the next one will serve it`);
    }
  } else if (child !== null) {
    note(n, `${c.peer} waits: a diskless transfer is in progress and cannot be joined`);
  } else if (n.config.replDisklessSync && c.capaEof && n.config.replDisklessSyncDelaySec > 0) {
    note(n, `diskless sync: waiting repl-diskless-sync-delay ${n.config.replDisklessSyncDelaySec}s for more replicas before forking`);
  } else {
    startBgsaveForReplication(n);
  }
}

/**
 * Can this PSYNC be served from the backlog? masterTryPartialResynchronization():
 *   A) the replid is ours, or it is replid2 and offset <= second_replid_offset;
 *   B) the offset lies in [backlog.offset, backlog.offset + histlen].
 * "PSYNC ? -1" always fails A. On success: +CONTINUE, then the missing bytes.
 */
export function tryPartialResync(n: RedisNode, c: Client, replid: string, offset: number): boolean {
  const id = replid.toLowerCase();
  const b = n.backlog;
  let reason: string | null = null;
  if (id === '?') {
    reason = 'the replica asked for a full resync (PSYNC ? -1): it has no history to continue';
  } else if (id !== n.replid && id !== n.replid2) {
    reason = `replid mismatch: the replica follows ${short(replid)}, this node's history is ${short(n.replid)}` +
      (n.replid2 !== ZERO_REPLID ? ` (previously ${short(n.replid2)})` : '');
  } else if (id !== n.replid && offset > n.secondReplidOffset) {
    reason = `requested offset for the previous replid ${short(replid)} was ${offset}, but this node can reply up to ${n.secondReplidOffset}: the replica has bytes of that history this node never had`;
  } else if (b === null) {
    reason = 'no backlog: this node keeps no history to resend';
  } else if (offset < b.offset || offset > b.offset + b.histlen) {
    reason = `requested offset ${offset} is outside the backlog [${b.offset}, ${b.offset + b.histlen}]` +
      (offset < b.offset ? ': those bytes were already overwritten' : ': the replica claims bytes this node never produced');
  }
  if (reason !== null) {
    if (n.host.tracing) n.host.trace({ kind: 'psync-decision', node: n.name, peer: c.peer, accepted: false, reason: `full resync: ${reason}`, sendBytes: 0 });
    return false;
  }
  assert(b !== null);
  const how = id === n.replid ? 'replid matches' : `replid matches this node's previous replid (replid2, valid up to ${n.secondReplidOffset})`;
  const missing = b.histlen - (offset - b.offset);
  if (n.host.tracing) {
    n.host.trace({
      kind: 'psync-decision', node: n.name, peer: c.peer, accepted: true, sendBytes: missing,
      reason: `partial resync accepted: ${how}, requested offset ${offset} is within the backlog [${b.offset}, ${b.offset + b.histlen}]; ${missing} bytes to resend`,
    });
  }
  c.replState = 'online';
  c.replAckTimeSec = n.unixtime;
  c.startStreamOnAck = false;
  n.replicas.push(c);
  refreshGoodSlavesCount(n);
  n.lastPsyncAccepted = { peer: c.peer, replid, offset };
  // +CONTINUE goes straight to the socket; then the replica reads the shared blocks from its
  // offset on (addReplyReplicationBacklog), the backlog tail and the live stream alike.
  n.writeDirect(c, enc(c.capaPsync2 ? `+CONTINUE ${n.replid}\r\n` : '+CONTINUE\r\n'));
  b.attachAt(c, offset);
  n.markPendingWrite(c);
  // Note: slaveseldb is not reset; the replica keeps its DB selection (masterTryPartialResynchronization).
  if (n.host.tracing) n.host.trace({ kind: 'replica-online', node: n.name, peer: c.peer, why: 'partial resync' });
  return true;
}

/** replicationSetupSlaveForFullResync(): fix the snapshot offset and tell the replica. */
function setupFullResync(n: RedisNode, c: Client, offset: number): void {
  c.psyncInitialOffset = offset;
  c.replState = 'wait_bgsave_end';
  // Force a SELECT before the next command in the shared stream.
  n.slaveseldb = -1;
  // The zoo's 292fec058: the offset of the PSYNC, not of the fork, is announced.
  const announced = n.bugs.has('fullresync-offset-at-psync') ? c.psyncRequestOffset : offset;
  n.writeDirect(c, enc(`+FULLRESYNC ${n.replid} ${announced}\r\n`));
  if (n.host.tracing) n.host.trace({ kind: 'fullresync-sent', node: n.name, peer: c.peer, replid: n.replid, offset: announced });
}

/** startBgsaveForReplication(): fork for every replica waiting for a BGSAVE to start. */
export function startBgsaveForReplication(n: RedisNode): void {
  assert(n.child === null, 'startBgsaveForReplication: a child is running');
  const waiting = n.replicas.filter((r) => r.replState === 'wait_bgsave_start');
  if (waiting.length === 0) return;
  const toSockets = n.config.replDisklessSync && waiting.every((r) => r.capaEof);
  const offset = n.masterReplOffset;
  if (toSockets) {
    for (const r of waiting) {
      r.disklessTarget = true;
      setupFullResync(n, r, offset);
    }
    // rdbSaveToSlavesSockets(): $EOF:<mark>\r\n, the RDB, the mark again, relayed to the
    // replicas as the child produces it (childProgress), not all at once. Written in one buffer.
    const mark = n.host.randomHex(40);
    const { payload, rdb } = writeRdbFramed(rdbAuxFields(n), keyspaceSources(n.ks), n.ks.totalBytes(), `$EOF:${mark}\r\n`, mark);
    const id = n.host.fork('sockets', payload.length);
    n.child = { id, target: 'sockets', rdb: RdbImage.ofBytes(rdb), payload, targets: waiting, relayedBytes: 0 };
    n.rdbBgsaveInProgress = true; // A socket child is an RDB child too (child_type == CHILD_TYPE_RDB).
    traceBgsave(n, 'sockets', rdb.length, waiting, offset);
  } else {
    // Disk: the replicas read the file as soon as the child exits (childDone), so it is written
    // now, not snapshotted (a clone of a 10M-key dataset to be written a moment later anyway).
    const rdb = RdbImage.ofBytes(rdbSnapshot(n));
    const id = n.host.fork('disk', rdb.sizeBytes);
    n.child = { id, target: 'disk', rdb, payload: null, targets: [], relayedBytes: 0 };
    n.rdbBgsaveInProgress = true;
    traceBgsave(n, 'disk', rdb.sizeBytes, waiting, offset);
    for (const r of waiting) {
      r.disklessTarget = false;
      setupFullResync(n, r, offset);
    }
  }
}

function traceBgsave(n: RedisNode, target: 'disk' | 'sockets', sizeBytes: number, rs: Client[], offset: number): void {
  if (n.host.tracing) n.host.trace({ kind: 'bgsave-start', node: n.name, target, sizeBytes, replicas: rs.map((r) => r.peer), offset });
}

/**
 * rdbPipeReadHandler(): relay what a socket child has produced so far to every replica still
 * reading it. A replica that went away meanwhile is simply skipped.
 */
export function childProgress(n: RedisNode, id: number, producedBytes: number): void {
  const child = n.child;
  if (child === null || child.id !== id || child.payload === null) return;
  const upTo = Math.min(producedBytes, child.payload.length);
  if (upTo <= child.relayedBytes) return;
  const slice = child.payload.subarray(child.relayedBytes, upTo);
  for (const r of child.targets) if (!r.closed && r.replState === 'wait_bgsave_end') n.writeDirect(r, slice);
  if (child.relayedBytes === 0 && n.host.tracing) {
    for (const r of child.targets) n.host.trace({ kind: 'rdb-sent', node: n.name, peer: r.peer, format: 'eof', sizeBytes: child.rdb.sizeBytes });
  }
  child.relayedBytes = upTo;
}

/** The BGSAVE child exited: updateSlavesWaitingBgsave(). */
export function childDone(n: RedisNode, id: number, ok: boolean): void {
  const child = n.child;
  if (child === null || child.id !== id) return;
  if (ok && child.payload !== null) childProgress(n, id, child.payload.length);
  n.child = null;
  n.rdbBgsaveInProgress = false;
  if (n.host.tracing) n.host.trace({ kind: 'bgsave-done', node: n.name, ok });
  if (child.target === 'disk' && ok) {
    n.host.writeFile(n.config.dbfilename, child.rdb);
    n.lastSaveUnixSec = Math.floor(n.host.unixMs() / 1000);
    n.dirty = 0;
  }
  const header = enc(`$${child.rdb.sizeBytes}\r\n`);
  for (const r of n.replicas.slice()) {
    if (r.replState !== 'wait_bgsave_end') continue;
    if (!ok) {
      n.freeClient(r, 'BGSAVE failed: replication cannot continue');
      continue;
    }
    if (r.disklessTarget) {
      // The stream is released on the replica's first REPLCONF ACK, so the EOF mark is last.
      r.replState = 'online'; // replicaPutOnline()
      r.startStreamOnAck = true;
      r.replAckTimeSec = n.unixtime;
      refreshGoodSlavesCount(n);
      if (n.host.tracing) n.host.trace({ kind: 'replica-online', node: n.name, peer: r.peer, why: 'diskless transfer done; the stream starts on its first REPLCONF ACK' });
    } else {
      // Disk: $<len>\r\n and the file, then the stream accumulated since the fork.
      n.writeDirect(r, header);
      n.writeDirect(r, child.rdb.bytes());
      if (n.host.tracing) n.host.trace({ kind: 'rdb-sent', node: n.name, peer: r.peer, format: 'length', sizeBytes: child.rdb.sizeBytes });
      r.replState = 'online'; // replicaPutOnline()
      r.replAckTimeSec = n.unixtime;
      refreshGoodSlavesCount(n);
      n.markPendingWrite(r);
      if (n.host.tracing) n.host.trace({ kind: 'replica-online', node: n.name, peer: r.peer, why: 'RDB sent; the buffered stream follows' });
    }
  }
  startPendingFork(n);
}

/** BGSAVE from a user: a disk child, not for replication. */
export function bgsaveCommand(n: RedisNode, c: Client): void {
  if (n.child !== null) return n.addReply(c, err('ERR Background save already in progress'));
  const rdb = rdbImageAtFork(n);
  const id = n.host.fork('disk', rdb.sizeBytes);
  n.child = { id, target: 'disk', rdb, payload: null, targets: [], relayedBytes: 0 };
  n.rdbBgsaveInProgress = true;
  n.addReply(c, { kind: 'status', text: 'Background saving started' });
}

/** serverCron's save points: BGSAVE when `changes` writes happened within `seconds`. */
export function checkSavePoints(n: RedisNode): void {
  if (n.child !== null || n.dirty === 0) return;
  const nowSec = Math.floor(n.host.unixMs() / 1000);
  for (const p of n.config.save) {
    if (n.dirty >= p.changes && nowSec - n.lastSaveUnixSec > p.seconds) {
      const rdb = rdbImageAtFork(n);
      const id = n.host.fork('disk', rdb.sizeBytes);
      n.child = { id, target: 'disk', rdb, payload: null, targets: [], relayedBytes: 0 };
      n.rdbBgsaveInProgress = true;
      return;
    }
  }
}

/**
 * replicationStartPendingFork() / shouldStartChildReplication(): start a BGSAVE for waiting
 * replicas once the diskless delay has passed (or enough replicas wait), at once for disk sync.
 * The delay is measured as Redis measures it: `server.unixtime - slave->lastinteraction`, both
 * whole seconds of the cached clock, and looked at only here, once per second from
 * replicationCron (and when a child exits). A replica whose PSYNC was read at 1.9 s (stamped
 * 1) is therefore served by the cron tick at 6.0x s with the default delay of 5: the fork can
 * come up to a second before the delay has really passed, or up to a cron period after.
 */
export function startPendingFork(n: RedisNode): void {
  if (n.child !== null) return;
  const waiting = n.replicas.filter((r) => r.replState === 'wait_bgsave_start');
  if (waiting.length === 0) return;
  let maxIdleSec = 0;
  for (const r of waiting) maxIdleSec = Math.max(maxIdleSec, n.unixtime - r.lastInteractionSec);
  const cfg = n.config;
  if (!cfg.replDisklessSync || maxIdleSec >= cfg.replDisklessSyncDelaySec ||
      (cfg.replDisklessSyncMaxReplicas > 0 && waiting.length >= cfg.replDisklessSyncMaxReplicas)) {
    startBgsaveForReplication(n);
  }
}

// ---------------------------------------------------------------------------------------------
// REPLCONF (replconfCommand).

export function replconfCommand(n: RedisNode, c: Client, argv: string[]): void {
  if (argv.length % 2 === 0) return n.addReply(c, errSyntax);
  for (let i = 1; i < argv.length; i += 2) {
    const opt = argv[i]!.toLowerCase();
    const val = argv[i + 1]!;
    if (opt === 'listening-port') {
      const p = Number(val);
      if (!/^\d+$/.test(val) || p > 65535) return n.addReply(c, errNotInteger);
      c.listeningPort = p;
    } else if (opt === 'ip-address') {
      // Announced address: not used in the simulator (hosts are names).
    } else if (opt === 'capa') {
      const capa = val.toLowerCase();
      if (capa === 'eof') c.capaEof = true;
      else if (capa === 'psync2') c.capaPsync2 = true;
    } else if (opt === 'ack') {
      // REPLCONF ACK <offset>: no reply, ever.
      if (c.replState === null) return;
      const off = Number(val);
      if (!/^-?\d+$/.test(val)) return;
      if (n.host.traceStream === true) traceAckReceived(n, c, off);
      if (off > c.replAckOff) c.replAckOff = off;
      c.replAckTimeSec = n.unixtime;
      // Diskless: the first ACK after the transfer releases the buffered stream (replconfCommand, replicaStartCommandStream).
      if (c.startStreamOnAck && c.replState === 'online') {
        c.startStreamOnAck = false;
        n.markPendingWrite(c);
        if (n.host.tracing) n.host.trace({ kind: 'replica-online', node: n.name, peer: c.peer, why: 'first REPLCONF ACK after the diskless transfer: streaming starts' });
      }
      return;
    } else if (opt === 'getack') {
      // Only our master may ask; we answer with the bytes applied so far (this GETACK excluded).
      if (n.master === c) {
        n.writeDirect(c, encodeCommand(['REPLCONF', 'ACK', String(c.reploff)]));
        if (n.host.traceStream === true) traceAckSent(n, c, c.reploff, 'getack');
      }
      return;
    } else if (opt === 'rdb-only' || opt === 'rdb-filter-only') {
      // Tools' options: accepted, not modelled.
    } else {
      return n.addReply(c, err(`ERR Unrecognized REPLCONF option: ${argv[i]}`));
    }
  }
  n.addReply(c, OK);
}

// ---------------------------------------------------------------------------------------------
// Cron and client loss.

/**
 * The master half of replicationCron(), once per second. Its clocks are server.unixtime, the
 * cached clock in whole seconds (refreshed by serverCron just before): a replica is cut when
 * `unixtime - repl_ack_time > repl-timeout`, the backlog is freed when
 * `unixtime - repl_no_slaves_since > repl-backlog-ttl`.
 */
export function masterCron(n: RedisNode): void {
  const now = n.unixtime;
  const cfg = n.config;
  // PING the replicas every repl-ping-replica-period seconds; it is part of the stream.
  // Not while writes are paused by a FAILOVER with a TIMEOUT: the PING would move the offset.
  const pausedForFailover = n.failoverEndMs !== 0 && n.failoverState !== 'no-failover';
  if (n.replicationCronLoops % cfg.replPingReplicaPeriodSec === 0 && n.replicas.length > 0 && !pausedForFailover) {
    feedCommand(n, n.slaveseldb, ['PING']);
  }
  // Replicas waiting for an RDB get a bare newline, outside the stream, to keep the link alive.
  for (const r of n.replicas) {
    const presync = r.replState === 'wait_bgsave_start' ||
      (r.replState === 'wait_bgsave_end' && n.child !== null && n.child.target === 'disk');
    if (presync) n.writeDirect(r, NEWLINE);
  }
  // Disconnect replicas that stopped ACKing.
  for (const r of n.replicas.slice()) {
    if (r.replState === 'online' && now - r.replAckTimeSec > cfg.replTimeoutSec) {
      if (n.host.tracing) n.host.trace({ kind: 'timeout', node: n.name, peer: r.peer, what: `no REPLCONF ACK from the replica for more than repl-timeout ${cfg.replTimeoutSec}s` });
      n.freeClient(r, 'replica timed out');
    }
  }
  // Free the backlog after repl-backlog-ttl without replicas, with a new replid (replicationCron, fix 6ddf0ea29).
  if (!n.isReplica && n.replicas.length === 0 && cfg.replBacklogTtlSec > 0 && n.backlog !== null &&
      now - n.replNoSlavesSinceSec > cfg.replBacklogTtlSec) {
    changeReplicationId(n, `the backlog was freed after repl-backlog-ttl ${cfg.replBacklogTtlSec}s without replicas`);
    clearReplicationId2(n);
    freeBacklog(n, 'repl-backlog-ttl expired');
  }
  startPendingFork(n);
}

/** A replica client went away: forget it (freeClient for a replica). */
export function replicaClientFreed(n: RedisNode, c: Client, why: string): void {
  const i = n.replicas.indexOf(c);
  if (i >= 0) n.replicas.splice(i, 1);
  // freeReplicaReferencedReplBuffer(): its blocks may now be trimmed.
  if (n.backlog !== null) n.backlog.release(c);
  else c.replBlock = null;
  if (n.replicas.length === 0) n.replNoSlavesSinceSec = n.unixtime;
  refreshGoodSlavesCount(n);
  if (n.host.tracing) n.host.trace({ kind: 'replica-dropped', node: n.name, peer: c.peer, why });
  // Simplification: a disk BGSAVE child is not killed when its last replica leaves.
}

/**
 * min-replicas-to-write / min-replicas-max-lag: checkGoodReplicasStatus(), which processCommand
 * asks before a write. It reads the cached count (node.replGoodSlavesCount), not the replicas:
 * a replica that died or went silent a moment ago still counts until the next refresh.
 */
export function minReplicasRefuse(n: RedisNode): boolean {
  const cfg = n.config;
  if (n.isReplica || cfg.minReplicasToWrite === 0 || cfg.minReplicasMaxLagSec === 0) return false;
  return n.replGoodSlavesCount < cfg.minReplicasToWrite;
}

/**
 * refreshGoodSlavesCount(): count the online replicas whose last ACK is at most
 * min-replicas-max-lag seconds old (`server.unixtime - repl_ack_time`, whole seconds). Redis
 * runs it once per second at the end of replicationCron, when a replica is put online (after a
 * partial resync or its RDB), when a replica client is freed, and when either min-replicas
 * option is set. With the feature off the count is left as it was.
 */
export function refreshGoodSlavesCount(n: RedisNode): void {
  const cfg = n.config;
  if (cfg.minReplicasToWrite === 0 || cfg.minReplicasMaxLagSec === 0) return;
  let good = 0;
  for (const r of n.replicas) {
    if (r.replState === 'online' && n.unixtime - r.replAckTimeSec <= cfg.minReplicasMaxLagSec) good++;
  }
  n.replGoodSlavesCount = good;
}

// ---------------------------------------------------------------------------------------------
// Snapshots (rdb.c rdbPopulateSaveInfo).

/** rdbPopulateSaveInfo() and the fixed aux fields, as of now, in the order Redis writes them. */
function rdbAuxFields(n: RedisNode): Array<[string, string]> {
  const aux: Array<[string, string]> = [
    ['redis-ver', '7.0.15'],
    ['redis-bits', '64'],
    ['ctime', String(Math.floor(n.host.unixMs() / 1000))],
    ['used-mem', String(1_000_000 + n.ks.totalBytes())],
  ];
  let streamDb: number | null = null;
  if (!n.isReplica && n.backlog !== null) streamDb = n.slaveseldb === -1 ? 0 : n.slaveseldb;
  else if (n.master !== null) streamDb = n.master.db;
  else if (n.cachedMaster !== null) streamDb = n.cachedMaster.db;
  if (streamDb !== null) {
    aux.push(['repl-stream-db', String(streamDb)], ['repl-id', n.replid], ['repl-offset', String(n.masterReplOffset)]);
  }
  aux.push(['aof-base', '0']);
  return aux;
}

/** The dataset as an RDB file, with repl aux fields when the node has replication info. */
export function rdbSnapshot(n: RedisNode): Buffer {
  return writeRdbFrom(rdbAuxFields(n), keyspaceSources(n.ks), n.ks.totalBytes());
}

/**
 * The file rdbSnapshot() would write now, produced only when read (rdb-image.ts): the aux
 * fields as of now and the fork's copy-on-write view of the dataset (Keyspace.clone()).
 */
export function rdbImageAtFork(n: RedisNode): RdbImage {
  return RdbImage.lazy(rdbAuxFields(n), n.ks.clone());
}

function note(n: RedisNode, text: string): void {
  if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text });
}

function short(replid: string): string {
  return replid.length === 40 ? replid.slice(0, 8) + '…' : replid;
}

export { saveRdbToDisk };
