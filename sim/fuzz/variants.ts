/**
 * `psync-sim fuzz --clients --variant 'NAME: STATEMENT; STATEMENT'`: every generated story runs
 * again under each variant, right after its base run and in the same worker, so a campaign
 * compares policies (min-replicas, WAIT, sentinel timings) on identical fault schedules.
 *
 * A variant's story is built exactly as `psync-sim compare` builds one (sim/scenario/variants.ts
 * variantScenario: the statements go before the first `at` of the printed story), then executed
 * by executeGenerated like any generated story, so its failure file replays with `psync-sim run`
 * and shrinks like any other.
 *
 * What counts as a failure under a variant:
 *   - an invariant, a crash or a broken WAIT promise: always. No policy excuses them.
 *   - liveness (the story's final awaits did not hold): only when the base run of the same story
 *     passed every check. Then the variant itself kept the group from converging after the faults
 *     healed (a real finding about the policy, or a bug). When the base run failed too, the story
 *     is already reported; the variant's run is counted in the table (`checks failed`, `settle`
 *     never) and not reported twice.
 *   - changed outcomes (fewer lost writes, more failed writes, other failovers): never. They are
 *     the table's figures.
 * A variant whose statements do not apply to one story (the scenario language refuses them) is
 * reported as a crash of that story's variant run: the CLI checks every variant against the
 * campaign's first story before running, so this needs a statement that some stories refuse.
 */
import type { Variant } from '../scenario/variants.ts';
import { CompareError, variantScenario } from '../scenario/variants.ts';
import { executeGenerated, resultStem, scenarioFileText } from './run.ts';
import type { FuzzResult } from './run.ts';
import { optionsComment } from './generate.ts';

/** The header comments of a variant run's file: the options, then the variant. */
function variantHeader(base: FuzzResult, v: Variant): string {
  return optionsComment(base.seed, base.options, base.faultKindsUsed, `${resultStem({ seed: base.seed, variant: v })}.scn`) + `# variant ${v.name}: ${v.statements.join('; ')}\n`;
}

/** The base story under each variant, in order; each result carries `variant`. */
export function runVariants(base: FuzzResult, variants: readonly Variant[]): FuzzResult[] {
  return variants.map((v) => runOneVariant(base, v));
}

function runOneVariant(base: FuzzResult, v: Variant): FuzzResult {
  const file = `${resultStem({ seed: base.seed, variant: v })}.scn`;
  const header = variantHeader(base, v);
  let scenario;
  try {
    // The base file's text (header comments and all), so any error's line is that file's.
    scenario = variantScenario(scenarioFileText({ ...base, failure: undefined }), file, v, false);
  } catch (e) {
    if (!(e instanceof CompareError)) throw e;
    const detail = `variant '${v.name}' does not apply to this story: ${e.message}`;
    return { ...base, variant: v, header, variantRuns: undefined, losses: undefined, figures: undefined, ok: false, failure: { kind: 'crash', detail }, virtualUs: 0, events: 0 };
  }
  const r = executeGenerated(base.seed, scenario, base.options, base.faultKindsUsed, undefined, { file, header });
  const out: FuzzResult = { ...r, variant: v };
  if (r.failure?.kind === 'liveness' && !base.ok) {
    // Base failed this story already: the variant's run is a figure, not a second report.
    const { failure: _dropped, ...rest } = out;
    return { ...rest, ok: true };
  }
  return out;
}
