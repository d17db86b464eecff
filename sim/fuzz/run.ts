/**
 * One fuzz run: generate → execute → verdict, with the protocol paths it covered.
 *
 * Theory of operation. The generated AST is executed by the scenario executor exactly as
 * `psync-sim run` would execute its printed text, so a failure replays from the `.scn` file.
 * Verdicts (as TigerBeetle's VOPR Failure enum):
 *   - 'invariant': a replication invariant broke (sim/check), reported by the executor as a
 *     failed check of kind 'invariant'; the run stopped there;
 *   - 'liveness': the final `await converged` (or any other check) did not hold;
 *   - 'crash': the simulator threw: an AssertionError (our own invariant) or any other
 *     exception. Never swallowed: the error and its stack go into the detail.
 * Coverage is read from the trace: a sink maps each event to the protocol path it shows
 * (full sync to disk or sockets, partial resync via replid or replid2, each refusal reason,
 * a chain cascade, a restart followed by PSYNC, an output-buffer drop, FAILOVER states).
 * The sink keeps the last trace events in a ring so a failure can show what led to it.
 */
import { AssertionError } from '../assert.ts';
import { runScenario } from '../scenario/run.ts';
import type { CheckResult } from '../scenario/run.ts';
import { printScenario } from '../scenario/printer.ts';
import { parseScenario } from '../scenario/parser.ts';
import type { Scenario } from '../scenario/ast.ts';
import type { Stamped } from '../trace/events.ts';
import { renderStamped } from '../trace/render.ts';
import { generateScenario, optionsComment } from './generate.ts';
import type { FaultKind, FuzzOptions } from './generate.ts';
import type { CauseKind } from '../clients/ledger.ts';
import { runFigures } from '../scenario/variants.ts';
import type { RunFigures, Variant } from '../scenario/variants.ts';

/** What a run with clients lost (figures, not failures: asynchronous replication loses writes by design). */
export interface RunLosses {
  readonly acked: number;
  /** null when the run ended without a single master to judge against. */
  readonly lost: number | null;
  readonly byCause: Record<CauseKind, number>;
  /** Lost writes that broke WAIT's promise (a failure of the run). */
  readonly waitPromiseBroken: number;
}

/** 'nondeterminism': the same seed ran twice gave two different traces (--check-determinism). */
/** 'promise': a write WAIT confirmed on every other node was lost with no crash since (sim/clients/ledger.ts brokenWaitPromises). */
export type FailureKind = 'invariant' | 'liveness' | 'crash' | 'nondeterminism' | 'promise';

export interface FuzzFailure {
  readonly kind: FailureKind;
  /** What broke, the check's line and details, and the last trace lines. */
  readonly detail: string;
}

export interface FuzzResult {
  readonly seed: string;
  readonly options: FuzzOptions;
  readonly faultKindsUsed: readonly FaultKind[];
  readonly scenario: Scenario;
  /** printScenario(scenario): what `psync-sim run` replays. */
  readonly text: string;
  readonly ok: boolean;
  readonly failure?: FuzzFailure;
  readonly coverage: Set<string>;
  readonly virtualUs: number;
  readonly events: number;
  /** With `clients` in the options: the run's lost acknowledged writes by cause. */
  readonly losses?: RunLosses;
  /** With `clients`: the run's row of the variant table (sim/scenario/variants.ts). */
  readonly figures?: RunFigures;
  /** `fuzz --variant`: the variant this run of the story ran under (absent for the story as generated). */
  readonly variant?: Variant;
  /** `fuzz --variant`, on the base run only: the same story under each variant, in --variant order (sim/fuzz/variants.ts). */
  readonly variantRuns?: FuzzResult[];
  /**
   * The comment lines the file starts with when they are not the options comment (a `.min.scn`
   * says what was shrunk): the run was executed under them, so its line numbers are the file's.
   */
  readonly header?: string;
}

/** How executeGenerated names the run's file and what comments it puts above the scenario. */
export interface RunFile {
  readonly file: string;
  readonly header: string;
}

/** Every coverage key the mapper can produce, in report order (issue 4's list first). */
export const COVERAGE_KEYS = [
  'full sync: disk',
  'full sync: diskless',
  'partial: replid',
  'partial: replid2',
  'refused: backlog miss',
  'refused: replid mismatch',
  'refused: beyond replid2 offset',
  'refused: no backlog',
  'refused: psync ? -1',
  'chain cascade (+CONTINUE new id)',
  'restart then PSYNC',
  'restart then partial',
  'output-buffer disconnect',
  'failover: waiting-for-sync',
  'failover: in-progress',
  'failover: done',
  'failover: aborted or timed out',
  'failover: forced',
  'repl-timeout',
] as const;

/**
 * The sentinel paths a `--sentinels` campaign covers, read from the sentinels' events (named as
 * Redis names them in sentinel.c); reported only for campaigns with sentinels.
 */
export const SENTINEL_COVERAGE_KEYS = [
  'sentinel: +sdown master',
  'sentinel: +odown',
  'sentinel: +try-failover',
  'sentinel: leader elected by votes',
  'sentinel: leader elected in epoch >= 2',
  'sentinel: election lost (-failover-abort-not-elected)',
  'sentinel: back-off (next-failover-delay)',
  'sentinel: manual failover (SENTINEL FAILOVER)',
  'sentinel: replica selected',
  'sentinel: abort (no good replica)',
  'sentinel: abort (replica timeout)',
  'sentinel: promotion done (+promoted-slave)',
  'sentinel: reconfigure replicas (+slave-reconf-sent)',
  'sentinel: reconfiguration done (+slave-reconf-done)',
  'sentinel: reconf timeout (-slave-reconf-sent-timeout)',
  'sentinel: failover end',
  'sentinel: failover end for timeout',
  'sentinel: config epoch bump (+switch-master)',
  'sentinel: switch via hello (+config-update-from)',
  'sentinel: restarted sentinel catches up',
  'sentinel: old master converted (+convert-to-slave)',
  'sentinel: replica repointed (+fix-slave-config)',
  'sentinel: reboot seen (+reboot)',
  'sentinel: +tilt',
  'sentinel: -tilt',
  'sentinel: SIMULATE-FAILURE exit',
  'client: master found through the sentinels (load @mymaster)',
  'client: followed the sentinels to a new master',
] as const;

/** The sentinel paths a clean `--sentinels` campaign must hit (issue 8). */
export const SENTINEL_COVERAGE_REQUIRED: readonly string[] = [
  'sentinel: +sdown master', 'sentinel: +odown', 'sentinel: leader elected by votes', 'sentinel: leader elected in epoch >= 2',
  'sentinel: election lost (-failover-abort-not-elected)', 'sentinel: manual failover (SENTINEL FAILOVER)',
  'sentinel: promotion done (+promoted-slave)', 'sentinel: reconfigure replicas (+slave-reconf-sent)', 'sentinel: failover end',
  'sentinel: config epoch bump (+switch-master)', 'sentinel: switch via hello (+config-update-from)',
  'sentinel: restarted sentinel catches up', 'sentinel: old master converted (+convert-to-slave)', 'sentinel: +tilt', 'sentinel: -tilt',
  'sentinel: SIMULATE-FAILURE exit',
];

/** The paths issue 4 requires a campaign to hit. */
export const COVERAGE_REQUIRED: readonly string[] = [
  'full sync: disk', 'full sync: diskless', 'partial: replid', 'partial: replid2', 'refused: backlog miss',
  'refused: replid mismatch', 'chain cascade (+CONTINUE new id)', 'restart then PSYNC', 'output-buffer disconnect',
  'failover: in-progress',
];

const RING_EVENTS = 40;
/** A config update this soon after a sentinel's restart is it catching up (hellos come every 2 s). */
const CATCH_UP_WINDOW_US = 6_000_000;

/** Collects coverage and the last events from the trace. Allocation-light: a fixed ring. */
export class CoverageSink {
  readonly coverage = new Set<string>();
  private readonly ring: Array<Stamped | undefined> = new Array(RING_EVENTS);
  private count = 0;
  /** Nodes restarted whose next PSYNC we have not seen yet. */
  private readonly restarted = new Set<string>();
  /** Nodes whose post-restart PSYNC carried a history, awaiting the master's decision. */
  private readonly restartPsync = new Set<string>();
  /** Every sentinel seen (by its events), and when each was last restarted. */
  private readonly sentinelNames = new Set<string>();
  private readonly restartedSentinels = new Map<string, number>();
  /** Per client following the sentinels, the first address they named for its master. */
  private readonly firstResolved = new Map<string, string>();

  readonly sink = (s: Stamped): void => {
    this.ring[this.count++ % RING_EVENTS] = s;
    this.map(s);
  };

  private map(s: Stamped): void {
    const e = s.event;
    const cov = this.coverage;
    switch (e.kind) {
      case 'bgsave-start':
        cov.add(e.target === 'disk' ? 'full sync: disk' : 'full sync: diskless');
        return;
      case 'psync-decision': {
        const r = e.reason;
        const fromRestart = this.restartPsync.delete(e.peer);
        if (e.accepted) {
          cov.add(r.includes('previous replid') ? 'partial: replid2' : 'partial: replid');
          if (fromRestart) cov.add('restart then partial');
        } else if (r.includes('outside the backlog')) cov.add('refused: backlog miss');
        else if (r.includes('replid mismatch')) cov.add('refused: replid mismatch');
        else if (r.includes('requested offset for the previous replid')) cov.add('refused: beyond replid2 offset');
        else if (r.includes('no backlog')) cov.add('refused: no backlog');
        else if (r.includes('PSYNC ? -1')) cov.add('refused: psync ? -1');
        return;
      }
      case 'continue-received':
        if (e.replid !== null && e.why.includes('new id')) cov.add('chain cascade (+CONTINUE new id)');
        return;
      case 'process':
        if (e.what === 'restart') {
          if (this.sentinelNames.has(e.node)) this.restartedSentinels.set(e.node, s.atUs);
          else this.restarted.add(e.node);
        }
        if (e.what === 'exit' && this.sentinelNames.has(e.node)) cov.add('sentinel: SIMULATE-FAILURE exit');
        return;
      case 'sentinel':
        this.sentinelNames.add(e.node);
        this.mapSentinel(s.atUs, e.node, e.event, e.payload, e.reason, e.epoch);
        return;
      case 'psync-sent':
        if (this.restarted.delete(e.node) && e.replid !== '?') {
          cov.add('restart then PSYNC');
          this.restartPsync.add(e.node);
        }
        return;
      case 'replica-dropped':
        if (e.why.startsWith('client-output-buffer-limit')) cov.add('output-buffer disconnect');
        return;
      case 'note':
        if (e.text.startsWith('sentinel ')) this.mapResolved(e.node, e.text);
        if (e.text.startsWith('failover state ')) {
          const t = e.text;
          if (t.startsWith('failover state waiting-for-sync')) cov.add('failover: waiting-for-sync');
          else if (t.startsWith('failover state failover-in-progress')) cov.add('failover: in-progress');
          else if (t.startsWith('failover state no-failover')) {
            cov.add(t.includes('aborted') ? 'failover: aborted or timed out' : 'failover: done');
          }
          if (t.includes('FORCE')) cov.add('failover: forced');
        }
        return;
      case 'timeout':
        cov.add('repl-timeout');
        return;
      default:
        return; // Most events show no protocol path of their own.
    }
  }

  /** A client's `sentinel S says NAME is at HOST:PORT` (sim/clients/sentinel-resolver.ts). */
  private mapResolved(client: string, text: string): void {
    const m = /^sentinel \S+ says \S+ is at (\S+)$/.exec(text);
    if (m === null) return;
    this.coverage.add('client: master found through the sentinels (load @mymaster)');
    const first = this.firstResolved.get(client);
    if (first === undefined) this.firstResolved.set(client, m[1]!);
    else if (first !== m[1]) this.coverage.add('client: followed the sentinels to a new master');
  }

  private mapSentinel(atUs: number, node: string, event: string, payload: string, reason: string, epoch: number): void {
    const cov = this.coverage;
    switch (event) {
      case '+sdown': if (payload.startsWith('master ')) cov.add('sentinel: +sdown master'); return;
      case '+odown': cov.add('sentinel: +odown'); return;
      case '+try-failover': cov.add('sentinel: +try-failover'); return;
      case '+elected-leader':
        if (reason.startsWith('a forced failover')) cov.add('sentinel: manual failover (SENTINEL FAILOVER)');
        else {
          cov.add('sentinel: leader elected by votes');
          if (epoch >= 2) cov.add('sentinel: leader elected in epoch >= 2');
        }
        return;
      case '-failover-abort-not-elected': cov.add('sentinel: election lost (-failover-abort-not-elected)'); return;
      case 'next-failover-delay': cov.add('sentinel: back-off (next-failover-delay)'); return;
      case '+selected-slave': cov.add('sentinel: replica selected'); return;
      case '-failover-abort-no-good-slave': cov.add('sentinel: abort (no good replica)'); return;
      case '-failover-abort-slave-timeout': cov.add('sentinel: abort (replica timeout)'); return;
      case '+promoted-slave': cov.add('sentinel: promotion done (+promoted-slave)'); return;
      case '+slave-reconf-sent': cov.add('sentinel: reconfigure replicas (+slave-reconf-sent)'); return;
      case '+slave-reconf-done': cov.add('sentinel: reconfiguration done (+slave-reconf-done)'); return;
      case '-slave-reconf-sent-timeout': cov.add('sentinel: reconf timeout (-slave-reconf-sent-timeout)'); return;
      case '+failover-end': cov.add('sentinel: failover end'); return;
      case '+failover-end-for-timeout': cov.add('sentinel: failover end for timeout'); return;
      case '+switch-master':
        cov.add('sentinel: config epoch bump (+switch-master)');
        return;
      case '+config-update-from': {
        cov.add('sentinel: switch via hello (+config-update-from)');
        // A sentinel back from a restart learns, from the first hellos, a failover it missed.
        const since = this.restartedSentinels.get(node);
        if (since !== undefined && atUs - since <= CATCH_UP_WINDOW_US) cov.add('sentinel: restarted sentinel catches up');
        this.restartedSentinels.delete(node);
        return;
      }
      case '+convert-to-slave': cov.add('sentinel: old master converted (+convert-to-slave)'); return;
      case '+fix-slave-config': cov.add('sentinel: replica repointed (+fix-slave-config)'); return;
      case '+reboot': cov.add('sentinel: reboot seen (+reboot)'); return;
      case '+tilt': cov.add('sentinel: +tilt'); return;
      case '-tilt': cov.add('sentinel: -tilt'); return;
      default: return; // The other events show no path of their own.
    }
  }

  /** The last events, oldest first, rendered plainly. */
  lastLines(n = RING_EVENTS): string[] {
    const out: string[] = [];
    const start = Math.max(0, this.count - Math.min(n, RING_EVENTS));
    for (let i = start; i < this.count; i++) out.push(renderStamped(this.ring[i % RING_EVENTS]!));
    return out;
  }
}

/** Generate the run for `seed` and execute it. Never throws for a simulator failure: it reports it. */
export function fuzzOne(seed: string, options: Partial<FuzzOptions> = {}, trace?: (s: Stamped) => void): FuzzResult {
  const g = generateScenario(seed, options);
  return executeGenerated(seed, g.scenario, g.options, g.faultKindsUsed, trace);
}

/**
 * Execute a (possibly edited) generated scenario: the planted-failure test and the shrinker use
 * this. `trace`, when given, sees every event too (the determinism check records them).
 */
export function executeGenerated(seed: string, scenario: Scenario, options: FuzzOptions, faultKindsUsed: readonly FaultKind[], trace?: (s: Stamped) => void, as?: RunFile): FuzzResult {
  const text = printScenario(scenario);
  const cov = new CoverageSink();
  const base = { seed, options, faultKindsUsed, scenario, text, coverage: cov.coverage, ...(as !== undefined ? { header: as.header } : {}) };
  let checks: CheckResult[];
  let nodesInfo: string[] = [];
  let virtualUs = 0;
  let events = 0;
  let losses: RunLosses | undefined;
  let figures: RunFigures | undefined;
  let promise: string | null = null;
  try {
    // Run what the failure file will hold, parsed back: line numbers are the file's, and the
    // run is the replay (a printer/parser mismatch would show up here as a crash).
    const file = as?.file ?? `${fileStem(seed)}.scn`;
    const source = (as?.header ?? fileHeader(seed, options, faultKindsUsed)) + text;
    const sink = trace === undefined ? cov.sink : (st: Stamped): void => { cov.sink(st); trace(st); };
    // Only failed checks are reported: a passing check's detail is not computed (passedDetails).
    const r = runScenario(parseScenario(source, file), { trace: sink, file, source, bugs: options.bugs, passedDetails: false });
    checks = r.checks;
    nodesInfo = r.nodesInfo;
    virtualUs = r.virtualUs;
    events = r.events;
    if (r.ledger !== undefined) {
      losses = { acked: r.ledger.total.acked, lost: r.ledger.total.lost, byCause: r.ledger.byCause, waitPromiseBroken: r.ledger.waitPromiseBroken };
      promise = r.ledger.waitPromiseExample;
      figures = runFigures(r, seed);
    }
  } catch (e) {
    const what = e instanceof AssertionError ? 'assertion failed (a psync-sim bug)' : `exception ${(e as Error)?.name ?? typeof e}`;
    const full = e instanceof Error ? (e.stack ?? e.message) : String(e);
    // A stack starts with `Name: message` and `what` names the error already: say it once.
    const stack = e instanceof Error && full.startsWith(`${e.name}: `) ? full.slice(e.name.length + 2) : full;
    return { ...base, ok: false, failure: { kind: 'crash', detail: `${what}: ${stack}\n${tail(cov)}` }, virtualUs, events };
  }
  const broken = checks.find((c) => !c.ok && c.kind === 'invariant') ?? checks.find((c) => !c.ok);
  const withLosses = losses !== undefined ? { ...base, losses, ...(figures !== undefined ? { figures } : {}) } : base;
  if (broken === undefined && promise !== null) {
    const detail = `${losses!.waitPromiseBroken} lost write(s) had been confirmed by WAIT on every other node: ${promise}\n${tail(cov)}`;
    return { ...withLosses, ok: false, failure: { kind: 'promise', detail }, virtualUs, events };
  }
  if (broken === undefined) return { ...withLosses, ok: true, virtualUs, events };
  const kind: FailureKind = broken.kind === 'invariant' ? 'invariant' : 'liveness';
  const info = nodesInfo.length > 0 ? `nodes' INFO:\n${nodesInfo.map((l) => `  ${l}`).join('\n')}\n` : '';
  const detail = `line ${broken.line}: ${broken.text}\n  ${broken.detail}\n${info}${tail(cov)}`;
  return { ...withLosses, ok: false, failure: { kind, detail }, virtualUs, events };
}

function tail(cov: CoverageSink): string {
  const lines = cov.lastLines(25);
  return lines.length > 0 ? `last trace events:\n${lines.map((l) => `  ${l}`).join('\n')}` : '';
}

/** A seed as a file name: `/` and anything unusual become `_`. */
export function fileStem(seed: string): string {
  return seed.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** A result's file name without `.scn`: the seed, plus `.NAME` for a run under variant NAME. */
export function resultStem(r: Pick<FuzzResult, 'seed' | 'variant'>): string {
  return fileStem(r.variant === undefined ? r.seed : `${r.seed}.${r.variant.name}`);
}

/** The failure's `.scn` file: the options as comments, then the scenario. */
export function scenarioFileText(r: FuzzResult): string {
  let tailText = '';
  if (r.failure !== undefined) {
    // At the end, so the line numbers in the failure are the file's own.
    tailText = `\n# failure (${r.failure.kind}):\n` + r.failure.detail.split('\n').map((l) => `#   ${l}`.trimEnd()).join('\n') + '\n';
  }
  return (r.header ?? fileHeader(r.seed, r.options, r.faultKindsUsed)) + r.text + tailText;
}

function fileHeader(seed: string, o: FuzzOptions, kindsUsed: readonly FaultKind[]): string {
  return optionsComment(seed, o, kindsUsed, `${fileStem(seed)}.scn`);
}
