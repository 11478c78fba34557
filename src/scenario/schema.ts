/**
 * The JSON Schema (draft-07) of scenario files, generated from the grammar in
 * spec.ts and the op tables, for editors: monaco-yaml in the desktop app and
 * VS Code's YAML extension validate, complete and explain scenario files
 * with it (`# yaml-language-server: $schema=...`).
 *
 * Xen 2.0.0 and today's Xen differ in their op tables, VIRQ names, shutdown
 * reasons, vCPUs and in which steps exist. A step cannot see the document's
 * `xen` key, so the root picks the domains and steps of one hypervisor with
 * if/then/else on `xen`, and each hypervisor has its own definitions
 * (`xen4.*`, `xen2.*`): a union would accept a Xen 2.0 op in a Xen 4
 * scenario, and editors would complete ops that cannot run. Shared kinds
 * (durations, domains, $names, ...) are defined once.
 *
 * Some of what the validator checks is not a property of one value and stays
 * with it (the test lists them): a `$name` must be saved by an earlier step,
 * a domain name or id must be one of the scenario's, names must be unique,
 * and a few ranges of values written as text (memory, durations).
 */
import { ERRNOS, GNTST, GRANT_FLAGS, GRANT_FLAGS_PATTERN, DOMID_CONSTANTS, VIRQ_NAMES, SHUTDOWN_REASON_NAMES, NUM_KINDS, REF_PATTERN, SAVE_NAME_PATTERN, DURATION_PATTERN, MEMORY_PATTERN, MEMORY_MIN_BYTES, MEMORY_MAX_BYTES, UNICAST_MAC_PATTERN, XEN_VERSIONS, XEN_MODES, TOP_FIELDS, DOMAIN_FIELDS, CHECKS, COPY_SIDE_FIELDS, STEPS, STEP_ACTIONS, RESULT_DOCS, EXPECT_KEY_KINDS, forXen, onXen, opsOf, xenOpName, stepResults, type Field, type Fields, type Named, type NumKind, type StepSpec, type XenMode } from './spec.js';
import type { ArgSpec, OpSpec } from '../core/hv/hypercall.js';

export type JsonSchema = { [key: string]: unknown };

export const SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';
/** A name, not a place: editors load the schema from the file or URL they are given. */
export const SCHEMA_ID = 'urn:xenlab:schema:scenario';

const MODE_PREFIX: Readonly<Record<XenMode, string>> = { '4': 'xen4', '2.0': 'xen2' };
const MODE_WORDS: Readonly<Record<XenMode, string>> = { '4': "today's Xen", '2.0': 'Xen 2.0.0' };

function ref(name: string): JsonSchema {
  return { $ref: `#/definitions/${name}` };
}

/** A $ref with its own description (siblings of $ref are ignored by draft-07, so it goes inside allOf). */
function refWith(name: string, extra: JsonSchema): JsonSchema {
  return { ...extra, allOf: [ref(name)] };
}

function code(v: unknown): string {
  return `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
}

/** description (plain) and markdownDescription (for hovers) of a field. */
function describe(doc: string, extra: { default?: unknown; defaultDoc?: string; examples?: readonly unknown[]; xen?: XenMode } = {}): JsonSchema {
  const plain = [sentence(doc)];
  const md = [sentence(doc)];
  const dflt = extra.defaultDoc ?? (extra.default === undefined ? undefined : typeof extra.default === 'string' ? extra.default : JSON.stringify(extra.default));
  if (dflt !== undefined) {
    plain.push(`Default: ${dflt}.`);
    md.push(`Default: ${extra.defaultDoc ?? code(extra.default)}.`);
  }
  if (extra.xen !== undefined) {
    plain.push(`Only on ${MODE_WORDS[extra.xen]}.`);
    md.push(`Only on ${MODE_WORDS[extra.xen]}.`);
  }
  if (extra.examples !== undefined && extra.examples.length > 0) md.push(`Examples: ${extra.examples.map(code).join(', ')}.`);
  const description = plain.join(' ');
  const markdown = md.join('\n\n');
  // Editors show markdownDescription on hover when there is one; it is only worth its bytes when it says more.
  return markdown === description ? { description } : { description, markdownDescription: markdown };
}

/** Text as a sentence: a capital first letter (unless it starts with a name such as remote_dom), a final stop. */
function sentence(s: string): string {
  const t = s.trim();
  const first = /^[a-z]+\b(?!_)/.test(t) ? t.charAt(0).toUpperCase() + t.slice(1) : t;
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** An enum of Xen's names with a description for each (shown when completing). */
function names(list: readonly Named[], extra: JsonSchema = {}): JsonSchema {
  return { type: 'string', enum: list.map((n) => n.name), enumDescriptions: list.map((n) => n.doc), ...extra };
}

/** One generator run: the definitions it has made so far. */
class Generator {
  readonly definitions: Record<string, JsonSchema> = {};

  define(name: string, make: () => JsonSchema): string {
    if (!(name in this.definitions)) {
      this.definitions[name] = {};
      this.definitions[name] = make();
    }
    return name;
  }

  // ---- shared kinds ----

  refDef(): string {
    return this.define('ref', () => ({ type: 'string', pattern: REF_PATTERN, ...describe('a $name: the value an earlier step saved with save: { <field>: name }', { examples: ['$gport'] }) }));
  }

  durationDef(): string {
    return this.define('duration', () => ({
      ...describe('a duration: a number of ns, or a number with a unit (ns, us, µs, ms, s)', { examples: ['1ms', '250us', '2s', 1000] }),
      anyOf: [
        { type: 'integer', minimum: 0, description: 'nanoseconds' },
        { type: 'string', pattern: DURATION_PATTERN, description: 'a number with a unit: ns, us, µs, ms or s' },
      ],
      defaultSnippets: [{ label: '1ms', body: '1ms' }],
    }));
  }

  countDef(): string {
    return this.define('count', () => ({
      ...describe('how many: a whole number, or a range { min, max } (either bound may be left out)', { examples: [3, { min: 1, max: 10 }] }),
      anyOf: [
        { type: 'integer', minimum: 0, description: 'exactly this many' },
        {
          type: 'object',
          description: 'a range',
          properties: { min: { type: 'integer', minimum: 0, description: 'at least this many' }, max: { type: 'integer', minimum: 0, description: 'at most this many' } },
          additionalProperties: false,
          minProperties: 1,
        },
      ],
    }));
  }

  memoryDef(): string {
    return this.define('memory', () => ({
      ...describe(`guest memory: MiB as a number, or a whole number with KiB, MiB or GiB; at least ${MEMORY_MIN_BYTES / 2 ** 20}MiB, whole 4 KiB pages, at most ${MEMORY_MAX_BYTES / 2 ** 40}TiB`, { examples: ['64MiB', '1GiB', 128] }),
      anyOf: [
        { type: 'number', minimum: MEMORY_MIN_BYTES / 2 ** 20, maximum: MEMORY_MAX_BYTES / 2 ** 20, multipleOf: 4096 / 2 ** 20, description: 'MiB (whole 4 KiB pages)' },
        { type: 'string', pattern: MEMORY_PATTERN, description: 'a whole number with KiB, MiB or GiB' },
      ],
    }));
  }

  /** A domain of this scenario: its name, its id, or a $name. */
  domainDef(): string {
    return this.define('domain', () => ({
      ...describe('a domain of this scenario: its name (from domains), its id (0 is dom0, then 1, 2, ... in order), or a $name', { examples: ['dom0', 'guest', 1] }),
      anyOf: [
        { type: 'integer', minimum: 0, maximum: 0xffff, description: 'a domid: 0 is dom0, then 1, 2, ... in the order of domains' },
        { type: 'string', pattern: '^[^0-9$]', not: { enum: DOMID_CONSTANTS.map((d) => d.name) }, description: 'the name of one of the domains' },
        ref(this.refDef()),
      ],
    }));
  }

  /** A number of a kind, as op arguments and other number-like keys take it. */
  numDef(kind: NumKind, xen: XenMode): string {
    const k = NUM_KINDS[kind];
    const perXen = kind === 'virq' || kind === 'shutdown_reason';
    const name = perXen ? `${MODE_PREFIX[xen]}.${kind}` : kind;
    return this.define(name, () => {
      const int = (): JsonSchema => ({ type: 'integer', minimum: k.min ?? -Number.MAX_SAFE_INTEGER, maximum: k.max ?? Number.MAX_SAFE_INTEGER, description: `a number from ${k.min ?? -Number.MAX_SAFE_INTEGER} to ${k.max ?? Number.MAX_SAFE_INTEGER}` });
      const $name = ref(this.refDef());
      const d = describe(k.doc);
      switch (kind) {
        case 'domid':
          return { ...d, anyOf: [int(), names(DOMID_CONSTANTS, { description: 'a reserved domain id (DOMID_*)' }), { type: 'string', pattern: '^[^0-9$]', description: 'the name of one of the domains' }, $name] };
        case 'virq': {
          const virqs = onXen(VIRQ_NAMES, xen);
          const short = virqs.map((v) => v.name.replace(/^VIRQ_/, ''));
          return { ...d, anyOf: [int(), names(virqs, { description: `a VIRQ of ${MODE_WORDS[xen]}` }), { type: 'string', pattern: `^(${short.join('|')})$`, description: 'a VIRQ name without VIRQ_' }, $name] };
        }
        case 'shutdown_reason':
          return { ...d, anyOf: [int(), names(onXen(SHUTDOWN_REASON_NAMES, xen), { description: `a reason of ${MODE_WORDS[xen]}` }), $name] };
        case 'gnttab_flags':
          return {
            ...d,
            anyOf: [
              int(),
              names(GRANT_FLAGS, { description: 'one flag' }),
              { type: 'string', pattern: GRANT_FLAGS_PATTERN, description: 'flags joined with |, e.g. GNTMAP_host_map|GNTMAP_readonly' },
              { type: 'array', minItems: 1, items: { anyOf: [names(GRANT_FLAGS), { type: 'string', pattern: GRANT_FLAGS_PATTERN }] }, description: 'a list of flag names' },
              $name,
            ],
          };
        case 'ns':
          return { ...d, anyOf: [ref(this.durationDef()), $name] };
        case 'copy_side':
          return {
            ...d,
            type: 'object',
            properties: this.properties(COPY_SIDE_FIELDS, xen, 'gnttab_copy'),
            additionalProperties: false,
            anyOf: [{ required: ['ref'] }, { required: ['gmfn'] }],
          };
        default:
          return { ...d, anyOf: [int(), $name] };
      }
    });
  }

  // ---- expectations and saves ----

  /** One expected value under `key` (how a name is read depends on the key, at any depth). */
  expectedDef(xen: XenMode, key?: 'errno' | 'gntst' | 'domid' | 'virq'): string {
    const p = MODE_PREFIX[xen];
    return this.define(key === undefined ? `${p}.expected` : `${p}.expected.${key}`, () => {
      const self = ref(key === undefined ? `${p}.expected` : `${p}.expected.${key}`);
      const plain = { type: ['boolean', 'number'], description: 'a number or true/false, compared as written' };
      const $name = ref(this.refDef());
      const text: JsonSchema[] = [];
      let doc = 'an expected value: a number, text, true/false, a $name, a list or a mapping (only the keys written are compared)';
      switch (key) {
        case 'errno':
          doc = 'the expected return value: 0, a number, or an errno name such as -EINVAL';
          text.push(names(ERRNOS.map((e) => ({ ...e, name: `-${e.name}` })), { description: 'a negated errno' }), { type: 'string', pattern: `^(${ERRNOS.map((e) => e.name).join('|')})$`, description: 'an errno name (read as its negation)' });
          break;
        case 'gntst':
          doc = 'the expected status: a name such as interdomain (EVTCHNOP_status) or GNTST_okay (grant ops), or a number';
          text.push(names(GNTST, { description: 'a grant status (GNTST_*)' }), { type: 'string', pattern: '^(?!\\$|GNTST_)', description: 'a state name such as interdomain' });
          break;
        case 'domid':
          doc = 'an expected domain: its numeric domid, or a domain name or DOMID_* (read as its domid)';
          text.push(names(DOMID_CONSTANTS, { description: 'a reserved domain id' }), { type: 'string', pattern: '^[^0-9$]', description: 'the name of one of the domains' });
          break;
        case 'virq': {
          const virqs = onXen(VIRQ_NAMES, xen);
          doc = 'an expected VIRQ: its number or name';
          text.push(names(virqs, { description: `a VIRQ of ${MODE_WORDS[xen]}` }), { type: 'string', pattern: `^(${virqs.map((v) => v.name.replace(/^VIRQ_/, '')).join('|')})$`, description: 'a VIRQ name without VIRQ_' });
          break;
        }
        default:
          text.push({ type: 'string', pattern: '^(?!\\$)', description: 'text, compared as written' });
      }
      return { ...describe(doc), anyOf: [plain, ...text, $name, { type: 'array', items: self, description: 'a list, compared item by item' }, ref(this.expectDef(xen))] };
    });
  }

  /** An expect mapping: any keys; the ones Xen names are read as their kind. */
  expectDef(xen: XenMode): string {
    const p = MODE_PREFIX[xen];
    return this.define(`${p}.expect`, () => {
      const properties: Record<string, JsonSchema> = {};
      for (const [key, kind] of EXPECT_KEY_KINDS) properties[key] = refWith(this.expectedDef(xen, kind), describe(RESULT_DOCS[key] ?? `${key}, read as ${kind}`));
      return { type: 'object', ...describe('expected results: a mapping compared key by key (only the keys written, at any depth)'), properties, additionalProperties: ref(this.expectedDef(xen)) };
    });
  }

  /** `expect` of a step: the shared mapping, with its result fields described for completion. */
  expectFor(doc: string, results: readonly string[], xen: XenMode): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    for (const r of results) properties[r] = { ...describe(RESULT_DOCS[r] ?? `the result field ${r}`) };
    return { type: 'object', ...describe(doc, { examples: [{ ret: 0 }] }), allOf: [ref(this.expectDef(xen))], properties };
  }

  /** `save` of a step: result fields (a dotted path reaches inside) to names. */
  saveFor(doc: string, results: readonly string[]): JsonSchema {
    const name: JsonSchema = { type: 'string', pattern: SAVE_NAME_PATTERN, description: 'the name to save under (letters, digits, _), used later as $name' };
    const properties: Record<string, JsonSchema> = {};
    for (const r of results) properties[r] = { ...name, ...describe(`save ${r} (${RESULT_DOCS[r] ?? 'a result field'}) under a name`) };
    return { type: 'object', ...describe(doc, { examples: [{ [results[1] ?? 'ret']: 'name' }] }), propertyNames: { pattern: `^(${results.join('|')})(\\..*)?$` }, properties, additionalProperties: name };
  }

  // ---- fields ----

  properties(fields: Fields, xen: XenMode, context?: string, results: readonly string[] = ['ret']): Record<string, JsonSchema> {
    const out: Record<string, JsonSchema> = {};
    for (const [key, f] of Object.entries(fields)) if (f.xen === undefined || f.xen === xen) out[key] = this.field(f, xen, context, results);
    return out;
  }

  required(fields: Fields, xen: XenMode): string[] {
    return Object.entries(fields).filter(([, f]) => f.required === true && (f.xen === undefined || f.xen === xen)).map(([k]) => k);
  }

  map(fields: Fields, xen: XenMode, context?: string, results?: readonly string[], rules: { oneOf?: readonly string[]; anyOf?: readonly string[] } = {}): JsonSchema {
    const required = this.required(fields, xen);
    // A key that needs others beside it (every needs repeat).
    const needs = Object.entries(fields).filter(([, f]) => f.requires !== undefined && (f.xen === undefined || f.xen === xen));
    return {
      type: 'object',
      properties: this.properties(fields, xen, context, results),
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: false,
      ...(rules.oneOf !== undefined ? { oneOf: rules.oneOf.map((k) => ({ required: [k] })) } : {}),
      ...(rules.anyOf !== undefined ? { anyOf: rules.anyOf.map((k) => ({ required: [k] })) } : {}),
      ...(needs.length > 0 ? { dependencies: Object.fromEntries(needs.map(([k, f]) => [k, [...f.requires!]])) } : {}),
    };
  }

  field(f: Field, xen: XenMode, context: string | undefined, results: readonly string[]): JsonSchema {
    const d = describe(f.doc, { ...(f.default !== undefined ? { default: f.default } : {}), ...(f.defaultDoc !== undefined ? { defaultDoc: f.defaultDoc } : {}), ...(f.examples !== undefined ? { examples: f.examples } : {}), ...(f.xen !== undefined ? { xen: f.xen } : {}) });
    const extra: JsonSchema = { ...d, ...(f.default !== undefined ? { default: f.default } : {}), ...(f.examples !== undefined ? { examples: f.examples } : {}) };
    const k = f.kind;
    switch (k.t) {
      case 'text':
        return { type: 'string', ...(k.empty ? {} : { minLength: 1 }), ...(k.pattern !== undefined ? { pattern: k.pattern } : {}), ...(k.reserved !== undefined ? { not: { enum: k.reserved } } : {}), ...extra };
      case 'bool':
        return { type: 'boolean', ...extra };
      case 'int':
        return { type: 'integer', minimum: k.min, maximum: forXen(k.max, xen), ...extra };
      case 'choice':
        return names(onXen(k.choices, xen), extra);
      case 'xen':
        return { enum: XEN_VERSIONS.flatMap((v) => v.spellings), enumDescriptions: XEN_VERSIONS.flatMap((v) => v.spellings.map(() => v.doc)), ...extra };
      case 'duration':
        return refWith(this.durationDef(), extra);
      case 'memory':
        return refWith(this.memoryDef(), extra);
      case 'mac':
        return { type: 'string', pattern: UNICAST_MAC_PATTERN, ...extra };
      case 'domain':
        return refWith(this.domainDef(), extra);
      case 'num':
        return refWith(this.numDef(k.kind, xen), extra);
      case 'list':
        return { type: 'array', items: this.field(k.item, xen, context, results), ...extra };
      case 'map':
        return { ...this.map(k.fields, xen, context, results, k), ...extra };
      case 'domain_or_map':
        return { ...extra, anyOf: [ref(this.domainDef()), this.map(k.fields, xen, context, results)] };
      case 'expect':
        return this.expectFor(f.doc, results, xen);
      case 'save':
        return this.saveFor(f.doc, results);
      case 'expected':
        return refWith(this.expectedDef(xen), extra);
      case 'check':
        return refWith(this.checkDef(xen), extra);
      case 'count':
        return refWith(this.countDef(), extra);
      case 'texts':
        return { ...extra, anyOf: [{ type: 'string', description: 'one text' }, { type: 'array', minItems: 1, items: { type: 'string' }, description: 'several texts: each holds' }] };
      case 'by_domain':
        return { type: 'object', ...extra, propertyNames: { pattern: '^[^$]' }, additionalProperties: this.field(k.item, xen, context, results) };
      case 'count_by_port':
        return {
          ...extra,
          anyOf: [
            ref(this.countDef()),
            { type: 'object', description: 'a count per port: { <port>: count }', propertyNames: { pattern: `^(\\d+|${REF_PATTERN.slice(1, -1)})$` }, additionalProperties: ref(this.countDef()), minProperties: 1 },
          ],
        };
      case 'op':
      case 'args':
        // Filled in per op by opStep.
        return { ...extra };
    }
  }

  // ---- checks ----

  checkDef(xen: XenMode): string {
    return this.define(`${MODE_PREFIX[xen]}.check`, () => {
      const all: Record<string, JsonSchema> = {};
      for (const fields of [CHECKS.console, CHECKS.port, CHECKS.vcpu]) for (const [k, f] of Object.entries(fields)) all[k] ??= describe(f.doc);
      const branch = (fields: Fields): JsonSchema => this.map(fields, xen);
      return {
        type: 'object',
        ...describe('what to look at and what to find: a port ({ domain, port, ... }), a vCPU ({ domain, vcpu, ... }) or a console ({ domain, console }); only the keys written are compared'),
        properties: all,
        required: ['domain'],
        if: { required: ['console'] },
        then: branch(CHECKS.console),
        else: { if: { required: ['port'] }, then: branch(CHECKS.port), else: branch(CHECKS.vcpu) },
        defaultSnippets: [
          { label: 'port', body: { domain: '${1:guest}', port: '^${2:1}', pending: '^${3:true}' } },
          { label: 'vCPU', body: { domain: '${1:guest}', vcpu: '^${2:0}', upcall_pending: '^${3:true}' } },
          { label: 'console', body: { domain: '${1:guest}', console: '${2:text}' } },
        ],
      };
    });
  }

  // ---- ops ----

  argsDef(op: OpSpec, xen: XenMode): string {
    return this.define(`${MODE_PREFIX[xen]}.args.${op.name}`, () => {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [name, a] of Object.entries(op.args) as [string, ArgSpec | undefined][]) {
        if (a === undefined) continue;
        if (a.default === undefined) required.push(name);
        const dflt = a.default === undefined ? undefined : a.kind === 'domid' ? (DOMID_CONSTANTS.find((c) => c.value === a.default)?.name ?? a.default) : a.default;
        properties[name] = refWith(this.numDef(a.kind, xen), {
          // The kind says how the value may be written, unless the op's own words already do.
          ...describe(`${xenOpName(op)}.${name}: ${a.doc}.${a.kind === 'shutdown_reason' || a.kind === 'copy_side' ? '' : ` ${sentence(NUM_KINDS[a.kind].doc)}`}`, dflt === undefined ? {} : { default: dflt }),
          ...(dflt === undefined ? {} : { default: dflt }),
        });
      }
      return {
        type: 'object',
        ...describe(`the arguments of ${xenOpName(op)} (${op.hypercall}), under Xen's field names: ${Object.keys(properties).join(', ') || 'none'}`),
        properties,
        ...(required.length > 0 ? { required } : {}),
        additionalProperties: false,
      };
    });
  }

  opStep(step: StepSpec, xen: XenMode): JsonSchema {
    const ops = [...opsOf(xen).values()];
    const base = this.map(step.keys, xen);
    const props = base.properties as Record<string, JsonSchema>;
    props.op = { ...props.op, ...names(ops.map((o) => ({ name: o.name, doc: `${xenOpName(o)}: ${o.doc}${o.out.length > 0 ? ` → ${o.out.join(', ')}` : ''}` })), props.op) };
    props.args = { type: 'object', ...props.args };
    // What expect and save may hold depends on the op: the branch of each op says it.
    props.save = { type: 'object', ...describe(step.keys.save!.doc) };
    const perOp = ops.map((op) => {
      const results = ['ret', ...op.out];
      const needsArgs = Object.values(op.args).some((a) => a !== undefined && a.default === undefined);
      return {
        if: { properties: { op: { const: op.name } }, required: ['op'] },
        then: {
          properties: {
            args: refWith(this.argsDef(op, xen), describe(`the arguments of ${xenOpName(op)}`)),
            expect: this.expectFor(`expected results of ${xenOpName(op)}: ret and ${op.out.length > 0 ? op.out.join(', ') : 'no other field'}`, results, xen),
            save: this.saveFor(`keeps result fields of ${xenOpName(op)} (${results.join(', ')}) under names for later steps`, results),
          },
          ...(needsArgs ? { required: ['args'] } : {}),
        },
      };
    });
    return { ...base, allOf: perOp };
  }

  // ---- steps and domains ----

  stepVariant(step: StepSpec, xen: XenMode): JsonSchema {
    if (step.group === 'hypercall') return this.opStep(step, xen);
    return this.map(step.keys, xen, step.action, stepResults(step, xen));
  }

  stepDef(xen: XenMode): string {
    const p = MODE_PREFIX[xen];
    return this.define(`${p}.step`, () => {
      const steps = STEP_ACTIONS.map((a) => STEPS.get(a)!).filter((s) => s.xen === undefined || s.xen === xen);
      const properties: Record<string, JsonSchema> = {};
      for (const s of steps) {
        for (const [k, f] of Object.entries(s.keys)) {
          if (f.xen !== undefined && f.xen !== xen) continue;
          if (k === s.action) properties[k] = describe(`${s.doc}. ${sentence(f.doc)}`);
          else properties[k] ??= describe(f.doc);
        }
      }
      const variants = steps.map((s) => ({ if: { required: [s.action] }, then: refWith(this.define(`${p}.step.${s.action}`, () => ({ ...describe(s.doc), ...this.stepVariant(s, xen) })), {}) }));
      return {
        type: 'object',
        ...describe(`a step on ${MODE_WORDS[xen]}: one of ${steps.map((s) => s.action).join(', ')}, with its own keys`),
        properties,
        additionalProperties: false,
        oneOf: steps.map((s) => ({ required: [s.action] })),
        allOf: variants,
        defaultSnippets: steps.flatMap((s) => (s.snippet === undefined ? [] : [{ ...forXen(s.snippet, xen), description: s.doc }])),
      };
    });
  }

  domainsDef(xen: XenMode): string {
    const p = MODE_PREFIX[xen];
    return this.define(`${p}.domains`, () => {
      const fields = (dom0: boolean): Fields => {
        const out: Record<string, Field> = {};
        for (const [k, f] of Object.entries(DOMAIN_FIELDS)) {
          if (dom0 && k === 'devices') continue;
          out[k] = dom0 && f.kind.t === 'choice' && k === 'kernel' ? { ...f, doc: `${f.doc}; dom0 runs the default kernel (with ${xen === '2.0' ? 'xend' : 'xenstored and xenconsoled'})`, kind: { t: 'choice', choices: f.kind.choices.filter((c) => c.name === 'default') } } : f;
        }
        return out;
      };
      const dom0 = this.define(`${p}.dom0`, () => ({ ...describe('dom0: domid 0, privileged, the hardware domain; it runs the toolstack and the backends'), ...this.map(fields(true), xen) }));
      const snippets = [
        { label: 'guest', description: 'a guest with the default kernel', body: { name: '${1:guest}' } },
        ...(xen === '4' ? [{ label: 'Mini-OS guest', description: 'Mini-OS with its console and xenstore rings', body: { name: '${1:mini}', kernel: 'minios' } }] : [{ label: 'Plan 9 guest', description: 'Plan 9 over the control interface', body: { name: '${1:plan9}', kernel: 'plan9' } }]),
      ];
      const guest = this.define(`${p}.guest`, () => ({
        ...describe('a guest domain (domid 1, 2, ... in order)'),
        ...this.map(fields(false), xen),
        defaultSnippets: snippets,
      }));
      return {
        type: 'array',
        ...describe(TOP_FIELDS.domains!.doc),
        minItems: 1,
        items: [ref(dom0)],
        additionalItems: ref(guest),
      };
    });
  }
}

/** The JSON Schema (draft-07) of scenario files. */
export function scenarioJsonSchema(): JsonSchema {
  const g = new Generator();
  const root = g.map(TOP_FIELDS, '4');
  const props = root.properties as Record<string, JsonSchema>;
  // The root's own properties describe every key; what depends on the hypervisor comes from the branch below.
  props.domains = { type: 'array', minItems: 1, ...describe(TOP_FIELDS.domains!.doc) };
  props.steps = { type: 'array', ...describe(TOP_FIELDS.steps!.doc, { defaultDoc: 'none' }) };
  const branch = (xen: XenMode): JsonSchema => ({
    properties: {
      abi: g.field(TOP_FIELDS.abi!, xen, undefined, []),
      domains: refWith(g.domainsDef(xen), describe(`${TOP_FIELDS.domains!.doc} (${MODE_WORDS[xen]})`)),
      steps: { type: 'array', items: ref(g.stepDef(xen)), ...describe(`${TOP_FIELDS.steps!.doc} (${MODE_WORDS[xen]})`) },
    },
  });
  const xen2 = XEN_VERSIONS.find((v) => v.mode === '2.0')!;
  const schema: JsonSchema = {
    $schema: SCHEMA_DRAFT,
    $id: SCHEMA_ID,
    title: 'XenLab scenario',
    ...describe('a XenLab scenario: a topology of domains and a list of steps run in order on a simulated Xen (see docs/step-form.md)'),
    ...root,
    if: { required: ['xen'], properties: { xen: { enum: xen2.spellings } } },
    then: branch('2.0'),
    else: branch('4'),
    defaultSnippets: [{ label: 'scenario', description: 'dom0 and a guest', body: { name: '${1:a title}', domains: [{ name: 'dom0' }, { name: '${2:guest}' }], steps: [{ run: '${3:1ms}' }] } }],
  };
  // Every definition made, in a stable order.
  for (const xen of XEN_MODES) {
    g.domainsDef(xen);
    g.stepDef(xen);
  }
  schema.definitions = Object.fromEntries(Object.keys(g.definitions).sort().map((k) => [k, g.definitions[k]]));
  return schema;
}

/** The schema as the shipped file holds it: JSON with a 2-space indent and a final newline. */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}

export const SOLUTION_SCHEMA_ID = 'urn:xenlab:schema:solution';

/**
 * The JSON Schema of an exercise's solution file (YAML): `steps: [...]`, the
 * steps that take the place of the exercise's solution placeholder. The file
 * does not say which Xen the exercise runs on, so a step of either hypervisor
 * is accepted here; the validator knows the exercise, and says more.
 */
export function solutionJsonSchema(): JsonSchema {
  const g = new Generator();
  const schema: JsonSchema = {
    $schema: SCHEMA_DRAFT,
    $id: SOLUTION_SCHEMA_ID,
    title: 'XenLab exercise solution',
    ...describe("the solution to an exercise (docs/exercises.md): the steps that go where the exercise's solution placeholder is; xenlab check EXERCISE --solution FILE grades them"),
    type: 'object',
    properties: {
      steps: {
        type: 'array',
        ...describe("the student's steps, in the step form of the exercise's hypervisor (docs/step-form.md); $names saved before the placeholder may be used, and the ones the placeholder lists in saves must be saved"),
        items: { ...describe('a step'), anyOf: XEN_MODES.map((xen) => refWith(g.stepDef(xen), describe(`a step on ${MODE_WORDS[xen]}`))) },
      },
    },
    required: ['steps'],
    additionalProperties: false,
    defaultSnippets: [{ label: 'solution', description: 'the steps of a solution', body: { steps: [{ as: '${1:guest}', op: '${2:bind_virq}', args: {} }] } }],
  };
  schema.definitions = Object.fromEntries(Object.keys(g.definitions).sort().map((k) => [k, g.definitions[k]]));
  return schema;
}

/** The solution schema as the shipped file holds it. */
export function solutionJsonSchemaText(): string {
  return `${JSON.stringify(solutionJsonSchema(), null, 2)}\n`;
}

/** Every op of both hypervisors, for tests and docs. */
export function allOps(): { xen: XenMode; op: OpSpec }[] {
  return XEN_MODES.flatMap((xen) => [...opsOf(xen).values()].map((op) => ({ xen, op })));
}

/** Where in the schema an op's arguments are defined. */
export function argsDefinitionName(xen: XenMode, op: string): string {
  return `${MODE_PREFIX[xen]}.args.${op}`;
}

