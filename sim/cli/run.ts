/**
 * `psync-sim run`: parse, replay and report scenario files (scenarios/README.md, "Running").
 * Prints each expect/await with its line as it passes or fails, then `N passed, N failed` alone
 * on the last line. Exit status: 0 all passed, 1 an expectation failed, 2 a file is invalid.
 */
import { readFileSync, statSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Chalk } from 'chalk';
import { parseScenario } from '../scenario/parser.ts';
import { ScenarioError } from '../scenario/errors.ts';
import { AssertionError } from '../assert.ts';
import { BUG_NAMES, isBugName } from '../core/bugs.ts';
import type { BugName } from '../core/bugs.ts';
import { runScenario } from '../scenario/run.ts';
import type { CheckResult, RunResult } from '../scenario/run.ts';
import type { Stamped } from '../trace/events.ts';
import { renderStamped, jsonLine, formatTimeUs } from '../trace/render.ts';
import type { Palette } from '../trace/render.ts';
import { renderTimeline } from '../trace/timeline.ts';
import { Recorder } from '../trace/record.ts';
import { renderHtml } from '../trace/html.ts';

export interface RunCommandOptions {
  files: string[];
  seed?: string;
  trace: boolean;
  timeline: boolean;
  json?: string;
  report: boolean;
  quiet: boolean;
  /** Bug-zoo names to switch on (validated here). */
  bugs?: string[];
  /** Write the run as a self-contained page (one scenario file only). */
  html?: string;
}

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
    if (!existsSync(p)) throw new Error(`no such file or folder: ${p}`);
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p).sort()) {
        const q = join(p, e);
        if (statSync(q).isDirectory() || e.endsWith('.scn')) walk(q);
      }
    } else out.push(p);
  };
  for (const p of paths) walk(p);
  return out;
}

export function runCommand(o: RunCommandOptions): number {
  const c = makeChalk();
  const pal = palette(c);
  const print = (s: string): void => void process.stdout.write(s + '\n');
  const bugs: BugName[] = [];
  for (const b of o.bugs ?? []) {
    if (!isBugName(b)) {
      process.stderr.write(`psync-sim: unknown bug '${b}' (the zoo has: ${BUG_NAMES.join(', ')})\n`);
      return 2;
    }
    bugs.push(b);
  }
  let files: string[];
  try {
    files = expandFiles(o.files);
  } catch (e) {
    process.stderr.write(`psync-sim: ${(e as Error).message}\n`);
    return 2;
  }
  if (files.length === 0) {
    process.stderr.write('psync-sim: no scenario files found\n');
    return 2;
  }
  if (o.html !== undefined && files.length !== 1) {
    process.stderr.write(`psync-sim: --html writes one page for one scenario file; got ${files.length} files\n`);
    return 2;
  }
  let passed = 0;
  let failed = 0;
  let invalid = 0;
  const json: string[] = [];
  const rows: Array<{ file: string; r: RunResult | null; wallMs: number; error?: string }> = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch (e) {
      process.stderr.write(`psync-sim: cannot read ${file}: ${(e as Error).message}\n`);
      invalid++;
      rows.push({ file, r: null, wallMs: 0, error: 'unreadable' });
      continue;
    }
    let scenario;
    try {
      scenario = parseScenario(text, file);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      print(c.red(e.format()));
      invalid++;
      rows.push({ file, r: null, wallMs: 0, error: 'invalid' });
      continue;
    }
    const timeline: Stamped[] = [];
    const recorder = o.html !== undefined ? new Recorder() : null;
    const wantTrace = o.trace || o.timeline || o.json !== undefined || recorder !== null;
    const sink = wantTrace
      ? (s: Stamped): void => {
          if (o.trace) print(renderStamped(s, pal));
          if (o.timeline) timeline.push(s);
          if (o.json !== undefined) json.push(jsonLine(s));
          recorder?.sink(s);
        }
      : null;
    if (!o.quiet) print(c.bold(`▶ ${file}`) + (scenario.title ? ` — ${scenario.title}` : ''));
    const t0 = performance.now();
    let result: RunResult;
    try {
      result = runScenario(scenario, {
        seed: o.seed,
        trace: sink,
        file,
        source: text,
        bugs,
        observe: recorder?.observe,
        onCheck: (r: CheckResult) => {
          if (o.quiet && r.ok) return;
          if (o.trace) return; // The trace already shows the check event.
          print(formatCheck(r, pal, o.quiet ? file : null));
        },
      });
    } catch (e) {
      if (e instanceof AssertionError) {
        // A broken assertion is a psync-sim bug, not the file's: say so, with how to replay it.
        print(c.red(`${file}: internal error (a psync-sim bug, please report it): ${e.message}`));
        print(c.dim(`  replay: psync-sim run ${file} --seed ${o.seed ?? scenario.seed ?? '1'} --trace`));
        failed++;
        rows.push({ file, r: null, wallMs: performance.now() - t0, error: 'bug' });
        continue;
      }
      if (!(e instanceof ScenarioError)) throw e;
      print(c.red(e.format()));
      invalid++;
      rows.push({ file, r: null, wallMs: performance.now() - t0, error: 'invalid' });
      continue;
    }
    const wallMs = performance.now() - t0;
    if (recorder !== null && o.html !== undefined) {
      const rec = recorder.recording({ title: scenario.title, file, seed: result.seed, nodes: scenario.nodes.map((n) => n.name), endUs: result.virtualUs });
      try {
        writeFileSync(o.html, renderHtml(rec));
      } catch (e) {
        process.stderr.write(`psync-sim: cannot write ${o.html}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
        return 2;
      }
      if (!o.quiet) print(c.dim(`  page: ${o.html}`));
    }
    if (o.timeline) print(renderTimeline(timeline, scenario.nodes.map((n) => n.name), process.stdout.columns || 120));
    passed += result.passed;
    failed += result.failed;
    rows.push({ file, r: result, wallMs });
    if (!o.quiet) {
      print(c.dim(`  seed ${result.seed}, ${formatTimeUs(result.virtualUs)} virtual in ${wallMs.toFixed(0)} ms wall, ${result.events} events`));
    }
  }
  if (o.json !== undefined) writeFileSync(o.json, json.join('\n') + (json.length ? '\n' : ''));
  if (o.report) print(renderReport(rows, c));
  print(`${passed} passed, ${failed} failed` + (invalid ? `, ${invalid} invalid` : ''));
  return invalid > 0 ? 2 : failed > 0 ? 1 : 0;
}

export function formatCheck(r: CheckResult, p: Palette, file: string | null): string {
  const where = file ? `${file}:${r.line}` : `line ${r.line}`;
  if (r.ok) return p.good(`  ✓ ${where}: ${r.text}`) + p.dim(` (at ${formatTimeUs(r.atUs)})`);
  return p.bad(`  ✗ ${where}: ${r.text}`) + `\n      ${r.detail}` + p.dim(` (at ${formatTimeUs(r.atUs)})`);
}

function renderReport(rows: Array<{ file: string; r: RunResult | null; wallMs: number; error?: string }>, c: InstanceType<typeof Chalk>): string {
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
