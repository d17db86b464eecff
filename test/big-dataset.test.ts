/**
 * Datasets past V8's default heap (issue 12, "10M keys complete"): the bench's full-sync figure
 * runs on a worker thread with a heap sized from the machine (sim/cli/bench-full-sync.ts), and
 * `psync-sim run --max-heap-mb N` reruns a run in a child Node with a larger heap
 * (sim/cli/max-heap.ts). What is checked is the path and its lines, never a timing.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { benchFullSyncOnWorker, fullSyncHeapMb } from '../sim/cli/bench-full-sync.ts';
import { parseBenchArgs } from '../sim/cli/bench.ts';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'psync-sim-big-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MiB = 2 ** 20;
const STACK = /\n\s+at .*(\.[jt]s|node:)/;

function node(args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; signal: NodeJS.Signals | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [...args], {
    cwd: root, encoding: 'utf8', timeout: 170_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...env },
  });
  return { status: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

describe('bench: the full-sync figure on a worker thread', { timeout: 180_000 }, () => {
  it('the heap limit: 3/4 of the machine, never below this thread\'s own limit', () => {
    expect(fullSyncHeapMb(24 * 1024 * MiB, 4144 * MiB)).toBe(18 * 1024);
    expect(fullSyncHeapMb(4 * 1024 * MiB, 4144 * MiB)).toBe(4144);
    expect(fullSyncHeapMb()).toBeGreaterThanOrEqual(Math.floor(getHeapStatistics().heap_size_limit / MiB));
  });

  it('runs the simulation there (from source, through the .js shim) and reports its figures and limit', async () => {
    const f = await benchFullSyncOnWorker(2000, 100, 512);
    expect(f.heapMb).toBe(512);
    expect(f.virtualSyncS).toBeGreaterThan(0);
    expect(f.syncCpuS).toBeGreaterThan(0);
    // The RDB holds every key and its 100-byte value.
    expect(f.rdbBytesPerKey).toBeGreaterThan(100);
    expect(Number.isFinite(f.peakBytesPerKey)).toBe(true);
  });

  it('a worker that outgrows its heap is one line, not a V8 fatal error', async () => {
    const e = await benchFullSyncOnWorker(1_000_000, 100, 16).then(() => null, (err: Error) => err);
    expect(e).toBeInstanceOf(Error);
    expect(e!.message).toBe('the full-sync worker ran out of its 16 MB heap at 1,000,000 keys (ERR_WORKER_OUT_OF_MEMORY)');
  });

  it('--full-sync-heap-mb: parsed, checked', () => {
    expect(parseBenchArgs([]).fullSyncHeapMb).toBeNull();
    expect(parseBenchArgs(['--full-sync-heap-mb', '9000']).fullSyncHeapMb).toBe(9000);
    expect(parseBenchArgs(['--full-sync-heap-mb=700']).fullSyncHeapMb).toBe(700);
    expect(() => parseBenchArgs(['--full-sync-heap-mb', '0'])).toThrow('--full-sync-heap-mb needs a positive integer');
    expect(() => parseBenchArgs(['--full-sync-heap-mb'])).toThrow('--full-sync-heap-mb needs a positive integer, got nothing');
  });

  const small = ['--full-sync-keys', '2000', '--burst-writes', '1000', '--fuzz-runs', '1', '--no-real', '--targets-only'];

  it('node dist/bench.js: the figure\'s line names the worker and its limit', () => {
    const r = node(['dist/bench.js', ...small, '--full-sync-heap-mb', '777']);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    const line = r.out.split('\n').find((l) => l.startsWith('2. full sync'));
    expect(line).toMatch(/^2\. full sync, 2,000 keys × 100 B, disk-based: sim [\d.]+ s wall \([\d.]+ s CPU, [\d.]+ virtual s; DEBUG POPULATE [\d.]+ s before; on a worker, heap limit 777 MB\), peak memory -?[\d,]+ B\/key/);
    expect(r.out.split('\n').filter((l) => /^\d\. /.test(l)).map((l) => l[0])).toEqual(['1', '2', '3']);
  });

  it('node dist/bench.js: the worker out of its heap is one line and exit 3', () => {
    const r = node(['dist/bench.js', ...small.slice(2), '--full-sync-keys', '1000000', '--full-sync-heap-mb', '16']);
    expect(r.status).toBe(3);
    expect(r.out + r.err).not.toMatch(STACK);
    expect(r.err.split('\n').filter(Boolean)).toEqual([
      'psync-sim bench: internal error (a psync-sim bug, please report it): Error: the full-sync worker ran out of its 16 MB heap at 1,000,000 keys (ERR_WORKER_OUT_OF_MEMORY)',
    ]);
    expect(r.out).toMatch(/^1\. write burst/m);
    expect(r.out).not.toMatch(/^2\. /m);
  });
});

describe('psync-sim run --max-heap-mb', { timeout: 180_000 }, () => {
  // 1.5M keys in one process: well past a 64 MB heap (V8's limit then is 112 MB with the young
  // generation), well within 1,000 MB.
  const scn = join(dir, 'big.scn');
  writeFileSync(scn, 'title  a dataset past a small heap\nnodes  m\nat 0s\n  expect m: DEBUG POPULATE 1500000 => OK\n  expect m: DBSIZE => 1500000\n');
  const small = { NODE_OPTIONS: '--max-old-space-size=64' };

  it('a bad value is one line, exit 2', () => {
    for (const v of ['abc', '0', '10', '1.5']) {
      const r = node(['sim/psync-sim.js', 'run', scn, '--max-heap-mb', v]);
      expect(r.status, v).toBe(2);
      expect(r.err.split('\n')[0], v).toMatch(/^psync-sim: --max-heap-mb: expected a whole number of MB, at least 64, got /);
      expect(r.out + r.err, v).not.toMatch(STACK);
    }
  });

  it('without it the dataset kills Node (V8\'s abort); with it the run passes, same output as in place', () => {
    const without = node(['sim/psync-sim.js', 'run', scn], small);
    expect(without.signal).toBe('SIGABRT');
    expect(without.err).toContain('heap out of memory');
    const rerun = node(['sim/psync-sim.js', 'run', scn, '--max-heap-mb', '1000', '--quiet'], small);
    expect(rerun.err).toBe('');
    expect(rerun.status).toBe(0);
    expect(rerun.out).toBe('2 passed, 0 failed\n');
    // A process that already has the heap runs in place: the same output, the same status.
    const inPlace = node(['--max-old-space-size=1000', 'sim/psync-sim.js', 'run', scn, '--max-heap-mb', '1000', '--quiet'], small);
    expect(inPlace).toEqual(rerun);
  });

  it('a heap still too small ends with one line saying so, and the status of the abort', () => {
    const r = node(['sim/psync-sim.js', 'run', scn, '--max-heap-mb', '113'], small);
    // The child's abort (SIGABRT) as a shell reports it: 128 + 6.
    expect(r.status).toBe(134);
    expect(r.err).toContain('heap out of memory');
    expect(r.err.trimEnd().split('\n').at(-1)).toBe('psync-sim: the run was aborted by V8 (above: most likely out of its 113 MB heap); give a larger --max-heap-mb');
  });
});
