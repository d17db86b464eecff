/**
 * sentinel.conf: the `sentinel ...` directives read at start (sentinelHandleConfiguration) and
 * the file the sentinel rewrites on every flush (rewriteConfigSentinelOption): myid, one
 * `monitor` per master with its *current* address, the timing options that differ from the
 * defaults, config-epoch, leader-epoch, the known replicas and sentinels, and current-epoch.
 * The runid voted for is not persisted, only leader-epoch, as in Redis.
 */
import type { Sentinel } from './sentinel.ts';
import { Instance, DEFAULT_DOWN_AFTER_MS, DEFAULT_FAILOVER_TIMEOUT_MS, DEFAULT_PARALLEL_SYNCS } from './state.ts';
import { currentMasterAddress } from './failover.ts';

export const SENTINEL_CONFIG_FILE = 'sentinel.conf';

/** A bad directive: the message names it, for a scenario error. */
export class SentinelConfigError extends Error {
  override name = 'SentinelConfigError';
  /** Which of the lines given to parseSentinelConfig was bad. */
  lineIndex = -1;
}

function int(text: string | undefined, what: string, min: number): number {
  if (text === undefined || !/^-?\d+$/.test(text)) throw new SentinelConfigError(`${what}: '${text ?? ''}' is not an integer`);
  const n = Number(text);
  if (n < min) throw new SentinelConfigError(`${what}: must be ${min} or greater`);
  return n;
}

/** Apply `sentinel` directives (the words after `sentinel`), in order. */
export function parseSentinelConfig(s: Sentinel, lines: readonly string[][]): void {
  const nowMs = s.nowMs();
  const master = (name: string | undefined, what: string): Instance => {
    const m = name !== undefined ? s.masters.get(name) : undefined;
    if (m === undefined) throw new SentinelConfigError(`sentinel ${what}: no such master '${name ?? ''}' (monitor it first)`);
    return m;
  };
  for (const [index, w] of lines.entries()) {
    try {
      applyDirective(s, w, master, nowMs);
    } catch (e) {
      if (e instanceof SentinelConfigError) e.lineIndex = index;
      throw e;
    }
  }
}

function applyDirective(s: Sentinel, w: readonly string[], master: (name: string | undefined, what: string) => Instance, nowMs: number): void {
  {
    const dir = (w[0] ?? '').toLowerCase();
    switch (dir) {
      case 'monitor': {
        if (w.length !== 5) throw new SentinelConfigError('sentinel monitor: expected NAME HOST PORT QUORUM');
        const m = new Instance('master', w[1]!, w[2]!, int(w[3], 'sentinel monitor port', 1), null, nowMs);
        m.quorum = int(w[4], 'sentinel monitor quorum', 1);
        s.masters.set(m.name, m);
        break;
      }
      case 'down-after-milliseconds':
        master(w[1], dir).downAfterMs = int(w[2], `sentinel ${dir}`, 1);
        break;
      case 'failover-timeout':
        master(w[1], dir).failoverTimeoutMs = int(w[2], `sentinel ${dir}`, 1);
        break;
      case 'parallel-syncs':
        master(w[1], dir).parallelSyncs = int(w[2], `sentinel ${dir}`, 0);
        break;
      case 'myid':
        if (w[1] === undefined || w[1].length !== 40) throw new SentinelConfigError('sentinel myid: expected 40 characters');
        s.myid = w[1];
        break;
      case 'current-epoch':
        s.currentEpoch = Math.max(s.currentEpoch, int(w[1], 'sentinel current-epoch', 0));
        break;
      case 'config-epoch': {
        const m = master(w[1], dir);
        m.configEpoch = int(w[2], `sentinel ${dir}`, 0);
        // sentinelHandleConfiguration keeps this for redundancy: the current epoch is at least it.
        if (m.configEpoch > s.currentEpoch) s.currentEpoch = m.configEpoch;
        break;
      }
      case 'leader-epoch':
        master(w[1], dir).leaderEpoch = int(w[2], `sentinel ${dir}`, 0);
        break;
      case 'known-replica':
      case 'known-slave': {
        const m = master(w[1], dir);
        const port = int(w[3], `sentinel ${dir} port`, 1);
        const r = new Instance('slave', `${w[2]}:${port}`, w[2]!, port, m, nowMs);
        m.slaves.set(r.name, r);
        break;
      }
      case 'known-sentinel': {
        const m = master(w[1], dir);
        const port = int(w[3], `sentinel ${dir} port`, 1);
        if (w[4] === undefined) throw new SentinelConfigError('sentinel known-sentinel: expected NAME HOST PORT RUNID');
        const p = new Instance('sentinel', `${w[2]}:${port}`, w[2]!, port, m, nowMs);
        p.runid = w[4];
        m.sentinels.set(p.runid, p);
        break;
      }
      default:
        throw new SentinelConfigError(`unknown sentinel directive '${w[0] ?? ''}' (known: monitor, down-after-milliseconds, failover-timeout, parallel-syncs, myid, current-epoch, config-epoch, leader-epoch, known-replica, known-sentinel)`);
    }
  }
}

/** The file as rewriteConfigSentinelOption() writes it. */
export function renderSentinelConfig(s: Sentinel): string {
  const epochsLost = s.bugs.has('sentinel-epochs-not-persisted');
  const out = [`sentinel myid ${s.myid}`];
  for (const m of s.masters.values()) {
    const addr = currentMasterAddress(m);
    out.push(`sentinel monitor ${m.name} ${addr.host} ${addr.port} ${m.quorum}`);
    if (m.downAfterMs !== DEFAULT_DOWN_AFTER_MS) out.push(`sentinel down-after-milliseconds ${m.name} ${m.downAfterMs}`);
    if (m.failoverTimeoutMs !== DEFAULT_FAILOVER_TIMEOUT_MS) out.push(`sentinel failover-timeout ${m.name} ${m.failoverTimeoutMs}`);
    if (m.parallelSyncs !== DEFAULT_PARALLEL_SYNCS) out.push(`sentinel parallel-syncs ${m.name} ${m.parallelSyncs}`);
    out.push(`sentinel config-epoch ${m.name} ${m.configEpoch}`);
    // Bug zoo 'sentinel-epochs-not-persisted': before ed813863f neither epoch reached the file.
    if (!epochsLost) out.push(`sentinel leader-epoch ${m.name} ${m.leaderEpoch}`);
    for (const r of m.slaves.values()) {
      // Mid-failover the promoted replica is written under the old master's address.
      const a = r === m.promotedSlave && addr !== m ? m : r;
      out.push(`sentinel known-replica ${m.name} ${a.host} ${a.port}`);
    }
    for (const p of m.sentinels.values()) if (p.runid !== null) out.push(`sentinel known-sentinel ${m.name} ${p.host} ${p.port} ${p.runid}`);
  }
  if (!epochsLost) out.push(`sentinel current-epoch ${s.currentEpoch}`);
  return out.join('\n') + '\n';
}
