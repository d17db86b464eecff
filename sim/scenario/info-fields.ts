/**
 * Which INFO fields a predicate may name (`r1.master_link_status`), so a typo is an error at
 * parse time with a suggestion instead of a check that fails at run time. The list is not kept
 * here: it is sim/core/info-names.ts, the names sim/core/info.ts prints (a test keeps the two
 * equal by reading info.ts). Fields that exist once per item are families matched by pattern:
 * `slaveN` (one per replica), `dbN` (one per non-empty database), and a sentinel's own INFO
 * fields (`masterN`, `sentinel_*`).
 */
import { INFO_FIELD_NAMES } from '../core/info-names.ts';

const FAMILIES: readonly RegExp[] = [/^slave\d+$/, /^db\d+$/, /^master\d+$/, /^sentinel_[a-z_]+$/];

/** True when some node state prints this INFO field. */
export function isKnownInfoField(field: string): boolean {
  return INFO_FIELD_NAMES.has(field) || FAMILIES.some((re) => re.test(field));
}

/** The closest known field, for "did you mean": Redis's own `slave` for `replica` first. */
export function suggestInfoField(field: string): string | null {
  const names = INFO_FIELD_NAMES;
  const renamed = field.replace(/replicas?/g, (w) => (w.endsWith('s') ? 'slaves' : 'slave'));
  if (renamed !== field && names.has(renamed)) return renamed;
  let best: string | null = null;
  let bestD = Infinity;
  for (const n of names) {
    if (Math.abs(n.length - field.length) > 2) continue; // more than 2 edits apart: never suggested
    const d = editDistance(field, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  // Close enough to be a typo: at most 2 edits, and few for the length (`x` suggests nothing).
  return bestD <= 2 && bestD * 3 <= field.length ? best : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
