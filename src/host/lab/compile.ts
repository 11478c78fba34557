/**
 * Scenario text to something a session can run: YAML through the step-form
 * compiler, TypeScript through its sandbox (ts_scenario.ts: untrusted code,
 * time and memory limits, custom kernels). Problems come back as the
 * contract's Problem list, never as an exception.
 */
import { ScenarioInputError, type Problem } from '../../scenario/errors.js';
import type { Scenario } from '../../scenario/model.js';
import type { RunOptions } from '../../scenario/runner.js';
import { ScriptError } from '../../scenario/script_kernel.js';
import { loadScenario } from '../../scenario/stepform.js';
import type { ScenarioLang } from '../../contract/session.js';
import { SandboxError, type SandboxLimits } from '../sandbox.js';
import { TsScenario } from '../ts_scenario.js';

export interface Compiled {
  readonly file: string;
  readonly text: string;
  readonly lang: ScenarioLang;
  readonly scenario: Scenario;
  /** Domain name → custom kernel name (TypeScript scenarios). */
  readonly customKernels: ReadonlyMap<string, string>;
  /** Fresh custom kernels for one run (each run starts from the file's initial state). */
  kernels(): RunOptions['kernels'];
  dispose(): void;
}

export type CompileResult = { ok: true; compiled: Compiled } | { ok: false; problems: Problem[] };

export const SANDBOX_LIMITS: SandboxLimits = { timeLimitMs: 2000, memoryLimitBytes: 64 * 2 ** 20 };

let sandboxLimits: SandboxLimits = SANDBOX_LIMITS;

/** The worker's sandbox time per entry (the host may set it: WorkerClientOptions.sandboxTimeMs). */
export function setSandboxTimeLimit(ms: number | undefined): void {
  sandboxLimits = ms === undefined ? SANDBOX_LIMITS : { ...SANDBOX_LIMITS, timeLimitMs: ms };
}

export async function compileScenario(file: string, text: string, lang: ScenarioLang): Promise<CompileResult> {
  try {
    if (lang === 'yaml') {
      const scenario = loadScenario(file, text);
      return { ok: true, compiled: { file, text, lang, scenario, customKernels: new Map(), kernels: () => undefined, dispose: () => {} } };
    }
    const ts = await TsScenario.load(file, text, sandboxLimits);
    return {
      ok: true,
      compiled: { file, text, lang, scenario: ts.scenario, customKernels: ts.customKernels, kernels: () => ts.kernels(), dispose: () => ts.dispose() },
    };
  } catch (e) {
    if (e instanceof ScenarioInputError) return { ok: false, problems: e.problems.map((p) => ({ ...p })) };
    if (e instanceof ScriptError || e instanceof SandboxError || e instanceof RangeError || e instanceof TypeError) {
      return { ok: false, problems: [{ file, line: 1, col: 1, path: '', message: e.message }] };
    }
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, problems: [{ file, line: 1, col: 1, path: '', message: `the scenario could not be compiled: ${message}` }] };
  }
}
