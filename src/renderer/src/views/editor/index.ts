/**
 * The editor: the scenario in Monaco. YAML is checked against the scenario
 * schema as you type (monaco-yaml), TypeScript against the scenario API's
 * typings; the host's problems (its checker, the sandbox) and the run's
 * failures are markers at their line and column; the step the session is
 * at is highlighted as it runs. Monaco loads after the shell (its own chunk).
 */
import type * as Monaco from 'monaco-editor';
import type { EditorSupport } from '../../../../contract/api.js';
import type { Problem, RunFailure, SessionStatus } from '../../../../contract/session.js';
import { h } from '../../util/dom.js';
import { isSolutionText } from '../exercise/model.js';
import { SCENARIO_MODEL_URI, SOLUTION_MODEL_URI, TYPESCRIPT_MODEL_URI } from './model_uris.js';
import type { View, ViewContext, ViewHandle } from '../../shell/registry.js';
import { COMMAND_KEYS } from '../../../../contract/keys.js';

/** The schema and typings (editor.support), handed over by the app once it has asked; the view waits for them. */
let giveSupport: (p: Promise<EditorSupport>) => void = () => {};
const support = new Promise<EditorSupport>((resolve, reject) => {
  giveSupport = (p) => void p.then(resolve, reject);
});
export function provideEditorSupport(p: Promise<EditorSupport>): void {
  giveSupport(p);
}

/** Resolves when the editor shows its document and takes input (cold-start measurement). */
let markReady: () => void = () => {};
export const editorReady = new Promise<void>((r) => (markReady = r));

function severity(m: typeof Monaco): Monaco.MarkerSeverity {
  return m.MarkerSeverity.Error;
}

function mount(container: HTMLElement, ctx: ViewContext): ViewHandle {
  const host = h('div', { class: 'xl-editor', 'data-testid': 'editor' });
  const loading = h('div', { class: 'xl-loading' }, 'Loading the editor…');
  container.append(host, loading);
  let monaco: typeof Monaco | undefined;
  let editor: Monaco.editor.IStandaloneCodeEditor | undefined;
  let model: Monaco.editor.ITextModel | undefined;
  let applying = false;
  let stepDecorations: Monaco.editor.IEditorDecorationsCollection | undefined;
  let visible = false;

  // One model per language, reused for every file: disposing a model while its language worker
  // still answers about it makes Monaco reject those answers as "Canceled".
  const models = new Map<string, Monaco.editor.ITextModel>();
  const setModel = (): void => {
    if (monaco === undefined || editor === undefined) return;
    const lang = ctx.doc.lang === 'typescript' ? 'typescript' : 'yaml';
    // A YAML solution gets a model of its own, bound to the solution schema (steps only).
    const key = lang === 'yaml' && isSolutionText(ctx.doc.text, 'yaml') ? 'yaml-solution' : lang;
    let m = models.get(key);
    const fresh = m === undefined;
    applying = true;
    if (m === undefined) {
      const uri = lang === 'typescript' ? TYPESCRIPT_MODEL_URI : key === 'yaml-solution' ? SOLUTION_MODEL_URI : SCENARIO_MODEL_URI;
      m = monaco.editor.createModel(ctx.doc.text, lang, monaco.Uri.parse(uri));
      models.set(key, m);
    } else m.setValue(ctx.doc.text);
    model = m;
    if (editor.getModel() !== m) editor.setModel(m);
    applying = false;
    if (!fresh) return;
    m.onDidChangeContent(() => {
      if (!applying && model === m) ctx.doc.edit(m.getValue());
    });
  };
  const showDocument = (): void => {
    setModel();
    editor?.setScrollTop(0);
    showMarkers();
    showStep(ctx.session.status);
  };

  const markersOf = (items: readonly (Problem | RunFailure)[]): Monaco.editor.IMarkerData[] => {
    if (monaco === undefined || model === undefined) return [];
    const lines = model.getLineCount();
    return items.map((p) => {
      const line = Math.min(Math.max(1, p.line), lines);
      const col = Math.max(1, p.col);
      // The whole token at the position, or to the end of the line.
      const word = model!.getWordAtPosition({ lineNumber: line, column: col });
      const end = word?.endColumn ?? model!.getLineMaxColumn(line);
      const extra = 'expected' in p && p.expected !== undefined ? ` (expected ${p.expected}${p.found === undefined ? '' : `, found ${p.found}`})` : '';
      const hint = 'hint' in p && p.hint !== undefined ? ` (${p.hint})` : '';
      return { severity: severity(monaco!), startLineNumber: line, startColumn: col, endLineNumber: line, endColumn: Math.max(end, col + 1), message: `${p.path === '' ? '' : `${p.path}: `}${p.message}${hint}${extra}`, source: 'xenlab' };
    });
  };

  const showMarkers = (): void => {
    if (monaco === undefined || model === undefined) return;
    const here = (f: { file: string }): boolean => ctx.doc.path === undefined || f.file === ctx.doc.path || f.file === ctx.doc.name || ctx.doc.path.endsWith(`/${f.file}`);
    monaco.editor.setModelMarkers(model, 'xenlab', markersOf(ctx.session.problems.filter(here)));
    monaco.editor.setModelMarkers(model, 'xenlab-run', markersOf(ctx.session.failures.filter(here)));
  };

  const showStep = (s: SessionStatus | undefined): void => {
    if (monaco === undefined || editor === undefined) return;
    const info = ctx.session.info;
    const runsThis = info !== undefined && (info.file === ctx.doc.path || info.file === ctx.doc.name);
    const index = s === undefined || s.scriptDone || !runsThis ? undefined : (s.waiting ?? s.stepIndex);
    const line = index === undefined ? undefined : info?.steps[index]?.line;
    const decorations: Monaco.editor.IModelDeltaDecoration[] =
      line === undefined ? [] : [{ range: new monaco.Range(line, 1, line, 1), options: { isWholeLine: true, className: 'xl-step-line', glyphMarginClassName: 'xl-step-glyph', glyphMarginHoverMessage: { value: s?.waiting !== undefined ? 'This step is waiting on virtual time' : 'The next step to run' } } }];
    stepDecorations ??= editor.createDecorationsCollection();
    stepDecorations.set(decorations);
  };

  ctx.doc.on('loaded', () => showDocument());
  ctx.session.on('problems', () => showMarkers());
  ctx.session.on('status', (s) => showStep(s));
  ctx.session.on('session', () => showStep(ctx.session.status));
  ctx.onSelect((sel) => {
    if (sel.kind !== 'location' || editor === undefined) return;
    ctx.openView('editor');
    editor.revealLineInCenterIfOutsideViewport(sel.line);
    editor.setPosition({ lineNumber: sel.line, column: Math.max(1, sel.col) });
    editor.focus();
  });
  ctx.theme.on('change', () => monaco?.editor.setTheme(ctx.theme.monaco));

  void (async () => {
    const [{ setUpMonaco }, sup] = await Promise.all([import('./monaco.js').finally(() => performance.mark('xenlab:monaco')), support]);
    monaco = setUpMonaco(sup);
    editor = monaco.editor.create(host, {
      theme: ctx.theme.monaco,
      automaticLayout: false,
      fontSize: 13,
      lineHeight: 19,
      fontFamily: "ui-monospace, 'Cascadia Code', 'JetBrains Mono', Menlo, Consolas, monospace",
      minimap: { enabled: false },
      glyphMargin: true,
      scrollBeyondLastLine: false,
      wordWrap: 'on',
      stickyScroll: { enabled: false },
      // Completion comes from the schema (YAML) or the language service (TypeScript), not from the words around.
      wordBasedSuggestions: 'off',
      wrappingIndent: 'indent',
      renderLineHighlight: 'line',
      tabSize: 2,
      insertSpaces: true,
      fixedOverflowWidgets: true,
      quickSuggestions: { other: true, comments: false, strings: true },
      'semanticHighlighting.enabled': false,
    });
    loading.remove();
    showDocument();
    if (visible) editor.layout();
    markReady();
  })().catch((e: unknown) => {
    loading.textContent = `The editor could not start: ${e instanceof Error ? e.message : String(e)}`;
    loading.classList.add('xl-error-text');
  });

  return {
    shown() {
      visible = true;
      editor?.layout();
    },
    hidden() {
      visible = false;
    },
    resized() {
      editor?.layout();
    },
  };
}

export const editorView: View = {
  id: 'editor',
  title: 'Scenario',
  area: 'main',
  order: 0,
  command: 'view.editor',
  keys: COMMAND_KEYS['view.editor'],
  mount,
};
