/**
 * The failover story generator: from a seed, a Scenario AST (the type the parser builds), so
 * every fuzz run can be printed as a `.scn` file and replayed with `psync-sim run`.
 *
 * Theory of operation. Swarm testing (see "Fuzzing failover" in the README): the seed first draws a
 * FuzzOptions object, every knob of the run (node count, tree shape, per-run config, load,
 * which fault kinds are enabled, how many faults), then the story. Each knob is drawn from its
 * own named stream (`fuzz/opt/<knob>`), and always drawn even when the caller fixes it, so
 * overriding one knob (`--nodes 3..3`) never shifts the others.
 *
 * The story is built in virtual-time order from an agenda: fault starts drawn up front, and
 * the ends they schedule (heal, restart, repoint after a promotion). The generator keeps a
 * *belief* of the cluster (who is master, who replicates whom, who is down or paused) to aim
 * its faults: it never sees the run, so after a FAILOVER without TO, or one that times out,
 * the belief may be wrong. That is fine: a command aimed wrongly just gets an error reply.
 * Commands are never sent to a node the generator knows is paused (the script would block).
 *
 * Every story ends with the liveness phase (VOPR's second phase): heal, restore the links,
 * restart what is down, abort any FAILOVER, `REPLICAOF NO ONE` one master, repoint every other
 * node to it, and `await converged <every node> within convergeWithinUs`. The executor checks
 * the replication invariants (sim/check) after every event throughout.
 *
 * Simplification: "most up-to-date" promotion uses the belief, not the run: the direct replica
 * of the master least recently disturbed (partitioned, crashed, paused, link killed).
 */
import { assert, assertNever } from '../assert.ts';
import type { Rng } from '../engine/random.ts';
import { NO_POS } from '../scenario/ast.ts';
import type { ConfigDecl, LinkModel, LoadStep, Scenario, SentinelConfigDecl, Statement, Step } from '../scenario/ast.ts';

import { RandomStreams } from '../engine/random.ts';
import { ALL_FAULT_KINDS, drawOptions } from './options.ts';
import type { FaultKind, FuzzOptions } from './options.ts';

export {
  FAULT_KINDS, SENTINEL_FAULT_KINDS, SENTINEL_RUN_FAULT_KINDS, ALL_FAULT_KINDS, isFaultKind, isSentinelFaultKind,
  fuzzBoundsDefault, fuzzBoundsSentinels, drawOptions, optionsComment,
} from './options.ts';
export type { FaultKind, FuzzOptions } from './options.ts';

/** The master name the generated sentinels monitor. */
export const FUZZ_MASTER_NAME = 'mymaster';

export interface Generated {
  readonly scenario: Scenario;
  readonly options: FuzzOptions;
  /** The fault kinds actually used by the story (a subset of options.faultKinds). */
  readonly faultKindsUsed: readonly FaultKind[];
}

const MS = 1000;

/** From a seed: the options it draws (or the caller fixes) and the scenario they give. */
export function generateScenario(seed: string, options: Partial<FuzzOptions> = {}): Generated {
  const o = drawOptions(seed, options);
  return new StoryBuilder(seed, o).build();
}

// ---------------------------------------------------------------------------------------------

interface AgendaItem {
  atUs: number;
  seq: number;
  act: () => void;
}

const nodeNames = (n: number): string[] => ['m', ...Array.from({ length: n - 1 }, (_, i) => `r${i + 1}`)];
const sentinelNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `s${i + 1}`);

/** Builds one story: the belief, the agenda, and the body in time order. */
class StoryBuilder {
  private readonly rng: Rng;
  /**
   * With sentinels and clients: whether each load follows the sentinels (`load @mymaster ... from
   * c1`) or stays pinned to the believed master. Its own stream, so every other story is unchanged.
   */
  private readonly followRng: Rng | null;
  private readonly nodes: string[];
  /** s1 .. sN with sentinels, else empty. */
  private readonly sentinels: string[];
  /** Sentinels told to SIMULATE-FAILURE: they may have exited; the liveness phase restarts them. */
  private readonly maybeExited = new Set<string>();
  /** Believed parent of each node; null for a master. */
  private readonly parent = new Map<string, string | null>();
  /** Boot-time parent (config replicaof), kept across restarts; null without one. */
  private readonly bootParent = new Map<string, string | null>();
  private master = 'm';
  private readonly down = new Map<string, 'crash' | 'poweroff'>();
  private readonly pausedUntilUs = new Map<string, number>();
  private readonly lastDisturbedUs = new Map<string, number>();
  /** An old master that was down when it was demoted: repoint it to this node when it returns. */
  private readonly demoteOnReturn = new Map<string, string>();
  private readonly changedPairs = new Set<string>();
  private defaultLinkChanged = false;
  private readonly used = new Set<FaultKind>();
  private readonly agenda: AgendaItem[] = [];
  private seq = 0;
  private nowUs = 0;
  private latestUs = 0;
  /** Steps per instant, in the order the agenda produced them. */
  private readonly buckets = new Map<number, Step[]>();

  constructor(private readonly seed: string, private readonly o: FuzzOptions) {
    this.rng = new RandomStreams(`fuzz:${seed}`).stream('story');
    this.followRng = o.sentinels === true && o.clients === true ? new RandomStreams(`fuzz:${seed}`).stream('story/follow') : null;
    this.nodes = nodeNames(o.nodeCount);
    this.sentinels = o.sentinels === true ? sentinelNames(o.sentinelCount!) : [];
  }

  build(): Generated {
    const o = this.o;
    const configs = this.setUp();
    // Faults and load, drawn up front at whole milliseconds; each acts on the belief of its time.
    // With sentinels, most runs let them discover each other first (hellos every 2 s); some do not.
    const startUs = this.sentinels.length > 0 && this.rng.chance(0.8) ? this.rng.between(4000, 10000) * MS : this.rng.between(200, 3000) * MS;
    for (let i = 0; i < o.faultCount; i++) {
      const atUs = startUs + this.rng.int(o.faultPhaseUs / MS) * MS;
      const kind = this.rng.pick(o.faultKinds);
      this.schedule(atUs, () => this.fault(kind));
    }
    this.scheduleLoad(startUs);
    while (this.agenda.length > 0) {
      this.agenda.sort((a, b) => a.atUs - b.atUs || a.seq - b.seq);
      const item = this.agenda.shift()!;
      this.nowUs = item.atUs;
      item.act();
    }
    const body = this.emitBody();
    this.liveness(body);
    const scenario: Scenario = {
      title: `fuzz run ${this.seed.replace(/[#\n\r]/g, '_')}: ${o.nodeCount} nodes, ${[...this.used].join(' ') || 'no faults'}`,
      seed: `0x${this.rng.hex(8)}`,
      nodes: this.nodes.map((name) => ({ pos: NO_POS, name })),
      configs,
      links: [{ pos: NO_POS, target: '*', model: this.baselineLink() }],
      disks: o.diskWriteBps === null ? [] : [{ pos: NO_POS, target: '*', model: { writeBps: o.diskWriteBps } }],
      body,
      ...(o.clients === true ? { clients: [{ pos: NO_POS, name: 'c1' }] } : {}),
      ...(this.sentinels.length > 0 ? { sentinels: this.sentinels.map((name) => ({ pos: NO_POS, name })), sentinelConfigs: this.sentinelConfigs() } : {}),
    };
    return { scenario, options: o, faultKindsUsed: ALL_FAULT_KINDS.filter((k) => this.used.has(k)) };
  }

  // --- set-up ----------------------------------------------------------------------------------

  private setUp(): ConfigDecl[] {
    const o = this.o;
    const c = (target: string, name: string, value: string): ConfigDecl => ({ pos: NO_POS, target, name, value });
    const configs = [
      c('*', 'repl-backlog-size', String(o.replBacklogSizeBytes)),
      c('*', 'repl-timeout', String(o.replTimeoutSec)),
      c('*', 'repl-ping-replica-period', String(o.replPingReplicaPeriodSec)),
      c('*', 'repl-diskless-sync', o.replDisklessSync ? 'yes' : 'no'),
      c('*', 'repl-diskless-sync-delay', String(o.replDisklessSyncDelaySec)),
      c('*', 'repl-diskless-load', o.replDisklessLoad),
      c('*', 'save', o.persistence === 'rdb' ? '1 1' : '""'),
    ];
    if (o.persistence === 'aof') configs.push(c('*', 'appendonly', 'yes'));
    if (o.sentinels === true) {
      o.replicaPriorities!.forEach((p, i) => {
        if (p !== 100) configs.push(c(`r${i + 1}`, 'replica-priority', String(p)));
      });
    }
    if (o.replicaOutputBufferLimitBytes !== null) {
      const hard = o.replicaOutputBufferLimitBytes;
      configs.push(c('*', 'client-output-buffer-limit', `replica ${hard} ${hard / 2} 1`));
    }
    const steps: Step[] = [];
    // Data before the replicas attach; with a small output-buffer limit, enough of it (~1-3 MB)
    // that a slow BGSAVE lets the stream pile up past the limit (the full-sync loop).
    const prefill = this.rng.chance(0.3) ? this.rng.between(10, 500) : 0;
    if (o.replicaOutputBufferLimitBytes !== null && o.diskWriteBps !== null) {
      steps.push({ ...this.load('m', this.rng.between(1000, 3000), 0), sizeBytes: 1000, keys: null });
    } else if (prefill > 0) steps.push(this.load('m', prefill, 0));
    this.nodes.forEach((n, i) => {
      let p: string | null = null;
      if (i > 0) {
        switch (o.topology) {
          case 'star': p = 'm'; break;
          case 'chain': p = this.nodes[i - 1]; break;
          case 'tree': p = this.nodes[this.rng.int(i)]; break;
          default: assertNever(o.topology);
        }
      }
      this.parent.set(n, p);
      this.bootParent.set(n, o.attachVia === 'config' ? p : null);
      if (p === null) return;
      if (o.attachVia === 'config') configs.push(c(n, 'replicaof', `${p} 6379`));
      else steps.push(this.cmd(n, 'REPLICAOF', p, '6379'));
    });
    this.buckets.set(0, steps);
    return configs;
  }

  /** Every sentinel monitors m as mymaster with the drawn quorum and timeouts. */
  private sentinelConfigs(): SentinelConfigDecl[] {
    const o = this.o;
    const line = (...words: string[]): SentinelConfigDecl => ({ pos: NO_POS, target: '*', words });
    return [
      line('monitor', FUZZ_MASTER_NAME, 'm', '6379', String(o.sentinelQuorum)),
      line('down-after-milliseconds', FUZZ_MASTER_NAME, String(o.sentinelDownAfterMs)),
      line('failover-timeout', FUZZ_MASTER_NAME, String(o.sentinelFailoverTimeoutMs)),
      line('parallel-syncs', FUZZ_MASTER_NAME, String(o.sentinelParallelSyncs)),
    ];
  }

  private baselineLink(): LinkModel {
    return { latencyUs: this.o.linkLatencyUs, jitterUs: this.o.linkJitterUs, bandwidthBps: this.o.linkBandwidthBps };
  }

  private scheduleLoad(startUs: number): void {
    const o = this.o;
    if (o.writesTotal === 0) return;
    const per = Math.max(1, Math.floor(o.writesTotal / o.loadBursts));
    for (let i = 0; i < o.loadBursts; i++) {
      const atUs = startUs + this.rng.int(o.faultPhaseUs / MS) * MS;
      // Every write ends inside the fault phase, so the liveness phase starts with no load running.
      const overUs = this.rng.int((startUs + o.faultPhaseUs - atUs) / MS + 1) * MS;
      // With clients, every other burst asks WAIT for every other node (the promise the ledger checks).
      const wait = i % 2 === 1 ? { wait: { replicas: o.nodeCount - 1, timeoutMs: 100 } } : {};
      this.schedule(atUs, () => this.add(o.clients === true ? { ...this.load(this.loadTarget(), per, overUs), ...wait, from: 'c1' } : this.load(this.master, per, overUs)));
    }
  }

  /**
   * Where a client's load goes: the believed master, or (half the loads with sentinels) wherever
   * the sentinels say `mymaster` is, asked again after every failover, as a client following the
   * sentinels does (sim/clients/sentinel-resolver.ts).
   */
  private loadTarget(): string {
    return this.followRng !== null && this.followRng.chance(0.5) ? `@${FUZZ_MASTER_NAME}` : this.master;
  }

  // --- the agenda and the belief ---------------------------------------------------------------

  private schedule(atUs: number, act: () => void): void {
    assert(Number.isSafeInteger(atUs) && atUs >= this.nowUs, `fuzz: scheduling in the past (${atUs} < ${this.nowUs})`);
    this.agenda.push({ atUs, seq: this.seq++, act });
    this.latestUs = Math.max(this.latestUs, atUs);
  }

  private add(step: Step): void {
    const list = this.buckets.get(this.nowUs);
    if (list === undefined) this.buckets.set(this.nowUs, [step]);
    else list.push(step);
  }

  private isUp(n: string): boolean {
    return !this.down.has(n);
  }

  /** Up and not paused: a command sent now is answered now. */
  private reachable(n: string): boolean {
    return this.isUp(n) && (this.pausedUntilUs.get(n) ?? -1) < this.nowUs;
  }

  private disturb(...ns: string[]): void {
    for (const n of ns) this.lastDisturbedUs.set(n, this.nowUs);
  }

  /** n and every node below it in the believed tree. */
  private subtree(n: string): Set<string> {
    const out = new Set([n]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [child, p] of this.parent) {
        if (p !== null && out.has(p) && !out.has(child)) {
          out.add(child);
          grew = true;
        }
      }
    }
    return out;
  }

  private replicas(): string[] {
    return this.nodes.filter((n) => this.parent.get(n) !== null);
  }

  /** Send a command now, or as soon as the node is back from a pause (never to a down node). */
  private command(node: string, ...args: string[]): void {
    if (!this.isUp(node)) return;
    const until = this.pausedUntilUs.get(node) ?? -1;
    if (until >= this.nowUs) this.schedule(until + MS, () => this.command(node, ...args));
    else this.add(this.cmd(node, ...args));
  }

  private cmd(node: string, ...args: string[]): Step {
    return { kind: 'command', pos: NO_POS, node, args };
  }

  private load(node: string, count: number, overUs: number): LoadStep {
    const o = this.o;
    return { kind: 'load', pos: NO_POS, node, count, overUs, sizeBytes: o.writeSizeBytes, keys: o.writeKeys, db: 0 };
  }

  private duration(minMs: number, maxMs: number): number {
    return this.rng.between(minMs, maxMs) * MS;
  }

  /** Two non-empty groups of all nodes. */
  private split(): string[][] {
    const shuffled = [...this.nodes];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    const k = this.rng.between(1, shuffled.length - 1);
    return [shuffled.slice(0, k), shuffled.slice(k)];
  }

  /** A pair to fault: a believed replication link (mostly), or any two nodes. */
  private pair(): [string, string] {
    const edges = this.replicas().map((r) => [r, this.parent.get(r)!] as [string, string]);
    if (edges.length > 0 && this.rng.chance(0.75)) {
      const e = this.rng.pick(edges);
      return this.rng.chance(0.5) ? e : [e[1], e[0]];
    }
    const a = this.rng.pick(this.nodes);
    const b = this.rng.pick(this.nodes.filter((n) => n !== a));
    return [a, b];
  }

  /** A partition long enough to trip repl-timeout half the time. */
  private partitionDurationUs(): number {
    return this.rng.chance(0.5) ? this.duration(50, 1500) : this.duration(this.o.replTimeoutSec * 1000, this.o.replTimeoutSec * 2500);
  }

  // --- faults ----------------------------------------------------------------------------------

  private fault(kind: FaultKind): void {
    switch (kind) {
      case 'partition': {
        const groups = this.split();
        this.add({ kind: 'partition', pos: NO_POS, groups });
        this.disturb(...this.nodes);
        this.schedule(this.nowUs + this.partitionDurationUs(), () => this.add({ kind: 'heal', pos: NO_POS, groups }));
        break;
      }
      case 'one-way': {
        const [from, to] = this.pair();
        this.add({ kind: 'partition-one-way', pos: NO_POS, from, to });
        this.disturb(from, to);
        this.schedule(this.nowUs + this.partitionDurationUs(), () => this.add({ kind: 'heal-one-way', pos: NO_POS, from, to }));
        break;
      }
      case 'isolate-master': {
        const m = this.master;
        const groups = [[m], this.nodes.filter((n) => n !== m)];
        const durUs = this.partitionDurationUs();
        this.add({ kind: 'partition', pos: NO_POS, groups });
        this.disturb(m);
        // The classic story: the master is cut off, a replica is promoted, the old master returns.
        if (this.o.faultKinds.includes('promote') && this.rng.chance(0.5)) {
          this.schedule(this.nowUs + Math.floor(durUs / 2 / MS) * MS, () => this.fault('promote'));
        }
        this.schedule(this.nowUs + durUs, () => this.add({ kind: 'heal', pos: NO_POS, groups }));
        break;
      }
      case 'flap': {
        const groups = this.rng.chance(0.5) ? [[this.master], this.nodes.filter((n) => n !== this.master)] : this.split();
        let t = this.nowUs;
        const cycles = this.rng.between(2, 6);
        for (let i = 0; i < cycles; i++) {
          this.schedule(t, () => this.add({ kind: 'partition', pos: NO_POS, groups }));
          t += this.duration(50, 800);
          this.schedule(t, () => this.add({ kind: 'heal', pos: NO_POS, groups }));
          t += this.duration(50, 800);
        }
        this.disturb(...this.nodes);
        break;
      }
      case 'kill-link': {
        const [a, b] = this.pair();
        this.add({ kind: 'kill-link', pos: NO_POS, a, b });
        this.disturb(a, b);
        break;
      }
      case 'crash':
      case 'poweroff': {
        const up = this.nodes.filter((n) => this.reachable(n));
        if (up.length === 0) return;
        const n = this.rng.chance(0.4) && this.reachable(this.master) ? this.master : this.rng.pick(up);
        this.add({ kind, pos: NO_POS, node: n });
        this.down.set(n, kind);
        this.disturb(n);
        const downUs = kind === 'crash' ? this.duration(300, 5000) : this.duration(1000, 8000);
        this.schedule(this.nowUs + downUs, () => this.restart(n));
        break;
      }
      case 'pause': {
        const up = this.nodes.filter((n) => this.reachable(n));
        if (up.length === 0) return;
        const n = this.rng.pick(up);
        const durUs = this.duration(100, (this.o.replTimeoutSec + 2) * 1000);
        this.add({ kind: 'pause', pos: NO_POS, node: n, durUs });
        this.pausedUntilUs.set(n, this.nowUs + durUs);
        this.latestUs = Math.max(this.latestUs, this.nowUs + durUs);
        this.disturb(n);
        break;
      }
      case 'link': {
        const model: LinkModel = {
          latencyUs: this.rng.pick([0, 1, 5, 20, 50]) * MS,
          jitterUs: this.rng.pick([0, 0, 1, 5]) * MS,
          bandwidthBps: this.rng.pick([10_000_000, 100_000_000, 1_000_000_000]),
        };
        if (this.rng.chance(0.3)) {
          this.add({ kind: 'link', pos: NO_POS, target: '*', model });
          this.defaultLinkChanged = true;
        } else {
          const [a, b] = this.pair();
          this.add({ kind: 'link', pos: NO_POS, target: [a, b], model });
          this.changedPairs.add([a, b].sort().join(' '));
        }
        break;
      }
      case 'client-kill': {
        const reps = this.replicas().filter((n) => this.reachable(n));
        const withChildren = this.nodes.filter((n) => this.reachable(n) && this.nodes.some((c) => this.parent.get(c) === n));
        if (reps.length > 0 && (withChildren.length === 0 || this.rng.chance(0.5))) {
          const n = this.rng.pick(reps);
          this.command(n, 'CLIENT', 'KILL', 'TYPE', 'master');
          this.disturb(n);
        } else if (withChildren.length > 0) {
          const n = this.rng.pick(withChildren);
          this.command(n, 'CLIENT', 'KILL', 'TYPE', 'replica');
          this.disturb(...this.nodes.filter((c) => this.parent.get(c) === n));
        } else return;
        break;
      }
      case 'promote':
        if (!this.promote()) return;
        break;
      case 'failover':
        if (!this.failover()) return;
        break;
      case 'reparent':
        if (!this.reparent()) return;
        break;
      case 'sentinel-crash':
      case 'sentinel-pause':
      case 'sentinel-partition':
      case 'sentinel-failover':
      case 'simulate-failure':
      case 'master-freeze':
        if (!this.sentinelFault(kind)) return;
        break;
      default:
        assertNever(kind);
    }
    this.used.add(kind);
  }

  /** The faults that only make sense with sentinels watching; false when none could be aimed. */
  private sentinelFault(kind: 'sentinel-crash' | 'sentinel-pause' | 'sentinel-partition' | 'sentinel-failover' | 'simulate-failure' | 'master-freeze'): boolean {
    const o = this.o;
    const downAfterMs = o.sentinelDownAfterMs!;
    const up = this.sentinels.filter((n) => this.reachable(n));
    switch (kind) {
      case 'sentinel-crash': {
        if (up.length === 0) return false;
        const n = this.rng.pick(up);
        const how = this.rng.chance(0.7) ? 'crash' : 'poweroff';
        this.add({ kind: how, pos: NO_POS, node: n });
        this.down.set(n, how);
        // Back before or after the failover it may miss (a stale sentinel catching up).
        this.schedule(this.nowUs + this.duration(300, 4 * downAfterMs + 5000), () => this.restartSentinel(n));
        return true;
      }
      case 'sentinel-pause': {
        if (up.length === 0) return false;
        const n = this.rng.pick(up);
        // Over 2 s between two ticks is TILT (sentinelCheckTiltCondition); some pauses stay below.
        const durUs = this.rng.chance(0.75) ? this.duration(2100, 6000) : this.duration(100, 1900);
        this.add({ kind: 'pause', pos: NO_POS, node: n, durUs });
        this.pausedUntilUs.set(n, this.nowUs + durUs);
        this.latestUs = Math.max(this.latestUs, this.nowUs + durUs);
        return true;
      }
      case 'sentinel-partition': {
        const groups = this.sentinelSplit();
        this.add({ kind: 'partition', pos: NO_POS, groups });
        this.disturb(...this.nodes);
        // Short ones test the links' hygiene; long ones outlast down-after and start failovers.
        const durUs = this.rng.chance(0.3) ? this.duration(50, 1500) : this.duration(downAfterMs, 3 * downAfterMs + o.sentinelFailoverTimeoutMs!);
        this.schedule(this.nowUs + durUs, () => this.add({ kind: 'heal', pos: NO_POS, groups }));
        return true;
      }
      case 'sentinel-failover': {
        if (up.length === 0) return false;
        this.command(this.rng.pick(up), 'SENTINEL', 'FAILOVER', FUZZ_MASTER_NAME);
        this.disturb(this.master);
        return true;
      }
      case 'simulate-failure': {
        if (up.length === 0) return false;
        const n = this.rng.pick(up);
        this.command(n, 'SENTINEL', 'SIMULATE-FAILURE', this.rng.chance(0.5) ? 'crash-after-election' : 'crash-after-promotion');
        this.maybeExited.add(n);
        return true;
      }
      case 'master-freeze': {
        const m = this.master;
        if (!this.reachable(m)) return false;
        const durUs = this.duration(Math.floor(downAfterMs / 2), 3 * downAfterMs + 2000);
        this.add({ kind: 'pause', pos: NO_POS, node: m, durUs });
        this.pausedUntilUs.set(m, this.nowUs + durUs);
        this.latestUs = Math.max(this.latestUs, this.nowUs + durUs);
        this.disturb(m);
        return true;
      }
      default:
        return assertNever(kind);
    }
  }

  /**
   * A partition through the sentinel deployment: one sentinel alone; the sentinels split among
   * themselves (the nodes reach both sides); or the believed master with a minority of the
   * sentinels against the replicas and the rest (the Jepsen and redis#3306 shape).
   */
  private sentinelSplit(): string[][] {
    const ss = [...this.sentinels];
    for (let i = ss.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [ss[i], ss[j]] = [ss[j], ss[i]];
    }
    const variant = this.rng.int(4);
    if (variant === 0) return [[ss[0]!], ss.slice(1)];
    if (variant === 1) {
      const k = this.rng.between(1, ss.length - 1);
      return [ss.slice(0, k), ss.slice(k)];
    }
    if (variant === 2) return [[ss[0]!], [...this.nodes]];
    const k = this.rng.between(0, Math.floor(ss.length / 2));
    const m = this.master;
    return [[m, ...ss.slice(0, k)], [...this.nodes.filter((n) => n !== m), ...ss.slice(k)]];
  }

  private restartSentinel(n: string): void {
    if (!this.down.has(n)) return;
    this.add({ kind: 'restart', pos: NO_POS, node: n });
    this.down.delete(n);
    this.maybeExited.delete(n);
  }

  private restart(n: string): void {
    if (!this.down.has(n)) return;
    this.add({ kind: 'restart', pos: NO_POS, node: n });
    this.down.delete(n);
    this.disturb(n);
    // It comes back as its config says: a replica of its boot parent, or a master.
    const boot = this.bootParent.get(n) ?? null;
    const believed = this.parent.get(n) ?? null;
    this.parent.set(n, boot !== null && !this.subtree(n).has(boot) ? boot : null);
    const demoteTo = this.demoteOnReturn.get(n);
    this.demoteOnReturn.delete(n);
    const target = demoteTo ?? believed;
    // The operator re-attaches it where it belongs (mostly): the old master comes back demoted.
    // With sentinels the operator keeps out of it: the sentinels convert or fix it.
    if (this.sentinels.length > 0) return;
    if (target !== null && target !== n && (demoteTo !== undefined || this.rng.chance(0.7)) && !this.subtree(n).has(target)) {
      const at = this.nowUs + this.duration(10, 500);
      this.schedule(at, () => this.repoint(n, target));
    }
  }

  private repoint(n: string, to: string): void {
    if (!this.isUp(n) || n === to || this.subtree(n).has(to)) return;
    this.command(n, 'REPLICAOF', to, '6379');
    this.parent.set(n, to);
  }

  /** REPLICAOF NO ONE on a replica, then the others follow it; a down old master is demoted on return. */
  private promote(): boolean {
    const old = this.master;
    const candidates = this.replicas().filter((n) => this.reachable(n));
    if (candidates.length === 0) return false;
    let chosen: string;
    const direct = candidates.filter((n) => this.parent.get(n) === old);
    if (this.o.promotePolicy === 'most-up-to-date' && direct.length > 0) {
      chosen = direct.reduce((best, n) => ((this.lastDisturbedUs.get(n) ?? -1) < (this.lastDisturbedUs.get(best) ?? -1) ? n : best));
    } else chosen = this.rng.pick(candidates);
    this.command(chosen, 'REPLICAOF', 'NO', 'ONE');
    this.parent.set(chosen, null);
    this.master = chosen;
    const followers = this.nodes.filter((n) => {
      if (n === chosen) return false;
      if (this.o.repointPolicy === 'all') return true;
      return n === old || this.parent.get(n) === old;
    });
    const at = this.nowUs + this.duration(0, 1000);
    this.schedule(at, () => {
      for (const n of followers) {
        if (this.isUp(n)) this.repoint(n, chosen);
        else this.demoteOnReturn.set(n, chosen);
      }
    });
    return true;
  }

  /** FAILOVER on the believed master, with and without TO / TIMEOUT / FORCE. */
  private failover(): boolean {
    const m = this.master;
    if (!this.reachable(m)) return false;
    const children = this.nodes.filter((n) => this.parent.get(n) === m && this.isUp(n));
    if (children.length === 0) return false;
    const target = this.rng.pick(children);
    const timeoutMs = String(this.rng.between(200, 5000));
    const variant = this.rng.int(5);
    const args = ['FAILOVER'];
    if (variant === 1 || variant === 3 || variant === 4) args.push('TO', target, '6379');
    if (variant >= 2) args.push('TIMEOUT', timeoutMs);
    if (variant === 4) args.push('FORCE');
    this.command(m, ...args);
    // The belief: the target (or, without TO, some replica) takes over and m follows it.
    const next = args.includes('TO') ? target : children[0];
    this.parent.set(next, null);
    this.parent.set(m, next);
    this.master = next;
    this.disturb(m, next);
    return true;
  }

  /** A replica follows another node that is not below it: chains form and re-form. */
  private reparent(): boolean {
    const movable = this.replicas().filter((n) => this.reachable(n));
    if (movable.length === 0) return false;
    const n = this.rng.pick(movable);
    const below = this.subtree(n);
    const options = this.nodes.filter((p) => !below.has(p) && p !== this.parent.get(n));
    if (options.length === 0) return false;
    this.repoint(n, this.rng.pick(options));
    this.disturb(n);
    return true;
  }

  // --- output ----------------------------------------------------------------------------------

  private emitBody(): Statement[] {
    const body: Statement[] = [];
    const times = [...this.buckets.keys()].sort((a, b) => a - b);
    for (const t of times) {
      const steps = this.buckets.get(t)!;
      if (steps.length === 0 && t !== 0) continue;
      body.push({ kind: 'at', pos: NO_POS, relative: false, timeUs: t }, ...steps);
    }
    return body;
  }

  /**
   * With sentinels: heal, restore, restart every process that is (or may be) down, then the
   * sentinels must agree on one master that every replica they know follows (`settled`), within
   * a bound derived from their timeouts, and the data must converge. Nobody promotes by hand.
   */
  private sentinelLiveness(body: Statement[], steps: Step[]): void {
    const o = this.o;
    for (const n of this.sentinels) if (this.down.has(n) || this.maybeExited.has(n)) steps.push({ kind: 'restart', pos: NO_POS, node: n });
    body.push(...steps);
    body.push({ kind: 'await', pos: NO_POS, pred: { kind: 'settled', pos: NO_POS, master: FUZZ_MASTER_NAME }, withinUs: o.settleWithinUs! });
    body.push({ kind: 'await', pos: NO_POS, pred: { kind: 'converged', pos: NO_POS, nodes: [...this.nodes] }, withinUs: o.convergeWithinUs });
  }

  /** Heal, restore, restart, abort failovers, one master, everyone follows it, converge. */
  private liveness(body: Statement[]): void {
    const o = this.o;
    const endUs = Math.max(this.latestUs, o.faultPhaseUs) + 100 * MS;
    const steps: Step[] = [{ kind: 'heal-all', pos: NO_POS }];
    const base = this.baselineLink();
    if (this.defaultLinkChanged) steps.push({ kind: 'link', pos: NO_POS, target: '*', model: base });
    for (const key of [...this.changedPairs].sort()) {
      const [a, b] = key.split(' ');
      steps.push({ kind: 'link', pos: NO_POS, target: [a, b], model: base });
    }
    for (const n of this.nodes) if (this.down.has(n)) steps.push({ kind: 'restart', pos: NO_POS, node: n });
    if (this.used.has('failover')) for (const n of this.nodes) steps.push(this.cmd(n, 'FAILOVER', 'ABORT'));
    body.push({ kind: 'at', pos: NO_POS, relative: false, timeUs: endUs });
    if (this.sentinels.length > 0) return this.sentinelLiveness(body, steps);
    body.push(...steps);
    const finalMaster = this.rng.chance(0.7) ? this.master : this.rng.pick(this.nodes);
    body.push({ kind: 'at', pos: NO_POS, relative: true, timeUs: 100 * MS }, this.cmd(finalMaster, 'REPLICAOF', 'NO', 'ONE'));
    for (const n of this.nodes) if (n !== finalMaster) body.push(this.cmd(n, 'REPLICAOF', finalMaster, '6379'));
    body.push({
      kind: 'await',
      pos: NO_POS,
      pred: { kind: 'converged', pos: NO_POS, nodes: [...this.nodes] },
      withinUs: o.convergeWithinUs,
    });
  }
}

