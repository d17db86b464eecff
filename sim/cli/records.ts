/**
 * The JSON-lines records of `run --json FILE|-` and `fuzz --json`: one schema for both, kept in
 * sim/cli/run-schema.json (a JSON Schema, validated by test/json-schema.test.ts). Every record
 * is one line with a `type`; several files in one run are told apart by `file`.
 *   header   once per file (run) or per campaign (fuzz): schema version, psync-sim version, ...
 *   event    one trace event: `atUs` and the event's own typed fields (sim/trace/events.ts)
 *   check    one expect/await/invariant with its line, text, verdict and what was seen
 *   summary  once per file: passed, failed, virtual time, events
 *   failure  fuzz: one failing run, its files and the replay command
 *   campaign fuzz: the campaign's totals and coverage
 */
import { readFileSync } from 'node:fs';
import type { Stamped } from '../trace/events.ts';
import type { CheckResult, RunResult } from '../scenario/run.ts';

/** Bumped when a record changes shape in a way a reader must know about. */
export const JSON_SCHEMA_VERSION = 1;

let versionMemo: string | null = null;
/** The package's version (package.json sits one folder above sim/ and dist/). */
export function psyncSimVersion(): string {
  if (versionMemo === null) {
    try {
      versionMemo = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      versionMemo = 'unknown';
    }
  }
  return versionMemo;
}

export function headerRecord(o: { command: 'run' | 'fuzz'; file: string | null; seed: string; bugs: readonly string[] }): string {
  return JSON.stringify({ type: 'header', schema: JSON_SCHEMA_VERSION, psyncSim: psyncSimVersion(), command: o.command, file: o.file, seed: o.seed, bugs: [...o.bugs] });
}

export function eventRecord(file: string, s: Stamped): string {
  return JSON.stringify({ type: 'event', file, atUs: s.atUs, ...s.event });
}

export function checkRecord(file: string, seed: string, r: CheckResult): string {
  return JSON.stringify({ type: 'check', file, seed, kind: r.kind, line: r.line, text: r.text, ok: r.ok, detail: r.detail, atUs: r.atUs });
}

export function summaryRecord(file: string, r: RunResult): string {
  return JSON.stringify({ type: 'summary', file, seed: r.seed, title: r.title, passed: r.passed, failed: r.failed, virtualUs: r.virtualUs, events: r.events });
}

/** A file that could not be run: invalid (exit 2) or a psync-sim bug (exit 3). */
export function errorRecord(file: string, kind: 'invalid' | 'internal', message: string): string {
  return JSON.stringify({ type: 'error', file, kind, message });
}
