/**
 * The lab's program: a scenario plus what the learner did, as one scenario AST that is run from
 * the start every time it changes. Pure and deterministic (no DOM, no clock): the page
 * (sim/lab/client.ts) and the tests both use it.
 *
 * Theory of operation. A learner's action at virtual time T (crash a node, partition, a command
 * typed into a node's console) becomes scenario steps placed in the body where the run's clock
 * passes T. Each run records when every body statement started and ended (RunOptions.onStatement);
 * the first statement still running at T is cut in two around the new steps:
 *
 *   at X / at +D   ->  at T, steps, then the rest of the wait (`at X`, or `at +(X - T)`)
 *   run D          ->  at T, steps, run (start + D - T)
 *   await P within W  ->  at T, steps, await P within (start + W - T)
 *
 * The cut keeps the prefix: an `await` still running at T saw P false after every event up to T,
 * and `at T` runs exactly those events, so the run up to T is the one the learner watched; the
 * deadline is unchanged. (One exception: an `await` on a command's reply sends that command after
 * every event, and `at T` does not; a command that changes state, such as a read that expires
 * a key, can then differ before T. The export is still exactly what ran.) A step that holds the
 * script (a blocking command) cannot be cut: the new steps go right after it, at its end. After
 * the last statement the steps are appended under `at T`.
 *
 * The program is kept as text printed by sim/scenario/printer.ts and parsed back, and that text
 * is what runs (check quotes and line numbers come from it). So the export is the program
 * itself: `psync-sim run` of the exported file replays the same trace, byte for byte.
 */
import { parseScenario } from '../scenario/parser.ts';
import { printScenario } from '../scenario/printer.ts';
import { runScenario } from '../scenario/run.ts';
import type { RunResult } from '../scenario/run.ts';
import { NO_POS } from '../scenario/ast.ts';
import type { Scenario, Statement, Step, AtStmt } from '../scenario/ast.ts';
import { Recorder } from '../trace/record.ts';
import type { Recording } from '../trace/record.ts';
import { jsonLine } from '../trace/render.ts';
import { splitArgs } from '../core/resp.ts';
import { assertNever } from '../assert.ts';

/** What a learner can do from the page, at the lab's current virtual time. */
export type LabAction =
  | { kind: 'crash' | 'poweroff' | 'restart'; node: string }
  | { kind: 'pause'; node: string; durUs: number }
  | { kind: 'partition'; groups: string[][] }
  | { kind: 'heal-all' }
  | { kind: 'kill-link'; a: string; b: string }
  /** A line typed into a node's console, redis-cli style. */
  | { kind: 'command'; node: string; line: string };

/** When a body statement ran, in virtual microseconds. */
export interface StatementSpan {
  readonly startUs: number;
  readonly endUs: number;
}

export interface LabRun {
  /** The program's text: what ran, and what "export" writes. */
  readonly text: string;
  /** The program parsed from `text` (positions match the text). */
  readonly program: Scenario;
  readonly result: RunResult;
  readonly recording: Recording;
  /** Per body statement, when it ran (absent for statements after a broken invariant). */
  readonly spans: readonly (StatementSpan | undefined)[];
  /** The trace as the determinism tests hash it: one jsonLine per event. */
  readonly traceLines: readonly string[];
}

/** A learner action as a scenario step; throws LabError for a command line that does not split. */
export function actionStep(a: LabAction): Step {
  switch (a.kind) {
    case 'crash':
    case 'poweroff':
    case 'restart':
      return { kind: a.kind, pos: NO_POS, node: a.node };
    case 'pause':
      return { kind: 'pause', pos: NO_POS, node: a.node, durUs: a.durUs };
    case 'partition':
      return { kind: 'partition', pos: NO_POS, groups: a.groups.map((g) => [...g]) };
    case 'heal-all':
      return { kind: 'heal-all', pos: NO_POS };
    case 'kill-link':
      return { kind: 'kill-link', pos: NO_POS, a: a.a, b: a.b };
    case 'command': {
      const args = splitArgs(a.line.trim());
      if (args === null) throw new LabError('unbalanced quotes');
      if (args.length === 0) throw new LabError('type a command, e.g. INFO replication');
      return { kind: 'command', pos: NO_POS, node: a.node, args };
    }
    default:
      return assertNever(a);
  }
}

/** A learner action the lab refuses, with a message for the page. */
export class LabError extends Error {
  override readonly name = 'LabError';
}

/** Parse `source` and run it, recording everything the page shows. ScenarioError for bad text. */
export function runProgramText(source: string, file: string, seed?: string): LabRun {
  const program = parseScenario(source, file);
  return runParsed(program, source, file, seed);
}

function runParsed(program: Scenario, text: string, file: string, seed?: string): LabRun {
  const rec = new Recorder();
  const traceLines: string[] = [];
  const spans: StatementSpan[] = [];
  const result = runScenario(program, {
    seed, file, source: text, observe: rec.observe,
    trace: (s) => {
      traceLines.push(jsonLine(s));
      rec.sink(s);
    },
    onStatement: (i, startUs, endUs) => void (spans[i] = { startUs, endUs }),
  });
  const recording = rec.recording({ title: program.title, file, seed: result.seed, nodes: program.nodes.map((n) => n.name), endUs: result.virtualUs });
  return { text, program, result, recording, spans, traceLines };
}

function at(timeUs: number, relative = false): AtStmt {
  return { kind: 'at', pos: NO_POS, relative, timeUs };
}

/**
 * The program with `steps` done at `atUs` (see the theory of operation). Returns the new
 * scenario and the virtual time the steps actually run at (later than `atUs` only after a
 * blocking command).
 */
export function insertSteps(program: Scenario, spans: readonly (StatementSpan | undefined)[], atUs: number, steps: readonly Step[]): { scenario: Scenario; atUs: number } {
  const body = program.body;
  let i = 0;
  while (i < body.length && spans[i] !== undefined && spans[i]!.endUs <= atUs) i++;
  const before = body.slice(0, i);
  if (i >= body.length || spans[i] === undefined) {
    return { scenario: { ...program, body: [...before, at(atUs), ...steps, ...body.slice(i)] }, atUs };
  }
  const st = body[i]!;
  const { startUs } = spans[i]!;
  const after = body.slice(i + 1);
  let cut: Statement[];
  let actualUs = atUs;
  switch (st.kind) {
    case 'at': {
      const targetUs = st.relative ? startUs + st.timeUs : st.timeUs;
      cut = [at(atUs), ...steps, st.relative ? at(targetUs - atUs, true) : st];
      break;
    }
    case 'run':
      cut = [at(atUs), ...steps, { ...st, durUs: startUs + st.durUs - atUs }];
      break;
    case 'await':
      cut = [at(atUs), ...steps, { ...st, withinUs: startUs + st.withinUs - atUs }];
      break;
    default:
      // A step that held the script (a blocking command, an expect waiting for a reply).
      cut = [st, ...steps];
      actualUs = spans[i]!.endUs;
      break;
  }
  return { scenario: { ...program, body: [...before, ...cut, ...after] }, atUs: actualUs };
}

/**
 * The lab's whole state between two learner actions: the current program's run and the log of
 * what the learner did (for the page's list and for undo).
 */
export interface LabDone {
  readonly atUs: number;
  readonly action: LabAction | { kind: 'run-on'; durUs: number };
  /** The program's text before this action (undo goes back to it). */
  readonly textBefore: string;
}

export class LabSession {
  run: LabRun;
  readonly done: LabDone[] = [];

  /**
   * `seed` (digits or 0x-hex) replaces the file's: it is written into the program, so the
   * export replays without --seed. ScenarioError for bad source.
   */
  constructor(source: string, readonly file: string, seed?: string) {
    // The first run is of the printed text, so that every later run differs from it only by
    // the learner's steps (the original's comments and layout are not kept).
    const parsed = parseScenario(source, file);
    if (seed !== undefined && seed !== '') {
      if (!/^(\d+|0x[0-9a-fA-F]+)$/.test(seed)) throw new LabError(`seed '${seed}': digits or 0x-hex`);
      parsed.seed = seed;
    }
    this.run = runProgramText(printScenario(parsed), file);
  }

  get endUs(): number {
    return this.run.result.virtualUs;
  }

  /** Do `action` at `atUs` (the page's "now"); returns the time it ran at. */
  act(action: LabAction, atUs: number): number {
    const steps = [actionStep(action)];
    const { scenario, atUs: actualUs } = insertSteps(this.run.program, this.run.spans, Math.round(atUs), steps);
    this.rerun(scenario, { atUs: actualUs, action, textBefore: this.run.text });
    return actualUs;
  }

  /** Let the story go on for `durUs` after its end (a `run` at the end of the program). */
  runOn(durUs: number): void {
    const p = this.run.program;
    const scenario: Scenario = { ...p, body: [...p.body, { kind: 'run', pos: NO_POS, durUs }] };
    this.rerun(scenario, { atUs: this.endUs, action: { kind: 'run-on', durUs }, textBefore: this.run.text });
  }

  undo(): boolean {
    const last = this.done.pop();
    if (last === undefined) return false;
    this.run = runProgramText(last.textBefore, this.file);
    return true;
  }

  /** Run the new program; only if it runs does the action count (a refused one changes nothing). */
  private rerun(scenario: Scenario, done: LabDone): void {
    const run = runProgramText(printScenario(scenario) + actionsFooter([...this.done, done]), this.file);
    this.done.push(done);
    this.run = run;
  }

  /** The `.scn` file of what ran, byte for byte: `psync-sim run` of it replays the same trace. */
  exportText(): string {
    return this.run.text;
  }
}

/**
 * What the learner did, as comments after the last statement: they explain the file and, being
 * after everything, move no statement's line (check events carry line numbers).
 */
export function actionsFooter(done: readonly LabDone[]): string {
  if (done.length === 0) return '';
  return '\n# Done in psync-sim lab (each is a step above, at its virtual time):\n' + done.map((d) => `#   ${formatAction(d)}\n`).join('');
}

/** One line for the page's list of actions and the export's header comment. */
export function formatAction(d: { atUs: number; action: LabDone['action'] }): string {
  const t = `${(d.atUs / 1e6).toFixed(6)}s`;
  const a = d.action;
  switch (a.kind) {
    case 'crash': case 'poweroff': case 'restart':
      return `${t} ${a.kind} ${a.node}`;
    case 'pause':
      return `${t} pause ${a.node} ${a.durUs / 1e6}s`;
    case 'partition':
      return `${t} partition ${a.groups.map((g) => g.join(' ')).join(' | ')}`;
    case 'heal-all':
      return `${t} heal`;
    case 'kill-link':
      return `${t} kill-link ${a.a} ${a.b}`;
    case 'command':
      return `${t} ${a.node}: ${a.line.trim()}`;
    case 'run-on':
      return `${t} run on for ${a.durUs / 1e6}s`;
    default:
      return assertNever(a);
  }
}

/** The recording as far as the learner has watched: events and states at or before `nowUs`. */
export function cutAt(rec: Recording, nowUs: number): Recording {
  const events = rec.events.filter((e) => e.atUs <= nowUs);
  const states: Record<string, Recording['states'][string]> = {};
  for (const [n, list] of Object.entries(rec.states)) states[n] = list.filter((s) => s.atUs <= nowUs);
  return { ...rec, events, states, endUs: nowUs };
}

