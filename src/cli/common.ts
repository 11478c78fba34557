/**
 * What every `xenlab` command shares: the usage error (exit 2 with a plain
 * message) and reading a scenario file into its checked model.
 */
import { FileError, readScenarioText } from '../host/files.js';
import { isTypeScriptScenario, loadTsScenarioFile, type TsScenario } from '../host/ts_scenario.js';
import type { Scenario } from '../scenario/model.js';
import type { RunOptions } from '../scenario/runner.js';
import { ScriptError } from '../scenario/script_kernel.js';
import { loadScenario } from '../scenario/stepform.js';

/** Bad arguments or unusable files: printed as "xenlab: message", exit 2. */
export class UsageError extends Error {}

/** `--seed N`: a 32-bit unsigned seed, or undefined when not given. */
export function parseSeed(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw new UsageError(`--seed expects a whole number from 0 to 4294967295, found "${value}"`);
  return Number(value);
}

/** TypeScript scenarios loaded by withTypeScript, by file. */
const tsLoaded = new Map<string, TsScenario>();

/**
 * A TypeScript scenario (FILE.ts) loads asynchronously, in a sandbox: for one, this loads it and
 * then calls `again` (the command once more, which now finds it loaded: readScenario returns it,
 * scenarioRunOptions gives its kernels); a failing script becomes a UsageError (exit 2).
 * Undefined for any other file, and once loaded. Limits: XENLAB_SANDBOX_TIME_MS (default 2000)
 * and XENLAB_SANDBOX_MEMORY_MIB (default 64).
 */
export function withTypeScript(file: string, again: () => number | Promise<number>): Promise<number> | undefined {
  if (!isTypeScriptScenario(file) || tsLoaded.has(file)) return undefined;
  const limits = { timeLimitMs: envNumber('XENLAB_SANDBOX_TIME_MS', 2000), memoryLimitBytes: envNumber('XENLAB_SANDBOX_MEMORY_MIB', 64) * 2 ** 20 };
  return loadTsScenarioFile(file, limits)
    .then((ts) => {
      tsLoaded.set(file, ts);
      return again();
    })
    .catch((e: unknown) => {
      throw e instanceof FileError || e instanceof ScriptError || e instanceof RangeError ? new UsageError((e as Error).message) : e;
    });
}

/** Run options a scenario needs besides the command's: a TypeScript scenario's custom kernels. */
export function scenarioRunOptions(sc: Scenario): Pick<RunOptions, 'kernels'> {
  for (const ts of tsLoaded.values()) if (ts.scenario === sc) return { kernels: ts.kernels() };
  return {};
}

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) === 0) throw new UsageError(`${name} expects a positive whole number, found "${v}"`);
  return Number(v);
}

/** Reads and checks a scenario; problems in it throw ScenarioInputError, unreadable files UsageError. */
export function readScenario(file: string): Scenario {
  const ts = tsLoaded.get(file);
  if (ts !== undefined) return ts.scenario;
  let text: string;
  try {
    text = readScenarioText(file);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(e.message);
    throw e;
  }
  return loadScenario(file, text);
}
