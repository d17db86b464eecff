// `npm run bench [-- OPTIONS]`: see sim/cli/bench.ts. A bad flag is one line and exit 2, like
// the psync-sim command's (sim/cli/exit.ts); anything else escaping is an internal error (3).
import { runBench, parseBenchArgs, BENCH_HELP } from './cli/bench.ts';
import { EXIT, UsageError } from './cli/exit.ts';

try {
  const o = parseBenchArgs(process.argv.slice(2));
  if (o.help) console.log(BENCH_HELP);
  else await runBench(o);
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`psync-sim ${e.message}\nRun 'node dist/bench.js --help' for usage.\n`);
    process.exitCode = EXIT.invalid;
  } else {
    process.stderr.write(`psync-sim bench: internal error (a psync-sim bug, please report it): ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    if (process.argv.includes('--debug') && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    process.exitCode = EXIT.internal;
  }
}
