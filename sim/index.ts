/**
 * The psync-sim library: `import { simulate, parseScenario, fuzz } from 'psync-sim'`.
 * Everything here is deterministic (no wall clock): the same source and seed give the same
 * result, byte for byte.
 */
import { parseScenario as parse } from './scenario/parser.ts';
import { runScenario } from './scenario/run.ts';
import type { CheckResult, RunResult } from './scenario/run.ts';
import { ScenarioError } from './scenario/errors.ts';
import { runCampaign } from './fuzz/campaign.ts';
import type { CampaignSummary } from './fuzz/campaign.ts';
import type { Stamped } from './trace/events.ts';
import type { Scenario } from './scenario/ast.ts';
import type { BugName } from './core/bugs.ts';
import type { FuzzOptions } from './fuzz/generate.ts';

export { ScenarioError };
export type { CheckResult, RunResult, Stamped, Scenario, BugName, CampaignSummary, FuzzOptions };
export type { TraceEvent } from './trace/events.ts';
export type { FuzzResult } from './fuzz/run.ts';

/** Parse scenario source; throws ScenarioError (file, line, col, message) for invalid source. */
export function parseScenario(source: string, file = '<scenario>'): Scenario {
  return parse(source, file);
}

export interface SimulateOptions {
  /** Overrides the file's `seed`. */
  readonly seed?: string;
  /** Used in error messages (FILE:LINE:COL). */
  readonly file?: string;
  /** Keep every trace event in the result's `trace`. */
  readonly trace?: boolean;
  /** With `trace`: the replication stream too (each propagated command with its offsets, PINGs, ACKs). */
  readonly traceStream?: boolean;
  /** With `trace`: every command a node reads from a network client too (`--trace-level commands`). */
  readonly traceCommands?: boolean;
  /** Historical Redis bugs to switch on (the bug zoo). */
  readonly bugs?: readonly BugName[];
}

export interface SimulateResult extends RunResult {
  /** Every trace event, when `trace: true` was asked for. */
  readonly trace: Stamped[] | null;
}

/** Parse and replay scenario source: every check with its line, text, verdict and what was seen. */
export function simulate(source: string, o: SimulateOptions = {}): SimulateResult {
  const file = o.file ?? '<scenario>';
  const scenario = parse(source, file);
  const trace: Stamped[] | null = o.trace === true ? [] : null;
  const r = runScenario(scenario, { seed: o.seed, file, source, bugs: o.bugs, traceStream: o.traceStream, traceCommands: o.traceCommands, trace: trace === null ? null : (s) => void trace.push(s) });
  return { ...r, trace };
}

export interface FuzzCampaignOptions {
  /** The campaign seed: run i uses `<seed>/<i>` (default '1'). */
  readonly seed?: string;
  /** How many runs (default 100). */
  readonly runs?: number;
  /** Fixed knobs for every run (node bounds, allowed fault kinds, bugs). */
  readonly fixed?: Partial<FuzzOptions>;
  readonly checkDeterminism?: boolean;
}

/** Run a fuzz campaign on this thread; failures are in the summary's `failures`. */
export function fuzz(o: FuzzCampaignOptions = {}): CampaignSummary {
  return runCampaign({
    seed: o.seed ?? '1', runs: o.runs ?? 100, shardIndex: 0, shardCount: 1,
    fixed: o.fixed ?? {}, checkDeterminism: o.checkDeterminism === true,
  });
}
