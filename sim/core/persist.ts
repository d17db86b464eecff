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
import { createBacklog, feedCommand, freeBacklog } from './master.ts';

export function saveRdbToDisk(n: RedisNode): void {
  n.host.writeFile(n.config.dbfilename, n.snapshotRdb());
  n.dirty = 0;
  n.lastSaveUnixSec = Math.floor(n.host.unixMs() / 1000);
}

/** loadDataFromDisk(): the RDB, if any, and what its aux fields say about our history. */
export function loadRdbFromDisk(n: RedisNode): void {
  const bytes = n.host.readFile(n.config.dbfilename);
  if (bytes === null) return;
  let contents;
  try {
    contents = readRdb(bytes);
  } catch (e) {
    if (!(e instanceof RdbFormatError)) throw e;
    // Redis refuses to start on a corrupt RDB; we start empty and say why.
    if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `could not load ${n.config.dbfilename}: ${e.message}; starting empty` });
    return;
  }
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
      n.ks.restore(db.db, e.key, e.value, e.expireAtMs);
      keys++;
    }
  }
  n.rdbLastLoadKeysExpired = expired;
  if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `loaded ${keys} keys from ${n.config.dbfilename}` + (expired ? ` (${expired} expired keys deleted)` : '') });
  if (!validInfo) return;
  if (asReplica) {
    n.replid = replId;
    n.masterReplOffset = replOffset;
    n.cachedMaster = { replid: replId, reploff: replOffset, db: streamDb };
  } else if (n.bugs.has('master-restores-replid')) {
    // The zoo's #4316: the saved id becomes the master's own, as if no byte had been lost.
    n.replid = replId;
    n.replNoSlavesSinceUs = n.host.nowUs();
  } else {
    n.replid2 = replId;
    n.secondReplidOffset = replOffset + 1;
    n.replNoSlavesSinceUs = n.host.nowUs();
    if (n.backlog === null) freeBacklog(n, 'unreachable');
  }
}
