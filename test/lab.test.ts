/**
 * `psync-sim lab` in a real browser (Debian's chromium, playwright-core, no browser download):
 * start the lab server from the CLI (dist/) on a free port, open the page, play a lesson,
 * crash a node by clicking it, export, replay the export with the CLI, and compare the trace
 * hash with the one the lab computed and shows. Nothing may be fetched from anywhere but the
 * lab server, nothing may be logged as an error; the server refuses paths outside its files;
 * Ctrl-C stops it cleanly.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { runProgramText } from '../sim/lab/program.ts';
import { resetsUnderLoad } from './support/page-bench.ts';

const root = join(import.meta.dirname, '..');
const CLI = join(root, 'dist', 'cli.js');
const CHROMIUM = '/usr/bin/chromium';

/** GET a raw path (no normalisation of `..`, as a hostile client would send it). */
function get(url: string, path: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The determinism tests' trace hash (sha256 of jsonLine + '\n' per event) from `run --json -`. */
function cliTraceHash(file: string): { hash: string; failed: number } {
  const r = spawnSync(process.execPath, [CLI, 'run', file, '--json', '-'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const h = createHash('sha256');
  let failed = -1;
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue;
    const rec = JSON.parse(line) as Record<string, unknown>;
    if (rec.type === 'summary') failed = rec.failed as number;
    if (rec.type !== 'event') continue;
    delete rec.type;
    delete rec.file;
    h.update(JSON.stringify(rec));
    h.update('\n');
  }
  return { hash: h.digest('hex'), failed };
}

describe('psync-sim lab: bad flags', () => {
  it('a bad port is one line and status 2, before anything listens', () => {
    for (const [args, want] of [[['--port', '99999'], '--port 99999: a port number'], [['--port', 'abc'], '--port: a port number']] as const) {
      const r = spawnSync(process.execPath, [CLI, 'lab', ...args], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toContain(want);
    }
  }, 120_000);
});

describe.skipIf(!existsSync(CHROMIUM))('psync-sim lab in chromium', () => {
  let server: ChildProcess;
  let url = '';
  let out = '';
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psync-lab-'));
    server = spawn(process.execPath, [CLI, 'lab', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.setEncoding('utf8');
    server.stderr!.setEncoding('utf8');
    server.stderr!.on('data', (c: string) => (out += c));
    url = await new Promise<string>((resolve, reject) => {
      server.stdout!.on('data', (c: string) => {
        out += c;
        const m = /psync-sim lab: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]!);
      });
      server.on('exit', (code) => reject(new Error(`lab exited ${code}: ${out}`)));
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 120_000);

  /** A lab page with the default lesson loaded and run; `problems` collects console errors and
   *  warnings, page errors, and (with ownOriginOnly) any fetch from outside the lab's server. */
  async function openLab(o: { downloads?: boolean; ownOriginOnly?: boolean } = {}): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: o.downloads ?? false });
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    if (o.ownOriginOnly) {
      const origin = new URL(url).origin;
      page.on('request', (r) => { if (!r.url().startsWith(origin + '/') && !r.url().startsWith('blob:' + origin + '/')) problems.push(`fetched ${r.url()}`); });
    }
    try {
      await page.goto(url);
      await page.waitForFunction(() => (window as any).psyncLab?.hash !== '', null, { timeout: 60_000 });
    } catch (e) {
      await page.close();
      throw e;
    }
    return { page, problems };
  }

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only and serves nothing but its own files', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await get(url, '/')).status).toBe(200);
    expect((await get(url, '/lab.js')).status).toBe(200);
    expect((await get(url, '/lab-worker.js')).status).toBe(200);
    expect((await get(url, '/scenarios/lessons/04-partial-resync.scn')).body).toContain('title');
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/scenarios/lessons/../../package.json', '/scenarios/lessons/%2e%2e%2f%2e%2e%2fpackage.json']) {
      const r = await get(url, p);
      expect(r.status, p).toBe(400);
      expect(r.body, p).not.toContain('psync-sim');
    }
    expect((await get(url, '/package.json')).status).toBe(404);
    expect((await get(url, '/scenarios/faults/crash-restart.scn')).status).toBe(404);
  });

  it('play a lesson, crash a node by clicking, export; the CLI replays the export to the same trace hash', async () => {
    // The default lesson loads, runs in the page and shows its hash; nothing is fetched from elsewhere.
    const { page, problems } = await openLab({ downloads: true, ownOriginOnly: true });
    try {
      expect(await page.evaluate(() => (window as any).psyncLab.file)).toBe('scenarios/lessons/04-partial-resync.scn');
      const untouched = await page.evaluate(() => (window as any).psyncLab.hash as string);
      // The unmodified lesson, as the lab printed it, is the lesson's own trace.
      const plainFile = join(dir, 'plain.scn');
      writeFileSync(plainFile, await page.evaluate(() => (window as any).psyncLab.text as string), 'latin1');
      expect(cliTraceHash(plainFile).hash).toBe(untouched);

      // Play at 1x (the lesson ends at 7.1 s) until about 3 s of virtual time, then pause.
      await page.selectOption('#lab-speed', '1');
      await page.click('#lab-play');
      await page.waitForFunction(() => (window as any).psyncLab.nowUs >= 3_000_000, null, { timeout: 30_000 });
      await page.click('#lab-play');
      const pausedAt = await page.evaluate(() => (window as any).psyncLab.nowUs as number);
      expect(pausedAt).toBeGreaterThanOrEqual(3_000_000);
      expect(pausedAt).toBeLessThan(7_000_000);
      // The page shows the run only up to now (once the frame after the pause is drawn: on a busy
      // machine the last tick's "now" can be set a frame before it is painted).
      await expect.poll(async () => await page.locator('#app header .meta').textContent(), { timeout: 10_000 })
        .toContain(`${(pausedAt / 1e6).toFixed(6)}s virtual`);
      expect(await page.evaluate(() => (window as any).psyncLab.nowUs as number)).toBe(pausedAt);

      // Click the master, then crash.
      await page.click('.lab-node[data-node="m"]');
      await page.click('#lab-crash');
      await page.waitForFunction((u) => (window as any).psyncLab.hash !== u && (window as any).psyncLab.hash !== '', untouched);
      expect(await page.locator('.lab-node[data-node="m"]').textContent()).toContain('crashed');
      expect(await page.locator('#lab-actions li').allTextContents()).toEqual([`${(pausedAt / 1e6).toFixed(6)}s crash m`]);
      const shown = await page.getAttribute('#lab-hash', 'data-hash');
      const labHash = await page.evaluate(() => (window as any).psyncLab.hash as string);
      expect(shown).toBe(labHash);

      // Export: the download is the program the lab ran.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#lab-export')]);
      const exported = readFileSync((await download.path())!, 'latin1');
      expect(exported).toBe(await page.evaluate(() => (window as any).psyncLab.text as string));
      expect(exported).toMatch(/\nat [0-9.]+(us|ms|s)\n {2}crash m\n/);
      const file = join(dir, download.suggestedFilename());
      writeFileSync(file, exported, 'latin1');

      // Replay with the CLI: the same trace, byte for byte.
      const replay = cliTraceHash(file);
      expect(replay.hash).toBe(labHash);
      expect(replay.hash).not.toBe(untouched);
      expect(replay.failed).toBeGreaterThan(0); // the lesson's checks do not expect a crashed master
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000);

  it('every lesson runs in the page to the same trace as in Node (the bundle and its stand-ins are faithful)', async () => {
    const { page, problems } = await openLab();
    try {
      const lessons = await page.$$eval('#lab-lesson option', (os) => os.map((o) => (o as HTMLOptionElement).value));
      expect(lessons.length).toBeGreaterThanOrEqual(20);
      for (const path of lessons) {
        await page.selectOption('#lab-lesson', path);
        await page.click('#lab-load');
        await page.waitForFunction((p) => (window as any).psyncLab.file === p.slice(1) && (window as any).psyncLab.hash !== '', path, { timeout: 60_000 });
        const { text, hash } = await page.evaluate(() => ({ text: (window as any).psyncLab.text as string, hash: (window as any).psyncLab.hash as string }));
        const inNode = runProgramText(text, path.slice(1));
        const h = createHash('sha256');
        for (const l of inNode.traceLines) h.update(l + '\n');
        expect(hash, path).toBe(h.digest('hex'));
      }
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 600_000);

  it('a heavy scenario runs in the worker: the page keeps painting frames meanwhile, and gets the same trace as Node', async () => {
    const { page, problems } = await openLab();
    try {
      const source = resetsUnderLoad(800); // about 21,000 events: a second or more of simulation
      await page.click('#lab-paste');
      await page.evaluate((t) => void ((document.getElementById('lab-source') as HTMLTextAreaElement).value = t), source);
      // Click "run", then count the animation frames the page paints until the worker answers:
      // with the simulator on the page's thread there would be none.
      const frames = await page.evaluate(() => new Promise<number>((resolve) => {
        (document.getElementById('lab-paste-run') as HTMLButtonElement).click();
        let n = 0;
        const tick = (): void => {
          if (!(window as any).psyncLab.busy) return resolve(n);
          n++;
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }));
      expect(frames).toBeGreaterThanOrEqual(3);
      await page.waitForFunction(() => (window as any).psyncLab.file === 'pasted.scn' && (window as any).psyncLab.hash !== '', null, { timeout: 120_000 });
      const { text, hash } = await page.evaluate(() => ({ text: (window as any).psyncLab.text as string, hash: (window as any).psyncLab.hash as string }));
      const h = createHash('sha256');
      for (const l of runProgramText(text, 'pasted.scn').traceLines) h.update(l + '\n');
      expect(hash).toBe(h.digest('hex'));
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 300_000);

  it('Ctrl-C stops the server cleanly', async () => {
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    server.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('psync-sim lab: stopped');
  }, 30_000);
});
