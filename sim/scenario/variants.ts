/**
 * Variants of one story, and the table that compares them: shared by `psync-sim compare` (one
 * file on many seeds) and `psync-sim fuzz --variant` (every generated story under each variant).
 *
 * A variant's statements are header lines added before the story's first `at`
 * (`config * min-replicas-to-write 1`, `client * timeout 500ms`, ...), plus one statement of
 * our own: `wait N TIMEOUT` adds `wait N TIMEOUT` to every `load ... from CLIENT` of the story.
 * The row figures (acknowledged, lost, failed, unknown, full syncs, failovers, settle) are read
 * from the executor's result and the write ledger (sim/clients/ledger.ts).
 */
import { parseScenario } from './parser.ts';
import { ScenarioError } from './errors.ts';
import type { Scenario } from './ast.ts';
import type { RunResult } from './run.ts';
import { formatTimeUs } from '../trace/render.ts';
import { median, percentile } from '../stats.ts';

export interface Variant {
  readonly name: string;
  /** Header statements, as written. */
  readonly statements: string[];
}

export interface RunFigures {
  readonly seed: string;
  readonly sent: number;
  readonly acked: number;
  /** null when the run ended without a single master to judge against. */
  readonly lost: number | null;
  readonly failed: number;
  readonly unknown: number;
  readonly fullSyncs: number;
  readonly failovers: number;
  /** When the story's last `await` held, or null if it did not. */
  readonly settledUs: number | null;
  readonly checksFailed: number;
}

export interface VariantSummary {
  readonly name: string;
  readonly statements: string[];
  readonly runs: RunFigures[];
  readonly acked: number;
  readonly lost: { total: number; median: number; p95: number; max: number; unjudged: number };
  readonly failed: number;
  readonly unknown: number;
  readonly fullSyncs: number;
  readonly failovers: number;
  /** Median over the runs that settled, or null if none did. */
  readonly settleMedianUs: number | null;
  readonly unsettled: number;
  readonly checksFailed: number;
}

/** Thrown for a bad variant (or compare's other input): one line, exit status 2. */
export class CompareError extends Error {}

/** `NAME: STATEMENT; STATEMENT`. */
export function parseVariant(text: string): Variant {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new CompareError(`bad --variant '${text}' (expected 'NAME: STATEMENT; STATEMENT')`);
  const name = text.slice(0, colon).trim();
  if (!/^[A-Za-z0-9_.+-]+$/.test(name)) throw new CompareError(`bad variant name '${name}' (letters, digits and _ . + -)`);
  const statements = text.slice(colon + 1).split(';').map((s) => s.trim()).filter((s) => s !== '');
  if (statements.length === 0) throw new CompareError(`variant '${name}' has no statements`);
  return { name, statements };
}

/**
 * The story under a variant: header lines before the first `at`, then compare's own `wait`.
 * `requireLoads` false (fuzz): a story without client loads takes `wait` as a no-op.
 */
export function variantScenario(text: string, file: string, v: Variant, requireLoads = true): Scenario {
  const lines = text.split('\n');
  const firstAt = lines.findIndex((l) => /^\s*at(\s|$)/.test(l));
  if (firstAt < 0) throw new CompareError(`${file}: no 'at' line`);
  let wait: { replicas: number; timeoutMs: number } | null = null;
  const header: string[] = [];
  for (const st of v.statements) {
    const w = /^wait\s+(\d+)\s+(\d+)$/.exec(st);
    if (w !== null) wait = { replicas: Number(w[1]), timeoutMs: Number(w[2]) };
    else if (/^wait(\s|$)/.test(st)) throw new CompareError(`variant '${v.name}': bad '${st}' (expected 'wait N TIMEOUT', TIMEOUT in ms)`);
    else header.push(st);
  }
  const combined = [...lines.slice(0, firstAt), ...header, ...lines.slice(firstAt)].join('\n');
  let s: Scenario;
  try {
    s = parseScenario(combined, file);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    const i = e.line - 1 - firstAt;
    if (i >= 0 && i < header.length) throw new CompareError(`variant '${v.name}': '${header[i]}': ${e.message}`);
    throw new CompareError(e.format());
  }
  if (wait !== null) {
    let loads = 0;
    for (const st of s.body) {
      if (st.kind === 'load' && st.from !== undefined) {
        st.wait = wait;
        loads++;
      }
    }
    if (loads === 0 && requireLoads) throw new CompareError(`variant '${v.name}': 'wait' needs at least one 'load ... from CLIENT' in ${file}`);
  }
  return s;
}

/** One run's row figures, read from the executor's result (compare and fuzz --variant share it). */
export function runFigures(r: RunResult, seed: string): RunFigures {
  const awaits = r.checks.filter((c) => c.kind === 'await');
  const last = awaits[awaits.length - 1];
  const t = r.ledger?.total;
  return {
    seed,
    sent: t?.sent ?? 0,
    acked: t?.acked ?? 0,
    lost: t === undefined ? 0 : t.lost,
    failed: t?.failed ?? 0,
    unknown: t?.unknown ?? 0,
    fullSyncs: r.historyCounts?.fullSyncs ?? 0,
    failovers: r.historyCounts?.promotions ?? 0,
    settledUs: last !== undefined && last.ok && !r.checks.some((c) => c.kind === 'invariant') ? last.atUs : null,
    checksFailed: r.failed,
  };
}

export function summarize(v: Variant, runs: RunFigures[]): VariantSummary {
  const judged = runs.filter((r) => r.lost !== null).map((r) => r.lost!);
  const settled = runs.filter((r) => r.settledUs !== null).map((r) => r.settledUs!);
  const sum = (f: (r: RunFigures) => number): number => runs.reduce((a, r) => a + f(r), 0);
  return {
    name: v.name,
    statements: v.statements,
    runs,
    acked: sum((r) => r.acked),
    lost: { total: judged.reduce((a, b) => a + b, 0), median: median(judged), p95: percentile(judged, 95), max: judged.length ? Math.max(...judged) : 0, unjudged: runs.length - judged.length },
    failed: sum((r) => r.failed),
    unknown: sum((r) => r.unknown),
    fullSyncs: sum((r) => r.fullSyncs),
    failovers: sum((r) => r.failovers),
    settleMedianUs: settled.length ? Math.round(median(settled)) : null,
    unsettled: runs.length - settled.length,
    checksFailed: sum((r) => r.checksFailed),
  };
}

/** The table; `what` is the first line's subject (compare: the seeds; fuzz: the campaign's stories). */
export function renderVariantTable(rows: VariantSummary[], what: string): string {
  const head = ['variant', 'acked', 'lost', 'median', 'p95', 'max', 'failed', 'unknown', 'full syncs', 'failovers', 'settle', 'checks failed'];
  const body = rows.map((r) => [
    r.name,
    String(r.acked),
    String(r.lost.total) + (r.lost.unjudged ? ` (${r.lost.unjudged} runs unjudged)` : ''),
    String(r.lost.median),
    String(r.lost.p95),
    String(r.lost.max),
    String(r.failed),
    String(r.unknown),
    String(r.fullSyncs),
    String(r.failovers),
    r.settleMedianUs === null ? 'never' : formatTimeUs(r.settleMedianUs) + (r.unsettled ? ` (${r.unsettled} never)` : ''),
    String(r.checksFailed),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [
    `${what} per variant; acked, lost, failed, unknown, full syncs and failovers are totals over the runs; median/p95/max are lost writes per run; settle is the median time the last await held`,
    line(head),
    ...body.map(line),
  ];
  for (const r of rows) if (r.statements.length > 0) out.push(`  ${r.name}: ${r.statements.join('; ')}`);
  return out.join('\n');
}
