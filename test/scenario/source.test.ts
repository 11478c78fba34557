import { describe, expect, it } from 'vitest';
import { ScenarioInputError } from '../../src/scenario/errors.js';
import { Cursor, parseYaml, resolvePlain } from '../../src/scenario/source.js';

function problems(text: string) {
  try {
    parseYaml('s.yaml', text);
  } catch (e) {
    if (e instanceof ScenarioInputError) return e.problems;
    throw e;
  }
  return [];
}

function root(text: string): Cursor {
  const src = parseYaml('s.yaml', text);
  return new Cursor(src, src.root, '');
}

describe('YAML source with positions', () => {
  it('resolves plain scalars by YAML 1.2 core schema, quoted ones stay text', () => {
    expect([resolvePlain('0x1f'), resolvePlain('0o17'), resolvePlain('-12'), resolvePlain('1.5e3'), resolvePlain('.inf')]).toEqual([31, 15, -12, 1500, Infinity]);
    expect([resolvePlain('True'), resolvePlain('FALSE'), resolvePlain('~'), resolvePlain('yes'), resolvePlain('0b11')]).toEqual([true, false, null, 'yes', '0b11']);
    const r = root('a: "12"\nb: 12\nc: !!str 7\n');
    expect([r.get('a').scalar(), r.get('b').scalar(), r.get('c').scalar()]).toEqual(['12', 12, '7']);
  });

  it('points at keys, values and quoted values by line and column', () => {
    const r = root('name: x\nsteps:\n  - { as: "guest", op: send }\n');
    const step = r.get('steps').items()[0]!;
    expect(step.get('as').pos()).toEqual({ line: 3, col: 11 });
    expect(step.get('op').pos()).toEqual({ line: 3, col: 24 });
    expect(step.entries().map((e) => [e.key, e.keyPos])).toEqual([
      ['as', { line: 3, col: 7 }],
      ['op', { line: 3, col: 20 }],
    ]);
    // A missing key points at the mapping it is missing from.
    expect(step.get('args').pos()).toEqual({ line: 3, col: 5 });
    expect(step.get('args').path).toBe('steps[0].args');
  });

  it('reads an empty value as missing, not as a value', () => {
    const r = root('a:\nb: { c }\n');
    expect(r.get('a').exists).toBe(false);
    expect(r.get('b').get('c').node).toBeNull();
    expect(r.get('b').has('c')).toBe(true);
  });

  it('refuses duplicate keys at the second one, and a second document', () => {
    const [dup] = problems('a: 1\nb: 2\na: 3\n');
    expect(dup).toMatchObject({ line: 3, col: 1 });
    expect(dup!.message).toMatch(/"a" appears twice/);
    const [second] = problems('a: 1\n---\nb: 2\n');
    expect(second!.line).toBe(3);
    expect(second!.message).toMatch(/one YAML document/);
  });

  it('reports a syntax error at its line and column, with the parser reason', () => {
    expect(problems('a: [1, 2\nb: 3\n')[0]).toMatchObject({ file: 's.yaml', hint: 'YAML syntax' });
    expect(problems('a: 1\n  b: 2\n')[0]).toMatchObject({ line: 2, col: 4, message: 'bad indentation of a mapping entry' });
  });

  it('follows aliases to their anchored node, and refuses an unknown one', () => {
    const r = root('x: &p { port: 3 }\ny: *p\n');
    expect(r.get('y').get('port').scalar()).toBe(3);
    expect(problems('y: *nope\n')[0]!.message).toMatch(/unknown alias "\*nope"/);
  });
});
