/**
 * Random command scripts for differential tests: string commands over a small key space in a
 * few databases, drawn from one seeded PRNG so that a failing script is named by its seed.
 *
 * Theory of operation. generateScript() draws a command count, then each command by weight.
 * The key space is small (a handful of keys, a few DBs) so commands collide: INCR finds a
 * number or a word, SET NX finds the key taken, APPEND grows an INCR result, and so on. Every
 * TTL is at least an hour, so nothing expires while the test runs and no reply depends on how
 * fast the machine is: the real server's clock and the simulator's virtual clock never need to
 * agree, only to have the same digit count (the determinism contract). For the same
 * reason there is no TTL/PTTL and no EXPIRE GT/LT (their answers depend on milliseconds that
 * pass between two commands on the real server and not in the simulator). A few commands are
 * deliberately wrong (syntax errors, a zero EX) so error replies are compared too.
 *
 * Transactions: now and then a MULTI block of 2-5 commands, sometimes with a read or a no-op
 * write inside (a transaction with a single effect is propagated as that write alone, more
 * than one as MULTI ... EXEC), a nested MULTI (an error that does not doom the transaction),
 * ended by EXEC, or by DISCARD, or made to fail with EXECABORT by a command refused while
 * queued (unknown name or wrong arity: processCommand() calls flagTransaction()). Runtime
 * errors inside EXEC (SET NX XX, SELECT 16) come from the ordinary generators.
 * WAIT: `WAIT 1 <ms>` only ever directly after a write that always propagates (SET without
 * conditions, MSET), and the runner must send the two in one TCP write. Why: WAIT compares
 * the client's `woff` with the replica's last ACK, and Redis sets woff after every command
 * (processCommand()); only if the write just before is still unacknowledged is the answer
 * certain to block and send REPLCONF GETACK * (37 bytes of stream). After a read or a no-op
 * write, whether the replica's once-a-second ACK came in between is a matter of wall time.
 * No WAIT inside MULTI: there Redis answers at once with whatever is acknowledged so far.
 * Not generated: DB 15, which the differential test keeps for itself.
 */
import seedrandom from 'seedrandom';

export interface ScriptOptions {
  readonly commandsMin: number;
  readonly commandsMax: number;
  /** Key names; one with a space and one with a binary byte exercise quoting. */
  readonly keys: readonly string[];
  /** Scripts SELECT among DBs 0 .. dbCount-1. */
  readonly dbCount: number;
  /** Chance, per command, of a FLUSHDB (it empties the game, so keep it rare). */
  readonly flushdbProbability: number;
  /** Chance, per command, of a MULTI ... EXEC|DISCARD block instead (when it fits). */
  readonly transactionProbability: number;
  /** Chance, per command, of an unconditional write followed by `WAIT 1 <ms>` instead. */
  readonly waitProbability: number;
}

/**
 * The key space of the differential tests (scripts and stories): few enough keys that commands
 * collide; one with a space and one with a binary byte exercise quoting.
 */
export const DIFFERENTIAL_KEYS: readonly string[] = ['k0', 'k1', 'k2', 'k3', 'k 4', 'k\xe95'];

export const scriptOptionsDefault: ScriptOptions = {
  commandsMin: 30,
  commandsMax: 80,
  keys: DIFFERENTIAL_KEYS,
  dbCount: 3,
  flushdbProbability: 0.015,
  transactionProbability: 0.06,
  waitProbability: 0.04,
};

/** The seconds in an hour: the shortest TTL a script sets. */
const HOUR_SECONDS = 3600;

/** A small random source with the helpers the generators (scripts, stories) need. */
export class Draw {
  private readonly prng: seedrandom.PRNG;
  constructor(seed: string) {
    this.prng = seedrandom.alea(seed);
  }
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.prng() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.prng() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Draw.pick: nothing to pick from');
    return items[this.int(0, items.length - 1)]!;
  }
}

const WORDS = ['a', 'bc', 'hello', 'x y', 'q"uote', 'back\\slash', '\x00\xff', 'tab\there', '#hash', ''];
const FLOATS = ['0.1', '1.5', '-2.25', '10', '3.14159', '1e3', '-0.001', '2.5e-3', '100.75', '-7'];
/** Edges of Redis's number parsing: int64 limits, leading zeros or signs, spaces, hex, huge floats. */
const EDGES = [
  '9223372036854775807', '-9223372036854775808', '9223372036854775806', '-0', '007', '+5', ' 1', '1 ',
  '1.0', '0x10', '1e308', '5e-20', 'inf', '-inf', 'nan', '1.23456789012345678901', '17e-1', '.5', '3.',
];

function value(d: Draw): string {
  switch (d.int(0, 6)) {
    case 0: case 1: return String(d.int(-50, 200)); // something INCR can use
    case 2: return d.pick(WORDS);
    case 3: return d.pick(FLOATS);
    case 4: return d.chance(0.5) ? d.pick(EDGES) : 'v' + String(d.int(0, 999));
    default: return 'v' + String(d.int(0, 999));
  }
}

/** An INCRBY amount: usually small, now and then at the int64 edges or not a number at all. */
function increment(d: Draw): string {
  return d.chance(0.85) ? String(d.int(-1000, 1000)) : d.pick(EDGES);
}

/** `SET k v` with a random, usually valid, mix of EX/PX/KEEPTTL, NX/XX and GET, in any order. */
function setCommand(d: Draw, key: string): string[] {
  const options: string[][] = [];
  switch (d.int(0, 4)) {
    case 0: options.push(['EX', String(d.int(HOUR_SECONDS, 100 * HOUR_SECONDS))]); break;
    case 1: options.push(['PX', String(d.int(HOUR_SECONDS * 1000, 100 * HOUR_SECONDS * 1000))]); break;
    case 2: options.push(['KEEPTTL']); break;
    default: break;
  }
  switch (d.int(0, 3)) {
    case 0: options.push(['NX']); break;
    case 1: options.push(['XX']); break;
    default: break;
  }
  if (d.chance(0.3)) options.push(['GET']);
  // Shuffle (Fisher-Yates); Redis accepts the options in any order.
  for (let i = options.length - 1; i > 0; i--) {
    const j = d.int(0, i);
    [options[i], options[j]] = [options[j]!, options[i]!];
  }
  const argv = [d.pick(['SET', 'set']), key, value(d), ...options.flat()];
  // Now and then, a command Redis refuses: the error replies must match too.
  if (d.chance(0.04)) return ['SET', key, value(d), 'NX', 'XX'];
  if (d.chance(0.03)) return ['SET', key, value(d), 'EX', d.pick(['0', '-5', 'soon'])];
  return argv;
}

function someKeys(d: Draw, keys: readonly string[], countMax: number): string[] {
  const n = d.int(1, countMax);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(d.pick(keys)); // Repeats allowed: Redis counts them twice.
  return out;
}

/** Commands with their weights (how often each is drawn). */
const GENERATORS: ReadonlyArray<readonly [number, (d: Draw, o: ScriptOptions) => string[]]> = [
  [14, (d, o) => setCommand(d, d.pick(o.keys))],
  [8, (d, o) => ['GET', d.pick(o.keys)]],
  [5, (d, o) => ['DEL', ...someKeys(d, o.keys, 3)]],
  [4, (d, o) => ['EXISTS', ...someKeys(d, o.keys, 3)]],
  [6, (d, o) => ['INCR', d.pick(o.keys)]],
  [4, (d, o) => ['INCRBY', d.pick(o.keys), increment(d)]],
  [1, (d, o) => ['DECRBY', d.pick(o.keys), increment(d)]],
  [3, (d, o) => ['DECR', d.pick(o.keys)]],
  [4, (d, o) => ['APPEND', d.pick(o.keys), value(d)]],
  [4, (d, o) => {
    const argv = ['MSET'];
    for (let i = d.int(1, 3); i > 0; i--) argv.push(d.pick(o.keys), value(d));
    return argv;
  }],
  [3, (d, o) => ['SETNX', d.pick(o.keys), value(d)]],
  [3, (d, o) => ['GETSET', d.pick(o.keys), value(d)]],
  [3, (d, o) => ['SETRANGE', d.pick(o.keys), String(d.int(0, 12)), d.pick(['xyz', 'Q', '', '\x01\x02'])]],
  [4, (d, o) => ['INCRBYFLOAT', d.pick(o.keys), d.chance(0.8) ? d.pick(FLOATS) : d.pick(EDGES)]],
  [4, (d, o) => {
    const flags = d.chance(0.25) ? [d.pick(['NX', 'XX'])] : [];
    return ['EXPIRE', d.pick(o.keys), String(d.int(HOUR_SECONDS, 1000 * HOUR_SECONDS)), ...flags];
  }],
  [3, (d, o) => {
    const flags = d.chance(0.25) ? [d.pick(['NX', 'XX', 'nx'])] : [];
    return ['PEXPIRE', d.pick(o.keys), String(d.int(HOUR_SECONDS * 1000, 1000 * HOUR_SECONDS * 1000)), ...flags];
  }],
  [3, (d, o) => ['PERSIST', d.pick(o.keys)]],
  [4, (d, o) => ['SELECT', d.chance(0.95) ? String(d.int(0, o.dbCount - 1)) : d.pick(['16', '-1', 'x'])]],
];
const WEIGHT_TOTAL = GENERATORS.reduce((s, [w]) => s + w, 0);

/** One command drawn by weight from GENERATORS. */
function oneCommand(d: Draw, o: ScriptOptions): string[] {
  let r = d.int(0, WEIGHT_TOTAL - 1);
  for (const [weight, gen] of GENERATORS) {
    if (r < weight) return gen(d, o);
    r -= weight;
  }
  throw new Error('oneCommand: weights do not add up'); // unreachable: r < WEIGHT_TOTAL
}

/** A key no script ever writes: writes to it are no-ops that are not propagated. */
const ABSENT_KEY = 'absent';

/** Commands that do nothing and so propagate nothing (reads, or writes that find nothing to do). */
function noOp(d: Draw, o: ScriptOptions): string[] {
  switch (d.int(0, 4)) {
    case 0: return ['GET', d.pick(o.keys)];
    case 1: return ['EXISTS', ...someKeys(d, o.keys, 2)];
    case 2: return ['DEL', ABSENT_KEY];
    case 3: return ['PERSIST', ABSENT_KEY];
    default: return ['EXPIRE', ABSENT_KEY, String(HOUR_SECONDS)];
  }
}

/** Refused while queued (processCommand() → flagTransaction()), so EXEC answers EXECABORT. */
function queuedError(d: Draw, o: ScriptOptions): string[] {
  switch (d.int(0, 3)) {
    case 0: return ['NOSUCHCOMMAND', d.pick(o.keys)];
    case 1: return ['GET'];
    case 2: return ['INCR', d.pick(o.keys), '1'];
    default: return ['SET', d.pick(o.keys)];
  }
}

/** MULTI, `bodyMax` commands at most (2 at least), then EXEC or DISCARD. */
function transaction(d: Draw, o: ScriptOptions, bodyMax: number): string[][] {
  const body: string[][] = [];
  for (let i = d.int(2, Math.min(5, bodyMax)); i > 0; i--) body.push(oneCommand(d, o));
  const at = (): number => d.int(0, body.length - 1);
  if (d.chance(0.4)) body[at()] = noOp(d, o);
  if (d.chance(0.05)) body[at()] = ['MULTI']; // "ERR MULTI calls can not be nested"; not fatal.
  const end = d.int(0, 9);
  if (end === 0) return [['MULTI'], ...body, ['DISCARD']];
  if (end === 1) body[at()] = queuedError(d, o);
  return [['MULTI'], ...body, [d.pick(['EXEC', 'exec'])]];
}

/** Writes that always change the dataset, so they are always propagated. */
function certainWrite(d: Draw, o: ScriptOptions): string[] {
  if (d.chance(0.7)) return ['SET', d.pick(o.keys), value(d)];
  const argv = ['MSET'];
  for (let i = d.int(1, 3); i > 0; i--) argv.push(d.pick(o.keys), value(d));
  return argv;
}

/** WAIT timeouts: long enough for a loaded machine; WAIT returns at the ACK, not at the timeout. */
const WAIT_TIMEOUTS_MS = ['2000', '3000', '5000'];

/** A script: one argv per command, in order. Same seed and options, same script. */
export function generateScript(seed: string, options: ScriptOptions = scriptOptionsDefault): string[][] {
  if (!(options.commandsMin >= 1 && options.commandsMax >= options.commandsMin)) throw new RangeError('generateScript: bad command bounds');
  if (!(options.dbCount >= 1 && options.dbCount <= 15)) throw new RangeError('generateScript: dbCount must be 1..15 (DB 15 is reserved)');
  const d = new Draw(seed);
  const script: string[][] = [];
  const count = d.int(options.commandsMin, options.commandsMax);
  while (script.length < count) {
    const room = count - script.length;
    if (d.chance(options.flushdbProbability)) {
      script.push(['FLUSHDB', ...(d.chance(0.3) ? [d.pick(['ASYNC', 'SYNC', 'sync'])] : [])]);
    } else if (room >= 4 && d.chance(options.transactionProbability)) {
      script.push(...transaction(d, options, room - 2));
    } else if (room >= 2 && d.chance(options.waitProbability)) {
      script.push(certainWrite(d, options), ['WAIT', '1', d.pick(WAIT_TIMEOUTS_MS)]);
    } else {
      script.push(oneCommand(d, options));
    }
  }
  return script;
}
