/**
 * What every `xenlab` command shares: the usage error (exit 2 with a plain
 * message) and reading a scenario file into its checked model.
 */
import { FileError, readScenarioText } from '../host/files.js';
import type { Scenario } from '../scenario/model.js';
import { loadScenario } from '../scenario/stepform.js';

/** Bad arguments or unusable files: printed as "xenlab: message", exit 2. */
export class UsageError extends Error {}

/** Reads and checks a scenario; problems in it throw ScenarioInputError, unreadable files UsageError. */
export function readScenario(file: string): Scenario {
  let text: string;
  try {
    text = readScenarioText(file);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(e.message);
    throw e;
  }
  return loadScenario(file, text);
}
