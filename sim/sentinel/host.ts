/**
 * What a sentinel process can do to the outside world: the data node's Host contract
 * (sim/core/host.ts) minus forking and append-only files, plus a seeded rand() for the timer
 * desync and the failover start jitter. The world implements it on virtual time and simulated
 * TCP; nothing in sim/sentinel reads a clock or draws a random number by any other path.
 */
import type { Host } from '../core/host.ts';

export type SentinelHost = Pick<Host,
  'nowUs' | 'unixMs' | 'randomHex' | 'connect' | 'send' | 'close' | 'writeFile' | 'readFile' | 'reply' | 'sleep' |
  'exit' | 'tracing' | 'trace'> & {
  /** C's rand(): a seeded integer in [0, 2^31). */
  rand(): number;
};

export type { ConnId, ClientId } from '../core/host.ts';
