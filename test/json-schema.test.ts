/** Real `run --json` and `fuzz --json` output validated against sim/cli/run-schema.json (ajv). */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';

const root = join(import.meta.dirname, '..');
const schema = JSON.parse(readFileSync(join(root, 'sim/cli/run-schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

function records(args: string[]): Array<Record<string, unknown>> {
  const r = spawnSync(process.execPath, ['sim/psync-sim.js', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(r.status === 0 || r.status === 1, r.stderr).toBe(true);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

describe('JSON lines schema', { timeout: 180_000 }, () => {
  it('every record of run --json - over two files validates, and the files are told apart', () => {
    const recs = records(['run', 'scenarios/lessons/01-first-sync.scn', 'scenarios/lessons/04-partial-resync.scn', '--json', '-']);
    for (const x of recs) expect(validate(x), JSON.stringify(validate.errors) + JSON.stringify(x)).toBe(true);
    expect(recs.filter((x) => x.type === 'header').length).toBe(2);
    expect(new Set(recs.filter((x) => x.type === 'summary').map((x) => x.file)).size).toBe(2);
    expect(recs.some((x) => x.type === 'event' && x.kind === 'psync-decision')).toBe(true);
  });

  it('run --trace-level stream --json -: every stream event validates, each kind is there', () => {
    const recs = records(['run', 'scenarios/lessons/18-reading-the-stream.scn', '--trace-level', 'stream', '--json', '-']);
    for (const x of recs) expect(validate(x), JSON.stringify(validate.errors) + JSON.stringify(x)).toBe(true);
    const kinds = new Set(recs.filter((x) => x.type === 'event').map((x) => x.kind));
    for (const k of ['stream-fed', 'stream-proxied', 'stream-applied', 'ack-sent', 'ack-received']) expect(kinds.has(k), k).toBe(true);
    const set = recs.find((x) => x.kind === 'stream-fed' && (x.args as string[])[0] === 'SET')!;
    expect([set.first, set.last, set.args, set.to]).toEqual([24, 50, ['SET', 'x', '1'], ['r1']]);
    // --nodes filters the events of the JSON too.
    const r2 = records(['run', 'scenarios/lessons/18-reading-the-stream.scn', '--trace-level', 'stream', '--nodes', 'r2', '--json', '-']);
    expect(r2.filter((x) => x.type === 'event' && x.kind === 'stream-fed').length).toBe(0);
    expect(r2.filter((x) => x.type === 'event' && x.kind === 'stream-applied' && x.node === 'r2').length).toBeGreaterThan(0);
    expect(r2.filter((x) => x.type === 'check').length).toBe(recs.filter((x) => x.type === 'check').length);
  });

  it('a record that breaks the schema is refused (the test can fail)', () => {
    expect(validate({ type: 'check', file: 'f', seed: '1', kind: 'expect', line: '3', text: '', ok: true, detail: '', atUs: 0 })).toBe(false);
    expect(validate({ type: 'event', file: 'f', atUs: 1, kind: 'psync-sent', node: 'r1', peer: 'm', replid: 'x', offset: '15' })).toBe(false);
    expect(validate({ type: 'event', file: 'f', atUs: 1, kind: 'stream-fed', node: 'm', last: 14, args: ['PING'], to: [] })).toBe(false);
    expect(validate({ type: 'event', file: 'f', atUs: 1, kind: 'ack-sent', node: 'r1', peer: 'm', offset: 14, why: 'bored' })).toBe(false);
    expect(validate({ type: 'event', file: 'f', atUs: 1, kind: 'ack-sent', node: 'r1', peer: 'm', offset: 14, why: 'cron' })).toBe(true);
  });

  it('fuzz --json validates (header, failures, campaign)', () => {
    const out = mkdtempSync(join(tmpdir(), 'psync-sim-schema-'));
    try {
      const recs = records(['fuzz', '--runs', '3', '--seed', 'schema', '--bug', 'proxy-unapplied', '--workers', '1', '--out', out, '--json', '--shrink-runs', '20']);
      for (const x of recs) expect(validate(x), JSON.stringify(validate.errors)).toBe(true);
      expect(recs[0]!.type).toBe('header');
      expect(recs[recs.length - 1]!.type).toBe('campaign');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
