/**
 * Checks a scenario document in the step form and compiles it for the
 * runner. Every problem is collected with its position; nothing runs unless
 * the whole document is sound.
 */
import { errnoByName, ERRNO_NAMES } from '../core/abi/errno.js';
import { virqByName } from '../core/abi/evtchn.js';
import { gntstByName, GNTST_NAMES } from '../core/abi/grant.js';
import type { ArgSpec, OpSpec } from '../core/hv/hypercall.js';
import * as xen2 from '../core/abi/xen2.js';
import { DEFAULT_MEMORY_PAGES } from '../core/hv/hypervisor.js';
import { didYouMean, ScenarioInputError, type Pos, type Problem } from './errors.js';
import { type Abi, type XenVersion, type KernelName, type ArgValue, type CopySideArgs, type BlockDeviceSpec, type DeviceSpecs, type DomainSpec, type NetworkDeviceSpec, type ExpectNode, type LifecycleAction, type LifecycleReason, type NumArg, type SaveSpec, type Scenario, type Step, type StepTiming, type Timed, type UntilCondition, type DomainUntilState, type FaultSpec, type CountSpec, type FinalConsole, type FinalCounters, type FinalExpect, type FinalTrace, type TextSpec, type ExerciseAssertion, type ExerciseCheck, type ExerciseSpec, type SaveName } from './model.js';
import { Cursor, parseYaml, type Source } from './source.js';
import {
  ABIS, EXPECT_KEY_KINDS, actionField, actionsOf, BLOCK_FIELDS, CHECKS, COPY_SIDE_FIELDS, DEVICE_FIELDS, DOMAIN_FIELDS, DURATION_PATTERN, DURATION_UNITS, ERRNO_PATTERN, fieldsOf, GRANT_FLAGS, intRange, itemOf, KERNELS, keysOf, LIFECYCLE_REASON_NAMES,
  UNICAST_MAC_PATTERN, DOMAIN_NAME_PATTERN, DOMID_CONSTANTS, MEMORY_MAX_BYTES, MEMORY_MIN_BYTES, MEMORY_PATTERN, MEMORY_UNITS, NETWORK_FIELDS, NUM_KINDS, onXen, opsOf, PORT_STATES, REF_PATTERN, SAVE_NAME_PATTERN, SHUTDOWN_REASON_NAMES, STEP_ACTIONS, STEP_COMMON, stepResults, STEPS,
  TOP_FIELDS, VIRQ_NAMES, XEN_VERSIONS, type Field, type Fields, type NumKind, type StepSpec,
  BACKENDS, FINAL_CONSOLE_FIELDS, FINAL_COUNTER_FIELDS, FINAL_EXPECT_FIELDS, FINAL_TRACE_FIELDS, DOMAIN_STATES, durationDefault, FAULT_FIELDS, FAULT_KINDS, FILL_PATTERN, TIMING_FIELDS, UNTIL_CONDITIONS, UNTIL_CONSOLE_FIELDS, UNTIL_FIELDS, UNTIL_XENBUS_FIELDS, XENBUS_DEVICES, XENBUS_ENDS, XENBUS_STATES,
  CHECK_ID_PATTERN, EXERCISE_ASSERTIONS, EXERCISE_CHECK_FIELDS, EXERCISE_FIELDS,
} from './spec.js';
import { fmtNs } from './time.js';
import { parseFilter } from '../core/sim/filter.js';
import { utf8 } from '../core/util/bytes.js';

// Key lists, ranges, defaults and name sets come from the grammar in spec.ts, which the JSON Schema is generated from too.
const TOP_KEYS = keysOf(TOP_FIELDS);
const DOMAIN_KEYS = keysOf(DOMAIN_FIELDS);
const DEVICE_KINDS = keysOf(DEVICE_FIELDS);
const BLOCK_KEYS = keysOf(BLOCK_FIELDS);
const NETWORK_KEYS = keysOf(NETWORK_FIELDS);
/** xvda, xvdb, ...: Linux's virtual-device numbers for the xvd major (202 << 8 | minor 16n). */
const XVD_DEVID = (n: number): number => (202 << 8) | (n << 4);
const PORT_CHECK_KEYS = keysOf(CHECKS.port);
const CONSOLE_CHECK_KEYS = keysOf(CHECKS.console);
const VCPU_CHECK_KEYS = keysOf(CHECKS.vcpu);
const LIFECYCLE = actionsOf('lifecycle') as LifecycleAction[];
const RING_STEPS = actionsOf('ring');
const KERNEL_NAMES = KERNELS.map((k) => k.name);
const ABI_NAMES = ABIS.map((a) => a.name);
const PORT_STATE_NAMES = PORT_STATES.map((s) => s.name);
/** How a check reads each key it compares: true/false, a port state, a list, or any expected value. */
const CHECK_KINDS: ReadonlyMap<string, string> = new Map([...Object.entries(CHECKS.port), ...Object.entries(CHECKS.vcpu)].map(([k, f]) => [k, f.kind.t]));
const REF = new RegExp(REF_PATTERN);
const SAVE_NAME = new RegExp(SAVE_NAME_PATTERN);
const DURATION = new RegExp(DURATION_PATTERN);
const MEMORY = new RegExp(MEMORY_PATTERN);
const UNICAST_MAC = new RegExp(UNICAST_MAC_PATTERN);
const DOMAIN_NAME = new RegExp(DOMAIN_NAME_PATTERN);
const DOMID_BY_NAME: ReadonlyMap<string, number> = new Map(DOMID_CONSTANTS.map((d) => [d.name, d.value!]));
const ERRNO = new RegExp(ERRNO_PATTERN);
const GRANT_FLAG_NAMES = GRANT_FLAGS.map((f) => f.name);
const GRANT_FLAG_VALUES: ReadonlyMap<string, number> = new Map(GRANT_FLAGS.map((f) => [f.name, f.value!]));
const CHECK_ID = new RegExp(CHECK_ID_PATTERN);
const ASSERTIONS = keysOf(EXERCISE_ASSERTIONS);

/** The keys a step of this kind may have (on `xen` only, when given). */
const stepKeysMemo = new Map<string, Map<string, string[]>>();

function stepKeys(action: string, xen?: XenVersion): string[] {
  let byXen = stepKeysMemo.get(action);
  if (byXen === undefined) stepKeysMemo.set(action, (byXen = new Map<string, string[]>()));
  const x = xen ?? '';
  let keys = byXen.get(x);
  if (keys === undefined) byXen.set(x, (keys = keysOf(STEPS.get(action)!.keys, xen)));
  return keys;
}

const STEP_ACTION_SET: ReadonlySet<string> = new Set(STEP_ACTIONS);

/** The fields of a step's action value (a mapping). */
function actionFields(action: string): Fields {
  return fieldsOf(actionField(STEPS.get(action)!));
}

/** The default of a field with a numeric default. */
function numDefault(f: Field | undefined): number {
  const d = f?.default;
  if (typeof d !== 'number') throw new TypeError('no numeric default');
  return d;
}

function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

class Compiler {
  readonly problems: Problem[] = [];
  private readonly domainIds = new Map<string, number>();
  /** $names saved by the steps compiled so far. */
  private readonly saved = new Set<string>();
  /** The hypervisor the scenario runs on, and its op table. */
  private xenVersion: XenVersion = '4';
  /** The earliest virtual time the steps compiled so far can end at (runs, ats and repetitions; untils may add more). */
  private clockMin = 0;
  private domainSpecs: readonly DomainSpec[] = [];
  private ops: ReadonlyMap<string, OpSpec> = opsOf('4');
  /** The document has an exercise block: a solution placeholder may stand among its steps. */
  private exerciseDoc = false;
  private placeholders = 0;
  /** Compiling a solution's steps, for the placeholder of an exercise. */
  private inSolution = false;

  constructor(private readonly src: Source) {}

  problem(at: Cursor | { pos: Pos; path: string }, message: string, hint?: string): void {
    const pos = at instanceof Cursor ? at.pos() : at.pos;
    const p: Problem = { file: pos.file ?? this.src.file, line: pos.line, col: pos.col, path: at.path, message };
    if (hint !== undefined) p.hint = hint;
    this.problems.push(p);
  }

  /** Reports keys of a mapping that are not in `allowed`, suggesting the likely one. */
  unknownKeys(c: Cursor, allowed: readonly string[], what: string): void {
    if (c.keyNames().every((k) => allowed.includes(k))) return;
    for (const e of c.entries()) {
      if (allowed.includes(e.key)) continue;
      this.problem({ pos: e.keyPos, path: c.path === '' ? e.key : `${c.path}.${e.key}` }, `unknown key "${e.key}" in ${what}`, didYouMean(e.key, allowed) ?? `expected one of: ${allowed.join(', ')}`);
    }
  }

  compile(): Scenario {
    const root = new Cursor(this.src, this.src.root, '');
    if (!root.isMap()) {
      this.problem(root, `expected a mapping with name, domains and steps, found ${root.describe()}`);
      throw new ScenarioInputError(this.problems);
    }
    this.unknownKeys(root, TOP_KEYS, 'the scenario');
    const nameC = root.get('name');
    const name = nameC.exists ? this.string(nameC, TOP_FIELDS.name!.what!) ?? '' : this.src.file;
    const descC = root.get('description');
    const description = descC.exists ? this.string(descC, TOP_FIELDS.description!.what!) : undefined;
    this.xenVersion = this.xen(root.get('xen'));
    this.ops = opsOf(this.xenVersion);
    const abi = this.abi(root.get('abi'));
    if (this.xenVersion === '2.0' && abi !== '2l') this.problem(root.get('abi'), 'Xen 2.0.0 has only the 2-level event ABI', 'remove abi, or use xen: "4"');
    const seedC = root.get('seed');
    const seed = seedC.exists ? this.intField(seedC, TOP_FIELDS.seed!) ?? numDefault(TOP_FIELDS.seed) : numDefault(TOP_FIELDS.seed);
    const domains = this.domains(root.get('domains'));
    this.domainSpecs = domains;
    this.exerciseDoc = root.has('exercise');
    const steps = this.steps(root.get('steps'));
    const expect = root.has('expect') ? this.finalExpect(root.get('expect')) : undefined;
    const exercise = root.has('exercise') ? this.exercise(root.get('exercise')) : undefined;
    if (this.problems.length > 0) throw new ScenarioInputError(this.problems);
    let s: Scenario = { file: this.src.file, name, xen: this.xenVersion, abi, seed, domains, steps };
    if (description !== undefined) s = { ...s, description };
    if (exercise !== undefined) s = { ...s, exercise };
    return expect === undefined ? s : { ...s, expect };
  }

  /**
   * A solution file (`steps: [...]`) compiled for the placeholder `at` of the
   * exercise `sc`: its steps read as if written there, with the exercise's
   * domains, hypervisor and the $names saved before it. Returns the steps and
   * the $names they save.
   */
  solution(sc: Scenario, at: Extract<Step, { kind: 'solution' }>): { steps: Step[]; saved: string[] } {
    for (const d of sc.domains) this.domainIds.set(d.name, d.domid);
    this.domainSpecs = sc.domains;
    this.xenVersion = sc.xen;
    this.ops = opsOf(sc.xen);
    for (const n of at.context.saved) this.saved.add(n);
    this.clockMin = at.context.clockMin;
    this.inSolution = true;
    const root = new Cursor(this.src, this.src.root, '');
    if (!root.isMap()) {
      this.problem(root, `expected a solution: a mapping with steps: [ ... ], found ${root.describe()}`);
      throw new ScenarioInputError(this.problems);
    }
    this.unknownKeys(root, ['steps'], 'a solution');
    if (!root.has('steps')) this.problem(root, 'a solution gives its steps: steps: [ ... ]', `they go where the exercise says: ${at.prompt}`);
    const steps = this.steps(root.get('steps'));
    if (this.problems.length > 0) throw new ScenarioInputError(this.problems);
    return { steps, saved: [...this.saved].filter((n) => !at.context.saved.includes(n)) };
  }

  // ---- scalars ----

  string(c: Cursor, what: string): string | undefined {
    const v = c.scalar();
    if (typeof v === 'string' && v.length > 0) return v;
    this.problem(c, `expected ${what} (text), found ${c.describe()}`);
    return undefined;
  }

  bool(c: Cursor, what: string): boolean | undefined {
    const v = c.scalar();
    if (typeof v === 'boolean') return v;
    this.problem(c, `expected ${what}: true or false, found ${c.describe()}`);
    return undefined;
  }

  int(c: Cursor, min: number, max: number, what: string): number | undefined {
    const v = c.scalar();
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    if (typeof v === 'number' && Number.isInteger(v)) this.problem(c, `expected ${what} from ${min} to ${max}, found ${v}`);
    else this.problem(c, `expected ${what} (a whole number), found ${c.describe()}`);
    return undefined;
  }

  /** A whole number in the field's range on this hypervisor, named as the field says. */
  intField(c: Cursor, f: Field, what = f.what ?? 'a number'): number | undefined {
    return this.int(c, ...intRange(f, this.xenVersion), what);
  }

  /**
   * A number-like key of a mapping read as its field says: the value written,
   * else the field's default (pointing at the mapping), else undefined.
   */
  numField(c: Cursor, key: string, fields: Fields): NumArg | undefined {
    const f = fields[key]!;
    if (f.kind.t !== 'num') throw new TypeError(`${key} is not a number field`);
    if (c.has(key)) return this.num(c.get(key), f.kind.kind);
    return typeof f.default === 'number' ? { value: f.default, pos: c.pos(), path: `${c.path}.${key}` } : undefined;
  }

  xen(c: Cursor): XenVersion {
    if (!c.exists) return '4';
    const v = c.scalar();
    // YAML reads 2.0 as the number 2: each version has its spellings.
    const version = XEN_VERSIONS.find((x) => x.spellings.includes(v as string | number));
    if (version !== undefined) return version.mode;
    this.problem(c, `expected the Xen version, "2.0" (the 2004 control interface) or "4" (today's), found ${c.describe()}`);
    return '4';
  }

  abi(c: Cursor): Abi {
    if (!c.exists) return '2l';
    const v = c.scalar();
    if (typeof v === 'string' && ABI_NAMES.includes(v)) return v as Abi;
    this.problem(c, `expected the event ABI, ${ABI_NAMES.join(' or ')}, found ${c.describe()}`, typeof v === 'string' ? didYouMean(v, ABI_NAMES) : undefined);
    return '2l';
  }

  duration(c: Cursor): number | undefined {
    const v = c.scalar();
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    if (typeof v === 'string') {
      const m = DURATION.exec(v);
      if (m) {
        const ns = Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!);
        if (Number.isSafeInteger(ns)) return ns;
      }
    }
    this.problem(c, `expected a duration such as 1ms, 250us, 2s or a number of ns, found ${c.describe()}`);
    return undefined;
  }

  /** Memory as MiB (a number) or with a unit: 64MiB, 1GiB, 4096KiB. */
  memory(c: Cursor): number | undefined {
    const v = c.scalar();
    let bytes: number | undefined;
    if (typeof v === 'number' && v > 0) bytes = v * 2 ** 20;
    else if (typeof v === 'string') {
      const m = MEMORY.exec(v);
      if (m) bytes = Number(m[1]) * MEMORY_UNITS[m[2]!]!;
    }
    if (bytes !== undefined && Number.isInteger(bytes / 4096) && bytes >= MEMORY_MIN_BYTES && bytes <= MEMORY_MAX_BYTES) return bytes / 4096;
    this.problem(c, `expected memory such as 64MiB or 1GiB (at least 4MiB, whole pages), found ${c.describe()}`);
    return undefined;
  }

  /** A `$name` reference, checked against the saves before it. */
  ref(c: Cursor, text: string): NumArg | undefined {
    const name = text.slice(1);
    if (!REF.test(text)) {
      this.problem(c, `"${text}" is not a valid $name (letters, digits and _)`);
      return undefined;
    }
    if (!this.saved.has(name)) {
      this.problem(c, `$${name} is not saved by any earlier step`, didYouMean(name, this.saved) ?? 'save it first with save: { <field>: ' + name + ' }');
      return undefined;
    }
    return { ref: name, pos: c.pos(), path: c.path };
  }

  /** A number of the given kind: literal, name (domain, DOMID_*, VIRQ_*, GNTMAP_*), or $ref. */
  num(c: Cursor, kind: NumKind): NumArg | undefined {
    const v = c.scalar();
    if (typeof v === 'string' && v.startsWith('$')) return this.ref(c, v);
    if (kind === 'ns') {
      const ns = this.duration(c);
      return ns === undefined ? undefined : { pos: c.pos(), path: c.path, value: ns };
    }
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) {
        this.problem(c, `expected a whole number, found ${c.describe()}`);
        return undefined;
      }
      const k = NUM_KINDS[kind];
      if (k.min !== undefined && k.max !== undefined && (v < k.min || v > k.max)) {
        this.problem(c, `expected a ${k.label} value from ${k.min} to ${k.max}, found ${v}`);
        return undefined;
      }
      return { pos: c.pos(), path: c.path, value: kind === 'u32' || kind === 'port' || kind === 'virq' ? v >>> 0 : v };
    }
    if (typeof v === 'string') {
      if (kind === 'domid') {
        const id = this.domainIds.get(v) ?? DOMID_BY_NAME.get(v);
        if (id !== undefined) return { pos: c.pos(), path: c.path, value: id };
        this.problem(c, `unknown domain "${v}"`, didYouMean(v, [...this.domainIds.keys(), ...DOMID_BY_NAME.keys()]) ?? `domains are: ${[...this.domainIds.keys()].join(', ')}`);
        return undefined;
      }
      if (kind === 'virq') {
        const old = this.xenVersion === '2.0';
        const n = old ? xen2.virqByName(v) : virqByName(v);
        if (n !== undefined) return { pos: c.pos(), path: c.path, value: n };
        const names = onXen(VIRQ_NAMES, this.xenVersion).map((x) => x.name);
        this.problem(c, `unknown VIRQ "${v}"${old ? ' in Xen 2.0.0' : ''}`, didYouMean(v, names) ?? `VIRQs are: ${names.join(', ')}`);
        return undefined;
      }
      if (kind === 'gnttab_flags') return this.flags(c, v);
      if (kind === 'shutdown_reason') {
        const reasons = onXen(SHUTDOWN_REASON_NAMES, this.xenVersion);
        const names = reasons.map((r) => r.name);
        const n = reasons.find((r) => r.name === v)?.value;
        if (n !== undefined) return { pos: c.pos(), path: c.path, value: n };
        this.problem(c, `unknown shutdown reason "${v}"`, didYouMean(v, names) ?? `reasons are: ${names.join(', ')} (or a code 0..255)`);
        return undefined;
      }
    }
    if (kind === 'gnttab_flags' && c.isSeq()) return this.flags(c, c.items().map((i) => String(i.scalar())).join('|'));
    this.problem(c, `expected ${NUM_KINDS[kind].words}, found ${c.describe()}`);
    return undefined;
  }

  private flags(c: Cursor, text: string): NumArg | undefined {
    let value = 0;
    for (const part of text.split('|').map((s) => s.trim())) {
      const n = GRANT_FLAG_VALUES.get(part);
      if (n !== undefined) value |= n;
      else {
        this.problem(c, `unknown flag "${part}"`, didYouMean(part, GRANT_FLAG_NAMES) ?? `flags are: ${GRANT_FLAG_NAMES.join(', ')}`);
        return undefined;
      }
    }
    return { pos: c.pos(), path: c.path, value };
  }

  // ---- domains ----

  domains(c: Cursor): DomainSpec[] {
    if (!c.isSeq() || c.items().length === 0) {
      this.problem(c, `expected a list of domains (the first is dom0), found ${c.describe()}`);
      return [];
    }
    const out: DomainSpec[] = [];
    for (const [i, d] of c.items().entries()) {
      if (!d.isMap()) {
        this.problem(d, `expected a domain such as { name: guest }, found ${d.describe()}`);
        continue;
      }
      this.unknownKeys(d, DOMAIN_KEYS, 'a domain');
      const name = this.string(d.get('name'), DOMAIN_FIELDS.name!.what!);
      if (name === undefined) continue;
      if (this.domainIds.has(name) || DOMID_BY_NAME.has(name) || !DOMAIN_NAME.test(name)) {
        this.problem(d.get('name'), `domain name "${name}" is ${this.domainIds.has(name) ? 'used twice' : 'reserved'}`);
        continue;
      }
      this.domainIds.set(name, i);
      const vc = d.get('vcpus');
      const vcpuField = DOMAIN_FIELDS.vcpus!;
      const vcpus = vc.exists ? this.intField(vc, vcpuField, this.xenVersion === '2.0' ? 'vCPUs (Xen 2.0.0 has one per domain)' : vcpuField.what) ?? numDefault(vcpuField) : numDefault(vcpuField);
      const pirqs: number[] = [];
      const pc = d.get('pirqs');
      if (pc.exists) {
        if (!pc.isSeq()) this.problem(pc, `expected a list of PIRQ numbers, found ${pc.describe()}`);
        const pirqField = itemOf(DOMAIN_FIELDS.pirqs!);
        for (const p of pc.items()) {
          const n = this.intField(p, pirqField);
          if (n !== undefined) pirqs.push(n);
        }
      }
      const mc = d.get('memory');
      const memoryPages = mc.exists ? this.memory(mc) ?? DEFAULT_MEMORY_PAGES : DEFAULT_MEMORY_PAGES;
      const kc = d.get('kernel');
      let kernel: KernelName = 'default';
      if (kc.exists) {
        const k = kc.scalar();
        if (typeof k === 'string' && KERNEL_NAMES.includes(k)) kernel = k as KernelName;
        else this.problem(kc, `unknown kernel ${kc.describe()}`, didYouMean(String(k), KERNEL_NAMES) ?? `kernels are: ${KERNEL_NAMES.join(', ')}`);
        if (kernel === 'plan9' && this.xenVersion !== '2.0') this.problem(kc, 'the plan9 kernel boots on Xen 2.0', 'add xen: "2.0" to the scenario');
        if (kernel === 'plan9' && i === 0) this.problem(kc, 'dom0 runs xend, not plan9', 'give plan9 to a guest');
        if (kernel === 'minios' && this.xenVersion === '2.0') this.problem(kc, 'the minios kernel boots on a modern Xen: its console and xenstore rings come from the toolstack (xenstored, xenconsoled), which Xen 2.0 does not have', 'remove xen: "2.0" (Xen 2.0 guests use kernel: plan9)');
        if (kernel === 'minios' && i === 0) this.problem(kc, 'dom0 runs the toolstack (xenstored, xenconsoled), not minios', 'give minios to a guest');
      }
      const xc = d.get('max_evtchn_port');
      const cc = d.get('cmdline');
      const spec: DomainSpec = {
        name,
        kernel,
        domid: i,
        vcpus,
        pirqs,
        memoryPages,
        cmdline: cc.exists ? this.string(cc, DOMAIN_FIELDS.cmdline!.what!) ?? '' : '',
        devices: this.devices(d.get('devices'), i, kernel),
        pos: d.pos(),
      };
      if (xc.exists && this.xenVersion === '2.0') this.problem(xc, 'Xen 2.0.0 has no per-domain port limit (every domain has ports 0..1023)', 'remove max_evtchn_port');
      const maxPort = xc.exists && this.xenVersion !== '2.0' ? this.intField(xc, DOMAIN_FIELDS.max_evtchn_port!) : undefined;
      out.push(maxPort === undefined ? spec : { ...spec, maxEvtchnPort: maxPort });
    }
    return out;
  }

  /** A domain's split devices: `devices: { block: [...], network: [...] }`. */
  devices(c: Cursor, domid: number, kernel: KernelName): DeviceSpecs {
    const block: BlockDeviceSpec[] = [];
    const network: NetworkDeviceSpec[] = [];
    if (!c.exists) return { block, network };
    if (!c.isMap()) {
      this.problem(c, `expected devices such as { block: [ { sectors: 128 } ], network: [ {} ] }, found ${c.describe()}`);
      return { block, network };
    }
    this.unknownKeys(c, DEVICE_KINDS, 'devices');
    if (this.xenVersion === '2.0') this.problem(c, 'split devices are connected through xenstore, which Xen 2.0 does not have', 'remove xen: "2.0"');
    else if (domid === 0) this.problem(c, 'dom0 runs the backends (blkback, netback); devices belong to guests', 'move devices to a guest');
    // A minios guest's blkfront and netfront drive its devices; with the default kernel the steps play the frontend.
    const list = (k: string, what: string): Cursor[] => {
      const lc = c.get(k);
      if (!lc.exists) return [];
      if (!lc.isSeq()) {
        this.problem(lc, `expected a list of ${what}, found ${lc.describe()}`);
        return [];
      }
      return lc.items();
    };
    for (const [n, b] of list('block', 'disks such as { sectors: 128 }').entries()) {
      if (!b.isMap()) {
        this.problem(b, `expected a disk such as { sectors: 128, content: "hello" }, found ${b.describe()}`);
        continue;
      }
      this.unknownKeys(b, BLOCK_KEYS, 'a disk');
      const sc = b.get('sectors');
      const sectors = sc.exists ? this.intField(sc, BLOCK_FIELDS.sectors!) ?? 1 : numDefault(BLOCK_FIELDS.sectors);
      const cc = b.get('content');
      const content = cc.exists ? this.string(cc, BLOCK_FIELDS.content!.what!) ?? '' : '';
      if (utf8(content).length > sectors * 512) this.problem(cc, `the content is ${utf8(content).length} bytes: more than the disk's ${sectors * 512}`);
      const rc = b.get('readonly');
      const readonly = rc.exists ? this.bool(rc, BLOCK_FIELDS.readonly!.what!) ?? false : BLOCK_FIELDS.readonly!.default === true;
      block.push({ devid: XVD_DEVID(n), sectors, content, readonly, pos: b.pos() });
    }
    for (const [n, v] of list('network', 'interfaces such as {} or { mac: "00:16:3e:00:01:00" }').entries()) {
      if (!v.isMap()) {
        this.problem(v, `expected an interface such as { mac: "00:16:3e:00:01:00" }, found ${v.describe()}`);
        continue;
      }
      this.unknownKeys(v, NETWORK_KEYS, 'an interface');
      const mc = v.get('mac');
      // libxl's default MAC: Xen's OUI 00:16:3e and three bytes of its own; ours are the domid and the index.
      let mac = `00:16:3e:00:${hex2(domid)}:${hex2(n)}`;
      if (mc.exists) {
        const m = this.string(mc, NETWORK_FIELDS.mac!.what!);
        if (m !== undefined && UNICAST_MAC.test(m)) mac = m.toLowerCase();
        else if (m !== undefined) this.problem(mc, `expected a unicast MAC address such as 00:16:3e:00:01:00, found "${m}"`);
      }
      network.push({ devid: n, mac, pos: v.pos() });
    }
    return { block, network };
  }

  // ---- steps ----

  steps(c: Cursor): Step[] {
    if (!c.exists) return [];
    if (!c.isSeq()) {
      this.problem(c, `expected a list of steps, found ${c.describe()}`);
      return [];
    }
    const out: Step[] = [];
    for (const s of c.items()) {
      const step = this.step(s);
      if (step !== undefined) out.push(step);
    }
    return out;
  }

  step(c: Cursor): Step | undefined {
    if (!c.isMap()) {
      this.problem(c, `expected a step such as { as: guest, op: send, args: { port: 1 } } or { run: 1ms }, found ${c.describe()}`);
      return undefined;
    }
    const keys = c.keyNames();
    // The common case, one action and nothing unknown, found without a list per step.
    let action: string | undefined;
    let count = 0;
    for (const k of keys) {
      if (STEP_ACTION_SET.has(k)) {
        action = k;
        count++;
      }
    }
    if (count !== 1 || action === undefined) {
      const actions = keys.filter((k) => STEP_ACTION_SET.has(k));
      const unknown = keys.filter((k) => !STEP_ACTION_SET.has(k) && !STEP_COMMON.includes(k));
      if (unknown.length > 0) this.unknownKeys(c, [...STEP_ACTIONS, ...STEP_COMMON], 'a step');
      else if (actions.length === 0) this.problem(c, 'this step does nothing', `give it one of: ${STEP_ACTIONS.filter((a) => !RING_STEPS.includes(a)).join(', ')}, ring_*`);
      else this.problem(c, `a step does one thing, found ${actions.join(' and ')}`, 'split it into several steps');
      return undefined;
    }
    const base = { pos: c.pos(), path: c.path };
    const step = this.stepOf(c, action, base);
    const timing = this.timing(c);
    if (step === undefined) return undefined;
    this.advanceClockMin(step, timing);
    return timing === undefined ? step : { ...step, timing, label: `${step.label}${timingLabel(c)}` };
  }

  private stepOf(c: Cursor, action: string, base: { pos: Pos; path: string }): Step | undefined {
    if (action === 'solution') return this.solutionStep(c, base);
    if (action === 'op') return this.hypercallStep(c, base);
    if (action === 'check') return this.checkStep(c, base);
    if (action === 'run') {
      this.unknownKeys(c, stepKeys('run'), 'a run step');
      const ns = this.duration(c.get('run'));
      return ns === undefined ? undefined : { ...base, kind: 'run', ns, label: `run ${String(c.get('run').scalar())}` };
    }
    if (action === 'until') return this.untilStep(c, base);
    if (action === 'fault') return this.faultStep(c, base);
    if ((LIFECYCLE as readonly string[]).includes(action)) return this.lifecycleStep(c, base, action as LifecycleAction);
    if (action === 'virq' || action === 'pirq') return this.raiseStep(c, base, action);
    if (action === 'type') return this.typeStep(c, base);
    if (RING_STEPS.includes(action)) return this.ringStep(c, base, action);
    return this.localStep(c, base, action);
  }

  // ---- when a step happens ----

  /** `at`, `every` and `repeat`, which any step may carry. */
  private timing(c: Cursor): StepTiming | undefined {
    if (!c.has('at') && !c.has('repeat') && !c.has('every')) return undefined;
    const out: { at?: Timed; every?: Timed; repeat?: Timed } = {};
    const timed = (key: string, value: number | undefined): Timed | undefined => (value === undefined ? undefined : { value, pos: c.get(key).pos(), path: c.get(key).path });
    if (c.has('at')) {
      const at = timed('at', this.duration(c.get('at')));
      if (at !== undefined) out.at = at;
    }
    if (c.has('repeat')) {
      const repeat = timed('repeat', this.intField(c.get('repeat'), TIMING_FIELDS.repeat!));
      if (repeat !== undefined) out.repeat = repeat;
    }
    if (c.has('every')) {
      const e = c.get('every');
      const every = timed('every', this.duration(e));
      if (!c.has('repeat')) this.problem(e, 'every needs repeat: how many times to do the step', 'add repeat: N');
      else if (every?.value === 0) this.problem(e, 'every must be more than 0', 'to repeat the step at one instant, leave every out');
      else if (every !== undefined) out.every = every;
    }
    return out.at === undefined && out.every === undefined && out.repeat === undefined ? undefined : out;
  }

  /**
   * Keeps the earliest time the steps so far can end at, and refuses an `at`
   * before it: that step could never be on time. (An `at` that only an
   * `until` made late fails when it runs.)
   */
  private advanceClockMin(step: Step, timing: StepTiming | undefined): void {
    const at = timing?.at;
    if (at !== undefined && at.value < this.clockMin) {
      this.problem(at, `at ${fmtNs(at.value)} is in the past: the steps before it run the clock to ${fmtNs(this.clockMin)} at least`, `make it ${fmtNs(this.clockMin)} or later`);
    }
    const start = Math.max(this.clockMin, at?.value ?? 0);
    const length = step.kind === 'run' ? step.ns : 0;
    const reps = timing?.repeat?.value ?? 1;
    const every = timing?.every?.value ?? 0;
    this.clockMin = start + Math.max((reps - 1) * every + length, reps * length);
  }

  // ---- until ----

  private untilStep(c: Cursor, base: { pos: Pos; path: string }): Step | undefined {
    const v = c.get('until');
    if (c.has('timeout')) {
      const e = c.entries().find((x) => x.key === 'timeout')!;
      this.problem({ pos: e.keyPos, path: `${c.path}.timeout` }, 'timeout belongs inside until, beside its condition', 'e.g. until: { console: { domain: guest, contains: "login:" }, timeout: 100ms }');
    }
    this.unknownKeys(c, [...stepKeys('until'), 'timeout'], 'an until step');
    const shape = 'until: { console: { domain, matches | contains } }, { port: { domain, port, pending, ... } }, { xenbus: { domain, device, state } } or { domain, state }, with an optional timeout';
    if (!v.isMap()) {
      this.problem(v, `expected a condition such as ${shape}, found ${v.describe()}`);
      return undefined;
    }
    this.unknownKeys(v, keysOf(UNTIL_FIELDS), 'until');
    const present = UNTIL_CONDITIONS.filter((k) => v.has(k));
    if (present.length === 0) {
      if (v.has('state')) this.problem(v.get('state'), 'state needs domain: the domain whose lifecycle state to wait for', 'e.g. until: { domain: guest, state: shutdown }');
      else this.problem(v, 'until needs a condition to wait for: console, port, xenbus, or domain with state', 'e.g. until: { console: { domain: guest, contains: "login:" }, timeout: 100ms }');
      return undefined;
    }
    if (present.length > 1) {
      this.problem(v, `until waits for one condition, found ${present.join(' and ')}`, 'use one until step per condition');
      return undefined;
    }
    let timeout = durationDefault(UNTIL_FIELDS.timeout!);
    if (v.has('timeout')) {
      const t = this.duration(v.get('timeout'));
      if (t === 0) this.problem(v.get('timeout'), 'timeout must be more than 0', 'e.g. timeout: 100ms');
      if (t === undefined || t === 0) return undefined;
      timeout = t;
    }
    const kind = present[0]!;
    const condition = kind === 'console' ? this.untilConsole(v.get('console')) : kind === 'port' ? this.untilPort(v.get('port')) : kind === 'xenbus' ? this.untilXenbus(v.get('xenbus')) : this.untilDomain(v);
    if (condition === undefined) return undefined;
    return { ...base, kind: 'until', condition, timeout, label: `until ${untilLabel(v, kind)}` };
  }

  private untilConsole(c: Cursor): UntilCondition | undefined {
    const keys = keysOf(UNTIL_CONSOLE_FIELDS);
    if (!c.isMap()) {
      this.problem(c, `expected { domain, matches: REGEX } or { domain, contains: TEXT }, found ${c.describe()}`);
      return undefined;
    }
    this.unknownKeys(c, keys, 'a console condition');
    if (!c.has('domain')) this.problem(c, 'a console condition needs "domain": whose console to watch');
    const domain = c.has('domain') ? this.domainRef(c.get('domain')) : undefined;
    const at = { pos: c.pos(), path: c.path };
    if (c.has('matches') === c.has('contains')) {
      this.problem(c, c.has('matches') ? 'give matches or contains, not both' : 'a console condition needs matches (a regular expression) or contains (a text)', 'e.g. { domain: guest, matches: "^login: $" }');
      return undefined;
    }
    if (c.has('matches')) {
      const m = this.string(c.get('matches'), UNTIL_CONSOLE_FIELDS.matches!.what!);
      if (m === undefined) return undefined;
      try {
        new RegExp(m);
      } catch (e) {
        this.problem(c.get('matches'), `not a regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`, 'matches takes JavaScript regular-expression syntax; escape ( [ { . * + ? \\ with a backslash to match them as text');
        return undefined;
      }
      return domain === undefined ? undefined : { kind: 'console', domain, matches: m, ...at };
    }
    const text = this.string(c.get('contains'), UNTIL_CONSOLE_FIELDS.contains!.what!);
    if (text !== undefined && /[\r\n]/.test(text)) {
      this.problem(c.get('contains'), 'contains looks at one line at a time: the text may not hold a line end', 'wait for each line with its own until, or use matches');
      return undefined;
    }
    return domain === undefined || text === undefined ? undefined : { kind: 'console', domain, contains: text, ...at };
  }

  private untilPort(c: Cursor): UntilCondition | undefined {
    if (!c.isMap()) {
      this.problem(c, `expected { domain, port, pending: true, ... }, found ${c.describe()}`);
      return undefined;
    }
    const fields = fieldsOf(UNTIL_FIELDS.port!);
    this.unknownKeys(c, keysOf(fields), 'a port condition');
    for (const key of ['domain', 'port']) if (!c.has(key)) this.problem(c, `a port condition needs "${key}"`);
    if (!c.has('domain') || !c.has('port')) return undefined;
    const domain = this.domainRef(c.get('domain'));
    const port = this.num(c.get('port'), 'port');
    const checks = this.checkFields(c, ['domain', 'port']);
    if (checks.size === 0 && c.entries().length === 2) {
      this.problem(c, 'a port condition says what to wait for', 'e.g. { domain: guest, port: 1, pending: true }');
      return undefined;
    }
    if (domain === undefined || port === undefined || checks.size === 0) return undefined;
    return { kind: 'port', domain, port, checks, pos: c.pos(), path: c.path };
  }

  private untilXenbus(c: Cursor): UntilCondition | undefined {
    if (!c.isMap()) {
      this.problem(c, `expected { domain, device: vbd, index: 0, state: Connected } or { path, state }, found ${c.describe()}`);
      return undefined;
    }
    this.unknownKeys(c, keysOf(UNTIL_XENBUS_FIELDS), 'a xenbus condition');
    if (this.xenVersion === '2.0') {
      this.problem(c, 'XenbusStates live in xenstore, which Xen 2.0 does not have', 'use xen: "4"');
      return undefined;
    }
    const at = { pos: c.pos(), path: c.path };
    const stateC = c.get('state');
    const names = XENBUS_STATES.map((x) => x.name);
    const sv = stateC.scalar();
    const state = typeof sv === 'string' ? XENBUS_STATES.find((x) => x.name === sv)?.value : undefined;
    if (!stateC.exists) this.problem(c, 'a xenbus condition needs "state": the XenbusState to wait for', 'e.g. state: Connected');
    else if (state === undefined) this.problem(stateC, `expected a XenbusState (${XENBUS_STATES.filter((_, i) => i % 2 === 0).map((x) => x.name).join(', ')}), found ${stateC.describe()}`, typeof sv === 'string' ? didYouMean(sv, names) : undefined);
    if (c.has('device') === c.has('path')) {
      this.problem(c, c.has('device') ? 'give device or path, not both' : 'a xenbus condition names the device (domain, device: vbd or vif, index) or a xenstore path', 'e.g. { domain: guest, device: vbd, state: Connected }');
      return undefined;
    }
    if (c.has('path')) {
      const path = this.string(c.get('path'), UNTIL_XENBUS_FIELDS.path!.what!);
      if (path !== undefined && !path.startsWith('/')) this.problem(c.get('path'), `expected a xenstore path from the root, such as /local/domain/1/device/vbd/51712, found "${path}"`);
      if (path === undefined || !path.startsWith('/') || state === undefined) return undefined;
      const node = path.replace(/\/+$/, '');
      return { kind: 'xenbus', node: node.endsWith('/state') ? node : `${node}/state`, state, ...at };
    }
    const type = this.choice(c.get('device'), XENBUS_DEVICES.map((x) => x.name), 'a device type');
    if (!c.has('domain')) this.problem(c, 'a xenbus device needs "domain": the guest whose device it is');
    const domain = c.has('domain') ? this.domainRef(c.get('domain')) : undefined;
    const indexC = c.get('index');
    const index = indexC.exists ? this.intField(indexC, UNTIL_XENBUS_FIELDS.index!) : 0;
    const end = c.has('end') ? this.choice(c.get('end'), XENBUS_ENDS.map((x) => x.name), 'frontend or backend') : 'frontend';
    if (type === undefined || domain === undefined || index === undefined || end === undefined || state === undefined) return undefined;
    // A literal guest: it must have that device.
    const spec = domain.value === undefined ? undefined : this.domainSpecs[domain.value];
    if (spec !== undefined) {
      const have = type === 'vbd' ? spec.devices.block.length : spec.devices.network.length;
      if (index >= have) {
        this.problem(indexC.exists ? indexC : c.get('device'), `${spec.name} has no ${type} ${index}: it has ${have} ${type === 'vbd' ? 'disk' : 'network interface'}${have === 1 ? '' : 's'}`, have === 0 ? `add devices: { ${type === 'vbd' ? 'block' : 'network'}: [ {} ] } to ${spec.name}` : `index runs from 0 to ${have - 1}`);
        return undefined;
      }
    }
    const devid = type === 'vbd' ? XVD_DEVID(index) : index;
    return { kind: 'xenbus', domain, device: { type: type as 'vbd' | 'vif', devid, end: end as 'frontend' | 'backend' }, state, ...at };
  }

  private untilDomain(v: Cursor): UntilCondition | undefined {
    const domain = this.domainRef(v.get('domain'));
    if (!v.has('state')) {
      this.problem(v, 'until: { domain } needs "state": the lifecycle state to wait for', `states are: ${DOMAIN_STATES.map((x) => x.name).join(', ')}`);
      return undefined;
    }
    const state = this.choice(v.get('state'), DOMAIN_STATES.map((x) => x.name), 'a lifecycle state');
    if (domain === undefined || state === undefined) return undefined;
    return { kind: 'domain', domain, state: state as DomainUntilState, pos: v.get('domain').pos(), path: v.get('domain').path };
  }

  // ---- faults ----

  private faultStep(c: Cursor, base: { pos: Pos; path: string }): Step | undefined {
    this.unknownKeys(c, stepKeys('fault'), 'a fault step');
    const v = c.get('fault');
    const shape = `{ ${FAULT_KINDS.join(': {...} }, { ')}: {...} }`;
    if (!v.isMap()) {
      this.problem(v, `expected a fault such as ${shape}, found ${v.describe()}`);
      return undefined;
    }
    this.unknownKeys(v, FAULT_KINDS, 'a fault');
    const present = FAULT_KINDS.filter((k) => v.has(k));
    if (present.length !== 1) {
      if (present.length === 0 && v.entries().length === 0) this.problem(v, `a fault step says which fault: ${FAULT_KINDS.join(', ')}`, 'e.g. fault: { drop_notify: { domain: guest, port: 1 } }');
      else if (present.length > 1) this.problem(v, `a fault step injects one fault, found ${present.join(' and ')}`, 'use one fault step for each');
      return undefined;
    }
    const kind = present[0]!;
    const f = v.get(kind);
    const fields = fieldsOf(FAULT_FIELDS[kind]!);
    if (!f.isMap()) {
      this.problem(f, `expected { ${keysOf(fields).join(', ')} }, found ${f.describe()}`);
      return undefined;
    }
    this.unknownKeys(f, keysOf(fields), kind);
    const need = (key: string): boolean => {
      if (f.has(key)) return true;
      this.problem(f, `${kind} needs "${key}" (${fields[key]!.doc})`);
      return false;
    };
    const expect = this.expectBlock(c.get('expect'));
    let fault: FaultSpec | undefined;
    let label: string;
    switch (kind) {
      case 'drop_notify':
      case 'delay_notify': {
        const okDomain = need('domain');
        const okPort = need('port');
        const okBy = kind === 'delay_notify' ? need('by') : true;
        const domain = okDomain ? this.domainRef(f.get('domain')) : undefined;
        const port = okPort ? this.num(f.get('port'), 'port') : undefined;
        const count = f.has('count') ? this.intField(f.get('count'), fields.count!) : numDefault(fields.count);
        const by = kind === 'delay_notify' && okBy ? this.duration(f.get('by')) : 0;
        if (domain === undefined || port === undefined || count === undefined || by === undefined) return undefined;
        fault = { kind, domain, port, count, by };
        label = `fault ${kind} ${String(f.get('domain').scalar())} port ${String(f.get('port').scalar())}${kind === 'delay_notify' ? ` by ${String(f.get('by').scalar())}` : ''}${count > 1 ? ` x${count}` : ''}`;
        break;
      }
      case 'fill_ring': {
        if (f.has('ring') === f.has('console')) {
          this.problem(f, f.has('ring') ? 'give ring or console, not both' : 'fill_ring names a ring of the scenario (ring) or a guest whose console ring to fill (console)', 'e.g. fill_ring: { ring: r } or fill_ring: { console: guest }');
          return undefined;
        }
        if (f.has('ring')) {
          if (this.xenVersion === '2.0') this.problem(f.get('ring'), 'scenario rings (ring_init) need grant tables, which this Xen 2.0.0 model does not have', 'on Xen 2.0, fill a console: fill_ring: { console: guest }');
          if (f.has('text')) this.problem(f.get('text'), 'text goes with console: a scenario ring is filled with requests', 'remove text');
          const ring = this.string(f.get('ring'), fields.ring!.what!);
          const notifyPort = f.has('notify_port') ? this.num(f.get('notify_port'), 'port') : undefined;
          if (ring === undefined || (f.has('notify_port') && notifyPort === undefined) || this.xenVersion === '2.0' || f.has('text')) return undefined;
          fault = notifyPort === undefined ? { kind: 'fill_ring', ring } : { kind: 'fill_ring', ring, notifyPort };
          label = `fault fill_ring ${ring}`;
        } else {
          if (f.has('notify_port')) this.problem(f.get('notify_port'), 'notify_port goes with ring: a console driver sends its own event', 'remove notify_port');
          const domain = this.domainRef(f.get('console'));
          const text = f.has('text') ? this.string(f.get('text'), fields.text!.what!) : FILL_PATTERN;
          if (domain === undefined || text === undefined || f.has('notify_port')) return undefined;
          fault = { kind: 'fill_console', domain, text };
          label = `fault fill_ring ${String(f.get('console').scalar())}'s console`;
        }
        break;
      }
      default: {
        const okDomain = need('domain');
        const okBackend = need('backend');
        const okFor = need('for');
        const domain = okDomain ? this.domainRef(f.get('domain')) : undefined;
        const backends = onXen(BACKENDS, this.xenVersion).map((b) => b.name);
        let backend: string | undefined;
        if (okBackend) {
          const b = f.get('backend').scalar();
          if (typeof b === 'string' && backends.includes(b)) backend = b;
          else {
            const other = typeof b === 'string' && BACKENDS.some((x) => x.name === b);
            const hint = other
              ? this.xenVersion === '2.0'
                ? 'on Xen 2.0 every backend service is xend\'s, over the control channel: backend: xend'
                : 'xend is Xen 2.0\'s; today\'s backends are console, xenstore, block and network'
              : typeof b === 'string' ? didYouMean(b, backends) : undefined;
            this.problem(f.get('backend'), `expected a backend of ${this.xenVersion === '2.0' ? 'Xen 2.0' : "today's Xen"} (${backends.join(', ')}), found ${f.get('backend').describe()}`, hint);
          }
        }
        const ns = okFor ? this.duration(f.get('for')) : undefined;
        if (ns === 0) this.problem(f.get('for'), 'for must be more than 0', 'e.g. for: 10ms');
        if (domain === undefined || backend === undefined || ns === undefined || ns === 0) return undefined;
        if (domain.value === 0) {
          this.problem(f.get('domain'), "dom0 runs the backends: name the guest whose backend stalls", 'e.g. stall: { domain: guest, backend: console, for: 10ms }');
          return undefined;
        }
        fault = { kind: 'stall', domain, backend, ns };
        label = `fault stall ${String(f.get('domain').scalar())}'s ${backend} for ${String(f.get('for').scalar())}`;
      }
    }
    return withExtras({ ...base, kind: 'fault', fault, label }, expect, undefined);
  }

  // ---- exercises ----

  /** The placeholder where an exercise's solution steps go. */
  private solutionStep(c: Cursor, base: { pos: Pos; path: string }): Step | undefined {
    this.unknownKeys(c, stepKeys('solution'), 'a solution placeholder');
    if (this.inSolution) {
      this.problem(c.get('solution'), 'a solution placeholder belongs in the exercise: a solution\'s steps take its place', 'remove this step');
      return undefined;
    }
    if (!this.exerciseDoc) {
      this.problem(c.get('solution'), 'a solution placeholder marks where a student\'s steps go in an exercise, and this scenario has no exercise: block', 'add exercise: { title, level, goal, checks }, or remove this step');
      return undefined;
    }
    if (++this.placeholders > 1) {
      this.problem(c.get('solution'), 'an exercise has one solution placeholder: the student\'s steps all go in one place', 'remove this one, or merge the two');
      return undefined;
    }
    const prompt = this.string(c.get('solution'), fieldsOfStep('solution').solution!.what!);
    const saves = this.names(c.get('saves'), 'names to save', SAVE_NAME, 'letters, digits and _');
    const context = { saved: [...this.saved], clockMin: this.clockMin };
    for (const n of saves) {
      if (this.saved.has(n.name)) this.problem(n, `$${n.name} is saved already by a step before the placeholder`, 'give the solution\'s value another name');
      this.saved.add(n.name);
    }
    if (prompt === undefined) return undefined;
    return { ...base, kind: 'solution', prompt, saves, context, label: `solution: ${prompt}` };
  }

  /** A list of words matching `re` (each once), with where each is written. */
  private names(c: Cursor, what: string, re: RegExp, words: string): SaveName[] {
    if (!c.exists) return [];
    if (!c.isSeq()) {
      this.problem(c, `expected a list of ${what}, found ${c.describe()}`);
      return [];
    }
    const out: SaveName[] = [];
    for (const i of c.items()) {
      const v = i.scalar();
      if (typeof v !== 'string' || !re.test(v)) this.problem(i, `expected a name (${words}), found ${i.describe()}`);
      else if (out.some((n) => n.name === v)) this.problem(i, `"${v}" is listed twice`);
      else out.push({ name: v, pos: i.pos(), path: i.path });
    }
    return out;
  }

  /** The exercise block: title, level, goal, hints, the kernels the student writes, and the graded checks. */
  private exercise(c: Cursor): ExerciseSpec | undefined {
    if (!c.isMap()) {
      this.problem(c, `expected the exercise as a mapping with ${keysOf(EXERCISE_FIELDS).join(', ')}, found ${c.describe()}`);
      return undefined;
    }
    this.unknownKeys(c, keysOf(EXERCISE_FIELDS), 'the exercise');
    for (const [key, f] of Object.entries(EXERCISE_FIELDS)) if (f.required === true && !c.has(key)) this.problem(c, `an exercise needs "${key}" (${f.doc})`);
    const title = c.has('title') ? this.string(c.get('title'), EXERCISE_FIELDS.title!.what!) : undefined;
    const level = c.has('level') ? this.intField(c.get('level'), EXERCISE_FIELDS.level!) : undefined;
    const goal = c.has('goal') ? this.string(c.get('goal'), EXERCISE_FIELDS.goal!.what!) : undefined;
    const hints = this.listOf(c.get('hints'), 'hints (text)', (h) => this.string(h, 'a hint'));
    const kernels = this.names(c.get('kernels'), 'guests by name', /./, 'a domain name');
    for (const k of kernels) {
      const id = this.domainIds.get(k.name);
      if (id === undefined) this.problem(k, `unknown domain "${k.name}"`, didYouMean(k.name, this.domainIds.keys()) ?? `domains are: ${[...this.domainIds.keys()].join(', ')}`);
      else if (id === 0) this.problem(k, 'dom0 runs the toolstack: the student writes a guest\'s kernel', 'name a guest');
    }
    let report = this.domainSpecs.length > 1 ? 1 : 0;
    if (c.has('report')) {
      const r = this.literalDomain(c.get('report'));
      if (r !== undefined) report = r.domid;
    }
    const checks: ExerciseCheck[] = [];
    const cc = c.get('checks');
    if (cc.exists && (!cc.isSeq() || cc.items().length === 0)) this.problem(cc, `expected a list of checks, each { id, title, points, <assertion> }, found ${cc.isSeq() ? 'an empty list' : cc.describe()}`, 'an exercise grades at least one check');
    for (const item of cc.items()) {
      const check = this.exerciseCheck(item, checks);
      if (check !== undefined) checks.push(check);
    }
    if (title === undefined || level === undefined || goal === undefined) return undefined;
    return { title, level, goal, hints, kernels, report, checks, pos: c.pos(), path: c.path };
  }

  /** A domain written as its name or id (no $name: it must be known when the file is checked). */
  private literalDomain(c: Cursor): DomainSpec | undefined {
    const v = c.scalar();
    if (typeof v === 'string' && v.startsWith('$')) {
      this.problem(c, 'name the domain here (its name or id): a $name has no value until the steps run');
      return undefined;
    }
    const n = this.domainRef(c);
    return n?.value === undefined ? undefined : this.domainSpecs[n.value];
  }

  /** One graded check: id, title, points, requires (earlier ids), and exactly one assertion. */
  private exerciseCheck(c: Cursor, before: readonly ExerciseCheck[]): ExerciseCheck | undefined {
    if (!c.isMap()) {
      this.problem(c, `expected a check such as { id: bound, title: "...", points: 2, port: { domain: guest, port: $p, state: virq } }, found ${c.describe()}`);
      return undefined;
    }
    this.unknownKeys(c, keysOf(EXERCISE_CHECK_FIELDS), 'a check');
    const f = EXERCISE_CHECK_FIELDS;
    for (const key of ['id', 'title']) if (!c.has(key)) this.problem(c, `a check needs "${key}" (${f[key]!.doc})`);
    let id: string | undefined;
    if (c.has('id')) {
      const v = c.get('id').scalar();
      if (typeof v !== 'string' || !CHECK_ID.test(v)) this.problem(c.get('id'), `expected a check id (lower-case letters, digits, - and _, starting with a letter), found ${c.get('id').describe()}`);
      else if (before.some((b) => b.id === v)) this.problem(c.get('id'), `check id "${v}" is used twice`, 'each check has its own id');
      else id = v;
    }
    const title = c.has('title') ? this.string(c.get('title'), f.title!.what!) : undefined;
    const points = c.has('points') ? this.intField(c.get('points'), f.points!) : numDefault(f.points);
    const requires = this.names(c.get('requires'), 'check ids', CHECK_ID, 'lower-case letters, digits, - and _');
    for (const r of requires) {
      if (before.some((b) => b.id === r.name)) continue;
      const later = r.name === id ? 'a check cannot require itself' : `no check before this one has id "${r.name}"`;
      this.problem(r, later, didYouMean(r.name, before.map((b) => b.id)) ?? (before.length === 0 ? 'requires names checks listed before this one' : `earlier checks are: ${before.map((b) => b.id).join(', ')}`));
    }
    const present = ASSERTIONS.filter((k) => c.has(k));
    if (present.length !== 1) {
      if (present.length === 0) this.problem(c, `a check asserts one thing: give it one of ${ASSERTIONS.join(', ')}`, 'e.g. port: { domain: guest, port: $p, state: interdomain }');
      else this.problem(c, `a check asserts one thing, found ${present.join(' and ')}`, 'split it into several checks (requires can chain them)');
      return undefined;
    }
    const assert = this.assertion(c.get(present[0]!), present[0] as ExerciseAssertion['kind']);
    if (id === undefined || title === undefined || points === undefined || assert === undefined) return undefined;
    return { id, title, points, requires: requires.map((r) => r.name), assert, pos: c.pos(), path: c.path };
  }

  private assertion(v: Cursor, kind: ExerciseAssertion['kind']): ExerciseAssertion | undefined {
    const empty = { consoles: [], ports: [], counters: [], trace: [], pos: v.pos(), path: v.path };
    switch (kind) {
      case 'port': {
        const check = this.portCheck(v);
        return check === undefined ? undefined : { kind, check };
      }
      case 'vcpu': {
        const check = this.vcpuCheck(v);
        return check === undefined ? undefined : { kind, check };
      }
      case 'trace': {
        const t = this.finalTrace(v);
        return t === undefined ? undefined : { kind, expect: { ...empty, trace: [t] } };
      }
      default: {
        if (!v.isMap()) {
          this.problem(v, `expected { domain, ${keysOf(kind === 'console' ? FINAL_CONSOLE_FIELDS : FINAL_COUNTER_FIELDS).join(', ')} }, found ${v.describe()}`);
          return undefined;
        }
        if (!v.has('domain')) {
          this.problem(v, `a ${kind} assertion needs "domain": whose ${kind === 'console' ? 'console' : 'counts'} to look at`);
          return undefined;
        }
        const d = this.literalDomain(v.get('domain'));
        if (d === undefined) return undefined;
        if (kind === 'console') {
          const con = this.finalConsole(v, d.domid, d.name, ['domain']);
          return con === undefined ? undefined : { kind, expect: { ...empty, consoles: [con] } };
        }
        const counters = this.finalCounters(v, d.domid, d.name, ['domain']);
        return counters === undefined ? undefined : { kind, expect: { ...empty, counters: [counters] } };
      }
    }
  }

  /** A vCPU check (a graded check's vcpu): as a check step's vCPU form. */
  private vcpuCheck(k: Cursor): Extract<Step, { kind: 'check' }> | undefined {
    if (!k.isMap()) {
      this.problem(k, `expected a vCPU check such as { domain: guest, vcpu: 0, upcall_pending: false }, found ${k.describe()}`);
      return undefined;
    }
    this.unknownKeys(k, VCPU_CHECK_KEYS, 'a vCPU check');
    for (const key of ['domain', 'vcpu']) if (!k.has(key)) this.problem(k, `a vCPU check needs "${key}"`);
    if (!k.has('domain') || !k.has('vcpu')) return undefined;
    const domain = this.domainRef(k.get('domain'));
    const vcpu = this.num(k.get('vcpu'), 'u32');
    const checks = this.checkFields(k, ['domain', 'vcpu']);
    if (domain === undefined || vcpu === undefined) return undefined;
    return { pos: k.pos(), path: k.path, kind: 'check', domain, vcpu, checks, label: `check ${String(k.get('domain').scalar())} vcpu ${String(k.get('vcpu').scalar())}` };
  }

  // ---- the final expect block ----

  private finalExpect(c: Cursor): FinalExpect | undefined {
    if (!c.isMap()) {
      this.problem(c, `expected the final expectations as a mapping with ${keysOf(FINAL_EXPECT_FIELDS).join(', ')}, found ${c.describe()}`);
      return undefined;
    }
    this.unknownKeys(c, keysOf(FINAL_EXPECT_FIELDS), 'the expect block');
    if (c.entries().length === 0) this.problem(c, 'this expect block checks nothing', `give it one of: ${keysOf(FINAL_EXPECT_FIELDS).join(', ')}`);
    const consoles = this.byDomain(c.get('consoles'), 'consoles', (v, domid, name) => this.finalConsole(v, domid, name));
    const counters = this.byDomain(c.get('counters'), 'counters', (v, domid, name) => this.finalCounters(v, domid, name));
    const ports = this.listOf(c.get('ports'), 'port checks such as { domain: guest, port: 1, delivered: 1 }', (p) => this.portCheck(p));
    const trace = this.listOf(c.get('trace'), 'trace counts such as { filter: "kind==upcall", count: 3 }', (t) => this.finalTrace(t));
    return { consoles, ports, counters, trace, pos: c.pos(), path: c.path };
  }

  /** A list under a key: each item compiled, the ones with problems left out. */
  private listOf<T>(c: Cursor, what: string, one: (item: Cursor) => T | undefined): T[] {
    if (!c.exists) return [];
    if (!c.isSeq()) {
      this.problem(c, `expected a list of ${what}, found ${c.describe()}`);
      return [];
    }
    return c.items().flatMap((i) => {
      const r = one(i);
      return r === undefined ? [] : [r];
    });
  }

  /** A mapping from domains (names or ids) to something: each entry compiled with the domain it names. */
  private byDomain<T>(c: Cursor, what: string, one: (v: Cursor, domid: number, name: string) => T | undefined): T[] {
    if (!c.exists) return [];
    if (!c.isMap()) {
      this.problem(c, `expected ${what} by domain, such as { guest: {...} }, found ${c.describe()}`);
      return [];
    }
    const out: T[] = [];
    for (const e of c.entries()) {
      const id = /^\d+$/.test(e.key) ? Number(e.key) : this.domainIds.get(e.key);
      const spec = id === undefined ? undefined : this.domainSpecs[id];
      if (spec === undefined) {
        this.problem({ pos: e.keyPos, path: e.value.path }, `unknown domain "${e.key}"`, didYouMean(e.key, this.domainIds.keys()) ?? `domains are: ${[...this.domainIds.keys()].join(', ')}`);
        continue;
      }
      const r = one(e.value, spec.domid, spec.name);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  /** A console expectation; `also`: keys the mapping may have besides (a graded check's domain). */
  private finalConsole(c: Cursor, domid: number, name: string, also: readonly string[] = []): FinalConsole | undefined {
    if (!c.isMap()) {
      this.problem(c, `expected { ${keysOf(FINAL_CONSOLE_FIELDS).join(', ')} }, found ${c.describe()}`);
      return undefined;
    }
    this.unknownKeys(c, [...also, ...keysOf(FINAL_CONSOLE_FIELDS)], 'a console expectation');
    if (c.entries().filter((e) => !also.includes(e.key)).length === 0) this.problem(c, `this console expectation checks nothing`, `give it one of: ${keysOf(FINAL_CONSOLE_FIELDS).join(', ')}`);
    const matches = this.texts(c.get('matches'), 'a regular expression');
    for (const m of matches) {
      try {
        new RegExp(m.text);
      } catch (e) {
        this.problem(m, `not a regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`, 'matches takes JavaScript regular-expression syntax');
      }
    }
    const lines = c.has('lines') ? this.count(c.get('lines')) : undefined;
    const out: FinalConsole = { domid, name, contains: this.texts(c.get('contains'), 'text'), notContains: this.texts(c.get('not_contains'), 'text'), matches, pos: c.pos(), path: c.path };
    return lines === undefined ? out : { ...out, lines };
  }

  /** A domain's counters; `also`: keys the mapping may have besides (a graded check's domain). */
  private finalCounters(c: Cursor, domid: number, name: string, also: readonly string[] = []): FinalCounters | undefined {
    if (!c.isMap()) {
      this.problem(c, `expected { ${keysOf(FINAL_COUNTER_FIELDS).join(', ')} }, found ${c.describe()}`);
      return undefined;
    }
    this.unknownKeys(c, [...also, ...keysOf(FINAL_COUNTER_FIELDS)], 'a domain\'s counters');
    if (c.entries().filter((e) => !also.includes(e.key)).length === 0) this.problem(c, 'these counters check nothing', `give them one of: ${keysOf(FINAL_COUNTER_FIELDS).join(', ')}`);
    const out: { -readonly [K in keyof FinalCounters]: FinalCounters[K] } = { domid, name, pos: c.pos(), path: c.path };
    for (const key of ['upcalls', 'hypercalls', 'sends'] as const) {
      if (!c.has(key)) continue;
      const n = this.count(c.get(key));
      if (n !== undefined) out[key] = n;
    }
    const dc = c.get('deliveries');
    if (dc.exists) {
      const keys = dc.isMap() ? dc.entries().map((e) => e.key) : [];
      if (!dc.isMap() || keys.every((k) => k === 'min' || k === 'max')) {
        const n = this.count(dc);
        if (n !== undefined) out.deliveries = n;
      } else {
        const per: { port: NumArg; count: CountSpec }[] = [];
        for (const e of dc.entries()) {
          const at = { pos: e.keyPos, path: e.value.path };
          let port: NumArg | undefined;
          if (e.key.startsWith('$')) port = this.ref(new Cursor(this.src, null, at.path, at.pos), e.key);
          else if (/^\d+$/.test(e.key)) port = { value: Number(e.key), ...at };
          else this.problem(at, `expected a port (a number or a $name) as the key, found "${e.key}"`, 'e.g. deliveries: { 1: 3 }, or deliveries: 3 for all ports');
          const n = this.count(e.value);
          if (port !== undefined && n !== undefined) per.push({ port, count: n });
        }
        out.deliveries = per;
      }
    }
    return out;
  }

  private finalTrace(c: Cursor): FinalTrace | undefined {
    if (!c.isMap()) {
      this.problem(c, `expected { filter, count }, found ${c.describe()}`);
      return undefined;
    }
    this.unknownKeys(c, keysOf(FINAL_TRACE_FIELDS), 'a trace count');
    for (const key of ['filter', 'count']) if (!c.has(key)) this.problem(c, `a trace count needs "${key}" (${FINAL_TRACE_FIELDS[key]!.doc})`);
    if (!c.has('filter') || !c.has('count')) return undefined;
    const fc = c.get('filter');
    const text = fc.scalar();
    const count = this.count(c.get('count'));
    if (typeof text !== 'string') {
      this.problem(fc, `expected a trace filter (text, such as kind==upcall && dom==1), found ${fc.describe()}`);
      return undefined;
    }
    const parsed = parseFilter(text, { xen: this.xenVersion });
    if (!parsed.ok) {
      const e = parsed.error;
      this.problem({ pos: fc.posInText(e.start), path: fc.path }, `in the filter, ${e.message}`, 'trace filters name domains by id (dom==1), and are described in docs/filter.md');
      return undefined;
    }
    return count === undefined ? undefined : { filter: parsed.filter, count, pos: c.pos(), path: c.path };
  }

  /** A port check (the final expect's ports): as a check step's port form. */
  private portCheck(k: Cursor): Extract<Step, { kind: 'check' }> | undefined {
    if (!k.isMap()) {
      this.problem(k, `expected a port check such as { domain: guest, port: 1, pending: false }, found ${k.describe()}`);
      return undefined;
    }
    this.unknownKeys(k, PORT_CHECK_KEYS, 'a port check');
    for (const key of ['domain', 'port']) if (!k.has(key)) this.problem(k, `a port check needs "${key}"`);
    if (!k.has('domain') || !k.has('port')) return undefined;
    const domain = this.domainRef(k.get('domain'));
    const port = this.num(k.get('port'), 'port');
    const checks = this.checkFields(k, ['domain', 'port']);
    if (domain === undefined || port === undefined) return undefined;
    return { pos: k.pos(), path: k.path, kind: 'check', domain, port, checks, label: `expect ${String(k.get('domain').scalar())} port ${String(k.get('port').scalar())}` };
  }

  /** How many: a whole number, or { min, max }. */
  private count(c: Cursor): CountSpec | undefined {
    const at = { pos: c.pos(), path: c.path };
    const v = c.scalar();
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return { min: v, max: v, ...at };
    if (c.isMap()) {
      this.unknownKeys(c, ['min', 'max'], 'a count');
      const bound = (k: string): number | undefined => {
        const b = c.get(k);
        if (!b.exists) return k === 'min' ? 0 : Infinity;
        const n = b.scalar();
        if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
        this.problem(b, `expected ${k} as a whole number >= 0, found ${b.describe()}`);
        return undefined;
      };
      const [min, max] = [bound('min'), bound('max')];
      if (!c.has('min') && !c.has('max')) this.problem(c, 'a range needs min, max or both', 'e.g. { min: 1, max: 10 }');
      else if (min !== undefined && max !== undefined && min > max) this.problem(c, `min ${min} is more than max ${max}`);
      else if (min !== undefined && max !== undefined) return { min, max, ...at };
      return undefined;
    }
    this.problem(c, `expected how many: a whole number >= 0 or { min, max }, found ${c.describe()}`);
    return undefined;
  }

  /** A text or a list of texts. */
  private texts(c: Cursor, what: string): TextSpec[] {
    if (!c.exists) return [];
    const one = (x: Cursor): TextSpec[] => {
      const v = x.scalar();
      if (typeof v === 'string' && v.length > 0) return [{ text: v, pos: x.pos(), path: x.path }];
      this.problem(x, `expected ${what}, found ${x.describe()}`);
      return [];
    };
    if (c.isSeq()) return c.items().flatMap(one);
    return one(c);
  }

  /** One of `names`, with a suggestion for a misspelling. */
  private choice(c: Cursor, names: readonly string[], what: string): string | undefined {
    const v = c.scalar();
    if (typeof v === 'string' && names.includes(v)) return v;
    this.problem(c, `expected ${what} (${names.join(', ')}), found ${c.describe()}`, typeof v === 'string' ? didYouMean(v, names) : undefined);
    return undefined;
  }

  /** Whether a kind of step exists on the scenario's hypervisor. */
  private onThisXen(step: StepSpec): boolean {
    return step.xen === undefined || step.xen === this.xenVersion;
  }

  private asDomain(c: Cursor, what: string): NumArg | undefined {
    const as = c.get('as');
    if (!as.exists) {
      this.problem(c, `${what} needs "as": the domain that does it`, 'e.g. as: guest');
      return undefined;
    }
    return this.domainRef(as);
  }

  /** A domain that must exist in the scenario (by name or id), or a $ref. */
  private domainRef(c: Cursor): NumArg | undefined {
    const n = this.num(c, 'domid');
    if (n?.value !== undefined && !this.isScenarioDomain(n.value)) {
      this.problem(c, `no domain has id ${n.value}`, `ids run from 0 to ${this.domainIds.size - 1}`);
      return undefined;
    }
    return n;
  }

  private isScenarioDomain(id: number): boolean {
    return id >= 0 && id < this.domainIds.size;
  }

  private hypercallStep(c: Cursor, base: { pos: Pos; path: string }): Step | undefined {
    this.unknownKeys(c, stepKeys('op'), 'a hypercall step');
    const as = this.asDomain(c, 'a hypercall');
    const opC = c.get('op');
    const opName = opC.scalar();
    const op = typeof opName === 'string' ? this.ops.get(opName) : undefined;
    if (op === undefined) {
      const other = typeof opName === 'string' && opsOf(this.xenVersion === '2.0' ? '4' : '2.0').has(opName);
      const hint = other
        ? `${String(opName)} is not a Xen ${this.xenVersion === '2.0' ? '2.0.0' : '4'} op; Xen ${this.xenVersion === '2.0' ? '2.0.0' : '4'} has: ${[...this.ops.keys()].join(', ')}`
        : typeof opName === 'string' ? didYouMean(opName, this.ops.keys()) ?? `ops are: ${[...this.ops.keys()].join(', ')}` : undefined;
      this.problem(opC, `unknown op ${opC.describe()}`, hint);
      return undefined;
    }
    const vc = c.get('vcpu');
    const vcpuField = STEPS.get('op')!.keys.vcpu!;
    const vcpu = vc.exists ? this.intField(vc, vcpuField) ?? numDefault(vcpuField) : numDefault(vcpuField);
    const args = this.args(c.get('args'), op);
    const expect = this.expectBlock(c.get('expect'));
    const save = this.saves(c.get('save'), op);
    if (as === undefined || args === undefined) return undefined;
    let label = `${String(c.get('as').scalar())} ${op.name}`;
    for (const [k, v] of args) label += ` ${k}=${argWords(v)}`;
    const step: Step = { pos: base.pos, path: base.path, kind: 'hypercall', as, vcpu, op, args, label };
    return withExtras(step, expect, save);
  }

  private args(c: Cursor, op: OpSpec): Map<string, ArgValue> | undefined {
    const out = new Map<string, ArgValue>();
    if (c.exists && !c.isMap()) {
      this.problem(c, `expected the arguments of ${op.name} as a mapping, found ${c.describe()}`);
      return undefined;
    }
    const { names, specs } = argListOf(op);
    this.unknownKeys(c, names, `the arguments of ${op.name}`);
    let ok = true;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const spec = specs[i];
      if (spec === undefined) continue;
      const a = c.get(name);
      if (!a.exists) {
        if (spec.default !== undefined) out.set(name, { value: spec.default, pos: c.pos(), path: a.path });
        else {
          this.problem({ pos: c.pos(), path: a.path }, `${op.name} needs "${name}" (${spec.doc})`);
          ok = false;
        }
        continue;
      }
      const v = spec.kind === 'copy_side' ? this.copySide(a) : this.num(a, spec.kind);
      if (v === undefined) ok = false;
      else out.set(name, v);
    }
    return ok ? out : undefined;
  }

  private copySide(c: Cursor): CopySideArgs | undefined {
    if (!c.isMap()) {
      this.problem(c, `expected { ref | gmfn, domid, offset }, found ${c.describe()}`);
      return undefined;
    }
    this.unknownKeys(c, keysOf(COPY_SIDE_FIELDS), 'a copy side');
    const domid = this.numField(c, 'domid', COPY_SIDE_FIELDS);
    const offset = this.numField(c, 'offset', COPY_SIDE_FIELDS);
    const ref = this.numField(c, 'ref', COPY_SIDE_FIELDS);
    const gmfn = this.numField(c, 'gmfn', COPY_SIDE_FIELDS);
    if (!c.has('ref') && !c.has('gmfn')) {
      this.problem(c, 'a copy side needs ref (with the GNTCOPY_*_gref flag) or gmfn');
      return undefined;
    }
    if (domid === undefined || offset === undefined || (ref === undefined && gmfn === undefined)) return undefined;
    const side: CopySideArgs = { domid, offset };
    return { ...side, ...(ref ? { ref } : {}), ...(gmfn ? { gmfn } : {}) };
  }

  private expectBlock(c: Cursor): ExpectNode | undefined {
    if (!c.exists) return undefined;
    if (!c.isMap()) {
      this.problem(c, `expected a mapping of expected results such as { ret: 0, port: 1 }, found ${c.describe()}`);
      return undefined;
    }
    return this.expectNode(c, undefined);
  }

  /** An expected value; `key` tells how to read names (errnos for ret, domains for dom...). */
  private expectNode(c: Cursor, key: string | undefined): ExpectNode | undefined {
    const pos = c.pos();
    const path = c.path;
    if (c.isMap()) {
      const map = new Map<string, ExpectNode>();
      for (const key of c.keyNames()) {
        const n = this.expectNode(c.get(key), key);
        if (n !== undefined) map.set(key, n);
      }
      return { pos, path, map };
    }
    if (c.isSeq()) {
      const list: ExpectNode[] = [];
      for (const i of c.items()) {
        const n = this.expectNode(i, key);
        if (n !== undefined) list.push(n);
      }
      return { pos, path, list };
    }
    const v = c.scalar();
    if (v === null || typeof v === 'boolean') return { pos, path, scalar: v };
    if (typeof v === 'number') return { pos, path, scalar: { pos, path, value: v } };
    if (typeof v === 'string') {
      if (v.startsWith('$')) {
        const r = this.ref(c, v);
        return r === undefined ? undefined : { pos, path, scalar: r };
      }
      const names = key === undefined ? undefined : EXPECT_KEY_KINDS.get(key);
      if (names === 'errno') {
        const m = ERRNO.exec(v);
        const n = m ? errnoByName(m[1]!) : undefined;
        if (n === undefined) {
          this.problem(c, `expected ret as 0, a number or an errno such as -EINVAL, found ${c.describe()}`, didYouMean(v.replace(/^-/, ''), Object.values(ERRNO_NAMES)));
          return undefined;
        }
        return { pos, path, scalar: { pos, path, value: -n } };
      }
      if (names === 'gntst' && v.startsWith('GNTST_')) {
        if (gntstByName(v) === undefined) {
          this.problem(c, `unknown grant status "${v}"`, didYouMean(v, Object.values(GNTST_NAMES)));
          return undefined;
        }
        return { pos, path, scalar: v };
      }
      if (names === 'domid' || names === 'virq') {
        const n = this.num(c, names);
        return n === undefined ? undefined : { pos, path, scalar: n };
      }
      return { pos, path, scalar: v };
    }
    this.problem(c, `cannot compare with ${c.describe()}`);
    return undefined;
  }

  private saves(c: Cursor, op: OpSpec | undefined, fields?: readonly string[]): SaveSpec[] | undefined {
    if (!c.exists) return undefined;
    if (!c.isMap()) {
      this.problem(c, `expected save as { <result field>: <name> }, found ${c.describe()}`);
      return undefined;
    }
    const known = fields ?? ['ret', ...(op?.out ?? [])];
    const out: SaveSpec[] = [];
    for (const e of c.entries()) {
      const head = e.key.split('.')[0]!;
      if (!known.includes(head)) {
        this.problem({ pos: e.keyPos, path: `${c.path}.${e.key}` }, `this step has no result field "${e.key}"`, didYouMean(head, known) ?? `its fields are: ${known.join(', ')}`);
        continue;
      }
      const name = e.value.scalar();
      if (typeof name !== 'string' || !SAVE_NAME.test(name)) {
        this.problem(e.value, `expected a name to save under (letters, digits, _), found ${e.value.describe()}`);
        continue;
      }
      this.saved.add(name);
      out.push({ field: e.key, name, pos: e.value.pos(), path: e.value.path });
    }
    return out;
  }

  private checkStep(c: Cursor, base: { pos: Pos; path: string }): Step | undefined {
    this.unknownKeys(c, stepKeys('check'), 'a check step');
    const k = c.get('check');
    if (!k.isMap()) {
      this.problem(k, `expected { domain, port, ... } or { domain, vcpu, ... }, found ${k.describe()}`);
      return undefined;
    }
    const hasPort = k.has('port');
    if (k.has('console')) {
      this.unknownKeys(k, CONSOLE_CHECK_KEYS, 'a console check');
      const domain = this.domainRef(k.get('domain'));
      const text = this.string(k.get('console'), CHECKS.console.console!.what!);
      if (domain === undefined || text === undefined) return undefined;
      const checks = new Map<string, ExpectNode>([['console', { pos: k.get('console').pos(), path: k.get('console').path, scalar: text }]]);
      return { ...base, kind: 'check', domain, checks, label: `check ${String(k.get('domain').scalar())} console` };
    }
    this.unknownKeys(k, hasPort ? PORT_CHECK_KEYS : VCPU_CHECK_KEYS, hasPort ? 'a port check' : 'a vCPU check');
    if (!k.has('domain')) {
      this.problem(k, 'a check needs "domain"');
      return undefined;
    }
    const domain = this.domainRef(k.get('domain'));
    const port = hasPort ? this.num(k.get('port'), 'port') : undefined;
    const vcpu = !hasPort && k.has('vcpu') ? this.num(k.get('vcpu'), 'u32') : undefined;
    if (!hasPort && !k.has('vcpu')) {
      this.problem(k, 'a check names a port or a vcpu', 'e.g. { domain: guest, port: 1, pending: true } or { domain: guest, vcpu: 0, upcall_pending: true }');
      return undefined;
    }
    const checks = this.checkFields(k, hasPort ? ['domain', 'port'] : ['domain', 'vcpu']);
    if (domain === undefined || (hasPort && port === undefined)) return undefined;
    const label = `check ${String(k.get('domain').scalar())} ${hasPort ? `port ${String(k.get('port').scalar())}` : `vcpu ${String(k.get('vcpu').scalar())}`}`;
    const step: Step = { ...base, kind: 'check', domain, checks, label };
    return port ? { ...step, port } : vcpu ? { ...step, vcpu } : step;
  }

  /** The compared keys of a port or vCPU check (or an until's port condition), each read as its field says. */
  private checkFields(k: Cursor, skip: readonly string[]): Map<string, ExpectNode> {
    const checks = new Map<string, ExpectNode>();
    for (const e of k.entries()) {
      if (skip.includes(e.key)) continue;
      const v = e.value;
      const kind = CHECK_KINDS.get(e.key);
      if (kind === 'bool' && typeof v.scalar() !== 'boolean') {
        this.problem(v, `expected ${e.key}: true or false, found ${v.describe()}`);
        continue;
      }
      if (kind === 'choice' && !PORT_STATE_NAMES.includes(String(v.scalar()))) {
        this.problem(v, `expected a port state (${PORT_STATE_NAMES.join(', ')}), found ${v.describe()}`, didYouMean(String(v.scalar()), PORT_STATE_NAMES));
        continue;
      }
      if (kind === 'list' && !v.isSeq()) {
        this.problem(v, `expected ${e.key} as a list of set bits, e.g. [0], found ${v.describe()}`);
        continue;
      }
      const n = this.expectNode(v, e.key);
      if (n !== undefined) checks.set(e.key, n);
    }
    return checks;
  }

  private lifecycleStep(c: Cursor, base: { pos: Pos; path: string }, action: LifecycleAction): Step | undefined {
    const spec = STEPS.get(action)!;
    const keys = stepKeys(action, this.xenVersion);
    this.unknownKeys(c, keys, `a ${action} step`);
    const v = c.get(action);
    let domainC = v;
    let reason: LifecycleReason | undefined;
    if (v.isMap()) {
      this.unknownKeys(v, keysOf(actionFields(action)), `a ${action} step`);
      domainC = v.get('domain');
      if (action === 'shutdown' && v.has('reason')) {
        // Xen 2.0: xend's reasons (xm shutdown; halt goes out as poweroff). Today: the hypervisor's.
        const reasons = onXen(LIFECYCLE_REASON_NAMES, this.xenVersion).map((r) => r.name);
        const r = v.get('reason').scalar();
        if (typeof r === 'string' && reasons.includes(r)) reason = r as LifecycleReason;
        else this.problem(v.get('reason'), `expected a shutdown reason (${reasons.join(', ')}), found ${v.get('reason').describe()}`, typeof r === 'string' ? didYouMean(r, reasons) : undefined);
      }
    }
    const domain = this.domainRef(domainC);
    const expect = this.expectBlock(c.get('expect'));
    const save = c.has('save') && keys.includes('save') ? this.saves(c.get('save'), undefined, stepResults(spec, this.xenVersion)) : undefined;
    if (domain === undefined) return undefined;
    const via = action === 'shutdown' && this.xenVersion === '2.0' ? ' via xend' : '';
    const step: Step = { ...base, kind: 'lifecycle', action, domain, label: `${action} ${String(domainC.scalar())}${reason ? ` ${reason}` : ''}${via}`, ...(reason ? { reason } : action === 'shutdown' ? { reason: 'poweroff' as const } : {}) };
    return withExtras(step, expect, save);
  }

  /** Console input: `type: { domain, text }`, typed at the domain's console. */
  private typeStep(c: Cursor, base: { pos: Pos; path: string }): Step | undefined {
    this.unknownKeys(c, stepKeys('type'), 'a type step');
    const v = c.get('type');
    const fields = actionFields('type');
    if (!v.isMap()) {
      this.problem(v, `expected { ${keysOf(fields).join(', ')} }, found ${v.describe()}`);
      return undefined;
    }
    this.unknownKeys(v, keysOf(fields), 'a type step');
    const domain = this.domainRef(v.get('domain'));
    const text = typeof v.get('text').scalar() === 'string' ? (v.get('text').scalar() as string) : this.string(v.get('text'), fields.text!.what!);
    if (domain === undefined || text === undefined) return undefined;
    return { ...base, kind: 'type', domain, text, label: `type ${JSON.stringify(text)} at ${String(v.get('domain').scalar())}'s console` };
  }

  private raiseStep(c: Cursor, base: { pos: Pos; path: string }, action: 'virq' | 'pirq'): Step | undefined {
    this.unknownKeys(c, stepKeys(action), `a ${action} step`);
    const v = c.get(action);
    const fields = actionFields(action);
    if (!v.isMap()) {
      this.problem(v, `expected { ${keysOf(fields).join(', ')} }, found ${v.describe()}`);
      return undefined;
    }
    this.unknownKeys(v, keysOf(fields), `a ${action} step`);
    const domain = this.domainRef(v.get('domain'));
    if (action === 'virq') {
      const virq = this.num(v.get('virq'), 'virq');
      const vcpu = this.numField(v, 'vcpu', fields);
      if (domain === undefined || virq === undefined || vcpu === undefined) return undefined;
      return { ...base, kind: 'virq', domain, virq, vcpu, label: `Xen raises ${String(v.get('virq').scalar())} in ${String(v.get('domain').scalar())}` };
    }
    const pirq = this.num(v.get('pirq'), 'u32');
    if (domain === undefined || pirq === undefined) return undefined;
    return { ...base, kind: 'pirq', domain, pirq, label: `PIRQ ${String(v.get('pirq').scalar())} fires for ${String(v.get('domain').scalar())}` };
  }

  private localStep(c: Cursor, base: { pos: Pos; path: string }, action: string): Step | undefined {
    if (!this.onThisXen(STEPS.get(action)!)) {
      this.problem(c, `${action} needs grant tables, which this Xen 2.0.0 model does not have`, 'use xen: "4"');
      return undefined;
    }
    this.unknownKeys(c, stepKeys(action), `a ${action} step`);
    const as = this.asDomain(c, `"${action}"`);
    const v = c.get(action);
    const expect = this.expectBlock(c.get('expect'));
    const who = String(c.get('as').scalar());
    if (action === 'mask' || action === 'clear_mask') {
      const port = this.num(v, 'port');
      if (as === undefined || port === undefined) return undefined;
      return withExtras({ ...base, kind: action, as, port, label: `${who} ${action} ${String(v.scalar())}` }, expect, undefined);
    }
    if (action === 'upcall_mask') {
      if (!v.isMap()) {
        this.problem(v, `expected { ${keysOf(actionFields(action)).join(', ')} }, found ${v.describe()}`);
        return undefined;
      }
      const fields = actionFields(action);
      this.unknownKeys(v, keysOf(fields), 'upcall_mask');
      const vcpu = this.numField(v, 'vcpu', fields);
      const value = this.bool(v.get('value'), fields.value!.what!);
      if (as === undefined || vcpu === undefined || value === undefined) return undefined;
      return withExtras({ ...base, kind: 'upcall_mask', as, vcpu, value, label: `${who} upcall_mask vcpu ${vcpu.value ?? '?'} = ${value}` }, expect, undefined);
    }
    if (action === 'grant_access') {
      const fields = actionFields(action);
      if (!v.isMap()) {
        this.problem(v, `expected { ${keysOf(fields).join(', ')} }, found ${v.describe()}`);
        return undefined;
      }
      this.unknownKeys(v, keysOf(fields), 'grant_access');
      const ref = this.num(v.get('ref'), 'u32');
      const domid = this.num(v.get('domid'), 'domid');
      const frame = this.num(v.get('frame'), 'u64');
      const readonly = v.has('readonly') ? this.bool(v.get('readonly'), fields.readonly!.what!) : fields.readonly!.default === true;
      if (as === undefined || ref === undefined || domid === undefined || frame === undefined || readonly === undefined) return undefined;
      return withExtras({ ...base, kind: 'grant_access', as, ref, domid, frame, readonly, label: `${who} grants ref ${ref.value ?? '?'} to ${String(v.get('domid').scalar())}` }, expect, undefined);
    }
    const ref = this.num(v, 'u32');
    if (as === undefined || ref === undefined) return undefined;
    return withExtras({ ...base, kind: 'end_access', as, ref, label: `${who} ends access to ref ${String(v.scalar())}` }, expect, undefined);
  }

  private ringStep(c: Cursor, base: { pos: Pos; path: string }, action: string): Step | undefined {
    const spec = STEPS.get(action)!;
    if (!this.onThisXen(spec)) {
      this.problem(c, `${action} needs ring.h rings on granted pages, which this Xen 2.0.0 model does not have`, 'use xen: "4"');
      return undefined;
    }
    this.unknownKeys(c, stepKeys(action), `a ${action} step`);
    const as = this.asDomain(c, `"${action}"`);
    const v = c.get(action);
    const fields = actionFields(action);
    const keys = keysOf(fields);
    if (!v.isMap()) {
      this.problem(v, `expected { ${keys.join(', ')} }, found ${v.describe()}`);
      return undefined;
    }
    this.unknownKeys(v, keys, action);
    const ring = this.string(v.get('ring'), fields.ring!.what!);
    const args = new Map<string, NumArg>();
    for (const [key, f] of Object.entries(fields)) {
      if (f.kind.t !== 'num') continue;
      const a = v.get(key);
      if (!a.exists) {
        if (f.required === true) this.problem(v, `${action} needs "${key}"`);
        else if (typeof f.default === 'number') args.set(key, { value: f.default, pos: v.pos(), path: a.path });
        continue;
      }
      const n = this.num(a, f.kind.kind);
      if (n !== undefined) args.set(key, n);
    }
    const expect = this.expectBlock(c.get('expect'));
    const save = this.saves(c.get('save'), undefined, stepResults(spec, this.xenVersion));
    if (as === undefined || ring === undefined) return undefined;
    return withExtras({ ...base, kind: 'ring', as, action: spec.ring!, ring, args, label: `${String(c.get('as').scalar())} ${action} ${ring}` }, expect, save);
  }
}

/** How the step's timing reads in its label: " at 5ms", " x3 every 1ms". */
function timingLabel(c: Cursor): string {
  const at = c.get('at').scalar();
  const repeat = c.get('repeat').scalar();
  const every = c.get('every').scalar();
  return `${at === undefined ? '' : ` at ${String(at)}`}${repeat === undefined ? '' : ` x${String(repeat)}`}${every === undefined ? '' : ` every ${String(every)}`}`;
}

/** An until's condition as a short line. */
function untilLabel(v: Cursor, kind: string): string {
  const c = v.get(kind);
  const d = (x: Cursor) => String(x.get('domain').scalar());
  switch (kind) {
    case 'console':
      return `${d(c)}'s console ${c.has('matches') ? `matches /${String(c.get('matches').scalar())}/` : `contains ${JSON.stringify(String(c.get('contains').scalar()))}`}`;
    case 'port':
      return `${d(c)} port ${String(c.get('port').scalar())} ${c.entries().filter((e) => e.key !== 'domain' && e.key !== 'port').map((e) => `${e.key}=${String(e.value.scalar())}`).join(' ')}`;
    case 'xenbus':
      return c.has('path') ? `${String(c.get('path').scalar())} ${String(c.get('state').scalar())}` : `${d(c)} ${String(c.get('device').scalar())} ${String(c.get('index').scalar() ?? 0)}${c.has('end') ? ` ${String(c.get('end').scalar())}` : ''} ${String(c.get('state').scalar())}`;
    default:
      return `${d(v)} ${String(v.get('state').scalar())}`;
  }
}

function withExtras(step: Step, expect: ExpectNode | undefined, save: readonly SaveSpec[] | undefined): Step {
  if (expect === undefined && save === undefined) return step;
  // The step is new here: its extras are set on it rather than copied into another.
  const s = step as { expect?: ExpectNode; save?: readonly SaveSpec[] };
  if (expect !== undefined) s.expect = expect;
  if (save !== undefined) s.save = save;
  return step;
}

/** An op's argument names and their specs, in order, made once per op. */
const argLists = new WeakMap<OpSpec, { names: string[]; specs: (ArgSpec | undefined)[] }>();
function argListOf(op: OpSpec): { names: string[]; specs: (ArgSpec | undefined)[] } {
  let l = argLists.get(op);
  if (l === undefined) argLists.set(op, (l = { names: Object.keys(op.args), specs: Object.values(op.args) }));
  return l;
}

/** An argument as it is written: its number, its $name, or {…} for a struct. */
function argWords(v: ArgValue): string {
  if (!('pos' in v)) return '{…}';
  return v.value !== undefined ? String(v.value) : `$${v.ref ?? '?'}`;
}

/** The fields of a step's keys. */
function fieldsOfStep(action: string): Fields {
  return STEPS.get(action)!.keys;
}

/** Parses and checks a scenario; throws ScenarioInputError listing every problem. */
export function loadScenario(file: string, text: string): Scenario {
  return new Compiler(parseYaml(file, text)).compile();
}

/**
 * Parses and checks a solution file (YAML, `steps: [...]`) for the placeholder
 * `at` of the exercise `sc`; throws ScenarioInputError (positions in the
 * solution file). Every position in the steps names the solution file.
 */
export function loadSolutionSteps(sc: Scenario, at: Extract<Step, { kind: 'solution' }>, file: string, text: string): { steps: Step[]; saved: string[] } {
  return new Compiler(parseYaml(file, text, { stampFile: true })).solution(sc, at);
}
