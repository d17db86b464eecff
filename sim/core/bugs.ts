/**
 * The bug zoo: historical Redis replication and Sentinel bugs (each named by its Redis issue or fixing commit) that can be switched
 * back on, one by one, so a learner can watch them break replication and the fuzzer can prove it
 * finds them. A node built with no bugs (the default) is the correct core. Each bug names the
 * Redis fix that removed it; the core tests `node.bugs.has(name)` at exactly the place the fix
 * changed. Bugs marked `sentinel: true` live in the sentinel process (sim/sentinel tests
 * `s.bugs.has(name)`), and the fuzzer needs sentinels (`--sentinels`) to find them.
 */
export const BUGS = {
  'fullresync-offset-at-psync': {
    fix: '292fec058 (2015)',
    what: '+FULLRESYNC announces the master offset at PSYNC time instead of at the fork, so a replica that waited for a delayed BGSAVE starts from the wrong offset',
  },
  'chained-keeps-backlog': {
    fix: '#2694, c1e94b6b9 (2015)',
    what: 'a replica that full-syncs keeps its backlog and its sub-replicas, so they continue from a history that no longer exists',
  },
  'master-restores-replid': {
    fix: '#4316, c1c99e9f4 (2017)',
    what: "a master restarted from its RDB takes the saved repl-id as its own id, not as replid2, so replicas ahead of the RDB continue into a diverged dataset",
  },
  'no-backlog-after-continue': {
    fix: '#4268, b75ae0bbe (2017)',
    what: 'a replica that booted from its RDB and continued with PSYNC creates no backlog, so it stops counting the stream it applies',
  },
  'proxy-unapplied': {
    fix: '#3899, 22be435ef (2017)',
    what: 'a replica proxies the bytes it received, not the commands it applied: half commands reach its backlog and sub-replicas',
  },
  'sentinel-hello-same-port': {
    fix: '#1394, 6f4fd5576 (2013)',
    what: "a sentinel's hello handler compares the announced master's IP inverted (!strcmp), so a new master on the same port as the old one is not recognised: the other sentinels take the new config epoch but keep the old address",
    sentinel: true,
  },
  'sentinel-epochs-not-persisted': {
    fix: 'ed813863f (2014)',
    what: 'a sentinel does not write current-epoch and leader-epoch to sentinel.conf: restarted, its epoch falls back to the highest config epoch and it may vote a second time in an epoch it already voted in',
    sentinel: true,
  },
} as const satisfies Record<string, { fix: string; what: string; sentinel?: true }>;

export type BugName = keyof typeof BUGS;
export const BUG_NAMES = Object.keys(BUGS) as BugName[];

export function isBugName(s: string): s is BugName {
  return Object.hasOwn(BUGS, s);
}

/** Is the bug in the sentinel process (so finding it needs sentinels)? */
export function isSentinelBug(name: BugName): boolean {
  return (BUGS[name] as { sentinel?: true }).sentinel === true;
}
