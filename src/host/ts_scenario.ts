/**
 * Scenarios written in TypeScript. The file is transpiled with the TypeScript
 * compiler (transpileModule: syntax only; types are for the editor), then run
 * as untrusted code in a QuickJS sandbox (sandbox.ts) with a small API of our
 * own: `scenario(doc, setup?)` gives the same document a YAML scenario holds
 * (loops and computed topologies are just code producing it) and
 * `kernel(name, handlers)` defines a custom guest kernel whose handlers run
 * in the sandbox as the simulation calls them (script_kernel.ts).
 *
 * The document comes out as plain data, is written as YAML and compiled by
 * the step-form compiler like any YAML scenario; every position in the
 * compiled scenario (and so in its problems and failures) is then moved to
 * the .ts file: the object literal or `lab.step(...)` call it came from.
 */
import { basename } from 'node:path';
import type * as TS from 'typescript';
import { stringify } from 'yaml';
import { CTRL_MSG_MAX_PAYLOAD } from '../core/abi/ctrl_if.js';
import { ERRNO_NAMES } from '../core/abi/errno.js';
import { ScenarioInputError, type Pos, type Problem } from '../scenario/errors.js';
import type { KernelName, Scenario } from '../scenario/model.js';
import type { RunOptions } from '../scenario/runner.js';
import { scriptKernel, ScriptError, usesControlInterface, type ScriptControlRequest, type ScriptHandlers, type ScriptKernel } from '../scenario/script_kernel.js';
import { loadScenario } from '../scenario/stepform.js';
import { FileError, readScenarioText } from './files.js';
import { Sandbox, SandboxError, type Frame, type HostValue, type SandboxLimits, type SandboxValue } from './sandbox.js';

/** File names that hold TypeScript scenarios. */
export function isTypeScriptScenario(file: string): boolean {
  return /\.[mc]?ts$/i.test(file) && !/\.d\.[mc]?ts$/i.test(file);
}

/** The module name scenarios import the API from. */
export const API_MODULE = 'xenlab';

const BUILTIN_KERNELS: readonly KernelName[] = ['default', 'plan9', 'minios'];

type Kernels = NonNullable<RunOptions['kernels']>;
type KernelFactory = Kernels extends ReadonlyMap<string, infer F> ? F : never;

/** Reads and loads a TypeScript scenario file; unreadable files throw FileError, bad scenarios ScenarioInputError. */
export async function loadTsScenarioFile(file: string, limits: SandboxLimits = {}): Promise<TsScenario> {
  return TsScenario.load(file, readScenarioText(file), limits);
}

export { FileError };

/** A loaded TypeScript scenario: its compiled form, and its custom kernels for each run. */
export class TsScenario {
  /** The compiled scenario, positions in the .ts file. */
  readonly scenario: Scenario;
  /** The document as the YAML the step-form compiler read (custom kernels shown as `default`). */
  readonly yaml: string;
  /** Domain name → the custom kernel it boots. */
  readonly customKernels: ReadonlyMap<string, string>;
  private evaluation: Evaluation | undefined;
  private used = false;

  private constructor(
    private readonly code: Code,
    private readonly sandbox: Sandbox,
    first: Evaluation,
    loaded: { scenario: Scenario; yaml: string; customKernels: Map<string, string> },
  ) {
    this.scenario = loaded.scenario;
    this.yaml = loaded.yaml;
    this.customKernels = loaded.customKernels;
    this.evaluation = first;
    // Nothing runs in the sandbox later unless a domain boots a custom kernel.
    if (this.customKernels.size === 0) this.dispose();
  }

  /** Transpiles and evaluates `text` (the file `file`) in a fresh sandbox and compiles its document. */
  static async load(file: string, text: string, limits: SandboxLimits = {}): Promise<TsScenario> {
    const code = await transpile(file, text);
    const sandbox = await Sandbox.create(limits);
    try {
      const ev = evaluate(code, sandbox);
      const loaded = compileDocument(code, ev.document);
      return new TsScenario(code, sandbox, ev, loaded);
    } catch (e) {
      sandbox.dispose();
      throw e;
    }
  }

  /**
   * The custom kernels for one run (RunOptions.kernels). Each run after the first evaluates the
   * file again in a fresh context, so every run starts from the file's initial state.
   */
  kernels(): Kernels {
    const kernels = new Map<string, KernelFactory>();
    if (this.customKernels.size === 0) return kernels;
    if (this.used || this.evaluation === undefined) {
      this.sandbox.reset();
      this.evaluation = evaluate(this.code, this.sandbox);
    }
    this.used = true;
    const ev = this.evaluation;
    for (const [domain, name] of this.customKernels) kernels.set(domain, scriptKernel(name, ev.handlers(name), this.scenario.abi));
    return kernels;
  }

  /** Frees the sandbox; kernels handed out before stop working. */
  dispose(): void {
    this.evaluation = undefined;
    this.sandbox.dispose();
  }
}

// ---- transpiling ----

export interface Code {
  readonly file: string;
  /** The name QuickJS knows the module by (stack frames name it). */
  readonly jsFile: string;
  readonly text: string;
  readonly js: string;
  readonly map: SourceMap;
  readonly ts: typeof TS;
  readonly source: TS.SourceFile;
}

let tsModule: Promise<typeof TS> | undefined;

/** The TypeScript compiler, loaded on first use (it is large, and YAML scenarios never need it). */
function typescript(): Promise<typeof TS> {
  tsModule ??= import('typescript').then((m) => (m as unknown as { default: typeof TS }).default ?? (m as unknown as typeof TS));
  return tsModule;
}

export async function transpile(file: string, text: string): Promise<Code> {
  const ts = await typescript();
  const name = basename(file);
  const out = ts.transpileModule(text, {
    fileName: name,
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      sourceMap: true,
      inlineSources: false,
      removeComments: true,
      useDefineForClassFields: true,
      verbatimModuleSyntax: false,
      isolatedModules: true,
    },
  });
  const source = ts.createSourceFile(name, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const problems: Problem[] = [];
  // The first syntax error only: the parser's later ones mostly follow from it.
  for (const d of (out.diagnostics ?? []).slice(0, 1)) {
    const at = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: 0, character: 0 };
    problems.push({ file, line: at.line + 1, col: at.character + 1, path: '', message: ts.flattenDiagnosticMessageText(d.messageText, ' '), hint: `TypeScript error TS${d.code}` });
  }
  // Imports other than the API cannot work in the sandbox: say so where they are written.
  for (const st of source.statements) {
    const spec = (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier !== undefined && ts.isStringLiteral(st.moduleSpecifier) ? st.moduleSpecifier : undefined;
    if (spec === undefined || spec.text === API_MODULE) continue;
    if (ts.isImportDeclaration(st) && st.importClause?.isTypeOnly === true) continue;
    const at = source.getLineAndCharacterOfPosition(spec.getStart(source));
    problems.push({
      file,
      line: at.line + 1,
      col: at.character + 1,
      path: '',
      message: `cannot import "${spec.text}": a scenario may import only "${API_MODULE}"`,
      hint: 'scenario code runs in a sandbox without files, network or processes',
    });
  }
  if (problems.length > 0) throw new ScenarioInputError(problems);
  const jsFile = name.replace(/\.[mc]?ts$/i, '') + '.js';
  return { file, jsFile, text, js: out.outputText, map: decodeSourceMap(out.sourceMapText ?? '{}'), ts, source };
}

// ---- evaluating ----

export interface Evaluation {
  /** The document and what the file declared, as data. */
  readonly document: DocumentOut;
  /** The handlers of one custom kernel, calling into this evaluation. */
  handlers(kernelName: string): ScriptHandlers;
}

export interface DocumentOut {
  /** What the file declared: a scenario (scenario()) or an exercise's solution (solution()). */
  kind: 'scenario' | 'solution';
  doc: unknown;
  /** Whether the module had a default export (else the document is what scenario() was given). */
  exported: boolean;
  kernels: Record<string, ScriptHandlers['defined']>;
  /** Document paths of items added through `lab` → [line, col] of the call in the generated JS. */
  origins: Record<string, [number, number]>;
}

/** Runs the prelude and the module in the sandbox's current context. */
export function evaluate(code: Code, sandbox: Sandbox): Evaluation {
  // The kernels of the run in progress, by domid; the host functions act as them.
  const running = new Map<number, ScriptKernel>();
  const kernelOf = (domid: unknown): ScriptKernel => {
    const k = running.get(domid as number);
    if (k === undefined) throw new Error(`domain ${String(domid)} does not run a kernel of this file`);
    return k;
  };
  const host: Record<string, HostValue> = {
    call: (domid, op, args, vcpu) => kernelOf(domid).hypercallByName(String(op), (args ?? {}) as Record<string, unknown>, vcpuArg(vcpu)) as unknown as HostValue,
    send: (domid, port, vcpu) => kernelOf(domid).sendPort(port as number, vcpuArg(vcpu)),
    mask: (domid, port) => kernelOf(domid).maskPort(port as number),
    clearMask: (domid, port) => kernelOf(domid).clearMask(port as number),
    print: (domid, text) => void kernelOf(domid).print(String(text)),
    now: (domid) => kernelOf(domid).hv.now,
    random: (domid) => kernelOf(domid).random(),
    deliveries: (domid, port) => kernelOf(domid).deliveries(port as number),
    control: (domid, msg) => kernelOf(domid).sendControl(msg as ScriptControlRequest),
  };
  const where = (what?: string) => (e: unknown) => loadProblem(code, e, what);
  let bridge: SandboxValue;
  let ns: SandboxValue;
  try {
    const prelude = sandbox.evalScript(PRELUDE, PRELUDE_FILE);
    bridge = sandbox.callKeep(prelude, [host, errnoTable(), code.jsFile]);
  } catch (e) {
    throw new Error(`the scenario API did not start in the sandbox: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  try {
    ns = sandbox.evalModule(code.js, code.jsFile, new Map([[API_MODULE, API_MODULE_SOURCE]]));
  } catch (e) {
    throw where()(e);
  }
  let document: DocumentOut;
  try {
    const json = sandbox.call(sandbox.get(bridge, 'document'), [ns]);
    document = JSON.parse(String(json)) as DocumentOut;
  } catch (e) {
    throw where('while turning the document into data')(e);
  }
  const fns = {
    boot: sandbox.get(bridge, 'boot'),
    event: sandbox.get(bridge, 'event'),
    timer: sandbox.get(bridge, 'timer'),
    input: sandbox.get(bridge, 'input'),
    control: sandbox.get(bridge, 'control'),
    response: sandbox.get(bridge, 'response'),
    space: sandbox.get(bridge, 'space'),
  };

  return {
    document,
    handlers(kernelName: string): ScriptHandlers {
      const defined = document.kernels[kernelName] ?? { onEvent: false, onTimer: false, onConsoleInput: false, onControlMessage: false, onControlResponse: false, onControlSpace: false };
      const where = (k: ScriptKernel, what: string): string => `in ${what} of kernel "${kernelName}" in domain ${k.d.name}, at ${fmtNs(k.hv.now)} of virtual time`;
      const invoke = (k: ScriptKernel, what: string, fn: SandboxValue, args: HostValue[]): unknown => {
        try {
          return sandbox.call(fn, args);
        } catch (e) {
          throw runtimeError(code, e, where(k, what));
        }
      };
      return {
        defined,
        boot: (k) => {
          running.set(k.d.domid, k);
          invoke(k, 'boot', fns.boot, [k.d.domid, kernelName, k.d.name, k.d.vcpus.length]);
        },
        event: (k, port, vcpu) => invoke(k, 'onEvent', fns.event, [k.d.domid, port, vcpu]),
        timer: (k, vcpu) => invoke(k, 'onTimer', fns.timer, [k.d.domid, vcpu]),
        consoleInput: (k, text) => void invoke(k, 'onConsoleInput', fns.input, [k.d.domid, text]),
        controlMessage: (k, msg) => {
          const reply = invoke(k, 'onControlMessage', fns.control, [k.d.domid, { ...msg, payload: [...msg.payload] }]);
          const bytes = replyBytes(reply);
          if (typeof bytes === 'string') throw new ScriptError(`${code.file}: onControlMessage of kernel "${kernelName}" returned ${bytes} (${where(k, 'onControlMessage')})`);
          return bytes;
        },
        controlResponse: (k, msg) => void invoke(k, 'onControlResponse', fns.response, [k.d.domid, { ...msg, payload: [...msg.payload] }]),
        controlSpace: (k) => void invoke(k, 'onControlSpace', fns.space, [k.d.domid]),
      };
    },
  };
}

/** What onControlMessage returned, as the response's payload; a string says what was wrong with it. */
function replyBytes(v: unknown): Uint8Array | string {
  if (v === undefined || v === null) return new Uint8Array(0);
  const bytes = typeof v === 'string' ? new TextEncoder().encode(v) : Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255) ? Uint8Array.from(v as number[]) : undefined;
  if (bytes === undefined) return `${JSON.stringify(v) ?? typeof v}: the response's payload is text, a list of bytes, or nothing`;
  if (bytes.length > CTRL_MSG_MAX_PAYLOAD) return `${bytes.length} bytes: a control message's payload holds ${CTRL_MSG_MAX_PAYLOAD}`;
  return bytes;
}

/** The control-interface handlers a kernel has, in words. */
export function controlHandlersOf(d: ScriptHandlers['defined']): string {
  return (['onControlMessage', 'onControlResponse', 'onControlSpace'] as const).filter((h) => d[h] === true).join(' and ');
}

function vcpuArg(v: unknown): number {
  return v === undefined ? 0 : (v as number);
}

function errnoTable(): HostValue {
  const t: Record<string, string> = {};
  for (const [n, name] of Object.entries(ERRNO_NAMES)) t[n] = name;
  return t;
}

// ---- the document ----

function compileDocument(code: Code, out: DocumentOut): { scenario: Scenario; yaml: string; customKernels: Map<string, string> } {
  const locate = locator(code, out.origins);
  const problem = (path: string, message: string, hint?: string): Problem => {
    const at = locate(path);
    return hint === undefined ? { file: code.file, line: at.line, col: at.col, path, message } : { file: code.file, line: at.line, col: at.col, path, message, hint };
  };
  const doc = out.doc;
  if (out.kind === 'solution') {
    throw new ScenarioInputError([problem('', 'this file is the solution to an exercise (it calls solution()), not a scenario', 'grade it against its exercise: xenlab check EXERCISE --solution FILE')]);
  }
  if (doc === undefined || doc === null) {
    throw new ScenarioInputError([problem('', 'the file gives no scenario', `end it with: export default scenario({ name, domains: [...], steps: [...] })`)]);
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ScenarioInputError([problem('', `the default export is a scenario document (an object), found ${Array.isArray(doc) ? 'a list' : typeof doc}`)]);

  // Custom kernels: the step form knows only its own, so those domains say `default` and the runner gets the rest.
  const customKernels = new Map<string, string>();
  const problems: Problem[] = [];
  const domains = (doc as { domains?: unknown }).domains;
  if (Array.isArray(domains)) {
    domains.forEach((d: unknown, i) => {
      if (d === null || typeof d !== 'object') return;
      const dom = d as { name?: unknown; kernel?: unknown };
      if (typeof dom.kernel !== 'string' || BUILTIN_KERNELS.includes(dom.kernel as KernelName)) return;
      const path = `domains[${i}].kernel`;
      if (!(dom.kernel in out.kernels)) {
        const mine = Object.keys(out.kernels);
        problems.push(problem(path, `unknown kernel "${dom.kernel}"`, `kernels are: ${[...BUILTIN_KERNELS, ...mine].join(', ')}${mine.length === 0 ? '; define your own with kernel(name, { ... })' : ''}`));
      } else if (i === 0) {
        problems.push(problem(path, 'dom0 runs the toolstack, not a custom kernel', 'give the kernel to a guest'));
      } else if (usesControlInterface(out.kernels[dom.kernel]!) && !['2.0', 2, '2'].includes((doc as { xen?: unknown }).xen as string)) {
        problems.push(problem(path, `kernel "${dom.kernel}" has ${controlHandlersOf(out.kernels[dom.kernel]!)}: control messages travel on Xen 2.0's control interface`, 'add xen: "2.0" to the scenario, or drop those handlers'));
      } else if (typeof dom.name === 'string') {
        customKernels.set(dom.name, dom.kernel);
        dom.kernel = 'default';
      }
    });
  }
  if (problems.length > 0) throw new ScenarioInputError(problems);

  const yaml = stringify(doc, { lineWidth: 0 });
  let scenario: Scenario;
  try {
    scenario = loadScenario(code.file, yaml);
  } catch (e) {
    if (!(e instanceof ScenarioInputError)) throw e;
    throw new ScenarioInputError(e.problems.map((p) => ({ ...p, ...locate(p.path), file: code.file })));
  }
  movePositions(scenario, locate);
  return { scenario, yaml, customKernels };
}

/**
 * Points every position of the compiled scenario at the .ts file: each value that has a document
 * path gets the place that path was written; domains and devices, which have none, get their own.
 */
export function movePositions(sc: Pick<Scenario, 'domains' | 'steps' | 'expect' | 'exercise'>, locate: (path: string) => Pos, file?: string): void {
  const seen = new Set<object>();
  const visit = (v: unknown, fallbackPath: string): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (v instanceof Map) {
      for (const item of v.values()) visit(item, fallbackPath);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, `${fallbackPath}[${i}]`));
      return;
    }
    const o = v as Record<string, unknown>;
    const path = typeof o.path === 'string' ? o.path : fallbackPath;
    if (typeof o.pos === 'object' && o.pos !== null) o.pos = file === undefined ? locate(path) : { ...locate(path), file };
    for (const [key, item] of Object.entries(o)) if (key !== 'op' && key !== 'pos') visit(item, path === '' ? key : `${path}.${key}`);
  };
  sc.domains.forEach((d, i) => visit(d, `domains[${i}]`));
  sc.steps.forEach((s, i) => visit(s, `steps[${i}]`));
  if (sc.expect !== undefined) visit(sc.expect, 'expect');
  if (sc.exercise !== undefined) visit(sc.exercise, 'exercise');
}

/** Where a document path was written in the .ts file: a `lab` call's place, the literal's key or item, or the scenario() call. */
export function locator(code: Code, origins: Record<string, [number, number]>): (path: string) => Pos {
  const { ts, source } = code;
  const cache = new Map<string, Pos>();
  const posOf = (node: TS.Node): Pos => {
    const lc = source.getLineAndCharacterOfPosition(node.getStart(source));
    return { line: lc.line + 1, col: lc.character + 1 };
  };
  const found = documentNode(ts, source);
  const fallback: Pos = found === undefined ? { line: 1, col: 1 } : posOf(found.call);
  return (path: string): Pos => {
    const hit = cache.get(path);
    if (hit !== undefined) return hit;
    const segs = splitPath(path);
    let at: Pos | undefined;
    // An item added with lab.domain/lab.step: where that call is.
    for (let n = segs.length; n > 0 && at === undefined; n--) {
      const o = origins[joinPath(segs.slice(0, n))];
      if (o !== undefined) at = code.map.original(o[0], o[1]) ?? undefined;
    }
    if (at === undefined && found !== undefined) at = walk(ts, source, found.doc, segs, posOf);
    const r = at ?? fallback;
    cache.set(path, r);
    return r;
  };
}

/** The document's object literal (scenario()'s first argument, or the default export) and the call or export that holds it. */
function documentNode(ts: typeof TS, source: TS.SourceFile): { doc: TS.Expression | undefined; call: TS.Node } | undefined {
  let result: { doc: TS.Expression | undefined; call: TS.Node } | undefined;
  const visit = (n: TS.Node): void => {
    if (result !== undefined) return;
    if (ts.isCallExpression(n)) {
      const callee = n.expression;
      const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
      if (name === 'scenario' || name === 'solution') {
        result = { doc: n.arguments[0], call: n };
        return;
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(source);
  if (result !== undefined) return result;
  for (const st of source.statements) if (ts.isExportAssignment(st)) return { doc: st.expression, call: st };
  return undefined;
}

/** Follows a path through object and array literals (and top-level consts) as far as the text goes. */
function walk(ts: typeof TS, source: TS.SourceFile, start: TS.Expression | undefined, segs: (string | number)[], posOf: (n: TS.Node) => Pos): Pos | undefined {
  let node = unwrap(ts, source, start);
  let at: Pos | undefined = node === undefined ? undefined : posOf(node);
  for (const seg of segs) {
    if (node === undefined) break;
    if (typeof seg === 'string' && ts.isObjectLiteralExpression(node)) {
      const prop = node.properties.find((p) => p.name !== undefined && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) && p.name.text === seg);
      if (prop === undefined) break;
      at = posOf(prop);
      node = ts.isPropertyAssignment(prop) ? unwrap(ts, source, prop.initializer) : undefined;
    } else if (typeof seg === 'number' && ts.isArrayLiteralExpression(node)) {
      const before = node.elements.slice(0, seg + 1);
      if (before.some((e) => ts.isSpreadElement(e)) || node.elements[seg] === undefined) break;
      const el = node.elements[seg];
      at = posOf(el);
      node = unwrap(ts, source, el);
    } else break;
  }
  return at;
}

/** Looks through parentheses, `as`/`satisfies`, and a top-level const's name to the literal. */
function unwrap(ts: typeof TS, source: TS.SourceFile, e: TS.Expression | undefined): TS.Expression | undefined {
  let n = e;
  for (let guard = 0; n !== undefined && guard < 16; guard++) {
    if (ts.isParenthesizedExpression(n) || ts.isAsExpression(n) || ts.isSatisfiesExpression(n)) n = n.expression;
    else if (ts.isIdentifier(n)) {
      const name = n.text;
      let init: TS.Expression | undefined;
      for (const st of source.statements) {
        if (!ts.isVariableStatement(st)) continue;
        for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name) && d.name.text === name) init = d.initializer;
      }
      if (init === undefined) return n;
      n = init;
    } else return n;
  }
  return n;
}

function splitPath(path: string): (string | number)[] {
  const segs: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) segs.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return segs;
}

function joinPath(segs: (string | number)[]): string {
  return segs.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

// ---- errors ----

/** The innermost frame in the scenario's own code, as a place in the .ts file. */
function placeOf(code: Code, frames: readonly Frame[]): Pos | undefined {
  for (const f of frames) {
    if (f.file !== code.jsFile) continue;
    const p = code.map.original(f.line, f.col);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** What went wrong, in words, and for a missing host facility what to know about the sandbox. */
function describeFailure(e: SandboxError): { text: string; hint?: string } {
  if (e.kind !== 'thrown') return { text: e.message };
  const text = `${e.errorName === '' ? 'uncaught exception' : e.errorName}: ${e.message}`;
  const missing = /^'?(require|process|fetch|module|exports|__dirname|__filename|Buffer|setTimeout|setInterval|setImmediate|queueMicrotask|console|performance|crypto|XMLHttpRequest|WebSocket)'? is not defined$/.test(e.message);
  return missing ? { text, hint: 'scenario code runs in a sandbox: no files, network, processes, timers or clocks; only "xenlab" can be imported' } : { text };
}

/** A failure while loading: a positioned problem (exit 2, nothing run). */
export function loadProblem(code: Code, e: unknown, what?: string): Error {
  if (!(e instanceof SandboxError)) return e instanceof Error ? e : new Error(String(e));
  const at = placeOf(code, e.frames) ?? { line: 1, col: 1 };
  const { text, hint } = describeFailure(e);
  const p: Problem = { file: code.file, line: at.line, col: at.col, path: '', message: what === undefined ? text : `${text} (${what})` };
  return new ScenarioInputError([hint === undefined ? p : { ...p, hint }]);
}

/** A failure of a kernel's handler during a run: a ScriptError naming the handler and the place. */
function runtimeError(code: Code, e: unknown, what: string): Error {
  if (!(e instanceof SandboxError)) return e instanceof Error ? e : new Error(String(e));
  const at = placeOf(code, e.frames);
  const { text, hint } = describeFailure(e);
  return new ScriptError(`${at === undefined ? code.file : `${code.file}:${at.line}:${at.col}`}: ${text} (${what}${hint === undefined ? '' : `; ${hint}`})`, e.kind);
}

function fmtNs(ns: number): string {
  if (ns === 0) return '0';
  if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
  if (ns % 1e3 === 0) return `${ns / 1e3}us`;
  return `${ns}ns`;
}

// ---- source maps ----

interface SourceMap {
  /** The 1-based place in the .ts file of a 1-based place in the generated JS. */
  original(line: number, col: number): Pos | undefined;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes a source map's mappings (base64 VLQ): per generated line, [generated col, source line, source col], 0-based. */
export function decodeSourceMap(json: string): SourceMap {
  const mappings = (JSON.parse(json) as { mappings?: string }).mappings ?? '';
  const lines: number[][][] = [];
  let srcLine = 0;
  let srcCol = 0;
  let src = 0;
  let name = 0;
  for (const lineText of mappings.split(';')) {
    const segs: number[][] = [];
    let genCol = 0;
    for (const seg of lineText.split(',')) {
      if (seg === '') continue;
      const v: number[] = [];
      let shift = 0;
      let value = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          v.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      genCol += v[0] ?? 0;
      if (v.length >= 4) {
        src += v[1]!;
        srcLine += v[2]!;
        srcCol += v[3]!;
        if (v.length >= 5) name += v[4]!;
        segs.push([genCol, srcLine, srcCol]);
      }
    }
    lines.push(segs);
  }
  void src;
  void name;
  return {
    original(line: number, col: number): Pos | undefined {
      // The segment at or before the column on that line, else the line's first, else an earlier line's last.
      for (let l = line - 1; l >= 0; l--) {
        const segs = lines[l];
        if (segs === undefined || segs.length === 0) continue;
        let best = l === line - 1 ? segs[0]! : segs[segs.length - 1]!;
        if (l === line - 1) for (const s of segs) if (s[0]! <= col - 1) best = s;
        return { line: best[1]! + 1, col: best[2]! + 1 };
      }
      return undefined;
    },
  };
}

// ---- inside the sandbox ----

const PRELUDE_FILE = 'xenlab-prelude.js';

/** The `xenlab` module scenarios import: the API the prelude set up. */
const API_MODULE_SOURCE = `const api = globalThis[Symbol.for('xenlab.api')];
export const scenario = api.scenario;
export const kernel = api.kernel;
export const solution = api.solution;
export const retName = api.retName;
`;

/**
 * Runs first in every evaluation: takes the host functions, removes what would make scenario code
 * depend on the world (Math.random, Date, WeakRef, FinalizationRegistry), sets up the API, and
 * returns the bridge the host calls: document(ns), boot, event, timer, input and control.
 */
const PRELUDE = String.raw`(function (host, errnoNames, jsFile) {
  'use strict';
  const HANDLERS = ['boot', 'onEvent', 'onTimer', 'onConsoleInput', 'onControlMessage', 'onControlResponse', 'onControlSpace'];
  const BUILTIN = ['default', 'plan9', 'minios'];
  // Host functions throw host errors; re-throw them from here so the stack shows the scenario's line.
  const fromHost = (f) => function (...a) {
    try {
      return f(...a);
    } catch (e) {
      const C = e && e.name === 'TypeError' ? TypeError : e && e.name === 'RangeError' ? RangeError : Error;
      throw new C(e && e.message !== undefined ? e.message : String(e));
    }
  };
  const h = {};
  for (const key of Object.keys(host)) h[key] = fromHost(host[key]);

  const unavailable = (what, instead) => function () {
    throw new Error(what + ' is not available in a scenario: ' + instead);
  };
  Math.random = unavailable('Math.random()', 'use k.random() in a kernel (a seeded PRNG, so every run repeats)');
  const NoDate = unavailable('Date', 'time comes from the simulation: k.now() in a kernel is the virtual time in ns');
  NoDate.now = unavailable('Date.now()', 'time comes from the simulation: k.now() in a kernel is the virtual time in ns');
  globalThis.Date = NoDate;
  delete globalThis.WeakRef;
  delete globalThis.FinalizationRegistry;

  const kernels = new Map();
  const running = new Map();
  const origins = {};
  let declared;
  let declaredKind = 'scenario';
  let calls = 0;

  const callerRe = new RegExp(jsFile.replace(/[.*+?^$\{\}()|[\]\\]/g, '\\$&') + ':(\\d+):(\\d+)');
  function caller() {
    const m = callerRe.exec(new Error().stack || '');
    return m === null ? undefined : [Number(m[1]), Number(m[2])];
  }

  function retName(ret) {
    if (typeof ret !== 'number' || ret >= 0) return String(ret);
    const name = errnoNames[-ret];
    return name === undefined ? String(ret) : '-' + name;
  }

  function kernel(name, handlers) {
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new TypeError('kernel(name, handlers): the name is a word such as "pinger"');
    if (BUILTIN.includes(name)) throw new TypeError('kernel "' + name + '": that is a built-in kernel; give yours another name');
    if (kernels.has(name)) throw new TypeError('kernel "' + name + '" is defined twice');
    if (handlers === null || typeof handlers !== 'object') throw new TypeError('kernel "' + name + '": the handlers are an object such as { boot(k) {...}, onEvent(k, port, vcpu) {...} }');
    const fns = {};
    for (const key of Object.keys(handlers)) {
      if (!HANDLERS.includes(key)) throw new TypeError('kernel "' + name + '": unknown handler "' + key + '" (handlers are: ' + HANDLERS.join(', ') + ')');
      if (typeof handlers[key] !== 'function') throw new TypeError('kernel "' + name + '": ' + key + ' is a function');
      fns[key] = handlers[key];
    }
    kernels.set(name, { obj: handlers, fns });
    return name;
  }

  function solution(parts) {
    if (calls++ > 0) throw new Error('scenario() or solution() is called once per file');
    if (parts === null || typeof parts !== 'object' || Array.isArray(parts)) throw new TypeError('solution(parts): the parts are an object such as { steps: [...], kernels: { guest: mine } }');
    for (const key of Object.keys(parts)) if (key !== 'steps' && key !== 'kernels') throw new TypeError('solution(parts): unknown part "' + key + '" (parts are: steps, kernels)');
    const out = {};
    if (parts.steps !== undefined) out.steps = Array.isArray(parts.steps) ? parts.steps.slice() : parts.steps;
    if (parts.kernels !== undefined) out.kernels = parts.kernels !== null && typeof parts.kernels === 'object' ? Object.assign({}, parts.kernels) : parts.kernels;
    declared = out;
    declaredKind = 'solution';
    return out;
  }

  function scenario(doc, setup) {
    if (calls++ > 0) throw new Error('scenario() or solution() is called once per file');
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new TypeError('scenario(doc): the document is an object such as { name, domains: [...], steps: [...] }');
    const out = Object.assign({}, doc);
    out.domains = doc.domains === undefined ? [] : Array.isArray(doc.domains) ? doc.domains.slice() : doc.domains;
    out.steps = doc.steps === undefined ? [] : Array.isArray(doc.steps) ? doc.steps.slice() : doc.steps;
    if (setup !== undefined) {
      if (typeof setup !== 'function') throw new TypeError('scenario(doc, setup): setup is a function such as lab => { lab.step({ run: "1ms" }) }');
      const list = (key) => {
        if (!Array.isArray(out[key])) throw new TypeError('lab: the document\'s ' + key + ' is not a list');
        return out[key];
      };
      const lab = Object.freeze({
        domain(d) {
          const l = list('domains');
          origins['domains[' + l.length + ']'] = caller();
          l.push(d);
          return d !== null && typeof d === 'object' ? d.name : undefined;
        },
        step(...steps) {
          const l = list('steps');
          const at = caller();
          for (const s of steps) {
            origins['steps[' + l.length + ']'] = at;
            l.push(s);
          }
        },
        kernel,
      });
      setup(lab);
    }
    declared = out;
    return out;
  }

  const api = Object.freeze({ scenario, solution, kernel, retName });
  Object.defineProperty(globalThis, Symbol.for('xenlab.api'), { value: api });

  // k.now() asks the host once per call into the sandbox: the virtual clock moves only between
  // calls, or in a host call the kernel makes (after any of which it is asked again). A call out
  // of the sandbox costs ~10 us, and a kernel that stamps every line it prints asks a lot.
  let clockKnown = false;
  let clockNs = 0;
  const afterHost = (r) => {
    clockKnown = false;
    return r;
  };

  function makeK(domid, name, vcpus) {
    const text = (parts) => parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p) ?? String(p))).join(' ');
    return Object.freeze({
      domid,
      name,
      vcpus,
      state: {},
      call(op, args, vcpu) {
        return afterHost(h.call(domid, op, args === undefined ? {} : args, vcpu));
      },
      send(port, vcpu) {
        return afterHost(h.send(domid, port, vcpu));
      },
      mask(port) {
        return afterHost(h.mask(domid, port));
      },
      clearMask(port) {
        return afterHost(h.clearMask(domid, port));
      },
      unmask(port) {
        return afterHost(h.call(domid, 'unmask', { port: port }, 0)).ret;
      },
      print(...parts) {
        afterHost(h.print(domid, text(parts)));
      },
      println(...parts) {
        afterHost(h.print(domid, text(parts) + '\n'));
      },
      now() {
        if (!clockKnown) {
          clockNs = h.now(domid);
          clockKnown = true;
        }
        return clockNs;
      },
      random() {
        return afterHost(h.random(domid));
      },
      deliveries(port) {
        return afterHost(h.deliveries(domid, port));
      },
      control(msg) {
        return afterHost(h.control(domid, msg));
      },
    });
  }

  function run(domid) {
    clockKnown = false; // a new call into the sandbox: time may have moved since the last
    const r = running.get(domid);
    if (r === undefined) throw new Error('domain ' + domid + ' has not booted');
    return r;
  }

  return {
    document(ns) {
      const exported = ns !== null && typeof ns === 'object' && 'default' in ns;
      const doc = exported ? ns.default : declared;
      const ks = {};
      for (const [name, k] of kernels) {
        ks[name] = {
          onEvent: 'onEvent' in k.fns,
          onTimer: 'onTimer' in k.fns,
          onConsoleInput: 'onConsoleInput' in k.fns,
          onControlMessage: 'onControlMessage' in k.fns,
          onControlResponse: 'onControlResponse' in k.fns,
          onControlSpace: 'onControlSpace' in k.fns,
        };
      }
      const kind = doc !== undefined && doc === declared ? declaredKind : 'scenario';
      return JSON.stringify({ kind, doc: doc === undefined ? null : doc, exported, kernels: ks, origins });
    },
    boot(domid, kernelName, domainName, vcpus) {
      clockKnown = false;
      const def = kernels.get(kernelName);
      const k = makeK(domid, domainName, vcpus);
      running.set(domid, { k, def });
      if (def.fns.boot !== undefined) def.fns.boot.call(def.obj, k);
    },
    event(domid, port, vcpu) {
      const r = run(domid);
      r.def.fns.onEvent.call(r.def.obj, r.k, port, vcpu);
    },
    timer(domid, vcpu) {
      const r = run(domid);
      r.def.fns.onTimer.call(r.def.obj, r.k, vcpu);
    },
    input(domid, text) {
      const r = run(domid);
      r.def.fns.onConsoleInput.call(r.def.obj, r.k, text);
    },
    control(domid, msg) {
      const r = run(domid);
      const reply = r.def.fns.onControlMessage.call(r.def.obj, r.k, Object.freeze(msg));
      return reply === undefined ? null : reply;
    },
    response(domid, msg) {
      const r = run(domid);
      r.def.fns.onControlResponse.call(r.def.obj, r.k, Object.freeze(msg));
    },
    space(domid) {
      const r = run(domid);
      r.def.fns.onControlSpace.call(r.def.obj, r.k);
    },
  };
})`;
