// `npm run bench [-- OPTIONS]`: see sim/cli/bench.ts.
import { runBench, parseBenchArgs } from './cli/bench.ts';
await runBench(parseBenchArgs(process.argv.slice(2)));
