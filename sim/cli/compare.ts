/**
 * `psync-sim compare FILE --seeds A..B --variant 'NAME: STATEMENT; STATEMENT' ...`: the same
 * story on the same seeds under each variant, in one table: what clients got acknowledged, what
 * was lost (total, and per run the median, p95 and max), failed and unknown writes, full syncs,
 * failovers (promotions) and the time the story took to settle.
 *
 * A variant's statements are header lines added before the file's first `at`
 * (`config * min-replicas-to-write 1`, `client * timeout 500ms`, ...), plus one statement of
 * compare's own: `wait N TIMEOUT` adds `wait N TIMEOUT` to every `load ... from CLIENT` of the
 * story. The variant `base` (the file as written) always comes first. A check that fails under
 * a variant is counted, not fatal: variants exist to change outcomes.
 */
import { readFileSync } from 'node:fs';
import { parseScenario } from '../scenario/parser.ts';
import { ScenarioError } from '../scenario/errors.ts';
import type { Scenario } from '../scenario/ast.ts';
import { runScenario } from '../scenario/run.ts';
import { AssertionError } from '../assert.ts';
import { CompareError, parseVariant, renderVariantTable, runFigures, summarize, variantScenario } from '../scenario/variants.ts';
import type { RunFigures, Variant, VariantSummary } from '../scenario/variants.ts';

export { CompareError, parseVariant, summarize, variantScenario };
export type { RunFigures, Variant, VariantSummary };

/** `A..B` (inclusive) or a single seed. */
export function parseSeeds(text: string): string[] {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(text.trim());
  if (m === null) throw new CompareError(`bad --seeds '${text}' (expected A..B, e.g. 1..20, or one seed)`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (b < a) throw new CompareError(`bad --seeds '${text}': ${b} is below ${a}`);
  if (b - a >= 10000) throw new CompareError(`--seeds '${text}' names more than 10000 seeds`);
  return Array.from({ length: b - a + 1 }, (_, i) => String(a + i));
}

export function runVariant(s: Scenario, file: string, text: string, seed: string): RunFigures {
  let r;
  try {
    r = runScenario(s, { seed, trace: null, file, source: text });
  } catch (e) {
    if (e instanceof AssertionError) throw new CompareError(`${file} seed ${seed}: internal error (a psync-sim bug, please report it): ${e.message}`);
    if (e instanceof ScenarioError) throw new CompareError(e.format());
    throw e;
  }
  return runFigures(r, seed);
}

/** Every variant (base first) on every seed. The base file must parse. */
export function compareVariants(text: string, file: string, variants: Variant[], seeds: string[]): VariantSummary[] {
  const all: Variant[] = [{ name: 'base', statements: [] }, ...variants];
  const names = new Set<string>();
  for (const v of all) {
    if (names.has(v.name)) throw new CompareError(`two variants are named '${v.name}'`);
    names.add(v.name);
  }
  const scenarios = all.map((v) => (v.statements.length === 0 ? parseBase(text, file) : variantScenario(text, file, v)));
  return all.map((v, i) => summarize(v, seeds.map((seed) => runVariant(scenarios[i]!, file, text, seed))));
}

function parseBase(text: string, file: string): Scenario {
  try {
    return parseScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) throw new CompareError(e.format());
    throw e;
  }
}

export function renderCompare(rows: VariantSummary[], seeds: string[]): string {
  return renderVariantTable(rows, `${seeds.length} seed${seeds.length === 1 ? '' : 's'} (${seeds[0]}..${seeds[seeds.length - 1]})`);
}

export interface CompareCommandOptions {
  file: string;
  seeds: string;
  variants: string[];
  json: boolean;
}

export function compareCommand(o: CompareCommandOptions): number {
  let text: string;
  try {
    text = readFileSync(o.file, 'latin1');
  } catch (e) {
    process.stderr.write(`psync-sim: cannot read ${o.file}: ${(e as Error).message}\n`);
    return 2;
  }
  let rows: VariantSummary[];
  let seeds: string[];
  try {
    seeds = parseSeeds(o.seeds);
    rows = compareVariants(text, o.file, o.variants.map(parseVariant), seeds);
  } catch (e) {
    if (!(e instanceof CompareError)) throw e;
    process.stderr.write(`psync-sim: ${e.message}\n`);
    return 2;
  }
  if (o.json) process.stdout.write(JSON.stringify({ file: o.file, seeds, variants: rows }) + '\n');
  else process.stdout.write(renderCompare(rows, seeds) + '\n');
  return 0;
}
