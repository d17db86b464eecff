/**
 * The master's PSYNC decision, masterTryPartialResynchronization's rule as worked examples, one test each:
 * master replid=B, replid2=A, second_replid_offset=1001, backlog covering 900..1500,
 * master_repl_offset=1500.
 */
import { describe, it, expect } from 'vitest';
import { RedisNode } from '../sim/core/node.ts';
import { defaultConfig } from '../sim/core/config.ts';
import { Backlog } from '../sim/core/backlog.ts';
import { encodeCommand } from '../sim/core/resp.ts';
import { FakeHost } from './support/fake-host.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

function masterAt1500(): { node: RedisNode; host: FakeHost } {
  const host = new FakeHost();
  const node = new RedisNode('m', host, defaultConfig());
  node.replid = B;
  node.replid2 = A;
  node.secondReplidOffset = 1001;
  node.backlog = new Backlog(601, 899);
  node.backlog.append(Buffer.alloc(601, 0x78));
  node.masterReplOffset = 1500;
  return { node, host };
}

function psync(replid: string, offset: string): { node: RedisNode; host: FakeHost; out: string } {
  const { node, host } = masterAt1500();
  const conn = 7;
  node.accepted(conn, 'r1');
  node.received(conn, encodeCommand(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']));
  node.beforeSleep();
  host.sent = [];
  node.received(conn, encodeCommand(['PSYNC', replid, offset]));
  node.beforeSleep();
  return { node, host, out: host.sentOn(conn) };
}

describe('psync: decision table (masterTryPartialResynchronization)', () => {
  it('PSYNC B 1501: caught up, accepted with 0 bytes', () => {
    const { node, out } = psync(B, '1501');
    expect(out).toBe(`+CONTINUE ${B}\r\n`);
    expect(node.statSyncPartialOk).toBe(1);
    expect(node.statSyncFull).toBe(0);
  });
  it('PSYNC B 1200: accepted with 301 bytes', () => {
    const { node, out } = psync(B, '1200');
    expect(out).toBe(`+CONTINUE ${B}\r\n` + 'x'.repeat(301));
    expect(node.statSyncPartialOk).toBe(1);
  });
  it('PSYNC B 899: below the backlog, full resync', () => {
    const { node } = psync(B, '899');
    expect(node.statSyncPartialOk).toBe(0);
    expect(node.statSyncPartialErr).toBe(1);
    expect(node.statSyncFull).toBe(1);
  });
  it('PSYNC B 1502: ahead of the master, full resync', () => {
    const { node } = psync(B, '1502');
    expect(node.statSyncPartialErr).toBe(1);
    expect(node.statSyncFull).toBe(1);
  });
  it('PSYNC A 1001: the previous history up to its end, accepted with 500 bytes and +CONTINUE B', () => {
    const { node, out } = psync(A, '1001');
    expect(out).toBe(`+CONTINUE ${B}\r\n` + 'x'.repeat(500));
    expect(node.statSyncPartialOk).toBe(1);
  });
  it('PSYNC A 1002: a byte of A the master never had, full resync', () => {
    const { node, host } = psync(A, '1002');
    expect(node.statSyncPartialErr).toBe(1);
    expect(node.statSyncFull).toBe(1);
    const decision = host.events.find((e) => e.kind === 'psync-decision');
    expect(decision && decision.kind === 'psync-decision' && decision.reason).toContain('can reply up to 1001');
  });
  it('PSYNC A 950: accepted via replid2', () => {
    const { node, out } = psync(A, '950');
    expect(out).toBe(`+CONTINUE ${B}\r\n` + 'x'.repeat(551));
    expect(node.statSyncPartialOk).toBe(1);
  });
  it('PSYNC C 1200: replid mismatch, full resync', () => {
    const { node } = psync(C, '1200');
    expect(node.statSyncPartialErr).toBe(1);
    expect(node.statSyncFull).toBe(1);
  });
  it('PSYNC ? -1: a full resync that is not a failed partial', () => {
    const { node } = psync('?', '-1');
    expect(node.statSyncPartialErr).toBe(0);
    expect(node.statSyncFull).toBe(1);
  });
  it('PSYNC B abc: -ERR and no sync at all (fix #10243)', () => {
    const { node, out } = psync(B, 'abc');
    expect(out).toBe('-ERR value is not an integer or out of range\r\n');
    expect(node.statSyncFull).toBe(0);
    expect(node.replicas.length).toBe(0);
  });
  it('upper-case replid is accepted (case-insensitive compare)', () => {
    const { node } = psync(B.toUpperCase(), '1200');
    expect(node.statSyncPartialOk).toBe(1);
  });
  it('a replica whose own link is down refuses with -NOMASTERLINK', () => {
    const host = new FakeHost();
    const node = new RedisNode('r', host, defaultConfig());
    node.localCommand(1, ['REPLICAOF', 'm', '6379']);
    node.accepted(9, 'sub');
    node.received(9, encodeCommand(['PSYNC', '?', '-1']));
    node.beforeSleep();
    expect(host.sentOn(9)).toBe("-NOMASTERLINK Can't SYNC while not connected with my master\r\n");
  });
});
