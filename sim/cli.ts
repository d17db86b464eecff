#!/usr/bin/env node
/**
 * The psync-sim command line: run, fuzz, explain, compare, lab, bench. Wall clock, environment
 * and terminal concerns live here and in sim/cli/, never in the simulation. The grammar is
 * sim/cli/parser.ts (yargs); this file parses, then imports the one command's module and runs
 * it, so `--help` and `--version` load nothing of the simulator. The installed `psync-sim`
 * (sim/psync-sim.js) answers those two from texts pre-rendered at build time before it even
 * gets here (sim/cli/prerendered.ts); start-up is part of the product: see the README's figures.
 */
import { hideBin } from 'yargs/helpers';
import { availableParallelism } from 'node:os';
import { EXIT, UsageError, installProcessPolicy, replayLine } from './cli/exit.ts';
import { buildParser, helpWidth } from './cli/parser.ts';
import type { CommandName } from './cli/parser.ts';
import { assertNever } from './assert.ts';

const argvRaw = hideBin(process.argv);
// yargs reads a lone `-` as no value: `--json -` (stdout) is spelled `--json=-` before it parses.
const argvParsed = argvRaw.map((a, i) => (a === '-' && argvRaw[i - 1] === '--json' ? '\0stdout' : a))
  .flatMap((a, i, all) => (a === '--json' && all[i + 1] === '\0stdout' ? ['--json=-'] : a === '\0stdout' ? [] : [a]));
const debug = argvRaw.includes('--debug');
installProcessPolicy();

const parser = buildParser(argvParsed, helpWidth(process.stdout.columns), (msg) => {
  process.stderr.write(`psync-sim: ${msg}\nRun 'psync-sim --help' for usage.\n`);
  process.exit(EXIT.invalid);
});

// yargs's command.js renders the command's whole help text after calling its handler
// (usage.cacheHelpMessage(), kept for a later showHelp() or getHelp(), which psync-sim never
// calls): cliui, wrap-ansi and string-width over every line of `run --help`, about a fifth of a
// small lesson's CPU as a whole process. The usage object is yargs's internal one (the same for
// every command context), so this is guarded: a yargs without it just renders as before.
const usage = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } })
  .getInternalMethods?.().getUsageInstance?.();
if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};

/** Run the command yargs parsed (it printed help or the version itself, and exited, if asked). */
async function dispatch(argv: Awaited<ReturnType<typeof parser.parseAsync>>): Promise<void> {
  const command = String(argv._[0]) as CommandName;
  switch (command) {
    case 'run': {
      if (argv['max-heap-mb'] !== undefined) {
        const { maxHeapMb, heapHolds, rerunWithHeap } = await import('./cli/max-heap.ts');
        const mb = maxHeapMb(argv['max-heap-mb'] as number);
        if (!heapHolds(mb)) {
          process.exitCode = await rerunWithHeap(mb);
          return;
        }
      }
      const { runCommand } = await import('./cli/run.ts');
      process.exitCode = await runCommand({
        files: argv.files as string[],
        seed: argv.seed as string | undefined,
        seeds: argv.seeds as string | undefined,
        trace: argv.trace as boolean,
        traceLevel: argv['trace-level'] as 'protocol' | 'stream' | 'commands',
        nodes: argv.nodes as string | undefined,
        timeline: argv.timeline as boolean,
        json: argv.json as string | undefined,
        report: argv.report as boolean,
        quiet: argv.quiet as boolean,
        bugs: (argv.bug as string[] | undefined) ?? [],
        debug: argv.debug as boolean,
        html: argv.html as string | undefined,
      });
      return;
    }
    case 'fuzz': {
      const { fuzzCommand } = await import('./cli/fuzz.ts');
      process.exitCode = await fuzzCommand({
        runs: argv.runs as number | undefined, seed: argv.seed as string | undefined, time: argv.time as string | undefined,
        shard: argv.shard as string | undefined, faults: argv.faults as string | undefined, nodes: argv.nodes as string | undefined,
        out: argv.out as string | undefined, json: argv.json as boolean, bugs: argv.bug as string[] | undefined,
        workers: (argv.workers as number | undefined) ?? availableParallelism(),
        clients: argv.clients as boolean, sentinels: argv.sentinels as boolean, variants: argv.variant as string[],
        interruptible: true, shrink: argv.shrink as boolean, shrinkAll: argv['shrink-all'] as boolean,
        shrinkRuns: argv['shrink-runs'] as number | undefined, checkDeterminism: argv['check-determinism'] as boolean,
      });
      return;
    }
    case 'compare': {
      const { compareCommand } = await import('./cli/compare.ts');
      process.exitCode = compareCommand({ file: argv.file as string, seeds: argv.seeds as string, variants: argv.variant as string[], json: argv.json as boolean });
      return;
    }
    case 'explain': {
      const { explainCommand } = await import('./cli/explain.ts');
      process.exitCode = explainCommand({ file: argv.file as string, seed: argv.seed as string | undefined });
      return;
    }
    case 'lab': {
      const { labCommand } = await import('./cli/lab.ts');
      await labCommand({ port: argv.port as number, host: argv.host as string });
      return;
    }
    case 'bench': {
      const { runBench, benchOptions } = await import('./cli/bench.ts');
      await runBench(benchOptions({
        fullSyncKeys: argv['full-sync-keys'] as number | undefined, fullSyncHeapMb: argv['full-sync-heap-mb'] as number | undefined, burstWrites: argv['burst-writes'] as number | undefined,
        fuzzRunsPerWorker: argv['fuzz-runs'] as number | undefined, noReal: argv.real === false, targetsOnly: argv['targets-only'] as boolean,
      }));
      return;
    }
    default:
      // yargs' strict mode and demandCommand let nothing else through.
      assertNever(command);
  }
}

try {
  await dispatch(await parser.parseAsync());
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`psync-sim: ${e.message}\n`);
    process.exitCode = EXIT.invalid;
  } else {
    // Anything else is a psync-sim bug: one line, how to reproduce it, the stack on request.
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    process.stderr.write(`psync-sim: internal error (a psync-sim bug, please report it): ${msg.split('\n')[0]}\n`);
    process.stderr.write(`  replay: ${replayLine(argvRaw.filter((a) => a !== '--debug'))} --debug\n`);
    if (debug && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    process.exitCode = EXIT.internal;
  }
}
