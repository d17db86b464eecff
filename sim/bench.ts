// `npm run bench`: see sim/cli/bench.ts.
import { runBench } from './cli/bench.ts';
await runBench();
