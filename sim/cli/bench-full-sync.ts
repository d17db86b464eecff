/**
 * Target 2 of `npm run bench`, the simulated side: a full sync of N keys (DEBUG POPULATE, disk
 * based), timed and its memory measured. It runs on a worker thread whose old-generation limit
 * is sized from the machine (fullSyncHeapMb), not in the bench's own thread: 10M keys need about
 * 6.5 GB of heap, past V8's default limit (~4 GB on a 64-bit machine), and a worker that outgrows
 * its limit is terminated with an error the bench reports in one line, where the main thread
 * would die of a V8 fatal error. The worker is full-sync-worker.ts.
 * Wall-clock reads are allowed here: this is tooling, not the simulation.
 */
import { performance } from 'node:perf_hooks';
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { World } from '../world/world.ts';
import { defaultConfig } from '../core/config.ts';
import type { Reply } from '../core/reply.ts';

export interface FullSyncFigures {
  populateS: number;
  syncS: number;
  syncCpuS: number;
  virtualSyncS: number;
  peakBytesPerKey: number;
  rdbBytesPerKey: number;
}

/** Run in steps of `stepUs` until `done()` or `deadlineUs`; calls `sample` after each step. */
export function runSteps(world: World, done: () => boolean, deadlineUs: number, stepUs: number, sample: () => void = () => {}): boolean {
  while (!done()) {
    if (world.engine.nowUs >= deadlineUs) return false;
    world.engine.runUntil(Math.min(deadlineUs, world.engine.nowUs + stepUs));
    sample();
  }
  return true;
}

/**
 * In this thread: m holds `keys` keys of `sizeBytes` (DEBUG POPULATE), disk-based sync; a
 * replica started with replicaof m. Wall time from the replica's start to its link up, and the
 * process's peak resident memory above what it used before DEBUG POPULATE, per key (both copies
 * of the dataset, master's and replica's, live in this one process). That peak also holds what
 * real Redis keeps outside used_memory: the RDB file (one Buffer, shared by the master's disk,
 * the transfer and the replica's disk) and garbage not yet collected; so the RDB's size per key
 * and the sync's CPU seconds (the machine may be shared) are returned too.
 * RSS and CPU are the process's, whichever thread calls this: on the worker (benchFullSyncOnWorker)
 * the baseline rss0 is taken the same way, at the start of this function in the thread that
 * runs the simulation, with the bench's main thread idle (it waits for the worker's message).
 */
export function benchFullSync(keys: number, sizeBytes = 100): FullSyncFigures {
  globalThis.gc?.();
  const rss0 = process.memoryUsage.rss();
  let peak = rss0;
  const sample = (): void => {
    const r = process.memoryUsage.rss();
    if (r > peak) peak = r;
  };
  const world = new World({ seed: 1, trace: null });
  const mc = defaultConfig();
  mc.replDisklessSync = false;
  world.addNode('m', mc).start();
  const t0 = performance.now();
  let reply: Reply | null = null;
  world.slot('m').command(world.newClientId(), ['DEBUG', 'POPULATE', String(keys), 'key', String(sizeBytes)], (r) => (reply = r));
  runSteps(world, () => reply !== null, world.engine.nowUs + 3_600_000_000, 100_000, sample);
  if (reply === null || (reply as Reply).kind === 'error') throw new Error(`full sync: DEBUG POPULATE failed: ${JSON.stringify(reply)}`);
  const populateS = (performance.now() - t0) / 1000;
  sample();
  const rc = defaultConfig();
  rc.replicaof = { host: 'm', port: 6379 };
  const t1 = performance.now();
  const cpu1 = process.cpuUsage();
  const v1 = world.engine.nowUs;
  world.addNode('r', rc).start();
  const r = () => world.slot('r').node!;
  const ok = runSteps(world, () => r().replState === 'connected' && r().ks.totalKeys() === keys, world.engine.nowUs + 3_600_000_000, 50_000, sample);
  const syncS = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(cpu1);
  if (!ok) throw new Error('full sync: the replica did not come up within an hour of virtual time');
  sample();
  const rdbBytes = world.slot('m').readFile(mc.dbfilename)?.length ?? 0;
  return { populateS, syncS, syncCpuS: (cpu.user + cpu.system) / 1e6, virtualSyncS: (world.engine.nowUs - v1) / 1e6, peakBytesPerKey: (peak - rss0) / keys, rdbBytesPerKey: rdbBytes / keys };
}

/** The machine's memory, or the process's cgroup limit when that is smaller (a container). */
function memoryBytes(): number {
  const limit = process.constrainedMemory?.() ?? 0; // 0 or 2^64 when unconstrained
  return limit > 0 && limit < totalmem() ? limit : totalmem();
}

/**
 * The full-sync worker's old-generation limit in MB: three quarters of the machine's memory,
 * and never below this thread's own heap limit (V8's default, or what --max-old-space-size set).
 */
export function fullSyncHeapMb(totalBytes = memoryBytes(), ownHeapLimitBytes = getHeapStatistics().heap_size_limit): number {
  return Math.max(Math.floor(ownHeapLimitBytes / 2 ** 20), Math.floor((totalBytes * 0.75) / 2 ** 20));
}

/**
 * benchFullSync on a worker thread of its own with a `heapMb` old generation; its figures, and
 * the limit used. A worker that fails (an error in the simulation, or its heap outgrown:
 * ERR_WORKER_OUT_OF_MEMORY) rejects with a one-line Error saying so.
 */
export function benchFullSyncOnWorker(keys: number, sizeBytes = 100, heapMb = fullSyncHeapMb()): Promise<FullSyncFigures & { heapMb: number }> {
  // Compiled (dist/): the worker's own compiled module. From source (tests, tsx): a .js shim
  // beside this file that registers tsx in the worker's thread, then loads full-sync-worker.ts.
  const worker = new Worker(new URL('./full-sync-worker.js', import.meta.url), {
    workerData: { keys, sizeBytes },
    resourceLimits: { maxOldGenerationSizeMb: heapMb },
  });
  return new Promise((resolve, reject) => {
    let figures: FullSyncFigures | null = null;
    let failure: string | null = null;
    worker.on('message', (m: FullSyncFigures) => (figures = m));
    worker.on('error', (e: Error & { code?: string }) => {
      failure = e.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `the full-sync worker ran out of its ${heapMb.toLocaleString('en-US')} MB heap at ${keys.toLocaleString('en-US')} keys (${e.code})`
        : `the full-sync worker failed: ${e.name}: ${String(e.message).split('\n')[0]}`;
    });
    worker.on('exit', (code) => {
      if (figures !== null && failure === null) resolve({ ...(figures as FullSyncFigures), heapMb });
      else reject(new Error(failure ?? `the full-sync worker exited with code ${code} and no figures`));
    });
  });
}
