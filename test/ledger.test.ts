/**
 * The write ledger's arithmetic and its causes, on hand-built histories and node views: the
 * single master, lost writes (with keys replaced by later writes), and which recorded event is
 * named for each loss.
 */
import { describe, it, expect } from 'vitest';
import { Ledger, singleMaster, lostWrites, lostWritesCount, attribute, lossGroups, ledgerReport, counts, brokenWaitPromises } from '../sim/clients/ledger.ts';
import type { DataNodeView, LedgerEntry } from '../sim/clients/ledger.ts';
import { HistoryLog } from '../sim/clients/history.ts';

function view(name: string, masterhost: string | null, data: Record<string, string> = {}, o: Partial<DataNodeView> = {}): DataNodeView {
  return { name, up: true, masterhost, replid: 'R', offset: 0, get: (_db, key) => data[key], ...o };
}

/** An acknowledged write at offsets (start, end] of history replid, answered by node at atUs. */
function acked(l: Ledger, key: string, value: string, node: string, replid: string, start: number, end: number, atUs: number, client = 'c1'): LedgerEntry {
  const e = l.add(client, 1, key, value, 0, atUs);
  e.node = node;
  e.replid = replid;
  e.offset = end;
  e.startOffset = start;
  e.endOffset = end;
  l.settle(e, 'acked', '', atUs);
  return e;
}

describe('singleMaster', () => {
  it('finds the root every up node follows, down a chain', () => {
    const m = singleMaster([view('m', null), view('r1', 'm'), view('r2', 'r1')]);
    expect(m.ok && m.node.name).toBe('m');
  });
  it('ignores down nodes, refuses two masters, a down master and an unknown one', () => {
    expect(singleMaster([view('m', null, {}, { up: false }), view('r1', null), view('r2', 'r1')])).toMatchObject({ ok: true });
    const two = singleMaster([view('m', null), view('r1', null)]);
    expect(two).toEqual({ ok: false, why: 'no single master: m and r1 are both masters of up nodes' });
    expect(singleMaster([view('m', null, {}, { up: false }), view('r1', 'm')])).toEqual({ ok: false, why: 'r1 follows m, which is down' });
    expect(singleMaster([view('r1', 'x')])).toMatchObject({ ok: false, why: 'r1 follows x, which is not a data node' });
    expect(singleMaster([view('a', 'b'), view('b', 'a')])).toMatchObject({ ok: false });
  });
});

describe('lostWrites and counts', () => {
  it('an acknowledged write is lost when the master does not hold its value', () => {
    const l = new Ledger();
    acked(l, 'k1', 'v1', 'm', 'R', 0, 10, 1);
    acked(l, 'k2', 'v2', 'm', 'R', 10, 20, 2);
    const failed = l.add('c1', 1, 'k3', 'v3', 0, 3);
    l.settle(failed, 'failed', 'READONLY', 3);
    l.add('c1', 1, 'k4', 'v4', 0, 4); // pending
    const lost = lostWrites(l.entries, view('m', null, { k1: 'v1' }));
    expect(lost.map((e) => e.key)).toEqual(['k2']);
    expect(counts(l.entries)).toEqual({ sent: 4, acked: 2, failed: 1, unknown: 0, pending: 1 });
  });
  it('a write replaced by a later write to the same key is not lost; one issued after the held value is', () => {
    const l = new Ledger();
    acked(l, 'k', 'a', 'm', 'R', 0, 10, 1);
    acked(l, 'k', 'b', 'm', 'R', 10, 20, 2);
    acked(l, 'k', 'c', 'm', 'R', 20, 30, 3);
    expect(lostWrites(l.entries, view('m', null, { k: 'c' }))).toEqual([]);
    expect(lostWrites(l.entries, view('m', null, { k: 'b' })).map((e) => e.value)).toEqual(['c']);
    expect(lostWrites(l.entries, view('m', null, {})).map((e) => e.value)).toEqual(['a', 'b', 'c']);
  });
  it('lostWritesCount (what `await writes.lost` reads) counts what lostWrites lists, per client and in all', () => {
    const l = new Ledger();
    acked(l, 'k', 'a', 'm', 'R', 0, 10, 1);
    acked(l, 'k2', 'x', 'm', 'R', 10, 20, 2);
    acked(l, 'k', 'b', 'm', 'R', 20, 30, 3);
    const other = l.add('c2', 1, 'k2', 'y', 0, 4);
    l.settle(other, 'acked', '', 5);
    const helds: Record<string, string>[] = [{}, { k: 'a' }, { k: 'b', k2: 'x' }, { k2: 'y' }];
    for (const held of helds) {
      const v = view('m', null, held);
      const lost = lostWrites(l.entries, v);
      expect(lostWritesCount(l, v, null)).toBe(lost.length);
      for (const c of ['c1', 'c2', 'c3']) expect(lostWritesCount(l, v, c)).toBe(lost.filter((e) => e.client === c).length);
    }
    expect(lostWritesCount(l, view('m', null, {}), null)).toBe(4);
  });
});

describe('causes', () => {
  it('a promotion that forked the history before the write, with writes after the fork and unreplicated ones before it', () => {
    const h = new HistoryLog();
    // r1 promoted at t=100 holding R up to 50; m acked (50,60] before the fork and (60,70] after it; m flushed at t=300.
    h.record('r1', 100, { kind: 'fork', why: 'promotion', fromReplid: 'R', toReplid: 'S', offset: 50 });
    h.record('m', 300, { kind: 'flush', replid: 'R', offset: 70 });
    const l = new Ledger();
    const before = acked(l, 'k1', 'v1', 'm', 'R', 50, 60, 90);
    const after = acked(l, 'k2', 'v2', 'm', 'R', 60, 70, 200);
    const kept = acked(l, 'k0', 'v0', 'm', 'R', 40, 50, 80);
    const master = view('r1', null, { k0: 'v0' }, { replid: 'S', offset: 55 });
    expect(lostWrites(l.entries, master)).toEqual([before, after]);
    expect(attribute(after, master, h)).toMatchObject({ cause: 'promotion', afterFork: true });
    expect(attribute(before, master, h)).toMatchObject({ cause: 'promotion', afterFork: false });
    const groups = lossGroups([before, after], master, h);
    expect(groups.map((g) => g.text)).toEqual([
      'r1 was promoted at 0.00 s holding history R… up to offset 50; m acknowledged this write at offsets 51–60 of history R… before the fork, but it had not reached r1',
      'r1 was promoted at 0.00 s holding history R… up to offset 50; m acknowledged this write at offsets 61–70 of history R… after the fork',
    ]);
    expect(kept.outcome).toBe('acked');
  });

  it('a crash before the promotion is named, not the promotion', () => {
    const h = new HistoryLog();
    h.processDown('m', 100, 'crash', 'R', 70);
    h.record('r1', 200, { kind: 'fork', why: 'promotion', fromReplid: 'R', toReplid: 'S', offset: 50 });
    const l = new Ledger();
    const w = acked(l, 'k', 'v', 'm', 'R', 60, 70, 90);
    const master = view('r1', null, {}, { replid: 'S', offset: 50 });
    expect(attribute(w, master, h)).toMatchObject({ cause: 'crash' });
    expect(lossGroups([w], master, h)[0]!.text).toBe(
      'm crashed at 0.00 s holding history R… up to offset 70; this write acknowledged by m at offsets 61–70 of history R… had not been replicated or persisted',
    );
  });

  it('a full sync that flushed the last node holding the write, after the crash of the first', () => {
    const h = new HistoryLog();
    h.processDown('m', 100, 'crash', 'R', 70);
    h.record('m', 150, { kind: 'fork', why: 'new-id', fromReplid: 'M2', toReplid: 'M3', offset: 0 });
    h.record('r1', 200, { kind: 'flush', replid: 'R', offset: 70 });
    const l = new Ledger();
    const w = acked(l, 'k', 'v', 'm', 'R', 60, 70, 90);
    const master = view('m', null, {}, { replid: 'M3', offset: 0 });
    expect(attribute(w, master, h)).toMatchObject({ cause: 'full-sync', end: { node: 'r1' } });
    // A replica that had only part of the history when it was flushed did not hold this write.
    const h2 = new HistoryLog();
    h2.processDown('m', 100, 'poweroff', 'R', 70);
    h2.record('r1', 200, { kind: 'flush', replid: 'R', offset: 65 });
    expect(attribute(w, master, h2)).toMatchObject({ cause: 'poweroff' });
  });

  it('history across several forks: the bound is the smallest fork offset on the way', () => {
    const h = new HistoryLog();
    h.fork({ node: 'a', atUs: 1, why: 'promotion', fromReplid: 'R', toReplid: 'S', offset: 100 });
    h.fork({ node: 'b', atUs: 2, why: 'promotion', fromReplid: 'S', toReplid: 'T', offset: 80 });
    expect(h.ancestry('T', 500, 'R')).toMatchObject({ bound: 80, fork: { node: 'a' } });
    expect(h.holds('T', 500, 'R', 80)).toBe(true);
    expect(h.holds('T', 500, 'R', 81)).toBe(false);
    expect(h.holds('T', 500, 'X', 1)).toBe(false);
    // A second fork to the same id (a replica's +CONTINUE) does not replace the first.
    h.fork({ node: 'c', atUs: 3, why: 'new-id', fromReplid: 'Q', toReplid: 'S', offset: 5 });
    expect(h.ancestry('S', 500, 'R')).toMatchObject({ bound: 100 });
  });

  it('ledgerReport: per client and totals, and no lost count without a single master', () => {
    const h = new HistoryLog();
    h.processDown('m', 10, 'crash', 'R', 20);
    const l = new Ledger();
    acked(l, 'k1', 'v1', 'm', 'R', 0, 10, 1, 'c1');
    acked(l, 'k2', 'v2', 'm', 'R', 10, 20, 2, 'c2');
    const r = ledgerReport(l, ['c1', 'c2'], [view('m', null, { k1: 'v1' }, { replid: 'Z' })], h);
    expect(r.clients.map((c) => [c.client, c.acked, c.lost])).toEqual([['c1', 1, 0], ['c2', 1, 1]]);
    expect(r.byCause.crash).toBe(1);
    expect(r.total.lost).toBe(1);
    const none = ledgerReport(l, ['c1'], [view('m', null), view('r1', null)], h);
    expect(none.master).toBeNull();
    expect(none.clients[0]!.lost).toBeNull();
    expect(none.masterWhy).toMatch(/no single master/);
  });
});

describe("WAIT's promise", () => {
  it('a write WAIT confirmed on every other node, lost with no crash since, breaks it; a crash since, or fewer acks, does not', () => {
    const l = new Ledger();
    const all = acked(l, 'k1', 'v1', 'm', 'R', 0, 10, 100);
    all.waitAcks = 2;
    const some = acked(l, 'k2', 'v2', 'm', 'R', 10, 20, 100);
    some.waitAcks = 1;
    const none = acked(l, 'k3', 'v3', 'm', 'R', 20, 30, 100);
    const h = new HistoryLog();
    h.processDown('r1', 50, 'crash', 'R', 0); // Before the acks: it does not excuse them.
    expect(brokenWaitPromises([all, some, none], 3, h)).toEqual([all]);
    h.processDown('m', 150, 'poweroff', 'R', 30);
    expect(brokenWaitPromises([all, some, none], 3, h)).toEqual([]);
    h.record('r1', 200, { kind: 'flush', replid: 'R', offset: 30 }); // A flush is not a node failure.
    expect(brokenWaitPromises([all], 3, new HistoryLog())).toEqual([all]);
  });
});
