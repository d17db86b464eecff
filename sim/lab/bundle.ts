/**
 * The lab's two scripts, bundled at lab start: the page's (sim/lab/client.ts: the controls and
 * the run page's drawing) and its Web Worker's (sim/lab/worker.ts: the parser, the executor,
 * the World, the Recorder — the simulator itself), with everything of sim/ they import, for the
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

export interface LabBundle {
  /** /lab.js: the page. */
  readonly client: string;
  /** /lab-worker.js: the simulator. */
  readonly worker: string;
}

let cached: Promise<LabBundle> | null = null;

/** The bundles' JavaScript (built once per process). */
export function labBundle(): Promise<LabBundle> {
  cached ??= build({
    entryPoints: { client: here('./client'), worker: here('./worker') },
    // Nothing is written (write: false); esbuild names the outputs under this folder.
    outdir: fileURLToPath(new URL('./bundle-out/', import.meta.url)),
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
  }).then((r) => {
    const out = (name: string): string => r.outputFiles.find((f) => f.path.endsWith(`${name}.js`))!.text;
    return { client: out('client'), worker: out('worker') };
  });
  return cached;
}
