/**
 * The psync-sim command line (yargs): run, fuzz, bench. Wall clock, environment and terminal
 * concerns live here and in sim/cli/, never in the simulation.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCommand } from './cli/run.ts';
import { runBench } from './cli/bench.ts';
import { fuzzCommand } from './cli/fuzz.ts';
import { explainCommand } from './cli/explain.ts';
import { BUG_NAMES } from './core/bugs.ts';
import { availableParallelism } from 'node:os';

const parser = yargs(hideBin(process.argv))
  .scriptName('psync-sim')
  .usage('$0 <command> [options]\n\nA deterministic simulator of Redis master–replica replication.')
  .command(
    'run <files..>',
    'Replay scenario files (or folders of *.scn) and check their expectations',
    (y) => y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'scenario files or folders' })
      .option('seed', { type: 'string', describe: "seed for every file (overrides the file's `seed`)" })
      .option('trace', { type: 'boolean', default: false, describe: 'print every trace event, explained' })
      .option('timeline', { type: 'boolean', default: false, describe: 'print the trace as one lane per node' })
      .option('json', { type: 'string', describe: 'write the trace as JSON lines to this file' })
      .option('html', { type: 'string', describe: 'write the run as a self-contained page: space-time diagram, state at any moment, offsets, PSYNC cards' })
      .option('report', { type: 'boolean', default: false, describe: 'end with a table: one row per file' })
      .option('quiet', { type: 'boolean', default: false, describe: 'print only failures and the totals' })
      .option('bug', { type: 'string', array: true, describe: `switch on a historical Redis bug (the bug zoo): ${BUG_NAMES.join(', ')}` })
      .example('$0 run scenarios/lessons/04-partial-resync.scn --trace', 'watch a partial resync')
      .example('$0 run scenarios --report', 'run every scenario')
      .example('$0 run scenarios/lessons/09-promotion-and-replid2.scn --html promotion.html', 'a page to explore'),
    (argv) => {
      process.exitCode = runCommand({
        files: argv.files as string[],
        seed: argv.seed,
        trace: argv.trace,
        timeline: argv.timeline,
        json: argv.json,
        report: argv.report,
        quiet: argv.quiet,
        bugs: argv.bug ?? [],
        html: argv.html,
      });
    },
  )
  .command(
    'fuzz',
    'Generate failover stories, check replication invariants, write every failure as a .scn file',
    (y) => y
      .option('runs', { type: 'number', describe: 'how many runs (default 100; with --time, until the time is up)' })
      .option('seed', { type: 'string', describe: 'campaign seed; run i uses <seed>/<i>' })
      .option('time', { type: 'string', describe: 'wall-clock budget, e.g. 30s or 5m' })
      .option('shard', { type: 'string', describe: 'i/n: run every n-th seed starting at i (spread a campaign over machines)' })
      .option('faults', { type: 'string', describe: 'fault kinds to draw from, comma-separated (default: all)' })
      .option('nodes', { type: 'string', describe: 'node count bounds a..b (2..6)' })
      .option('out', { type: 'string', describe: 'folder for failure files (default fuzz-failures)' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON lines instead of text' })
      .option('bug', { type: 'string', array: true, describe: `switch on a historical Redis bug: ${BUG_NAMES.join(', ')}` })
      .option('workers', { type: 'number', default: availableParallelism(), describe: 'worker threads (default: the machine\'s cores)' })
      .option('shrink', { type: 'boolean', default: true, describe: 'shrink each failure into <seed>.min.scn (--no-shrink: off)' })
      .option('shrink-runs', { type: 'number', describe: 'most runs one shrink may spend (default 300)' })
      .option('check-determinism', { type: 'boolean', default: false, describe: 'run every seed twice; report the first trace event that differs' })
      .example('$0 fuzz --runs 500 --seed nightly', 'a campaign')
      .example('$0 fuzz --time 10m --shard 2/8', 'machine 2 of 8 in a CI matrix'),
    async (argv) => {
      process.exitCode = await fuzzCommand({
        runs: argv.runs, seed: argv.seed, time: argv.time, shard: argv.shard,
        faults: argv.faults, nodes: argv.nodes, out: argv.out, json: argv.json, bugs: argv.bug, workers: argv.workers,
        shrink: argv.shrink, shrinkRuns: argv['shrink-runs'], checkDeterminism: argv['check-determinism'],
      });
    },
  )
  .command(
    'explain <file>',
    'Replay one scenario and tell it as numbered paragraphs for a learner: each sync, fault, promotion and check, with the numbers',
    (y) => y
      .positional('file', { type: 'string', demandOption: true, describe: 'a scenario file' })
      .option('seed', { type: 'string', describe: "seed (overrides the file's `seed`)" })
      .example('$0 explain scenarios/lessons/04-partial-resync.scn', 'why r1 got +CONTINUE'),
    (argv) => {
      process.exitCode = explainCommand({ file: argv.file as string, seed: argv.seed });
    },
  )
  .command('bench', 'Measure events/s, virtual seconds per wall second and fuzz runs/s', () => {}, () => runBench())
  .demandCommand(1, 'Name a command: run, fuzz or bench (see --help).')
  .strict()
  .help()
  .alias('h', 'help')
  .version(false)
  .wrap(Math.min(110, process.stdout.columns || 100))
  .fail((msg, err) => {
    if (err) throw err;
    process.stderr.write(`psync-sim: ${msg}\nRun 'psync-sim --help' for usage.\n`);
    process.exit(2);
  });

await parser.parseAsync();
