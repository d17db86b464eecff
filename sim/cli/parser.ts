/**
 * The psync-sim command line's grammar (yargs): every command, option, example and epilog, and
 * nothing else. It declares no handlers: sim/cli.ts dispatches on the parsed command, and the
 * build renders help texts from this same grammar without any command's code.
 *
 * The help and version texts it prints are pre-rendered at build time (sim/cli/render-help.ts)
 * and answered by sim/cli/prerendered.ts without loading yargs; test/cli-startup.test.ts checks
 * that the two never differ. So everything here must depend only on the source and the width:
 * no machine-dependent default in a help line (`defaultDescription` instead), and the English
 * texts whatever the locale (`.locale('en')`; the rest of the CLI speaks English too).
 */
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { readFileSync } from 'node:fs';
import { BUG_NAMES } from '../core/bugs.ts';
import { EXIT_CODES_HELP } from './exit.ts';
export { helpWidth } from './prerendered.ts';

/** The commands, in the order `--help` lists them. */
export const COMMANDS = ['run', 'fuzz', 'compare', 'explain', 'lab', 'bench'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** The package's version: dist/cli/ and sim/cli/ both sit two folders below package.json. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
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

/**
 * The parser for `argv` (already without node and the script), wrapping help to `width`
 * columns. `onFail` receives yargs's one-line message for a usage error (unknown flag, missing
 * argument); it must not return normally (sim/cli.ts exits 2).
 */
export function buildParser(argv: readonly string[], width: number, onFail: (msg: string) => never): Argv {
  return yargs([...argv])
    .scriptName('psync-sim')
    .locale('en')
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
        .option('max-heap-mb', {
          type: 'number',
          describe: "give the run a JavaScript heap of at least this many MB, for big datasets (V8's default is about 4,100; 10M keys and a replica need about 7,000): " +
            'it happens in a child Node given --max-old-space-size, with the same output and exit status',
        })
        .example('$0 run scenarios/lessons/04-partial-resync.scn --trace', 'watch a partial resync')
        .example('$0 run scenarios/lessons/18-reading-the-stream.scn --trace-level stream --nodes r1', 'every command r1 gets, with its offsets')
        .example('$0 run scenarios --report', 'run every scenario')
        .example('$0 run story.scn --seeds 1..200', 'how often does each check hold over 200 seeds?')
        .example('$0 run scenarios/lessons/09-promotion-and-replid2.scn --html promotion.html', 'a page to explore')
        .epilog(`${RUN_EXAMPLE}\n\n${EXIT_CODES_HELP}`),
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
        // No `default` here: the machine's core count would be baked into the pre-rendered help.
        // sim/cli.ts fills it in (availableParallelism) when the flag is absent.
        .option('workers', { type: 'number', defaultDescription: "the machine's cores", describe: 'worker threads' })
        .option('shrink', { type: 'boolean', default: true, describe: 'shrink the first failure of each kind into <seed>.min.scn (--no-shrink: off)' })
        .option('shrink-all', { type: 'boolean', default: false, describe: 'shrink every failure, not only the first of each signature' })
        .option('shrink-runs', { type: 'number', describe: 'most runs one shrink may spend (default 300)' })
        .option('check-determinism', { type: 'boolean', default: false, describe: 'run every seed twice; report the first trace event that differs' })
        .example('$0 fuzz --runs 500 --seed nightly', 'a campaign')
        .example('$0 fuzz --time 10m --shard 2/8', 'machine 2 of 8 in a CI matrix')
        .example('$0 fuzz --sentinels --clients --runs 2000', 'failovers run by sentinels, with the lost writes by cause')
        .example("$0 fuzz --clients --runs 200 --variant 'minrep: config * min-replicas-to-write 1; config * min-replicas-max-lag 10'", 'what min-replicas buys over generated stories')
        .epilog(EXIT_CODES_HELP),
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
    )
    .command(
      'explain <file>',
      'Replay one scenario and tell it as numbered paragraphs for a learner: each sync, fault, promotion and check, with the numbers',
      (y) => y
        .positional('file', { type: 'string', demandOption: true, describe: 'a scenario file' })
        .option('seed', { type: 'string', describe: "seed (overrides the file's `seed`)" })
        .example('$0 explain scenarios/lessons/04-partial-resync.scn', 'why r1 got +CONTINUE'),
    )
    .command(
      'lab',
      'Serve the lab on 127.0.0.1: the simulator runs in your browser; play a lesson, crash nodes, partition, type commands, export what you did as a .scn',
      (y) => y
        .option('port', { type: 'number', default: 7379, describe: 'port to listen on (0: any free port)' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (the page has no authentication: keep it local)' })
        .example('$0 lab', 'then open http://127.0.0.1:7379/'),
    )
    .command(
      'bench',
      'Measure events/s, virtual seconds per wall second and fuzz runs/s',
      (y) => y
        .option('full-sync-keys', { type: 'number', describe: 'keys of the full-sync figure (default 1,000,000)' })
        .option('full-sync-heap-mb', { type: 'number', defaultDescription: "3/4 of the machine's memory", describe: "heap limit of the full-sync figure's worker thread, in MB" })
        .option('burst-writes', { type: 'number', describe: 'writes of the write-burst figure (default 300,000)' })
        .option('fuzz-runs', { type: 'number', describe: 'fuzz runs per core (default 250)' })
        .option('real', { type: 'boolean', default: true, describe: 'also run the workloads on real redis-server (--no-real: off)' })
        .option('targets-only', { type: 'boolean', default: false, describe: 'skip the two older figures (10k writes/s for 60 s, bare event queue)' })
        .epilog(EXIT_CODES_HELP),
    )
    .demandCommand(1, 'Name a command: run, fuzz, explain, compare, lab or bench (see --help).')
    .strict()
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .alias('V', 'version')
    .epilog(EXIT_CODES_HELP)
    .wrap(width)
    .fail((msg, err) => {
      if (err) throw err;
      onFail(msg);
    });
}
