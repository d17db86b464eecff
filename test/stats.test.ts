/** One median for every report: fuzz's lost-write distribution and compare's table use sim/stats.ts. */
import { describe, it, expect } from 'vitest';
import { median, percentile } from '../sim/stats.ts';
import { CampaignTally } from '../sim/fuzz/campaign.ts';
import { summarize } from '../sim/scenario/variants.ts';
import type { FuzzResult } from '../sim/fuzz/run.ts';
import type { RunFigures } from '../sim/scenario/variants.ts';

describe('stats', () => {
  it('median: the middle value, or the mean of the two middle ones; percentile: nearest rank', () => {
    expect(median([])).toBe(0);
    expect(median([7])).toBe(7);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([0, 1])).toBe(0.5);
    expect(median([10, 0, 4, 2])).toBe(3);
    const xs = [5, 1, 4];
    median(xs);
    expect(xs).toEqual([5, 1, 4]); // not sorted in place
    expect(percentile([], 95)).toBe(0);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile(Array.from({ length: 20 }, (_, i) => i + 1), 95)).toBe(19);
    expect(percentile([1, 2, 3, 4], 100)).toBe(4);
  });

  it('fuzz --clients and compare report the same median for the same lost writes', () => {
    const lost = [0, 0, 3, 9]; // an even count: nearest rank would say 0, the median is 1.5
    const tally = new CampaignTally();
    for (const [i, n] of lost.entries()) {
      const r = {
        seed: `s/${i}`, coverage: new Set<string>(), faultKindsUsed: [], virtualUs: 1, events: 1, ok: true,
        losses: { acked: 10, lost: n, byCause: { promotion: n, 'full-sync': 0, crash: 0, poweroff: 0, unexplained: 0 }, waitPromiseBroken: 0 },
      } as unknown as FuzzResult;
      tally.add(r);
    }
    const fuzzMedian = tally.summary().losses!.perRun.median;
    const figures: RunFigures[] = lost.map((n, i) => ({ seed: String(i), sent: 10, acked: 10, lost: n, failed: 0, unknown: 0, fullSyncs: 0, failovers: 0, settledUs: null, checksFailed: 0 }));
    const compareMedian = summarize({ name: 'base', statements: [] }, figures).lost.median;
    expect(fuzzMedian).toBe(1.5);
    expect(compareMedian).toBe(fuzzMedian);
    expect(tally.summary().losses!.perRun.p95).toBe(summarize({ name: 'base', statements: [] }, figures).lost.p95);
  });
});
