/**
 * The shrink thread of `psync-sim fuzz` (sim/cli/shrink-queue.ts): it shrinks one failure at a
 * time as the main thread asks, posting progress while it runs and the `.min.scn` text at the
 * end; the main thread writes the file. A flag in shared memory (set on SIGINT) stops a shrink
 * before its next candidate, keeping the smallest failure found so far.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { progressThrottle, shrinkToText, SHRINK_PROGRESS_MS } from './shrink-queue.ts';
import type { FuzzResult } from '../fuzz/run.ts';

const stop = new Int32Array((workerData as { stop: SharedArrayBuffer }).stop);
parentPort!.on('message', (m: { type: 'shrink'; r: FuzzResult; runsMax: number }) => {
  const due = progressThrottle(SHRINK_PROGRESS_MS);
  const result = shrinkToText(m.r, m.runsMax, (p) => {
    if (due(p)) parentPort!.postMessage({ type: 'progress', p });
  }, () => Atomics.load(stop, 0) === 1);
  parentPort!.postMessage({ type: 'done', result });
});
