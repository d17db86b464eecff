/**
 * `psync-sim run --max-heap-mb N`: a dataset bigger than V8's default heap (about 4 GB on a
 * 64-bit machine; 10M keys with a replica need about 7 GB) kills Node with V8's own fatal
 * "heap out of memory" and a native stack, which no JavaScript can catch in the thread that ran
 * out. Asked for a larger heap, the command runs again in a child Node given
 * --max-old-space-size=N, with the same arguments and the same stdin, stdout and stderr (so
 * terminals, colours and the live progress line behave as without the flag), and ends with its
 * status. Only when asked: every other run pays nothing, and a process that already has at least
 * N MB (say `node --max-old-space-size=...`) runs in place, which is also how the child does not
 * start a grandchild. A child that V8 aborted gets one closing line saying what happened.
 * Spawning and signals are allowed here: this is the CLI, not the simulation.
 */
import { spawn } from 'node:child_process';
import { getHeapStatistics } from 'node:v8';
import { constants } from 'node:os';
import { UsageError } from './exit.ts';

/** The smallest --max-heap-mb: below this Node itself hardly starts. */
export const MAX_HEAP_MB_MIN = 64;

/** The checked value of --max-heap-mb (yargs hands over a number, NaN for a non-number). */
export function maxHeapMb(v: number): number {
  if (!Number.isSafeInteger(v) || v < MAX_HEAP_MB_MIN) throw new UsageError(`--max-heap-mb: expected a whole number of MB, at least ${MAX_HEAP_MB_MIN}, got ${Number.isNaN(v) ? 'no number' : v}`);
  return v;
}

/** Does this process's heap (old generation and young) already hold `mb` MB? */
export function heapHolds(mb: number): boolean {
  return getHeapStatistics().heap_size_limit >= mb * 2 ** 20;
}

/**
 * Run this same command line (`argv`: node's own flags, the script and its arguments as given)
 * in a child Node with an `mb` MB old generation; resolves to the exit status to end with.
 */
export function rerunWithHeap(mb: number, execArgv: readonly string[] = process.execArgv, script = process.argv[1]!, args: readonly string[] = process.argv.slice(2)): Promise<number> {
  const child = spawn(process.execPath, [...execArgv.filter((a) => !a.startsWith('--max-old-space-size')), `--max-old-space-size=${mb}`, script, ...args], { stdio: 'inherit' });
  // Ctrl-C reaches the child from the terminal itself (same process group); a signal sent to
  // this process alone is passed on.
  const forward = (signal: NodeJS.Signals) => (): void => void child.kill(signal);
  const onTerm = forward('SIGTERM');
  const onHup = forward('SIGHUP');
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      if (signal === null) return resolve(code ?? 0);
      if (signal === 'SIGABRT') {
        process.stderr.write(`psync-sim: the run was aborted by V8 (above: most likely out of its ${mb.toLocaleString('en-US')} MB heap); give a larger --max-heap-mb\n`);
      }
      resolve(128 + (constants.signals[signal] ?? 0));
    });
  });
}
