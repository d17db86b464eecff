/**
 * The teaching trace, as a learner reads it (snapshot tests keep the expected
 * story readable in review). Lesson 01's full sync must show its nine steps in order.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../sim/scenario/parser.ts';
import { runScenario } from '../sim/scenario/run.ts';
import type { Stamped, TraceKind } from '../sim/trace/events.ts';
import { renderStamped } from '../sim/trace/render.ts';

const STORY: ReadonlySet<TraceKind> = new Set<TraceKind>([
  'conn-open', 'handshake-send', 'handshake-reply', 'psync-sent', 'psync-decision', 'fullresync-received',
  'fullresync-sent', 'bgsave-start', 'rdb-sent', 'transfer-start', 'rdb-loaded', 'replica-online', 'continue-received',
]);

function story(file: string): string {
  const path = join(import.meta.dirname, '..', file);
  const text = readFileSync(path, 'latin1');
  const events: Stamped[] = [];
  const r = runScenario(parseScenario(text, file), { trace: (s) => events.push(s), file, source: text });
  expect(r.failed).toBe(0);
  return events.filter((s) => STORY.has(s.event.kind)).map((s) => renderStamped(s)).join('\n');
}

describe('trace: the story of a first sync (lesson 01)', () => {
  it('shows the nine steps of a full sync, in order', () => {
    expect(story('scenarios/lessons/01-first-sync.scn')).toMatchInlineSnapshot(`
      "    1.000000s r1 connects to m (conn 1)
          1.001000s m accepts a connection from r1 (conn 2)
          1.002000s r1 → m: PING
          1.004002s r1 ← m: +PONG
          1.004002s r1 → m: REPLCONF listening-port 6379
          1.004002s r1 → m: REPLCONF capa eof capa psync2
          1.006004s r1 ← m: +OK
          1.006004s r1 ← m: +OK
          1.006004s r1 → m: PSYNC 7a93d01a5c1ccd556f493ed22f1efbe74a884187 1
          1.007005s m decides for r1: full resync: replid mismatch: the replica follows 7a93d01a…, this node's history is 1b279ffb…
          1.007005s m forks a BGSAVE to disk (193 bytes, snapshot at offset 0) for r1
          1.007005s m → r1: +FULLRESYNC 2e8a7eec9301de0de9f557a811a5ba28a0e49da2 0
          1.007105s m → r1: RDB, 193 bytes (from disk, $<len>)
          1.007105s m sees replica r1 online: RDB sent; the buffered stream follows
          1.008006s r1 ← m: +FULLRESYNC 2e8a7eec9301de0de9f557a811a5ba28a0e49da2 0 (a full sync: the RDB will follow)
          1.008106s r1 receives the RDB from m ($193 bytes)
          1.008108s r1 loaded the RDB: 1 keys, 193 bytes; now at replid 2e8a7eec9301de0de9f557a811a5ba28a0e49da2 offset 0"
    `);
  });
});

describe('trace: a partial resync explains why it was accepted (lesson 04)', () => {
  it('names the replid and the backlog range', () => {
    const s = story('scenarios/lessons/04-partial-resync.scn');
    expect(s).toMatch(/partial resync accepted: replid matches, requested offset \d+ is within the backlog \[\d+, \d+\]; \d+ bytes to resend/);
    expect(s).toMatch(/r1 ← m: \+CONTINUE [0-9a-f]{40} \(the master continues the same history\)/);
  });
});
