/**
 * The `--html` page in a real browser: Debian's chromium driven by playwright-core (never a
 * downloaded browser). Every lesson's page renders with no console error and fetches nothing;
 * the state panel at a check shows what INFO said at that moment; the diagram draws one arrow
 * per message of the trace; a `</script>` in a title stays text.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { expandFiles } from '../sim/cli/run.ts';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import { Recorder } from '../sim/trace/record.ts';
import type { Recording } from '../sim/trace/record.ts';
import { renderHtml, pageData } from '../sim/trace/html.ts';
import { encodePageBlock, decodePageBlock } from '../sim/trace/html-block.ts';
import { resetsUnderLoad } from './support/page-bench.ts';
import { infoFields } from '../sim/core/info.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = join(import.meta.dirname, '..');
const lessons = expandFiles([join(root, 'scenarios/lessons')]);

/** Record a run, and what INFO said of every running node at each check (by event seq). */
function recordWithInfo(text: string, file: string): { rec: Recording; infoAtCheck: Map<number, Map<string, Map<string, string>>> } {
  const recorder = new Recorder();
  const latest = new Map<string, Map<string, string>>();
  const infoAtCheck = new Map<number, Map<string, Map<string, string>>>();
  const scenario = parseScenario(text, file);
  const result = runScenario(scenario, {
    file, source: text,
    trace: (s) => {
      recorder.sink(s);
      if (s.event.kind === 'check') infoAtCheck.set(recorder.events[recorder.events.length - 1]!.seq, new Map(latest));
      if (s.event.kind === 'process' && s.event.what !== 'pause' && s.event.what !== 'resume' && s.event.what !== 'sleep') latest.delete(s.event.node);
    },
    observe: (name, node, nowUs) => {
      recorder.observe(name, node, nowUs);
      latest.set(name, infoFields(node));
    },
  });
  const rec = recorder.recording({ title: scenario.title, file, seed: result.seed, nodes: scenario.nodes.map((n) => n.name), endUs: result.virtualUs });
  return { rec, infoAtCheck };
}

describe('the page\'s data block', () => {
  it('decodes to what was encoded: numbers in binary (int32 or float64), the rest as JSON', () => {
    const file = lessons.find((f) => f.includes('09-'))!;
    const { rec } = recordWithInfo(readFileSync(file, 'latin1'), file);
    const { story, cards, ...first } = pageData(rec);
    expect(story.length).toBeGreaterThan(0);
    expect(cards.length).toBeGreaterThan(0);
    const bytes = encodePageBlock(first);
    const back = decodePageBlock(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const plain = (d: typeof first): unknown => JSON.parse(JSON.stringify(d, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v)));
    expect(plain(back)).toEqual(plain(first));
    expect(ArrayBuffer.isView(back.events.rows)).toBe(true);
    // A value past int32 travels as float64, exactly.
    const big = { ...first, arrows: { ...first.arrows, rows: [...Array.from(first.arrows.rows), 2 ** 40 + 3] } };
    const b2 = encodePageBlock(big);
    const back2 = decodePageBlock(b2.buffer.slice(b2.byteOffset, b2.byteOffset + b2.byteLength) as ArrayBuffer);
    expect(back2.arrows.rows[back2.arrows.rows.length - 1]).toBe(2 ** 40 + 3);
    expect(back2.arrows.rows).toBeInstanceOf(Float64Array);
  });
});

describe.skipIf(!existsSync(CHROMIUM))('the --html page in chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psync-html-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(html: string, name: string): Promise<{ page: Page; problems: string[] }> {
    const path = join(dir, name);
    writeFileSync(path, html);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); void d.dismiss(); });
    page.on('request', (r) => { if (!r.url().startsWith('file:')) problems.push(`fetched ${r.url()}`); });
    await page.goto(`file://${path}`);
    await page.waitForFunction(() => 'psyncSim' in window);
    // The chart, the cards and the story come after the first paint.
    await page.evaluate(() => (window as any).psyncSim.complete);
    return { page, problems };
  }

  for (const file of lessons) {
    const name = file.slice(root.length + 1);
    it(`${name}: renders, fetches nothing, shows INFO's state at every check, draws every message`, async () => {
      const text = readFileSync(file, 'latin1');
      const { rec, infoAtCheck } = recordWithInfo(text, name);
      const { page, problems } = await open(renderHtml(rec), name.replace(/\W/g, '_') + '.html');
      try {
        expect(await page.locator('h1').textContent()).toBe(rec.title ?? name);
        // Move the cursor to every check, in the page, and read what the state panel shows.
        const asked = [...infoAtCheck].map(([seq, infos]) => ({ seq, nodes: [...infos.keys()] }));
        const shownAll = await page.evaluate((qs) => qs.map((q) => {
          (window as any).psyncSim.setCursorSeq(q.seq);
          return q.nodes.map((n) => [n, (window as any).psyncSim.shown(n)]);
        }), asked);
        expect(asked.length).toBeGreaterThan(0);
        asked.forEach((q, i) => {
          const infos = infoAtCheck.get(q.seq)!;
          for (const [node, shown] of shownAll[i]! as Array<[string, Record<string, string>]>) {
            const info = infos.get(node)!;
            const want = {
              role: info.get('role') === 'slave' ? 'replica' : 'master',
              replid: info.get('master_replid'), offset: info.get('master_repl_offset'),
              replid2: info.get('master_replid2'), secondOffset: info.get('second_repl_offset'),
            };
            expect({ role: shown.role, replid: shown.replid, offset: shown.offset, replid2: shown.replid2, secondOffset: shown.secondOffset },
              `${node} at event ${q.seq}`).toEqual(want);
          }
        });
        await page.evaluate(() => (window as any).psyncSim.fit());
        const drawn = await page.evaluate(() => (window as any).psyncSim.drawn());
        const count = (k: string): number => rec.events.filter((e) => e.kind === k).length;
        expect(drawn.arrows.psync ?? 0).toBe(count('psync-received'));
        expect(drawn.arrows.fullresync ?? 0).toBe(count('fullresync-received'));
        expect(drawn.arrows.continue ?? 0).toBe(count('continue-received'));
        expect(drawn.arrows.handshake ?? 0).toBe(count('handshake-send') + count('handshake-reply'));
        expect(drawn.checks).toBe(count('check'));
        expect(await page.locator('.card').count()).toBe(count('psync-decision'));
        expect(problems).toEqual([]);
      } finally {
        await page.close();
      }
    }, 60_000);
  }

  it('with --trace-level stream: ACK and GETACK arrows, the stream as arrows, none of it in the events list', async () => {
    const file = 'scenarios/lessons/18-reading-the-stream.scn';
    const text = readFileSync(join(root, file), 'latin1');
    const recorder = new Recorder();
    const scenario = parseScenario(text, file);
    const result = runScenario(scenario, { file, source: text, trace: recorder.sink, traceStream: true, observe: recorder.observe });
    const rec = recorder.recording({ title: scenario.title, file, seed: result.seed, nodes: scenario.nodes.map((n) => n.name), endUs: result.virtualUs });
    const { page, problems } = await open(renderHtml(rec), 'stream.html');
    try {
      await page.evaluate(() => (window as any).psyncSim.fit());
      const drawn = await page.evaluate(() => (window as any).psyncSim.drawn());
      const of = (k: string) => rec.events.filter((e) => e.kind === k);
      // Every ACK the masters read, from the replica that sent it; every GETACK a replica applied.
      expect(of('ack-received').length).toBeGreaterThan(0);
      expect(drawn.arrows.ack).toBe(of('ack-received').length);
      const getacks = of('stream-applied').filter((e) => e.kind === 'stream-applied' && e.args[1] === 'GETACK').length;
      expect(getacks).toBe(2); // m -> r1 and r1 -> r2
      expect(drawn.arrows.getack).toBe(getacks);
      // A small run: one stream arrow per applied command (batches of one).
      expect(drawn.arrows.stream).toBe(of('stream-applied').length);
      expect(await page.locator('.legend').textContent()).toContain('REPLCONF ACK');
      expect(await page.locator('header .meta').textContent()).toMatch(/\d+ stream events, drawn as arrows in batches/);
      // The events list holds the protocol events only.
      const listed = await page.locator('#events').textContent();
      expect(listed).not.toContain('→ stream [');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('a long run: the offset chart gets at most four points per pixel column, and keeps every node\'s lowest, highest and last offset', async () => {
    const text = resetsUnderLoad(700);
    const { rec } = recordWithInfo(text, 'resets.scn');
    const samples = Object.values(rec.states).reduce((n, l) => n + l.length, 0);
    const { page, problems } = await open(renderHtml(rec), 'resets.html');
    try {
      const chart = await page.evaluate(() => (window as any).psyncSim.chart()) as { data: Array<Array<number | null>>; widthPx: number };
      expect(samples).toBeGreaterThan(4 * chart.widthPx + 8); // decimation applies
      expect(chart.data[0]!.length).toBeLessThanOrEqual(4 * chart.widthPx + 8);
      rec.nodes.forEach((node, i) => {
        const offsets = rec.states[node]!.filter((s) => s.process !== 'crashed' && s.process !== 'poweroff').map((s) => s.offset);
        const shown = chart.data[i + 1]!.filter((v): v is number => v !== null);
        expect(Math.max(...shown), node).toBe(Math.max(...offsets));
        expect(Math.min(...shown), node).toBe(Math.min(...offsets));
        expect(shown[shown.length - 1], node).toBe(offsets[offsets.length - 1]);
      });
      // No step is lost: every (97th) sample of m's lies within the lowest and highest offsets
      // the chart has around its time (its pixel column and the next ones).
      const xs = chart.data[0]!;
      const m = chart.data[1]!;
      for (const s of rec.states.m!.filter((_, k) => k % 97 === 0)) {
        const t = s.atUs / 1e6;
        let c = 0;
        while (c + 1 < xs.length && xs[c + 1]! <= t) c++;
        const col = Math.max(0, c - (c % 4));
        const vals = m.slice(Math.max(0, col - 4), col + 8).filter((v): v is number => v !== null);
        expect(Math.min(...vals) <= s.offset && s.offset <= Math.max(...vals), `m at ${s.atUs}`).toBe(true);
      }
      // Moving the cursor still shows the state of the moment.
      await page.evaluate((us) => (window as any).psyncSim.setCursorUs(us), rec.endUs);
      const last = rec.states.m![rec.states.m!.length - 1]!;
      expect((await page.evaluate(() => (window as any).psyncSim.shown('m'))).offset).toBe(String(last.offset));
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000);

  it('keeps every string from the scenario as text: a </script> in a title does not end the script', async () => {
    const title = 'evil </script><img src=x onerror="alert(1)"> & <b>bold</b>';
    const text = `title ${title}\nnodes m r1\nat 0s\n  r1: REPLICAOF m 6379\n  m: SET "</script>" "<!--"\nawait converged within 10s\n`;
    const { rec } = recordWithInfo(text, 'evil.scn');
    const { page, problems } = await open(renderHtml(rec), 'evil.html');
    try {
      expect(await page.locator('h1').textContent()).toBe(title);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.locator('b').count()).toBe(0);
      expect(await page.locator('#events').textContent()).toContain('</script>');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);
});
