// The JSON Schema (src/scenario/schema.ts) and the validator (src/scenario/stepform.ts) come from one
// grammar (src/scenario/spec.ts). These tests hold them to it: both accept every example scenario,
// both refuse every broken one in test/scenario/broken/ (or the file says why only the validator can),
// every op of both hypervisors is in the schema with all its arguments, every key has a description,
// and the shipped schema/scenario.schema.json is the one the code generates.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPS } from '../../src/core/hv/hypercall.js';
import { OPS_XEN2 } from '../../src/core/hv/hypercall_xen2.js';
import { ScenarioInputError, type Problem } from '../../src/scenario/errors.js';
import { argsDefinitionName, scenarioJsonSchema, scenarioJsonSchemaText, type JsonSchema } from '../../src/scenario/schema.js';
import { keysOf, STEP_ACTIONS, STEPS, TOP_FIELDS, type XenMode } from '../../src/scenario/spec.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const ROOT = join(import.meta.dirname, '../..');
const BROKEN = join(import.meta.dirname, 'broken');
const SHIPPED = join(ROOT, 'schema/scenario.schema.json');

/** Every file under dir whose name ends in .yaml, recursively. */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? yamlFiles(p) : f.endsWith('.yaml') ? [p] : [];
    });
}

const schema = scenarioJsonSchema();

function compile(s: JsonSchema): ValidateFunction {
  // Strict, except where the schema means it: a 1-tuple (dom0) followed by additionalItems (the guests),
  // `required` naming keys a sibling branch defines, and type unions (true/false or a number).
  const ajv = new Ajv({ allErrors: true, strict: true, strictTuples: false, strictRequired: false, allowUnionTypes: true });
  // Editor keywords (VS Code, monaco-yaml): not validation.
  ajv.addVocabulary(['markdownDescription', 'enumDescriptions', 'defaultSnippets']);
  return ajv.compile(s);
}

const validateSchema = compile(schema);

function schemaErrors(text: string): ErrorObject[] {
  return validateSchema(parse(text)) ? [] : (validateSchema.errors ?? []);
}

function validatorProblems(file: string, text: string): Problem[] {
  try {
    loadScenario(file, text);
    return [];
  } catch (e) {
    if (e instanceof ScenarioInputError) return e.problems;
    throw e;
  }
}

/** A problem path (steps[0].args.port) as a JSON pointer (/steps/0/args/port). */
function pointer(path: string): string {
  return path === '' ? '' : `/${path.replace(/\[(\d+)\]/g, '.$1').split('.').join('/')}`;
}

describe('the schema and the validator agree on every example', () => {
  const examples = yamlFiles(join(ROOT, 'scenarios'));

  it('has examples to agree on', () => {
    expect(examples.length).toBeGreaterThan(20);
  });

  for (const file of examples) {
    it(relative(ROOT, file), () => {
      const text = readFileSync(file, 'utf8');
      expect(validatorProblems(file, text)).toEqual([]);
      expect(schemaErrors(text).map((e) => `${e.instancePath} ${e.message ?? ''}`)).toEqual([]);
    });
  }
});

interface BrokenCase {
  file: string;
  text: string;
  /** broken: both refuse it; validator-only: the schema cannot tell (why says why). */
  kind: 'broken' | 'validator-only';
  why: string;
  /** The path of the problem the validator reports. */
  at: string;
}

const broken: BrokenCase[] = yamlFiles(BROKEN).map((file) => {
  const text = readFileSync(file, 'utf8');
  const head = /^# (broken|validator-only): (.+)\n# at: ?(.*)\n/.exec(text);
  if (head === null) throw new Error(`${file}: starts with "# broken: <what>" or "# validator-only: <why>", then "# at: <path>"`);
  return { file: relative(BROKEN, file), text, kind: head[1] as BrokenCase['kind'], why: head[2]!.trim(), at: head[3]!.trim() };
});

describe('broken scenarios: both refuse them', () => {
  it('has a corpus of each kind', () => {
    expect(broken.filter((b) => b.kind === 'broken').length).toBeGreaterThan(50);
    expect(broken.filter((b) => b.kind === 'validator-only').length).toBeGreaterThan(5);
  });

  for (const b of broken.filter((x) => x.kind === 'broken')) {
    it(`${b.file}: ${b.why}`, () => {
      const problems = validatorProblems(b.file, b.text);
      expect(problems.map((p) => p.path), 'the validator points at the broken key').toContain(b.at);
      const errors = schemaErrors(b.text);
      expect(errors.length, 'the schema refuses it').toBeGreaterThan(0);
      // ...at the broken value, or at the mapping (or the one above) that misses or must not have it.
      const at = pointer(b.at);
      const near = [at, at.split('/').slice(0, -1).join('/'), at.split('/').slice(0, -2).join('/')];
      expect(errors.some((e) => near.includes(e.instancePath) && (e.instancePath !== '' || at.split('/').length <= 2)), JSON.stringify(errors.map((e) => `${e.instancePath} ${e.message ?? ''}`))).toBe(true);
    });
  }
});

describe('validator-only checks: what JSON Schema cannot say', () => {
  // Each of these files says why in its first line. The schema accepts them: if it learns to
  // refuse one, the file moves to "# broken:".
  for (const b of broken.filter((x) => x.kind === 'validator-only')) {
    it(`${b.file}: ${b.why}`, () => {
      expect(validatorProblems(b.file, b.text).map((p) => p.path)).toContain(b.at);
      expect(schemaErrors(b.text)).toEqual([]);
    });
  }

  it('a key written with no value: the validator reads it as left out, the schema (JSON has no "left out" value) refuses the null', () => {
    // The one place the schema is stricter than the validator: an editor flags `seed:` while it is
    // being typed, and `xenlab run` takes the default.
    const text = 'name: t\nseed:\ndomains: [{ name: dom0 }]\n';
    expect(validatorProblems('s.yaml', text)).toEqual([]);
    expect(schemaErrors(text).map((e) => e.instancePath)).toContain('/seed');
  });
});

describe('the schema covers the grammar', () => {
  const defs = schema.definitions as Record<string, JsonSchema>;

  it('is draft-07, with an $id, and valid against the draft-07 meta-schema', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(typeof schema.$id).toBe('string');
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
  });

  const modes: [XenMode, ReadonlyMap<string, { args: object; out: readonly string[] }>][] = [
    ['4', OPS],
    ['2.0', OPS_XEN2],
  ];
  for (const [xen, ops] of modes) {
    it(`has every op of ${xen === '4' ? "today's Xen (OPS)" : 'Xen 2.0.0 (OPS_XEN2)'} with all its arguments, and no other`, () => {
      const opStep = defs[`${xen === '4' ? 'xen4' : 'xen2'}.step.op`]!;
      const opEnum = ((opStep.properties as Record<string, JsonSchema>).op!.enum as string[]).slice().sort();
      expect(opEnum).toEqual([...ops.keys()].sort());
      for (const [name, op] of ops) {
        const args = defs[argsDefinitionName(xen, name)];
        expect(args, name).toBeDefined();
        const specArgs = op.args as Record<string, { default?: number } | undefined>;
        expect(Object.keys(args!.properties as object).sort(), name).toEqual(Object.keys(specArgs).sort());
        expect(((args!.required as string[] | undefined) ?? []).slice().sort(), name).toEqual(
          Object.entries(specArgs)
            .filter(([, a]) => a?.default === undefined)
            .map(([k]) => k)
            .sort(),
        );
        expect(args!.additionalProperties, name).toBe(false);
      }
    });
  }

  it('gives every key, definition and enum value a description', () => {
    const missing: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${at}/${i}`));
      if (typeof node !== 'object' || node === null) return;
      const o = node as JsonSchema;
      if (o.properties !== undefined) {
        for (const [k, v] of Object.entries(o.properties as Record<string, JsonSchema>)) {
          if (typeof v.description !== 'string' || v.description.trim() === '') missing.push(`${at}/properties/${k}`);
        }
      }
      if (Array.isArray(o.enum) && o.enumDescriptions !== undefined) {
        const d = o.enumDescriptions as unknown[];
        if (d.length !== o.enum.length || d.some((x) => typeof x !== 'string' || x.trim() === '')) missing.push(`${at}/enumDescriptions`);
      }
      // `if` holds conditions, not keys a person writes: no hover shows them.
      for (const [k, v] of Object.entries(o)) if (!['enum', 'examples', 'default', 'if'].includes(k)) walk(v, `${at}/${k}`);
    };
    walk(schema, '#');
    for (const [name, d] of Object.entries(defs)) if (typeof d.description !== 'string' || d.description === '') missing.push(`#/definitions/${name}`);
    expect(missing).toEqual([]);
  });

  it('lists the same top-level and step keys as the validator', () => {
    expect(Object.keys(schema.properties as object)).toEqual(keysOf(TOP_FIELDS));
    const hint = validatorProblems('s.yaml', 'nonsense: 1\ndomains: [{ name: dom0 }]\n')[0]!.hint;
    expect(hint).toBe(`expected one of: ${keysOf(TOP_FIELDS).join(', ')}`);
    for (const [xen, p] of [['4', 'xen4'], ['2.0', 'xen2']] as const) {
      const stepKeys = new Set(STEP_ACTIONS.filter((a) => STEPS.get(a)!.xen === undefined || STEPS.get(a)!.xen === xen).flatMap((a) => keysOf(STEPS.get(a)!.keys, xen)));
      expect(Object.keys(defs[`${p}.step`]!.properties as object).sort()).toEqual([...stepKeys].sort());
    }
  });

  it('names Xen\'s values: VIRQs, GNTMAP flags, errnos, GNTST statuses, port states', () => {
    const text = JSON.stringify(schema);
    for (const name of ['VIRQ_TIMER', 'VIRQ_DOM_EXC', 'VIRQ_MISDIRECT', 'GNTMAP_host_map', 'GNTCOPY_source_gref', '-EINVAL', 'GNTST_bad_gntref', 'interdomain', 'DOMID_SELF', 'soft_reset']) expect(text).toContain(`"${name}"`);
    // remote_dom of EVTCHNOP_bind_interdomain, in Xen's words
    const remote = (defs[argsDefinitionName('4', 'bind_interdomain')]!.properties as Record<string, JsonSchema>).remote_dom!;
    expect(remote.description).toMatch(/^EVTCHNOP_bind_interdomain\.remote_dom: domain owning the unbound port\./);
  });

  it('offers snippets that insert valid YAML', () => {
    const expand = (v: unknown): unknown => {
      if (typeof v === 'string') {
        const s = v.replace(/\$\{\d+:([^}]*)\}/g, '$1');
        return s.startsWith('^') ? parse(s.slice(1)) : s;
      }
      if (Array.isArray(v)) return v.map(expand);
      if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expand(x)]));
      return v;
    };
    const bodies = (node: unknown): unknown[] => (node as { defaultSnippets?: { body: unknown }[] }).defaultSnippets?.map((s) => expand(s.body)) ?? [];
    const check = (doc: object): void => {
      const text = JSON.stringify(doc);
      expect(validatorProblems('s.yaml', text)).toEqual([]);
      expect(schemaErrors(text)).toEqual([]);
    };
    for (const root of bodies(schema)) check(root as object);
    for (const [xen, p] of [['4', 'xen4'], ['2.0', 'xen2']] as const) {
      const base = { xen, domains: [{ name: 'dom0' }, { name: 'guest' }] };
      for (const step of bodies(defs[`${p}.step`])) check({ ...base, steps: [step] });
      for (const check_ of bodies(defs[`${p}.check`])) check({ ...base, steps: [{ check: check_ }] });
      for (const guest of bodies(defs[`${p}.guest`])) check({ xen, domains: [{ name: 'dom0' }, guest] });
    }
  });
});

describe('the shipped schema', () => {
  it('schema/scenario.schema.json is what the code generates (run `npm run schema` after changing the grammar or the op tables)', () => {
    expect(readFileSync(SHIPPED, 'utf8') === scenarioJsonSchemaText(), 'schema/scenario.schema.json is stale: run npm run schema').toBe(true);
  });
});
