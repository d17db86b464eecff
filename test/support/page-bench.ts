/**
 * The `--html` page of a 100k-event run, measured in Debian's chromium (playwright-core, no
 * browser download): the README's figures for "a 100k-event run's page opens and scrubs".
 *
 *   npx tsx test/support/page-bench.ts [RESETS] [MOVES] [LOADS]     # from the repository root
 *
 * The run: `nodes m r1 r2`, both replicas attached, then RESETS times (default 4,000) `at +100ms`,
 * `load m 30`, `kill-link m r1` (or `r2`, alternately): about 104,000 trace events over 400
 * virtual seconds. It writes the scenario and its page to a temporary directory and opens the
 * page LOADS times (default 3) at 1280×900. Per load: the wall time from `page.goto` to the
 * first frame painted with the diagram and the state panel (an init script stamps the first
 * animation frame that sees `window.psyncSim`; the frame's Commit ends it), the renderer main
 * thread's CPU time until then (the trace's thread durations: on a shared machine the wall
 * time is mostly waiting for a core), the wall time until the chart, the cards and the story
 * are in too (`psyncSim.complete`), and MOVES (default 40) cursor moves across the run, each
 * including the paint that follows it. It prints the medians. The page must log no error.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { parseScenario } from '../../sim/scenario/parser.ts';
import { runScenario } from '../../sim/scenario/run.ts';
import { Recorder } from '../../sim/trace/record.ts';
import { renderHtml } from '../../sim/trace/html.ts';

/** The scenario: a master under load whose links to its replicas are reset over and over. */
export function resetsUnderLoad(n: number): string {
  const lines = ['title 100k events: link resets under load', 'seed 1', 'nodes m r1 r2', 'at 1s', '  r1: REPLICAOF m 6379', '  r2: REPLICAOF m 6379',
    'await converged within 10s'];
  for (let i = 0; i < n; i++) lines.push('at +100ms', '  load m 30', `  kill-link m ${i % 2 === 0 ? 'r1' : 'r2'}`);
  return lines.join('\n') + '\n';
}

interface TraceEvent { name: string; ph: string; ts: number; dur?: number; tdur?: number; pid: number; tid: number; args?: { data?: { message?: string } } }

/** Main-thread CPU (ms) of the page's renderer up to the end of the first Commit after the stamp. */
function cpuToFirstPaint(events: readonly TraceEvent[]): number {
  const seen = events.find((e) => e.name === 'TimeStamp' && e.args?.data?.message === 'psync-seen');
  if (seen === undefined) throw new Error('page-bench: no first-frame stamp in the trace');
  const main = events.filter((e) => e.pid === seen.pid && e.tid === seen.tid && e.ph === 'X').sort((a, b) => a.ts - b.ts);
  const commit = main.find((e) => e.name === 'Commit' && e.ts > seen.ts);
  const until = commit === undefined ? seen.ts : commit.ts + (commit.dur ?? 0);
  let cpuUs = 0;
  let end = 0;
  for (const e of main) {
    if (e.name !== 'RunTask' || e.ts < end || e.ts > until) continue;
    end = e.ts + (e.dur ?? 0);
    cpuUs += e.tdur ?? 0;
  }
  return cpuUs / 1000;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(resets: number, moves: number, loads: number): Promise<void> {
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
    const firstPaint: number[] = [];
    const firstPaintCpu: number[] = [];
    const complete: number[] = [];
    const moveMedian: number[] = [];
    const moveP95: number[] = [];
    const problems: string[] = [];
    try {
      for (let n = 0; n < loads; n++) {
        const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        p.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
        p.on('pageerror', (e) => problems.push(e.message));
        await p.addInitScript({ content: "(function () { var poll = function () { if ('psyncSim' in window) console.timeStamp('psync-seen'); else requestAnimationFrame(poll); }; requestAnimationFrame(poll); })();" });
        const tracePath = join(dir, `trace-${n}.json`);
        await browser.startTracing(p, { path: tracePath, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
        const g0 = Date.now(); // determinism-ok: a benchmark outside sim/
        await p.goto(`file://${page}`);
        await p.waitForFunction(() => 'psyncSim' in window, undefined, { timeout: 300_000, polling: 'raf' });
        await p.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
        firstPaint.push(Date.now() - g0); // determinism-ok: as above
        await p.evaluate(() => (window as any).psyncSim.complete);
        complete.push(Date.now() - g0); // determinism-ok: as above
        await browser.stopTracing();
        firstPaintCpu.push(cpuToFirstPaint((JSON.parse(readFileSync(tracePath, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents));
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
        moveMedian.push(times[Math.floor(0.5 * times.length)]!);
        moveP95.push(times[Math.min(times.length - 1, Math.floor(0.95 * times.length))]!);
        await p.close();
      }
    } finally {
      await browser.close();
    }
    const list = (xs: readonly number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
    console.log(`first paint ${(median(firstPaint) / 1000).toFixed(2)} s wall (${list(firstPaint)} ms), main-thread CPU to it ${median(firstPaintCpu).toFixed(0)} ms (${list(firstPaintCpu)}); ` +
      `chart, cards and story in at ${(median(complete) / 1000).toFixed(2)} s; cursor move median ${median(moveMedian).toFixed(0)} ms, p95 ${median(moveP95).toFixed(0)} ms (${moves} moves, ${loads} loads)`);
    if (problems.length > 0) {
      console.error(`console errors: ${problems.join('; ')}`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(Number(process.argv[2] ?? 4000), Number(process.argv[3] ?? 40), Number(process.argv[4] ?? 3));
}
