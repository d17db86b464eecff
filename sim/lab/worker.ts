/**
 * The lab's simulator, in a Web Worker (bundled by sim/lab/bundle.ts as /lab-worker.js): it holds
 * the LabSession (sim/lab/program.ts) and runs the program there, so that a heavy lesson's run
 * (a second or more) never blocks the page, whose play, pause, step and scrub stay responsive.
 *
 * Theory of operation. The page sends requests (start a scenario, do an action at a virtual
 * time, run on, undo); the worker handles them one at a time, in the order sent, and answers
 * each with the session as the page shows it (LabView: the recording, the program's text and
 * hash, the actions done) or with an error as text. The run is the same code as in Node and as
 * before in the page — the same program text gives the same trace, byte for byte — only where
 * it runs changed. Nothing here reads a clock or a random source.
 */
import { LabSession, LabError, formatAction } from './program.ts';
import type { LabAction } from './program.ts';
import type { Recording } from '../trace/record.ts';
import { ScenarioError } from '../scenario/errors.ts';

export type LabRequest =
  | { readonly op: 'start'; readonly source: string; readonly file: string; readonly seed?: string }
  | { readonly op: 'act'; readonly action: LabAction; readonly atUs: number }
  | { readonly op: 'run-on'; readonly durUs: number }
  | { readonly op: 'undo' };

/** What the page shows of a session (structured-cloned from the worker). */
export interface LabView {
  readonly file: string;
  /** The program's text: what ran, and what "export" writes. */
  readonly text: string;
  readonly recording: Recording;
  readonly endUs: number;
  /** Every host of the program: nodes, then sentinels, then clients. */
  readonly hosts: readonly string[];
  /** The learner's actions, one line each (formatAction). */
  readonly done: readonly string[];
  readonly passed: number;
  readonly failed: number;
  /** sha256 of the trace as the determinism tests hash it (one jsonLine + '\n' per event). */
  readonly hash: string;
}

export type LabReply =
  | { readonly id: number; readonly ok: true; readonly view: LabView; readonly atUs?: number; readonly undone?: boolean }
  | { readonly id: number; readonly ok: false; readonly error: string };

async function sha256Hex(lines: readonly string[]): Promise<string> {
  const bytes = new TextEncoder().encode(lines.map((l) => l + '\n').join(''));
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...d].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function view(s: LabSession): Promise<LabView> {
  const p = s.run.program;
  return {
    file: s.file,
    text: s.exportText(),
    recording: s.run.recording,
    endUs: s.endUs,
    hosts: [...p.nodes, ...(p.sentinels ?? []), ...(p.clients ?? [])].map((n) => n.name),
    done: s.done.map((d) => formatAction(d)),
    passed: s.run.result.passed,
    failed: s.run.result.failed,
    hash: await sha256Hex(s.run.traceLines),
  };
}

/** A refusal as the page shows it: a scenario error with its FILE:LINE:COL, a lab error, or one line. */
export function errorText(e: unknown): string {
  if (e instanceof ScenarioError) return e.format();
  if (e instanceof LabError) return e.message;
  return `psync-sim lab: ${e instanceof Error ? e.message : String(e)}`;
}

let session: LabSession | null = null;

async function handle(req: LabRequest, id: number): Promise<LabReply> {
  switch (req.op) {
    case 'start':
      session = new LabSession(req.source, req.file, req.seed);
      return { id, ok: true, view: await view(session) };
    case 'act': {
      if (session === null) throw new LabError('no scenario loaded');
      const atUs = session.act(req.action, req.atUs);
      return { id, ok: true, view: await view(session), atUs };
    }
    case 'run-on':
      if (session === null) throw new LabError('no scenario loaded');
      session.runOn(req.durUs);
      return { id, ok: true, view: await view(session) };
    case 'undo': {
      if (session === null) throw new LabError('no scenario loaded');
      const undone = session.undo();
      return { id, ok: true, view: await view(session), undone };
    }
  }
}

// One request at a time, in order: each is a change of the same session.
let queue: Promise<void> = Promise.resolve();
const scope = globalThis as unknown as { onmessage: ((ev: MessageEvent<{ id: number; req: LabRequest }>) => void) | null; postMessage(m: LabReply): void };
scope.onmessage = (ev) => {
  const { id, req } = ev.data;
  queue = queue.then(async () => {
    let reply: LabReply;
    try {
      reply = await handle(req, id);
    } catch (e) {
      reply = { id, ok: false, error: errorText(e) };
    }
    scope.postMessage(reply);
  });
};
