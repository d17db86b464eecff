/**
 * Loading a dataset takes time: at boot (dump.rdb or the AOF) and on a replica after a full sync.
 *
 * Theory of operation. Redis loads in its main thread (rdbLoadRioWithLoadingCtx, loadAppendOnlyFiles):
 * startLoading() sets server.loading, and every loading-process-events-interval-bytes (2 MB) of
 * input rdbLoadProgressCallback() updates loading_loaded_bytes, sends a newline to the master
 * while a replica is in TRANSFER (so the master's repl-timeout does not fire), and calls
 * processEventsWhileBlocked(): pending clients are served then, so commands flagged `loading`
 * (INFO, CONFIG, REPLCONF, ...) are answered and the others get -LOADING. No timer event
 * (serverCron, replicationCron) runs until stopLoading(). With repl-diskless-load swapdb and a
 * master whose replid is already ours, the load is asynchronous (server.async_loading): the old
 * dataset keeps serving reads and only commands flagged `no_async_loading` are refused.
 *
 * The core decides what loads and what happens when it is done; the Host (the world) decides how
 * long it takes (disk read rate and parse cost per key) and delivers the held input at the 2 MB
 * cadence, calling loadingProgress() at each step and loadingDone() at the end.
 */
import type { RedisNode } from './node.ts';

export type LoadingSource = 'rdb' | 'aof' | 'sync-disk' | 'sync-socket';

export interface LoadingState {
  readonly source: LoadingSource;
  /** server.async_loading: the old dataset serves reads meanwhile. */
  readonly async: boolean;
  /** loading_start_time (unix seconds). */
  readonly startUnixSec: number;
  /** loading_total_bytes: the file or payload size (0 for a payload streamed with an EOF mark). */
  readonly totalBytes: number;
  /** loading_rdb_used_mem: the RDB's used-mem aux field. */
  readonly rdbUsedMem: number;
  /** loading_loaded_bytes, updated at each progress step. */
  loadedBytes: number;
  /** server.blocked_last_cron (ms): how far whileBlockedCron() has counted cron loops. */
  blockedLastCronMs: number;
  /** What to do when the load finishes: apply the dataset, create the master client, ACK. */
  readonly finish: () => void;
}

export interface LoadRequest {
  readonly source: LoadingSource;
  readonly async: boolean;
  /** Bytes read from the disk (0 when the payload came from a socket). */
  readonly diskBytes: number;
  /** Bytes parsed (drives the 2 MB progress cadence). */
  readonly sizeBytes: number;
  readonly totalBytes: number;
  readonly rdbUsedMem: number;
  /** Keys parsed (the per-key parse cost). */
  readonly keys: number;
  readonly finish: () => void;
}

/** startLoading(): the node is loading until the host calls loadingDone(). */
export function startLoading(n: RedisNode, req: LoadRequest): void {
  n.loading = {
    source: req.source, async: req.async, startUnixSec: Math.floor(n.host.unixMs() / 1000),
    totalBytes: req.totalBytes, rdbUsedMem: req.rdbUsedMem, loadedBytes: 0, finish: req.finish,
    blockedLastCronMs: n.host.unixMs(),
  };
  if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `loading ${req.sizeBytes} bytes, ${req.keys} keys (${req.source}${req.async ? ', async' : ''})` });
  n.host.startLoading(req.diskBytes, req.sizeBytes, req.keys);
}

/** rdbLoadProgressCallback(): `loadedBytes` parsed so far; the host serves held input next. */
export function loadingProgress(n: RedisNode, loadedBytes: number): void {
  const l = n.loading;
  if (l === null) return;
  l.loadedBytes = loadedBytes;
  // whileBlockedCron(), from processEventsWhileBlocked(): no timer event runs during a load;
  // cronloops catches up by the cron periods that passed, so run_with_period keeps its pace.
  // A load shorter than one progress step (2 MB) never gets here: its cron loops do not count.
  const nowMs = n.host.unixMs();
  const hzMs = Math.floor(1000 / n.config.hz);
  while (l.blockedLastCronMs < nowMs) {
    l.blockedLastCronMs += hzMs;
    n.cronloops++;
  }
  // replicationSendNewlineToMaster(): keeps the master from timing us out during a long load.
  if (n.masterhost !== null && n.replState === 'transfer' && n.link !== null) n.host.send(n.link.conn, NEWLINE);
}

const NEWLINE = Buffer.from('\n', 'latin1');

/** stopLoading(): run what the load was for. */
export function loadingDone(n: RedisNode): void {
  const l = n.loading;
  if (l === null) return;
  n.loading = null;
  if (n.host.tracing) n.host.trace({ kind: 'note', node: n.name, text: `loading done (${l.source})` });
  l.finish();
}

/** The INFO persistence fields of a load in progress, as genRedisInfoString() prints them. */
export function loadingInfoLines(n: RedisNode): string[] {
  const l = n.loading;
  if (l === null) return [];
  let perc = 0;
  let remaining = 1;
  if (l.totalBytes > 0) {
    perc = (l.loadedBytes / l.totalBytes) * 100;
    remaining = l.totalBytes - l.loadedBytes;
  } else if (l.rdbUsedMem > 0) {
    perc = Math.min(99.99, (l.loadedBytes / l.rdbUsedMem) * 100);
    remaining = Math.max(1, l.rdbUsedMem - l.loadedBytes);
  }
  const elapsedSec = Math.floor(n.host.unixMs() / 1000) - l.startUnixSec;
  const eta = elapsedSec === 0 ? 1 : Math.floor((elapsedSec * remaining) / (l.loadedBytes + 1));
  return [
    `loading_start_time:${l.startUnixSec}`,
    `loading_total_bytes:${l.totalBytes}`,
    `loading_rdb_used_mem:${l.rdbUsedMem}`,
    `loading_loaded_bytes:${l.loadedBytes}`,
    `loading_loaded_perc:${perc.toFixed(2)}`,
    `loading_eta_seconds:${eta}`,
  ];
}
