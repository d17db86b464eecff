/**
 * `npm run bench` / `psync-sim bench`: how fast the simulator runs, as figures (never a timed
 * test). (a) 3 nodes, 10k writes/s of 64-byte values for 60 virtual seconds, replicated to two
 * replicas; (b) a bare event-queue loop with the same number of events: the ceiling; (c) fuzz
 * runs per second on one thread.
 * Wall-clock reads are allowed here: this is tooling, not the simulation.
 */
import { performance } from 'node:perf_hooks';
import { Engine } from '../engine/engine.ts';
import { World } from '../world/world.ts';
import { defaultConfig } from '../core/config.ts';
import { startLoad } from '../world/load.ts';
import { fuzzOne } from '../fuzz/run.ts';
import { campaignDefault } from '../fuzz/campaign.ts';
import { runCampaignOnWorkers } from './fuzz.ts';
import { availableParallelism } from 'node:os';

export interface BenchFigures {
  name: string;
  events: number;
  wallMs: number;
  virtualSec: number;
}

export function benchReplication(seconds = 60, writesPerSec = 10_000): BenchFigures & { offsets: number[] } {
  const world = new World({ seed: 1, trace: null });
  for (const name of ['m', 'r1', 'r2']) {
    const c = defaultConfig();
    c.replDisklessSyncDelaySec = 0;
    if (name !== 'm') c.replicaof = { host: 'm', port: 6379 };
    world.addNode(name, c).start();
  }
  world.engine.runUntil(2_000_000); // first syncs
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

/** Fuzz runs per second, one thread: generate, execute with invariants, liveness phase. */
export function benchFuzz(runs = 40): { runs: number; wallMs: number; failed: number } {
  const t0 = performance.now();
  let failed = 0;
  for (let i = 0; i < runs; i++) if (!fuzzOne(`bench/${i}`).ok) failed++;
  return { runs, wallMs: performance.now() - t0, failed };
}

/** The same kind of runs on every core (worker threads). */
export async function benchFuzzWorkers(runs = 80): Promise<{ runs: number; wallMs: number; workers: number; failed: number }> {
  const workers = availableParallelism();
  const t0 = performance.now();
  const summary = await runCampaignOnWorkers({ ...campaignDefault, seed: 'bench', runs }, workers, null, () => {});
  return { runs: summary.runs, wallMs: performance.now() - t0, workers, failed: summary.failures.length };
}

export async function runBench(): Promise<void> {
  console.log('psync-sim bench (single thread; figures vary with the machine)');
  const rep = benchReplication();
  console.log(formatFigures(rep));
  console.log(`  final master_repl_offset m/r1/r2: ${rep.offsets.join(' / ')}`);
  console.log(formatFigures(benchBareQueue(rep.events)));
  const f = benchFuzz();
  console.log(`${'fuzz runs (one worker)'.padEnd(32)} ${String(f.runs).padStart(10)} runs    ${(f.wallMs / 1000).toFixed(2).padStart(7)} s wall  ` +
    `${(f.runs / (f.wallMs / 1000)).toFixed(1).padStart(12)} runs/s${f.failed ? `  (${f.failed} failed!)` : ''}`);
  const w = await benchFuzzWorkers();
  console.log(`${`fuzz runs (${w.workers} workers)`.padEnd(32)} ${String(w.runs).padStart(10)} runs    ${(w.wallMs / 1000).toFixed(2).padStart(7)} s wall  ` +
    `${(w.runs / (w.wallMs / 1000)).toFixed(1).padStart(12)} runs/s${w.failed ? `  (${w.failed} failed!)` : ''}`);
}
