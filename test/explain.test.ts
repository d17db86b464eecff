/**
 * The teaching tools' foundations, without a browser: the recorder is a read-only tap (a
 * recorded run is the same run), and `explain` tells every lesson with the run's own numbers.
 */
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import { jsonLine } from '../sim/trace/render.ts';
import { expandFiles } from '../sim/cli/run.ts';
import { recordScenario } from '../sim/cli/explain.ts';
import { explain, grouped, shortId } from '../sim/trace/explain.ts';
import { stateAt } from '../sim/trace/record.ts';
import { messageArrows, faultSpans, psyncCards } from '../sim/trace/html.ts';

const root = join(import.meta.dirname, '..');
const lessons = expandFiles([join(root, 'scenarios/lessons')]);
const read = (f: string): string => readFileSync(f, 'latin1');

function traceHash(file: string, withRecorder: boolean): string {
  const text = read(file);
  const h = createHash('sha256');
  if (withRecorder) {
    const { recording } = recordScenario(text, file);
    for (const e of recording.events) {
      const { atUs, seq: _seq, sentence: _sentence, ...event } = e;
      h.update(jsonLine({ atUs, event: event as never }) + '\n');
    }
  } else {
    runScenario(parseScenario(text, file), { trace: (s) => h.update(jsonLine(s) + '\n'), file, source: text });
  }
  return h.digest('hex');
}

describe('recorder', () => {
  it('is a read-only tap: a recorded run gives the same trace, byte for byte', () => {
    for (const f of [lessons[3]!, lessons[8]!]) expect(traceHash(f, true)).toBe(traceHash(f, false));
  });

  it("samples each node's state as INFO shows it at every check", () => {
    const file = lessons.find((f) => f.includes('09-'))!;
    const { recording, result } = recordScenario(read(file), file);
    expect(result.failed).toBe(0);
    const checks = recording.events.filter((e) => e.kind === 'check');
    expect(checks.length).toBeGreaterThan(3);
    // At the end every node follows the new master r1's history at the same offset.
    const last = checks[checks.length - 1]!;
    const states = recording.nodes.map((n) => stateAt(recording, n, last.seq)!);
    expect(new Set(states.map((s) => s.replid)).size).toBe(1);
    expect(new Set(states.map((s) => s.offset)).size).toBe(1);
    expect(states.find((s) => s.role === 'master')).toBeDefined();
  });
});

describe('explain', () => {
  for (const file of lessons) {
    it(`${file.slice(root.length + 1)} reads as numbered paragraphs with the run's numbers`, () => {
      const { recording } = recordScenario(read(file), file);
      const ps = explain(recording);
      expect(ps.length).toBeGreaterThanOrEqual(3);
      ps.forEach((p, i) => expect(p.startsWith(`${i + 1}. `)).toBe(true));
      // Every PSYNC the run decided is told, with the replica's request.
      for (const e of recording.events) {
        if (e.kind !== 'psync-sent') continue;
        const asked = e.replid === '?' ? 'PSYNC ? -1' : `PSYNC ${shortId(e.replid)} ${e.offset}`;
        expect(ps.some((p) => p.includes(asked)), `${asked} told`).toBe(true);
      }
    });
  }

  it('tells a partial resync with the backlog window and the bytes resent', () => {
    const file = lessons.find((f) => f.includes('04-'))!;
    const { recording } = recordScenario(read(file), file);
    const decision = recording.events.find((e) => e.kind === 'psync-decision' && e.accepted);
    expect(decision?.kind).toBe('psync-decision');
    if (decision?.kind !== 'psync-decision') return;
    const m = stateAt(recording, decision.node, decision.seq)!;
    const p = explain(recording).find((x) => x.includes('+CONTINUE'))!;
    expect(p).toContain(`resends ${grouped(decision.sendBytes)} bytes`);
    expect(p).toContain(`bytes ${grouped(m.backlogFirst)}–${grouped(m.backlogFirst + m.backlogHistlen - 1)}`);
  });

  it('tells a fault and who noticed it, and when', () => {
    const file = lessons.find((f) => f.includes('06-'))!;
    const { recording } = recordScenario(read(file), file);
    const ps = explain(recording);
    expect(ps.some((p) => /network is split/.test(p) && /Noticed by/.test(p))).toBe(true);
  });
});

describe('page data', () => {
  it('pairs every message with its answer and every fault with its end', () => {
    const file = lessons.find((f) => f.includes('04-'))!;
    const { recording } = recordScenario(read(file), file);
    const arrows = messageArrows(recording.events);
    const count = (k: string): number => recording.events.filter((e) => e.kind === k).length;
    expect(arrows.filter((a) => a.kind === 'psync').length).toBe(count('psync-received'));
    expect(arrows.filter((a) => a.kind === 'continue').length).toBe(count('continue-received'));
    expect(arrows.filter((a) => a.kind === 'handshake').length).toBe(count('handshake-send') + count('handshake-reply'));
    for (const a of arrows) expect(a.toUs).toBeGreaterThanOrEqual(a.fromUs);
    const spans = faultSpans(recording);
    expect(spans.map((s) => [s.kind, s.nodes.join(), s.toUs! - s.fromUs])).toEqual([['pause', 'r1', 2_000_000]]);
    const cards = psyncCards(recording);
    expect(cards.map((c) => c.accepted)).toEqual([false, true]);
    expect(cards[1]!.server!.replid).toBe(cards[1]!.replid);
  });
});

describe('page data packing', () => {
  it('packs every node state so that the page unpacks the same states', async () => {
    const { packStates, unpackStates } = await import('../sim/trace/html.ts');
    const file = lessons.find((f) => f.includes('10-'))!;
    const { recording } = recordScenario(read(file), file);
    const packed = packStates(recording.states);
    expect(unpackStates(packed)).toEqual(recording.states);
    expect(JSON.stringify(packed).length).toBeLessThan(JSON.stringify(recording.states).length / 3);
  });
});
