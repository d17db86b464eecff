/**
 * The write load generator behind `load NODE COUNT [over DUR] [size BYTES] [keys N] [db N]`:
 * COUNT `SET key value` commands sent by a client of their own, evenly over DUR (all at once
 * when DUR is 0), values of BYTES seeded random bytes. Without `keys` every write sets a new key
 * `key:<n>`, n counting across the whole run; with `keys N` keys are drawn from key:0..key:N-1;
 * with `ttl DUR` (an extension) each write is SET ... PX <ms>.
 * One event is scheduled at a time (not COUNT of them), so a long load costs no memory.
 */
import type { World } from './world.ts';
import type { Reply } from '../core/reply.ts';
import type { Timer } from '../engine/engine.ts';

export interface LoadSpec {
  readonly node: string;
  readonly count: number;
  readonly overUs: number;
  readonly sizeBytes: number;
  readonly keys: number | null;
  readonly db: number | null;
  /** Every write sets this expiry (SET ... PX ms), or null for none. */
  readonly ttlMs: number | null;
}

export interface LoadStats {
  sent: number;
  ok: number;
  errors: number;
  /** Replies still expected. */
  readonly pending: () => number;
}

/** Shared by every load of a run: the `key:<n>` counter. */
export interface KeyCounter {
  next: number;
}

const POOL_SLACK = 4096;

export function startLoad(world: World, spec: LoadSpec, counter: KeyCounter): LoadStats {
  const rng = world.workload;
  const pool = Buffer.from(rng.bytes(spec.sizeBytes + POOL_SLACK)).toString('latin1');
  const client = world.newClientId();
  const slot = world.slot(spec.node);
  const stats: LoadStats = { sent: 0, ok: 0, errors: 0, pending: () => stats.sent - stats.ok - stats.errors };
  const onReply = (r: Reply): void => {
    if (r.kind === 'error') stats.errors++;
    else stats.ok++;
    if (stats.ok + stats.errors === spec.count) {
      world.trace({ kind: 'load', node: spec.node, sent: stats.sent, ok: stats.ok, errors: stats.errors });
    }
  };
  const sendOne = (): void => {
    const n = spec.keys === null ? counter.next++ : rng.int(spec.keys);
    const at = rng.int(POOL_SLACK);
    stats.sent++;
    const argv = ['SET', `key:${n}`, pool.slice(at, at + spec.sizeBytes)];
    if (spec.ttlMs !== null) argv.push('PX', String(spec.ttlMs));
    slot.command(client, argv, onReply);
  };
  if (spec.db !== null) slot.command(client, ['SELECT', String(spec.db)], () => {});
  if (spec.count === 0) return stats;
  if (spec.overUs === 0) {
    for (let i = 0; i < spec.count; i++) sendOne();
    return stats;
  }
  const startUs = world.engine.nowUs;
  let i = 0;
  // The timer that ran carries the next write (no timer per write).
  let timer: Timer | null = null;
  const tick = (): void => {
    sendOne();
    i++;
    if (i === spec.count) return;
    const atUs = startUs + Math.floor((i * spec.overUs) / spec.count);
    timer = timer === null ? world.engine.scheduleAt(atUs, tick) : world.engine.scheduleAgainAt(timer, atUs);
  };
  tick();
  return stats;
}
