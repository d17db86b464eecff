/**
 * `psync-sim explain FILE`: replay one scenario with the recorder on and print the run as
 * numbered paragraphs for a learner (sim/trace/explain.ts). Exit status as `run`.
 */
import { readFileSync } from 'node:fs';
import { parseScenario } from '../scenario/parser.ts';
import { ScenarioError } from '../scenario/errors.ts';
import { runScenario } from '../scenario/run.ts';
import type { RunResult } from '../scenario/run.ts';
import type { Scenario } from '../scenario/ast.ts';
import { Recorder } from '../trace/record.ts';
import type { Recording } from '../trace/record.ts';
import { explain } from '../trace/explain.ts';

/** Parse and replay `text` with a recorder attached; ScenarioError for an invalid file. */
export function recordScenario(text: string, file: string, seed?: string, bugs: readonly import('../core/bugs.ts').BugName[] = []):
  { scenario: Scenario; result: RunResult; recording: Recording } {
  const scenario = parseScenario(text, file);
  const rec = new Recorder();
  const result = runScenario(scenario, { seed, trace: rec.sink, observe: rec.observe, file, source: text, bugs });
  const recording = rec.recording({ title: scenario.title, file, seed: result.seed, nodes: scenario.nodes.map((n) => n.name), endUs: result.virtualUs });
  return { scenario, result, recording };
}

export interface ExplainOptions {
  readonly file: string;
  readonly seed?: string;
}

export function explainCommand(o: ExplainOptions): number {
  let text: string;
  try {
    text = readFileSync(o.file, 'latin1');
  } catch (e) {
    process.stderr.write(`psync-sim: cannot read ${o.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 2;
  }
  try {
    const { scenario, result, recording } = recordScenario(text, o.file, o.seed);
    const out: string[] = [`${o.file}${scenario.title ? ` — ${scenario.title}` : ''} (seed ${result.seed})`, ''];
    for (const p of explain(recording)) out.push(wrap(p, Math.min(100, process.stdout.columns || 100)), '');
    process.stdout.write(out.join('\n'));
    return result.failed > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof ScenarioError) {
      process.stderr.write(e.format() + '\n');
      return 2;
    }
    throw e;
  }
}

/** Wrap a paragraph at `width` columns, continuation lines indented under the text. */
export function wrap(text: string, width: number): string {
  const m = /^(\d+\. )/.exec(text);
  const indent = ' '.repeat(m ? m[1]!.length : 0);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent + word;
    } else line = line.length > 0 ? `${line} ${word}` : word;
  }
  if (line.length > 0) lines.push(line);
  return lines.join('\n');
}
