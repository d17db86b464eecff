/**
 * `npm run bench` / `psync-sim bench`: how fast the simulator runs, as figures (never a timed
 * test), each next to the same workload on real redis-server 7.0 where it is installed (started
 * and stopped here, on 127.0.0.1: bench-real.ts):
 *   1. write burst: a master and 2 replicas absorb pipelined 64-byte SETs to random keys;
 *      simulated writes per wall second ÷ redis-benchmark's requests per second;
 *   2. full sync of 1M keys × 100 B (DEBUG POPULATE, disk-based): wall time ÷ real's, and the
 *      process's peak memory per key ÷ real's used_memory per key (`--full-sync-keys N` for 10M;
 *      the simulation runs on a worker thread with a heap sized from the machine: bench-full-sync.ts);
 *   3. fuzz campaign: virtual seconds per wall second on every core, and per core on one worker,
 *      both over the same runs (and each one's CPU seconds: one worker is not one core);
 * then (a) 3 nodes, 10k writes/s for 60 virtual seconds and (b) a bare event-queue loop with the
 * same number of events: the ceiling.
 * Wall-clock reads are allowed here: this is tooling, not the simulation.
 */
import { performance } from 'node:perf_hooks';
import { Engine } from '../engine/engine.ts';
import { World } from '../world/world.ts';
import { defaultConfig } from '../core/config.ts';
import { startLoad } from '../world/load.ts';
import { campaignDefault } from '../fuzz/campaign.ts';
import { runCampaignOnWorkers } from './fuzz.ts';
import { availableParallelism } from 'node:os';
import { realRedisMissing, realWriteBurst, realFullSync } from './bench-real.ts';
import { UsageError } from './exit.ts';
import { runSteps, benchFullSyncOnWorker, fullSyncHeapMb } from './bench-full-sync.ts';
export { benchFullSync, benchFullSyncOnWorker } from './bench-full-sync.ts';

export interface BenchFigures {
  name: string;
  events: number;
  wallMs: number;
  virtualSec: number;
}

export function benchReplication(seconds = 60, writesPerSec = 10_000): BenchFigures & { offsets: number[] } {
  const world = syncedTrio();
  const startUs = world.engine.nowUs;
  const startEvents = world.engine.eventsRun;
  const t0 = performance.now();
  startLoad(world, { node: 'm', count: seconds * writesPerSec, overUs: seconds * 1e6, sizeBytes: 64, keys: 100_000, db: null, ttlMs: null }, { next: 0 });
  world.engine.runUntil(startUs + seconds * 1e6 + 1_000_000);
  const wallMs = performance.now() - t0;
  const offsets = ['m', 'r1', 'r2'].map((n) => world.slot(n).node!.masterReplOffset);
  return { name: '3 nodes, 10k writes/s × 64 B', events: world.engine.eventsRun - startEvents, wallMs, virtualSec: (world.engine.nowUs - startUs) / 1e6, offsets };
}

export function benchBareQueue(events: number): BenchFigures {
  const engine = new Engine();
  let left = events;
  // Keep ~100 events pending, like a busy simulation, each rescheduling itself.
  const fire = (): void => {
    if (--left > 100) engine.schedule(1 + (left % 997), fire);
  };
  for (let i = 0; i < 100; i++) engine.schedule(i, fire);
  const t0 = performance.now();
  while (engine.step()) { /* drain */ }
  const wallMs = performance.now() - t0;
  return { name: 'bare event queue', events: engine.eventsRun, wallMs, virtualSec: engine.nowUs / 1e6 };
}

export function formatFigures(f: BenchFigures): string {
  const evPerSec = f.events / (f.wallMs / 1000);
  const speed = f.virtualSec / (f.wallMs / 1000);
  return `${f.name.padEnd(32)} ${String(f.events).padStart(10)} events  ${(f.wallMs / 1000).toFixed(2).padStart(7)} s wall  ` +
    `${Math.round(evPerSec).toLocaleString('en-US').padStart(12)} events/s  ${speed.toFixed(1).padStart(8)} virtual s / wall s`;
}

/** Three synced nodes, m → r1, r2, at virtual time 2 s. */
function syncedTrio(): World {
  const world = new World({ seed: 1, trace: null });
  for (const name of ['m', 'r1', 'r2']) {
    const c = defaultConfig();
    c.replDisklessSyncDelaySec = 0;
    if (name !== 'm') c.replicaof = { host: 'm', port: 6379 };
    world.addNode(name, c).start();
  }
  world.engine.runUntil(2_000_000);
  return world;
}

/**
 * Target 1, the simulated side: `writes` SETs of `sizeBytes` to random keys among `keys`, sent
 * at `perSec` virtual writes per second to m, until every reply came and both replicas hold the
 * master's offset. Simulated writes per wall second.
 */
export function benchWriteBurst(writes: number, sizeBytes = 64, keys = 100_000, perSec = 200_000): { writesPerSec: number; wallMs: number; events: number } {
  const world = syncedTrio();
  const ev0 = world.engine.eventsRun;
  const t0 = performance.now();
  const stats = startLoad(world, { node: 'm', count: writes, overUs: Math.round((writes / perSec) * 1e6), sizeBytes, keys, db: null, ttlMs: null }, { next: 0 });
  const node = (n: string) => world.slot(n).node!;
  const ok = runSteps(world, () => stats.pending() === 0 && stats.sent === writes &&
    node('r1').masterReplOffset === node('m').masterReplOffset && node('r2').masterReplOffset === node('m').masterReplOffset,
  world.engine.nowUs + 600_000_000, 10_000);
  const wallMs = performance.now() - t0;
  if (!ok) throw new Error('write burst: the replicas did not catch up within 600 virtual s');
  return { writesPerSec: writes / (wallMs / 1000), wallMs, events: world.engine.eventsRun - ev0 };
}

/**
 * Target 3: a fuzz campaign of `runs` runs on `workers` worker threads; virtual s per wall s, and
 * the CPU seconds the whole process spent (every thread: the workers, the main thread, and V8's
 * helper threads that garbage-collect and compile for them).
 */
export async function benchFuzzCampaign(runs: number, workers: number, seed = 'bench'): Promise<{ runs: number; workers: number; wallS: number; cpuS: number; virtualS: number; failed: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const summary = await runCampaignOnWorkers({ ...campaignDefault, seed, runs }, workers, null, () => {});
  const c = process.cpuUsage(c0);
  return { runs: summary.runs, workers, wallS: (performance.now() - t0) / 1000, cpuS: (c.user + c.system) / 1e6, virtualS: summary.virtualUs / 1e6, failed: summary.failures.length };
}

export interface BenchOptions {
  /** Keys of the full-sync figure (default 1M; 10M is the issue's stretch). */
  readonly fullSyncKeys: number;
  /** The full-sync worker's old-generation limit in MB; null: sized from the machine (fullSyncHeapMb). */
  readonly fullSyncHeapMb: number | null;
  /** Writes of the write-burst figure. */
  readonly burstWrites: number;
  /** Fuzz runs per core: both campaigns run the same cores × N runs. */
  readonly fuzzRunsPerWorker: number;
  /** Skip the real-redis side. */
  readonly noReal: boolean;
  /** Skip the older figures (10k writes/s for 60 s, bare queue). */
  readonly targetsOnly: boolean;
}

export const benchDefaults: BenchOptions = { fullSyncKeys: 1_000_000, fullSyncHeapMb: null, burstWrites: 300_000, fuzzRunsPerWorker: 250, noReal: false, targetsOnly: false };

const BENCH_FLAGS = '--full-sync-keys N, --full-sync-heap-mb N, --burst-writes N, --fuzz-runs N, --no-real, --targets-only';

/** A count flag's value: a positive integer, or invalid input (exit 2). */
function benchCount(flag: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new UsageError(`bench: ${flag} needs a positive integer, got ${Number.isNaN(v) ? 'no number' : v}`);
  return v;
}

/** `psync-sim bench`'s parsed flags (yargs) made options, each count checked. */
export function benchOptions(o: { fullSyncKeys?: number; fullSyncHeapMb?: number; burstWrites?: number; fuzzRunsPerWorker?: number; noReal?: boolean; targetsOnly?: boolean }): BenchOptions {
  return {
    fullSyncKeys: benchCount('--full-sync-keys', o.fullSyncKeys, benchDefaults.fullSyncKeys),
    fullSyncHeapMb: o.fullSyncHeapMb === undefined ? null : benchCount('--full-sync-heap-mb', o.fullSyncHeapMb, 0),
    burstWrites: benchCount('--burst-writes', o.burstWrites, benchDefaults.burstWrites),
    fuzzRunsPerWorker: benchCount('--fuzz-runs', o.fuzzRunsPerWorker, benchDefaults.fuzzRunsPerWorker),
    noReal: o.noReal ?? false,
    targetsOnly: o.targetsOnly ?? false,
  };
}

/**
 * `node dist/bench.js` (`npm run bench -- ...`): `--full-sync-keys N --full-sync-heap-mb N --burst-writes N
 * --fuzz-runs N --no-real --targets-only` (also `--flag=N`). A bad flag or value is a UsageError
 * (one line, exit 2, in sim/bench.ts); `help: true` for -h/--help.
 */
export function parseBenchArgs(argv: readonly string[]): BenchOptions & { help: boolean } {
  const raw: { fullSyncKeys?: number; fullSyncHeapMb?: number; burstWrites?: number; fuzzRunsPerWorker?: number; noReal?: boolean; targetsOnly?: boolean } = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const a = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const num = (): number => {
      const text = eq > 0 && a !== arg ? arg.slice(eq + 1) : argv[++i];
      if (text === undefined || !/^\d+$/.test(text)) throw new UsageError(`bench: ${a} needs a positive integer, got ${text === undefined ? 'nothing' : JSON.stringify(text)}`);
      return Number(text);
    };
    if (a === '--full-sync-keys') raw.fullSyncKeys = num();
    else if (a === '--full-sync-heap-mb') raw.fullSyncHeapMb = num();
    else if (a === '--burst-writes') raw.burstWrites = num();
    else if (a === '--fuzz-runs') raw.fuzzRunsPerWorker = num();
    else if (a === '--no-real' && a === arg) raw.noReal = true;
    else if (a === '--targets-only' && a === arg) raw.targetsOnly = true;
    else if (a === '-h' || a === '--help') help = true;
    else if (a === '--debug' && a === arg) continue; // read by sim/bench.ts: the stack of an internal error
    else throw new UsageError(`bench: unknown option ${arg} (${BENCH_FLAGS})`);
  }
  return { ...benchOptions(raw), help };
}

/** What `node dist/bench.js --help` prints. */
export const BENCH_HELP = `usage: node dist/bench.js [${BENCH_FLAGS}] (or npm run bench -- FLAGS, or psync-sim bench FLAGS)
Prints the speed figures of the simulator, each next to real redis-server where it is installed.
The full-sync figure's simulation runs on a worker thread with a heap limit of 3/4 of the machine's
memory, never below V8's default (--full-sync-heap-mb N sets it; 10M keys need about 7,000).
Exit status: 0 done; 2 a bad flag or value; 3 an internal error, or the full-sync worker out of
its heap (one line; --debug: with the stack).`;

const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');

export async function runBench(o: BenchOptions = benchDefaults): Promise<void> {
  const missing = o.noReal ? 'skipped (--no-real)' : realRedisMissing();
  console.log(`psync-sim bench: figures vary with the machine and its load; real side: ${missing === null ? 'redis-server on 127.0.0.1, started and stopped here' : `none (${missing})`}`);

  // 1. Write burst.
  const burst = benchWriteBurst(o.burstWrites);
  let line = `1. write burst, m + 2 replicas, ${fmt(o.burstWrites)} SETs × 64 B, random keys of 100k: sim ${fmt(burst.writesPerSec)} writes/s`;
  if (missing === null) {
    const real = await realWriteBurst(o.burstWrites, 64, 100_000, 16, 50);
    line += `; real ${fmt(real.ackedPerSec)}/s (redis-benchmark -P 16 -c 50; ${fmt(real.replicatedPerSec)}/s until both replicas had them)` +
      `; ratio ${ratio(burst.writesPerSec / real.ackedPerSec)} (target ≥ 1.00×)`;
  }
  console.log(line);

  // 2. Full sync.
  const fs = await benchFullSyncOnWorker(o.fullSyncKeys, 100, o.fullSyncHeapMb ?? fullSyncHeapMb());
  line = `2. full sync, ${fmt(o.fullSyncKeys)} keys × 100 B, disk-based: sim ${fs.syncS.toFixed(2)} s wall (${fs.syncCpuS.toFixed(2)} s CPU, ${fs.virtualSyncS.toFixed(2)} virtual s; DEBUG POPULATE ${fs.populateS.toFixed(2)} s before; on a worker, heap limit ${fmt(fs.heapMb)} MB), ` +
    `peak memory ${fmt(fs.peakBytesPerKey)} B/key (both copies, and the ${fmt(fs.rdbBytesPerKey)} B/key RDB file the simulated disks hold)`;
  if (missing === null) {
    const real = await realFullSync(o.fullSyncKeys, 100, 3_600_000);
    line += `; real ${real.syncS.toFixed(2)} s, used_memory ${fmt(real.usedMemoryPerKey)} B/key (master) + ${fmt(real.replicaUsedMemoryPerKey)} B/key (replica)` +
      `; time ratio ${ratio(fs.syncS / real.syncS)} (target ≤ 1.00×), memory ratio ${ratio(fs.peakBytesPerKey / (real.usedMemoryPerKey + real.replicaUsedMemoryPerKey))} (target ≤ 2.00×)`;
  }
  console.log(line);

  // 3. Fuzz campaigns: the same runs (seed bench, cores × N) on every core, then on one worker.
  // One worker is not one core: V8 collects garbage and compiles on helper threads, which on an
  // otherwise idle machine run on the other cores; the CPU figures show how much.
  const cores = availableParallelism();
  const runs = o.fuzzRunsPerWorker * cores;
  const all = await benchFuzzCampaign(runs, cores, 'bench');
  const one = await benchFuzzCampaign(runs, 1, 'bench');
  const allRate = all.virtualS / all.wallS;
  const oneRate = one.virtualS / one.wallS;
  const failed = (c: { failed: number }): string => (c.failed ? `, ${c.failed} failed!` : '');
  console.log(`3. fuzz campaign, ${runs} runs (${fmt(all.virtualS)} virtual s): ${cores} workers ${fmt(allRate, 1)} virtual s / wall s (${all.wallS.toFixed(1)} s${failed(all)}; target ≥ 1,000); ` +
    `1 worker ${fmt(oneRate, 1)} (${one.wallS.toFixed(1)} s, using ${(one.cpuS / one.wallS).toFixed(2)} cores${failed(one)}); per core ${fmt(allRate / cores, 1)} vs ${fmt(oneRate, 1)}: scaling ${ratio(allRate / cores / oneRate)} (target ≥ 0.85×); ` +
    `per CPU second ${fmt(all.virtualS / all.cpuS, 1)} vs ${fmt(one.virtualS / one.cpuS, 1)} virtual s: ${ratio((all.virtualS / all.cpuS) / (one.virtualS / one.cpuS))}`);

  if (o.targetsOnly) return;
  const rep = benchReplication();
  console.log(formatFigures(rep));
  console.log(`  final master_repl_offset m/r1/r2: ${rep.offsets.join(' / ')}`);
  console.log(formatFigures(benchBareQueue(rep.events)));
}
