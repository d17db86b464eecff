/**
 * The story-level differential fuzzer in CI: replication stories (test/support/story-gen.ts) on
 * 2-4 real redis-server 7.0.15 processes and in psync-sim, compared at every quiescent
 * checkpoint (roles, who follows whom, sync counters, offsets, second_repl_offset, the replid /
 * replid2 relation, DBSIZE, DEBUG DIGEST, every reply). The CI subset (storyFeaturesCi) is every
 * feature today; a known divergence would be switched off there, with its reason (story-gen.ts).
 *
 * Stories: PSYNC_STORY_COUNT (default 20) named `${PSYNC_STORY_SEED ?? 'ci'}-<i>`. A long
 * campaign: `npm run diff-fuzz -- --stories 500 --seed S` (test/support/story-campaign.ts).
 * On a divergence the message holds the scenario that replays it (also written to the temp dir).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { CheckResult } from '../sim/scenario/run.ts';
import { haveRedisServer } from './support/real-redis.ts';
import { generateStory, parseFeatures, planStory, storyFeaturesAll, storyFeaturesCi, storyOptionsDefault } from './support/story-gen.ts';
import type { Act } from './support/story-gen.ts';
import { buildStoryScenario, checkStory, compareStory, onlyAofRestartPings, runStoryInSim } from './support/story-compare.ts';
import type { StoryVerdict } from './support/story-compare.ts';
import { runStoryReal } from './support/story-real.ts';
import type { Checkpoint, RealStoryRun } from './support/story-real.ts';

const COUNT = Number(process.env.PSYNC_STORY_COUNT ?? 20);
const BASE = process.env.PSYNC_STORY_SEED ?? 'ci';
const SEEDS = Array.from({ length: COUNT }, (_, i) => `${BASE}-${i}`);

describe('story generator', () => {
  it('is deterministic per seed and differs between seeds', () => {
    expect(generateStory('same')).toEqual(generateStory('same'));
    expect(generateStory('same')).not.toEqual(generateStory('other'));
  });

  it('the CI stories cover the fault kinds, and a switched-off feature is left out', () => {
    const stories = SEEDS.map((s) => generateStory(s));
    const kinds = new Set(stories.flatMap((s) => s.acts.map((a) => a.kind)));
    if (COUNT >= 20) {
      for (const k of ['replicaof', 'no-one', 'client-kill', 'pause', 'crash', 'failover', 'wait', 'writes'] as const) expect(kinds, k).toContain(k);
      expect(stories.some((s) => s.nodes.length === 4)).toBe(true);
      expect(stories.some((s) => s.aof)).toBe(true);
    }
    // The kinds that were switched off until issue 7's fixes are in the CI subset again.
    const many = Array.from({ length: 200 }, (_, i) => generateStory(`all-${i}`));
    const all = new Set(many.flatMap((s) => s.acts.map((a) => a.kind)));
    for (const k of ['backlog-size', 'backlog-ttl', 'debug-sleep', 'shutdown'] as const) expect(all, k).toContain(k);
    expect(many.some((s) => s.quickAfterRestart)).toBe(true);
    expect(many.some((s) => !s.quickAfterRestart)).toBe(true);
    // A node with replicas is restarted (restartWithReplicas).
    expect(many.some((s) => {
      const masterOf = new Map(s.initial);
      return s.acts.some((a) => {
        const hit = (a.kind === 'crash' || a.kind === 'shutdown') && [...masterOf.values()].includes(a.node);
        if (a.kind === 'replicaof') masterOf.set(a.node, a.master);
        if (a.kind === 'no-one' || a.kind === 'crash' || a.kind === 'shutdown') masterOf.delete(a.node);
        if (a.kind === 'failover') { masterOf.delete(a.target); masterOf.set(a.node, a.target); }
        return hit;
      });
    })).toBe(true);
    // Without the switches, none of them.
    const off = { ...storyFeaturesAll, backlogSize: false, backlogTtl: false };
    const none = new Set(Array.from({ length: 200 }, (_, i) => generateStory(`all-${i}`, { ...storyOptionsDefault, features: off })).flatMap((s) => s.acts.map((a) => a.kind)));
    expect(none).not.toContain('backlog-size');
    expect(none).not.toContain('backlog-ttl');
  });

  it('keeps every act valid for the topology it runs on', () => {
    for (let i = 0; i < 300; i++) {
      const story = generateStory(`valid-${i}`, { ...storyOptionsDefault, features: storyFeaturesAll });
      const masterOf = new Map(story.initial);
      const replicasOf = (n: string): string[] => story.nodes.filter((r) => masterOf.get(r) === n);
      const check = (act: Act): void => {
        switch (act.kind) {
          case 'replicaof': {
            // No cycle: the new master is not below the node.
            for (let at: string | undefined = act.master; at !== undefined; at = masterOf.get(at)) expect(at).not.toBe(act.node);
            masterOf.set(act.node, act.master);
            break;
          }
          case 'no-one': expect(masterOf.has(act.node)).toBe(true); masterOf.delete(act.node); break;
          case 'failover':
            expect(masterOf.has(act.node)).toBe(false);
            expect(masterOf.get(act.target)).toBe(act.node);
            masterOf.delete(act.target);
            masterOf.set(act.node, act.target);
            break;
          case 'wait': expect(masterOf.has(act.node)).toBe(false); expect(act.replicas).toBe(replicasOf(act.node).length); expect(act.replicas).toBeGreaterThan(0); break;
          case 'client-kill':
            expect(act.type === 'master' ? masterOf.has(act.node) : replicasOf(act.node).length > 0).toBe(true);
            expect(act.replicas).toEqual(act.type === 'master' ? [] : replicasOf(act.node)); // the ones paused through the writes
            break;
          case 'crash': case 'shutdown': masterOf.delete(act.node); break;
          default: break;
        }
      };
      story.acts.forEach(check);
      const plan = planStory(story);
      expect(plan.filter((s) => s.k === 'checkpoint').length).toBe(story.acts.length + 1);
      expect(plan.at(-1)?.k).toBe('checkpoint');
    }
  });

  it('dropped replicas sleep through the writes (CLIENT KILL, backlog resize): they reconnect after them, as in the scenario', () => {
    let seen = 0;
    for (let i = 0; i < 300; i++) {
      const story = generateStory(`sleepers-${i}`);
      const plan = planStory(story);
      // The steps of act k lie between checkpoints k and k+1.
      const cuts = plan.flatMap((st, j) => (st.k === 'checkpoint' ? [j] : []));
      story.acts.forEach((act, k) => {
        const sleepers = act.kind === 'client-kill' ? (act.type === 'master' ? [act.node] : act.replicas)
          : act.kind === 'backlog-size' && act.reconnect !== null ? act.reconnect.replicas : null;
        if (sleepers === null) return;
        const seg = plan.slice(cuts[k]! + 1, cuts[k + 1]);
        const writesAt = seg.flatMap((st, j) => (st.k === 'cmd' && !(st.argv[0] === 'CLIENT' || st.argv[0] === 'CONFIG') ? [j] : []));
        for (const r of sleepers) {
          const paused = seg.findIndex((st) => st.k === 'pause' && st.node === r);
          const resumed = seg.findIndex((st) => st.k === 'resume' && st.node === r);
          expect(paused, `${story.seed} act ${k}: ${r} paused`).toBeGreaterThanOrEqual(0);
          expect(writesAt.every((j) => paused < j && j < resumed), `${story.seed} act ${k}: ${r} asleep through the writes`).toBe(true);
        }
        seen++;
      });
    }
    expect(seen).toBeGreaterThan(50);
  });

  it('tolerates only PINGs after an AOF restart: whole PINGs, real side ahead, at most one per restart', () => {
    const base = generateStory('tolerance');
    const crash: Act = { kind: 'crash', node: base.nodes[0]!, save: false, before: { node: base.nodes[0]!, commands: [] }, during: { node: base.nodes[0]!, commands: [] } };
    const story = { ...base, aof: true, acts: [crash] };
    const off = (real: number, sim: number): string => `line 9: expect a.master_repl_offset == ${real}\n    a.master_repl_offset is ${sim}; expected == ${real}`;
    expect(onlyAofRestartPings(story, [off(70, 56), off(14, 0)])).toBe(true);
    expect(onlyAofRestartPings(story, [off(56, 70)])).toBe(false); // psync-sim ahead
    expect(onlyAofRestartPings(story, [off(71, 56)])).toBe(false); // not a PING
    expect(onlyAofRestartPings(story, [off(84, 56)])).toBe(false); // two PINGs, one restart
    expect(onlyAofRestartPings({ ...story, acts: [crash, crash] }, [off(84, 56)])).toBe(true);
    expect(onlyAofRestartPings({ ...story, aof: false }, [off(70, 56)])).toBe(false); // no AOF: no race
    expect(onlyAofRestartPings({ ...story, acts: [] }, [off(70, 56)])).toBe(false); // no restart
    expect(onlyAofRestartPings(story, [off(70, 56), 'line 10: expect a.sync_full == 2\n    a.sync_full is 3; expected == 2'])).toBe(false);
    expect(onlyAofRestartPings(story, [])).toBe(false);
    // A promotion after the PING carries it into second_repl_offset (story fid1-29).
    const second = (real: number, sim: number): string => `line 11: expect b.second_repl_offset == ${real}\n    b.second_repl_offset is ${sim}; expected == ${real}`;
    expect(onlyAofRestartPings(story, [off(14, 0), second(15, 1)])).toBe(true);
    expect(onlyAofRestartPings(story, [second(15, -1)])).toBe(false);
  });

  it('the divergences the fuzzer found replay as the README says: fixed ones pass, the AOF-restart race is only PINGs', () => {
    const dir = join(import.meta.dirname, 'support', 'divergences');
    const run = (name: string): CheckResult[] => {
      const text = readFileSync(join(dir, name), 'latin1');
      return runScenario(parseScenario(text, name), { file: name, source: text, trace: null }).checks;
    };
    for (const fixed of ['backlog-resize-keeps-content.scn', 'restart-first-cron-ping-sim.scn']) {
      const checks = run(fixed);
      expect(checks.length, fixed).toBeGreaterThan(100);
      expect(checks.filter((c) => !c.ok).map((c) => `${fixed}:${c.line}: ${c.text}: ${c.detail}`)).toEqual([]);
    }
    // The real servers PINGed after an AOF restart: psync-sim is 14 bytes behind on those lines only.
    const race = run('restart-aof-ping-real.scn').filter((c) => !c.ok);
    expect(race.length).toBeGreaterThan(0);
    const aofStory = { ...generateStory('race'), aof: true, acts: [{ kind: 'shutdown', node: 'a', mode: '' } as const] };
    expect(onlyAofRestartPings(aofStory, race.map((c) => `line ${c.line}: ${c.text}\n    ${c.detail}`))).toBe(true);
  });

  it('parses feature lists and refuses unknown names', () => {
    expect(parseFeatures('ci')).toEqual(storyFeaturesCi);
    expect(parseFeatures('all,-backlogTtl')).toEqual({ ...storyFeaturesAll, backlogTtl: false });
    expect(() => parseFeatures('nosuch')).toThrow(/unknown story feature 'nosuch'/);
  });
});

/** A failure message that is its own reproduction: the problems, then the scenario. */
function failure(seed: string, v: StoryVerdict): string {
  if (v.status === 'void') return `story ${seed}: the real servers never settled: ${v.reason}`;
  if (v.status === 'agree') return '';
  const path = join(tmpdir(), `psync-sim-story-${seed}.scn`);
  writeFileSync(path, v.text, 'latin1');
  return [`story ${seed}: psync-sim disagrees with redis-server 7.0.15 (${v.problems.length})`, ...v.problems.map((p) => `  - ${p}`),
    `replay: npx tsx sim/cli.ts run ${path} --trace`, '--- scenario ---', v.text].join('\n');
}

describe.skipIf(!haveRedisServer)('story-level differential: psync-sim against redis-server 7.0.15', () => {
  // story-real.ts stops every server it starts (in a finally), and any left at process exit.
  for (const seed of SEEDS) {
    it.concurrent(`story ${seed} agrees at every checkpoint`, async ({ expect }) => {
      const story = generateStory(seed);
      let v = await checkStory(story, 60_000);
      if (v.status === 'void') v = await checkStory(story, 60_000); // a very busy machine: once more
      // psync-sim is deterministic, redis-server is not quite (a loaded machine, the AOF restart
      // race below). A story fails only if the real servers disagree twice; the first
      // disagreement is still reported.
      if (v.status === 'diverge') {
        const first = failure(seed, v);
        v = await checkStory(story, 60_000);
        if (v.status === 'agree') console.warn(`story ${seed} agreed on a second real run; the first run said:\n${first.split('\n--- scenario ---')[0]}`);
      }
      // The one documented wall-clock race (story-compare.ts onlyAofRestartPings): after a restart
      // from its AOF a real server may PING its replicas, 14 bytes psync-sim does not send.
      // Reported, not failed, and only in a story with appendonly yes and a restart.
      if (v.status === 'diverge' && onlyAofRestartPings(story, v.problems)) {
        console.warn(`story ${seed}: the real servers are ahead by PINGs after an AOF restart (the wall-clock race of whileBlockedCron):\n${v.problems.join('\n')}`);
        return;
      }
      if (v.status !== 'agree') return expect.fail(failure(seed, v));
      // Each checkpoint compares a dozen values per node: the test can fail.
      expect(v.checks).toBeGreaterThan(10 * story.nodes.length * (story.acts.length + 1));
    }, 240_000);
  }

  it.concurrent('the comparison catches a wrong offset, digest, replid relation and reply (a corrupted real run)', async ({ expect }) => {
    const story = generateStory('self-test');
    const real = await runStoryReal(story);
    const [first, ...rest] = real.checkpoints;
    const [name, obs] = [...first!.nodes][0]!;
    const corruptedNodes = new Map(first!.nodes);
    corruptedNodes.set(name, { ...obs, offset: obs.offset + 1, digest: obs.digest.replace(/^./, (c) => (c === '0' ? '1' : '0')), replid: 'f'.repeat(40) });
    const cmdStep = planStory(story).findIndex((s) => s.k === 'cmd');
    const replies = new Map(real.replies);
    replies.set(cmdStep, '(error) ERR not what the simulator says');
    const corrupted: RealStoryRun = { ...real, replies, checkpoints: [{ ...first!, nodes: corruptedNodes } as Checkpoint, ...rest] };
    const text = buildStoryScenario(story, corrupted);
    const problems = compareStory(story, corrupted, runStoryInSim(story, text, 'self-test.scn'));
    expect(problems.some((p) => p.includes(`expect ${name}.master_repl_offset == ${obs.offset + 1}`))).toBe(true);
    expect(problems.some((p) => p.includes(`expect ${name}: DEBUG DIGEST`))).toBe(true);
    expect(problems.some((p) => p.includes(`${name}.master_replid`) && p.includes('!='))).toBe(true);
    expect(problems.some((p) => p.startsWith('reply: ') && p.includes('ERR not what the simulator says'))).toBe(true);
    // And the uncorrupted run agrees.
    const clean = compareStory(story, real, runStoryInSim(story, buildStoryScenario(story, real), 'self-test.scn'));
    expect(clean).toEqual([]);
  }, 120_000);
});
