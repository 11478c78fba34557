/**
 * Files the lab ships and the UI needs from the host: the default scenario
 * (Plan 9 booting on Xen 2.0), opened on first start, and for the editor the
 * scenario JSON Schema and the TypeScript scenario API's typings. They live
 * in the package (scenarios/, schema/, types/); a packaged app must ship them.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostError } from '../../contract/api.js';
import type { FileText } from '../../contract/files.js';

export const DEFAULT_SCENARIO = 'scenarios/plan9-boot.yaml';
export const SCENARIO_TYPINGS = 'types/xenlab-scenario.d.ts';
export const EXERCISE_PACK = 'scenarios/exercises';
/** The scenario JSON Schema as shipped (a test keeps it equal to what the checker's grammar gives). */
export const SCENARIO_SCHEMA = 'schema/scenario.schema.json';
export const SOLUTION_SCHEMA = 'schema/solution.schema.json';

let root: string | undefined;

/** The folder of XenLab's package.json, found upwards from this module. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(join(dir, DEFAULT_SCENARIO))) return (root = dir);
    if (dirname(dir) === dir) break;
  }
  throw new HostError('internal', `XenLab's files (${DEFAULT_SCENARIO}, ${SCENARIO_TYPINGS}) were not found above ${fileURLToPath(import.meta.url)}`);
}

function asset(rel: string): string {
  const path = join(packageRoot(), rel);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new HostError('internal', `cannot read ${path}, which XenLab ships: ${(e as Error).message}`);
  }
}

export function defaultScenario(): FileText {
  const path = join(packageRoot(), DEFAULT_SCENARIO);
  return { path, text: asset(DEFAULT_SCENARIO), mtimeMs: statSync(path).mtimeMs, lang: 'yaml' };
}

/** The exercise pack XenLab ships (docs/exercises.md). */
export function exercisePack(): string {
  return join(packageRoot(), EXERCISE_PACK);
}

export function scenarioTypings(): string {
  return asset(SCENARIO_TYPINGS);
}

let schema: unknown;
let solution: unknown;

/** The exercise solutions' JSON Schema, read from the shipped file. */
export function solutionSchema(): unknown {
  solution ??= JSON.parse(asset(SOLUTION_SCHEMA)) as unknown;
  return solution;
}

/** The scenario JSON Schema, read from the shipped file (making it from the grammar takes a few hundred ms). */
export function scenarioSchema(): unknown {
  schema ??= JSON.parse(asset(SCENARIO_SCHEMA)) as unknown;
  return schema;
}
