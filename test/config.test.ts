import { describe, it, expect } from 'vitest';
import { defaultConfig, applyStartupConfig, configSet, configGet, parseMemory, ConfigError } from '../sim/core/config.ts';

describe('config', () => {
  it('has Redis 7.0 defaults', () => {
    const c = defaultConfig();
    expect(configGet(c, 'repl-backlog-size')).toEqual([['repl-backlog-size', '1048576']]);
    expect(configGet(c, 'repl-diskless-sync')).toEqual([['repl-diskless-sync', 'yes']]);
    expect(configGet(c, 'repl-diskless-sync-delay')).toEqual([['repl-diskless-sync-delay', '5']]);
    expect(configGet(c, 'repl-timeout')).toEqual([['repl-timeout', '60']]);
    expect(configGet(c, 'repl-ping-replica-period')).toEqual([['repl-ping-replica-period', '10']]);
  });

  it('parses Redis memory units', () => {
    expect(parseMemory('1mb')).toBe(1048576);
    expect(parseMemory('1m')).toBe(1000000);
    expect(parseMemory('16kb')).toBe(16384);
    expect(parseMemory('100')).toBe(100);
    expect(parseMemory('1.5mb')).toBeNull();
    expect(parseMemory('lots')).toBeNull();
  });

  it('clamps repl-backlog-size to 16 KiB', () => {
    const c = defaultConfig();
    applyStartupConfig(c, 'repl-backlog-size', ['100']);
    expect(c.replBacklogSizeBytes).toBe(16384);
  });

  it('accepts the old slave names as aliases', () => {
    const c = defaultConfig();
    applyStartupConfig(c, 'slave-read-only', ['no']);
    expect(c.replicaReadOnly).toBe(false);
    applyStartupConfig(c, 'slaveof', ['m', '6379']);
    expect(c.replicaof).toEqual({ host: 'm', port: 6379 });
  });

  it('parses save points and output buffer limits', () => {
    const c = defaultConfig();
    applyStartupConfig(c, 'save', ['900', '1', '300', '10']);
    expect(c.save).toEqual([{ seconds: 900, changes: 1 }, { seconds: 300, changes: 10 }]);
    applyStartupConfig(c, 'save', ['']);
    expect(c.save).toEqual([]);
    applyStartupConfig(c, 'client-output-buffer-limit', ['replica', '64kb', '32kb', '10']);
    expect(c.obufReplica).toEqual({ hardBytes: 65536, softBytes: 32768, softSeconds: 10 });
  });

  it('refuses unknown names and bad values with clear errors', () => {
    const c = defaultConfig();
    expect(() => applyStartupConfig(c, 'repl-backlog-sise', ['1mb'])).toThrow(ConfigError);
    expect(() => applyStartupConfig(c, 'repl-backlog-sise', ['1mb'])).toThrow(/unknown config 'repl-backlog-sise'/);
    expect(() => applyStartupConfig(c, 'repl-diskless-sync', ['maybe'])).toThrow(/'yes' or 'no'/);
    expect(configSet(c, 'nope', '1')).toBe("ERR Unknown option or number of arguments for CONFIG SET - 'nope'");
    expect(configSet(c, 'port', '1')).toMatch(/can't set immutable config/);
    expect(configSet(c, 'repl-timeout', 'x')).toMatch(/^ERR CONFIG SET failed \(possibly related to argument 'repl-timeout'\)/);
    expect(configSet(c, 'repl-timeout', '5')).toBeNull();
    expect(c.replTimeoutSec).toBe(5);
  });
});

describe('documented defaults', () => {
  it("scenarios/README.md lists the default save points as the config holds them", async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync('scenarios/README.md', 'utf8').replace(/\s+/g, ' ');
    const save = defaultConfig().save.map((p) => `${p.seconds} ${p.changes}`).join(' ');
    expect(doc).toContain(`save points \`save ${save}\``);
  });
});
