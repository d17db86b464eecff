/**
 * `--timeline`: the trace as one lane per node, time flowing down, so a learner sees who did
 * what while the others waited. Events about the world (faults, checks) span every lane.
 * Nothing is cut: a text longer than its lane wraps onto more rows (at spaces, or inside a word
 * longer than the lane, such as a replid), and the time is printed on the event's first row only.
 * The width is the caller's (the CLI passes COLUMNS or the terminal's width).
 */
import type { Stamped, TraceEvent } from './events.ts';
import { renderEvent, formatTimeUs } from './render.ts';

/** Narrowest lane: below this a lane holds too little of a message to be read. */
const LANE_CHARS_MIN = 12;
const TIME_CHARS = 13;

function laneOf(e: TraceEvent): string | null {
  return 'node' in e ? e.node : null;
}

/** `s` cut into rows of at most `width` characters, at spaces where it can be. */
export function wrapText(s: string, width: number): string[] {
  const w = Math.max(1, width);
  const rows: string[] = [];
  let row = '';
  for (const word of s.split(' ')) {
    if (word === '') continue;
    let rest = word;
    if (row !== '' && row.length + 1 + rest.length <= w) {
      row += ' ' + rest;
      continue;
    }
    if (row !== '') rows.push(row);
    // A word longer than a row: as much as fits per row.
    while (rest.length > w) {
      rows.push(rest.slice(0, w));
      rest = rest.slice(w);
    }
    row = rest;
  }
  if (row !== '' || rows.length === 0) rows.push(row);
  return rows;
}

export function renderTimeline(events: readonly Stamped[], nodes: readonly string[], widthChars: number): string {
  const lanes = Math.max(1, nodes.length);
  const laneW = Math.max(LANE_CHARS_MIN, Math.floor((widthChars - TIME_CHARS - 1) / lanes) - 1);
  // World events span the lanes: as wide as the terminal (or as the lanes, if those overflow it).
  const worldW = Math.max(laneW, Math.max(widthChars, TIME_CHARS + 1 + lanes * (laneW + 1) - 1) - TIME_CHARS - 1 - 3);
  const pad = (s: string): string => s.padEnd(laneW);
  const blankTime = ' '.repeat(TIME_CHARS);
  const lines = [blankTime + ' ' + nodes.map((n) => wrapText(n, laneW)[0]!).map(pad).join(' ')];
  lines.push(blankTime + ' ' + nodes.map(() => '-'.repeat(laneW)).join(' '));
  for (const s of events) {
    if (s.event.kind === 'repl-state') continue; // Too fine-grained for lanes.
    const text = renderEvent(s.event);
    const lane = laneOf(s.event);
    const t = formatTimeUs(s.atUs).padStart(TIME_CHARS);
    const i = lane === null ? -1 : nodes.indexOf(lane);
    if (i < 0) {
      wrapText(text, worldW).forEach((row, k) => lines.push(`${k === 0 ? t : blankTime} ${k === 0 ? '== ' : '   '}${row}`));
      continue;
    }
    const own = text.startsWith(lane + ' ') ? text.slice(lane!.length + 1) : text;
    const before = nodes.slice(0, i).map(() => pad('')).join(' ');
    wrapText(own, laneW).forEach((row, k) => {
      lines.push(`${k === 0 ? t : blankTime} ${before}${i > 0 ? ' ' : ''}${row}`.trimEnd());
    });
  }
  return lines.join('\n');
}
