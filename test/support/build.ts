/**
 * vitest globalSetup: what `npm run build` does, so dist/ matches sim/: `tsc -p
 * tsconfig.build.json` (incremental), then dist/cli/render-help.js (the pre-rendered help texts
 * of the installed command's fast path, sim/cli/prerendered.ts).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(import.meta.dirname, '..', '..');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const args of [[tsc, '-p', 'tsconfig.build.json'], [join(root, 'dist', 'cli', 'render-help.js')]]) {
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build failed: ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  }
}
