/**
 * The lab page's script, bundled at lab start: sim/lab/client.ts and everything of sim/ it
 * imports (the parser, the executor, the World, the Recorder, the page's drawing), for the
 * browser. esbuild does it in memory in a fraction of a second, so nothing built is committed
 * and the page always runs the same code as the CLI.
 *
 * Node's built-ins are replaced by small stand-ins (sim/lab/shims/): `Buffer` by the `buffer`
 * package (injected where sim/ uses the global), `node:crypto` by a synchronous SHA-1 (DEBUG
 * DIGEST), `node:fs`, `node:module` and `node:zlib` (used by html.ts only to write whole pages) by stubs.
 * Runs from sim/ (tsx, .ts) or from dist/ (.js): the sibling files have the same extension.
 */
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import { fileURLToPath } from 'node:url';

const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

function here(rel: string): string {
  return fileURLToPath(new URL(rel + EXT, import.meta.url));
}

/** Node built-ins -> the lab's stand-ins. */
const shims: Plugin = {
  name: 'psync-sim-lab-shims',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(crypto|fs|module|zlib)$/ }, (args) => ({
      path: here(args.path.replace(/^node:/, '') === 'crypto' ? './shims/crypto' : './shims/node-stub'),
    }));
  },
};

let cached: Promise<string> | null = null;

/** The bundle's JavaScript (built once per process). */
export function labBundle(): Promise<string> {
  cached ??= build({
    entryPoints: [here('./client')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    inject: [here('./shims/buffer-global')],
    plugins: [shims],
    logLevel: 'silent',
  }).then((r) => r.outputFiles[0]!.text);
  return cached;
}
