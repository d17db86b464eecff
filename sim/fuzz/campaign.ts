/**
 * A fuzz campaign: many runs, one after another, seeds `S/0`, `S/1`, ...
 *
 * Theory of operation. A campaign is a pure loop over fuzzOne(): it knows nothing of the
 * terminal, files or the wall clock. The CLI (sim/cli/fuzz.ts) passes an `onResult` callback
 * for progress and failure output, and a `shouldStop` callback for `--time`. Sharding
 * (`--shard i/n`, for a CI matrix or Kubernetes indexed jobs with no coordinator) takes run
 * indices i, i+n, i+2n, ..., so the n shards of a campaign together run exactly the seeds of
 * the unsharded campaign, and each seed gives the same run wherever it runs. With
 * `checkDeterminism` each seed runs twice (determinism.ts) and a trace difference fails it.
 *
 * runCampaign runs sequentially on one thread; `psync-sim fuzz --workers N` deals run indices to
 * worker threads instead (sim/cli/fuzz.ts), each calling campaignRun().
 */
import { assert } from '../assert.ts';
import { fuzzOne } from './run.ts';
import { fuzzTwice } from './determinism.ts';
import type { FailureKind, FuzzResult } from './run.ts';
import type { FuzzOptions } from './generate.ts';
import type { CauseKind } from '../clients/ledger.ts';
import { runVariants } from './variants.ts';
import { summarize } from '../scenario/variants.ts';
import { median, percentile } from '../stats.ts';
import type { RunFigures, Variant, VariantSummary } from '../scenario/variants.ts';

/** A row of the campaign's variant table: compare's row without the per-run figures. */
export type VariantRow = Omit<VariantSummary, 'runs'>;

/** Lost acknowledged writes over the runs that had clients: a distribution, not a verdict. */
export interface LossSummary {
  readonly runs: number;
  readonly acked: number;
  readonly lost: number;
  /** Runs that ended without a single master (their losses are not judged). */
  readonly unjudged: number;
  /** Lost writes per judged run: median and p95 as sim/stats.ts defines them (the same as compare's). */
  readonly perRun: { readonly median: number; readonly p95: number; readonly max: number; readonly runsWithLoss: number };
  readonly byCause: Record<CauseKind, number>;
  /** How many judged runs lost 0, 1-10, 11-100, 101-1000, over 1000 writes (LOSS_RANGES). */
  readonly runsByLost: readonly number[];
  /** Per cause, how many runs lost at least one write to it. */
  readonly runsByCause: Record<CauseKind, number>;
  /** Lost writes that broke WAIT's promise (each such run is also a failure). */
  readonly waitPromiseBroken: number;
}

/** The buckets of LossSummary.runsByLost: [label, largest count in it]. */
export const LOSS_RANGES: ReadonlyArray<readonly [string, number]> = [['0', 0], ['1-10', 10], ['11-100', 100], ['101-1000', 1000], ['>1000', Infinity]];

export interface CampaignOptions {
  /** The campaign's seed: run k uses the fuzz seed `${seed}/${k}`. */
  readonly seed: string;
  /** How many runs (over all shards), or null to run until shouldStop says so. */
  readonly runs: number | null;
  /** This shard's index, 0 ≤ shardIndex < shardCount; 0 of 1 runs everything. */
  readonly shardIndex: number;
  readonly shardCount: number;
  /** Knobs fixed for every run (bounds such as nodesMin/nodesMax, faultKindsAllowed). */
  readonly fixed: Partial<FuzzOptions>;
  /** Run every seed twice and fail it as 'nondeterminism' when the traces differ. */
  readonly checkDeterminism?: boolean;
  /** `--variant`: every story also runs under each (sim/fuzz/variants.ts); needs `fixed.clients`. */
  readonly variants?: readonly Variant[];
}

export const campaignDefault: CampaignOptions = { seed: '1', runs: 100, shardIndex: 0, shardCount: 1, fixed: {} };

export interface CampaignSummary {
  readonly runs: number;
  readonly failures: FuzzResult[];
  /** Per failure kind, how many runs ended that way. */
  readonly byKind: Record<FailureKind, number>;
  /** Coverage key → number of runs that hit it. */
  readonly coverage: Map<string, number>;
  /** Fault kind → number of runs that used it. */
  readonly faultKinds: Map<string, number>;
  readonly virtualUs: number;
  readonly events: number;
  /** Present when some run had clients (`--clients`). */
  readonly losses?: LossSummary;
  /** With `variants`: the compare table over every story, base first. */
  readonly variants?: VariantRow[];
}

export interface CampaignHooks {
  /** Called after every run, in order. */
  readonly onResult?: (r: FuzzResult, index: number) => void;
  /** Asked before every run; true ends the campaign (the CLI's --time). */
  readonly shouldStop?: () => boolean;
}

/** The fuzz seed of run `index` of a campaign. */
export function runSeed(seed: string, index: number): string {
  return `${seed}/${index}`;
}

/** Adds up run results into a CampaignSummary (one thread, or many workers' results). */
export class CampaignTally {
  private readonly failures: FuzzResult[] = [];
  private readonly byKind: Record<FailureKind, number> = { invariant: 0, liveness: 0, crash: 0, nondeterminism: 0, promise: 0 };
  private readonly coverage = new Map<string, number>();
  private readonly faultKinds = new Map<string, number>();
  private runs = 0;
  private virtualUs = 0;
  private events = 0;
  private lossRuns = 0;
  private acked = 0;
  private unjudged = 0;
  private readonly lostPerRun: number[] = [];
  private waitPromiseBroken = 0;
  private readonly byCause: Record<CauseKind, number> = { promotion: 0, 'full-sync': 0, crash: 0, poweroff: 0, unexplained: 0 };
  private readonly runsByCause: Record<CauseKind, number> = { promotion: 0, 'full-sync': 0, crash: 0, poweroff: 0, unexplained: 0 };
  /** Per variant (base first), every run's row figures; empty without --variant. */
  private readonly figures: Array<{ variant: Variant; runs: RunFigures[] }>;

  constructor(variants: readonly Variant[] = []) {
    this.figures = variants.length === 0 ? [] : [{ name: 'base', statements: [] }, ...variants].map((variant) => ({ variant, runs: [] }));
  }

  add(r: FuzzResult): void {
    this.runs++;
    this.virtualUs += r.virtualUs;
    this.events += r.events;
    for (const c of r.coverage) this.coverage.set(c, (this.coverage.get(c) ?? 0) + 1);
    for (const k of r.faultKindsUsed) this.faultKinds.set(k, (this.faultKinds.get(k) ?? 0) + 1);
    if (r.losses !== undefined) {
      this.lossRuns++;
      this.acked += r.losses.acked;
      if (r.losses.lost === null) this.unjudged++;
      else this.lostPerRun.push(r.losses.lost);
      for (const k of Object.keys(this.byCause) as CauseKind[]) {
        this.byCause[k] += r.losses.byCause[k];
        if (r.losses.byCause[k] > 0) this.runsByCause[k]++;
      }
      this.waitPromiseBroken += r.losses.waitPromiseBroken;
    }
    if (r.failure !== undefined) {
      this.failures.push(r);
      this.byKind[r.failure.kind]++;
    }
    if (this.figures.length > 0) {
      // Only the table and the failures see a variant's run: coverage, fault kinds and the loss
      // distribution above stay the generated stories' own.
      if (r.figures !== undefined) this.figures[0]!.runs.push(r.figures);
      for (const v of r.variantRuns ?? []) {
        const row = this.figures.find((f) => f.variant.name === v.variant?.name);
        if (row !== undefined && v.figures !== undefined) row.runs.push(v.figures);
        if (v.failure !== undefined) {
          this.failures.push(v);
          this.byKind[v.failure.kind]++;
        }
      }
    }
  }

  summary(): CampaignSummary {
    const { runs, failures, byKind, coverage, faultKinds, virtualUs, events } = this;
    const base = { runs, failures, byKind, coverage, faultKinds, virtualUs, events };
    const variants = this.figures.length > 0 ? { variants: this.figures.map((f) => variantRow(f.variant, f.runs)) } : {};
    if (this.lossRuns === 0) return { ...base, ...variants };
    const sorted = [...this.lostPerRun].sort((a, b) => a - b);
    const losses: LossSummary = {
      runs: this.lossRuns,
      acked: this.acked,
      lost: sorted.reduce((a, b) => a + b, 0),
      unjudged: this.unjudged,
      perRun: { median: median(sorted), p95: percentile(sorted, 95), max: sorted.length ? sorted[sorted.length - 1]! : 0, runsWithLoss: sorted.filter((n) => n > 0).length },
      byCause: { ...this.byCause },
      runsByLost: LOSS_RANGES.map(([, hi], i) => sorted.filter((n) => n <= hi && (i === 0 || n > LOSS_RANGES[i - 1]![1])).length),
      runsByCause: { ...this.runsByCause },
      waitPromiseBroken: this.waitPromiseBroken,
    };
    return { ...base, losses, ...variants };
  }
}

/** compare's row over a campaign's runs (order does not matter: totals, median, p95, max). */
function variantRow(v: Variant, runs: RunFigures[]): VariantRow {
  const { runs: _perRun, ...row } = summarize(v, runs);
  return row;
}

export function runCampaign(o: CampaignOptions, hooks: CampaignHooks = {}): CampaignSummary {
  assert(Number.isSafeInteger(o.shardCount) && o.shardCount >= 1, `campaign: bad shard count ${o.shardCount}`);
  assert(Number.isSafeInteger(o.shardIndex) && o.shardIndex >= 0 && o.shardIndex < o.shardCount, `campaign: bad shard ${o.shardIndex}/${o.shardCount}`);
  assert(o.runs === null || (Number.isSafeInteger(o.runs) && o.runs >= 0), `campaign: bad run count ${o.runs}`);
  assert(o.runs !== null || hooks.shouldStop !== undefined, 'campaign: no run count and no stop condition');
  const tally = new CampaignTally(o.variants);
  for (let index = o.shardIndex; o.runs === null || index < o.runs; index += o.shardCount) {
    if (hooks.shouldStop?.()) break;
    const r = campaignRun(o, index);
    tally.add(r);
    hooks.onResult?.(r, index);
  }
  return tally.summary();
}

/**
 * Run `index` of campaign `o` (its seed is runSeed(o.seed, index)): once, or twice with
 * checkDeterminism, then under every variant. The same result on any thread, in any order: the
 * worker threads (sim/cli/fuzz.ts) are dealt run indices and call this.
 */
export function campaignRun(o: CampaignOptions, index: number): FuzzResult {
  const seed = runSeed(o.seed, index);
  const r0 = o.checkDeterminism === true ? fuzzTwice(seed, o.fixed) : fuzzOne(seed, o.fixed);
  // Variants run here, after their base, in the same worker: deterministic, and no extra jobs.
  return o.variants !== undefined && o.variants.length > 0 ? { ...r0, variantRuns: runVariants(r0, o.variants) } : r0;
}
