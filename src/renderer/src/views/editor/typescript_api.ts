/**
 * The one place that reaches Monaco's TypeScript language service. Monaco
 * 0.54 has it at `languages.typescript`; 0.55 moved it to `typescript` at
 * the top level (TOOLCHAIN.md), so a later upgrade changes only this file.
 */
import type * as Monaco from 'monaco-editor';

type TsApi = typeof Monaco.languages.typescript;

function api(monaco: typeof Monaco): TsApi {
  const top = (monaco as unknown as { typescript?: TsApi }).typescript;
  return top ?? monaco.languages.typescript;
}

/** Sets up TypeScript scenarios: the scenario API's typings, an ES module with strict checks, no emit. */
export function configureTypeScript(monaco: typeof Monaco, typings: string): void {
  const ts = api(monaco);
  const d = ts.typescriptDefaults;
  d.setCompilerOptions({
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.NodeJs,
    strict: true,
    noEmit: true,
    allowNonTsExtensions: true,
    lib: ['es2022'],
  });
  d.setDiagnosticsOptions({ noSemanticValidation: false, noSyntaxValidation: false });
  d.addExtraLib(typings, 'file:///node_modules/@types/xenlab/index.d.ts');
}
