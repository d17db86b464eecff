/**
 * Golden trace hashes: every scenario file's trace at its default seed, hashed as
 * test/scenarios.test.ts hashes it, must equal the hash recorded in test/trace-hashes.json. A
 * change meant to be invisible (a speed-up, a refactor) proves it here; a change that alters
 * traces on purpose regenerates the file deliberately:
 *
 *   UPDATE_TRACE_HASHES=1 npx vitest run test/trace-hashes.test.ts
 *
 * and the diff of the JSON file then names exactly the scenarios whose traces changed.
 */
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import { jsonLine } from '../sim/trace/render.ts';
import { expandFiles } from '../sim/cli/run.ts';

const root = join(import.meta.dirname, '..');
const goldenPath = join(root, 'test', 'trace-hashes.json');
const update = process.env.UPDATE_TRACE_HASHES === '1';
const files = expandFiles([join(root, 'scenarios')]).map((f) => f.slice(root.length + 1));

function traceHash(file: string): string {
  const text = readFileSync(join(root, file), 'latin1');
  const hash = createHash('sha256');
  runScenario(parseScenario(text, file), {
    file,
    source: text,
    trace: (s) => {
      hash.update(jsonLine(s));
      hash.update('\n');
    },
  });
  return hash.digest('hex');
}

describe('golden trace hashes (test/trace-hashes.json)', () => {
  it('every scenario file traces to its recorded hash', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    const actual: Record<string, string> = {};
    for (const f of files) actual[f] = traceHash(f);
    if (update) {
      writeFileSync(goldenPath, JSON.stringify(actual, null, 2) + '\n');
      return;
    }
    expect(existsSync(goldenPath), 'test/trace-hashes.json is missing: run with UPDATE_TRACE_HASHES=1').toBe(true);
    const golden = JSON.parse(readFileSync(goldenPath, 'utf8')) as Record<string, string>;
    const changed = files.filter((f) => golden[f] !== undefined && golden[f] !== actual[f]);
    const added = files.filter((f) => golden[f] === undefined);
    const removed = Object.keys(golden).filter((f) => actual[f] === undefined);
    const report = [
      ...changed.map((f) => `changed: ${f}`),
      ...added.map((f) => `not recorded: ${f}`),
      ...removed.map((f) => `recorded but gone: ${f}`),
    ];
    expect(report, 'traces differ from test/trace-hashes.json (UPDATE_TRACE_HASHES=1 regenerates it on purpose)').toEqual([]);
  }, 600_000);

  it('the hash sees the trace (the comparison above can fail)', () => {
    const f = files.find((x) => x.includes('01-first-sync'))!;
    const golden = JSON.parse(readFileSync(goldenPath, 'utf8')) as Record<string, string>;
    expect(golden[f]).toMatch(/^[0-9a-f]{64}$/);
    const other = files.find((x) => x.includes('04-partial-resync'))!;
    expect(golden[other]).not.toBe(golden[f]);
  });
});
