/**
 * Persistence on the node's disk: SAVE (synchronous) and loading dump.rdb at process start,
 * with the replication info the RDB carries (rdbPopulateSaveInfo, loadDataFromDisk).
 *
 * At boot, a node configured as a replica re-adopts the saved repl-id as its own and builds a
 * self-cached master, so it can PSYNC (repl-id, repl-offset+1). A master (7.0, #8015) keeps the
 * saved id only as replid2, valid up to repl-offset+1, with a fresh backlog; keys that expired
 * while it was down are deleted at load and their DELs go into that backlog.
 * Simplification: AOF is not modelled yet; every node persists with RDB only.
 */
import type { RedisNode } from './node.ts';
import { readRdb, RdbFormatError } from './rdb.ts';
import { createBacklog, feedCommand, freeBacklog, rdbImageAtFork } from './master.ts';

/** rdbSave(): the file as of now, written out only if something reads it (rdb-image.ts). */
export function saveRdbToDisk(n: RedisNode): void {
  n.host.writeFile(n.config.dbfilename, rdbImageAtFork(n));
  n.dirty = 0;
  n.lastSaveUnixSec = Math.floor(n.host.unixMs() / 1000);
}

/**
 * rdbLoadRio(): a SELECTDB at or past `databases` is fatal ("FATAL: Data file was created with a
 * Redis server configured to handle more than N databases. Exiting", then exit(1)), at boot and
 * for a replica's full sync alike. `highestDb`: the highest database holding a key in the file
 * (-1: none). True if the process is exiting.
 */
export function exitIfTooManyDatabases(n: RedisNode, highestDb: number): boolean {
  if (highestDb < n.ks.databases) return false;
  if (n.host.tracing) {
    n.host.trace({ kind: 'note', node: n.name, text: `FATAL: Data file was created with a Redis server configured to handle more than ${n.ks.databases} databases. Exiting` });
  }
  n.exited = true;
  n.host.exit();
  return true;
}

/** What a load read: the host charges its time (loading.ts). */
export interface LoadedFile {
  readonly sizeBytes: number;
  readonly keys: number;
  /** The RDB's used-mem aux field (loading_rdb_used_mem), 0 if none. */
  readonly usedMem: number;
}

/**
 * loadDataFromDisk(): the RDB, if any, and what its aux fields say about our history. The
 * dataset is applied at once; the time the load takes is charged by the caller (startLoading),
 * during which no command that could see the dataset runs.
 */
export function loadRdbFromDisk(n: RedisNode): LoadedFile | null {
  const bytes = n.host.readFile(n.config.dbfilename);
  if (bytes === null) return null;
  let contents;
  try {
    contents = readRdb(bytes);
  } catch (e) {
    if (!(e instanceof RdbFormatError)) throw e;
    // Redis refuses to start on a corrupt RDB; we start empty and say why.
    if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `could not load ${n.config.dbfilename}: ${e.message}; starting empty` });
    return null;
  }
  if (exitIfTooManyDatabases(n, contents.dbs.reduce((m, d) => Math.max(m, d.db), -1))) return null;
  const aux = new Map(contents.aux);
  const replId = aux.get('repl-id');
  const replOffset = Number(aux.get('repl-offset') ?? -1);
  const streamDb = Number(aux.get('repl-stream-db') ?? -1);
  const validInfo = replId !== undefined && replId.length === 40 && replOffset !== -1 && streamDb !== -1;
  const asReplica = n.config.replicaof !== null;
  const nowMs = n.host.unixMs();
  // A master creates its backlog before loading, so expired keys' DELs land in it (#8015).
  if (!asReplica && validInfo) {
    n.masterReplOffset = replOffset;
    createBacklog(n, 'restart: the RDB has replication info');
  }
  let keys = 0;
  let expired = 0;
  for (const db of contents.dbs) {
    for (const e of db.entries) {
      if (!asReplica && e.expireAtMs !== -1 && e.expireAtMs < nowMs) {
        expired++;
        if (n.backlog !== null) feedCommand(n, db.db, ['DEL', e.key]);
        continue;
      }
      n.ks.restore(db.db, e.key, e.value, e.expireAtBig ?? e.expireAtMs);
      keys++;
    }
  }
  n.rdbLastLoadKeysExpired = expired;
  n.rdbLastLoadKeysLoaded = keys;
  if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `loaded ${keys} keys from ${n.config.dbfilename}` + (expired ? ` (${expired} expired keys deleted)` : '') });
  const loaded: LoadedFile = { sizeBytes: bytes.length, keys: keys + expired, usedMem: Number(aux.get('used-mem') ?? 0) || 0 };
  if (!validInfo) return loaded;
  if (asReplica) {
    n.replid = replId;
    n.masterReplOffset = replOffset;
    n.cachedMaster = { replid: replId, reploff: replOffset, db: streamDb };
  } else if (n.bugs.has('master-restores-replid')) {
    // The zoo's #4316: the saved id becomes the master's own, as if no byte had been lost.
    n.replid = replId;
    n.replNoSlavesSinceSec = n.timeNowSec(); // loadDataFromDisk(): repl_no_slaves_since = time(NULL)
  } else {
    n.replid2 = replId;
    n.secondReplidOffset = replOffset + 1;
    n.replNoSlavesSinceSec = n.timeNowSec(); // loadDataFromDisk(): repl_no_slaves_since = time(NULL)
    if (n.backlog === null) freeBacklog(n, 'unreachable');
  }
  return loaded;
}
