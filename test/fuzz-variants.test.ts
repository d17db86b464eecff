import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCampaign } from '../sim/fuzz/campaign.ts';
import { fuzzCommand } from '../sim/cli/fuzz.ts';
import { parseVariant } from '../sim/scenario/variants.ts';
import { resultStem, scenarioFileText } from '../sim/fuzz/run.ts';
import { runVariants } from '../sim/fuzz/variants.ts';

const minrep = "minrep: config * min-replicas-to-write 1; config * min-replicas-max-lag 10";

function collector(): { write: (s: string) => void; text: () => string } {
  const parts: string[] = [];
  return { write: (s) => void parts.push(s), text: () => parts.join('') };
}

describe('fuzz --variant', () => {
  it('every story also runs under the variant; the table compares them on the same stories', () => {
    const variants = [parseVariant(minrep)];
    const seen: string[] = [];
    const s = runCampaign({ seed: '1', runs: 8, shardIndex: 0, shardCount: 1, fixed: { clients: true }, variants }, {
      onResult: (r) => {
        expect(r.variantRuns?.length).toBe(1);
        const v = r.variantRuns![0]!;
        expect(v.variant?.name).toBe('minrep');
        // The variant's story is the base story with the statements added to its header.
        expect(v.text).toContain('config * min-replicas-to-write 1');
        expect(v.text.replace(/^config \* min-replicas-(to-write 1|max-lag 10)\n/gm, '')).toBe(r.text);
        seen.push(r.seed);
      },
    });
    expect(seen.length).toBe(8);
    const rows = s.variants!;
    expect(rows.map((r) => r.name)).toEqual(['base', 'minrep']);
    const [base, mr] = [rows[0]!, rows[1]!];
    // The base row is the campaign's own loss distribution, read the same way.
    expect(base.acked).toBe(s.losses!.acked);
    expect(base.lost.total).toBe(s.losses!.lost);
    // min-replicas refuses writes the master cannot replicate: fewer lost, or more failed.
    expect(mr.lost.total < base.lost.total || mr.failed > base.failed).toBe(true);
    expect(mr.lost.total + mr.failed).toBeGreaterThan(0);
    // A variant's changed outcomes are figures, never failures.
    expect(s.failures.filter((f) => f.variant !== undefined)).toEqual([]);
  }, 120_000);

  it('the campaign JSON carries the table, base first', () => {
    const out = collector();
    const dir = mkdtempSync(join(tmpdir(), 'psync-fuzz-variant-'));
    const code = fuzzCommand({ runs: 2, seed: 'vj', json: true, clients: true, out: dir, variants: [minrep, 'waitall: wait 1 100'], stdout: out.write, stderr: out.write, isTTY: false });
    expect(code).toBe(0);
    const summary = JSON.parse(out.text().trim().split('\n').at(-1)!);
    expect(summary.type).toBe('campaign');
    expect(summary.variants.map((v: { name: string }) => v.name)).toEqual(['base', 'minrep', 'waitall']);
    for (const v of summary.variants) {
      expect(v.lost).toMatchObject({ total: expect.any(Number), median: expect.any(Number), p95: expect.any(Number), max: expect.any(Number) });
      expect(v.runs).toBeUndefined();
    }
    expect(summary.variants[0].acked).toBe(summary.losses.acked);
    expect(summary.variants[1].statements).toEqual(['config * min-replicas-to-write 1', 'config * min-replicas-max-lag 10']);
  }, 120_000);

  it('the text summary prints the table after the loss distribution', () => {
    const out = collector();
    const dir = mkdtempSync(join(tmpdir(), 'psync-fuzz-variant-'));
    expect(fuzzCommand({ runs: 1, seed: 'vt', clients: true, out: dir, variants: [minrep], stdout: out.write, stderr: out.write, isTTY: false })).toBe(0);
    const text = out.text();
    expect(text).toMatch(/variants \(every story under each/);
    expect(text).toMatch(/\n {2}base +\d+/);
    expect(text).toMatch(/\n {2}minrep +\d+/);
    expect(text.indexOf('variants (')).toBeGreaterThan(text.indexOf('lost acknowledged writes'));
  }, 60_000);

  it('a bad --variant, a statement the language refuses, a duplicate name or no --clients: one line, exit 2, no run', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ clients: true, variants: ['nocolon'] }, /--variant: bad --variant 'nocolon'/],
      [{ clients: true, variants: ['x: config * no-such-option 1'] }, /--variant: variant 'x': 'config \* no-such-option 1': unknown config/],
      [{ clients: true, variants: ['x: wait one'] }, /--variant: variant 'x': bad 'wait one'/],
      [{ clients: true, variants: ['base: config * min-replicas-to-write 1'] }, /two variants are named 'base'/],
      [{ clients: true, variants: [minrep, minrep] }, /two variants are named 'minrep'/],
      [{ variants: [minrep] }, /--variant needs --clients/],
    ];
    for (const [o, want] of cases) {
      const err = collector();
      const out = collector();
      expect(fuzzCommand({ runs: 1, out: mkdtempSync(join(tmpdir(), 'psync-fuzz-variant-')), ...o, stdout: out.write, stderr: err.write })).toBe(2);
      expect(err.text()).toMatch(want);
      expect(err.text().trim().split('\n')).toHaveLength(1);
      expect(out.text()).toBe('');
    }
  });

  it("compare's own 'wait N TIMEOUT' reaches every client load; a variant run's files are <seed>.<name>.scn", () => {
    let checked = 0;
    runCampaign({ seed: 'vr', runs: 1, shardIndex: 0, shardCount: 1, fixed: { clients: true }, variants: [parseVariant('w: wait 1 100')] }, {
      onResult: (r) => {
        const v = r.variantRuns![0]!;
        const loads = v.text.split('\n').filter((l) => /^\s*load .* from /.test(l));
        expect(loads.length).toBeGreaterThan(0);
        for (const l of loads) expect(l).toMatch(/ wait 1 100(ms)? from /);
        expect(r.text).not.toMatch(/ wait 1 100/);
        expect(resultStem(v)).toBe('vr_0.w');
        expect(resultStem(r)).toBe('vr_0');
        checked++;
      },
    });
    expect(checked).toBe(1);
  }, 60_000);

  it("a variant's liveness failure is a failure when the base story passed, a figure when it failed too", () => {
    // A full sync that waits 10 minutes cannot converge within the story's closing `await ... within 1m`.
    const slow = parseVariant('slow: config * repl-diskless-sync yes; config * repl-diskless-sync-delay 600');
    let base: Parameters<typeof runVariants>[0] | undefined;
    const s = runCampaign({ seed: 'lv', runs: 1, shardIndex: 0, shardCount: 1, fixed: { clients: true }, variants: [slow] }, { onResult: (r) => void (base = r) });
    expect(base!.ok).toBe(true);
    const v = base!.variantRuns![0]!;
    expect(v.failure?.kind).toBe('liveness');
    expect(s.failures).toEqual([v]);
    expect(s.byKind.liveness).toBe(1);
    expect(s.variants![1]).toMatchObject({ name: 'slow', checksFailed: 1, unsettled: 1 });
    // Its file is the variant's story, saying which variant, and replays as the failure.
    const file = scenarioFileText(v);
    expect(file).toContain('# variant slow: config * repl-diskless-sync yes; config * repl-diskless-sync-delay 600');
    expect(file).toContain('\nconfig * repl-diskless-sync-delay 600\n');
    // The same variant run after a base run that failed: counted, not reported a second time.
    const failedBase = { ...base!, ok: false, failure: { kind: 'liveness' as const, detail: 'line 1: planted' } };
    const again = runVariants(failedBase, [slow])[0]!;
    expect(again.ok).toBe(true);
    expect(again.failure).toBeUndefined();
    expect(again.figures?.checksFailed).toBe(1);
    // Through the CLI: written as <seed>.<name>.scn, printed and counted like any failure.
    const dir = mkdtempSync(join(tmpdir(), 'psync-fuzz-variant-'));
    const out = collector();
    const code = fuzzCommand({ runs: 1, seed: 'lv', clients: true, out: dir, shrink: false, variants: ['slow: config * repl-diskless-sync yes; config * repl-diskless-sync-delay 600'], stdout: out.write, stderr: out.write, isTTY: false });
    expect(code).toBe(1);
    expect(readdirSync(dir)).toEqual(['lv_0.slow.scn']);
    expect(out.text()).toContain('✗ lv/0.slow: liveness');
    expect(out.text()).toContain('1 runs, 1 failed');
  }, 60_000);
});
