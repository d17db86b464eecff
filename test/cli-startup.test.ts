/**
 * Start-up of the installed command: `--help`, `--version` and `COMMAND --help` are answered by
 * sim/psync-sim.js from texts pre-rendered at build time (dist/cli/help.json, written by
 * sim/cli/render-help.ts) without loading yargs. These tests hold the two paths together: what
 * the fast path prints is, byte for byte, what yargs prints live (`node dist/cli.js`, which
 * never takes the fast path), at every width it was rendered for; a stale file or a width not
 * rendered falls back to yargs. No timing is asserted (the README has the measured figures).
 * Also here: the bad-flag behaviour of every entry point (one line, exit 2, no stack).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'psync-sim-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Prerendered = typeof import('../sim/cli/prerendered.ts');
let pre: Prerendered;
beforeAll(async () => {
  // The compiled module (built by vitest's globalSetup): its hash covers the compiled inputs.
  pre = (await import(pathToFileURL(join(root, 'dist', 'cli', 'prerendered.js')).href)) as Prerendered;
});

const COMMANDS = ['run', 'fuzz', 'compare', 'explain', 'lab', 'bench'];

/** A preload that makes stdout report `columns` (as a terminal that wide would). */
function columnsPreload(columns: number): string {
  const p = join(dir, `columns-${columns}.mjs`);
  writeFileSync(p, `Object.defineProperty(process.stdout, 'columns', { value: ${columns} });\n`);
  return p;
}

function spawn(script: string, args: readonly string[], columns?: number): { status: number | null; out: string; err: string } {
  const pre = columns === undefined ? [] : ['--import', pathToFileURL(columnsPreload(columns)).href];
  const r = spawnSync(process.execPath, [...pre, script, ...args], {
    cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined },
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}
const bin = (args: readonly string[], columns?: number) => spawn('sim/psync-sim.js', args, columns);
const live = (args: readonly string[], columns?: number) => spawn('dist/cli.js', args, columns);

const STACK = /\n\s+at .*(\.[jt]s|node:)/;

describe('cli start-up: pre-rendered help', { timeout: 180_000 }, () => {
  // Widths: no terminal (100), an 80-column terminal, a wide one (110 and anything wider).
  for (const columns of [undefined, 80, 110]) {
    it(`every pre-rendered text equals what yargs prints live (columns ${columns ?? 'none'})`, () => {
      for (const [args, spellings] of [[['--help'], [['--help'], ['-h']]], [['--version'], [['--version'], ['-V']]],
        ...COMMANDS.map((c) => [[c, '--help'], [[c, '--help'], [c, '-h']]] as const)] as const) {
        const slow = live(args, columns);
        const what = `${args.join(' ')} at columns ${columns ?? 'none'}`;
        expect(slow.status, what).toBe(0);
        expect(slow.err, what).toBe('');
        expect(slow.out.length, what).toBeGreaterThan(4);
        for (const argv of spellings) expect(pre.prerenderedAnswer(argv, columns), `${what} as ${argv.join(' ')}`).toBe(slow.out);
      }
      // And the installed command prints it (the fast path answers: see the module list test).
      expect(bin(['run', '-h'], columns)).toEqual(live(['run', '--help'], columns));
    });
  }

  it('a terminal wider than 110 gets the 110-column text, as from yargs', () => {
    expect(pre.prerenderedAnswer(['fuzz', '--help'], 200)).toBe(pre.prerenderedAnswer(['fuzz', '--help'], 110));
    expect(bin(['fuzz', '--help'], 200)).toEqual(live(['fuzz', '--help'], 200));
  });

  it('the fast path loads no yargs and nothing of the simulator', () => {
    // A preload that lists every module the ESM loader resolves, on stderr.
    const hook = join(dir, 'list-modules.mjs');
    writeFileSync(hook, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(\`export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('MODULE ' + r.url + '\\\\n'); return r; }\`));\n`);
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, 'sim/psync-sim.js', '--help'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const modules = r.stderr.split('\n').filter((l) => l.startsWith('MODULE ')).map((l) => l.slice(7));
    expect(modules.some((m) => m.endsWith('dist/cli/prerendered.js'))).toBe(true);
    expect(modules.filter((m) => /node_modules|dist\/cli\.js|dist\/(core|engine|world|scenario)\//.test(m))).toEqual([]);
    // Without help.json's answer (a width not rendered) yargs is loaded: the hook sees it.
    const slow = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, '--import', pathToFileURL(columnsPreload(90)).href, 'sim/psync-sim.js', '--help'], { cwd: root, encoding: 'utf8' });
    expect(slow.stderr).toMatch(/MODULE \S*node_modules\/yargs\//);
  });

  it('the help texts hold what a user looks for, with no machine-dependent default', () => {
    const top = pre.prerenderedAnswer(['--help'], undefined)!;
    for (const c of COMMANDS) expect(top).toContain(`psync-sim ${c}`);
    expect(top).toContain('Exit status:');
    const fuzz = pre.prerenderedAnswer(['fuzz', '--help'], undefined)!;
    expect(fuzz).toContain("[default: the machine's cores]");
    expect(fuzz).not.toMatch(/--workers[^\n]*default: \d/);
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    expect(pre.prerenderedAnswer(['--version'], undefined)).toBe(`${version}\n`);
  });

  it('a width not rendered goes to yargs, and prints the same as yargs', () => {
    expect(pre.prerenderedAnswer(['run', '--help'], 90)).toBeNull();
    const fast = bin(['run', '--help'], 90);
    expect(fast.status).toBe(0);
    expect(fast).toEqual(live(['run', '--help'], 90));
    expect(fast.out).toContain('A whole example');
  });

  it('a help file rendered from other inputs is not used', () => {
    const help = JSON.parse(readFileSync(pre.HELP_FILE, 'utf8')) as { inputsHash: string };
    expect(help.inputsHash).toBe(pre.helpInputsHash());
    const stale = join(dir, 'stale-help.json');
    writeFileSync(stale, JSON.stringify({ ...help, inputsHash: `${help.inputsHash}x` }));
    expect(pre.prerenderedAnswer(['--help'], undefined, pathToFileURL(stale))).toBeNull();
    expect(pre.prerenderedAnswer(['--help'], undefined, pathToFileURL(join(dir, 'missing.json')))).toBeNull();
    // The same file with its own hash answers: the null above is the hash's doing.
    writeFileSync(stale, JSON.stringify(help));
    expect(pre.prerenderedAnswer(['--help'], undefined, pathToFileURL(stale))).not.toBeNull();
  });

  it('only the plain help and version lines take the fast path', () => {
    for (const argv of [[], ['--help', '--debug'], ['run', 'x.scn', '--help'], ['--version', 'run'], ['nosuch', '--help'], ['Run', '--help']]) {
      expect(pre.prerenderedAnswer(argv, undefined), argv.join(' ')).toBeNull();
    }
    // `nosuch --help` still goes through yargs, which refuses the unknown command.
    const r = bin(['nosuch', '--help']);
    expect(r).toEqual(live(['nosuch', '--help']));
  });

  it('help through a closed pipe ends quietly (EPIPE), like the full CLI', () => {
    const r = spawnSync('bash', ['-c', 'node sim/psync-sim.js --help | head -c 10 >/dev/null; echo "${PIPESTATUS[0]}"'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stdout.trim()).toBe('0');
  });
});

describe('cli start-up: a bad flag on every entry point is one line, exit 2, no stack', { timeout: 180_000 }, () => {
  it('psync-sim COMMAND --bogus, and bad values, for every command', () => {
    const cases = [
      ['run', 'scenarios/lessons/01-first-sync.scn', '--bogus'], ['fuzz', '--bogus'], ['explain', 'scenarios/lessons/01-first-sync.scn', '--bogus'],
      ['compare', 'scenarios/lessons/13-frozen-master-loses-writes.scn', '--bogus'], ['lab', '--bogus'], ['bench', '--bogus'],
      ['lab', '--port', 'abc'], ['bench', '--full-sync-keys', 'abc'], ['bench', '--fuzz-runs', '0'], ['bench', '--burst-writes', '1.5'], ['--bogus'], [],
    ];
    for (const argv of cases) {
      const r = bin(argv);
      expect(r.status, argv.join(' ')).toBe(2);
      expect(r.out + r.err, argv.join(' ')).not.toMatch(STACK);
      expect(r.err.split('\n')[0], argv.join(' ')).toMatch(/^psync-sim( \w+)?: /);
    }
    expect(bin(['bench', '--bogus']).err).toContain('bogus');
    expect(bin(['bench', '--fuzz-runs', '0']).err).toContain('--fuzz-runs needs a positive integer');
  });

  it('node dist/bench.js (npm run bench) with a bad flag or value', () => {
    for (const argv of [['--bad-flag'], ['--full-sync-keys'], ['--full-sync-keys', 'abc'], ['--fuzz-runs', '0'], ['--burst-writes=-3'], ['--no-real=1']]) {
      const r = spawn('dist/bench.js', argv);
      expect(r.status, argv.join(' ')).toBe(2);
      expect(r.out + r.err, argv.join(' ')).not.toMatch(STACK);
      expect(r.err.split('\n')[0], argv.join(' ')).toMatch(/^psync-sim bench: /);
      expect(r.err.split('\n').filter(Boolean)).toHaveLength(2); // the message, and where usage is
    }
    expect(spawn('dist/bench.js', ['--bad-flag']).err).toContain('unknown option --bad-flag');
    const help = spawn('dist/bench.js', ['--help']);
    expect(help.status).toBe(0);
    expect(help.out).toContain('--full-sync-keys N');
  });
});
