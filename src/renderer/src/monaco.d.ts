// Monaco's ESM entry the editor view imports (editor.main.js), typed as the public API.
declare module 'monaco-editor/esm/vs/editor/editor.main.js' {
  export * from 'monaco-editor';
}

// The editor API without contributions (views/editor/monaco_core.ts picks those).
declare module 'monaco-editor/esm/vs/editor/editor.api.js' {
  export * from 'monaco-editor';
}
