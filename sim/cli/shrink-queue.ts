/**
 * Shrinking fuzz failures without stalling the campaign (`psync-sim fuzz`).
 *
 * Theory of operation. A shrink runs its failing story up to --shrink-runs more times; done on
 * the main thread, it held up every result the campaign's workers sent meanwhile, so the
 * progress line froze for as long as the shrink took. The queue runs shrinks one at a time, in
 * the order their failures were found, on a worker thread of its own (shrink-worker.ts), while
 * the campaign's workers go on and the main thread keeps counting their results and redrawing
 * the progress line with the shrink's own progress. The main thread writes each `.min.scn` when
 * its shrink ends, so a file on disk is always complete.
 *
 * SIGINT (interrupt()): a flag in shared memory tells the shrink in progress to stop before its
 * next candidate; it ends with the smallest failing story found by then, run once more under the
 * `.min.scn` header (so the file is whole and its line numbers are its own), and the header says
 * it was interrupted. Queued shrinks are not started: interrupt() returns them so the caller can
 * say so.
 *
 * Without a worker (`inline`: one thread and not interruptible, as the tests and the library
 * run a campaign) add() shrinks at once on this thread and calls the same hooks.
 * Wall-clock reads are allowed here: this is the CLI.
 */
import { Worker } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { minFileText, shrinkFailure } from '../fuzz/shrink.ts';
import type { ShrinkProgress } from '../fuzz/shrink.ts';
import { resultStem, scenarioFileText } from '../fuzz/run.ts';
import type { FuzzResult } from '../fuzz/run.ts';

/** A shrunk failure as the `.min.scn` text and a one-line summary. */
export interface ShrunkText {
  readonly text: string;
  readonly summary: string;
  /** The shrink was stopped early (SIGINT): the text holds the smallest failure found by then. */
  readonly interrupted: boolean;
}

/** Shrink `r` (sim/fuzz/shrink.ts shrinkFailure) into its `.min.scn` text; null when it cannot be shrunk. */
export function shrinkToText(r: FuzzResult, runsMax: number, onProgress?: (p: ShrinkProgress) => void, shouldStop?: () => boolean): ShrunkText | null {
  const sh = shrinkFailure(r, runsMax, onProgress, shouldStop);
  if (sh === null) return null;
  const how = sh.interrupted ? ' (interrupted: the smallest failing story found by then)' : sh.exhausted ? ' (budget spent)' : '';
  const summary = `${sh.statementsBefore} → ${sh.statementsAfter} body statements, ${sh.nodesBefore} → ${sh.nodesAfter} nodes, ${sh.runs} runs${how}`;
  return { text: minFileText(sh, scenarioFileText), summary, interrupted: sh.interrupted };
}

/** `<dir>/<seed>.min.scn`. */
export function minFilePath(dir: string, r: Pick<FuzzResult, 'seed' | 'variant'>): string {
  return join(dir, `${resultStem(r)}.min.scn`);
}

export interface ShrinkJob {
  readonly r: FuzzResult;
  /** How the failure is named in output (its seed, `.NAME` under a variant). */
  readonly label: string;
}

/** How a shrink ended: its file; null when the failure cannot be shrunk; or the error that ended it. */
export type ShrinkEnd =
  | { readonly kind: 'shrunk'; readonly file: string; readonly summary: string; readonly interrupted: boolean }
  | { readonly kind: 'none' }
  | { readonly kind: 'error'; readonly message: string };

export interface ShrinkHooks {
  readonly onProgress: (job: ShrinkJob, p: ShrinkProgress) => void;
  readonly onEnd: (job: ShrinkJob, end: ShrinkEnd) => void;
}

type FromWorker = { type: 'progress'; p: ShrinkProgress } | { type: 'done'; result: ShrunkText | null };

/** Worker progress messages at most this often (the line redraws at 10 per second). */
export const SHRINK_PROGRESS_MS = 50;

export class ShrinkQueue {
  private readonly pending: ShrinkJob[] = [];
  private current: { readonly job: ShrinkJob; progress: ShrinkProgress | null } | null = null;
  private worker: Worker | null = null;
  /** Element 0 becomes 1 on interrupt(); the shrink worker reads it before every candidate. */
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(4));
  private stopped = false;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly dir: string,
    private readonly runsMax: number,
    /** true: shrink on a worker thread; false: at once, on this thread. */
    readonly background: boolean,
    private readonly hooks: ShrinkHooks,
  ) {}

  /** The shrink in progress and its last progress, if any. */
  get active(): { readonly job: ShrinkJob; readonly progress: ShrinkProgress | null } | null {
    return this.current;
  }

  /** Shrinks waiting for their turn. */
  get queued(): number {
    return this.pending.length;
  }

  add(job: ShrinkJob): void {
    if (this.stopped) return;
    if (!this.background) {
      const cur = (this.current = { job, progress: null as ShrinkProgress | null });
      const t = shrinkToText(job.r, this.runsMax, (p) => {
        cur.progress = p;
        this.hooks.onProgress(job, p);
      });
      this.current = null;
      this.end(job, t);
      return;
    }
    this.pending.push(job);
    this.next();
  }

  /**
   * SIGINT: the shrink in progress stops before its next candidate and still writes its
   * `.min.scn` (marked interrupted); the queued ones are not started and are returned.
   */
  interrupt(): ShrinkJob[] {
    this.stopped = true;
    Atomics.store(this.stopFlag, 0, 1);
    const dropped = this.pending.splice(0);
    this.wake();
    return dropped;
  }

  /** Resolves once nothing is shrinking or queued; then the worker thread is ended. */
  async drain(): Promise<void> {
    while (this.current !== null || this.pending.length > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    const w = this.worker;
    this.worker = null;
    if (w !== null) await w.terminate();
  }

  private wake(): void {
    if (this.current !== null || this.pending.length > 0) return;
    const ws = this.waiters;
    this.waiters = [];
    for (const f of ws) f();
  }

  private next(): void {
    if (this.current !== null) return;
    const job = this.pending.shift();
    if (job === undefined) {
      this.wake();
      return;
    }
    this.current = { job, progress: null };
    this.thread().postMessage({ type: 'shrink', r: job.r, runsMax: this.runsMax });
  }

  private thread(): Worker {
    if (this.worker !== null) return this.worker;
    // Compiled (dist/): the worker's own compiled module. From source (tests, tsx): a .js shim
    // beside this file that registers tsx in the worker's thread, then loads shrink-worker.ts.
    const w = new Worker(new URL('./shrink-worker.js', import.meta.url), { workerData: { stop: this.stopFlag.buffer } });
    w.on('message', (m: FromWorker) => {
      const cur = this.current;
      if (cur === null) return;
      if (m.type === 'progress') {
        cur.progress = m.p;
        this.hooks.onProgress(cur.job, m.p);
        return;
      }
      this.current = null;
      // The next shrink starts first, so the line drawn on this one's end already shows it.
      this.next();
      this.end(cur.job, m.result);
    });
    w.on('error', (e: Error) => {
      // A psync-sim bug in the shrinker: report it for this failure and go on with the next.
      this.worker = null;
      const cur = this.current;
      this.current = null;
      if (cur !== null) this.hooks.onEnd(cur.job, { kind: 'error', message: e.message.split('\n')[0] ?? String(e) });
      this.next();
    });
    this.worker = w;
    return w;
  }

  private end(job: ShrinkJob, t: ShrunkText | null): void {
    if (t === null) {
      this.hooks.onEnd(job, { kind: 'none' });
      return;
    }
    const file = minFilePath(this.dir, job.r);
    writeFileSync(file, t.text, 'utf8');
    this.hooks.onEnd(job, { kind: 'shrunk', file, summary: t.summary, interrupted: t.interrupted });
  }
}

/** A throttle for progress messages: true at most once per `ms`, and for the budget's last run. */
export function progressThrottle(ms: number): (p: ShrinkProgress) => boolean {
  let lastMs = -Infinity;
  return (p) => {
    const now = performance.now();
    if (now - lastMs < ms && p.runs < p.runsMax) return false;
    lastMs = now;
    return true;
  };
}
