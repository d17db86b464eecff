/**
 * Which INFO fields a predicate may name (`r1.master_link_status`), so a typo is an error at
 * parse time with a suggestion instead of a check that fails at run time. The list is not kept
 * by hand: it is read from the code that prints INFO (sim/core/info.ts infoFields), by asking
 * a probe node in the two roles, master and replica. Fields that exist only in a passing state
 * or once per item are families matched by pattern: `slaveN` (one per replica), `dbN` (one per
 * non-empty database) and the `master_sync_*` progress fields of a transfer in flight.
 */
import { RedisNode } from '../core/node.ts';
import type { Host } from '../core/host.ts';
import { defaultConfig } from '../core/config.ts';
import { infoFields } from '../core/info.ts';

const FAMILIES: readonly RegExp[] = [/^slave\d+$/, /^db\d+$/, /^master_sync_[a-z_]+$/, /^loading_[a-z_]+$/, /^master\d+$/, /^sentinel_[a-z_]+$/];

/** A host that does nothing: the probe node never runs, it is only asked for INFO. */
function probeHost(): Host {
  let hex = 0;
  const noop = (): void => {};
  return {
    nowUs: () => 0,
    unixMs: () => 0,
    randomHex: (chars: number) => (++hex).toString(16).padStart(chars, '0'),
    connect: () => 1,
    send: noop, close: noop,
    fork: () => 1,
    killChild: noop, writeFile: noop, appendFile: noop, fsyncFile: noop,
    readFile: () => null,
    reply: noop, sleep: noop, exit: noop, trace: noop,
    tracing: false,
  } as unknown as Host;
}

let memo: ReadonlySet<string> | null | undefined;

/** The INFO field names of a master and of a replica; null if the probe cannot be built. */
function probedFields(): ReadonlySet<string> | null {
  if (memo !== undefined) return memo;
  try {
    // min-replicas-to-write on: min_slaves_good_slaves is printed only then.
    const node = new RedisNode('probe', probeHost(), { ...defaultConfig(), minReplicasToWrite: 1, minReplicasMaxLagSec: 10 });
    const names = new Set(infoFields(node).keys());
    node.localCommand(1, ['REPLICAOF', '127.0.0.1', '6379']);
    for (const k of infoFields(node).keys()) names.add(k);
    memo = names;
  } catch {
    // A probe that no longer fits the node must not make every scenario invalid.
    memo = null;
  }
  return memo;
}

/** True when some node state prints this INFO field (or the probe could not tell). */
export function isKnownInfoField(field: string): boolean {
  const names = probedFields();
  return names === null || names.has(field) || FAMILIES.some((re) => re.test(field));
}

/** The closest known field, for "did you mean": Redis's own `slave` for `replica` first. */
export function suggestInfoField(field: string): string | null {
  const names = probedFields();
  if (names === null) return null;
  const renamed = field.replace(/replicas?/g, (w) => (w.endsWith('s') ? 'slaves' : 'slave'));
  if (renamed !== field && names.has(renamed)) return renamed;
  let best: string | null = null;
  let bestD = Infinity;
  for (const n of names) {
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
