/**
 * Writes that edit an entry in place (keyspace.ts: an entry made since the last clone()) must
 * never show in a clone, whichever command writes; the byte count and the expiry index stay
 * exact either way, and commands that reply the old value still do.
 */
import { describe, expect, it } from 'vitest';
import { Keyspace } from '../sim/core/keyspace.ts';
import type { DataContext } from '../sim/core/keyspace.ts';
import { dataCommands } from '../sim/core/commands.ts';
import type { Reply } from '../sim/core/reply.ts';
import { bulk } from '../sim/core/reply.ts';

const NOW_MS = 1_767_225_600_000;

function run(ks: Keyspace, ...argv: string[]): Reply {
  const ctx: DataContext = { ks, db: 0, nowMs: NOW_MS, view: 'master', propagate: () => {} };
  return dataCommands.get(argv[0]!.toLowerCase())!.run(ctx, argv);
}

/** Every (key, value, has-expiry) of db 0, and the byte count recomputed from scratch. */
function dump(ks: Keyspace): { rows: [string, string, number][]; bytes: number } {
  const rows: [string, string, number][] = [];
  let bytes = 0;
  for (const [key, e] of ks.dbs[0]!) {
    rows.push([key, e.value, e.expireAtMs]);
    bytes += key.length + e.value.length;
  }
  return { rows, bytes };
}

// Each write, applied to key `k` holding "10" (made after the clone or before it).
const WRITES: string[][] = [
  ['SET', 'k', 'new value'],
  ['SET', 'k', 'v', 'PX', '5000'],
  ['SET', 'k', 'kept', 'KEEPTTL'],
  ['SETRANGE', 'k', '1', 'xyz'],
  ['APPEND', 'k', 'tail'],
  ['INCR', 'k'],
  ['DECRBY', 'k', '7'],
  ['INCRBYFLOAT', 'k', '1.5'],
  ['GETSET', 'k', 'other'],
  ['MSET', 'k', 'm1', 'k2', 'm2'],
  ['PEXPIRE', 'k', '9000'],
  ['PERSIST', 'k'],
  ['GETEX', 'k', 'PX', '100'],
];

describe('keyspace: in-place writes and clone()', () => {
  for (const write of WRITES) {
    it(`${write.join(' ')}: a clone keeps what it saw, before and after a further write`, () => {
      const ks = new Keyspace();
      run(ks, 'SET', 'k', '10', 'PX', '60000'); // made now: editable until a clone
      run(ks, 'SET', 'k', '10'); // an edit in place (and the expiry dropped)
      run(ks, 'PEXPIRE', 'k', '60000');
      const snap = ks.clone();
      const seen = dump(snap);
      run(ks, ...write); // the entry is shared: replaced, not edited
      run(ks, ...write); // the replacement is ours alone: edited in place
      expect(dump(snap)).toEqual(seen);
      expect(seen.rows).toEqual([['k', '10', NOW_MS + 60000]]);
      expect(snap.totalBytes()).toBe(seen.bytes);
      expect(ks.totalBytes()).toBe(dump(ks).bytes);
      expect(ks.expiresCount(0)).toBe(dump(ks).rows.filter((r) => r[2] !== -1).length);
      // And the other way round: writes to the clone do not reach the original.
      const mine = dump(ks);
      run(snap, ...write);
      run(snap, ...write);
      expect(dump(ks)).toEqual(mine);
      expect(snap.totalBytes()).toBe(dump(snap).bytes);
    });
  }

  it('a second clone, and a clone of a clone, freeze the entries edited since', () => {
    const ks = new Keyspace();
    ks.set(0, 'a', 'one', -1);
    const first = ks.clone();
    ks.set(0, 'a', 'two', -1);
    ks.set(0, 'a', 'three', -1); // in place
    const second = ks.clone();
    const third = second.clone();
    ks.set(0, 'a', 'four', -1);
    second.set(0, 'a', 'five', -1);
    second.set(0, 'a', 'six', -1);
    expect([first, second, third, ks].map((x) => x.get(0, 'a')!.value)).toEqual(['one', 'six', 'three', 'four']);
    expect([first, second, third, ks].map((x) => x.totalBytes())).toEqual([4, 4, 6, 5]);
  });

  it('GETSET and SET GET reply the old value when the entry is edited in place', () => {
    const ks = new Keyspace();
    run(ks, 'SET', 'k', 'old');
    expect(run(ks, 'GETSET', 'k', 'mid')).toEqual(bulk('old'));
    expect(run(ks, 'SET', 'k', 'new', 'GET')).toEqual(bulk('mid'));
    expect(ks.get(0, 'k')!.value).toBe('new');
    expect(ks.totalBytes()).toBe(4);
  });

  it('an edit in place keeps the expiry index exact (set, drop, set again)', () => {
    const ks = new Keyspace();
    ks.set(0, 'k', 'v', NOW_MS + 1);
    ks.set(0, 'k', 'v', -1);
    expect(ks.expiresCount(0)).toBe(0);
    ks.set(0, 'k', 'vv', NOW_MS + 2);
    expect([ks.expiresCount(0), [...ks.keysWithExpiry(0)], ks.get(0, 'k')!.expireAtMs, ks.totalBytes()]).toEqual([1, ['k'], NOW_MS + 2, 3]);
    ks.set(0, 'k', 'big', 1n << 62n); // beyond 2^53: a new entry with its exact expiry
    expect(ks.get(0, 'k')!.expireAtBig).toBe(1n << 62n);
    ks.set(0, 'k', 'x', -1);
    expect([ks.expiresCount(0), ks.get(0, 'k')!.expireAtBig, ks.totalBytes()]).toEqual([0, undefined, 2]);
  });
});
