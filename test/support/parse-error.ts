/** The one-line error a scenario text gets from the parser, as the CLI prints it, or 'no error'. */
import { parseScenario } from '../../sim/scenario/parser.ts';
import { ScenarioError } from '../../sim/scenario/errors.ts';

export function parseErrorOf(text: string, file = 'x.scn'): string {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return e.format();
    throw e;
  }
  return 'no error';
}
