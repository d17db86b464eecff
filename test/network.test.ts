import { describe, it, expect } from 'vitest';
import { performance } from 'node:perf_hooks';
import { Engine } from '../sim/engine/engine.ts';
import { RandomStreams } from '../sim/engine/random.ts';
import { AssertionError } from '../sim/assert.ts';
import { Network, linkDefault, networkOptionsDefault, networkOptionsNoSplit } from '../sim/net/network.ts';
import type { NetworkOptions, SocketId, SocketOwner } from '../sim/net/network.ts';

const PORT = 6379;

type Ev =
  | { atUs: number; host: string; kind: 'accepted'; sock: SocketId; peer: string }
  | { atUs: number; host: string; kind: 'connected'; sock: SocketId }
  | { atUs: number; host: string; kind: 'refused'; sock: SocketId }
  | { atUs: number; host: string; kind: 'data'; sock: SocketId; len: number }
  | { atUs: number; host: string; kind: 'eof' | 'reset'; sock: SocketId };

/** A host owner that records everything (and optionally reacts). */
class Recorder implements SocketOwner {
  private readonly chunks = new Map<SocketId, Uint8Array[]>();
  onAccepted: ((sock: SocketId) => void) | null = null;
  onConnected: ((sock: SocketId) => void) | null = null;
  constructor(private readonly sim: Sim, readonly name: string) {}
  accepted(sock: SocketId, listenPort: number, peerHost: string): void {
    expect(listenPort).toBe(PORT);
    this.sim.log({ atUs: this.sim.engine.nowUs, host: this.name, kind: 'accepted', sock, peer: peerHost });
    this.onAccepted?.(sock);
  }
  connected(sock: SocketId): void {
    this.sim.log({ atUs: this.sim.engine.nowUs, host: this.name, kind: 'connected', sock });
    this.onConnected?.(sock);
  }
  connectFailed(sock: SocketId): void {
    this.sim.log({ atUs: this.sim.engine.nowUs, host: this.name, kind: 'refused', sock });
  }
  data(sock: SocketId, bytes: Uint8Array): void {
    this.sim.log({ atUs: this.sim.engine.nowUs, host: this.name, kind: 'data', sock, len: bytes.length });
    let list = this.chunks.get(sock);
    if (list === undefined) this.chunks.set(sock, (list = []));
    list.push(bytes);
  }
  /** Everything received on sock, concatenated. */
  got(sock: SocketId): Buffer {
    return Buffer.concat(this.chunks.get(sock) ?? []);
  }
  closed(sock: SocketId, reason: 'eof' | 'reset'): void {
    this.sim.log({ atUs: this.sim.engine.nowUs, host: this.name, kind: reason, sock });
  }
}

class Sim {
  readonly engine = new Engine();
  readonly net: Network;
  readonly events: Ev[] = [];
  readonly hosts = new Map<string, Recorder>();
  constructor(seed: number | string, options: NetworkOptions = networkOptionsNoSplit, names = ['a', 'b', 'c']) {
    this.net = new Network(this.engine, new RandomStreams(seed).stream('network'), options);
    for (const n of names) {
      const r = new Recorder(this, n);
      this.hosts.set(n, r);
      this.net.addHost(n, r);
    }
  }
  log(ev: Ev): void {
    this.events.push(ev);
  }
  of(host: string): Ev[] {
    return this.events.filter((e) => e.host === host);
  }
  rec(host: string): Recorder {
    return this.hosts.get(host)!;
  }
  /** Connect a → b (b listening) and run until both sides know; returns [clientSock, serverSock]. */
  pair(from = 'a', to = 'b'): [SocketId, SocketId] {
    if (!this.net.isListening(to, PORT)) this.net.listen(to, PORT);
    const c = this.net.connect(from, to, PORT);
    let s = -1;
    this.engine.runUntilOr(() => this.events.some((e) => e.kind === 'connected' && e.sock === c), this.engine.nowUs + 1_000_000);
    for (const e of this.events) if (e.kind === 'accepted' && e.host === to) s = e.sock;
    expect(s).toBeGreaterThan(0);
    this.events.length = 0;
    return [c, s];
  }
}

function pattern(n: number, salt: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + salt * 7) & 0xff;
  return out;
}

describe('net: connect', () => {
  it('net: connect: accepted after one latency, connected after the round trip', () => {
    const sim = new Sim(1);
    sim.net.listen('b', PORT);
    const c = sim.net.connect('a', 'b', PORT);
    sim.engine.runUntil(10_000);
    expect(sim.events).toEqual([
      { atUs: 1000, host: 'b', kind: 'accepted', sock: expect.any(Number), peer: 'a' },
      { atUs: 2000, host: 'a', kind: 'connected', sock: c },
    ]);
    expect(sim.net.connectionsOf('a')).toEqual([{ sock: c, peerHost: 'b', state: 'open', side: 'client' }]);
  });

  it('net: connect: nothing listening → refused after the round trip', () => {
    const sim = new Sim(1);
    const c = sim.net.connect('a', 'b', PORT);
    sim.engine.runUntil(10_000);
    expect(sim.events).toEqual([{ atUs: 2000, host: 'a', kind: 'refused', sock: c }]);
    sim.net.close(c); // Releasing a dead id is allowed.
    expect(() => sim.net.close(c)).toThrow(AssertionError);
  });

  it('net: connect: crashed process (machine up) → refused; powered off → no answer ever', () => {
    const sim = new Sim(1);
    sim.net.listen('b', PORT);
    sim.net.listen('c', PORT);
    sim.net.crashHost('b');
    sim.net.poweroffHost('c');
    const cb = sim.net.connect('a', 'b', PORT);
    const cc = sim.net.connect('a', 'c', PORT);
    sim.engine.runUntil(60_000_000);
    expect(sim.events).toEqual([{ atUs: 2000, host: 'a', kind: 'refused', sock: cb }]);
    sim.net.close(cc); // The client gives up, as Redis does on its connect timeout.
    sim.net.hostUp('c');
    sim.net.listen('c', PORT);
    const again = sim.net.connect('a', 'c', PORT);
    sim.engine.runUntil(sim.engine.nowUs + 10_000);
    expect(sim.of('a')).toEqual([
      { atUs: 2000, host: 'a', kind: 'refused', sock: cb },
      { atUs: 60_002_000, host: 'a', kind: 'connected', sock: again },
    ]);
  });

  it('net: connect: across a partition → no answer while it lasts; the held SYN completes after the heal', () => {
    const sim = new Sim(1);
    sim.net.listen('b', PORT);
    sim.net.partition([['a'], ['b']]);
    const c = sim.net.connect('a', 'b', PORT);
    sim.engine.runUntil(5_000_000);
    expect(sim.events).toEqual([]);
    expect(sim.net.connectionsOf('a')).toEqual([{ sock: c, peerHost: 'b', state: 'connecting', side: 'client' }]);
    sim.net.heal();
    sim.engine.runUntil(10_000_000);
    // Released one latency after the heal, as TCP's SYN retransmission would (without its backoff).
    expect(sim.events.map((e) => `${e.atUs} ${e.host} ${e.kind}`)).toEqual(['5001000 b accepted', '5002000 a connected']);
  });

  it('net: connect: a client that gave up during the partition resets the side its late SYN opened', () => {
    const sim = new Sim(1);
    sim.net.listen('b', PORT);
    sim.net.partition([['a'], ['b']]);
    const c = sim.net.connect('a', 'b', PORT);
    sim.engine.runUntil(1_000_000);
    sim.net.close(c);
    sim.net.heal();
    sim.engine.runUntil(2_000_000);
    expect(sim.events.map((e) => `${e.host} ${e.kind}`)).toEqual(['b accepted', 'b reset']);
    expect(sim.net.connectionsOf('a')).toEqual([]);
  });

  it('net: connect: a client that gives up before the SYN-ACK resets the accepted side', () => {
    const sim = new Sim(1);
    sim.net.listen('b', PORT);
    const c = sim.net.connect('a', 'b', PORT);
    sim.engine.runUntil(1500); // b accepted at 1000; the SYN-ACK is in flight.
    sim.net.close(c);
    sim.engine.runUntil(10_000);
    expect(sim.events.map((e) => `${e.atUs} ${e.host} ${e.kind}`)).toEqual(['1000 b accepted', '3000 b reset']);
  });

  it('net: connect: bytes sent from accepted() arrive after connected()', () => {
    const sim = new Sim(1);
    sim.rec('b').onAccepted = (s) => sim.net.send(s, pattern(5, 1));
    sim.net.listen('b', PORT);
    sim.net.connect('a', 'b', PORT);
    sim.engine.runUntil(10_000);
    expect(sim.of('a').map((e) => `${e.atUs} ${e.kind}`)).toEqual(['2000 connected', '2001 data']);
  });
});

describe('net: timing', () => {
  it('net: timing: latency + serialization, FIN after the data', () => {
    const sim = new Sim(1);
    const [c, s] = sim.pair();
    const t0 = sim.engine.nowUs;
    sim.net.send(c, pattern(10, 0)); // 80 bits at 1 Gbit/s: 0.08 µs, rounded up to 1.
    sim.net.close(c);
    sim.engine.runUntil(t0 + 10_000);
    expect(sim.events).toEqual([
      { atUs: t0 + 1001, host: 'b', kind: 'data', sock: s, len: 10 },
      { atUs: t0 + 1001, host: 'b', kind: 'eof', sock: s },
    ]);
  });

  it('net: timing: 1 MB over 8 Mbit/s takes about 1 s', () => {
    const sim = new Sim(1);
    sim.net.setLink('a', 'b', { ...linkDefault, bandwidthBitsPerSec: 8_000_000 });
    const [c, s] = sim.pair();
    const t0 = sim.engine.nowUs;
    sim.net.send(c, pattern(1_000_000, 3));
    sim.engine.runUntil(t0 + 5_000_000);
    const data = sim.of('b').filter((e) => e.kind === 'data');
    expect(data.reduce((n, e) => n + (e.kind === 'data' ? e.len : 0), 0)).toBe(1_000_000);
    expect(data.length).toBe(Math.ceil(1_000_000 / (16 * 1024)));
    expect(data[0].atUs).toBe(t0 + 16_384 + 1000); // 16 KiB at 1 byte/µs, plus latency.
    expect(data[data.length - 1].atUs).toBe(t0 + 1_000_000 + 1000);
    expect(sim.rec('b').got(s).equals(pattern(1_000_000, 3))).toBe(true);
  });

  it('net: timing: a link change applies to later sends; other links keep the default', () => {
    const sim = new Sim(1);
    const [ab] = sim.pair('a', 'b');
    const [cb] = sim.pair('c', 'b');
    sim.net.setLink('b', 'a', { latencyUs: 50_000, jitterUs: 0, bandwidthBitsPerSec: 1e9 });
    const t0 = sim.engine.nowUs;
    sim.net.send(ab, pattern(1, 0));
    sim.net.send(cb, pattern(1, 0));
    sim.engine.runUntil(t0 + 100_000);
    expect(sim.events.map((e) => e.atUs - t0)).toEqual([1001, 50_001]);
  });
});

describe('net: ordering and chunking', () => {
  for (const [label, options] of [
    ['whole segments', networkOptionsNoSplit],
    ['random splits', { segmentBytesMax: 700, segmentSplitProbability: 0.5 }],
    ['byte by byte', { segmentBytesMax: 1, segmentSplitProbability: 0 }],
  ] as const) {
    it(`net: ordering: heavy jitter never reorders bytes (${label}), for many seeds`, () => {
      for (let seed = 1; seed <= 12; seed++) {
        const sim = new Sim(seed, options);
        sim.net.setDefaultLink({ latencyUs: 1000, jitterUs: 20_000, bandwidthBitsPerSec: 100e6 });
        const [c, s] = sim.pair();
        const work = new RandomStreams(seed).stream('workload');
        const sent: Uint8Array[] = [];
        const sendsAt: number[] = [];
        for (let i = 0; i < 200; i++) sendsAt.push(sim.engine.nowUs + work.int(100_000));
        for (const at of sendsAt) {
          const bytes = work.bytes(work.between(1, label === 'byte by byte' ? 20 : 3000));
          sim.engine.scheduleAt(at, () => {
            sent.push(bytes.slice());
            sim.net.send(c, bytes);
          });
        }
        sim.engine.scheduleAt(sim.engine.nowUs + 100_001, () => sim.net.close(c));
        sim.engine.runUntil(sim.engine.nowUs + 10_000_000);
        expect(sim.rec('b').got(s).equals(Buffer.concat(sent))).toBe(true);
        const last = sim.of('b').at(-1)!;
        expect(last.kind).toBe('eof');
        const times = sim.of('b').map((e) => e.atUs);
        expect([...times].sort((x, y) => x - y)).toEqual(times);
      }
    });
  }

  it('net: chunking: the default options split some sends into partial deliveries', () => {
    const sim = new Sim(5, networkOptionsDefault);
    const [c, s] = sim.pair();
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 500; i++) {
      const bytes = pattern(100, i);
      sent.push(bytes.slice());
      sim.net.send(c, bytes);
    }
    sim.engine.runUntil(sim.engine.nowUs + 1_000_000);
    const lens = sim.of('b').map((e) => (e.kind === 'data' ? e.len : -1));
    expect(lens.some((n) => n < 100)).toBe(true);
    expect(lens.length).toBeGreaterThan(500);
    expect(lens.length).toBeLessThan(1000);
    expect(sim.rec('b').got(s).equals(Buffer.concat(sent))).toBe(true);
  });
});

describe('net: partitions', () => {
  it('net: partition: data and FIN are held, then released in order one latency after heal', () => {
    const sim = new Sim(1);
    const [c, s] = sim.pair();
    const t0 = sim.engine.nowUs;
    sim.net.partition([['a'], ['b']]);
    sim.net.send(c, pattern(300, 1));
    sim.net.send(c, pattern(200, 2));
    sim.net.close(c);
    sim.engine.runUntil(t0 + 5_000_000);
    expect(sim.events).toEqual([]);
    expect(sim.net.stats.chunksHeld).toBe(1);
    sim.net.heal();
    sim.engine.runUntil(t0 + 6_000_000);
    expect(sim.events.map((e) => `${e.atUs - t0} ${e.host} ${e.kind}`)).toEqual([
      '5001000 b data', '5001000 b data', '5001000 b eof',
    ]);
    expect(sim.rec('b').got(s).equals(Buffer.concat([pattern(300, 1), pattern(200, 2)]))).toBe(true);
  });

  it('net: partition: bytes already delivered stay; a chunk in flight when it starts is held', () => {
    const sim = new Sim(1);
    const [c] = sim.pair();
    const t0 = sim.engine.nowUs;
    sim.net.send(c, pattern(10, 0));
    sim.engine.runUntil(t0 + 500); // In flight.
    sim.net.partition([['a'], ['b']]);
    sim.engine.runUntil(t0 + 2_000);
    expect(sim.events).toEqual([]);
    sim.net.healGroups([['a'], ['b']]);
    sim.engine.runUntil(t0 + 10_000);
    expect(sim.events.map((e) => e.atUs - t0)).toEqual([3000]);
  });

  it('net: partition: hosts in no group are unaffected', () => {
    const sim = new Sim(1);
    const [ac] = sim.pair('a', 'c');
    const [bc] = sim.pair('b', 'c');
    const [ab] = sim.pair('a', 'b');
    sim.net.partition([['a'], ['b']]);
    for (const sock of [ac, bc, ab]) sim.net.send(sock, pattern(1, 0));
    sim.engine.runUntil(sim.engine.nowUs + 100_000);
    expect(sim.events.map((e) => `${e.host} ${e.kind}`)).toEqual(['c data', 'c data']);
  });

  it('net: partition: one way holds only that direction', () => {
    const sim = new Sim(1);
    const [c, s] = sim.pair();
    const t0 = sim.engine.nowUs;
    sim.net.partitionOneWay('a', 'b');
    expect(sim.net.isBlocked('a', 'b')).toBe(true);
    expect(sim.net.isBlocked('b', 'a')).toBe(false);
    sim.net.send(c, pattern(7, 0));
    sim.net.send(s, pattern(9, 0));
    sim.engine.runUntil(t0 + 1_000_000);
    expect(sim.events.map((e) => `${e.atUs - t0} ${e.host} ${e.kind}`)).toEqual(['1001 a data']);
    sim.net.healOneWay('a', 'b');
    sim.engine.runUntil(t0 + 2_000_000);
    expect(sim.events.map((e) => `${e.atUs - t0} ${e.host} ${e.kind}`)).toEqual(['1001 a data', '1001000 b data']);
  });

  it('net: partition: partitions are counted; healing one leaves the other in force', () => {
    const sim = new Sim(1);
    const [c] = sim.pair();
    sim.net.partition([['a'], ['b']]);
    sim.net.partitionOneWay('a', 'b');
    sim.net.healGroups([['a'], ['b']]);
    expect(sim.net.isBlocked('a', 'b')).toBe(true);
    expect(sim.net.isBlocked('b', 'a')).toBe(false);
    sim.net.send(c, pattern(3, 0));
    sim.engine.runUntil(sim.engine.nowUs + 100_000);
    expect(sim.events).toEqual([]);
    sim.net.heal();
    sim.engine.runUntil(sim.engine.nowUs + 100_000);
    expect(sim.events.map((e) => e.kind)).toEqual(['data']);
  });
});

describe('net: faults', () => {
  it('net: kill-link: both owners see reset now; in-flight bytes are dropped; later sends are harmless', () => {
    const sim = new Sim(1);
    const [c, s] = sim.pair();
    const [other] = sim.pair('a', 'c');
    const t0 = sim.engine.nowUs;
    sim.net.send(c, pattern(100, 0));
    sim.net.send(s, pattern(100, 0));
    sim.engine.runUntil(t0 + 500);
    sim.net.killLink('a', 'b');
    expect(sim.events).toEqual([
      { atUs: t0 + 500, host: 'a', kind: 'reset', sock: c },
      { atUs: t0 + 500, host: 'b', kind: 'reset', sock: s },
    ]);
    sim.net.send(c, pattern(5, 0)); // The owner was told; writing is not a bug.
    sim.net.send(other, pattern(5, 0));
    sim.engine.runUntil(t0 + 100_000);
    expect(sim.events.slice(2).map((e) => `${e.host} ${e.kind}`)).toEqual(['c data']);
    sim.net.close(c);
    sim.net.close(s);
    expect(sim.net.connectionsOf('b')).toEqual([]);
  });

  it('net: kill-link: a connect under way fails; new connects work', () => {
    const sim = new Sim(1);
    sim.net.listen('b', PORT);
    const c = sim.net.connect('a', 'b', PORT);
    sim.engine.runUntil(500);
    sim.net.killLink('b', 'a');
    expect(sim.events).toEqual([{ atUs: 500, host: 'a', kind: 'refused', sock: c }]);
    sim.engine.runUntil(10_000);
    expect(sim.events.length).toBe(1); // The SYN died with the link: b never accepted.
    sim.pair();
  });

  it('net: abort: the peer sees reset after one latency; undelivered bytes are dropped', () => {
    const sim = new Sim(1);
    sim.net.setLink('a', 'b', { ...linkDefault, bandwidthBitsPerSec: 8_000_000 });
    const [c, s] = sim.pair();
    const t0 = sim.engine.nowUs;
    sim.net.send(c, pattern(10, 0)); // Arrives at +1010.
    sim.net.send(c, pattern(100_000, 0)); // Still serializing when we abort.
    sim.engine.runUntil(t0 + 2000);
    sim.net.abort(c);
    sim.engine.runUntil(t0 + 1_000_000);
    expect(sim.events.map((e) => `${e.atUs - t0} ${e.host} ${e.kind}`)).toEqual(['1010 b data', '3000 b reset']);
    expect(sim.rec('b').got(s).length).toBe(10);
    expect(() => sim.net.send(c, pattern(1, 0))).toThrow(AssertionError);
  });

  it('net: close: data to a socket its owner closed is answered with one RST', () => {
    const sim = new Sim(1);
    const [c, s] = sim.pair();
    const t0 = sim.engine.nowUs;
    sim.net.close(s); // FIN reaches a at +1000.
    sim.net.send(c, pattern(4, 0)); // Crosses the FIN; reaches the closed end at +1001.
    sim.net.send(c, pattern(4, 0));
    sim.engine.runUntil(t0 + 100_000);
    // a sees eof; the RST that follows is not reported twice.
    expect(sim.events.map((e) => `${e.atUs - t0} ${e.host} ${e.kind}`)).toEqual(['1000 a eof']);
    sim.net.send(c, pattern(4, 0)); // After eof: discarded.
    sim.net.close(c);
  });

  it('net: crash: the peer sees the data already sent, then eof; no callbacks to the crashed host', () => {
    const sim = new Sim(1);
    const [c, s] = sim.pair();
    const t0 = sim.engine.nowUs;
    sim.net.send(s, pattern(50, 0));
    sim.net.send(c, pattern(50, 0)); // Reaches b after its crash: answered with RST, unseen.
    sim.engine.runUntil(t0 + 200);
    sim.net.crashHost('b');
    sim.engine.runUntil(t0 + 100_000);
    expect(sim.events.map((e) => `${e.atUs - t0} ${e.host} ${e.kind}`)).toEqual(['1001 a data', '1200 a eof']);
    expect(sim.net.isListening('b', PORT)).toBe(false);
    expect(sim.net.connectionsOf('b')).toEqual([]);
  });

  it('net: crash: under a partition the eof waits for the heal', () => {
    const sim = new Sim(1);
    const [c] = sim.pair();
    const t0 = sim.engine.nowUs;
    sim.net.partition([['a'], ['b']]);
    sim.net.crashHost('b');
    sim.engine.runUntil(t0 + 3_000_000);
    expect(sim.events).toEqual([]);
    sim.net.heal();
    sim.engine.runUntil(t0 + 4_000_000);
    expect(sim.events).toEqual([{ atUs: t0 + 3_001_000, host: 'a', kind: 'eof', sock: c }]);
  });

  it('net: poweroff: the peer notices nothing; after hostUp its next data gets RST', () => {
    const sim = new Sim(1);
    const [c] = sim.pair();
    const t0 = sim.engine.nowUs;
    sim.net.poweroffHost('b');
    sim.net.send(c, pattern(10, 0)); // Lost.
    sim.engine.runUntil(t0 + 30_000_000);
    expect(sim.events).toEqual([]);
    sim.net.hostUp('b');
    sim.net.send(c, pattern(10, 0));
    sim.engine.runUntil(t0 + 31_000_000);
    expect(sim.events).toEqual([{ atUs: t0 + 30_002_001, host: 'a', kind: 'reset', sock: c }]);
  });

  it('net: poweroff: what had not left the machine is lost', () => {
    const sim = new Sim(1);
    sim.net.setLink('a', 'b', { ...linkDefault, bandwidthBitsPerSec: 8_000_000 });
    const [c, s] = sim.pair();
    const t0 = sim.engine.nowUs;
    sim.net.send(s, pattern(100_000, 0)); // 100 ms to serialize, in 16 KiB chunks.
    sim.engine.runUntil(t0 + 20_000);
    sim.net.poweroffHost('b');
    sim.engine.runUntil(t0 + 1_000_000);
    expect(sim.rec('a').got(c).length).toBe(16_384); // Only the chunk serialized before the power went.
    expect(sim.of('a').every((e) => e.kind === 'data')).toBe(true);
  });

  it('net: misuse asserts: unknown id, send before connected, use after own close', () => {
    const sim = new Sim(1);
    expect(() => sim.net.send(999, pattern(1, 0))).toThrow(AssertionError);
    sim.net.listen('b', PORT);
    expect(() => sim.net.listen('b', PORT)).toThrow(AssertionError);
    const c = sim.net.connect('a', 'b', PORT);
    expect(() => sim.net.send(c, pattern(1, 0))).toThrow(AssertionError);
    sim.engine.runUntil(10_000);
    sim.net.close(c);
    expect(() => sim.net.send(c, pattern(1, 0))).toThrow(AssertionError);
    expect(() => sim.net.close(c)).toThrow(AssertionError);
    expect(() => sim.net.connect('a', 'nowhere', PORT)).toThrow(AssertionError);
    sim.net.crashHost('a');
    expect(() => sim.net.connect('a', 'b', PORT)).toThrow(AssertionError);
  });
});

describe('net: determinism', () => {
  /** A busy run with jitter, splits, a partition and a kill; returns its event trace. */
  function traceOf(seed: number): string {
    const sim = new Sim(seed, networkOptionsDefault);
    sim.net.setDefaultLink({ latencyUs: 500, jitterUs: 3000, bandwidthBitsPerSec: 50e6 });
    for (const h of ['b', 'c']) sim.net.listen(h, PORT);
    const work = new RandomStreams(seed).stream('workload');
    const socks: SocketId[] = [];
    sim.rec('a').onConnected = (s) => {
      socks.push(s);
    };
    for (let i = 0; i < 6; i++) sim.net.connect('a', i % 2 ? 'b' : 'c', PORT);
    for (let i = 0; i < 300; i++) {
      sim.engine.scheduleAt(10_000 + work.int(1_000_000), () => {
        if (socks.length > 0) sim.net.send(work.pick(socks), work.bytes(1 + work.int(2000)));
      });
    }
    sim.engine.scheduleAt(300_000, () => sim.net.partition([['a', 'b'], ['c']]));
    sim.engine.scheduleAt(600_000, () => sim.net.heal());
    sim.engine.scheduleAt(800_000, () => {
      sim.net.killLink('a', 'b');
      socks.length = 0;
    });
    sim.engine.runUntil(2_000_000);
    return sim.events.map((e) => JSON.stringify(e)).join('\n');
  }

  it('net: determinism: the same seed gives the same delivery trace; another seed differs', () => {
    const one = traceOf(11);
    expect(one.split('\n').length).toBeGreaterThan(200);
    expect(traceOf(11)).toBe(one);
    expect(traceOf(12)).not.toBe(one);
  });
});

describe('net: performance (figures, not assertions on time)', () => {
  it('net: bench: a 2-host stream of 100-byte sends', () => {
    const sim = new Sim(1, networkOptionsDefault, ['a', 'b']);
    let delivered = 0;
    sim.rec('b').data = (_s, bytes) => {
      delivered += bytes.length;
    };
    const [c] = sim.pair();
    const sends = 300_000;
    const payload = pattern(100, 0);
    let left = sends;
    // One sender event every 10 µs (80 Mbit/s of 100-byte writes), each one send.
    const tick = (): void => {
      sim.net.send(c, payload.slice());
      if (--left > 0) sim.engine.schedule(10, tick);
    };
    sim.engine.schedule(10, tick);
    const events0 = sim.engine.eventsRun;
    const t0 = performance.now();
    while (sim.engine.step()) { /* drain */ }
    const wallMs = performance.now() - t0;
    const events = sim.engine.eventsRun - events0;
    console.log(
      `net bench: ${sends} sends of 100 B, ${events} events in ${wallMs.toFixed(0)} ms = ` +
      `${Math.round(events / (wallMs / 1000)).toLocaleString('en-US')} events/s, ` +
      `${(sim.net.stats.bytesDelivered / 1e6 / (wallMs / 1000)).toFixed(1)} MB/s delivered`,
    );
    expect(delivered).toBe(sends * 100);
    expect(sim.net.stats.bytesDelivered).toBe(sends * 100);
  });
});
