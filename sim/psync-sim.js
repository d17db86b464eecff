#!/usr/bin/env node
// The installed `psync-sim` command: the compiled CLI in dist/, built by `npm ci` / `npm install`
// (the `prepare` script runs `tsc -p tsconfig.build.json`). During development, `npm run dev --`
// runs the TypeScript directly through tsx.
try {
  await import('../dist/cli.js');
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/cli.js')) {
    process.stderr.write('psync-sim: not built yet: run `npm run build` (npm ci and npm install build it too)\n');
    process.exit(3);
  }
  throw e;
}
