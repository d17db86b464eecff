/**
 * The append-only file (appendonly yes): every write the node executes, as the commands it
 * propagates, appended to `appendfilename`; `appendfsync` decides when it reaches the disk, and so
 * what a power-off loses (always: nothing; everysec: up to a second; no: everything since the last
 * rewrite — a process crash loses nothing already written). At boot the AOF, when present, is
 * the dataset and carries no replication history: the node starts a new history and its replicas
 * must full-sync (an AOF carries no replication id).
 * Simplifications: one file of RESP commands (not 7.0's multi-part base + incr files with an RDB
 * preamble); a rewrite is instantaneous (no BGREWRITEAOF child); fsync "no" never syncs.
 */
import type { RedisNode } from './node.ts';
import { encodeCommand, encodeCommandInto, commandSizeBytes, CommandParser, RespProtocolError } from './resp.ts';
import { assert } from '../assert.ts';
import { dataCommands } from './commands.ts';
import type { DataContext } from './keyspace.ts';
import { exactExpireAtText } from './keyspace.ts';

/** feedAppendOnlyFile(): queue one executed write, with a SELECT when the DB changes. */
export function feedAof(n: RedisNode, db: number, argv: readonly string[]): void {
  if (!n.aofOn) return;
  if (db !== n.aofSelectedDb) {
    n.aofBuf.push(encodeCommand(['SELECT', String(db)]));
    n.aofSelectedDb = db;
  }
  n.aofBuf.push(encodeCommand(argv));
}

/**
 * flushAppendOnlyFile(), from beforeSleep: write the buffer; fsync now with appendfsync always.
 * With everysec the fsync comes from here too, at the first flush after the cached clock
 * (server.unixtime) moved past the second of the last fsync, even when nothing new was written
 * but something written since is not yet synced. So the sync points are whole-second
 * boundaries of the node's clock, not one second after the previous sync.
 */
export function flushAof(n: RedisNode): void {
  if (!n.aofOn) return;
  if (n.aofBuf.length > 0) {
    n.host.appendFile(n.config.appendfilename, Buffer.concat(n.aofBuf));
    n.aofBuf = [];
    n.aofUnsynced = true;
    if (n.config.appendfsync === 'always') {
      n.host.fsyncFile(n.config.appendfilename);
      n.aofUnsynced = false;
      n.aofLastFsyncSec = n.unixtime;
      return;
    }
  }
  if (n.config.appendfsync === 'everysec' && n.aofUnsynced && n.unixtime > n.aofLastFsyncSec) {
    n.host.fsyncFile(n.config.appendfilename);
    n.aofUnsynced = false;
    n.aofLastFsyncSec = n.unixtime;
  }
}

/** rewriteAppendOnlyFile(): the whole dataset as commands, replacing the file durably. */
export function rewriteAof(n: RedisNode): void {
  // Sized first, then encoded into one buffer: no Buffer per command and no concatenation.
  let size = 0;
  forEachRewriteCommand(n, (argv) => (size += commandSizeBytes(argv)));
  const file = Buffer.allocUnsafe(size);
  let at = 0;
  forEachRewriteCommand(n, (argv) => (at = encodeCommandInto(file, at, argv)));
  assert(at === size, 'rewriteAof: size mismatch');
  n.host.writeFile(n.config.appendfilename, file);
  n.aofBuf = [];
  n.aofSelectedDb = -1;
  n.aofOn = true;
  n.aofUnsynced = false;
  n.aofLastFsyncSec = n.unixtime;
  if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `AOF rewritten: ${n.ks.totalKeys()} keys` });
}

/** The commands of a rewritten AOF, in order: per non-empty db a SELECT, then SET (and PEXPIREAT) per key. */
function forEachRewriteCommand(n: RedisNode, f: (argv: readonly string[]) => void): void {
  const set = ['SET', '', ''];
  const pexpireat = ['PEXPIREAT', '', ''];
  for (let db = 0; db < n.ks.dbs.length; db++) {
    const map = n.ks.dbs[db]!;
    if (map.size === 0) continue;
    f(['SELECT', String(db)]);
    for (const [key, e] of map) {
      set[1] = key;
      set[2] = e.value;
      f(set);
      if (e.expireAtMs !== -1) {
        pexpireat[1] = key;
        pexpireat[2] = exactExpireAtText(e);
        f(pexpireat);
      }
    }
  }
}

/** loadAppendOnlyFiles(): replay the file; returns false when there is none. */
export function loadAof(n: RedisNode): boolean {
  const bytes = n.host.readFile(n.config.appendfilename);
  if (bytes === null) return false;
  const parser = new CommandParser();
  parser.feed(bytes);
  const ctx: DataContext = { ks: n.ks, db: 0, nowMs: n.host.unixMs(), view: 'replica-master-link', propagate: () => {} };
  let commands = 0;
  try {
    for (let cmd = parser.next(); cmd !== null; cmd = parser.next()) {
      const name = cmd.argv[0]?.toLowerCase();
      if (name === undefined) continue;
      if (name === 'select') ctx.db = Number(cmd.argv[1]);
      else dataCommands.get(name)?.run(ctx, cmd.argv);
      commands++;
    }
  } catch (e) {
    if (!(e instanceof RespProtocolError)) throw e;
  }
  // A torn last command (power lost mid-write) is dropped, as aof-load-truncated yes does.
  if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `loaded ${commands} commands from ${n.config.appendfilename}` + (parser.pendingBytes > 0 ? `; a truncated tail of ${parser.pendingBytes} bytes was dropped` : '') });
  return true;
}
