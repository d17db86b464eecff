/**
 * Determinism is a property of the whole program : nothing under sim/ but sim/real
 * and the CLI reads the wall clock, Math.random, real timers or the environment; and the same
 * file and seed give the same trace, byte for byte.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const FORBIDDEN = /Date\.now|new Date\(|Math\.random|performance\.now|setTimeout|setInterval|setImmediate|process\.env|process\.hrtime/;

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('determinism: no wall clock, randomness, timers or environment in the simulation', () => {
  const root = join(import.meta.dirname, '..', 'sim');
  const files = tsFiles(root)
    .map((f) => relative(join(root, '..'), f))
    .filter((f) => !f.startsWith('sim/real/') && !f.startsWith('sim/cli'));

  it('scans a real tree', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(files).toContain('sim/core/node.ts');
  });

  for (const f of files) {
    it(`${f} has none`, () => {
      const lines = readFileSync(join(root, '..', f), 'utf8').split('\n');
      const hits = lines
        .map((text, i) => ({ text, line: i + 1 }))
        .filter(({ text }) => !/^\s*(\*|\/\*)/.test(text)) // doc comments may name what they warn against
        .filter(({ text }) => FORBIDDEN.test(text.replace(/\/\/.*$/, '')) && !/determinism-ok/.test(text));
      expect(hits.map((h) => `${f}:${h.line}: ${h.text.trim()}`)).toEqual([]);
    });
  }

  it('the scan catches what it should (it can fail)', () => {
    expect(FORBIDDEN.test('const t = Date.now();')).toBe(true);
    expect(FORBIDDEN.test('Math.random()')).toBe(true);
    expect(FORBIDDEN.test('process.env.HOME')).toBe(true);
    expect(FORBIDDEN.test('engine.nowUs')).toBe(false);
  });
});

describe('determinism: the progress hook of a long run changes nothing', () => {
  it('the same trace with and without onProgress, and progress moves forward', async () => {
    const { parseScenario } = await import('../sim/scenario/parser.ts');
    const { runScenario } = await import('../sim/scenario/run.ts');
    const { renderStamped } = await import('../sim/trace/render.ts');
    const src = 'nodes m r1\nat 0s\n  r1: REPLICAOF m 6379\nawait converged within 10s\nat +1s\n  load m 4000 over 2s\nrun 500ms\nawait converged within 10s\nexpect r1: DBSIZE => 4000\n';
    const traced = (onProgress?: (p: { virtualUs: number; events: number }) => void): string[] => {
      const lines: string[] = [];
      const r = runScenario(parseScenario(src, 'p.scn'), { trace: (s) => lines.push(renderStamped(s)), source: src, ...(onProgress ? { onProgress } : {}) });
      expect(r.failed).toBe(0);
      return lines;
    };
    const seen: Array<{ virtualUs: number; events: number }> = [];
    const withHook = traced((p) => seen.push(p));
    expect(withHook).toEqual(traced());
    expect(seen.length).toBeGreaterThan(10);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.virtualUs).toBeGreaterThanOrEqual(seen[i - 1]!.virtualUs);
      expect(seen[i]!.events).toBeGreaterThanOrEqual(seen[i - 1]!.events);
    }
  }, 60_000);
});
