/**
 * Every scenario file under scenarios/ passes, and replaying it gives the same trace, byte for
 * byte (the determinism contract): each file runs twice and the trace hashes are compared.
 */
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { RunResult } from '../sim/scenario/run.ts';
import { jsonLine } from '../sim/trace/render.ts';
import { expandFiles } from '../sim/cli/run.ts';

const root = join(import.meta.dirname, '..');
const files = expandFiles([join(root, 'scenarios')]).map((f) => f.slice(root.length + 1));

function runTraced(file: string, seed?: string): { result: RunResult; hash: string; lines: number } {
  const text = readFileSync(join(root, file), 'latin1');
  const scenario = parseScenario(text, file);
  const hash = createHash('sha256');
  let lines = 0;
  const result = runScenario(scenario, {
    seed,
    file,
    source: text,
    trace: (s) => {
      hash.update(jsonLine(s));
      hash.update('\n');
      lines++;
    },
  });
  return { result, hash: hash.digest('hex'), lines };
}

describe('scenarios', () => {
  it('there are scenario files to run', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  for (const file of files) {
    it(`${file} passes, and replays to the same trace`, () => {
      const a = runTraced(file);
      const failures = a.result.checks.filter((c) => !c.ok).map((c) => `line ${c.line}: ${c.text} — ${c.detail}`);
      expect(failures).toEqual([]);
      expect(a.result.checks.length).toBeGreaterThan(0);
      const b = runTraced(file);
      expect(b.lines).toBe(a.lines);
      expect(b.hash).toBe(a.hash);
    }, 60_000);
  }
});

describe('determinism: the trace hash sees the seed', () => {
  it('another seed gives another trace (the comparison above can fail)', () => {
    const file = files.find((f) => f.includes('01-first-sync'))!;
    const a = runTraced(file, '1');
    const b = runTraced(file, '2');
    expect(a.hash).not.toBe(b.hash);
    expect(a.result.failed + b.result.failed).toBe(0);
  });
});
