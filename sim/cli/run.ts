/**
 * `psync-sim run`: parse, replay and report scenario files (scenarios/README.md, "Running").
 * Prints each expect/await with its line as it passes or fails, then `N passed, N failed` alone
 * on the last line. `--seeds a..b` sweeps each file over many seeds and counts, per check, on
 * how many seeds it held. Exit status (sim/cli/exit.ts): 0 all passed, 1 an expectation failed,
 * 2 invalid input, 3 a psync-sim bug, 130 interrupted (after the totals so far).
 */
import { statSync, readdirSync, openSync, readSync, closeSync, writeSync, fstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Chalk } from 'chalk';
import { parseScenario } from '../scenario/parser.ts';
import { ScenarioError } from '../scenario/errors.ts';
import { BUG_NAMES, isBugName } from '../core/bugs.ts';
import type { BugName } from '../core/bugs.ts';
import { runScenario } from '../scenario/run.ts';
import type { CheckResult, RunResult } from '../scenario/run.ts';
import type { Stamped } from '../trace/events.ts';
import { renderStamped, formatTimeUs } from '../trace/render.ts';
import type { Palette } from '../trace/render.ts';
import { renderTimeline } from '../trace/timeline.ts';
import { liveProgress } from './progress.ts';
import { EXIT, UsageError, isInterrupted, isPathError, replayLine } from './exit.ts';
import { headerRecord, eventRecord, checkRecord, summaryRecord, errorRecord } from './records.ts';
import { renderLedgerReport } from '../clients/report.ts';
import { Recorder } from '../trace/record.ts';
import { renderHtml } from '../trace/html.ts';
import { concerns, parseNodeList } from '../trace/filter.ts';
import type { Scenario } from '../scenario/ast.ts';

export interface RunCommandOptions {
  files: string[];
  seed?: string;
  /** `a..b`: replay every file once per integer seed in the range (a sweep). */
  seeds?: string;
  trace: boolean;
  /** `stream` adds the replication stream to every trace output (sim/core/stream-trace.ts). Default protocol. */
  traceLevel?: 'protocol' | 'stream' | 'commands';
  /** `a,b`: only the trace events that concern these processes (sim/trace/filter.ts). */
  nodes?: string;
  timeline: boolean;
  /** A path for JSON lines, or `-` for stdout (the text report then goes to stderr). */
  json?: string;
  report: boolean;
  quiet: boolean;
  /** Bug-zoo names to switch on (validated here). */
  bugs?: string[];
  /** Print the stack of an internal error. */
  debug?: boolean;
  /** Write the run as a self-contained page (one scenario file only). */
  html?: string;
}

/** The largest scenario file read (a story is a few KB; this bounds memory on hostile input). */
export const SCENARIO_SIZE_MAX_BYTES = 4 * 1024 * 1024;
/** The widest --seeds sweep. */
export const SWEEP_SEEDS_MAX = 100_000;

/** Colour only for a terminal that wants it (NO_COLOR, non-TTY and FORCE_COLOR respected). */
export function makeChalk(stream: NodeJS.WriteStream = process.stdout): InstanceType<typeof Chalk> {
  const force = process.env.FORCE_COLOR;
  const level = process.env.NO_COLOR ? 0 : force !== undefined && force !== '0' ? 1 : stream.isTTY ? 1 : 0;
  return new Chalk({ level });
}

export function palette(c: InstanceType<typeof Chalk>): Palette {
  return { time: c.gray, node: c.cyan, good: c.green, bad: c.red, dim: c.dim, em: c.bold };
}

/** Expand folders into their *.scn files (recursively, sorted); keep files as given. */
export function expandFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`no such file or folder: ${p}`);
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) {
        const q = join(p, e);
        if (statSync(q).isDirectory() || e.endsWith('.scn')) walk(q);
      }
    } else out.push(p);
  };
  for (const p of paths) walk(p);
  return out;
}

/**
 * Read a scenario file with bounded memory: at most SCENARIO_SIZE_MAX_BYTES, read in chunks so
 * a device (/dev/zero) or a growing pipe stops at the limit instead of filling memory. Latin-1
 * keeps every byte as one character (binary arguments survive); the parser drops a UTF-8 BOM.
 */
export function readScenarioFile(path: string, limitBytes = SCENARIO_SIZE_MAX_BYTES): string {
  const fd = openSync(path, 'r');
  try {
    if (fstatSync(fd).isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > limitBytes) throw new UsageError(`${path}: larger than ${limitBytes / 1024 / 1024} MB, the most psync-sim reads as a scenario`);
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks, total).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/** Parse `--seeds a..b` (or one integer) into the seeds to sweep. */
export function parseSeedRange(text: string): string[] {
  const m = /^\s*(\d{1,15})(?:\.\.(\d{1,15}))?\s*$/.exec(text);
  if (m === null) throw new UsageError(`--seeds: expected a..b (integers, a <= b), got '${text}'`);
  const a = Number(m[1]);
  const b = m[2] !== undefined ? Number(m[2]) : a;
  if (a > b) throw new UsageError(`--seeds: expected a <= b, got '${text}'`);
  if (b - a + 1 > SWEEP_SEEDS_MAX) throw new UsageError(`--seeds: at most ${SWEEP_SEEDS_MAX} seeds in one sweep, got ${b - a + 1}`);
  const seeds: string[] = [];
  for (let s = a; s <= b; s++) seeds.push(String(s));
  return seeds;
}

/** Where JSON lines go: a file opened before any run (so a bad path is exit 2 at once), or stdout. */
interface JsonOut {
  write(line: string): void;
  close(): void;
}

function openJsonOut(path: string): JsonOut {
  if (path === '-') return { write: (l) => void process.stdout.write(l + '\n'), close: () => {} };
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (e) {
    throw new UsageError(`--json: cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return {
    write: (l) => {
      try {
        writeSync(fd, l + '\n');
      } catch (e) {
        throw new UsageError(`--json: cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    },
    close: () => closeSync(fd),
  };
}

const yieldToSignals = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Row { file: string; r: RunResult | null; wallMs: number; error?: string }

export async function runCommand(o: RunCommandOptions): Promise<number> {
  const jsonToStdout = o.json === '-';
  const textStream = jsonToStdout ? process.stderr : process.stdout;
  const c = makeChalk(textStream);
  const pal = palette(c);
  const print = (s: string): void => void textStream.write(s + '\n');
  const bugs: BugName[] = [];
  for (const b of o.bugs ?? []) {
    if (!isBugName(b)) throw new UsageError(`--bug: unknown bug '${b}' (the zoo has: ${BUG_NAMES.join(', ')})`);
    bugs.push(b);
  }
  if (o.seed !== undefined && o.seeds !== undefined) throw new UsageError('--seed and --seeds: give one or the other');
  if (o.seed !== undefined && (o.seed.length === 0 || /[\n\r#]/.test(o.seed))) throw new UsageError(`--seed: '${o.seed}' must be one line without '#'`);
  const sweep = o.seeds !== undefined ? parseSeedRange(o.seeds) : null;
  if (sweep !== null && (o.trace || o.timeline)) throw new UsageError('--seeds: --trace and --timeline show one run; replay one seed with --seed N');
  if (sweep !== null && ((o.traceLevel === 'stream' || o.traceLevel === 'commands') || o.nodes !== undefined)) throw new UsageError('--seeds: --trace-level and --nodes shape the trace of one run; replay one seed with --seed N');
  if (o.traceLevel !== undefined && o.traceLevel !== 'protocol' && o.traceLevel !== 'stream' && o.traceLevel !== 'commands') throw new UsageError(`--trace-level: expected protocol, stream or commands, got '${String(o.traceLevel)}'`);
  const nodeNames = o.nodes !== undefined ? parseNodeList(o.nodes) : null;
  if (o.nodes !== undefined && nodeNames === null) throw new UsageError(`--nodes: expected process names separated by commas, e.g. m,r1; got '${o.nodes}'`);
  // Asking for a trace's shape and nothing to show it in means the text trace.
  if ((o.traceLevel === 'stream' || o.traceLevel === 'commands' || nodeNames !== null) && !o.trace && !o.timeline && o.json === undefined && o.html === undefined) o = { ...o, trace: true };
  const files = expandFiles(o.files);
  if (files.length === 0) throw new UsageError('no scenario files found');
  if (o.html !== undefined && files.length !== 1) throw new UsageError(`--html writes one page for one scenario file; got ${files.length} files`);
  const json = o.json !== undefined ? openJsonOut(o.json) : null;
  try {
    return sweep !== null ? await sweepFiles(files, sweep, bugs, o, c, json) : await runFiles(files, bugs, o, c, pal, print, json);
  } finally {
    json?.close();
  }
}

async function runFiles(
  files: string[], bugs: BugName[], o: RunCommandOptions, c: InstanceType<typeof Chalk>, pal: Palette,
  printLine: (s: string) => void, json: JsonOut | null,
): Promise<number> {
  // A long run shows a live progress line on a TTY's stderr; anything printed clears it first.
  const live = o.trace ? null : liveProgress();
  const print = live === null ? printLine : (s: string): void => {
    live.clear();
    printLine(s);
  };
  let passed = 0;
  let failed = 0;
  let invalid = 0;
  let internal = 0;
  let stopped = false;
  const rows: Row[] = [];
  for (const file of files) {
    await yieldToSignals();
    if (isInterrupted()) {
      stopped = true;
      break;
    }
    const loaded = loadFile(file, print, c, json);
    if (loaded === null) {
      invalid++;
      rows.push({ file, r: null, wallMs: 0, error: 'invalid' });
      continue;
    }
    const { scenario, text } = loaded;
    const seed = o.seed ?? scenario.seed ?? '1';
    json?.write(headerRecord({ command: 'run', file, seed, bugs }));
    const timeline: Stamped[] = [];
    const recorder = o.html !== undefined ? new Recorder() : null;
    const wantTrace = o.trace || o.timeline || json !== null || recorder !== null;
    const only = o.nodes !== undefined ? new Set(parseNodeList(o.nodes)!) : null;
    if (only !== null) checkNodeNames(file, scenario, only);
    const sink = wantTrace
      ? (s: Stamped): void => {
          recorder?.sink(s);
          if (only !== null && !concerns(s.event, only)) return;
          if (o.trace) print(renderStamped(s, pal));
          if (o.timeline) timeline.push(s);
          if (json !== null) json.write(eventRecord(file, s));
        }
      : null;
    if (!o.quiet) print(c.bold(`▶ ${file}`) + (scenario.title ? ` — ${scenario.title}` : ''));
    const t0 = performance.now();
    live?.restart();
    let result: RunResult;
    try {
      result = runScenario(scenario, {
        seed: o.seed, trace: sink, traceStream: o.traceLevel === 'stream', traceCommands: o.traceLevel === 'commands', file, source: text, bugs,
        observe: recorder?.observe,
        ...(live !== null ? { onProgress: live.update } : {}),
        onCheck: (r: CheckResult) => {
          json?.write(checkRecord(file, seed, r));
          if (o.quiet && r.ok) return;
          if (o.trace) return; // The trace already shows the check event.
          print(formatCheck(r, pal, o.quiet ? file : null));
        },
      });
    } catch (e) {
      if (e instanceof ScenarioError) {
        print(c.red(e.format()));
        json?.write(errorRecord(file, 'invalid', e.format()));
        invalid++;
        rows.push({ file, r: null, wallMs: performance.now() - t0, error: 'invalid' });
        continue;
      }
      if (e instanceof UsageError) throw e;
      // Anything else is a psync-sim bug, not the file's: say so, with how to replay it.
      const msg = e instanceof Error ? e.message : String(e);
      print(c.red(`${file}: internal error (a psync-sim bug, please report it): ${msg.split('\n')[0]}`));
      print(c.dim(`  replay: ${replayLine(['run', file, '--seed', seed, ...bugs.flatMap((b) => ['--bug', b]), '--trace', '--debug'])}`));
      if (o.debug && e instanceof Error && e.stack) print(e.stack);
      json?.write(errorRecord(file, 'internal', msg.split('\n')[0]!));
      internal++;
      rows.push({ file, r: null, wallMs: performance.now() - t0, error: 'bug' });
      continue;
    }
    const wallMs = performance.now() - t0;
    live?.clear();
    if (recorder !== null && o.html !== undefined) {
      const rec = recorder.recording({ title: scenario.title, file, seed: result.seed, nodes: scenario.nodes.map((n) => n.name), endUs: result.virtualUs });
      try {
        writeFileSync(o.html, renderHtml(rec));
      } catch (e) {
        throw new UsageError(`--html: cannot write ${o.html}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (!o.quiet) print(c.dim(`  page: ${o.html}`));
    }
    if (o.timeline) print(renderTimeline(timeline, [...scenario.nodes, ...(scenario.clients ?? [])].map((n) => n.name), terminalColumns()));
    passed += result.passed;
    failed += result.failed;
    rows.push({ file, r: result, wallMs });
    json?.write(summaryRecord(file, result));
    if (!o.quiet) {
      print(c.dim(`  seed ${result.seed}, ${formatTimeUs(result.virtualUs)} virtual in ${wallMs.toFixed(0)} ms wall, ${result.events} events`));
    }
    // The write ledger, after the checks (only for files with `clients`).
    if (result.ledger !== undefined) {
      if (!o.quiet) for (const line of renderLedgerReport(result.ledger)) print(line);
      json?.write(JSON.stringify({ type: 'ledger', file, ledger: result.ledger }));
    }
  }
  if (o.report) print(renderReport(rows, c));
  if (stopped) print(c.yellow(`interrupted after ${rows.length} of ${files.length} files`));
  print(`${passed} passed, ${failed} failed` + (invalid ? `, ${invalid} invalid` : '') + (internal ? `, ${internal} internal errors` : ''));
  return exitStatus({ stopped, internal, invalid, failed });
}

function exitStatus(o: { stopped: boolean; internal: number; invalid: number; failed: number }): number {
  return o.stopped ? EXIT.interrupted : o.internal > 0 ? EXIT.internal : o.invalid > 0 ? EXIT.invalid : o.failed > 0 ? EXIT.failed : EXIT.ok;
}

/** The terminal's width: COLUMNS (as a shell exports it) wins, then the TTY's, then 120. */
export function terminalColumns(): number {
  const env = Number(process.env.COLUMNS);
  if (Number.isSafeInteger(env) && env >= 20) return env;
  return process.stdout.columns || 120;
}

/** Read and parse one file; on a problem print one line and return null. */
function loadFile(file: string, print: (s: string) => void, c: InstanceType<typeof Chalk>, json: JsonOut | null) {
  let text: string;
  try {
    text = readScenarioFile(file);
  } catch (e) {
    const msg = e instanceof UsageError ? e.message : isPathError(e) ? `cannot read ${file}: ${e.code}` : null;
    if (msg === null) throw e;
    process.stderr.write(`psync-sim: ${msg}\n`);
    json?.write(errorRecord(file, 'invalid', msg));
    return null;
  }
  try {
    return { scenario: parseScenario(text, file), text };
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    print(c.red(e.format()));
    json?.write(errorRecord(file, 'invalid', e.format()));
    return null;
  }
}

/**
 * `--seeds a..b`: every file once per seed, no per-check lines; then, per check, on how many
 * seeds it held and the seeds where it did not. Progress goes to stderr on a TTY.
 */
async function sweepFiles(
  files: string[], seeds: string[], bugs: BugName[], o: RunCommandOptions, c: InstanceType<typeof Chalk>, json: JsonOut | null,
): Promise<number> {
  const print = (s: string): void => void (o.json === '-' ? process.stderr : process.stdout).write(s + '\n');
  const tty = process.stderr.isTTY === true;
  let failed = 0;
  let passed = 0;
  let invalid = 0;
  let internal = 0;
  let stopped = false;
  const t0 = performance.now();
  for (const file of files) {
    const loaded = loadFile(file, print, c, json);
    if (loaded === null) {
      invalid++;
      continue;
    }
    const { scenario, text } = loaded;
    print(c.bold(`▶ ${file}`) + (scenario.title ? ` — ${scenario.title}` : '') + c.dim(` (seeds ${seeds[0]}..${seeds[seeds.length - 1]})`));
    const perCheck = new Map<number, { text: string; held: number; failedSeeds: string[] }>();
    let ran = 0;
    const crashedSeeds: string[] = [];
    for (const seed of seeds) {
      if (ran % 8 === 0) {
        await yieldToSignals();
        if (isInterrupted()) {
          stopped = true;
          break;
        }
        if (tty) process.stderr.write(`\r\x1b[K  seed ${seed} (${ran}/${seeds.length}, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      }
      json?.write(headerRecord({ command: 'run', file, seed, bugs }));
      try {
        const r = runScenario(scenario, {
          seed, trace: null, file, source: text, bugs,
          onCheck: (cr) => {
            json?.write(checkRecord(file, seed, cr));
            let e = perCheck.get(cr.line);
            if (e === undefined) perCheck.set(cr.line, (e = { text: cr.text, held: 0, failedSeeds: [] }));
            if (cr.ok) e.held++;
            else if (e.failedSeeds[e.failedSeeds.length - 1] !== seed) e.failedSeeds.push(seed);
          },
        });
        json?.write(summaryRecord(file, r));
        passed += r.passed;
        failed += r.failed;
      } catch (e) {
        if (e instanceof ScenarioError) {
          json?.write(errorRecord(file, 'invalid', e.format()));
          if (tty) process.stderr.write('\r\x1b[K');
          print(c.red(e.format()) + c.dim(` (seed ${seed})`));
          invalid++;
        } else {
          if (e instanceof UsageError) throw e;
          const msg = e instanceof Error ? e.message : String(e);
          json?.write(errorRecord(file, 'internal', msg.split('\n')[0]!));
          crashedSeeds.push(seed);
          internal++;
        }
      }
      ran++;
    }
    if (tty) process.stderr.write('\r\x1b[K');
    for (const [line, e] of [...perCheck].sort((a, b) => a[0] - b[0])) {
      const all = e.held + e.failedSeeds.length;
      const ok = e.failedSeeds.length === 0;
      const head = `  ${ok ? '✓' : '✗'} line ${line}: ${e.text} — held on ${e.held}/${all} seeds`;
      print(ok ? c.green(head) : c.red(head) + `\n      failed on seeds: ${listSeeds(e.failedSeeds)}`);
    }
    if (crashedSeeds.length > 0) {
      print(c.red(`  internal error (a psync-sim bug) on seeds: ${listSeeds(crashedSeeds)}`));
      print(c.dim(`  replay: ${replayLine(['run', file, '--seed', crashedSeeds[0]!, ...bugs.flatMap((b) => ['--bug', b]), '--debug'])}`));
    }
    if (stopped) break;
  }
  if (stopped) print(c.yellow('interrupted: the counts above cover the seeds run so far'));
  print(`${passed} passed, ${failed} failed` + (invalid ? `, ${invalid} invalid` : '') + (internal ? `, ${internal} internal errors` : ''));
  return exitStatus({ stopped, internal, invalid, failed });
}

/** `--nodes`: every name must be a process of the file (a node, a client or a sentinel). */
function checkNodeNames(file: string, s: Scenario, names: ReadonlySet<string>): void {
  const known = [...s.nodes, ...(s.clients ?? []), ...(s.sentinels ?? [])].map((d) => d.name);
  for (const name of names) {
    if (!known.includes(name)) throw new UsageError(`--nodes: ${file} has no process named '${name}' (it has ${known.join(', ')})`);
  }
}

/** At most 20 seeds, then how many more. */
function listSeeds(seeds: string[]): string {
  return seeds.slice(0, 20).join(' ') + (seeds.length > 20 ? ` … (${seeds.length - 20} more)` : '');
}

export function formatCheck(r: CheckResult, p: Palette, file: string | null): string {
  const where = file ? `${file}:${r.line}` : `line ${r.line}`;
  if (r.ok) return p.good(`  ✓ ${where}: ${r.text}`) + p.dim(` (at ${formatTimeUs(r.atUs)})`);
  return p.bad(`  ✗ ${where}: ${r.text}`) + `\n      ${r.detail}` + p.dim(` (at ${formatTimeUs(r.atUs)})`);
}

function renderReport(rows: Row[], c: InstanceType<typeof Chalk>): string {
  const w = Math.max(8, ...rows.map((r) => r.file.length));
  const lines = ['', c.bold(`${'scenario'.padEnd(w)}  result  checks   virtual     wall  events`)];
  for (const { file, r, wallMs, error } of rows) {
    if (r === null) {
      lines.push(`${file.padEnd(w)}  ${c.red(error!.padEnd(6))}`);
      continue;
    }
    const ok = r.failed === 0;
    lines.push(`${file.padEnd(w)}  ${ok ? c.green('pass  ') : c.red('FAIL  ')}  ${`${r.passed}/${r.passed + r.failed}`.padStart(6)}  ` +
      `${formatTimeUs(r.virtualUs).padStart(10)}  ${`${wallMs.toFixed(0)}ms`.padStart(7)}  ${String(r.events).padStart(6)}`);
  }
  return lines.join('\n');
}
