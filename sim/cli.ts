/**
 * The psync-sim command line (yargs): run, bench. Wall clock, environment and terminal
 * concerns live here and in sim/cli/, never in the simulation.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCommand } from './cli/run.ts';
import { runBench } from './cli/bench.ts';

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
      .option('report', { type: 'boolean', default: false, describe: 'end with a table: one row per file' })
      .option('quiet', { type: 'boolean', default: false, describe: 'print only failures and the totals' })
      .example('$0 run scenarios/lessons/04-partial-resync.scn --trace', 'watch a partial resync')
      .example('$0 run scenarios --report', 'run every scenario'),
    (argv) => {
      process.exitCode = runCommand({
        files: argv.files as string[],
        seed: argv.seed,
        trace: argv.trace,
        timeline: argv.timeline,
        json: argv.json,
        report: argv.report,
        quiet: argv.quiet,
      });
    },
  )
  .command('bench', 'Measure events/s and virtual seconds per wall second', () => {}, () => runBench())
  .demandCommand(1, 'Name a command: run or bench (see --help).')
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
