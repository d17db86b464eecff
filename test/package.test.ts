/**
 * The library as a user gets it: `npm pack`, install the tarball into a fresh folder (no
 * network: --offline, the package's dependencies come from this checkout's cache), import
 * `psync-sim`, run a story and see an invalid one refused with its line and column; then the
 * README's vitest example, copied from the README as it stands, must pass in that folder; and the
 * installed lab lists, serves and bundles what it needs (its lessons ship in the tarball).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, symlinkSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

describe('package', { timeout: 300_000 }, () => {
  it('npm pack, install the tarball into a fresh folder, import { simulate, parseScenario, fuzz }', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'psync-sim-pack-'));
    try {
      const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp, '--json'], { cwd: root, encoding: 'utf8' });
      expect(pack.status, pack.stderr).toBe(0);
      const tgz = join(tmp, JSON.parse(pack.stdout)[0].filename);
      const files: string[] = JSON.parse(pack.stdout)[0].files.map((f: { path: string }) => f.path);
      expect(files).toContain('dist/index.js');
      expect(files).toContain('dist/index.d.ts');
      expect(files).toContain('LICENSE');
      expect(files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toBe(false);
      const app = join(tmp, 'app');
      spawnSync('mkdir', ['-p', join(app, 'node_modules')]);
      // Unpack by hand and borrow this checkout's dependencies: the test needs no network.
      const pkg = join(app, 'node_modules', 'psync-sim');
      spawnSync('mkdir', ['-p', pkg]);
      expect(spawnSync('tar', ['-xzf', tgz, '-C', pkg, '--strip-components=1']).status).toBe(0);
      // Every package of this checkout (vitest included, for the README's example below).
      for (const dep of readdirSync(join(root, 'node_modules'))) {
        if (dep.startsWith('.') || dep === 'psync-sim') continue;
        const from = join(root, 'node_modules', dep);
        if (existsSync(from)) symlinkSync(from, join(app, 'node_modules', dep));
      }
      writeFileSync(join(app, 'package.json'), '{ "type": "module" }\n');
      writeFileSync(join(app, 'use.js'), [
        "import { simulate, parseScenario, fuzz, ScenarioError } from 'psync-sim';",
        "const r = simulate('nodes m r1\\nat 0s\\n  r1: REPLICAOF m 6379\\nawait converged within 10s\\nexpect m.connected_slaves == 1\\n', { seed: '7' });",
        "let err = null; try { parseScenario('nodes m\\nat 0s\\nexpect m.rol == master\\n', 'bad.scn'); } catch (e) { err = e; }",
        'const f = fuzz({ runs: 1, seed: "pack" });',
        'console.log(JSON.stringify({ passed: r.passed, failed: r.failed, lines: r.checks.map((c) => c.line), err: err instanceof ScenarioError ? err.format() : String(err), runs: f.runs }));',
      ].join('\n'));
      const run = spawnSync(process.execPath, ['use.js'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
      expect(run.status, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout);
      expect(out).toMatchObject({ passed: 2, failed: 0, lines: [4, 5], runs: 1 });
      expect(out.err).toMatch(/^bad\.scn:3:10: unknown INFO field 'rol' \(did you mean 'role'\?\)/);
      // The README's library example, pasted as it stands into the folder, passes under vitest.
      const readme = readFileSync(join(root, 'README.md'), 'utf8');
      const at = readme.indexOf('```ts', readme.indexOf('## Using it as a library')) + '```ts\n'.length;
      const example = readme.slice(at, readme.indexOf('```', at));
      expect(example).toContain("from 'psync-sim'");
      writeFileSync(join(app, 'replication.test.ts'), example);
      const vt = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', app], { cwd: app, encoding: 'utf8', timeout: 180_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined } });
      expect(vt.status, vt.stdout + vt.stderr).toBe(0);
      expect(vt.stdout).toMatch(/Tests\s+2 passed/);
      // The installed bin runs too.
      const bin = spawnSync(process.execPath, [join(pkg, 'sim/psync-sim.js'), '--version'], { cwd: app, encoding: 'utf8' });
      expect(bin.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      // The installed lab lists the lessons the checkout has, serves them, and bundles its scripts
      // (no browser: its lesson index, one lesson and the two scripts over HTTP).
      const want = readdirSync(join(root, 'scenarios/lessons')).filter((f) => f.endsWith('.scn')).length +
        readdirSync(join(root, 'scenarios/lessons-sentinel')).filter((f) => f.endsWith('.scn')).length;
      writeFileSync(join(app, 'lab.js'), [
        "import { startLabServer } from './node_modules/psync-sim/dist/lab/server.js';",
        "const lab = await startLabServer({ port: 0, host: '127.0.0.1' });",
        'const get = async (p) => { const r = await fetch(new URL(p, lab.url)); return { status: r.status, text: await r.text() }; };',
        "const lessons = JSON.parse((await get('/lessons.json')).text);",
        'const first = await get(lessons[0].path);',
        "const js = await get('/lab.js');",
        "const worker = await get('/lab-worker.js');",
        'await lab.close();',
        'console.log(JSON.stringify({ lessons: lessons.map((l) => l.path), first: first.status, title: /^title /m.test(first.text), js: js.status, jsBytes: js.text.length, worker: worker.status, workerBytes: worker.text.length }));',
      ].join('\n'));
      const labRun = spawnSync(process.execPath, ['lab.js'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
      expect(labRun.status, labRun.stderr).toBe(0);
      const lab = JSON.parse(labRun.stdout);
      expect(lab.lessons).toHaveLength(want);
      expect(lab.lessons).toContain('/scenarios/lessons/04-partial-resync.scn');
      expect(lab.lessons).toContain('/scenarios/lessons-sentinel/03-election.scn');
      expect(lab).toMatchObject({ first: 200, title: true, js: 200, worker: 200 });
      expect(lab.jsBytes).toBeGreaterThan(10_000);
      expect(lab.workerBytes).toBeGreaterThan(10_000);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
