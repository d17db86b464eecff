/**
 * The fast path of the installed `psync-sim` command: `--help`, `-h`, `--version`, `-V` and
 * `COMMAND --help` answered from texts that the build rendered with yargs once
 * (sim/cli/render-help.ts writes dist/cli/help.json), without loading yargs and its ~45
 * modules, which was most of what `--help` cost (Node's own start-up is the rest).
 *
 * The texts cannot drift from what yargs would print: help.json records a hash of every input of
 * the help (the compiled grammar sim/cli/parser.ts and the two modules it takes texts from, the
 * package's version, yargs's version), and an answer is used only when those inputs hash the
 * same now; otherwise, as for any other command line or a terminal width not rendered, yargs
 * answers (sim/cli.ts). test/cli-startup.test.ts compares both, byte for byte.
 *
 * It runs before anything else, so it takes no module it can avoid: fs through
 * process.getBuiltinModule (an `import` of node:fs builds its ESM facade, which loads Node's
 * streams: a third of this path's cost), a small non-cryptographic hash instead of node:crypto
 * (the inputs are ours, nobody forges them), yargs's package.json found by walking up the
 * node_modules folders as Node's resolver would, instead of import.meta.resolve.
 */
import { installProcessPolicy } from './exit.ts';

const fs = process.getBuiltinModule('node:fs');

/** Widths rendered at build time: 80 (a default terminal), 100 (no terminal), 110 (any wider). */
export const PRERENDERED_WIDTHS = [80, 100, 110] as const;

/** The width help is wrapped to: the terminal's, at most 110; 100 when stdout is no terminal. */
export function helpWidth(columns: number | undefined): number {
  return Math.min(110, columns || 100);
}

/** The shape of dist/cli/help.json. */
export interface HelpFile {
  /** helpInputsHash() when it was rendered. */
  readonly inputsHash: string;
  /** What `--version` prints (with its newline). */
  readonly version: string;
  /** Width → '' (the top-level help) or a command name → what `--help` prints (with its newline). */
  readonly help: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * Which pre-rendered text answers `argv`: 'version', '' (top-level help), a word that may be a
 * command (its help, if help.json has one by that name), or null when yargs must parse it
 * (anything longer, or other flags).
 */
export function prerenderedKey(argv: readonly string[]): string | null {
  const isHelp = (a: string | undefined): boolean => a === '--help' || a === '-h';
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) return 'version';
  if (argv.length === 1 && isHelp(argv[0])) return '';
  if (argv.length === 2 && /^[a-z]+$/.test(argv[0]!) && isHelp(argv[1])) return argv[0]!;
  return null;
}

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/** Every module the help texts are made of: the grammar, and the two it imports texts from. */
const INPUTS = ['./parser', './exit', '../core/bugs'].map((p) => new URL(p + EXT, import.meta.url));

/**
 * cyrb53-style mixing over 32-bit words (a quarter of the steps of a byte loop, which matters
 * here: this loop runs once, in the interpreter), two lanes: a change detector, not a MAC.
 */
function hashBytes(bytes: Uint8Array, h: [number, number]): void {
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  new Uint8Array(words.buffer).set(bytes);
  let h1 = h[0] ^ bytes.length;
  let h2 = h[1];
  for (let i = 0; i < words.length; i++) {
    h1 = Math.imul(h1 ^ words[i]!, 2654435761);
    h2 = Math.imul(h2 ^ words[i]!, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  h[0] = h1 >>> 0;
  h[1] = h2 >>> 0;
}

/** The version in the package.json at `url`. */
function versionAt(url: URL): string {
  return String((JSON.parse(fs.readFileSync(url, 'utf8')) as { version?: unknown }).version);
}

/** yargs's package.json, where Node's resolver would find yargs from this module. */
function yargsPackageJson(): URL {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    const u = new URL('node_modules/yargs/package.json', dir);
    if (fs.existsSync(u)) return u;
    if (dir.pathname === '/') throw new Error('yargs is not installed');
  }
}

/** A hash of every input of the help texts: the modules' bytes, the package's and yargs's versions. */
export function helpInputsHash(): string {
  const h: [number, number] = [0xdeadbeef, 0x41c6ce57];
  const parts = [...INPUTS.map((u) => fs.readFileSync(u)), versionAt(new URL('../../package.json', import.meta.url)), versionAt(yargsPackageJson())];
  for (const p of parts) hashBytes(typeof p === 'string' ? new TextEncoder().encode(p) : p, h);
  return `${parts.map((p) => p.length).join('.')}-${h[0].toString(16)}${h[1].toString(16)}`;
}

/** The URL of help.json: next to this module (dist/cli/). */
export const HELP_FILE = new URL('./help.json', import.meta.url);

/**
 * What the CLI would print on stdout for `argv` (exit status 0), from help.json, or null when
 * this must go through yargs: not a help/version line, no help.json (a development checkout
 * running the TypeScript), inputs changed since it was rendered, or a width not rendered.
 */
export function prerenderedAnswer(argv: readonly string[], columns: number | undefined, file: URL = HELP_FILE): string | null {
  const key = prerenderedKey(argv);
  if (key === null) return null;
  let help: HelpFile;
  try {
    help = JSON.parse(fs.readFileSync(file, 'utf8')) as HelpFile;
    if (help.inputsHash !== helpInputsHash()) return null;
  } catch {
    return null; // not built, or an input missing: yargs knows best
  }
  if (key === 'version') return help.version;
  return help.help[String(helpWidth(columns))]?.[key] ?? null;
}

/**
 * Answer `argv` (without node and the script) from help.json if it can: print the text under
 * the CLI's process policy (`psync-sim --help | head -1` ends quietly) and return true.
 */
export function answerFromPrerendered(argv: readonly string[]): boolean {
  const text = prerenderedAnswer(argv, process.stdout.columns);
  if (text === null) return false;
  installProcessPolicy();
  process.stdout.write(text);
  return true;
}
