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
/**
 * Fault kinds that need sentinels (`--sentinels`). They join the data-node kinds above, minus the
 * scripted promotions (`promote`, `failover`, `reparent`): with sentinels watching, promoting is
 * their job, and an operator's REPLICAOF would fight theirs.
 */
export const SENTINEL_FAULT_KINDS = [
  'sentinel-crash', // crash or power off a sentinel, restart it later (it reads its sentinel.conf back)
  'sentinel-pause', // SIGSTOP a sentinel; over 2 s its first tick after waking enters TILT
  'sentinel-partition', // split sentinels from the nodes, from each other, or master + few sentinels | the rest
  'sentinel-failover', // SENTINEL FAILOVER mymaster on one sentinel
  'simulate-failure', // SENTINEL SIMULATE-FAILURE crash-after-election | crash-after-promotion
  'master-freeze', // SIGSTOP the master for about down-after or longer (the frozen master, then its return)
] as const;

export type NodeFaultKind = (typeof FAULT_KINDS)[number];
export type SentinelFaultKind = (typeof SENTINEL_FAULT_KINDS)[number];
export type FaultKind = NodeFaultKind | SentinelFaultKind;

/** Every fault kind, node kinds first (the report's order). */
export const ALL_FAULT_KINDS: readonly FaultKind[] = [...FAULT_KINDS, ...SENTINEL_FAULT_KINDS];

/** What a run with sentinels draws from when `--faults` is not given. */
export const SENTINEL_RUN_FAULT_KINDS: readonly FaultKind[] = [
  ...FAULT_KINDS.filter((k) => k !== 'promote' && k !== 'failover' && k !== 'reparent'),
  ...SENTINEL_FAULT_KINDS,
];

export function isFaultKind(s: string): s is FaultKind {
  return (ALL_FAULT_KINDS as readonly string[]).includes(s);
}

export function isSentinelFaultKind(s: string): s is SentinelFaultKind {
  return (SENTINEL_FAULT_KINDS as readonly string[]).includes(s);
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
  /**
   * `--sentinels`: sentinels monitor the data nodes as `mymaster`, sentinel faults join the pool,
   * and the run ends with `settled mymaster` and `converged` after healing instead of a scripted
   * promotion. Never drawn; absent when off, like `clients`, so other campaigns are unchanged.
   * The sentinel* knobs below exist only then.
   */
  readonly sentinels?: boolean;
  /** Sentinels in the run, s1 .. sN: 3 or 5. */
  readonly sentinelCount?: number;
  /** The monitor's quorum, 1 .. sentinelCount (mostly the majority). */
  readonly sentinelQuorum?: number;
  /** down-after-milliseconds, ms (1000 .. 5000). */
  readonly sentinelDownAfterMs?: number;
  /** failover-timeout, ms (3000 .. 20000; the 2x back-off after a lost election is twice this). */
  readonly sentinelFailoverTimeoutMs?: number;
  /** parallel-syncs (1 .. 3). */
  readonly sentinelParallelSyncs?: number;
  /** replica-priority of r1, r2, ... (100 is Redis's default; 0 = never promoted). */
  readonly replicaPriorities?: readonly number[];
  /** Bound of the final `await settled mymaster`, virtual µs, derived from the sentinel timeouts. */
  readonly settleWithinUs?: number;
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

/** With sentinels, at least one replica: a failover needs a replica to promote. */
export const fuzzBoundsSentinels = {
  nodesMin: 2,
  nodesMax: 5,
  faultKindsAllowed: SENTINEL_RUN_FAULT_KINDS,
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
  const sentinels = fixed.sentinels === true;
  const bounds = sentinels ? fuzzBoundsSentinels : fuzzBoundsDefault;
  const nodesMin = fixed.nodesMin ?? bounds.nodesMin;
  const nodesMax = fixed.nodesMax ?? bounds.nodesMax;
  assert(Number.isSafeInteger(nodesMin) && Number.isSafeInteger(nodesMax) && 2 <= nodesMin && nodesMin <= nodesMax && nodesMax <= 6, `fuzz: bad node bounds ${nodesMin}..${nodesMax}`);
  const faultKindsAllowed = fixed.faultKindsAllowed ?? bounds.faultKindsAllowed;
  assert(faultKindsAllowed.length > 0, 'fuzz: no fault kinds allowed');
  assert(sentinels || !faultKindsAllowed.some(isSentinelFaultKind), 'fuzz: sentinel fault kinds need sentinels');
  const replTimeoutSec = pick('replTimeoutSec', (g) => g.between(2, 10));
  const replicaOutputBufferLimitBytes = pick('replicaOutputBufferLimitBytes', (g) => (g.chance(0.25) ? g.pick([64, 128, 256]) * 1024 : null));
  const nodeCount = pick('nodeCount', (g) => g.between(nodesMin, nodesMax));
  const writesTotal = pick('writesTotal', (g) => g.pick([0, g.between(1, 200), g.between(200, 3000), g.between(200, 3000), g.between(1000, 5000)]));
  const o: FuzzOptions = {
    bugs: fixed.bugs ?? [],
    ...(fixed.clients === true ? { clients: true } : {}),
    ...(sentinels ? { sentinels: true } : {}),
    nodesMin,
    nodesMax,
    nodeCount,
    topology: pick('topology', (g) => g.pick(['star', 'chain', 'tree'] as const)),
    // With sentinels, from the config file: a replica restarted before any sentinel saw it would
    // otherwise come back a master nobody knows (a real deployment's outcome, but no liveness bug).
    attachVia: sentinels ? 'config' : pick('attachVia', (g) => g.pick(['config', 'command'] as const)),
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
    ...(sentinels ? drawSentinelOptions(pick, nodeCount) : {}),
  };
  validateOptions(o);
  return o;
}

type Pick = <K extends keyof FuzzOptions>(k: K, draw: (rng: Rng) => FuzzOptions[K]) => FuzzOptions[K];

/**
 * The sentinel deployment: 3 or 5 sentinels, a quorum (mostly the majority, sometimes 1 or all),
 * short timeouts so that failovers and their back-offs fit in a run, and per-replica priorities.
 * The settle bound is derived from them: a sentinel in TILT (30 s), down-after, then up to three
 * rounds of a failed attempt and its 2 x failover-timeout back-off, plus a minute for the
 * replicas' reconfiguration and the old master's conversion (10 s INFO period + 8 s wait).
 */
function drawSentinelOptions(pick: Pick, nodeCount: number): Partial<FuzzOptions> {
  const sentinelCount = pick('sentinelCount', (g) => g.pick([3, 3, 5]))!;
  const majority = Math.floor(sentinelCount / 2) + 1;
  const sentinelQuorum = pick('sentinelQuorum', (g) => (g.chance(0.7) ? majority : g.between(1, sentinelCount)))!;
  const sentinelDownAfterMs = pick('sentinelDownAfterMs', (g) => g.pick([1000, 2000, 3000, 5000]))!;
  const sentinelFailoverTimeoutMs = pick('sentinelFailoverTimeoutMs', (g) => g.pick([3000, 5000, 10000, 20000]))!;
  const sentinelParallelSyncs = pick('sentinelParallelSyncs', (g) => g.between(1, 3))!;
  const replicaPriorities = pick('replicaPriorities', (g) => Array.from({ length: nodeCount - 1 }, () => (g.chance(0.6) ? 100 : g.pick([0, 1, 10, 50, 100]))))!;
  const settleWithinUs = pick('settleWithinUs', () => (30_000 + sentinelDownAfterMs + 3 * 3 * sentinelFailoverTimeoutMs + 60_000) * MS)!;
  return { sentinelCount, sentinelQuorum, sentinelDownAfterMs, sentinelFailoverTimeoutMs, sentinelParallelSyncs, replicaPriorities, settleWithinUs };
}

function validateOptions(o: FuzzOptions): void {
  assert(o.nodeCount >= 2 && o.nodeCount <= 6, `fuzz: nodeCount ${o.nodeCount} outside 2..6`);
  assert(o.replPingReplicaPeriodSec >= 1 && o.replTimeoutSec >= 1, 'fuzz: bad timeouts');
  assert(o.faultKinds.length > 0 && o.faultKinds.every(isFaultKind), 'fuzz: bad fault kinds');
  assert(o.faultPhaseUs >= S && o.faultPhaseUs % MS === 0, `fuzz: bad fault phase ${o.faultPhaseUs}`);
  assert(o.loadBursts >= 1 && o.writesTotal >= 0, 'fuzz: bad load');
  assert(o.convergeWithinUs > 0, 'fuzz: bad convergence bound');
  if (o.sentinels === true) {
    assert(o.sentinelCount === 3 || o.sentinelCount === 5, `fuzz: sentinelCount ${o.sentinelCount}`);
    assert(o.sentinelQuorum !== undefined && o.sentinelQuorum >= 1 && o.sentinelQuorum <= o.sentinelCount, `fuzz: sentinelQuorum ${o.sentinelQuorum}`);
    assert(o.replicaPriorities !== undefined && o.replicaPriorities.length === o.nodeCount - 1, 'fuzz: one priority per replica');
  }
}

/**
 * The top of a failure's `.scn` file: which fuzz run it is, with `file` the command that replays
 * it exactly (the run's `--bug` flags included), then the options as `# key: value` lines.
 */
export function optionsComment(seed: string, o: FuzzOptions, kindsUsed: readonly FaultKind[], file?: string): string {
  const bugFlags = o.bugs.map((b) => ` --bug ${b}`).join('');
  const lines = [`# psync-sim fuzz run ${seed}${bugFlags}`];
  if (file !== undefined) lines.push(`# replay: psync-sim run ${file}${bugFlags} --trace`);
  lines.push('# options drawn from the seed:');
  for (const [k, v] of Object.entries(o)) lines.push(`#   ${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`);
  lines.push(`#   (fault kinds used: ${kindsUsed.join(' ') || 'none'})`);
  return lines.join('\n') + '\n';
}
