/**
 * Shrinking a failing scenario to a small one that still fails the same way (issue 4, item 3).
 *
 * Theory of operation. Delta debugging over the scenario AST, greedy and bounded: each pass
 * proposes simpler candidates, keeps a candidate as soon as `stillFails` says it fails the
 * same way, and the passes repeat until a whole round changes nothing or the run budget is
 * spent (so a shrink always terminates, after at most `runsMax` calls of stillFails). Passes,
 * cheapest big wins first:
 *   1. drop body blocks (a time statement with the steps under it): halves, quarters, ... single
 *      blocks. The first `at` is never dropped, so the body still starts with one;
 *   2. drop nodes, with every step, config, link and disk line that names them; partitions
 *      lose the node from their groups; predicates naming the node go (a `converged` list just
 *      loses it);
 *   3. drop single steps (chunks first, as in 1);
 *   4. shorten and weaken: halve gaps between absolute `at`s (every later absolute `at` moves by
 *      the same amount, so time never goes backwards), `at +DUR`, `run`, `pause`, load `over`
 *      and `within` bounds, down to a floor; halve load counts and value sizes, drop load TTLs;
 *      take a node out of a partition;
 *   5. drop header `config`, `link` and `disk` lines;
 *   6. with sentinels: drop sentinels (with every step and line naming them) and `sentinel`
 *      (sentinel.conf) lines.
 * Every candidate is checked the way `psync-sim run` checks a file before it is tried: printed,
 * parsed back, and set up by the executor with an empty body (validCandidate). One that any of
 * them refuses (an `at` that would go back in time, a `$var` whose `let` went, a `load @mymaster`
 * whose `sentinels` or `sentinel * monitor mymaster` line went, a `sentinel` directive naming a
 * master nobody monitors any more) is skipped without spending a run, and so is one whose text
 * was already tried; so every candidate adopted, and the `.min.scn`, is a file `run` accepts.
 * Everything here is a pure function of the input and the answers of stillFails, so a shrink is
 * deterministic (`shouldStop` aside: it ends a shrink early, keeping the smallest failure so far).
 *
 * Liveness failures need care: dropping a `heal` or shortening a `within` manufactures a
 * liveness failure from nothing. With `keepLivenessPhase`, the statements from the block of
 * the last bare `heal` on (the generator's liveness phase) are never dropped or shortened
 * (only a dropped node's own lines go), the node that phase makes master is never dropped, and
 * `within` bounds are left alone, and sentinels and their lines are kept (fewer sentinels can
 * lose the quorum a failover needs: a liveness failure from nothing).
 */
import { assert, assertNever, maybe } from '../assert.ts';
import type { Predicate, Scenario, Statement } from '../scenario/ast.ts';
import { parseScenario } from '../scenario/parser.ts';
import { printScenario } from '../scenario/printer.ts';
import { ScenarioError } from '../scenario/errors.ts';
import { runScenario } from '../scenario/run.ts';
import { executeGenerated, resultStem } from './run.ts';
import type { FuzzFailure, FuzzResult } from './run.ts';

/** Where a shrink stands, for a progress line while it runs (the CLI draws it; nothing here prints). */
export interface ShrinkProgress {
  /** Candidates run so far, and the budget. */
  readonly runs: number;
  readonly runsMax: number;
  /** The smallest failing scenario so far. */
  readonly statements: number;
  readonly nodes: number;
}

export interface ShrinkBudget {
  /** The most calls of stillFails (scenario runs) one shrink may make. */
  readonly runsMax: number;
  /** Never drop or shorten the liveness phase, nor any `within` (see the header). */
  readonly keepLivenessPhase: boolean;
  /** Called after every candidate run. */
  readonly onProgress?: (p: ShrinkProgress) => void;
  /** Asked before every candidate run; true ends the shrink with the smallest failure so far (SIGINT). */
  readonly shouldStop?: () => boolean;
}

export const shrinkBudgetDefault: ShrinkBudget = { runsMax: 300, keepLivenessPhase: false };

export interface ShrinkResult {
  readonly scenario: Scenario;
  /** Calls of stillFails made. */
  readonly runs: number;
  /** True when the budget ran out before a round changed nothing. */
  readonly exhausted: boolean;
  /** True when shouldStop ended the shrink early: `scenario` is the smallest failure found by then. */
  readonly interrupted: boolean;
  readonly statementsBefore: number;
  readonly statementsAfter: number;
  readonly nodesBefore: number;
  readonly nodesAfter: number;
}

/** Time floors: shortening stops here ("within reason"). */
const GAP_US_MIN = 10_000;
const WITHIN_US_MIN = 1_000_000;

/** The smallest scenario found that still fails; see shrinkScenario for the statistics. */
export function shrink(scenario: Scenario, stillFails: (s: Scenario) => boolean, budget: ShrinkBudget | number = shrinkBudgetDefault): Scenario {
  return shrinkScenario(scenario, stillFails, budget).scenario;
}

export function shrinkScenario(scenario: Scenario, stillFails: (s: Scenario) => boolean, budget: ShrinkBudget | number = shrinkBudgetDefault): ShrinkResult {
  const b: ShrinkBudget = typeof budget === 'number' ? { ...shrinkBudgetDefault, runsMax: budget } : budget;
  assert(Number.isSafeInteger(b.runsMax) && b.runsMax >= 0, `shrink: bad runsMax ${b.runsMax}`);
  const s = new Shrinker(scenario, stillFails, b);
  s.run();
  return {
    scenario: s.current,
    runs: s.runs,
    exhausted: s.exhausted,
    interrupted: s.interrupted,
    statementsBefore: scenario.body.length,
    statementsAfter: s.current.body.length,
    nodesBefore: scenario.nodes.length,
    nodesAfter: s.current.nodes.length,
  };
}

/**
 * What "fails the same way" means: the failure kind, plus for an invariant its name and for a
 * crash its first line with numbers blanked (offsets and sizes change as the scenario shrinks).
 * Every liveness failure is the same liveness failure.
 */
export function failureSignature(f: FuzzFailure): string {
  const first = f.detail.split('\n')[0] ?? '';
  switch (f.kind) {
    case 'invariant': {
      // The whole name: 'replica offset' and 'replication buffer' are two invariants.
      const m = /invariant: (.+)$/.exec(first);
      return `invariant ${m?.[1] ?? first}`;
    }
    case 'liveness':
      return 'liveness';
    case 'crash':
      return `crash ${first.replace(/\d+/g, '#')}`;
    case 'nondeterminism':
      return 'nondeterminism';
    case 'promise':
      return 'promise';
    default:
      return assertNever(f.kind);
  }
}

export interface ShrunkFailure extends ShrinkResult {
  /** The shrunk scenario run again: the failure its `.min.scn` shows. */
  readonly result: FuzzResult;
}

/**
 * Shrink a fuzz failure: a candidate still fails when executeGenerated (print, parse, run: the
 * replay path of `psync-sim run`) fails with the same signature. Liveness failures keep their
 * liveness phase (see the header). Returns null for a run that did not fail or failed by
 * nondeterminism, which no smaller scenario can be trusted to show.
 */
export function shrinkFailure(r: FuzzResult, runsMax = shrinkBudgetDefault.runsMax, onProgress?: (p: ShrinkProgress) => void, shouldStop?: () => boolean): ShrunkFailure | null {
  if (r.failure === undefined || r.failure.kind === 'nondeterminism') return null;
  const want = failureSignature(r.failure);
  // With a zoo bug on, a smaller scenario must also pass without the bug: it must show the bug,
  // not some failure of its own (a heal dropped, a bound shortened).
  const correctCore = r.options.bugs.length > 0 ? { ...r.options, bugs: [] } : null;
  const fails = (s: Scenario, as?: { file: string; header: string }): FuzzResult | null => {
    const x = executeGenerated(r.seed, s, r.options, r.faultKindsUsed, undefined, as);
    if (x.failure === undefined || failureSignature(x.failure) !== want) return null;
    if (correctCore !== null && !executeGenerated(r.seed, s, correctCore, r.faultKindsUsed).ok) return null;
    return x;
  };
  const keepLivenessPhase = r.failure.kind === 'liveness';
  const out = shrinkScenario(r.scenario, (s) => fails(s) !== null, {
    runsMax, keepLivenessPhase, ...(onProgress !== undefined ? { onProgress } : {}), ...(shouldStop !== undefined ? { shouldStop } : {}),
  });
  // The file's header and title describe the shrunk story, not the run it came from; the last run
  // is made under that header, so the failure's line numbers are the `.min.scn` file's own.
  const story: Scenario = { ...out.scenario, title: shrunkTitle(r.seed, out.scenario) };
  const result = fails(story, { file: `${resultStem(r)}.min.scn`, header: minFileHeader(r, out, story) });
  assert(result !== null, `shrink: the shrunk scenario of ${r.seed} no longer fails as ${want}`);
  return { ...out, scenario: story, result };
}

/** The `.min.scn` file: the shrunk run's failure file (its header is minFileHeader's). */
export function minFileText(sh: ShrunkFailure, scenarioFile: (r: FuzzResult) => string): string {
  return scenarioFile(sh.result);
}

/** The shrunk story's title: its seed, nodes and the kinds of step left. */
function shrunkTitle(seed: string, s: Scenario): string {
  const steps = storySteps(s);
  return `shrunk fuzz run ${seed}: ${s.nodes.length} nodes` + (steps.length > 0 ? `, ${steps.join(' ')}` : '');
}

/**
 * The comment lines of a `.min.scn`, made from the shrunk story itself: where it came from, how
 * to replay it (with the run's `--bug` flags), what was removed, its nodes and its steps. The
 * options of the original run stay in `<seed>.scn`; most no longer describe this story.
 */
export function minFileHeader(r: FuzzResult, out: ShrinkResult, story: Scenario): string {
  const stem = resultStem(r);
  const bugFlags = r.options.bugs.map((b) => ` --bug ${b}`).join('');
  const removed = out.statementsBefore - out.statementsAfter;
  const steps = storySteps(story);
  const lines = [
    `# psync-sim fuzz run ${r.seed}${bugFlags}, shrunk: ${removed} of ${out.statementsBefore} body statements removed, ` +
      `nodes ${out.nodesBefore} -> ${out.nodesAfter}, ${out.runs} runs` +
      (out.interrupted ? ' (interrupted: the smallest failing story found by then)' : out.exhausted ? ' (budget spent)' : ''),
    `# replay: psync-sim run ${stem}.min.scn${bugFlags} --trace`,
    `# the run it was shrunk from, with every option drawn from the seed: ${stem}.scn`,
    `# nodes: ${story.nodes.map((n) => n.name).join(' ')}`,
    `# steps: ${steps.length > 0 ? steps.join(', ') : 'none'}`,
  ];
  if (r.variant !== undefined) lines.push(`# under variant ${r.variant.name}: ${r.variant.statements.join('; ')}`);
  if (r.options.bugs.length > 0) lines.push(`# bugs on: ${r.options.bugs.join(' ')} (it passes without them)`);
  return lines.join('\n') + '\n';
}

/** The distinct kinds of step in the body, in order of first appearance (`crash`, `REPLICAOF NO ONE`). */
export function storySteps(s: Scenario): string[] {
  const seen: string[] = [];
  const add = (w: string): void => {
    if (!seen.includes(w)) seen.push(w);
  };
  for (const st of s.body) {
    switch (st.kind) {
      case 'at': case 'run': case 'await': case 'let': case 'expect':
        break; // time and checks, not steps
      case 'command': {
        const cmd = (st.args[0] ?? '').toUpperCase();
        const sub = (st.args[1] ?? '').toUpperCase();
        if ((cmd === 'REPLICAOF' || cmd === 'SLAVEOF') && sub === 'NO') add(`${cmd} NO ONE`);
        else if (cmd === 'CLIENT' || cmd === 'DEBUG' || cmd === 'CONFIG') add(`${cmd} ${sub}`);
        else add(cmd);
        break;
      }
      case 'load': add('load'); break;
      case 'partition': add('partition'); break;
      case 'partition-one-way': add('one-way partition'); break;
      case 'heal-all': case 'heal': case 'heal-one-way': add('heal'); break;
      case 'kill-link': add('kill-link'); break;
      case 'crash': case 'poweroff': case 'restart': add(st.kind); break;
      case 'pause': add('pause'); break;
      case 'link': add('link change'); break;
      default: assertNever(st);
    }
  }
  return seen;
}

type Unit = number[]; // body indices removed together

class Shrinker {
  current: Scenario;
  runs = 0;
  exhausted = false;
  interrupted = false;
  private readonly tried = new Set<string>();

  constructor(start: Scenario, private readonly stillFails: (s: Scenario) => boolean, private readonly budget: ShrinkBudget) {
    this.current = start;
    this.tried.add(printScenario(start));
  }

  run(): void {
    for (;;) {
      let progress = false;
      progress = this.ddmin((s) => this.blocks(s)) || progress;
      progress = this.dropNodes() || progress;
      progress = this.ddmin((s) => this.steps(s)) || progress;
      progress = this.simplify() || progress;
      progress = this.dropHeaderLines() || progress;
      progress = this.dropSentinels() || progress;
      if (!progress || this.exhausted) return;
    }
  }

  /** Try a candidate; adopt it if it still fails. */
  private attempt(candidate: Scenario): boolean {
    if (this.runs >= this.budget.runsMax) {
      this.exhausted = true;
      return false;
    }
    if (this.budget.shouldStop?.() === true) {
      // `exhausted` too, so every pass returns at once.
      this.interrupted = true;
      this.exhausted = true;
      return false;
    }
    const text = validCandidate(candidate);
    if (text === null) return false; // Not a file `psync-sim run` would accept: skip it for free.
    if (this.tried.has(text)) return false;
    this.tried.add(text);
    this.runs++;
    let fails = false;
    try {
      fails = this.stillFails(candidate);
    } catch {
      fails = false;
    }
    if (fails) this.current = candidate;
    this.budget.onProgress?.({ runs: this.runs, runsMax: this.budget.runsMax, statements: this.current.body.length, nodes: this.current.nodes.length });
    return fails;
  }

  /** Index of the first protected statement (body.length when nothing is). */
  private protectedFrom(body: readonly Statement[]): number {
    if (!this.budget.keepLivenessPhase) return body.length;
    let heal = -1;
    for (let i = body.length - 1; i >= 0 && heal < 0; i--) if (body[i]!.kind === 'heal-all') heal = i;
    if (heal < 0) {
      for (let i = body.length - 1; i >= 0; i--) if (body[i]!.kind === 'await') return i;
      return body.length;
    }
    while (heal > 0 && !isTime(body[heal]!)) heal--;
    return heal;
  }

  /**
   * Is `node` the master the protected liveness phase converges on (`node: REPLICAOF NO ONE` in
   * it)? Dropping it would leave the others following nobody: a liveness failure from nothing.
   */
  private livenessMaster(node: string): boolean {
    // The node sentinels monitor (`sentinel * monitor NAME node PORT Q`) is the same kind of anchor.
    if ((this.current.sentinelConfigs ?? []).some((c) => c.words[0] === 'monitor' && c.words[2] === node)) return true;
    const body = this.current.body;
    for (let i = this.protectedFrom(body); i < body.length; i++) {
      const st = body[i]!;
      if (st.kind === 'command' && st.node === node && st.args.join(' ').toUpperCase() === 'REPLICAOF NO ONE') return true;
    }
    return false;
  }

  /** Blocks after the first: a time statement and the steps under it, all before the protected part. */
  private blocks(s: Scenario): Unit[] {
    const out: Unit[] = [];
    const end = this.protectedFrom(s.body);
    for (let i = 1; i < end; i++) {
      if (isTime(s.body[i]!)) out.push([i]);
      else if (out.length > 0) out[out.length - 1]!.push(i);
    }
    // A block running into the protected part would drop protected steps: never the case, since
    // the protected part starts at a time statement.
    return out;
  }

  private steps(s: Scenario): Unit[] {
    const out: Unit[] = [];
    const end = this.protectedFrom(s.body);
    for (let i = 0; i < end; i++) if (!isTime(s.body[i]!)) out.push([i]);
    return out;
  }

  /** Remove units in chunks of n/2, n/4, ..., 1, keeping each removal that still fails. */
  private ddmin(units: (s: Scenario) => Unit[]): boolean {
    let progress = false;
    const n = units(this.current).length;
    if (n === 0) return false;
    for (let chunk = Math.ceil(n / 2); ; chunk = Math.ceil(chunk / 2)) {
      let i = 0;
      for (;;) {
        const us = units(this.current);
        if (i >= us.length || this.exhausted) break;
        const drop = new Set(us.slice(i, i + chunk).flat());
        const body = this.current.body.filter((_, k) => !drop.has(k));
        if (this.attempt({ ...this.current, body })) progress = true;
        else i += chunk;
      }
      if (chunk === 1 || this.exhausted) return progress;
    }
  }

  private dropNodes(): boolean {
    let progress = false;
    for (let i = 0; i < this.current.nodes.length && !this.exhausted; ) {
      if (this.current.nodes.length === 1) break;
      const name = this.current.nodes[i]!.name;
      if (!this.livenessMaster(name) && this.attempt(removeNode(this.current, name))) progress = true;
      else i++;
    }
    return progress;
  }

  /** Pass 4: each site is tried repeatedly (halving again) until it stops helping. */
  private simplify(): boolean {
    let progress = false;
    for (let i = 0; !this.exhausted; ) {
      const sites = this.simplifications(this.current);
      if (i >= sites.length) break;
      if (this.attempt(sites[i]!)) progress = true;
      else i++;
    }
    return progress;
  }

  /** Every one-step simplification of `s`, in body order. */
  private simplifications(s: Scenario): Scenario[] {
    const out: Scenario[] = [];
    const body = s.body;
    const end = this.protectedFrom(body);
    const withStmt = (i: number, st: Statement): Scenario => ({ ...s, body: body.map((x, k) => (k === i ? st : x)) });
    for (let i = 0; i < body.length; i++) {
      const st = body[i]!;
      const prot = i >= end;
      switch (st.kind) {
        case 'at': {
          const prev = i > 0 ? previousTime(body, i) : null;
          if (!st.relative && prev !== null && prev.kind === 'at' && !prev.relative) {
            // Halve the gap before this `at`, moving every later absolute `at` along with it.
            const gap = st.timeUs - prev.timeUs;
            const deltaUs = gap - half(gap);
            if (gap > GAP_US_MIN && deltaUs > 0) {
              out.push({ ...s, body: body.map((x, k) => (k >= i && x.kind === 'at' && !x.relative ? { ...x, timeUs: x.timeUs - deltaUs } : x)) });
            }
          } else if (st.relative && !prot && st.timeUs > GAP_US_MIN) out.push(withStmt(i, { ...st, timeUs: half(st.timeUs) }));
          break;
        }
        case 'run':
          if (!prot && st.durUs > GAP_US_MIN) out.push(withStmt(i, { ...st, durUs: half(st.durUs) }));
          break;
        case 'await':
          if (!this.budget.keepLivenessPhase && st.withinUs > WITHIN_US_MIN) out.push(withStmt(i, { ...st, withinUs: Math.max(WITHIN_US_MIN, half(st.withinUs)) }));
          break;
        case 'pause':
          if (!prot && st.durUs > GAP_US_MIN) out.push(withStmt(i, { ...st, durUs: half(st.durUs) }));
          break;
        case 'load':
          if (prot) break;
          if (st.count > 1) out.push(withStmt(i, { ...st, count: Math.ceil(st.count / 2) }));
          if (st.overUs > 0) out.push(withStmt(i, { ...st, overUs: st.overUs > GAP_US_MIN ? half(st.overUs) : 0 }));
          if (st.sizeBytes > 1) out.push(withStmt(i, { ...st, sizeBytes: Math.ceil(st.sizeBytes / 2) }));
          if (st.ttlUs !== undefined) {
            const { ttlUs: _ttl, ...rest } = st;
            out.push(withStmt(i, rest));
          }
          break;
        case 'partition': {
          if (prot) break;
          // A partition with one node fewer; a `heal` of the same groups follows it.
          for (let g = 0; g < st.groups.length; g++) {
            const group = st.groups[g]!;
            if (group.length < 2) continue;
            const name = group[group.length - 1]!;
            const key = JSON.stringify(st.groups);
            out.push({
              ...s,
              body: body.map((x, k) => {
                if (k === i && x.kind === 'partition') return { ...x, groups: dropFromGroups(x.groups, name)! };
                if (k > i && x.kind === 'heal' && JSON.stringify(x.groups) === key) return { ...x, groups: dropFromGroups(x.groups, name)! };
                return x;
              }),
            });
          }
          break;
        }
        default:
          break; // Other steps only shrink by going away (pass 3).
      }
    }
    return out;
  }

  private dropHeaderLines(): boolean {
    let progress = false;
    for (const field of ['configs', 'links', 'disks'] as const) {
      for (let i = 0; i < this.current[field].length && !this.exhausted; ) {
        const list = this.current[field].filter((_, k) => k !== i);
        if (this.attempt({ ...this.current, [field]: list })) progress = true;
        else i++;
      }
    }
    return progress;
  }

  /**
   * Pass 6: sentinels, then `sentinel` lines. Validation keeps what the rest needs: the last
   * sentinel and the `monitor` line while a `load @NAME` or `settled NAME` names the master, the
   * `monitor` line while another line configures that master.
   */
  private dropSentinels(): boolean {
    if (this.budget.keepLivenessPhase) return false;
    let progress = false;
    for (let i = 0; i < (this.current.sentinels ?? []).length && !this.exhausted; ) {
      if (this.attempt(removeSentinel(this.current, this.current.sentinels![i]!.name))) progress = true;
      else i++;
    }
    for (let i = 0; i < (this.current.sentinelConfigs ?? []).length && !this.exhausted; ) {
      if (this.attempt({ ...this.current, sentinelConfigs: this.current.sentinelConfigs!.filter((_, k) => k !== i) })) progress = true;
      else i++;
    }
    return progress;
  }
}

/**
 * The candidate's text when `psync-sim run` would accept it as a file, else null: it prints,
 * parses back (the parser's checks: `load @NAME` needs sentinels that monitor NAME, ...), and the
 * executor sets it up (its start-up checks: config values, sentinel directives naming a master
 * nobody monitors) with an empty body, so nothing runs.
 */
export function validCandidate(candidate: Scenario): string | null {
  try {
    const text = printScenario(candidate);
    const parsed = parseScenario(text, 'shrink-candidate.scn');
    runScenario({ ...parsed, body: [] }, { trace: null, file: 'shrink-candidate.scn', source: text });
    return text;
  } catch (e) {
    // ScenarioError: refused by the parser or the executor's set-up. Anything else (the printer's
    // assertions) refuses it too: a shrink never stops on a candidate.
    maybe(e instanceof ScenarioError);
    return null;
  }
}

function isTime(st: Statement): boolean {
  return st.kind === 'at' || st.kind === 'run' || st.kind === 'await';
}

function previousTime(body: readonly Statement[], i: number): Statement | null {
  for (let k = i - 1; k >= 0; k--) if (isTime(body[k]!)) return body[k]!;
  return null;
}

/** Half a duration, to whole milliseconds when it is that large (shorter printed text). */
function half(us: number): number {
  const h = Math.floor(us / 2);
  return h >= 2000 ? h - (h % 1000) : h;
}

/** Groups without `name`; null when fewer than two non-empty groups remain. */
function dropFromGroups(groups: readonly string[][], name: string): string[][] | null {
  const out = groups.map((g) => g.filter((n) => n !== name)).filter((g) => g.length > 0);
  return out.length >= 2 ? out : null;
}

/** Does the predicate name `node` anywhere but in a `converged` list? */
function predicateNames(p: Predicate, node: string): boolean {
  switch (p.kind) {
    case 'compare':
      return p.left.node === node || (p.right.kind === 'field' && p.right.node === node);
    case 'reply':
      return p.node === node || p.args.slice(1).includes(node);
    case 'converged':
    case 'settled':
      return false;
    case 'and':
    case 'or':
      return predicateNames(p.left, node) || predicateNames(p.right, node);
    case 'not':
      return predicateNames(p.operand, node);
    default:
      return assertNever(p);
  }
}

/** The predicate without `node` in its `converged` lists; null when a list would empty. */
function predicateWithout(p: Predicate, node: string): Predicate | null {
  if (predicateNames(p, node)) return null;
  switch (p.kind) {
    case 'compare':
    case 'reply':
    case 'settled':
      return p;
    case 'converged': {
      if (!p.nodes.includes(node)) return p;
      const nodes = p.nodes.filter((n) => n !== node);
      return nodes.length > 0 ? { ...p, nodes } : null;
    }
    case 'and':
    case 'or': {
      const left = predicateWithout(p.left, node);
      const right = predicateWithout(p.right, node);
      return left !== null && right !== null ? { ...p, left, right } : null;
    }
    case 'not': {
      const operand = predicateWithout(p.operand, node);
      return operand !== null ? { ...p, operand } : null;
    }
    default:
      return assertNever(p);
  }
}

/** The scenario without sentinel `name`: its declaration, its `sentinel NAME ...` lines and every step naming it. */
export function removeSentinel(s: Scenario, name: string): Scenario {
  const body: Statement[] = [];
  for (const st of s.body) {
    const kept = statementWithout(st, name, () => false);
    if (kept !== null) body.push(kept);
  }
  const sentinels = (s.sentinels ?? []).filter((n) => n.name !== name);
  return { ...s, sentinels, sentinelConfigs: (s.sentinelConfigs ?? []).filter((c) => c.target !== name), body };
}

/** The scenario without `node`: its declaration and every line that names it. */
export function removeNode(s: Scenario, node: string): Scenario {
  const pairHas = (t: '*' | [string, string]): boolean => t !== '*' && (t[0] === node || t[1] === node);
  const body: Statement[] = [];
  for (const st of s.body) {
    const kept = statementWithout(st, node, pairHas);
    if (kept !== null) body.push(kept);
  }
  return {
    ...s,
    nodes: s.nodes.filter((n) => n.name !== node),
    // `config r2 replicaof r1 6379` names r1 in its value.
    configs: s.configs.filter((c) => c.target !== node && !c.value.split(/\s+/).includes(node)),
    links: s.links.filter((l) => !pairHas(l.target)),
    disks: s.disks.filter((d) => d.target !== node),
    body,
  };
}

function statementWithout(st: Statement, node: string, pairHas: (t: '*' | [string, string]) => boolean): Statement | null {
  switch (st.kind) {
    case 'at':
    case 'run':
    case 'heal-all':
      return st;
    case 'await': {
      const pred = predicateWithout(st.pred, node);
      return pred === null ? null : { ...st, pred };
    }
    case 'expect': {
      const pred = predicateWithout(st.pred, node);
      return pred === null ? null : { ...st, pred };
    }
    case 'command':
      // `r2: REPLICAOF r1 6379` and `FAILOVER TO r1 6379` name r1 as an argument.
      return st.node === node || st.args.slice(1).includes(node) ? null : st;
    case 'load':
    case 'crash':
    case 'poweroff':
    case 'restart':
    case 'pause':
      return st.node === node ? null : st;
    case 'partition':
    case 'heal': {
      const groups = dropFromGroups(st.groups, node);
      return groups === null ? null : { ...st, groups };
    }
    case 'partition-one-way':
    case 'heal-one-way':
      return st.from === node || st.to === node ? null : st;
    case 'kill-link':
      return st.a === node || st.b === node ? null : st;
    case 'link':
      return pairHas(st.target) ? null : st;
    case 'let':
      return st.value.kind === 'field' && st.value.node === node ? null : st;
    default:
      return assertNever(st);
  }
}
