/**
 * The scenario executor: builds a World from the header, then walks the body in file order,
 * moving virtual time with `at`/`run`/`await` and doing each step at the instant reached
 * (scenarios/README.md). Checks (`expect`, `await`) are recorded with their verdicts; a failed check
 * never stops the run. Bad config values are ScenarioErrors at their line (exit status 2).
 * Extensions (documented in scenarios/README.md): `or`/`not` in predicates; `restart` of a
 * running node is a crash followed by a start; an `at` already in the past runs its steps now.
 */
import { assertNever } from '../assert.ts';
import { World, diskDefault } from '../world/world.ts';
import type { TraceSink, DiskModel as WorldDisk, IterationObserver } from '../world/world.ts';
import { linkDefault } from '../net/network.ts';
import type { LinkModel as NetLink } from '../net/network.ts';
import { defaultConfig, applyStartupConfig, ConfigError } from '../core/config.ts';
import type { Config } from '../core/config.ts';
import { splitArgs, formatReply } from '../core/resp.ts';
import type { Reply } from '../core/reply.ts';
import { startLoad } from '../world/load.ts';
import type { KeyCounter } from '../world/load.ts';
import { ScenarioError } from './errors.ts';
import type { Scenario, Statement, Predicate, LinkModel, LinkTarget, Pos } from './ast.ts';
import { evalPredicate, operandValue } from './predicates.ts';
import type { EvalContext, Verdict } from './predicates.ts';
import { formatTimeUs } from '../trace/render.ts';
import { printPredicate } from './printer.ts';
import { InvariantViolation } from '../check/invariants.ts';
import { infoFields } from '../core/info.ts';
import { SentinelConfigError } from '../sentinel/conf.ts';
import type { BugName } from '../core/bugs.ts';
import { startClientLoad } from '../clients/load.ts';
import { clientOptionsDefault } from '../clients/client.ts';
import type { LedgerReport } from '../clients/ledger.ts';
import { worldLedgerReport } from '../clients/report.ts';

export interface CheckResult {
  /** 'invariant': a replication invariant broke while the statement at `line` ran (sim/check). */
  readonly kind: 'expect' | 'await' | 'invariant';
  readonly line: number;
  readonly text: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly atUs: number;
}

export interface RunOptions {
  /** Overrides the file's `seed`. */
  readonly seed?: string;
  readonly trace: TraceSink | null;
  /** Trace the replication stream too (World's traceStream; `--trace-level stream`). */
  readonly traceStream?: boolean;
  /** Trace every command a node reads from the network (World's traceCommands; `--trace-level commands`). */
  readonly traceCommands?: boolean;
  readonly onCheck?: (r: CheckResult) => void;
  /** For error messages (FILE:LINE:COL). */
  readonly file?: string;
  /** The file's text, to quote checks as written. */
  readonly source?: string;
  /** Historical Redis bugs to switch on (the bug zoo, sim/core/bugs.ts). */
  readonly bugs?: readonly BugName[];
  /** Called with the world once it is built (tests read the ledger's entries through it). */
  readonly onWorld?: (world: World) => void;
  /** A read-only tap after every node iteration (the recorder behind --html and explain). */
  readonly observe?: IterationObserver;
  /**
   * Called after each body statement with its index and the virtual time it started and ended
   * (the lab, sim/lab, finds which statement was running at a moment to insert an action there).
   */
  readonly onStatement?: (index: number, startUs: number, endUs: number) => void;
  /**
   * Called every PROGRESS_EVENTS events or so, and at every time statement, with the virtual time
   * and the events run so far: the CLI's progress line for a long run. Only reads; the run is the
   * same with or without it (the engine is driven in slices, which runs the same events in the
   * same order).
   */
  readonly onProgress?: (p: { readonly virtualUs: number; readonly events: number }) => void;
  /**
   * Keep a passing check's detail (default true). A fuzz run reports only failed checks and
   * turns this off: the detail of a passing `converged` is every node's DEBUG DIGEST, a hash
   * of every key, read by nobody there. A failed check's detail is always kept.
   */
  readonly passedDetails?: boolean;
}

/** How often onProgress is called, in engine events. */
const PROGRESS_EVENTS = 10_000;

export interface RunResult {
  readonly title: string | null;
  readonly seed: string;
  readonly checks: CheckResult[];
  readonly passed: number;
  readonly failed: number;
  readonly virtualUs: number;
  readonly events: number;
  /** Each node's replication INFO at the end (or at the broken invariant), `down` when it is not running. */
  readonly nodesInfo: string[];
  /** With `clients`: the write ledger at the end of the run (sim/clients/ledger.ts). */
  readonly ledger?: LedgerReport;
  /** Promotions (replid shifts) and full-sync flushes recorded during the run. */
  readonly historyCounts?: { promotions: number; fullSyncs: number };
}

/**
 * Commands Redis never answers when a normal client sends them: replication.c replconfCommand
 * returns before any addReply for `REPLCONF ACK` (unless the client is a replica) and for
 * `REPLCONF GETACK`. Waiting for their reply would hand it the next command's.
 */
function neverAnswered(args: readonly string[]): boolean {
  if (args.length < 2 || args[0]!.toLowerCase() !== 'replconf') return false;
  const sub = args[1]!.toLowerCase();
  return sub === 'ack' || sub === 'getack';
}

/** How long a blocking command may hold the script before the run gives up on it. */
const BLOCKING_LIMIT_US = 600 * 1e6;

export function runScenario(s: Scenario, o: RunOptions): RunResult {
  return new Executor(s, o).run();
}

class Executor implements EvalContext {
  readonly world: World;
  readonly vars = new Map<string, string>();
  private readonly checks: CheckResult[] = [];
  private readonly cli = new Map<string, number>();
  private readonly keyCounter: KeyCounter = { next: 0 };
  private readonly seed: string;
  private readonly lines: string[];
  private defaultLink: NetLink = linkDefault;
  private readonly pairLinks = new Map<string, NetLink>();

  constructor(private readonly s: Scenario, private readonly o: RunOptions) {
    this.seed = o.seed ?? s.seed ?? '1';
    this.world = new World({ seed: this.seed, trace: o.trace, traceStream: o.traceStream, traceCommands: o.traceCommands, bugs: o.bugs, observe: o.observe });
    this.lines = o.source !== undefined ? o.source.split('\n') : [];
  }

  private error(pos: Pos, message: string): ScenarioError {
    return new ScenarioError(this.o.file ?? '<scenario>', pos.line, pos.col, message);
  }

  run(): RunResult {
    this.setUp();
    this.o.onWorld?.(this.world);
    for (let i = 0; i < this.s.body.length; i++) {
      const st = this.s.body[i]!;
      const startUs = this.world.engine.nowUs;
      try {
        this.statement(st);
        this.o.onStatement?.(i, startUs, this.world.engine.nowUs);
      } catch (e) {
        if (!(e instanceof InvariantViolation)) throw e;
        // The world can no longer be trusted: report the broken invariant and stop here.
        const r: CheckResult = { kind: 'invariant', line: st.pos.line, text: `invariant: ${e.invariant}`, ok: false, detail: e.message, atUs: e.atUs };
        this.checks.push(r);
        this.world.trace({ kind: 'check', line: st.pos.line, ok: false, text: r.text, detail: e.message });
        this.o.onCheck?.(r);
        break;
      }
    }
    const passed = this.checks.filter((c) => c.ok).length;
    const hasClients = this.world.clients.size > 0;
    return {
      ...(hasClients ? { ledger: worldLedgerReport(this.world), historyCounts: this.historyCounts() } : {}),
      title: this.s.title,
      seed: this.seed,
      checks: this.checks,
      passed,
      failed: this.checks.length - passed,
      virtualUs: this.world.engine.nowUs,
      events: this.world.engine.eventsRun,
      nodesInfo: this.nodesInfo(),
    };
  }

  private setUp(): void {
    for (const l of this.s.links) this.applyLink(l.target, l.model);
    for (const n of this.s.nodes) {
      const config: Config = defaultConfig();
      for (const c of this.s.configs) {
        if (c.target !== '*' && c.target !== n.name) continue;
        const args = splitArgs(c.value);
        if (args === null) throw this.error(c.pos, `config ${c.name}: unbalanced quotes in '${c.value}'`);
        try {
          applyStartupConfig(config, c.name, args);
        } catch (e) {
          if (e instanceof ConfigError) throw this.error(c.pos, e.message);
          throw e;
        }
      }
      let disk: WorldDisk = diskDefault;
      for (const d of this.s.disks) {
        if (d.target !== '*' && d.target !== n.name) continue;
        disk = {
          writeBytesPerSec: d.model.writeBps !== undefined ? d.model.writeBps / 8 : disk.writeBytesPerSec,
          readBytesPerSec: d.model.readBps !== undefined ? d.model.readBps / 8 : disk.readBytesPerSec,
        };
      }
      this.world.addNode(n.name, config, disk);
      this.cli.set(n.name, this.world.newClientId());
    }
    for (const sn of this.s.sentinels ?? []) {
      const lines = (this.s.sentinelConfigs ?? []).filter((c) => c.target === '*' || c.target === sn.name).map((c) => c.words);
      this.world.addSentinel(sn.name, { configLines: lines });
      this.cli.set(sn.name, this.world.newClientId());
    }
    for (const n of this.s.nodes) this.world.slot(n.name).start();
    for (const c of this.s.clients ?? []) {
      const client = this.world.addClient(c.name);
      let o = clientOptionsDefault;
      for (const d of this.s.clientOptions ?? []) {
        if (d.target !== '*' && d.target !== c.name) continue;
        o = { timeoutUs: d.timeoutUs ?? o.timeoutUs, retryUs: d.retryUs ?? o.retryUs };
      }
      client.options = o;
      client.sentinels = (this.s.sentinels ?? []).map((sn) => sn.name);
    }
    for (const sn of this.s.sentinels ?? []) {
      try {
        this.world.sentinelSlots.get(sn.name)!.start();
      } catch (e) {
        if (!(e instanceof SentinelConfigError)) throw e;
        const decl = (this.s.sentinelConfigs ?? []).filter((c) => c.target === '*' || c.target === sn.name)[e.lineIndex];
        throw this.error(decl?.pos ?? sn.pos, e.message);
      }
    }
  }

  private historyCounts(): { promotions: number; fullSyncs: number } {
    const h = this.world.histories;
    return { promotions: h.forks.filter((f) => f.why === 'promotion').length, fullSyncs: h.ends.filter((e) => e.why === 'full-sync').length };
  }

  /** One line per node with the INFO fields that tell a replication story. */
  private nodesInfo(): string[] {
    const keys = ['role', 'master_host', 'master_link_status', 'master_replid', 'master_replid2', 'master_repl_offset',
      'second_repl_offset', 'repl_backlog_first_byte_offset', 'repl_backlog_histlen', 'connected_slaves'];
    return [...this.world.slots].map(([name, slot]) => {
      if (slot.node === null) return `${name}: down (${slot.status})`;
      const f = infoFields(slot.node);
      return `${name}: ` + keys.filter((k) => f.has(k)).map((k) => `${k}=${f.get(k)}`).join(' ');
    });
  }

  private applyLink(target: LinkTarget, m: LinkModel): void {
    const merge = (base: NetLink): NetLink => ({
      latencyUs: m.latencyUs ?? base.latencyUs,
      jitterUs: m.jitterUs ?? base.jitterUs,
      bandwidthBitsPerSec: m.bandwidthBps ?? base.bandwidthBitsPerSec,
    });
    if (target === '*') {
      this.defaultLink = merge(this.defaultLink);
      this.world.net.setDefaultLink(this.defaultLink);
      return;
    }
    const key = [...target].sort().join(' ');
    const model = merge(this.pairLinks.get(key) ?? this.defaultLink);
    this.pairLinks.set(key, model);
    this.world.net.setLink(target[0], target[1], model);
  }

  /**
   * engine.runUntil(atUs); with onProgress, in slices of virtual time that report between them
   * (events run in the same order: a slice ends between two instants, never inside one).
   */
  private runUntil(atUs: number): void {
    const e = this.world.engine;
    const onProgress = this.o.onProgress;
    if (onProgress === undefined) {
      e.runUntil(atUs);
      return;
    }
    const sliceUs = 100_000;
    while (e.nowUs < atUs) {
      e.runUntil(Math.min(atUs, e.nowUs + sliceUs));
      onProgress({ virtualUs: e.nowUs, events: e.eventsRun });
    }
  }

  private statement(st: Statement): void {
    const w = this.world;
    const now = w.engine.nowUs;
    switch (st.kind) {
      case 'at': {
        const target = st.relative ? now + st.timeUs : st.timeUs;
        if (target > now) this.runUntil(target);
        return;
      }
      case 'run':
        this.runUntil(now + st.durUs);
        return;
      case 'await': {
        let last: Verdict = { ok: false, detail: '' };
        const holds = (): boolean => (last = evalPredicate(this, st.pred)).ok;
        const onProgress = this.o.onProgress;
        let sinceEvents = w.engine.eventsRun;
        // The predicate is asked after every event anyway: the progress call rides on it.
        const pred = onProgress === undefined ? holds : (): boolean => {
          if (w.engine.eventsRun - sinceEvents >= PROGRESS_EVENTS) {
            sinceEvents = w.engine.eventsRun;
            onProgress({ virtualUs: w.engine.nowUs, events: w.engine.eventsRun });
          }
          return holds();
        };
        const ok = w.engine.runUntilOr(pred, now + st.withinUs);
        this.record('await', st.pos, st.pred, ok ? last : { ok: false, detail: `not within ${formatTimeUs(st.withinUs)}: ${last.detail}` });
        return;
      }
      case 'expect':
        // An expect may wait for a blocking command's reply (WAIT, DEBUG SLEEP), as a step does.
        this.blockingAllowed = true;
        try {
          this.record('expect', st.pos, st.pred, evalPredicate(this, st.pred));
        } finally {
          this.blockingAllowed = false;
        }
        return;
      case 'command':
        this.blockingCommand(st.node, st.args);
        return;
      case 'load':
        if (st.from !== undefined) {
          const client = w.clients.get(st.from)!;
          w.trace({ kind: 'note', node: st.from, text: `load: ${st.count} writes of ${st.sizeBytes} bytes over ${formatTimeUs(st.overUs)} to ${st.node}` + (st.wait ? `, each followed by WAIT ${st.wait.replicas} ${st.wait.timeoutMs}` : '') });
          startClientLoad(w.engine, w.workload, w.ledger, client, {
            target: st.node, count: st.count, overUs: st.overUs, sizeBytes: st.sizeBytes, keys: st.keys, db: st.db, wait: st.wait ?? null, line: st.pos.line,
          }, this.keyCounter);
          return;
        }
        w.trace({ kind: 'note', node: st.node, text: `load: ${st.count} writes of ${st.sizeBytes} bytes over ${formatTimeUs(st.overUs)}` });
        startLoad(w, { node: st.node, count: st.count, overUs: st.overUs, sizeBytes: st.sizeBytes, keys: st.keys, db: st.db === 0 ? null : st.db, ttlMs: st.ttlUs === undefined ? null : st.ttlUs / 1000 }, this.keyCounter);
        return;
      case 'partition':
        w.net.partition(st.groups);
        w.trace({ kind: 'fault', op: 'partition', groups: st.groups.map((g) => [...g]), what: `partition ${st.groups.map((g) => g.join(' ')).join(' | ')}` });
        return;
      case 'partition-one-way':
        w.net.partitionOneWay(st.from, st.to);
        w.trace({ kind: 'fault', op: 'partition-one-way', groups: [[st.from], [st.to]], what: `partition ${st.from} -> ${st.to}` });
        return;
      case 'heal-all':
        w.net.heal();
        w.trace({ kind: 'fault', op: 'heal-all', groups: [], what: 'heal every partition' });
        return;
      case 'heal':
        w.net.healGroups(st.groups);
        w.trace({ kind: 'fault', op: 'heal', groups: st.groups.map((g) => [...g]), what: `heal ${st.groups.map((g) => g.join(' ')).join(' | ')}` });
        return;
      case 'heal-one-way':
        w.net.healOneWay(st.from, st.to);
        w.trace({ kind: 'fault', op: 'heal-one-way', groups: [[st.from], [st.to]], what: `heal ${st.from} -> ${st.to}` });
        return;
      case 'kill-link':
        w.trace({ kind: 'fault', op: 'kill-link', groups: [[st.a], [st.b]], what: `kill-link ${st.a} ${st.b}: every connection between them is reset` });
        w.net.killLink(st.a, st.b);
        return;
      case 'crash':
      case 'poweroff': {
        const client = w.clients.get(st.node);
        if (client !== undefined) {
          w.trace({ kind: 'process', node: st.node, what: st.kind });
          client.stop(st.kind);
          return;
        }
        w.process(st.node).stop(st.kind);
        return;
      }
      case 'restart': {
        const client = w.clients.get(st.node);
        if (client !== undefined) {
          client.stop('crash');
          w.trace({ kind: 'process', node: st.node, what: 'restart' });
          client.start();
          return;
        }
        const slot = w.process(st.node);
        if (slot.running) slot.stop('crash');
        w.trace({ kind: 'process', node: st.node, what: 'restart' });
        slot.start();
        return;
      }
      case 'pause': {
        const client = w.clients.get(st.node);
        if (client !== undefined) {
          w.trace({ kind: 'process', node: st.node, what: 'pause' });
          client.pause(st.durUs);
          return;
        }
        w.process(st.node).pause(st.durUs);
        return;
      }
      case 'link':
        this.applyLink(st.target, st.model);
        w.trace({ kind: 'fault', op: 'link', groups: st.target === '*' ? [] : [[st.target[0]], [st.target[1]]], what: `link ${st.target === '*' ? '*' : st.target.join(' ')} changed` });
        return;
      case 'let': {
        const v = operandValue(this, st.value);
        this.vars.set(st.name, 'value' in v ? v.value : '');
        if ('missing' in v) w.trace({ kind: 'note', node: '-', text: `let ${st.name}: ${v.missing}; set to ""` });
        return;
      }
      default:
        assertNever(st);
    }
  }

  /** A scenario command: the script waits for the reply while virtual time goes on. */
  private blockingCommand(node: string, args: string[]): void {
    const w = this.world;
    const client = this.cli.get(node)!;
    w.trace({ kind: 'command', node, client: 'cli', argv: args });
    if (neverAnswered(args)) {
      // Sent on a client of its own, whose reply queue nobody reads: the script's next
      // command then gets its own reply, not this one's slot.
      w.process(node).command(w.newClientId(), args, () => {});
      w.trace({ kind: 'note', node, text: `Redis sends no reply to ${args.slice(0, 2).join(' ')} from a client that is not a replica; the script goes on` });
      return;
    }
    let reply: Reply | null = null;
    w.process(node).command(client, args, (r) => {
      reply = r;
      w.trace({ kind: 'reply', node, client: 'cli', reply: formatReply(r) });
    });
    if (reply !== null) return;
    const got = w.engine.runUntilOr(() => reply !== null, w.engine.nowUs + BLOCKING_LIMIT_US);
    if (!got) w.trace({ kind: 'note', node, text: `no reply to ${args[0]} within ${formatTimeUs(BLOCKING_LIMIT_US)}; the script goes on` });
  }

  /** True while an `expect` is evaluated: its commands may block; inside `await` they may not. */
  private blockingAllowed = false;

  /**
   * EvalContext: run a predicate's command. In an `expect` the script waits for the reply like a
   * step; in an `await` (evaluated after every event) it must come at once, and is not sent at
   * all to a paused node, whose input would only pile up.
   */
  commandNow(node: string, args: string[]): Reply | null {
    const slot = this.world.process(node);
    if (neverAnswered(args)) {
      slot.command(this.world.newClientId(), args, () => {});
      return null;
    }
    if (!this.blockingAllowed && slot.paused) return null;
    let reply: Reply | null = null;
    slot.command(this.cli.get(node)!, args, (r) => (reply = r));
    if (reply === null && this.blockingAllowed) {
      this.world.engine.runUntilOr(() => reply !== null, this.world.engine.nowUs + BLOCKING_LIMIT_US);
    }
    return reply;
  }

  private record(kind: 'expect' | 'await', pos: Pos, pred: Predicate, v: Verdict): void {
    const text = this.quote(pos, kind, pred);
    const detail = v.ok && this.o.passedDetails === false ? '' : v.detail;
    const r: CheckResult = { kind, line: pos.line, text, ok: v.ok, detail, atUs: this.world.engine.nowUs };
    this.checks.push(r);
    this.world.trace({ kind: 'check', line: pos.line, ok: v.ok, text, detail: v.ok ? '' : v.detail });
    this.o.onCheck?.(r);
  }

  private quote(pos: Pos, kind: string, pred: Predicate): string {
    const line = this.lines[pos.line - 1];
    if (line !== undefined) return line.replace(/\s+#.*$/, '').trim();
    return `${kind} ${printPredicate(pred)}`;
  }
}
