/**
 * The `--html` page of a 100k-event run, measured in Debian's chromium (playwright-core, no
 * browser download): the README's figures for "a 100k-event run's page opens and scrubs".
 *
 *   npx tsx test/support/page-bench.ts [RESETS] [MOVES]     # from the repository root
 *
 * The run: `nodes m r1 r2`, both replicas attached, then RESETS times (default 4,000) `at +100ms`,
 * `load m 30`, `kill-link m r1` (or `r2`, alternately): about 104,000 trace events over 400
 * virtual seconds. It writes the scenario and its page to a temporary directory, opens the page
 * at 1280×900, and prints the page's size, the time from `page.goto` to the first painted frame,
 * and the median and p95 of MOVES (default 40) cursor moves across the run, each including the
 * paint that follows it. The page must have logged no console error.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { parseScenario } from '../../sim/scenario/parser.ts';
import { runScenario } from '../../sim/scenario/run.ts';
import { Recorder } from '../../sim/trace/record.ts';
import { renderHtml } from '../../sim/trace/html.ts';

const resets = Number(process.argv[2] ?? 4000);
const moves = Number(process.argv[3] ?? 40);

/** The scenario: a master under load whose links to its replicas are reset over and over. */
export function resetsUnderLoad(n: number): string {
  const lines = ['title 100k events: link resets under load', 'seed 1', 'nodes m r1 r2', 'at 1s', '  r1: REPLICAOF m 6379', '  r2: REPLICAOF m 6379',
    'await converged within 10s'];
  for (let i = 0; i < n; i++) lines.push('at +100ms', '  load m 30', `  kill-link m ${i % 2 === 0 ? 'r1' : 'r2'}`);
  return lines.join('\n') + '\n';
}

const dir = mkdtempSync(join(tmpdir(), 'psync-page-bench-'));
try {
  const text = resetsUnderLoad(resets);
  const file = join(dir, 'resets.scn');
  writeFileSync(file, text);
  const t0 = process.hrtime.bigint();
  const recorder = new Recorder();
  const scenario = parseScenario(text, file);
  const result = runScenario(scenario, { file, source: text, trace: recorder.sink, observe: recorder.observe });
  const rec = recorder.recording({ title: scenario.title, file, seed: result.seed, nodes: scenario.nodes.map((x) => x.name), endUs: result.virtualUs });
  const html = renderHtml(rec);
  const page = join(dir, 'resets.html');
  writeFileSync(page, html);
  const genMs = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`${rec.events.length} trace events, ${(rec.endUs / 1e6).toFixed(0)} virtual s, page ${(statSync(page).size / 1e6).toFixed(2)} MB (run + page ${(genMs / 1000).toFixed(1)} s)`);

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    p.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    p.on('pageerror', (e) => problems.push(e.message));
    const g0 = Date.now(); // determinism-ok: a benchmark outside sim/
    await p.goto(`file://${page}`);
    await p.waitForFunction(() => 'psyncSim' in window, undefined, { timeout: 300_000 });
    await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    const firstPaintMs = Date.now() - g0; // determinism-ok: as above
    const times: number[] = await p.evaluate(async ({ n, endUs }) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        (window as any).psyncSim.setCursorUs(Math.round(((i * 7919) % n + 0.5) / n * endUs));
        await new Promise((r) => requestAnimationFrame(() => r(null)));
        out.push(performance.now() - t);
      }
      return out;
    }, { n: moves, endUs: rec.endUs });
    times.sort((a, b) => a - b);
    const q = (f: number): number => times[Math.min(times.length - 1, Math.floor(f * times.length))]!;
    console.log(`first paint ${(firstPaintMs / 1000).toFixed(2)} s; cursor move median ${q(0.5).toFixed(0)} ms, p95 ${q(0.95).toFixed(0)} ms (${moves} moves)`);
    if (problems.length > 0) {
      console.error(`console errors: ${problems.join('; ')}`);
      process.exitCode = 1;
    }
  } finally {
    await browser.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
