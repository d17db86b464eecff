#!/usr/bin/env node
// The installed `psync-sim` command: the compiled CLI in dist/, built by `npm ci` / `npm install`
// (the `prepare` script: tsc, then dist/cli/render-help.js). During development, `npm run dev --`
// runs the TypeScript directly through tsx.
//
// Start-up is part of the product, so this file does as little as it can before answering:
// Node's compile cache where Node has it (22.1+; this package supports 20.19+, which has not),
// then `--help`, `--version` and `COMMAND --help` from the texts pre-rendered at build time
// (dist/cli/prerendered.js, builtins only), and only otherwise the yargs command line.
// (getBuiltinModule, not `import`: an import of a builtin builds its ESM facade, which costs.)
process.getBuiltinModule('node:module').enableCompileCache?.();
try {
  const { answerFromPrerendered } = await import('../dist/cli/prerendered.js');
  if (!answerFromPrerendered(process.argv.slice(2))) await import('../dist/cli.js');
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && /dist\/cli(\/prerendered)?\.js/.test(String(e.message))) {
    process.stderr.write('psync-sim: not built yet: run `npm run build` (npm ci and npm install build it too)\n');
    process.exit(3);
  }
  throw e;
}
