/**
 * Monaco, loaded on its own (a separate chunk, so the shell and the consoles
 * come up first): the editor with its languages, YAML with
 * monaco-yaml bound to the scenario JSON Schema (validation, completion,
 * hover docs), TypeScript with the scenario API's typings. Workers are
 * Vite-bundled modules (CSP: worker-src 'self').
 */
// The editor API with the contributions a scenario editor uses (monaco_core.ts), which also
// gives createWebWorker the { moduleId, label, createData } form monaco-yaml's worker manager uses.
import * as monaco from './monaco_core.js';
import EditorWorker from 'monaco-editor/esm/vs/editor/editor.worker.js?worker';
import TsWorker from 'monaco-editor/esm/vs/language/typescript/ts.worker.js?worker';
import { configureMonacoYaml } from 'monaco-yaml';
import type { EditorSupport } from '../../../../contract/api.js';
import YamlWorker from './yaml.worker.ts?worker';
import { SCENARIO_MODEL_URI, SOLUTION_MODEL_URI } from './model_uris.js';
import { configureTypeScript } from './typescript_api.js';

self.MonacoEnvironment = {
  getWorker(_id: string, label: string): Worker {
    if (label === 'yaml') return new YamlWorker();
    if (label === 'typescript' || label === 'javascript') return new TsWorker();
    return new EditorWorker();
  },
};

let configured = false;

/**
 * Where monaco-yaml finds the schemas. The host's $id is a URN, which the YAML service's URI
 * handling mangles (it escapes the colons) and then cannot find: the schemas are registered
 * under plain file URIs instead, with their $id left out. These are also where the modelines of
 * XenLab's own files point (`# yaml-language-server: $schema=../schema/scenario.schema.json`,
 * resolved against the models' file:///scenario/ URIs), so such files find them too.
 */
const SCHEMA_URI = 'file:///schema/scenario.schema.json';
const SOLUTION_SCHEMA_URI = 'file:///schema/solution.schema.json';

export function setUpMonaco(support: EditorSupport): typeof monaco {
  if (!configured) {
    configured = true;
    configureMonacoYaml(monaco, {
      enableSchemaRequest: false,
      validate: true,
      completion: true,
      hover: true,
      schemas: [
        { uri: SCHEMA_URI, fileMatch: [support.solutionSchema === undefined ? '*' : SCENARIO_MODEL_URI], schema: withoutId(support.jsonSchema) },
        ...(support.solutionSchema === undefined ? [] : [{ uri: SOLUTION_SCHEMA_URI, fileMatch: [SOLUTION_MODEL_URI], schema: withoutId(support.solutionSchema) }]),
      ],
    });
    configureTypeScript(monaco, support.typings);
  }
  return monaco;
}

function withoutId(schema: unknown): object {
  const { $id: _id, ...rest } = schema as Record<string, unknown>;
  return rest;
}

export type MonacoApi = typeof monaco;
