#!/usr/bin/env node
/**
 * The psync-sim command line (yargs): run, fuzz, explain, compare, lab, bench. Wall clock, environment and terminal
 * concerns live here and in sim/cli/, never in the simulation. The commands' modules are
 * imported only when their command runs, so `--help` and `--version` load nothing of the
 * simulator (start-up is part of the product: see the README's figures).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { readFileSync } from 'node:fs';
import { BUG_NAMES } from './core/bugs.ts';
import { availableParallelism } from 'node:os';
import { EXIT, EXIT_CODES_HELP, UsageError, installProcessPolicy, replayLine } from './cli/exit.ts';

const argvRaw = hideBin(process.argv);
// yargs reads a lone `-` as no value: `--json -` (stdout) is spelled `--json=-` before it parses.
const argvParsed = argvRaw.map((a, i) => (a === '-' && argvRaw[i - 1] === '--json' ? '\0stdout' : a))
  .flatMap((a, i, all) => (a === '--json' && all[i + 1] === '\0stdout' ? ['--json=-'] : a === '\0stdout' ? [] : [a]));
const debug = argvRaw.includes('--debug');
installProcessPolicy();

/** The package's version: dist/cli.js and sim/cli.ts both sit one folder below package.json. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const RUN_EXAMPLE = [
  'A whole example (save as story.scn, then: psync-sim run story.scn):',
  '',
  '  title  a replica attaches, the link drops, it resumes with a partial resync',
  '  seed   4',
  '  nodes  m r1',
  '  at 0s',
  '    r1: REPLICAOF m 6379',
  '  await converged within 10s',
  '  at +100ms',
  '    load m 100',
  '    kill-link m r1',
  '  await converged within 5s',
  '    expect m.sync_partial_ok == 1',
  '    expect r1: DBSIZE => 100',
].join('\n');

const parser = yargs(argvParsed)
  .scriptName('psync-sim')
  .usage('$0 <command> [options]\n\nA deterministic simulator of Redis master–replica replication.')
  .option('debug', { type: 'boolean', default: false, describe: 'on an internal error, print the stack too' })
  .command(
    'run <files..>',
    'Replay scenario files (or folders of *.scn) and check their expectations',
    (y) => y
      .usage('$0 run <files..> [options]\n\nReplay scenario files (or folders of *.scn) and check their expectations.')
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'scenario files or folders' })
      .option('seed', { type: 'string', describe: "seed for every file (overrides the file's `seed`)" })
      .option('seeds', { type: 'string', describe: 'sweep: replay each file once per seed in a..b (integers), count on how many seeds each check held' })
      .option('trace', { type: 'boolean', default: false, describe: 'print every trace event, explained' })
      .option('trace-level', {
        // Checked by runCommand (not yargs `choices`), so a wrong value is one line like every other bad flag.
        type: 'string', default: 'protocol',
        describe: 'protocol|stream|commands: what the trace holds (--trace, --timeline, --json, --html): protocol = connections, handshakes, PSYNC, faults; ' +
          'stream = that plus every propagated command with its offsets [first..last], PINGs, REPLCONF ACK/GETACK, applies and proxies; ' +
          'commands = protocol plus every command a node reads from a network client (a sentinel\'s MULTI ... EXEC, a client\'s writes). Alone it prints the trace',
      })
      .option('nodes', { type: 'string', describe: 'a,b: trace only events that concern these processes (--trace, --timeline, --json; not --html). Alone it prints the trace' })
      .option('timeline', { type: 'boolean', default: false, describe: 'print the trace as one lane per node (wraps to COLUMNS)' })
      .option('json', { type: 'string', describe: 'write JSON lines (schema: sim/cli/run-schema.json) to this file, or - for stdout' })
      .option('html', { type: 'string', describe: 'write the run as a self-contained page: space-time diagram, state at any moment, offsets, PSYNC cards' })
      .option('report', { type: 'boolean', default: false, describe: 'end with a table: one row per file' })
      .option('quiet', { type: 'boolean', default: false, describe: 'print only failures and the totals' })
      .option('bug', { type: 'string', array: true, describe: `switch on a historical Redis bug (the bug zoo): ${BUG_NAMES.join(', ')}` })
      .example('$0 run scenarios/lessons/04-partial-resync.scn --trace', 'watch a partial resync')
      .example('$0 run scenarios/lessons/18-reading-the-stream.scn --trace-level stream --nodes r1', 'every command r1 gets, with its offsets')
      .example('$0 run scenarios --report', 'run every scenario')
      .example('$0 run story.scn --seeds 1..200', 'how often does each check hold over 200 seeds?')
      .example('$0 run scenarios/lessons/09-promotion-and-replid2.scn --html promotion.html', 'a page to explore')
      .epilog(`${RUN_EXAMPLE}\n\n${EXIT_CODES_HELP}`),
    async (argv) => {
      const { runCommand } = await import('./cli/run.ts');
      process.exitCode = await runCommand({
        files: argv.files as string[],
        seed: argv.seed,
        seeds: argv.seeds,
        trace: argv.trace,
        traceLevel: argv['trace-level'] as 'protocol' | 'stream' | 'commands',
        nodes: argv.nodes,
        timeline: argv.timeline,
        json: argv.json,
        report: argv.report,
        quiet: argv.quiet,
        bugs: argv.bug ?? [],
        debug: argv.debug,
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
      .option('json', { type: 'boolean', default: false, describe: 'print JSON lines (schema: sim/cli/run-schema.json) instead of text' })
      .option('bug', { type: 'string', array: true, describe: `switch on a historical Redis bug: ${BUG_NAMES.join(', ')}` })
      .option('clients', { type: 'boolean', default: false, describe: 'loads go through a networked client: the summary shows lost acknowledged writes by cause' })
      .option('sentinels', { type: 'boolean', default: false, describe: 'sentinels (3 or 5) monitor the nodes: sentinel faults, settled + converged at the end, sentinel coverage' })
      .option('variant', { type: 'string', array: true, default: [], describe: "with --clients: 'NAME: STATEMENT; STATEMENT' (as compare); every story also runs under it, one table at the end" })
      .option('workers', { type: 'number', default: availableParallelism(), describe: 'worker threads (default: the machine\'s cores)' })
      .option('shrink', { type: 'boolean', default: true, describe: 'shrink the first failure of each kind into <seed>.min.scn (--no-shrink: off)' })
      .option('shrink-all', { type: 'boolean', default: false, describe: 'shrink every failure, not only the first of each signature' })
      .option('shrink-runs', { type: 'number', describe: 'most runs one shrink may spend (default 300)' })
      .option('check-determinism', { type: 'boolean', default: false, describe: 'run every seed twice; report the first trace event that differs' })
      .example('$0 fuzz --runs 500 --seed nightly', 'a campaign')
      .example('$0 fuzz --time 10m --shard 2/8', 'machine 2 of 8 in a CI matrix')
      .example('$0 fuzz --sentinels --clients --runs 2000', 'failovers run by sentinels, with the lost writes by cause')
      .example("$0 fuzz --clients --runs 200 --variant 'minrep: config * min-replicas-to-write 1; config * min-replicas-max-lag 10'", 'what min-replicas buys over generated stories')
      .epilog(EXIT_CODES_HELP),
    async (argv) => {
      const { fuzzCommand } = await import('./cli/fuzz.ts');
      process.exitCode = await fuzzCommand({
        runs: argv.runs, seed: argv.seed, time: argv.time, shard: argv.shard,
        faults: argv.faults, nodes: argv.nodes, out: argv.out, json: argv.json, bugs: argv.bug, workers: argv.workers, clients: argv.clients, sentinels: argv.sentinels, variants: argv.variant as string[],
        interruptible: true, shrink: argv.shrink, shrinkAll: argv['shrink-all'], shrinkRuns: argv['shrink-runs'], checkDeterminism: argv['check-determinism'],
      });
    },
  )
  .command(
    'compare <file>',
    'Run one story on the same seeds under several variants (extra header statements) and compare what clients lost',
    (y) => y
      .positional('file', { type: 'string', demandOption: true, describe: 'a scenario file with clients' })
      .option('seeds', { type: 'string', default: '1..10', describe: 'seeds A..B (inclusive), or one seed' })
      .option('variant', { type: 'string', array: true, default: [], describe: "'NAME: STATEMENT; STATEMENT' (header lines, or 'wait N TIMEOUT' for every client load)" })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object instead of the table' })
      .example("$0 compare scenarios/lessons/13-frozen-master-loses-writes.scn --seeds 1..20 --variant 'minrep: config * min-replicas-to-write 1; config * min-replicas-max-lag 10'", 'what min-replicas buys'),
    async (argv) => {
      const { compareCommand } = await import('./cli/compare.ts');
      process.exitCode = compareCommand({ file: argv.file as string, seeds: argv.seeds, variants: argv.variant as string[], json: argv.json });
    },
  )
  .command(
    'explain <file>',
    'Replay one scenario and tell it as numbered paragraphs for a learner: each sync, fault, promotion and check, with the numbers',
    (y) => y
      .positional('file', { type: 'string', demandOption: true, describe: 'a scenario file' })
      .option('seed', { type: 'string', describe: "seed (overrides the file's `seed`)" })
      .example('$0 explain scenarios/lessons/04-partial-resync.scn', 'why r1 got +CONTINUE'),
    async (argv) => {
      const { explainCommand } = await import('./cli/explain.ts');
      process.exitCode = explainCommand({ file: argv.file as string, seed: argv.seed });
    },
  )
  .command(
    'lab',
    'Serve the lab on 127.0.0.1: the simulator runs in your browser; play a lesson, crash nodes, partition, type commands, export what you did as a .scn',
    (y) => y
      .option('port', { type: 'number', default: 7379, describe: 'port to listen on (0: any free port)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (the page has no authentication: keep it local)' })
      .example('$0 lab', 'then open http://127.0.0.1:7379/'),
    async (argv) => {
      const { labCommand } = await import('./cli/lab.ts');
      await labCommand({ port: argv.port, host: argv.host });
    },
  )
  .command('bench', 'Measure events/s, virtual seconds per wall second and fuzz runs/s', () => {}, async () => {
    const { runBench } = await import('./cli/bench.ts');
    await runBench();
  })
  .demandCommand(1, 'Name a command: run, fuzz, explain, compare, lab or bench (see --help).')
  .strict()
  .help()
  .alias('h', 'help')
  .version(packageVersion())
  .alias('V', 'version')
  .epilog(EXIT_CODES_HELP)
  .wrap(Math.min(110, process.stdout.columns || 100))
  .fail((msg, err) => {
    if (err) throw err;
    process.stderr.write(`psync-sim: ${msg}\nRun 'psync-sim --help' for usage.\n`);
    process.exit(EXIT.invalid);
  });

try {
  await parser.parseAsync();
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
