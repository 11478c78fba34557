// Monaco's ESM entry the editor view imports (editor.main.js), typed as the public API.
declare module 'monaco-editor/esm/vs/editor/editor.main.js' {
  export * from 'monaco-editor';
}
