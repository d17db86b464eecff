/**
 * The story as a scenario whose expectations are the real servers' values, its run in
 * psync-sim, and the verdict.
 *
 * Theory of operation. buildStoryScenario() prints the plan (story-gen.ts planStory) as scenario
 * text: each command with the real reply as a comment, faults as `crash` / `restart` / `pause`,
 * and at each checkpoint an `await` (the real topology reached: roles, who follows whom, each
 * replication tree `converged`) followed by one `expect` per compared value. Replication ids are
 * random on both sides, so they are compared as a relation: which nodes' master_replid and
 * master_replid2 are equal (`expect a.master_replid == b.master_replid2`) and which are not.
 * runStoryInSim() runs that text and takes each command's reply from the trace. The scenario is
 * therefore its own replay: a divergence is written out as the file, which fails under
 * `psync-sim run` on exactly the lines where psync-sim and Redis disagree.
 */
import { parseScenario } from '../../sim/scenario/parser.ts';
import { runScenario } from '../../sim/scenario/run.ts';
import type { CheckResult } from '../../sim/scenario/run.ts';
import { quoteIfNeeded } from '../../sim/scenario/lexer.ts';
import type { NodeName, Step, Story } from './story-gen.ts';
import { describeAct, planStory } from './story-gen.ts';
import type { Checkpoint, NodeObservation, RealStoryRun } from './story-real.ts';
import { RealUnsettled, runStoryReal } from './story-real.ts';

const ZERO_REPLID = '0'.repeat(40);
const scnArgs = (argv: readonly string[]): string => argv.map((a) => quoteIfNeeded(a)).join(' ');
const oneLine = (s: string): string => s.replace(/\n/g, ' | ');
/** Long values (the 40 kB writes) are shortened in comments only. */
const short = (s: string): string => (s.length > 60 ? `${s.slice(0, 57)}...` : s);

/** A scenario seed (an integer) for a story seed: the simulator's own randomness varies too. */
export function simSeedOf(storySeed: string): number {
  let h = 2166136261;
  for (let i = 0; i < storySeed.length; i++) h = Math.imul(h ^ storySeed.charCodeAt(i), 16777619) >>> 0;
  return h % 1_000_000;
}

/** The replication trees: each master with everything below it, in node order. */
function trees(cp: Checkpoint): NodeName[][] {
  const rootOf = (n: NodeName): NodeName => {
    let at = n;
    for (let i = 0; i < 8; i++) {
      const m = cp.nodes.get(at)!.master;
      if (m === null) return at;
      at = m;
    }
    throw new Error(`a replication cycle through ${n}`);
  };
  const groups = new Map<NodeName, NodeName[]>();
  for (const n of cp.nodes.keys()) {
    const r = rootOf(n);
    if (!groups.has(r)) groups.set(r, []);
    groups.get(r)!.push(n);
  }
  return [...groups.values()];
}

/** `await`: the real topology (roles, who follows whom, how many replicas each lists), every tree converged. */
function awaitLine(cp: Checkpoint): string {
  const parts: string[] = [];
  for (const [n, o] of cp.nodes) {
    parts.push(`${n}.role == ${o.role}`, `${n}.connected_slaves == ${o.connectedSlaves}`);
    if (o.master !== null) parts.push(`${n}.master_host == "${o.master}"`);
  }
  for (const t of trees(cp)) parts.push(`converged ${t.join(' ')}`);
  return `await ${parts.join(' and ')} within 60s`;
}

/** The replid relation as expect lines: equal ids chained, one inequality between classes. */
function replidLines(nodes: ReadonlyMap<NodeName, NodeObservation>): string[] {
  const classes = new Map<string, string[]>(); // id value → ["a.master_replid", ...]
  const lines: string[] = [];
  for (const [n, o] of nodes) {
    for (const [field, id] of [['master_replid', o.replid], ['master_replid2', o.replid2]] as const) {
      if (id === ZERO_REPLID) { lines.push(`  expect ${n}.${field} == "${ZERO_REPLID}"`); continue; }
      if (!classes.has(id)) classes.set(id, []);
      classes.get(id)!.push(`${n}.${field}`);
    }
  }
  const reps: string[] = [];
  for (const members of classes.values()) {
    reps.push(members[0]!);
    for (let i = 1; i < members.length; i++) lines.push(`  expect ${members[i - 1]} == ${members[i]}`);
  }
  for (let i = 0; i < reps.length; i++) for (let j = i + 1; j < reps.length; j++) lines.push(`  expect ${reps[i]} != ${reps[j]}`);
  return lines;
}

function checkpointLines(cp: Checkpoint, index: number): string[] {
  const lines = [`# checkpoint ${index}: after ${cp.what} (the real servers settled in ${cp.settleMs} ms)`, awaitLine(cp)];
  for (const [n, o] of cp.nodes) {
    lines.push(
      `  expect ${n}.connected_slaves == ${o.connectedSlaves}`,
      `  expect ${n}.sync_full == ${o.syncFull}`,
      `  expect ${n}.sync_partial_ok == ${o.syncPartialOk}`,
      `  expect ${n}.sync_partial_err == ${o.syncPartialErr}`,
      `  expect ${n}.master_repl_offset == ${o.offset}`,
      `  expect ${n}.second_repl_offset == ${o.secondOffset}`,
      `  expect ${n}.repl_backlog_active == ${o.backlogActive}`,
      `  expect ${n}: DBSIZE => ${o.dbsize}`,
      `  expect ${n}: DEBUG DIGEST => "${o.digest}"`,
    );
  }
  lines.push(...replidLines(cp.nodes));
  return lines;
}

/** The story as scenario text, every expected value read from the real servers. */
export function buildStoryScenario(story: Story, real: RealStoryRun): string {
  const steps = planStory(story);
  const ports = [...real.ports].map(([n, p]) => `${n}=${p}`).join(' ');
  const lines = [
    `title Story ${story.seed}: ${story.nodes.length} nodes, ${story.acts.length} acts, against redis-server 7.0.15`,
    `# Generated by the story-level differential fuzzer (test/support/story-gen.ts, story-real.ts, story-compare.ts).`,
    `# Every expected value below was read from real servers (ports ${ports}); each command carries the real reply.`,
    `# Acts: ${story.acts.map(describeAct).join('; ')}`,
    `# Replay: npx tsx sim/cli.ts run FILE --trace`,
    `seed ${simSeedOf(story.seed)}`,
    `nodes ${story.nodes.join(' ')}`,
    'config * repl-ping-replica-period 3600',
    'config * repl-diskless-sync-delay 0',
    `config * repl-diskless-sync ${story.diskSync ? 'no' : 'yes'}`,
    `config * appendonly ${story.aof ? 'yes' : 'no'}`,
    'config * appendfsync always',
    'config * save ""',
    '',
    'at 1s',
  ];
  let cpIndex = 0;
  for (let i = 0; i < steps.length; i++) {
    const st = steps[i]!;
    switch (st.k) {
      case 'cmd': {
        const r = real.replies.get(i);
        const comment = r === null ? 'real: the connection closes' : `real: ${short(oneLine(r ?? '(none)'))}`;
        lines.push(`  ${st.node}: ${scnArgs(st.argv)}   # ${comment}`);
        break;
      }
      case 'join': break; // the scenario's DEBUG SLEEP step already waited for its reply
      case 'crash': lines.push(`  crash ${st.node}   # kill -9`); break;
      case 'restart': lines.push(`  restart ${st.node}`); break;
      case 'pause': lines.push(`  pause ${st.node} ${st.durMs}ms   # SIGSTOP; SIGCONT after ${st.durMs} ms`); break;
      case 'resume': break;
      case 'sleep': lines.push(`run ${st.ms}ms`); break;
      case 'acks': lines.push('run 1100ms   # past the replicas\' next REPLCONF ACK (the real side waited for it)'); break;
      case 'checkpoint': {
        const cp = real.checkpoints[cpIndex];
        if (cp === undefined) throw new Error(`the real run has no checkpoint ${cpIndex}`);
        lines.push(...checkpointLines(cp, ++cpIndex), 'at +10ms');
        break;
      }
      default: {
        const never: never = st;
        throw new Error(`buildStoryScenario: ${JSON.stringify(never)}`);
      }
    }
  }
  lines.push('');
  return lines.join('\n');
}

export interface SimStoryRun {
  readonly checks: CheckResult[];
  /** The reply to each plan step that is a command, by step index (absent: none came). */
  readonly replies: ReadonlyMap<number, string>;
}

export function runStoryInSim(story: Story, text: string, file: string): SimStoryRun {
  const steps: Step[] = planStory(story);
  // The k-th command the scenario's clients send is the k-th command step of the plan.
  const commandSteps = steps.flatMap((st, i) => (st.k === 'cmd' ? [i] : []));
  const pending = new Map<NodeName, number[]>();
  const replies = new Map<number, string>();
  let sent = 0;
  const result = runScenario(parseScenario(text, file), {
    file,
    source: text,
    trace: ({ event }) => {
      if (event.kind === 'command' && event.client === 'cli') {
        const at = commandSteps[sent++];
        if (at === undefined) return;
        if (!pending.has(event.node)) pending.set(event.node, []);
        pending.get(event.node)!.push(at);
      } else if (event.kind === 'reply' && event.client === 'cli') {
        const at = pending.get(event.node)?.shift();
        if (at !== undefined) replies.set(at, event.reply);
      }
    },
  });
  return { checks: result.checks, replies };
}

/** Every disagreement, one entry each (empty: the story agrees). */
export function compareStory(story: Story, real: RealStoryRun, sim: SimStoryRun): string[] {
  const problems: string[] = [];
  // The real side must agree with itself (one digest per tree), or the oracle is broken.
  for (const cp of real.checkpoints) {
    for (const t of trees(cp)) {
      const digests = new Set(t.map((n) => cp.nodes.get(n)!.digest));
      if (digests.size > 1) problems.push(`real: the nodes of ${t.join(' ')} hold different data at "${cp.what}"`);
    }
  }
  const steps = planStory(story);
  steps.forEach((st, i) => {
    if (st.k !== 'cmd') return;
    const want = real.replies.get(i);
    if (want === null || want === undefined) return;
    const got = sim.replies.get(i);
    if (got !== want) problems.push(`reply: ${st.node}: ${short(scnArgs(st.argv))}\n    real: ${oneLine(want)}\n    sim:  ${got === undefined ? '(no reply)' : oneLine(got)}`);
  });
  for (const c of sim.checks) if (!c.ok) problems.push(`line ${c.line}: ${short(c.text)}\n    ${c.detail}`);
  return problems;
}

/** The bytes of `*1\r\n$4\r\nPING\r\n`, the PING replicationCron feeds to replicas. */
export const PING_BYTES = 14;

/**
 * Whether a divergence is only the one wall-clock race of redis-server 7.0.15 the stories meet
 * (README, fidelity table: "a restart from the AOF"): a node restarted with appendonly yes loads
 * its AOF through loadSingleAppendOnlyFile(), which calls processEventsWhileBlocked() before the
 * first command of each file; whileBlockedCron() then counts one cron loop if the wall clock's
 * millisecond (server.mstime) changed since startLoading(), so replicationCron's loop 0 (the
 * PING) waits for cronloops 10, about 900 ms, and a replica that attaches meanwhile receives it.
 * psync-sim's load takes microseconds of virtual time and never crosses that millisecond.
 * So: the story has appendonly yes and a restart, and every problem is a master_repl_offset (or
 * a second_repl_offset, a promotion's copy of it) where the real server is ahead of psync-sim by
 * whole PINGs, at most one per restart.
 */
export function onlyAofRestartPings(story: Story, problems: readonly string[]): boolean {
  if (!story.aof) return false;
  const restarts = story.acts.filter((a) => a.kind === 'crash' || a.kind === 'shutdown').length;
  if (restarts === 0 || problems.length === 0) return false;
  return problems.every((p) => {
    const m = /^line \d+: expect \w+\.(master_repl_offset|second_repl_offset) == (\d+)\n\s+\w+\.\1 is (-?\d+); expected == \d+$/.exec(p);
    if (m === null) return false;
    const aheadBytes = Number(m[2]) - Number(m[3]);
    return aheadBytes > 0 && aheadBytes % PING_BYTES === 0 && aheadBytes / PING_BYTES <= restarts;
  });
}

export type StoryVerdict =
  | { readonly status: 'agree'; readonly checks: number; readonly text: string }
  | { readonly status: 'diverge'; readonly problems: string[]; readonly text: string }
  /** The real side never became quiescent (a loaded machine): nothing to compare. */
  | { readonly status: 'void'; readonly reason: string };

/** Run one story on both sides and compare. */
export async function checkStory(story: Story, settleTimeoutMs = 30_000): Promise<StoryVerdict> {
  let real: RealStoryRun;
  try {
    real = await runStoryReal(story, { settleTimeoutMs });
  } catch (e) {
    if (e instanceof RealUnsettled) return { status: 'void', reason: e.message };
    throw e;
  }
  const file = `story-${story.seed}.scn`;
  const text = buildStoryScenario(story, real);
  const sim = runStoryInSim(story, text, file);
  const problems = compareStory(story, real, sim);
  if (problems.length === 0) return { status: 'agree', checks: sim.checks.length, text };
  // The file that replays the divergence says what differed, at its end (line numbers hold).
  const notes = [`# psync-sim disagreed with redis-server 7.0.15 on ${problems.length} point(s):`, ...problems.map((p) => `#   ${oneLine(p)}`)];
  return { status: 'diverge', problems, text: text + notes.join('\n') + '\n' };
}
