/**
 * Monaco as a scenario editor needs it: the editor API with the contributions
 * used on YAML and TypeScript scenarios, the YAML and TypeScript grammars and
 * the TypeScript language service. Monaco's editor.main brings every
 * contribution (the diff editor, inline completions, colour pickers, code
 * lenses, …) and eighty languages; leaving those out makes the editor chunk
 * smaller and its creation quicker, which is most of the lab's cold start.
 */
import 'monaco-editor/esm/vs/editor/browser/coreCommands.js';
import 'monaco-editor/esm/vs/editor/browser/widget/codeEditor/codeEditorWidget.js';
import 'monaco-editor/esm/vs/editor/contrib/bracketMatching/browser/bracketMatching.js';
import 'monaco-editor/esm/vs/editor/contrib/clipboard/browser/clipboard.js';
import 'monaco-editor/esm/vs/editor/contrib/codeAction/browser/codeActionContributions.js';
import 'monaco-editor/esm/vs/editor/contrib/comment/browser/comment.js';
import 'monaco-editor/esm/vs/editor/contrib/contextmenu/browser/contextmenu.js';
import 'monaco-editor/esm/vs/editor/contrib/cursorUndo/browser/cursorUndo.js';
import 'monaco-editor/esm/vs/editor/contrib/find/browser/findController.js';
import 'monaco-editor/esm/vs/editor/contrib/folding/browser/folding.js';
import 'monaco-editor/esm/vs/editor/contrib/format/browser/formatActions.js';
import 'monaco-editor/esm/vs/editor/contrib/documentSymbols/browser/documentSymbols.js';
import 'monaco-editor/esm/vs/editor/contrib/gotoSymbol/browser/goToCommands.js';
import 'monaco-editor/esm/vs/editor/contrib/gotoSymbol/browser/link/goToDefinitionAtPosition.js';
import 'monaco-editor/esm/vs/editor/contrib/gotoError/browser/gotoError.js';
import 'monaco-editor/esm/vs/editor/contrib/hover/browser/hoverContribution.js';
import 'monaco-editor/esm/vs/editor/contrib/indentation/browser/indentation.js';
import 'monaco-editor/esm/vs/editor/contrib/lineSelection/browser/lineSelection.js';
import 'monaco-editor/esm/vs/editor/contrib/linesOperations/browser/linesOperations.js';
import 'monaco-editor/esm/vs/editor/contrib/multicursor/browser/multicursor.js';
import 'monaco-editor/esm/vs/editor/contrib/parameterHints/browser/parameterHints.js';
import 'monaco-editor/esm/vs/editor/contrib/rename/browser/rename.js';
import 'monaco-editor/esm/vs/editor/contrib/smartSelect/browser/smartSelect.js';
import 'monaco-editor/esm/vs/editor/contrib/snippet/browser/snippetController2.js';
import 'monaco-editor/esm/vs/editor/contrib/suggest/browser/suggestController.js';
import 'monaco-editor/esm/vs/editor/contrib/tokenization/browser/tokenization.js';
import 'monaco-editor/esm/vs/editor/contrib/toggleTabFocusMode/browser/toggleTabFocusMode.js';
import 'monaco-editor/esm/vs/editor/contrib/wordHighlighter/browser/wordHighlighter.js';
import 'monaco-editor/esm/vs/editor/contrib/wordOperations/browser/wordOperations.js';
import 'monaco-editor/esm/vs/editor/common/standaloneStrings.js';
import 'monaco-editor/esm/vs/base/browser/ui/codicons/codiconStyles.js';
import 'monaco-editor/esm/vs/editor/standalone/browser/quickAccess/standaloneHelpQuickAccess.js';
import 'monaco-editor/esm/vs/editor/standalone/browser/quickAccess/standaloneGotoLineQuickAccess.js';
import 'monaco-editor/esm/vs/editor/standalone/browser/quickAccess/standaloneGotoSymbolQuickAccess.js';
import 'monaco-editor/esm/vs/editor/standalone/browser/quickAccess/standaloneCommandsQuickAccess.js';
import 'monaco-editor/esm/vs/editor/standalone/browser/referenceSearch/standaloneReferenceSearch.js';
import 'monaco-editor/esm/vs/basic-languages/yaml/yaml.contribution.js';
import 'monaco-editor/esm/vs/basic-languages/typescript/typescript.contribution.js';
import 'monaco-editor/esm/vs/language/typescript/monaco.contribution.js';
import * as monaco from 'monaco-editor/esm/vs/editor/editor.api.js';

/** What createWebWorker is given: a started worker (the core's form) or a label and data (editor.main's). */
interface WorkerOptions {
  worker?: Worker | Promise<Worker>;
  moduleId?: string;
  label?: string;
  createData?: unknown;
  host?: unknown;
  keepIdleModels?: boolean;
}
type CreateWorker = (opts: WorkerOptions) => unknown;

// monaco-yaml asks for its worker by label with data to start it with (the form editor.main
// adds); the core API wants a started Worker. Monaco's workers take one message before the
// start data, which they ignore: the same two messages are sent here.
const editorApi = monaco.editor as unknown as { createWebWorker: CreateWorker };
const createWorkerProxy = editorApi.createWebWorker.bind(editorApi);
editorApi.createWebWorker = (opts) => {
  if (opts.worker !== undefined) return createWorkerProxy(opts);
  const env = (globalThis as { MonacoEnvironment?: { getWorker?: (id: string, label: string) => Worker } }).MonacoEnvironment;
  if (env?.getWorker === undefined) throw new Error('MonacoEnvironment.getWorker is not set');
  const worker = env.getWorker('workerMain.js', opts.label ?? 'monaco-editor-worker');
  worker.postMessage('ignore');
  worker.postMessage(opts.createData);
  return createWorkerProxy({ worker, host: opts.host, keepIdleModels: opts.keepIdleModels });
};

export * from 'monaco-editor/esm/vs/editor/editor.api.js';
