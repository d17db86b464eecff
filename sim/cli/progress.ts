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

/**
 * The live line of a fuzz campaign on a terminal (stderr): a bar when the run count is known,
 * runs, failures, runs per second, and the shrink in progress. Redrawn in place at most 10 times
 * a second, cut to the terminal's width (a wrapped line could not be erased), and erased before
 * anything else is printed. A hand-drawn line rather than a library: cli-progress (the one
 * well-kept bar library we tried, 3.12) restores the cursor to where its bar started when it
 * stops, which overwrites the failures printed meanwhile, and its MultiBar writes other output
 * through the bar's own stream on its next timer tick, while a failure belongs on stdout at once.
 */
export class LiveLine {
  private shown = false;
  private lastMs = -Infinity;

  constructor(
    private readonly write: (s: string) => void,
    private readonly columns: number,
  ) {}

  /** Draw `text` over the line; skipped when the last draw was under 100 ms ago, unless `force`. */
  draw(text: string, force = false): void {
    const nowMs = performance.now();
    if (!force && nowMs - this.lastMs < 100) return;
    this.lastMs = nowMs;
    const width = Math.max(20, this.columns - 1);
    const cut = text.length > width ? text.slice(0, width - 1) + '…' : text;
    this.write(`\r\x1b[K${cut}`);
    this.shown = true;
  }

  /** Erase the line if it is shown. */
  clear(): void {
    if (!this.shown) return;
    this.write('\r\x1b[K');
    this.shown = false;
  }
}

/** A 24-cell progress bar, `[#####...]`. */
export function progressBar(done: number, total: number): string {
  const cells = 24;
  const full = total > 0 ? Math.min(cells, Math.floor((done / total) * cells)) : 0;
  return `[${'#'.repeat(full)}${'.'.repeat(cells - full)}]`;
}
