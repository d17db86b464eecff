/**
 * Build step (after tsc; `npm run build`, `prepare` and vitest's global setup run it): render
 * every text the fast path (sim/cli/prerendered.ts) answers, with the real grammar and yargs,
 * at each width it answers for, into dist/cli/help.json.
 *
 *   node dist/cli/render-help.js
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildParser, COMMANDS } from './parser.ts';
import { HELP_FILE, PRERENDERED_WIDTHS, helpInputsHash } from './prerendered.ts';
import type { HelpFile } from './prerendered.ts';

/** What yargs prints on stdout for `argv` at `width` (help and version only: exit status 0). */
function render(argv: readonly string[], width: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parser = buildParser(argv, width, (msg) => {
      throw new Error(`render-help: ${argv.join(' ')}: ${msg}`);
    }).exitProcess(false);
    // With a callback yargs prints nothing and hands over the text it would have printed
    // (console.log: so the newline is added here).
    void parser.parse([...argv], {}, (err, _argv, output) => (err ? reject(err) : resolve(`${output}\n`)));
  });
}

/** Every pre-rendered text. */
export async function renderHelpFile(): Promise<HelpFile> {
  const help: Record<string, Record<string, string>> = {};
  for (const width of PRERENDERED_WIDTHS) {
    const texts: Record<string, string> = { '': await render(['--help'], width) };
    for (const c of COMMANDS) texts[c] = await render([c, '--help'], width);
    help[String(width)] = texts;
  }
  return { inputsHash: helpInputsHash(), version: await render(['--version'], 100), help };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(HELP_FILE, JSON.stringify(await renderHelpFile()) + '\n');
}
