/**
 * A node's configuration: the redis.conf / CONFIG GET / CONFIG SET view of the settings the
 * replication core reads. Names, aliases, defaults and value syntax are Redis 7.0's (config.c);
 * memory values accept Redis units (1k = 1000, 1kb = 1024, ...). Times are kept in Redis's own
 * unit (seconds or milliseconds) because that is what CONFIG GET shows.
 * Unknown names are refused with Redis's errors, so a scenario typo is caught, not ignored.
 */
export type DisklessLoad = 'disabled' | 'on-empty-db' | 'swapdb';
export type YesNo = boolean;

export interface ObufLimit {
  hardBytes: number;
  softBytes: number;
  softSeconds: number;
}

export interface Config {
  port: number;
  hz: number;
  replBacklogSizeBytes: number;
  replBacklogTtlSec: number;
  replTimeoutSec: number;
  replPingReplicaPeriodSec: number;
  replDisklessSync: YesNo;
  replDisklessSyncDelaySec: number;
  replDisklessSyncMaxReplicas: number;
  replDisklessLoad: DisklessLoad;
  minReplicasToWrite: number;
  minReplicasMaxLagSec: number;
  replicaServeStaleData: YesNo;
  replicaReadOnly: YesNo;
  replicaLazyFlush: YesNo;
  replicaPriority: number;
  replicaAnnounced: YesNo;
  obufReplica: ObufLimit;
  replicaof: { host: string; port: number } | null;
  save: Array<{ seconds: number; changes: number }>;
  appendonly: YesNo;
  appendfsync: 'always' | 'everysec' | 'no';
  dbfilename: string;
  appendfilename: string;
  shutdownTimeoutSec: number;
  databases: number;
  /** key-load-delay (hidden, for tests): microseconds slept per key loaded; < 0: 1 us every -N keys. */
  keyLoadDelayUs: number;
  /** loading-process-events-interval-bytes (hidden): serve clients every this many bytes loaded. */
  loadingProcessEventsIntervalBytes: number;
}

export function defaultConfig(): Config {
  return {
    port: 6379,
    hz: 10,
    replBacklogSizeBytes: 1024 * 1024,
    replBacklogTtlSec: 3600,
    replTimeoutSec: 60,
    replPingReplicaPeriodSec: 10,
    replDisklessSync: true,
    replDisklessSyncDelaySec: 5,
    replDisklessSyncMaxReplicas: 0,
    replDisklessLoad: 'disabled',
    minReplicasToWrite: 0,
    minReplicasMaxLagSec: 10,
    replicaServeStaleData: true,
    replicaReadOnly: true,
    replicaLazyFlush: false,
    replicaPriority: 100,
    replicaAnnounced: true,
    obufReplica: { hardBytes: 256 * 1024 * 1024, softBytes: 64 * 1024 * 1024, softSeconds: 60 },
    replicaof: null,
    save: [{ seconds: 3600, changes: 1 }, { seconds: 300, changes: 100 }, { seconds: 60, changes: 10000 }],
    appendonly: false,
    appendfsync: 'everysec',
    dbfilename: 'dump.rdb',
    appendfilename: 'appendonly.aof',
    shutdownTimeoutSec: 10,
    databases: 16,
    keyLoadDelayUs: 0,
    loadingProcessEventsIntervalBytes: 2 * 1024 * 1024,
  };
}

/** A bad value or name; `message` is Redis's text without the leading "ERR ". */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Redis memtoll(): "1mb" = 1048576, "1m" = 1000000, bare numbers are bytes. */
export function parseMemory(text: string): number | null {
  const m = /^(-?\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mul: Record<string, number> = { b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 * 1024, g: 1e9, gb: 1024 ** 3 };
  const v = n * mul[unit]!;
  return Number.isSafeInteger(v) ? v : null;
}

function parseInteger(text: string, min: number, max: number): number | null {
  if (!/^-?\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

function parseYesNo(text: string): boolean | null {
  const t = text.toLowerCase();
  return t === 'yes' ? true : t === 'no' ? false : null;
}

interface Param {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** Not settable with CONFIG SET (startup only). */
  readonly immutable?: boolean;
  /** Takes several words (save, client-output-buffer-limit, replicaof). */
  get(c: Config): string;
  /** Returns an error text, or null after applying. */
  set(c: Config, args: readonly string[]): string | null;
}

const INT_MAX = 2147483647;

function intParam(name: string, key: keyof Config, min: number, max: number, aliases?: string[], immutable = false): Param {
  return {
    name, aliases, immutable,
    get: (c) => String(c[key]),
    set: (c, [v]) => {
      const n = parseInteger(v ?? '', min, max);
      if (n === null) return `argument must be between ${min} and ${max} inclusive`;
      (c as unknown as Record<string, number>)[key] = n;
      return null;
    },
  };
}

function boolParam(name: string, key: keyof Config, aliases?: string[]): Param {
  return {
    name, aliases,
    get: (c) => (c[key] ? 'yes' : 'no'),
    set: (c, [v]) => {
      const b = parseYesNo(v ?? '');
      if (b === null) return `argument must be 'yes' or 'no'`;
      (c as unknown as Record<string, boolean>)[key] = b;
      return null;
    },
  };
}

function memParam(name: string, key: keyof Config, min: number): Param {
  return {
    name,
    get: (c) => String(c[key]),
    set: (c, [v]) => {
      const n = parseMemory(v ?? '');
      if (n === null || n < 0) return `argument must be a memory value`;
      (c as unknown as Record<string, number>)[key] = Math.max(n, min);
      return null;
    },
  };
}

const PARAMS: readonly Param[] = [
  intParam('port', 'port', 0, 65535, undefined, true),
  intParam('hz', 'hz', 1, 500),
  // repl-backlog-size is clamped to >= 16 KiB (resizeReplicationBacklog, CONFIG_REPL_BACKLOG_MIN_SIZE).
  memParam('repl-backlog-size', 'replBacklogSizeBytes', 16 * 1024),
  intParam('repl-backlog-ttl', 'replBacklogTtlSec', 0, INT_MAX),
  intParam('repl-timeout', 'replTimeoutSec', 1, INT_MAX),
  intParam('repl-ping-replica-period', 'replPingReplicaPeriodSec', 1, INT_MAX, ['repl-ping-slave-period']),
  boolParam('repl-diskless-sync', 'replDisklessSync'),
  intParam('repl-diskless-sync-delay', 'replDisklessSyncDelaySec', 0, INT_MAX),
  intParam('repl-diskless-sync-max-replicas', 'replDisklessSyncMaxReplicas', 0, INT_MAX),
  {
    name: 'repl-diskless-load',
    get: (c) => c.replDisklessLoad,
    set: (c, [v]) => {
      const t = (v ?? '').toLowerCase();
      if (t !== 'disabled' && t !== 'on-empty-db' && t !== 'swapdb') return `argument(s) must be one of the following: disabled, on-empty-db, swapdb`;
      c.replDisklessLoad = t;
      return null;
    },
  },
  intParam('min-replicas-to-write', 'minReplicasToWrite', 0, INT_MAX, ['min-slaves-to-write']),
  intParam('min-replicas-max-lag', 'minReplicasMaxLagSec', 0, INT_MAX, ['min-slaves-max-lag']),
  boolParam('replica-serve-stale-data', 'replicaServeStaleData', ['slave-serve-stale-data']),
  boolParam('replica-read-only', 'replicaReadOnly', ['slave-read-only']),
  boolParam('replica-lazy-flush', 'replicaLazyFlush', ['slave-lazy-flush']),
  intParam('replica-priority', 'replicaPriority', 0, INT_MAX, ['slave-priority']),
  boolParam('replica-announced', 'replicaAnnounced'),
  intParam('shutdown-timeout', 'shutdownTimeoutSec', 0, INT_MAX),
  intParam('key-load-delay', 'keyLoadDelayUs', -INT_MAX - 1, INT_MAX),
  intParam('loading-process-events-interval-bytes', 'loadingProcessEventsIntervalBytes', 1024, INT_MAX),
  intParam('databases', 'databases', 1, INT_MAX, undefined, true),
  boolParam('appendonly', 'appendonly'),
  {
    name: 'appendfsync',
    get: (c) => c.appendfsync,
    set: (c, [v]) => {
      const t = (v ?? '').toLowerCase();
      if (t !== 'always' && t !== 'everysec' && t !== 'no') return `argument(s) must be one of the following: always, everysec, no`;
      c.appendfsync = t;
      return null;
    },
  },
  { name: 'dbfilename', get: (c) => c.dbfilename, set: (c, [v]) => ((c.dbfilename = v ?? ''), null) },
  { name: 'appendfilename', immutable: true, get: (c) => c.appendfilename, set: (c, [v]) => ((c.appendfilename = v ?? ''), null) },
  {
    name: 'save',
    get: (c) => c.save.map((p) => `${p.seconds} ${p.changes}`).join(' '),
    set: (c, args) => {
      // "save" takes pairs; an empty string (save "") disables snapshotting.
      const words = args.join(' ').split(/\s+/).filter((w) => w.length > 0);
      if (words.length % 2 !== 0) return 'Invalid save parameters';
      const points: Config['save'] = [];
      for (let i = 0; i < words.length; i += 2) {
        const s = parseInteger(words[i]!, 1, INT_MAX);
        const n = parseInteger(words[i + 1]!, 0, INT_MAX);
        if (s === null || n === null) return 'Invalid save parameters';
        points.push({ seconds: s, changes: n });
      }
      c.save = points;
      return null;
    },
  },
  {
    name: 'client-output-buffer-limit',
    get: (c) => `normal 0 0 0 slave ${c.obufReplica.hardBytes} ${c.obufReplica.softBytes} ${c.obufReplica.softSeconds} pubsub 33554432 8388608 60`,
    set: (c, args) => {
      const words = args.join(' ').split(/\s+/).filter((w) => w.length > 0);
      if (words.length % 4 !== 0) return 'Wrong number of arguments in buffer limit configuration.';
      for (let i = 0; i < words.length; i += 4) {
        const cls = words[i]!.toLowerCase();
        const hard = parseMemory(words[i + 1]!);
        const soft = parseMemory(words[i + 2]!);
        const secs = parseInteger(words[i + 3]!, 0, INT_MAX);
        if (!['normal', 'replica', 'slave', 'pubsub'].includes(cls)) return 'Invalid client class specified in buffer limit configuration.';
        if (hard === null || soft === null || secs === null || hard < 0 || soft < 0) return 'Error in hard, soft or soft_seconds setting in buffer limit configuration.';
        if (cls === 'replica' || cls === 'slave') c.obufReplica = { hardBytes: hard, softBytes: soft, softSeconds: secs };
      }
      return null;
    },
  },
  {
    name: 'replicaof',
    aliases: ['slaveof'],
    immutable: true,
    get: (c) => (c.replicaof ? `${c.replicaof.host} ${c.replicaof.port}` : ''),
    set: (c, args) => {
      const words = args.join(' ').split(/\s+/).filter((w) => w.length > 0);
      if (words.length === 2 && words[0]!.toLowerCase() === 'no' && words[1]!.toLowerCase() === 'one') {
        c.replicaof = null;
        return null;
      }
      const port = words.length === 2 ? parseInteger(words[1]!, 0, 65535) : null;
      if (port === null) return 'wrong number of arguments';
      c.replicaof = { host: words[0]!, port };
      return null;
    },
  },
];

const BY_NAME = new Map<string, Param>();
for (const p of PARAMS) {
  BY_NAME.set(p.name, p);
  for (const a of p.aliases ?? []) BY_NAME.set(a, p);
}

export function configParamNames(): string[] {
  return PARAMS.map((p) => p.name);
}

/**
 * Apply a redis.conf line at startup (immutable settings allowed). Throws ConfigError with a
 * message fit for a scenario error ("Bad directive or wrong number of arguments").
 */
export function applyStartupConfig(c: Config, name: string, args: readonly string[]): void {
  const p = BY_NAME.get(name.toLowerCase());
  if (!p) throw new ConfigError(`unknown config '${name}' (psync-sim knows: ${configParamNames().join(', ')})`);
  const e = p.set(c, args);
  if (e !== null) throw new ConfigError(`config ${p.name}: ${e}`);
}

/** CONFIG SET name value: Redis 7.0 error texts. Returns an error text (with "ERR ") or null. */
export function configSet(c: Config, name: string, value: string): string | null {
  const p = BY_NAME.get(name.toLowerCase());
  if (!p) return `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
  if (p.immutable) return `ERR CONFIG SET failed (possibly related to argument '${name}') - can't set immutable config`;
  const e = p.set(c, [value]);
  if (e !== null) return `ERR CONFIG SET failed (possibly related to argument '${name}') - ${e}`;
  return null;
}

/** CONFIG GET pattern: [name, value] pairs for every canonical name (and alias) matching the glob. */
export function configGet(c: Config, pattern: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const re = globToRegExp(pattern.toLowerCase());
  for (const [name, p] of BY_NAME) if (re.test(name)) out.push([name, p.get(c)]);
  return out;
}

function globToRegExp(glob: string): RegExp {
  let s = '^';
  for (const ch of glob) {
    if (ch === '*') s += '.*';
    else if (ch === '?') s += '.';
    else s += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(s + '$');
}
