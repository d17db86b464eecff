/**
 * Pub/sub and CLIENT on the data node, byte for byte against real redis-server 7.0.15: three
 * raw connections run the same script on a real server and on a sans-I/O RedisNode (FakeHost),
 * and every connection's received bytes and closed/open state must be identical after each step.
 * Then CONFIG REWRITE: a repointed node keeps its new master across a restart in the world.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { readFileSync } from 'node:fs';
import { RedisNode } from '../sim/core/node.ts';
import { defaultConfig } from '../sim/core/config.ts';
import { globMatch } from '../sim/core/pubsub.ts';
import { FakeHost } from './support/fake-host.ts';
import { encodeRequest, haveRedisServer, sleepMs, startRedis, stopAllRedis } from './support/real-redis.ts';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';

afterAll(() => stopAllRedis());

/** [connection index, argv]; the replies each connection gets are compared after every step. */
const SCRIPT: Array<[number, string[]]> = [
  [0, ['SUBSCRIBE', 'ch1']],
  [1, ['PSUBSCRIBE', 'ch*']],
  [2, ['PUBLISH', 'ch1', 'hello']],
  [2, ['PUBLISH', 'other', 'x']],
  [0, ['PING']],
  [0, ['PING', 'x']],
  [0, ['GET', 'k']],
  [0, ['SUBSCRIBE', 'ch1']],
  [0, ['UNSUBSCRIBE', 'ch1']],
  [0, ['UNSUBSCRIBE']],
  [1, ['PUNSUBSCRIBE', 'nope']],
  [1, ['PSUBSCRIBE', 'ch*']],
  [2, ['PUBLISH', 'ch1', 'again']],
  [2, ['SUBSCRIBE']],
  [2, ['PUBSUB', 'NUMPAT']],
  [2, ['PUBSUB', 'NUMSUB', 'ch1']],
  [2, ['CLIENT', 'SETNAME', 'sentinel-0bd7dc3b-cmd']],
  [2, ['CLIENT', 'GETNAME']],
  [2, ['CLIENT', 'SETNAME', 'a b']],
  [2, ['CLIENT', 'SETNAME']],
  [2, ['CLIENT', 'KILL', 'TYPE', 'bogus']],
  [2, ['CLIENT', 'KILL', 'ID', '0']],
  [2, ['CLIENT', 'KILL', 'SKIPME', 'maybe']],
  [2, ['CLIENT', 'KILL', '10.0.0.1:5']],
  [2, ['CLIENT', 'KILL', 'TYPE']],
  [2, ['CLIENT', 'KILL', 'ADDR', '10.0.0.1:5']],
  [2, ['MULTI']],
  [2, ['CLIENT', 'KILL', 'TYPE', 'pubsub']],
  [2, ['CLIENT', 'KILL', 'TYPE', 'normal']],
  [2, ['EXEC']],
  [2, ['PUBLISH', 'ch1', 'nobody']],
  [2, ['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']],
  [2, ['PING']],
];

describe('pub/sub and CLIENT match redis-server 7.0.15 byte for byte', () => {
  it.skipIf(!haveRedisServer)('the same script gives the same bytes on every connection', async () => {
    const server = await startRedis();
    const socks: net.Socket[] = [];
    try {
      // Real side.
      const realOut = ['', '', ''];
      const realClosed = [false, false, false];
      for (let i = 0; i < 3; i++) {
        const s = net.connect(server.port, '127.0.0.1');
        await new Promise<void>((r) => s.once('connect', () => r()));
        s.on('data', (d) => (realOut[i] += d.toString('latin1')));
        s.on('close', () => (realClosed[i] = true));
        socks.push(s);
      }
      // Simulated side.
      const host = new FakeHost();
      const node = new RedisNode('m', host, defaultConfig());
      node.start();
      for (let i = 0; i < 3; i++) node.accepted(i + 1, 'client');
      node.accepted(99, 'client'); // The real server also has startRedis's own client connection.
      for (const [step, [who, argv]] of SCRIPT.entries()) {
        socks[who]!.write(encodeRequest(argv));
        node.received(who + 1, encodeRequest(argv));
        node.beforeSleep();
        await sleepMs(40);
        for (let i = 0; i < 3; i++) {
          const what = `step ${step} (${argv.join(' ')}), connection ${i}`;
          expect(host.sentOn(i + 1), what).toBe(realOut[i]);
          expect(host.closedConns.includes(i + 1), what).toBe(realClosed[i]);
        }
      }
      // The script must have exercised deliveries and kills, or it proves nothing.
      expect(realOut[0]).toContain('message');
      expect(realOut[1]).toContain('pmessage');
      expect(realClosed[0] && realClosed[1] && !realClosed[2]).toBe(true);
    } finally {
      for (const s of socks) s.destroy();
      server.stop();
    }
  }, 30_000);

  it('globMatch follows stringmatchlen', () => {
    expect(globMatch('ch*', 'ch1')).toBe(true);
    expect(globMatch('ch?', 'ch12')).toBe(false);
    expect(globMatch('h[ae]llo', 'hello')).toBe(true);
    expect(globMatch('h[^e]llo', 'hello')).toBe(false);
    expect(globMatch('h[a-c]llo', 'hbllo')).toBe(true);
    expect(globMatch('a\\*b', 'a*b')).toBe(true);
    expect(globMatch('a\\*b', 'axb')).toBe(false);
    expect(globMatch('*', '')).toBe(true);
  });

  for (const file of ['scenarios/features/pubsub-publish-propagates.scn', 'scenarios/features/config-rewrite-restart.scn']) {
    it(`${file} passes`, () => {
      const source = readFileSync(file, 'utf8');
      const r = runScenario(parseScenario(source, file), { trace: null, file, source });
      expect(r.checks.filter((c) => !c.ok).map((c) => `${c.line}: ${c.text} ${c.detail}`)).toEqual([]);
      expect(r.passed).toBeGreaterThan(3);
    });
  }
});
