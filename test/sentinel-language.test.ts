/**
 * The sentinel half of the scenario language: what parses, how it prints back (the round trip),
 * and the FILE:LINE:COL errors for what does not.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../sim/scenario/parser.ts';
import { printScenario } from '../sim/scenario/printer.ts';
import { runScenario } from '../sim/scenario/run.ts';
import { ScenarioError } from '../sim/scenario/errors.ts';
import { parseErrorOf } from './support/parse-error.ts';

const TEXT = `nodes m r1
sentinels s1 s2
sentinel * monitor mymaster m 6379 2
sentinel s1 down-after-milliseconds mymaster 5000

at 0s
  s1: SENTINEL SET mymaster quorum 1
  partition s1 m | s2 r1
  heal
  pause s2 3s
  crash s1
  restart s1
  kill-link s2 m
await settled mymaster and s1.mymaster.flags contains master within 10s
  expect s1: SENTINEL get-master-addr-by-name mymaster => [ "m" "6379" ]
  expect s1: SENTINEL MASTERS => [ [ "name" "mymaster" ] ]
  expect s2.sentinel_tilt == 0 and not s1.mymaster.flags contains o_down
`;

const errorOf = (text: string): string => parseErrorOf(text);

describe('scenario language: sentinels', () => {
  it('parses every sentinel construct and round-trips through the printer', () => {
    const s = parseScenario(TEXT, 't.scn');
    expect(s.sentinels?.map((n) => n.name)).toEqual(['s1', 's2']);
    expect(s.sentinelConfigs?.map((c) => [c.target, c.words.join(' ')])).toEqual([
      ['*', 'monitor mymaster m 6379 2'], ['s1', 'down-after-milliseconds mymaster 5000']]);
    const printed = printScenario(s);
    expect(printScenario(parseScenario(printed, 'p.scn'))).toBe(printed);
    expect(printed).toContain('[ "m" "6379" ]');
    expect(printed).toContain('await settled mymaster and s1.mymaster.flags contains master within 10s');
    const expectStep = s.body.find((st) => st.kind === 'expect' && st.pred.kind === 'reply');
    expect(expectStep).toMatchObject({ pred: { expected: { kind: 'array', items: [{ kind: 'string', value: 'm' }, { kind: 'string', value: '6379' }] } } });
  });

  it('reports bad sentinel input at FILE:LINE:COL', () => {
    expect(errorOf('nodes m\nsentinel * monitor x m 6379 2\n')).toBe("x.scn:2:1: 'sentinel' before 'sentinels': declare the sentinels first (sentinels NAME...)");
    expect(errorOf('nodes m\nsentinels s1\nsentinel s9 monitor x m 6379 2\n')).toMatch(/^x\.scn:3:10: unknown sentinel 's9' \(sentinels are: s1\)/);
    expect(errorOf('nodes m\nsentinels m\n')).toMatch(/^x\.scn:2:11: duplicate host 'm'/);
    expect(errorOf('nodes m\nsentinels s1\nat 0s\nexpect s1: SENTINEL MASTERS => [ "a"\n')).toMatch(/^x\.scn:4:32: unclosed '\['/);
    expect(errorOf('nodes m\nsentinels s1\nat 0s\nexpect s1: PING => ["a"]\n')).toMatch(/^x\.scn:4:20: put spaces around/);
    expect(errorOf('nodes m\nat 0s\nawait settled mymaster within 1s\n')).toMatch(/^x\.scn:3:7: 'settled' needs sentinels/);
    expect(errorOf('nodes m\nsentinels s1\nat 0s\nload s1 10\n')).toMatch(/^x\.scn:4:6: unknown node 's1'/);
    expect(errorOf('nodes m\nsentinels s1\nat 0s\ncrash s9\n')).toMatch(/^x\.scn:4:7: unknown node or sentinel 's9'/);
  });

  it('a bad sentinel directive is an error at its line when the run starts', () => {
    const text = 'nodes m\nsentinels s1\nsentinel * monitor mymaster m 6379 2\nsentinel * bogus-option mymaster 5\nat 0s\n';
    let message = 'no error';
    try {
      runScenario(parseScenario(text, 'y.scn'), { trace: null, file: 'y.scn' });
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      message = e.format();
    }
    expect(message).toMatch(/^y\.scn:4:1: unknown sentinel directive 'bogus-option'/);
  });
});
