/**
 * `load TARGET COUNT [over DUR] [size BYTES] [keys N] [db N] [wait N TIMEOUT] from CLIENT`: the
 * same schedule as the local load generator (sim/world/load.ts: COUNT writes evenly over DUR,
 * keys `key:<n>` from the run's shared counter or drawn from `keys N`), but each write becomes a
 * ledger entry and travels over the network from CLIENT (client.ts).
 * Every value starts with `<client>:<seq>:` so that each write's value is unique (the ledger
 * recognises which write a key's value came from), padded with seeded random bytes to BYTES.
 * One event is scheduled at a time, so a long load costs no memory beyond its ledger.
 */
import type { Engine } from '../engine/engine.ts';
import type { Rng } from '../engine/random.ts';
import type { AppClient } from './client.ts';
import type { Ledger } from './ledger.ts';

export interface ClientLoadSpec {
  readonly target: string;
  readonly count: number;
  readonly overUs: number;
  readonly sizeBytes: number;
  readonly keys: number | null;
  readonly db: number;
  readonly wait: { readonly replicas: number; readonly timeoutMs: number } | null;
  /** The scenario line, for the ledger. */
  readonly line: number;
}

const POOL_SLACK = 4096;

export function startClientLoad(
  engine: Engine, rng: Rng, ledger: Ledger, client: AppClient, spec: ClientLoadSpec, counter: { next: number },
): void {
  const pool = Buffer.from(rng.bytes(spec.sizeBytes + POOL_SLACK)).toString('latin1');
  const one = (): void => {
    const n = spec.keys === null ? counter.next++ : rng.int(spec.keys);
    const tag = `${client.name}:${ledger.entries.length}:`;
    const at = rng.int(POOL_SLACK);
    const value = tag.length >= spec.sizeBytes ? tag : tag + pool.slice(at, at + spec.sizeBytes - tag.length);
    const entry = ledger.add(client.name, spec.line, `key:${n}`, value, spec.db, engine.nowUs);
    client.submit({ entry, target: spec.target, wait: spec.wait });
  };
  if (spec.overUs === 0) {
    for (let i = 0; i < spec.count; i++) one();
    return;
  }
  const startUs = engine.nowUs;
  let i = 0;
  const tick = (): void => {
    one();
    i++;
    if (i < spec.count) engine.scheduleAt(startUs + Math.floor((i * spec.overUs) / spec.count), tick);
  };
  tick();
}
