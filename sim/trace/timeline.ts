/**
 * `--timeline`: the trace as one lane per node, time flowing down, so a learner sees who did
 * what while the others waited. Events about the world (faults, checks) span every lane.
 */
import type { Stamped, TraceEvent } from './events.ts';
import { renderEvent, formatTimeUs } from './render.ts';

function laneOf(e: TraceEvent): string | null {
  return 'node' in e ? e.node : null;
}

export function renderTimeline(events: readonly Stamped[], nodes: readonly string[], widthChars: number): string {
  const timeW = 13;
  const laneW = Math.max(16, Math.floor((widthChars - timeW - 1) / Math.max(1, nodes.length)) - 1);
  const cell = (s: string): string => (s.length > laneW ? s.slice(0, laneW - 1) + '…' : s.padEnd(laneW));
  const lines = [' '.repeat(timeW) + ' ' + nodes.map((n) => cell(n)).join(' ')];
  lines.push(' '.repeat(timeW) + ' ' + nodes.map(() => '-'.repeat(laneW)).join(' '));
  for (const s of events) {
    if (s.event.kind === 'repl-state') continue; // Too fine-grained for lanes.
    const text = renderEvent(s.event);
    const lane = laneOf(s.event);
    const t = formatTimeUs(s.atUs).padStart(timeW);
    const i = lane === null ? -1 : nodes.indexOf(lane);
    if (i < 0) {
      lines.push(`${t} ${'== ' + text}`);
      continue;
    }
    const own = text.startsWith(lane + ' ') ? text.slice(lane!.length + 1) : text;
    lines.push(`${t} ${nodes.map((_, j) => (j === i ? cell(own) : cell(''))).join(' ')}`.trimEnd());
  }
  return lines.join('\n');
}
