/**
 * An exercise's solution written in TypeScript: `export default solution({
 * kernels: { guest: kernel('mine', { ... }) }, steps: [ ... ] })`. It runs as
 * untrusted code in the same sandbox as TypeScript scenarios (ts_scenario.ts):
 * transpiled, evaluated with only the `xenlab` module, time and memory limits.
 * Its steps are compiled for the exercise's placeholder (positions in the .ts
 * file); its kernels replace the named guests' kernels in each graded run.
 */
import { stringify } from 'yaml';
import type { Solution } from '../scenario/exercise.js';
import { loadYamlSolution } from '../scenario/exercise.js';
import { ScenarioInputError, type Problem } from '../scenario/errors.js';
import type { Scenario } from '../scenario/model.js';
import type { RunOptions } from '../scenario/runner.js';
import { scriptKernel, usesControlInterface } from '../scenario/script_kernel.js';
import { controlHandlersOf, evaluate, locator, movePositions, transpile, type Code, type DocumentOut, type Evaluation } from './ts_scenario.js';
import { Sandbox, type SandboxLimits } from './sandbox.js';

type Kernels = NonNullable<RunOptions['kernels']>;
type KernelFactory = Kernels extends ReadonlyMap<string, infer F> ? F : never;

export class TsSolution {
  private evaluation: Evaluation | undefined;
  private used = false;

  private constructor(
    private readonly exercise: Scenario,
    private readonly code: Code,
    private readonly sandbox: Sandbox,
    first: Evaluation,
    /** What the grader takes: the compiled steps and the guests it gives kernels to. */
    readonly solution: Solution,
    /** Guest name → the name of the kernel the file defines for it. */
    private readonly customKernels: ReadonlyMap<string, string>,
  ) {
    this.evaluation = first;
    if (customKernels.size === 0) this.dispose();
  }

  /** Transpiles and evaluates a solution file for `exercise`; problems throw ScenarioInputError (positions in the .ts file). */
  static async load(exercise: Scenario, file: string, text: string, limits: SandboxLimits = {}): Promise<TsSolution> {
    const code = await transpile(file, text);
    const sandbox = await Sandbox.create(limits);
    try {
      const ev = evaluate(code, sandbox);
      const { solution, kernels } = compileSolution(exercise, code, ev.document);
      return new TsSolution(exercise, code, sandbox, ev, solution, kernels);
    } catch (e) {
      sandbox.dispose();
      throw e;
    }
  }

  /** The solution's kernels for one run; each run after the first evaluates the file afresh. */
  kernels(): Kernels {
    const out = new Map<string, KernelFactory>();
    if (this.customKernels.size === 0) return out;
    if (this.used || this.evaluation === undefined) {
      this.sandbox.reset();
      this.evaluation = evaluate(this.code, this.sandbox);
    }
    this.used = true;
    const ev = this.evaluation;
    for (const [domain, name] of this.customKernels) out.set(domain, scriptKernel(name, ev.handlers(name), this.exercise.abi));
    return out;
  }

  dispose(): void {
    this.evaluation = undefined;
    this.sandbox.dispose();
  }
}

function compileSolution(exercise: Scenario, code: Code, out: DocumentOut): { solution: Solution; kernels: Map<string, string> } {
  const locate = locator(code, out.origins);
  const problem = (path: string, message: string, hint?: string): Problem => {
    const at = locate(path);
    const p: Problem = { file: code.file, line: at.line, col: at.col, path, message };
    return hint === undefined ? p : { ...p, hint };
  };
  if (out.kind !== 'solution' || out.doc === null || typeof out.doc !== 'object') {
    throw new ScenarioInputError([problem('', 'the file gives no solution', 'end it with: export default solution({ steps: [...], kernels: { <guest>: kernel(...) } })')]);
  }
  const doc = out.doc as { steps?: unknown; kernels?: unknown };
  const problems: Problem[] = [];
  const asked = exercise.exercise?.kernels.map((k) => k.name) ?? [];
  const kernels = new Map<string, string>();
  if (doc.kernels !== undefined) {
    if (doc.kernels === null || typeof doc.kernels !== 'object' || Array.isArray(doc.kernels)) problems.push(problem('kernels', 'kernels are given by guest: { <guest>: kernel(name, handlers) }'));
    else {
      for (const [domain, name] of Object.entries(doc.kernels as Record<string, unknown>)) {
        const path = `kernels.${domain}`;
        if (!asked.includes(domain)) {
          problems.push(problem(path, `the exercise does not ask for a kernel for ${domain}`, asked.length === 0 ? 'this exercise takes steps only' : `it asks for: ${asked.join(', ')}`));
          continue;
        }
        if (typeof name !== 'string' || !(name in out.kernels)) {
          problems.push(problem(path, `expected a kernel defined in this file (what kernel(name, handlers) returns), found ${JSON.stringify(name) ?? typeof name}`));
          continue;
        }
        const defined = out.kernels[name]!;
        if (usesControlInterface(defined) && exercise.xen !== '2.0') {
          problems.push(problem(path, `kernel "${name}" has ${controlHandlersOf(defined)}: control messages travel on Xen 2.0's control interface, and this exercise runs on today's Xen`, 'drop those handlers'));
          continue;
        }
        kernels.set(domain, name);
      }
    }
  }
  for (const domain of asked) {
    if (!kernels.has(domain) && !problems.some((p) => p.path === `kernels.${domain}`)) problems.push(problem(doc.kernels === undefined ? '' : 'kernels', `the exercise asks for a kernel for ${domain}, and the solution gives none`, `add kernels: { ${domain}: kernel('...', { ... }) }`));
  }
  let solution: Solution = { file: code.file, kernels: [...kernels.keys()] };
  if (doc.steps !== undefined) {
    try {
      const steps = loadYamlSolution(exercise, code.file, stringify({ steps: doc.steps }, { lineWidth: 0 }));
      movePositions({ domains: [], steps: steps.steps ?? [] }, locate, code.file);
      solution = { ...solution, steps: steps.steps ?? [], saved: steps.saved ?? [] };
    } catch (e) {
      if (!(e instanceof ScenarioInputError)) throw e;
      problems.push(...e.problems.map((p) => ({ ...p, ...locate(p.path), file: code.file })));
    }
  }
  if (problems.length > 0) throw new ScenarioInputError(problems);
  return { solution, kernels };
}
