/**
 * The determinism self-check (issue 4, item 6; `psync-sim fuzz --check-determinism`).
 *
 * Theory of operation. A seed must give the same run every time (the determinism contract): the fuzzer's
 * whole promise, that a seed or a `.scn` file reproduces a failure, rests on it. This runs a
 * seed twice, records both trace event streams as JSON lines, and compares them line by line
 * (time and every field). The first difference is reported with its index and both events
 * rendered (sim/trace/render.ts), as a failure of kind 'nondeterminism'. A stray unseeded random draw,
 * a wall-clock read, Map iteration over insertion-order-dependent state or a comparator that cannot
 * return 0 shows up here long before it corrupts a failure report.
 */
import type { Stamped } from '../trace/events.ts';
import { renderStamped } from '../trace/render.ts';
import { fuzzOne } from './run.ts';
import type { FuzzResult } from './run.ts';
import type { FuzzOptions } from './generate.ts';

export interface TraceDifference {
  /** Index (0-based) of the first event where the streams differ. */
  readonly index: number;
  /** Both events rendered; '(end of trace)' when one stream stopped first. */
  readonly first: string;
  readonly second: string;
  readonly lengthFirst: number;
  readonly lengthSecond: number;
}

/**
 * Records a run's events as JSON lines: a copy taken when the event happens, so nothing the
 * world does later to an object it handed out can change the record.
 */
export class TraceRecorder {
  readonly lines: string[] = [];
  readonly sink = (s: Stamped): void => void this.lines.push(JSON.stringify(s));
}

const END = '(end of trace)';

function render(line: string): string {
  return renderStamped(JSON.parse(line) as Stamped);
}

/** The first event where two recorded traces (TraceRecorder lines) differ, or null when identical. */
export function compareTraces(a: readonly string[], b: readonly string[]): TraceDifference | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    return { index: i, first: render(a[i]!), second: render(b[i]!), lengthFirst: a.length, lengthSecond: b.length };
  }
  if (a.length === b.length) return null;
  return {
    index: n,
    first: n < a.length ? render(a[n]!) : END,
    second: n < b.length ? render(b[n]!) : END,
    lengthFirst: a.length,
    lengthSecond: b.length,
  };
}

/** The difference as a failure detail. */
export function describeDifference(d: TraceDifference): string {
  return (
    `the two runs' traces differ at event #${d.index} (of ${d.lengthFirst} and ${d.lengthSecond}):\n` +
    `  first run:  ${d.first}\n` +
    `  second run: ${d.second}`
  );
}

/**
 * Run `seed` twice. Returns the first run's result, turned into a 'nondeterminism' failure when
 * the traces (or the verdicts) differ; otherwise the first run's own verdict stands.
 */
export function fuzzTwice(seed: string, options: Partial<FuzzOptions> = {}): FuzzResult {
  const ta = new TraceRecorder();
  const tb = new TraceRecorder();
  const a = fuzzOne(seed, options, ta.sink);
  const b = fuzzOne(seed, options, tb.sink);
  const d = compareTraces(ta.lines, tb.lines);
  if (d !== null) return { ...a, ok: false, failure: { kind: 'nondeterminism', detail: describeDifference(d) } };
  if (a.text !== b.text || a.failure?.detail !== b.failure?.detail) {
    return { ...a, ok: false, failure: { kind: 'nondeterminism', detail: 'same traces but different scenarios or verdicts:\n' + `  first run:  ${a.failure?.detail.split('\n')[0] ?? 'ok'}\n  second run: ${b.failure?.detail.split('\n')[0] ?? 'ok'}` } };
  }
  return a;
}
