/**
 * Loading, in the sans-I/O core (FakeHost: the test decides when the load ends) and in the world
 * (how long it takes): the flag checks while loading, the loading_* INFO fields, and the load's
 * duration from the disk read rate, the parse cost per key and key-load-delay.
 */
import { describe, expect, it } from 'vitest';
import { RedisNode } from '../sim/core/node.ts';
import { defaultConfig } from '../sim/core/config.ts';
import { infoFields } from '../sim/core/info.ts';
import type { Reply } from '../sim/core/reply.ts';
import { World, LOAD_PARSE_NS_PER_KEY } from '../sim/world/world.ts';
import { FakeHost } from './support/fake-host.ts';

/** A node booted from `dbfilename` written by another node holding `keys` keys. */
function bootedFromRdb(keys: number): { node: RedisNode; host: FakeHost } {
  const src = new RedisNode('src', new FakeHost(), defaultConfig());
  for (let i = 0; i < keys; i++) src.ks.set(0, `k${i}`, `v${i}`, -1);
  const host = new FakeHost();
  host.files.set('dump.rdb', src.snapshotRdb());
  const node = new RedisNode('n', host, defaultConfig());
  node.start();
  return { node, host };
}

function reply(node: RedisNode, host: FakeHost, ...argv: string[]): Reply {
  const before = host.replies.length;
  node.localCommand(1, argv);
  expect(host.replies.length).toBe(before + 1);
  return host.replies[before]!.reply;
}

describe('loading in the core', () => {
  it('refuses commands without the LOADING flag until the host ends the load', () => {
    const { node, host } = bootedFromRdb(3);
    expect(host.loads).toHaveLength(1);
    expect(host.loads[0]).toMatchObject({ keys: 3 });
    expect(host.loads[0]!.diskBytes).toBe(host.files.get('dump.rdb')!.length);
    const loadingErr = { kind: 'error', text: 'LOADING Redis is loading the dataset in memory' };
    expect(reply(node, host, 'GET', 'k1')).toEqual(loadingErr);
    expect(reply(node, host, 'PING')).toEqual(loadingErr);
    expect(reply(node, host, 'SET', 'a', 'b')).toEqual(loadingErr);
    expect(reply(node, host, 'ECHO', 'x')).toEqual({ kind: 'bulk', value: 'x' });
    const info = infoFields(node);
    expect(info.get('loading')).toBe('1');
    expect(info.get('async_loading')).toBe('0');
    expect(info.get('loading_total_bytes')).toBe(String(host.files.get('dump.rdb')!.length));
    expect(info.get('loading_loaded_bytes')).toBe('0');
    expect(info.get('loading_loaded_perc')).toBe('0.00');
    expect(info.get('loading_eta_seconds')).toBe('1'); // Redis's fake figure while no time passed.
    // MULTI is allowed while loading; an EXEC of a queued GET is not (cmd_inv_flags).
    expect(reply(node, host, 'MULTI')).toEqual({ kind: 'status', text: 'OK' });
    expect(reply(node, host, 'ECHO', 'y')).toEqual({ kind: 'status', text: 'QUEUED' });
    expect(reply(node, host, 'EXEC')).toEqual({ kind: 'array', items: [{ kind: 'bulk', value: 'y' }] });
    node.loadingProgress(100);
    expect(infoFields(node).get('loading_loaded_bytes')).toBe('100');
    node.loadingDone();
    expect(infoFields(node).get('loading')).toBe('0');
    expect(infoFields(node).has('loading_total_bytes')).toBe(false);
    expect(reply(node, host, 'GET', 'k1')).toEqual({ kind: 'bulk', value: 'v1' });
    expect(reply(node, host, 'PING')).toEqual({ kind: 'status', text: 'PONG' });
  });

  it('a node with nothing on its disk does not load', () => {
    const host = new FakeHost();
    const node = new RedisNode('n', host, defaultConfig());
    node.start();
    expect(host.loads).toHaveLength(0);
    expect(node.loading).toBeNull();
  });
});

describe('loading in the world', () => {
  it('lasts size / disk read rate + keys x parse cost + keys x key-load-delay', () => {
    const world = new World({ seed: 1, trace: null, checks: false });
    const cfg = { ...defaultConfig(), keyLoadDelayUs: 50 };
    const slot = world.addNode('m', cfg, { writeBytesPerSec: 1e9, readBytesPerSec: 1e6 });
    // A dump of 2000 keys on m's disk.
    const src = new RedisNode('src', new FakeHost(), defaultConfig());
    for (let i = 0; i < 2000; i++) src.ks.set(0, `key:${i}`, 'x'.repeat(100), -1);
    const rdb = src.snapshotRdb();
    slot.writeFile('dump.rdb', rdb);
    slot.start();
    const startUs = world.nowUs;
    expect(slot.node!.loading).not.toBeNull();
    const expectedUs = (rdb.length * 1e6) / 1e6 + 2000 * (LOAD_PARSE_NS_PER_KEY / 1000 + 50);
    world.engine.runUntilOr(() => slot.node!.loading === null, startUs + 10e6);
    expect(slot.node!.loading).toBeNull();
    expect(Math.abs(world.nowUs - startUs - expectedUs)).toBeLessThanOrEqual(1);
    // A command sent during a load under 2 MB waits for its end (no progress step serves it), and
    // then runs normally, as in Redis after stopLoading(): the event loop serves it.
    slot.stop('crash');
    slot.start();
    let answeredAtUs = -1;
    let answer: Reply | null = null;
    const sentAtUs = world.nowUs;
    slot.command(world.newClientId(), ['GET', 'key:1'], (r) => {
      answer = r;
      answeredAtUs = world.nowUs;
    });
    expect(answer).toBeNull();
    world.engine.runUntilOr(() => answer !== null, sentAtUs + 10e6);
    expect(answer).toEqual({ kind: 'bulk', value: 'x'.repeat(100) });
    expect(Math.abs(answeredAtUs - sentAtUs - expectedUs)).toBeLessThanOrEqual(1);
  });
});
