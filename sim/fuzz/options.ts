/**
 * The options of one fuzz run: every knob, drawn from the seed (swarm testing,
 * "Fuzzing failover"), each from its own named stream so that fixing one (`--nodes 3..3`)
 * never shifts the others. One doc comment per field, with its unit .
 */
import { assert } from '../assert.ts';
import { RandomStreams } from '../engine/random.ts';
import type { Rng } from '../engine/random.ts';
import type { BugName } from '../core/bugs.ts';

/** Every fault kind the generator knows; a run enables a random non-empty subset. */
export const FAULT_KINDS = [
  'partition', // symmetric split into two groups, healed later
  'one-way', // A -> B held
  'isolate-master', // the master alone on one side (sometimes with a promotion meanwhile)
  'flap', // a partition that comes and goes several times
  'kill-link', // reset every connection between two nodes
  'crash', // crash, restart later
  'poweroff', // silent power-off, restart later
  'pause', // SIGSTOP for a while
  'link', // latency / jitter / bandwidth changes
  'client-kill', // CLIENT KILL TYPE master | replica
  'promote', // REPLICAOF NO ONE + repoint the others; the old master comes back demoted
  'failover', // FAILOVER [TO h p [FORCE]] [TIMEOUT ms]
  'reparent', // REPLICAOF another replica: chains form and change
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export function isFaultKind(s: string): s is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(s);
}

/** Every knob of one run. The seed draws each one; the caller may fix any of them. */
export interface FuzzOptions {
  /** Historical Redis bugs switched on in every node (`--bug`, sim/core/bugs.ts); never drawn. */
  readonly bugs: readonly BugName[];
  /**
   * `--clients`: the fault-phase loads go through a networked client (`clients c1`, `load ...
   * from c1`, pinned to the believed master), so the run reports its lost writes by cause. Never
   * drawn; absent when off, so the options (and every story) of a campaign without it are unchanged.
   */
  readonly clients?: boolean;
  /** Bounds for nodeCount (the CLI's `--nodes a..b`), 2 ≤ min ≤ max ≤ 6. */
  readonly nodesMin: number;
  readonly nodesMax: number;
  /** Nodes in the run: `m` (the first master), then r1, r2, ... */
  readonly nodeCount: number;
  /** The first tree: 'star' all under m, 'chain' m → r1 → r2 ..., 'tree' each under a random earlier node. */
  readonly topology: 'star' | 'chain' | 'tree';
  /** How replicas first attach: boot-time `config X replicaof Y 6379` (kept across restarts) or REPLICAOF steps at 0 s. */
  readonly attachVia: 'config' | 'command';
  /** repl-backlog-size for every node, bytes (16kb .. 1mb). */
  readonly replBacklogSizeBytes: number;
  /** repl-timeout, seconds (2 .. 10). */
  readonly replTimeoutSec: number;
  /** repl-ping-replica-period, seconds (1 .. 10, always below repl-timeout). */
  readonly replPingReplicaPeriodSec: number;
  /** repl-diskless-sync. */
  readonly replDisklessSync: boolean;
  /** repl-diskless-sync-delay, seconds (0 .. 2). */
  readonly replDisklessSyncDelaySec: number;
  /** repl-diskless-load. */
  readonly replDisklessLoad: 'disabled' | 'on-empty-db' | 'swapdb';
  /** 'none': save ""; 'rdb': save "1 1"; 'aof': appendonly yes (and save ""). */
  readonly persistence: 'none' | 'rdb' | 'aof';
  /** client-output-buffer-limit replica hard limit, bytes (soft = half for 1 s), or null for Redis's default. */
  readonly replicaOutputBufferLimitBytes: number | null;
  /** BGSAVE speed of every disk, bits per second, or null for the default (500mb/s); slow disks make long full syncs. */
  readonly diskWriteBps: number | null;
  /** Baseline link model for every pair (restored in the liveness phase). */
  readonly linkLatencyUs: number;
  readonly linkJitterUs: number;
  readonly linkBandwidthBps: number;
  /** Writes over the whole fault phase, split into loadBursts `load` steps aimed at the believed master. */
  readonly writesTotal: number;
  readonly loadBursts: number;
  /** Value size of each write, bytes. */
  readonly writeSizeBytes: number;
  /** Keyspace of the writes (`keys N`), or null for a fresh key per write. */
  readonly writeKeys: number | null;
  /** The pool the run's kinds are drawn from (the CLI's `--faults`). */
  readonly faultKindsAllowed: readonly FaultKind[];
  /** The fault kinds enabled in this run (a non-empty subset of faultKindsAllowed). */
  readonly faultKinds: readonly FaultKind[];
  /** Faults started during the fault phase. */
  readonly faultCount: number;
  /** Length of the fault phase, virtual µs (5 .. 30 s); fault ends may run past it. */
  readonly faultPhaseUs: number;
  /** Which replica a 'promote' fault picks. */
  readonly promotePolicy: 'most-up-to-date' | 'random';
  /** After a promotion, who is repointed: 'all' every other node to the new master, 'siblings' only the old master and its direct replicas. */
  readonly repointPolicy: 'all' | 'siblings';
  /** Bound of the final `await converged`, virtual µs. */
  readonly convergeWithinUs: number;
}

/** The defaults the seed draws around (the CLI's bounds when none are given). */
export const fuzzBoundsDefault = {
  nodesMin: 2,
  nodesMax: 6,
  faultKindsAllowed: FAULT_KINDS,
} as const satisfies Partial<FuzzOptions>;

const MS = 1000;
const S = 1_000_000;

/** Draw every knob from its own stream; a knob the caller fixed is still drawn, then replaced. */
export function drawOptions(seed: string, fixed: Partial<FuzzOptions> = {}): FuzzOptions {
  const streams = new RandomStreams(`fuzz:${seed}`);
  const r = (knob: string): Rng => streams.stream(`opt/${knob}`);
  const pick = <K extends keyof FuzzOptions>(k: K, draw: (rng: Rng) => FuzzOptions[K]): FuzzOptions[K] => {
    const drawn = draw(r(k));
    return fixed[k] !== undefined ? (fixed[k] as FuzzOptions[K]) : drawn;
  };
  const nodesMin = fixed.nodesMin ?? fuzzBoundsDefault.nodesMin;
  const nodesMax = fixed.nodesMax ?? fuzzBoundsDefault.nodesMax;
  assert(Number.isSafeInteger(nodesMin) && Number.isSafeInteger(nodesMax) && 2 <= nodesMin && nodesMin <= nodesMax && nodesMax <= 6, `fuzz: bad node bounds ${nodesMin}..${nodesMax}`);
  const faultKindsAllowed = fixed.faultKindsAllowed ?? fuzzBoundsDefault.faultKindsAllowed;
  assert(faultKindsAllowed.length > 0, 'fuzz: no fault kinds allowed');
  const replTimeoutSec = pick('replTimeoutSec', (g) => g.between(2, 10));
  const replicaOutputBufferLimitBytes = pick('replicaOutputBufferLimitBytes', (g) => (g.chance(0.25) ? g.pick([64, 128, 256]) * 1024 : null));
  const writesTotal = pick('writesTotal', (g) => g.pick([0, g.between(1, 200), g.between(200, 3000), g.between(200, 3000), g.between(1000, 5000)]));
  const o: FuzzOptions = {
    bugs: fixed.bugs ?? [],
    ...(fixed.clients === true ? { clients: true } : {}),
    nodesMin,
    nodesMax,
    nodeCount: pick('nodeCount', (g) => g.between(nodesMin, nodesMax)),
    topology: pick('topology', (g) => g.pick(['star', 'chain', 'tree'] as const)),
    attachVia: pick('attachVia', (g) => g.pick(['config', 'command'] as const)),
    replBacklogSizeBytes: pick('replBacklogSizeBytes', (g) => g.pick([16, 32, 64, 128, 256, 512, 1024]) * 1024),
    replTimeoutSec,
    // Below repl-timeout, or an idle link times out between PINGs (replicationCron sends a PING every repl-ping-replica-period).
    replPingReplicaPeriodSec: pick('replPingReplicaPeriodSec', (g) => g.between(1, Math.min(10, replTimeoutSec - 1))),
    replDisklessSync: pick('replDisklessSync', (g) => g.chance(0.5)),
    replDisklessSyncDelaySec: pick('replDisklessSyncDelaySec', (g) => g.between(0, 2)),
    replDisklessLoad: pick('replDisklessLoad', (g) => g.pick(['disabled', 'on-empty-db', 'swapdb'] as const)),
    persistence: pick('persistence', (g) => g.pick(['none', 'rdb', 'aof'] as const)),
    // A small output-buffer limit only bites while a slow BGSAVE lets the stream pile up.
    diskWriteBps: pick('diskWriteBps', (g) => (g.chance(replicaOutputBufferLimitBytes !== null ? 0.7 : 0.15) ? g.pick([1, 4, 16]) * 8 * 1024 * 1024 : null)),
    linkLatencyUs: pick('linkLatencyUs', (g) => g.pick([100, 500, 1000, 5000])),
    linkJitterUs: pick('linkJitterUs', (g) => g.pick([0, 0, 100, 1000])),
    linkBandwidthBps: pick('linkBandwidthBps', (g) => g.pick([100_000_000, 1_000_000_000])),
    replicaOutputBufferLimitBytes,
    writesTotal,
    loadBursts: pick('loadBursts', (g) => g.between(1, 4)),
    writeSizeBytes: pick('writeSizeBytes', (g) => g.pick([8, 16, 64, 256, 1024])),
    writeKeys: pick('writeKeys', (g) => (g.chance(0.5) ? g.pick([10, 100, 1000]) : null)),
    faultKindsAllowed,
    faultKinds: pick('faultKinds', (g) => {
      // Swarm: each allowed kind is on with probability 1/2; at least one.
      const on = faultKindsAllowed.filter(() => g.chance(0.5));
      return on.length > 0 ? on : [g.pick(faultKindsAllowed)];
    }),
    faultCount: pick('faultCount', (g) => g.between(1, 12)),
    faultPhaseUs: pick('faultPhaseUs', (g) => g.between(5, 30) * S),
    promotePolicy: pick('promotePolicy', (g) => g.pick(['most-up-to-date', 'random'] as const)),
    repointPolicy: pick('repointPolicy', (g) => g.pick(['all', 'siblings'] as const)),
    convergeWithinUs: pick('convergeWithinUs', () => 60 * S),
  };
  validateOptions(o);
  return o;
}

function validateOptions(o: FuzzOptions): void {
  assert(o.nodeCount >= 2 && o.nodeCount <= 6, `fuzz: nodeCount ${o.nodeCount} outside 2..6`);
  assert(o.replPingReplicaPeriodSec >= 1 && o.replTimeoutSec >= 1, 'fuzz: bad timeouts');
  assert(o.faultKinds.length > 0 && o.faultKinds.every(isFaultKind), 'fuzz: bad fault kinds');
  assert(o.faultPhaseUs >= S && o.faultPhaseUs % MS === 0, `fuzz: bad fault phase ${o.faultPhaseUs}`);
  assert(o.loadBursts >= 1 && o.writesTotal >= 0, 'fuzz: bad load');
  assert(o.convergeWithinUs > 0, 'fuzz: bad convergence bound');
}

/** The options as `# key: value` lines, for the top of a failure's `.scn` file. */
export function optionsComment(seed: string, o: FuzzOptions, kindsUsed: readonly FaultKind[]): string {
  const lines = [`# psync-sim fuzz --seed ${seed}`, '# options drawn from the seed:'];
  for (const [k, v] of Object.entries(o)) lines.push(`#   ${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`);
  lines.push(`#   (fault kinds used: ${kindsUsed.join(' ') || 'none'})`);
  return lines.join('\n') + '\n';
}
