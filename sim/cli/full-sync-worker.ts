/**
 * The full-sync figure's worker thread (`npm run bench`, target 2): benchFullSyncOnWorker
 * starts it with an old-generation limit sized from the machine; it runs benchFullSync once,
 * posts the figures and ends. An error escapes as the worker's 'error' event.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { benchFullSync } from './bench-full-sync.ts';

const { keys, sizeBytes } = workerData as { keys: number; sizeBytes: number };
parentPort!.postMessage(benchFullSync(keys, sizeBytes));
