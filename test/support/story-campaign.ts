/**
 * The story-level differential fuzzer's long campaign: `npm run diff-fuzz -- --stories 500 --seed S`.
 *
 * Runs stories `<seed>-0` .. `<seed>-<N-1>` (story-gen.ts), each on fresh real redis-server
 * processes and in psync-sim (story-compare.ts), a few at a time, and writes every divergence
 * as a scenario file that replays it into --out (default .story-fuzz/). Prints one line per
 * story and a tally: how many agreed, agreed but for the AOF-restart PING race (a wall-clock race
 * of redis-server: story-compare.ts onlyAofRestartPings), diverged, or were void (the real side never settled),
 * and for the divergences the first field or reply that differed. Exit status 1 if any story
 * diverged, 2 on bad arguments.
 *
 *   --stories N      how many stories (default 100)
 *   --seed S         the campaign seed (default 'campaign')
 *   --features SPEC  ci (default), all, or a comma list of feature names, `-name` to switch off
 *                    (story-gen.ts StoryFeatures), e.g. `all,-backlogSize`
 *   --jobs K         stories in parallel (default 3)
 *   --out DIR        where divergences are written (default .story-fuzz)
 *   --acts MIN-MAX   acts per story (default 4-8)
 * Test code: real time and process.argv are fine here.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateStory, parseFeatures, storyOptionsDefault } from './story-gen.ts';
import type { StoryOptions } from './story-gen.ts';
import { checkStory, onlyAofRestartPings } from './story-compare.ts';
import type { StoryVerdict } from './story-compare.ts';

interface CampaignArgs {
  readonly stories: number;
  readonly seed: string;
  readonly options: StoryOptions;
  readonly jobs: number;
  readonly out: string;
}

function parseArgs(argv: readonly string[]): CampaignArgs {
  const named = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${a} needs a value`);
    named.set(a.slice(2), v);
    i++;
  }
  const known = new Set(['stories', 'seed', 'features', 'jobs', 'out', 'acts']);
  for (const k of named.keys()) if (!known.has(k)) throw new Error(`unknown option --${k}`);
  const positive = (name: string, dflt: number): number => {
    const v = named.get(name);
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--${name} must be a positive integer, not '${v}'`);
    return Number(v);
  };
  let { actsMin, actsMax } = storyOptionsDefault;
  const acts = named.get('acts');
  if (acts !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(acts);
    if (m === null || Number(m[1]) > Number(m[2])) throw new Error(`--acts must be MIN-MAX, not '${acts}'`);
    actsMin = Number(m[1]);
    actsMax = Number(m[2]);
  }
  return {
    stories: positive('stories', 100),
    seed: named.get('seed') ?? 'campaign',
    options: { features: parseFeatures(named.get('features') ?? 'ci'), actsMin, actsMax },
    jobs: positive('jobs', 3),
    out: named.get('out') ?? '.story-fuzz',
  };
}

/** What a divergence is about: the first differing check's field, or the command whose reply differed. */
export function divergenceKind(problems: readonly string[]): string {
  const p = problems.find((x) => !x.startsWith('real:')) ?? problems[0] ?? '';
  const field = /expect \w+\.(\w+)/.exec(p) ?? /expect \w+: (DBSIZE|DEBUG DIGEST)/.exec(p);
  if (field !== null) return field[1]!;
  if (p.startsWith('reply:')) return `reply to ${/reply: \w+: (\S+)/.exec(p)?.[1] ?? '?'}`;
  if (/await/.test(p)) return 'await (topology or convergence)';
  return p.split('\n')[0]!.slice(0, 40);
}

async function main(): Promise<number> {
  let args: CampaignArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`diff-fuzz: ${(e as Error).message}\n`);
    return 2;
  }
  mkdirSync(args.out, { recursive: true });
  // aofPing: the only difference is the real side's PING after an AOF restart (a wall-clock race
  // of redis-server, story-compare.ts onlyAofRestartPings): counted apart, not a divergence.
  const tally = { agree: 0, diverge: 0, void: 0, aofPing: 0 };
  const kinds = new Map<string, string[]>();
  const t0 = Date.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < args.stories; i = next++) {
      const seed = `${args.seed}-${i}`;
      const story = generateStory(seed, args.options);
      let v: StoryVerdict;
      try {
        v = await checkStory(story);
      } catch (e) {
        v = { status: 'void', reason: `error: ${(e as Error).message}` };
      }
      if (v.status === 'diverge' && onlyAofRestartPings(story, v.problems)) {
        tally.aofPing++;
        process.stdout.write(`${seed}: agrees but for the AOF-restart PING race (${v.problems.length} offsets)\n`);
        continue;
      }
      tally[v.status]++;
      if (v.status === 'diverge') {
        const file = join(args.out, `story-${seed}.scn`);
        writeFileSync(file, v.text, 'latin1');
        const kind = divergenceKind(v.problems);
        if (!kinds.has(kind)) kinds.set(kind, []);
        kinds.get(kind)!.push(seed);
        process.stdout.write(`${seed}: DIVERGES (${v.problems.length}: ${kind}) -> ${file}\n`);
      } else if (v.status === 'void') {
        process.stdout.write(`${seed}: void: ${v.reason}\n`);
      } else {
        process.stdout.write(`${seed}: agrees (${v.checks} checks)\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(args.jobs, args.stories) }, () => worker()));
  process.stdout.write(`\n${args.stories} stories (seed ${args.seed}) in ${((Date.now() - t0) / 1000).toFixed(0)} s: ` +
    `${tally.agree} agreed, ${tally.aofPing} agreed but for the AOF-restart PING race, ${tally.diverge} diverged, ${tally.void} void\n`);
  for (const [kind, seeds] of [...kinds].sort((a, b) => b[1].length - a[1].length)) {
    process.stdout.write(`  ${seeds.length} × ${kind}: ${seeds.slice(0, 6).join(' ')}${seeds.length > 6 ? ' ...' : ''}\n`);
  }
  return tally.diverge > 0 ? 1 : 0;
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`diff-fuzz: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
