/**
 * The live progress line of a long `psync-sim run` (stderr, a TTY only): virtual time, events
 * and events per wall second, redrawn in place at most 4 times a second, and only once a file
 * has run for a second of wall time, so short runs print nothing extra. Anything printed
 * meanwhile clears the line first. No colour codes: the line is erased, never kept.
 */
import { formatTimeUs } from '../trace/render.ts';

export interface LiveProgress {
  /** The executor's onProgress (sim/scenario/run.ts RunOptions). */
  readonly update: (p: { readonly virtualUs: number; readonly events: number }) => void;
  /** Erase the line if it is shown (before other output, and at the end of a file). */
  readonly clear: () => void;
  /** A new file starts: the one-second grace period starts again. */
  readonly restart: () => void;
}

const SHOW_AFTER_MS = 1000;
const REDRAW_MS = 250;

/** null when stderr is not a terminal: nothing to draw on. */
export function liveProgress(stderr: NodeJS.WriteStream = process.stderr): LiveProgress | null {
  if (stderr.isTTY !== true) return null;
  let startMs = performance.now();
  let lastMs = 0;
  let shown = false;
  const clear = (): void => {
    if (!shown) return;
    stderr.write('\r\x1b[K');
    shown = false;
  };
  return {
    update: ({ virtualUs, events }) => {
      const nowMs = performance.now();
      if (nowMs - startMs < SHOW_AFTER_MS || nowMs - lastMs < REDRAW_MS) return;
      lastMs = nowMs;
      const rate = Math.round(events / ((nowMs - startMs) / 1000));
      stderr.write(`\r\x1b[K  … ${formatTimeUs(virtualUs)} virtual, ${events.toLocaleString('en-US')} events, ${rate.toLocaleString('en-US')} events/s`);
      shown = true;
    },
    clear,
    restart: () => {
      clear();
      startMs = performance.now();
      lastMs = 0;
    },
  };
}
