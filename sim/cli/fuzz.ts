/**
 * `psync-sim fuzz [--runs N] [--seed S] [--time DUR] [--shard i/n] [--faults kinds]
 *  [--nodes a..b] [--out DIR] [--json] [--no-shrink] [--shrink-runs N] [--check-determinism]
 *  [--clients [--variant 'NAME: STATEMENT; STATEMENT']...]`:
 * a fuzz campaign with progress, a coverage summary, and every failure written as
 * `<out>/<seed>.scn`, shrunk (sim/fuzz/shrink.ts) into `<out>/<seed>.min.scn`, with the one-line
 * replay command of the smaller file. `--check-determinism` runs every seed twice. `--variant`
 * runs every story again under each variant (sim/fuzz/variants.ts) and ends the summary with
 * compare's table; a variant run's failure is reported like any other, as `<seed>.<NAME>`.
 *
 * The wall clock (runs/s, --time) and the terminal live here, never in sim/fuzz. Progress is a
 * self-rewriting line on stderr when it is a terminal (a bar, runs, failures, the shrink in
 * progress) and a plain line every few seconds on stdout otherwise (CI logs); with --json,
 * stdout carries one JSON object per failure and a final summary object instead. Failures are
 * shrunk one at a time on a thread of their own (shrink-queue.ts) while the campaign goes on;
 * a shrunk failure's `.min.scn` and replay line are printed when its shrink ends.
 * Exit status: 0 clean, 1 a run failed, 2 bad arguments.
 */
import { mkdirSync, writeFileSync, accessSync, existsSync, statSync, constants as fsConstants } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeChalk } from './run.ts';
import { runCampaign, campaignDefault, CampaignTally, LOSS_RANGES } from '../fuzz/campaign.ts';
import { Worker } from 'node:worker_threads';
import { BUG_NAMES, isBugName, isSentinelBug } from '../core/bugs.ts';
import type { BugName } from '../core/bugs.ts';
import type { CampaignOptions, CampaignSummary } from '../fuzz/campaign.ts';
import { ALL_FAULT_KINDS, FAULT_KINDS, SENTINEL_FAULT_KINDS, isFaultKind, isSentinelFaultKind } from '../fuzz/generate.ts';
import type { FaultKind, FuzzOptions } from '../fuzz/generate.ts';
import { COVERAGE_KEYS, COVERAGE_REQUIRED, SENTINEL_COVERAGE_KEYS, SENTINEL_COVERAGE_REQUIRED, resultStem, scenarioFileText } from '../fuzz/run.ts';
import type { FuzzFailure, FuzzResult } from '../fuzz/run.ts';
import { ShrinkQueue, minFilePath, shrinkToText } from './shrink-queue.ts';
import type { ShrinkJob } from './shrink-queue.ts';
import { LiveLine, progressBar } from './progress.ts';
import { failureSignature, shrinkBudgetDefault } from '../fuzz/shrink.ts';
import type { ShrinkProgress } from '../fuzz/shrink.ts';
import { EXIT, UsageError, isInterrupted, onInterrupt, shownNumber } from './exit.ts';
import { headerRecord, JSON_SCHEMA_VERSION } from './records.ts';
import { formatDurationUs, parseDurationUs } from '../scenario/units.ts';
import { CompareError, parseVariant, renderVariantTable, variantScenario } from '../scenario/variants.ts';
import type { Variant } from '../scenario/variants.ts';
import { generateScenario } from '../fuzz/generate.ts';
import { printScenario } from '../scenario/printer.ts';
import { runSeed } from '../fuzz/campaign.ts';

export interface FuzzCommandOptions {
  runs?: number;
  seed?: string;
  /** Wall-clock budget, a duration such as `30s` or `5m`. */
  time?: string;
  /** `i/n`: this machine runs every n-th seed starting at i. */
  shard?: string;
  /** Fault kinds to draw from, separated by commas or spaces (default: all). */
  faults?: string;
  /** `a..b` (or `a`): node count bounds. */
  nodes?: string;
  /** Where failures are written (default `fuzz-failures`). */
  out?: string;
  json?: boolean;
  /** Historical Redis bugs to switch on (the bug zoo, sim/core/bugs.ts). */
  bugs?: string[];
  /** `--clients`: loads go through a networked client; the summary shows the lost writes by cause. */
  clients?: boolean;
  /** `--sentinels`: sentinels monitor the nodes; sentinel faults, `settled` at the end, sentinel coverage. */
  sentinels?: boolean;
  /** `--variant 'NAME: STATEMENT; STATEMENT'` (repeatable, needs --clients): every story also runs under each. */
  variants?: string[];
  /** Worker threads (default 1 here; the CLI defaults to the machine's cores). */
  workers?: number;
  /** Shrink failures and write `<seed>.min.scn` too (default true; `--no-shrink` turns it off). */
  shrink?: boolean;
  /** Shrink every failure; by default only the first of each signature (the others are copies). */
  shrinkAll?: boolean;
  /** Run on worker threads even with one worker, so SIGINT is seen between runs (the CLI). */
  interruptible?: boolean;
  /** Most runs one shrink may spend (default 300). */
  shrinkRuns?: number;
  /** Run every seed twice and report the first trace event where the runs differ. */
  checkDeterminism?: boolean;
  /** Where to write; defaults to process.stdout / process.stderr (tests pass collectors). */
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
  /** Draw the live progress line on `stderr` (default: stderr is a terminal). */
  isTTY?: boolean;
  /** The terminal's width for the live line (default: stderr's columns, or 80). */
  columns?: number;
}

/** Turn the CLI's strings into campaign options; throws UsageError with a readable message. */
export function parseFuzzArgs(o: FuzzCommandOptions): { campaign: CampaignOptions; timeUs: number | null } {
  const fixed: { -readonly [K in keyof FuzzOptions]?: FuzzOptions[K] } = {};
  if (o.nodes !== undefined) {
    const m = /^(\d+)(?:\.\.(\d+))?$/.exec(o.nodes.trim());
    if (m === null) throw new UsageError(`--nodes: expected a..b or a number, got '${o.nodes}'`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (!(a >= 2 && a <= b && b <= 6)) throw new UsageError(`--nodes: need 2 <= a <= b <= 6, got ${a}..${b}`);
    fixed.nodesMin = a;
    fixed.nodesMax = b;
  }
  if (o.bugs !== undefined && o.bugs.length > 0) {
    const bad = o.bugs.filter((b) => !isBugName(b));
    if (bad.length > 0) throw new UsageError(`--bug: unknown bug '${bad.join(' ')}'; the zoo has: ${BUG_NAMES.join(' ')}`);
    fixed.bugs = o.bugs as BugName[];
    const sentinelBugs = fixed.bugs.filter(isSentinelBug);
    if (sentinelBugs.length > 0 && o.sentinels !== true) throw new UsageError(`--bug: '${sentinelBugs.join(' ')}' live in the sentinels: add --sentinels`);
  }
  if (o.clients === true) fixed.clients = true;
  if (o.sentinels === true) fixed.sentinels = true;
  if (o.faults !== undefined) {
    const words = o.faults.split(/[\s,]+/).filter((w) => w.length > 0);
    const bad = words.filter((w) => !isFaultKind(w));
    if (bad.length > 0 || words.length === 0) {
      throw new UsageError(`--faults: unknown kind(s) '${bad.join(' ') || o.faults}'; known: ${FAULT_KINDS.join(' ')}; with --sentinels also ${SENTINEL_FAULT_KINDS.join(' ')}`);
    }
    const needSentinels = words.filter(isSentinelFaultKind);
    if (needSentinels.length > 0 && o.sentinels !== true) throw new UsageError(`--faults: '${needSentinels.join(' ')}' need --sentinels`);
    fixed.faultKindsAllowed = [...new Set(words as FaultKind[])];
  }
  let shardIndex = 0;
  let shardCount = 1;
  if (o.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(o.shard.trim());
    if (m === null || !Number.isSafeInteger(Number(m[2])) || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard: expected i/n with 0 <= i < n, got '${o.shard}'`);
    shardIndex = Number(m[1]);
    shardCount = Number(m[2]);
  }
  let timeUs: number | null = null;
  if (o.time !== undefined) {
    const d = parseDurationUs(o.time);
    if (!d.ok || d.value <= 0) throw new UsageError(`--time: expected a duration such as 30s or 5m, got '${o.time}'`);
    timeUs = d.value;
  }
  if (o.runs !== undefined && !(Number.isSafeInteger(o.runs) && o.runs >= 0)) throw new UsageError(`--runs: expected a count, got ${shownNumber(o.runs)}`);
  const seed = o.seed ?? campaignDefault.seed;
  if (seed.length === 0 || /[\n\r#]/.test(seed)) throw new UsageError(`--seed: '${seed}' must be one line without '#'`);
  const runs = o.runs ?? (timeUs !== null ? null : campaignDefault.runs);
  if (o.workers !== undefined && !(Number.isSafeInteger(o.workers) && o.workers >= 1 && o.workers <= 256)) throw new UsageError(`--workers: expected a whole number from 1 to 256, got ${shownNumber(o.workers)}`);
  if (o.shrinkRuns !== undefined && !(Number.isSafeInteger(o.shrinkRuns) && o.shrinkRuns >= 0)) throw new UsageError(`--shrink-runs: expected a count, got ${shownNumber(o.shrinkRuns)}`);
  const variants = parseFuzzVariants(o, seed, shardIndex, fixed);
  return { campaign: { seed, runs, shardIndex, shardCount, fixed, checkDeterminism: o.checkDeterminism === true, ...(variants.length > 0 ? { variants } : {}) }, timeUs };
}

/**
 * `--variant`s, each checked against the campaign's first story, so a statement the language
 * refuses is one line and exit 2 before any run (not a crash per story an hour later).
 */
function parseFuzzVariants(o: FuzzCommandOptions, seed: string, shardIndex: number, fixed: Partial<FuzzOptions>): Variant[] {
  const texts = o.variants ?? [];
  if (texts.length === 0) return [];
  if (o.clients !== true) throw new UsageError('--variant needs --clients: a variant is compared by what the clients got acknowledged and lost');
  const variants: Variant[] = [];
  try {
    const story = printScenario(generateScenario(runSeed(seed, shardIndex), fixed).scenario);
    for (const t of texts) {
      const v = parseVariant(t);
      if (v.name === 'base' || variants.some((x) => x.name === v.name)) throw new CompareError(`two variants are named '${v.name}' ('base' is the story as generated)`);
      variantScenario(story, `${runSeed(seed, shardIndex)}.scn`, v, false);
      variants.push(v);
    }
  } catch (e) {
    if (!(e instanceof CompareError)) throw e;
    throw new UsageError(`--variant: ${e.message}`);
  }
  return variants;
}

/** Runs dealt to a worker ahead of its results: it never waits for the next index. */
const DEALT_AHEAD = 2;

/**
 * Run a campaign on `workers` threads. Run indices are dealt one at a time as results come
 * back (each worker holds at most DEALT_AHEAD), so a worker that drew cheap runs takes more and
 * none idles while another finishes a long tail; a `--shard i/n` campaign deals i, i + n, ...
 * Each index gives the same result on any worker (campaignRun); results come back in any order.
 * `stop()` (SIGINT) terminates the workers and resolves with the runs received so far.
 */
export function runCampaignOnWorkers(
  campaign: CampaignOptions,
  workers: number,
  timeUs: number | null,
  onResult: (r: FuzzResult) => void,
  control: { stop?: () => void } = {},
): Promise<CampaignSummary> {
  const tally = new CampaignTally(campaign.variants);
  const jobs: Promise<void>[] = [];
  const all: Worker[] = [];
  let stopping = false;
  control.stop = () => {
    stopping = true;
    for (const w of all) void w.terminate();
  };
  const t0 = performance.now();
  let next = campaign.shardIndex;
  /** The next run index to deal, or null when the campaign is done dealing (count, --time, stop). */
  const nextIndex = (): number | null => {
    if (stopping || (campaign.runs !== null && next >= campaign.runs)) return null;
    if (timeUs !== null && (performance.now() - t0) * 1000 >= timeUs) return null;
    const index = next;
    next += campaign.shardCount;
    return index;
  };
  const runsLeft = campaign.runs === null ? Infinity : Math.max(0, Math.ceil((campaign.runs - campaign.shardIndex) / campaign.shardCount));
  for (let w = 0; w < Math.min(workers, runsLeft); w++) {
    // Compiled (dist/): the worker's own compiled module. From source (tests, tsx): a .js shim
    // beside this file that registers tsx in the worker's thread, then loads fuzz-worker.ts.
    const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url), { workerData: { campaign } });
    all.push(worker);
    let dealt = 0;
    const deal = (): void => {
      while (dealt < DEALT_AHEAD) {
        const index = nextIndex();
        if (index === null) break;
        worker.postMessage({ type: 'run', index });
        dealt++;
      }
      if (dealt === 0) worker.postMessage({ type: 'end' });
    };
    jobs.push(new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type: 'result'; r: FuzzResult; index: number }) => {
        if (stopping) return;
        dealt--;
        tally.add(m.r);
        onResult(m.r);
        deal();
      });
      worker.on('error', reject);
      worker.on('exit', (code) => (code === 0 || stopping ? resolve() : reject(new Error(`fuzz worker ${w} exited with code ${code}`))));
    }));
    deal();
  }
  return Promise.all(jobs).then(() => tally.summary());
}

/** One group of failures that fail the same way (kind, invariant, check), in arrival order. */
interface FailureGroup {
  readonly signature: string;
  readonly seeds: string[];
  minFile: string | null;
}

/** How a failing run is named in output: its seed, and `.NAME` under a variant (its file's stem). */
function runLabel(r: FuzzResult): string {
  return r.variant === undefined ? r.seed : `${r.seed}.${r.variant.name}`;
}

/** The triage key: failureSignature (kind + invariant) plus, for liveness, the check's text. */
export function triageSignature(r: FuzzResult): string {
  const f = r.failure!;
  const sig = failureSignature(f);
  if (f.kind !== 'liveness') return sig;
  const first = f.detail.split('\n')[0] ?? '';
  return `${sig} ${first.replace(/^line \d+: /, '').replace(/\d+(\.\d+)?/g, '#')}`;
}

/**
 * The failure's first line as printed: the detail's first line, after the kind unless that line
 * already names it (`line 52: invariant: replica offset`, not `invariant: line 52: invariant: ...`).
 */
export function failureHeadline(f: FuzzFailure): string {
  const first = f.detail.split('\n')[0] ?? '';
  const named = /^line \d+: (\S+):/.exec(first)?.[1];
  return named === f.kind ? first : `${f.kind}: ${first}`;
}

/** What became of a failure's shrink, in its `--json` record (see run-schema.json). */
type ShrinkOutcome = 'done' | 'stopped' | 'not-started' | 'none' | 'failed';

/** `psync-sim fuzz`; with `workers` > 1 (or `interruptible`) the campaign runs on worker threads and this is async. */
export function fuzzCommand(o: FuzzCommandOptions): number | Promise<number> {
  const out = o.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = o.stderr ?? ((s: string) => void process.stderr.write(s));
  // The live line goes to stderr, drawn only on a terminal; otherwise a plain line every 5 s on stdout.
  const isTTY = o.isTTY ?? process.stderr.isTTY === true;
  const c = makeChalk();
  let parsed;
  const outDir = o.out ?? 'fuzz-failures';
  try {
    parsed = parseFuzzArgs(o);
    // Before any run: a failure found after an hour must have somewhere to go.
    try {
      makeFolders(outDir);
      accessSync(outDir, fsConstants.W_OK);
    } catch (e) {
      throw new UsageError(`--out: cannot write to ${outDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`psync-sim fuzz: ${e.message}\n`);
    return EXIT.invalid;
  }
  const { campaign, timeUs } = parsed;
  const json = o.json === true;
  const shrinkOn = o.shrink !== false;
  const shrinkRuns = o.shrinkRuns ?? shrinkBudgetDefault.runsMax;
  const workers = o.workers ?? 1;
  const threaded = workers > 1 || o.interruptible === true;
  const t0 = performance.now();
  const elapsedS = (): number => (performance.now() - t0) / 1000;
  let lastProgressS = 0;
  let done = 0;
  let failed = 0;
  const groups = new Map<string, FailureGroup>();
  const notStarted: string[] = [];
  const live = !json && isTTY ? new LiveLine(err, o.columns ?? process.stderr.columns ?? 80) : null;
  const shardText = campaign.shardCount > 1 ? ` shard ${campaign.shardIndex}/${campaign.shardCount}` : '';
  const total = campaign.runs === null ? null : Math.ceil((campaign.runs - campaign.shardIndex) / campaign.shardCount);
  if (json) out(headerRecord({ command: 'fuzz', file: null, seed: campaign.seed, bugs: campaign.fixed.bugs ?? [] }) + '\n');
  else {
    out(c.bold(`psync-sim fuzz: seed ${campaign.seed}${shardText}, ${campaign.runs ?? 'unbounded'} runs` + (timeUs !== null ? `, at most ${formatDurationUs(timeUs)} wall` : '') + '\n'));
  }
  /** Anything printed while the live line is shown erases it first; the next redraw puts it back. */
  const print = (s: string): void => {
    live?.clear();
    out(s);
  };
  const shrinkStatus = (): string | null => {
    const a = queue.active;
    if (a === null) return null;
    const sig = triageSignature(a.job.r);
    const p = a.progress;
    const step = p === null ? 'starting' : `run ${p.runs}/${p.runsMax}, ${p.statements} statements, ${p.nodes} nodes`;
    return `shrinking ${a.job.label} [${sig}]: ${step}` + (queue.queued > 0 ? `, ${queue.queued} more queued` : '');
  };
  const progress = (final: boolean): void => {
    if (json) return;
    const s = elapsedS();
    const line = `${done} runs, ${failed} failed, ${(done / Math.max(s, 1e-9)).toFixed(1)} runs/s, ${s.toFixed(1)} s`;
    const shrinking = final ? null : shrinkStatus();
    if (final) {
      print(line + '\n');
      return;
    }
    if (live !== null) {
      live.draw((total !== null ? `${progressBar(done, total)} ` : '') + line + (shrinking !== null ? ` · ${shrinking}` : ''));
    } else if (s - lastProgressS >= 5) {
      out(line + (shrinking !== null ? `; ${shrinking}` : '') + '\n');
      lastProgressS = s;
    }
  };
  const failureRecord = (r: FuzzResult, file: string, minFile: string | null, shrink: ShrinkOutcome): string => JSON.stringify({
    type: 'failure', seed: r.seed, kind: r.failure!.kind, signature: triageSignature(r), file, minFile,
    replay: `psync-sim run ${minFile ?? file}${bugFlagsOf(r)}`, detail: r.failure!.detail.split('\n')[0], options: r.options, shrink,
    ...(r.variant !== undefined ? { variant: r.variant.name } : {}),
  }) + '\n';
  const files = new Map<ShrinkJob, string>();
  // A shrink's end: its `.min.scn` and replay line, named by the failure's label (other
  // failures may have been printed since: the failure itself is not printed again).
  const queue = new ShrinkQueue(outDir, shrinkRuns, threaded, {
    onProgress: () => progress(false),
    onEnd: (job, end) => {
      const file = files.get(job)!;
      files.delete(job);
      const bugFlags = bugFlagsOf(job.r);
      const min = end.kind === 'shrunk' ? end.file : null;
      const group = groups.get(triageSignature(job.r));
      if (min !== null && group !== undefined && group.minFile === null) group.minFile = min;
      if (json) {
        const how: ShrinkOutcome = end.kind === 'shrunk' ? (end.interrupted ? 'stopped' : 'done') : end.kind === 'error' ? 'failed' : 'none';
        out(failureRecord(job.r, file, min, how));
      } else {
        if (end.kind === 'shrunk') print(`  ${job.label} shrunk: ${end.summary}\n`);
        else if (end.kind === 'error') print(c.red(`  shrinking ${job.label} failed (a psync-sim bug): ${end.message}`) + '\n');
        print(`  replay: psync-sim run ${min ?? file}${bugFlags} --trace\n`);
      }
      progress(false);
    },
  });
  // One failing run (a story, or a story under a --variant): written, triaged, printed once;
  // the first of its group is queued for shrinking.
  const reportFailure = (r: FuzzResult): void => {
    if (r.failure === undefined) return;
    failed++;
    const label = runLabel(r);
    const file = writeFailure(outDir, r);
    const signature = triageSignature(r);
    let group = groups.get(signature);
    const firstOfGroup = group === undefined;
    if (group === undefined) groups.set(signature, (group = { signature, seeds: [], minFile: null }));
    group.seeds.push(label);
    // Only the first of a signature is shrunk by default: the others fail the same way.
    const shrinkThis = shrinkOn && r.failure.kind !== 'nondeterminism' && (firstOfGroup || o.shrinkAll === true);
    if (!json) {
      const again = firstOfGroup ? '' : c.dim(` (same signature as ${group.seeds[0]}, ${group.seeds.length} so far)`);
      print(c.red(`✗ ${label}: ${failureHeadline(r.failure)}`) + again + '\n');
      if (r.failure.kind === 'nondeterminism') print(r.failure.detail.split('\n').slice(1).join('\n') + '\n');
      print(`  file: ${file}\n`);
      if (shrinkThis) print(c.dim(`  shrinking (at most ${shrinkRuns} runs)${queue.background ? ' while the campaign goes on' : '...'}`) + '\n');
      else print(`  replay: psync-sim run ${file}${bugFlagsOf(r)} --trace\n`);
    } else if (!shrinkThis) out(failureRecord(r, file, null, 'none'));
    if (shrinkThis) {
      const job: ShrinkJob = { r, label };
      files.set(job, file);
      queue.add(job);
    }
  };
  const onResult = (r: FuzzResult): void => {
    done++;
    reportFailure(r);
    for (const v of r.variantRuns ?? []) reportFailure(v);
    progress(false);
  };
  const finish = (summary: CampaignSummary): number => {
    progress(true);
    const wallS = elapsedS();
    const stopped = isInterrupted();
    if (json) out(JSON.stringify({ ...summaryJson(summary, wallS, [...groups.values()], campaign.fixed.sentinels === true), interrupted: stopped }) + '\n');
    else {
      out(renderSummary(summary, wallS, c, [...groups.values()], campaign.fixed.sentinels === true) + '\n');
      if (stopped) {
        out(c.yellow(`interrupted after ${summary.runs} runs: every failure file above is written and complete`) + '\n');
        if (notStarted.length > 0) out(c.yellow(`not shrunk (interrupted before their turn): ${notStarted.join(' ')}; their .scn files are complete`) + '\n');
      }
    }
    return stopped ? EXIT.interrupted : summary.failures.length > 0 ? EXIT.failed : EXIT.ok;
  };
  if (threaded) {
    const control: { stop?: () => void } = {};
    onInterrupt(() => {
      control.stop?.();
      const active = queue.active;
      for (const job of queue.interrupt()) {
        notStarted.push(job.label);
        if (json) out(failureRecord(job.r, files.get(job)!, null, 'not-started'));
        files.delete(job);
      }
      if (!json && active !== null) {
        print(c.yellow(`interrupted: no more runs; the shrink of ${active.job.label} stops at its next candidate and writes the smallest failure found so far (Ctrl-C again to quit at once without it)`) + '\n');
      }
    });
    return runCampaignOnWorkers(campaign, workers, timeUs, onResult, control).then(async (summary) => {
      // The campaign is done; the shrinks still running or queued finish (the line keeps showing them).
      await queue.drain();
      return finish(summary);
    });
  }
  return finish(runCampaign(campaign, {
    onResult,
    shouldStop: () => isInterrupted() || (timeUs !== null && elapsedS() * 1e6 >= timeUs),
  }));
}

function bugFlagsOf(r: FuzzResult): string {
  return r.options.bugs.map((b) => ` --bug ${b}`).join('');
}

/**
 * mkdir -p, one level at a time: Node's own recursive mkdir loops forever on some paths
 * (`/proc/x`), and an unusable --out must be exit 2 at once.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) mkdirSync(d);
  if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
}

function writeFailure(dir: string, r: FuzzResult): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${resultStem(r)}.scn`);
  // The scenario part is ASCII (the generator writes no binary arguments); comments may hold UTF-8.
  writeFileSync(file, scenarioFileText(r), 'utf8');
  return file;
}

/** Shrink the failure here and write `<seed>.min.scn`; null when it cannot be shrunk (nondeterminism). */
export function writeShrunk(dir: string, r: FuzzResult, runsMax: number, onProgress?: (p: ShrinkProgress) => void): { file: string; summary: string } | null {
  const t = shrinkToText(r, runsMax, onProgress);
  if (t === null) return null;
  const file = minFilePath(dir, r);
  writeFileSync(file, t.text, 'utf8');
  return { file, summary: t.summary };
}

function summaryJson(s: CampaignSummary, wallS: number, groups: FailureGroup[], sentinels: boolean): object {
  return {
    type: 'campaign',
    schema: JSON_SCHEMA_VERSION,
    runs: s.runs,
    failed: s.failures.length,
    byKind: s.byKind,
    runsPerSec: s.runs / Math.max(wallS, 1e-9),
    virtualSec: s.virtualUs / 1e6,
    events: s.events,
    coverage: Object.fromEntries([...COVERAGE_KEYS, ...(sentinels ? SENTINEL_COVERAGE_KEYS : [])].map((k) => [k, s.coverage.get(k) ?? 0])),
    faultKinds: Object.fromEntries((sentinels ? ALL_FAULT_KINDS : FAULT_KINDS).map((k) => [k, s.faultKinds.get(k) ?? 0])),
    failures: s.failures.map((f) => ({ seed: f.seed, kind: f.failure!.kind, ...(f.variant !== undefined ? { variant: f.variant.name } : {}) })),
    groups: groups.map((g) => ({ signature: g.signature, count: g.seeds.length, seeds: g.seeds, minFile: g.minFile })),
    ...(s.losses !== undefined ? { losses: s.losses } : {}),
    ...(s.variants !== undefined ? { variants: s.variants } : {}),
  };
}

function renderSummary(s: CampaignSummary, wallS: number, c: ReturnType<typeof makeChalk>, groups: FailureGroup[], sentinels: boolean): string {
  const lines: string[] = [''];
  const rate = (s.runs / Math.max(wallS, 1e-9)).toFixed(1);
  lines.push(c.bold(`${s.runs} runs in ${wallS.toFixed(1)} s (${rate} runs/s), ${(s.virtualUs / 1e6).toFixed(0)} s virtual, ${s.events} events`));
  lines.push('', c.bold('coverage (runs that hit each protocol path):'));
  const keys: readonly string[] = sentinels ? [...COVERAGE_KEYS, ...SENTINEL_COVERAGE_KEYS] : COVERAGE_KEYS;
  const required: readonly string[] = sentinels ? SENTINEL_COVERAGE_REQUIRED : COVERAGE_REQUIRED;
  const w = Math.max(...keys.map((k) => k.length));
  for (const k of keys) {
    const n = s.coverage.get(k) ?? 0;
    const mark = n > 0 ? c.green('✓') : required.includes(k) ? c.red('✗') : c.dim('·');
    lines.push(`  ${mark} ${k.padEnd(w)}  ${String(n).padStart(6)}`);
  }
  lines.push('', c.bold('fault kinds (runs that used each):'));
  lines.push('  ' + (sentinels ? ALL_FAULT_KINDS : FAULT_KINDS).map((k) => `${k} ${s.faultKinds.get(k) ?? 0}`).join(', '));
  if (s.losses !== undefined) {
    // Figures, not failures: asynchronous replication loses acknowledged writes by design.
    const l = s.losses;
    lines.push('', c.bold('lost acknowledged writes (client loads; figures, not failures):'));
    lines.push(`  ${l.lost} of ${l.acked} acknowledged writes lost over ${l.runs} runs (${l.perRun.runsWithLoss} runs lost some; per run median ${l.perRun.median}, p95 ${l.perRun.p95}, max ${l.perRun.max}` +
      (l.unjudged > 0 ? `; ${l.unjudged} runs without a single master, not judged` : '') + ')');
    lines.push('  by cause: ' + Object.entries(l.byCause).map(([k, n]) => `${k} ${n} (${l.runsByCause[k as keyof typeof l.runsByCause]} runs)`).join(', '));
    lines.push('  runs by writes lost: ' + LOSS_RANGES.map(([label], i) => `${label}: ${l.runsByLost[i]}`).join(', '));
    lines.push(`  writes WAIT had confirmed on every other node, lost with no crash since (failures): ${l.waitPromiseBroken}`);
  }
  if (s.variants !== undefined) {
    // compare's table over the campaign: the same stories, so the rows differ only by policy.
    lines.push('', c.bold('variants (every story under each; figures, not failures):'));
    const rows = s.variants.map((v) => ({ ...v, runs: [] }));
    lines.push(...renderVariantTable(rows, `${s.runs} generated stor${s.runs === 1 ? 'y' : 'ies'}`).split('\n').map((l) => `  ${l}`));
  }
  lines.push('');
  if (s.failures.length === 0) lines.push(c.green(`no failures`));
  else {
    lines.push(c.red(`${s.failures.length} failed: ${s.byKind.invariant} invariant, ${s.byKind.liveness} liveness, ${s.byKind.crash} crash, ${s.byKind.nondeterminism} nondeterminism` + (s.byKind.promise > 0 ? `, ${s.byKind.promise} broken WAIT promise` : '')));
    // One line per signature, not per failure: the failures were printed as they were found.
    for (const g of groups) {
      const more = g.seeds.length > 1 ? `, also ${g.seeds.slice(1, 6).join(' ')}${g.seeds.length > 6 ? ' …' : ''}` : '';
      lines.push(c.red(`  ${String(g.seeds.length).padStart(4)} × ${g.signature}`) + c.dim(` (first ${g.seeds[0]}${more}${g.minFile ? `; shrunk: ${g.minFile}` : ''})`));
    }
  }
  return lines.join('\n');
}
