/**
 * `--trace-level stream`: the replication stream in the trace. The offsets each event prints are
 * checked against INFO (read after every node iteration through the world's observer tap), PINGs
 * against repl-ping-replica-period, ACKs against the replica's applied offset and the master's
 * slaveN offset=; the stream level must not change the run (the protocol trace is the same
 * bytes); `--nodes` filters; bad flags are one line and exit 2.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import { infoFields } from '../sim/core/info.ts';
import type { Stamped, TraceEvent } from '../sim/trace/events.ts';
import { STREAM_KINDS } from '../sim/trace/events.ts';
import { renderStamped } from '../sim/trace/render.ts';
import { concerns } from '../sim/trace/filter.ts';

const root = join(import.meta.dirname, '..');
const LESSON = 'scenarios/lessons/18-reading-the-stream.scn';

type Logged = { t: 'event'; s: Stamped } | { t: 'info'; node: string; atUs: number; info: Map<string, string> };

/** Run `file` and log, in the order they happened, every trace event and every node's INFO after each iteration. */
function runLogged(file: string, traceStream: boolean): { log: Logged[]; failed: number } {
  const text = readFileSync(join(root, file), 'latin1');
  const log: Logged[] = [];
  const r = runScenario(parseScenario(text, file), {
    file, source: text, traceStream,
    trace: (s) => void log.push({ t: 'event', s }),
    observe: (node, n, atUs) => void log.push({ t: 'info', node, atUs, info: infoFields(n) }),
  });
  return { log, failed: r.failed };
}

const events = (log: Logged[]): Stamped[] => log.flatMap((l) => (l.t === 'event' ? [l.s] : []));
type Of<K extends TraceEvent['kind']> = Extract<TraceEvent, { kind: K }>;

/** The slaveN line of `info` for replica `name`: its offset= field. */
function slaveOffset(info: Map<string, string>, name: string): number | null {
  for (const [k, v] of info) if (/^slave\d+$/.test(k) && v.startsWith(`ip=${name},`)) return Number(/offset=(-?\d+)/.exec(v)![1]);
  return null;
}

/**
 * Replays the log and checks every stream event against INFO: a top-level master's fed commands
 * are contiguous from its master_repl_offset; after its iteration master_repl_offset is the last
 * byte fed; a replica applies from where it stood (or from the RDB's offset) and its
 * slave_repl_offset is then the last byte applied; an ACK carries the applied offset; the
 * master's slaveN offset= is the highest ACK it read. Returns how many of each were checked.
 */
function checkAgainstInfo(log: Logged[]): Record<string, number> {
  const checked: Record<string, number> = { fed: 0, applied: 0, ack: 0, acked: 0, info: 0 };
  const lastInfo = new Map<string, Map<string, string>>();
  const next = new Map<string, number>(); // the next byte a node will feed or apply
  const movedTo = new Map<string, number>(); // the last byte fed or applied since the node's last INFO
  const acked = new Map<string, number>(); // `${master} ${replica}` -> highest ACK read on this connection
  for (const l of log) {
    if (l.t === 'info') {
      const moved = movedTo.get(l.node);
      if (moved !== undefined) {
        expect(Number(l.info.get('master_repl_offset')), `${l.node} at ${l.atUs}`).toBe(moved);
        if (l.info.get('role') === 'slave' && l.info.get('master_link_status') === 'up') expect(Number(l.info.get('slave_repl_offset'))).toBe(moved);
        checked.info!++;
      }
      for (const [key, off] of acked) {
        const [m, r] = key.split(' ') as [string, string];
        if (m === l.node && slaveOffset(l.info, r) !== null) {
          expect(slaveOffset(l.info, r), `${m}'s slave line for ${r} at ${l.atUs}`).toBe(off);
          checked.acked!++;
        }
      }
      movedTo.delete(l.node);
      lastInfo.set(l.node, l.info);
      next.set(l.node, Number(l.info.get('master_repl_offset')) + 1);
      continue;
    }
    const e = l.s.event;
    switch (e.kind) {
      case 'stream-fed': {
        expect(lastInfo.get(e.node)?.get('role'), `${e.node} feeds as a master`).toBe('master');
        expect(e.first, `${e.node} feeds ${e.args.join(' ')} at ${l.s.atUs}`).toBe(next.get(e.node));
        expect(e.last).toBeGreaterThanOrEqual(e.first);
        next.set(e.node, e.last + 1);
        movedTo.set(e.node, e.last);
        checked.fed!++;
        break;
      }
      case 'rdb-loaded':
        next.set(e.node, e.offset + 1);
        movedTo.set(e.node, e.offset);
        break;
      case 'stream-applied': {
        expect(e.first, `${e.node} applies ${e.args.join(' ')} at ${l.s.atUs}`).toBe(next.get(e.node));
        next.set(e.node, e.last + 1);
        movedTo.set(e.node, e.last);
        checked.applied!++;
        break;
      }
      case 'stream-proxied':
        // The bytes a sub-master just applied, and nothing else.
        expect(e.last).toBe(next.get(e.node)! - 1);
        break;
      case 'ack-sent':
        expect(e.offset, `${e.node}'s ACK (${e.why}) at ${l.s.atUs}`).toBe(next.get(e.node)! - 1);
        checked.ack!++;
        break;
      case 'ack-received': {
        const key = `${e.node} ${e.peer}`;
        acked.set(key, Math.max(acked.get(key) ?? -1, e.offset));
        break;
      }
      case 'conn-open': case 'conn-closed':
        acked.delete(`${e.node} ${e.peer}`);
        break;
      default:
        break;
    }
  }
  return checked;
}

describe('stream trace: offsets against INFO', () => {
  for (const file of [LESSON, 'scenarios/lessons/03-propagation-and-offsets.scn', 'scenarios/lessons/04-partial-resync.scn',
    'scenarios/lessons/10-chains.scn', 'scenarios/lessons/12-wait-and-min-replicas.scn', 'scenarios/features/multi-exec.scn']) {
    it(`${file}: every fed, applied and acknowledged offset is the one INFO shows`, () => {
      const { log, failed } = runLogged(file, true);
      expect(failed).toBe(0);
      const checked = checkAgainstInfo(log);
      expect(checked.fed).toBeGreaterThan(0);
      expect(checked.applied).toBeGreaterThan(0);
      expect(checked.ack).toBeGreaterThan(0);
      expect(checked.acked).toBeGreaterThan(0);
      expect(checked.info).toBeGreaterThan(0);
    });
  }

  it('lesson 18: the first SET after the sync is bytes 24..50, after SELECT 0 at 1..23 (master_repl_offset was 0)', () => {
    const { log } = runLogged(LESSON, true);
    const fed = events(log).map((s) => s.event).filter((e): e is Of<'stream-fed'> => e.kind === 'stream-fed');
    const i = fed.findIndex((e) => e.args[0] === 'SET');
    expect(fed.slice(i - 1, i + 1).map((e) => [e.args.join(' '), e.first, e.last, e.to])).toEqual([
      ['SELECT 0', 1, 23, ['r1']], ['SET x 1', 24, 50, ['r1']],
    ]);
    const getack = fed.find((e) => e.args[1] === 'GETACK')!;
    expect([getack.first, getack.last]).toEqual([51, 87]);
    // r1 passes exactly those bytes on to r2, and r2 applies them.
    const proxied = events(log).map((s) => s.event).filter((e): e is Of<'stream-proxied'> => e.kind === 'stream-proxied');
    expect(proxied.slice(0, 3).map((e) => [e.node, e.peer, e.first, e.last, e.to])).toEqual([
      ['r1', 'm', 1, 23, ['r2']], ['r1', 'm', 24, 50, ['r2']], ['r1', 'm', 51, 87, ['r2']],
    ]);
    const appliedByR2 = events(log).map((s) => s.event).filter((e): e is Of<'stream-applied'> => e.kind === 'stream-applied' && e.node === 'r2');
    expect(appliedByR2.slice(0, 3).map((e) => [e.peer, e.first, e.last, e.args.join(' ')])).toEqual([
      ['r1', 1, 23, 'SELECT 0'], ['r1', 24, 50, 'SET x 1'], ['r1', 51, 87, 'REPLCONF GETACK *'],
    ]);
  });

  it('lesson 18: PINGs are 14 bytes, one per repl-ping-replica-period (1 s once set), none while it is 3600 s', () => {
    const { log } = runLogged(LESSON, true);
    const all = events(log);
    const setAt = all.find((s) => s.event.kind === 'command' && s.event.argv.join(' ') === 'CONFIG SET repl-ping-replica-period 1')!.atUs;
    const pings = all.filter((s) => s.event.kind === 'stream-fed' && s.event.args.join(' ') === 'PING');
    expect(pings.length).toBe(2);
    expect(pings.every((s) => s.atUs > setAt)).toBe(true);
    for (const s of pings) {
      const e = s.event as Of<'stream-fed'>;
      expect(e.last - e.first + 1).toBe(14);
    }
    expect(pings[1]!.atUs - pings[0]!.atUs).toBe(1_000_000);
    // replicationCron ACKs once a second, at the same phase as the PING (both nodes started together).
    const cronAcks = all.filter((s) => s.event.kind === 'ack-sent' && s.event.node === 'r1' && s.event.why === 'cron').map((s) => s.atUs);
    for (let i = 1; i < cronAcks.length; i++) expect(cronAcks[i]! - cronAcks[i - 1]!).toBe(1_000_000);
  });

  it('lesson 18: WAIT\'s GETACK is answered with the offset before it (REPLCONF ACK 50), and m reads that ACK', () => {
    const { log } = runLogged(LESSON, true);
    const e = events(log).map((s) => s.event);
    const answer = e.find((x): x is Of<'ack-sent'> => x.kind === 'ack-sent' && x.node === 'r1' && x.why === 'getack')!;
    expect(answer.offset).toBe(50);
    expect(e.some((x) => x.kind === 'ack-received' && x.node === 'm' && x.peer === 'r1' && x.offset === 50)).toBe(true);
  });
});

describe('stream trace: off by default, and it does not change the run', () => {
  for (const file of [LESSON, 'scenarios/lessons/09-promotion-and-replid2.scn', 'scenarios/lessons/10-chains.scn']) {
    it(`${file}: the protocol trace is the same bytes with and without the stream`, () => {
      const plain = events(runLogged(file, false).log);
      const streamed = events(runLogged(file, true).log);
      expect(plain.some((s) => STREAM_KINDS.has(s.event.kind))).toBe(false);
      expect(streamed.filter((s) => STREAM_KINDS.has(s.event.kind)).length).toBeGreaterThan(0);
      const text = (l: Stamped[]): string => l.filter((s) => !STREAM_KINDS.has(s.event.kind)).map((s) => renderStamped(s)).join('\n');
      expect(text(streamed)).toBe(text(plain));
    });
  }
});

describe('stream trace: --nodes', () => {
  it('keeps the events naming a process, as actor, peer or receiver, and the checks', () => {
    const only = new Set(['r2']);
    expect(concerns({ kind: 'stream-fed', node: 'm', first: 1, last: 14, args: ['PING'], to: ['r1'] }, only)).toBe(false);
    expect(concerns({ kind: 'stream-proxied', node: 'r1', peer: 'm', first: 1, last: 14, to: ['r2'] }, only)).toBe(true);
    expect(concerns({ kind: 'ack-received', node: 'r1', peer: 'r2', offset: 1 }, only)).toBe(true);
    expect(concerns({ kind: 'ack-received', node: 'm', peer: 'r1', offset: 1 }, only)).toBe(false);
    expect(concerns({ kind: 'role', node: 'r1', role: 'replica', master: 'r2:6379' }, only)).toBe(true);
    expect(concerns({ kind: 'fault', op: 'heal-all', groups: [], what: 'heal' }, only)).toBe(true);
    expect(concerns({ kind: 'fault', op: 'kill-link', groups: [['m'], ['r1']], what: 'kill-link m r1' }, only)).toBe(false);
    expect(concerns({ kind: 'check', line: 1, ok: true, text: 'x', detail: '' }, only)).toBe(true);
  });
});

function cli(...args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['sim/psync-sim.js', ...args], {
    cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined },
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** The trace lines of a `run --trace` output: those that start with a time. */
const traceLines = (out: string): string[] => out.split('\n').filter((l) => /^\s+\d+\.\d{6}s /.test(l));

describe('cli: run --trace-level stream, --nodes', { timeout: 60_000 }, () => {
  it('prints each command with its offsets, PINGs, GETACK and ACKs (--trace-level alone prints the trace)', () => {
    const r = cli('run', LESSON, '--trace-level', 'stream');
    expect(r.status, r.err).toBe(0);
    const lines = traceLines(r.out);
    expect(lines.some((l) => /m → stream \[1\.\.23\] SELECT 0 — .* \(to r1\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /m → stream \[24\.\.50\] SET x 1 \(to r1\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /r1 → stream \[24\.\.50\] proxies 27 bytes of m's stream \(to r2\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /r2 ← r1: applies \[24\.\.50\] SET x 1; slave_repl_offset 50$/.test(l))).toBe(true);
    expect(lines.some((l) => /m → stream \[51\.\.87\] REPLCONF GETACK \*/.test(l))).toBe(true);
    expect(lines.some((l) => /r1 → m: REPLCONF ACK 50 \(the answer to REPLCONF GETACK\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /m → stream \[88\.\.101\] PING — replicationCron/.test(l))).toBe(true);
    // The default trace has none of it.
    const plain = cli('run', LESSON, '--trace');
    expect(plain.status).toBe(0);
    expect(traceLines(plain.out).some((l) => / → stream \[|REPLCONF ACK \d/.test(l))).toBe(false);
    expect(traceLines(plain.out).length).toBeLessThan(lines.length);
  });

  it('--nodes r2 keeps only what concerns r2 (and the checks), at every level', () => {
    for (const level of ['protocol', 'stream']) {
      const all = traceLines(cli('run', LESSON, '--trace', '--trace-level', level).out);
      const r = cli('run', LESSON, '--trace-level', level, '--nodes', 'r2');
      expect(r.status, r.err).toBe(0);
      const lines = traceLines(r.out);
      expect(lines.length).toBeGreaterThan(5);
      expect(lines.length).toBeLessThan(all.length);
      for (const l of lines) expect(l, level).toMatch(/\br2\b|line \d+: /);
      expect(all.some((l) => !/\br2\b|line \d+: /.test(l))).toBe(true);
    }
  });

  it('refuses a bad level, an empty or unknown --nodes, and a sweep with either: one line, exit 2', () => {
    for (const [args, msg] of [
      [['--trace-level', 'loud'], /trace-level/],
      [['--nodes', 'r9'], /--nodes: .* has no process named 'r9' \(it has m, r1, r2\)/],
      [['--nodes', 'r1,,m'], /--nodes: expected process names/],
      [['--seeds', '1..2', '--trace-level', 'stream'], /--seeds: --trace-level and --nodes/],
    ] as const) {
      const r = cli('run', LESSON, ...args);
      expect(r.status, `${args.join(' ')}: ${r.out}${r.err}`).toBe(2);
      expect(r.err.trim().split('\n').some((l) => msg.test(l)), r.err).toBe(true);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
