/**
 * The command table (sim/core/commands/table.ts) against a real redis-server 7.0.15: for every
 * command and subcommand psync-sim implements, `COMMAND INFO name` must give the same arity and
 * the same set of flags. Also: every table entry is implemented, and every implemented command
 * is in the table (the dispatch asserts the second half when it loads).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { allCommandSpecs, COMMAND_TABLE, lookupCommand } from '../sim/core/commands/table.ts';
import { dataCommands } from '../sim/core/commands.ts';
import { SERVER_COMMANDS } from '../sim/core/server-commands.ts';
import type { Reply } from '../sim/core/reply.ts';
import { haveRedisServer, startRedis, stopAllRedis } from './support/real-redis.ts';

function items(r: Reply): readonly Reply[] {
  if (r.kind !== 'array' || r.items === null) throw new Error(`expected an array, got ${JSON.stringify(r)}`);
  return r.items;
}
function text(r: Reply): string {
  if (r.kind === 'status') return r.text;
  if (r.kind === 'bulk' && r.value !== null) return r.value;
  throw new Error(`expected a string, got ${JSON.stringify(r)}`);
}

describe('command table', () => {
  it('has an implementation for every entry and an entry for every implementation', () => {
    for (const name of COMMAND_TABLE.keys()) {
      expect(SERVER_COMMANDS.has(name) || dataCommands.has(name), name).toBe(true);
    }
    for (const name of [...SERVER_COMMANDS.keys(), ...dataCommands.keys()]) expect(COMMAND_TABLE.has(name), name).toBe(true);
  });

  it('resolves subcommands, unknown subcommands and arity as lookupCommand() does', () => {
    expect(lookupCommand(['CONFIG', 'GET', 'x'])).toMatchObject({ fullname: 'config|get' });
    expect(lookupCommand(['config', 'get'])).toBe("ERR wrong number of arguments for 'config|get' command");
    expect(lookupCommand(['config'])).toBe("ERR wrong number of arguments for 'config' command");
    expect(lookupCommand(['Config', 'nope'])).toBe("ERR unknown subcommand 'nope'. Try CONFIG HELP.");
    expect(lookupCommand(['nope', 'a', 'b'])).toBe("ERR unknown command 'nope', with args beginning with: 'a' 'b' ");
    expect(lookupCommand(['ping', 'a', 'b'])).toMatchObject({ fullname: 'ping' }); // PING checks its own arguments.
  });
});

describe.skipIf(!haveRedisServer)('command table against redis-server 7.0.15 COMMAND INFO', () => {
  afterAll(() => stopAllRedis());

  it('every command and subcommand we implement has Redis\'s arity and flags', async () => {
    const s = await startRedis();
    try {
      const specs = allCommandSpecs();
      const replies = await s.client.pipeline(...specs.map((spec) => ['COMMAND', 'INFO', spec.fullname]));
      const mismatches: string[] = [];
      specs.forEach((spec, i) => {
        const entry = items(replies[i]!)[0]!;
        if (entry.kind !== 'array' || entry.items === null) {
          mismatches.push(`${spec.fullname}: unknown to redis-server`);
          return;
        }
        const [name, arity, flags] = entry.items as [Reply, Reply, Reply];
        const realFlags = items(flags).map(text).sort();
        const ourFlags = [...spec.flags].sort();
        const realArity = arity.kind === 'int' ? arity.value : NaN;
        if (text(name) !== spec.fullname) mismatches.push(`${spec.fullname}: redis names it ${text(name)}`);
        if (realArity !== spec.arity) mismatches.push(`${spec.fullname}: arity ${spec.arity}, redis ${realArity}`);
        if (realFlags.join(' ') !== ourFlags.join(' ')) mismatches.push(`${spec.fullname}: flags [${ourFlags.join(' ')}], redis [${realFlags.join(' ')}]`);
      });
      expect(mismatches).toEqual([]);
      expect(specs.length).toBeGreaterThan(60);
    } finally {
      s.stop();
    }
  });
});
