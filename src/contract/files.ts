/** Files as the UI sees them: text with the modification time it was read at, recent files, drafts. */

export interface FileText {
  path: string;
  text: string;
  /** mtime when read; passed back to files.write to detect a change on disk. */
  mtimeMs: number;
  /** How the editor should treat it, from the name. */
  lang: 'yaml' | 'typescript' | 'recording' | 'text';
}

export interface SaveResult {
  path: string;
  mtimeMs: number;
  bytes: number;
}

export interface DirEntry {
  name: string;
  path: string;
  kind: 'file' | 'dir';
}

export interface DirListing {
  path: string;
  entries: DirEntry[];
}

export interface RecentFile {
  path: string;
  openedAtMs: number;
}

/** An unsaved buffer kept for recovery after a crash or a closed tab. */
export interface DraftInfo {
  key: string;
  file: string;
  savedAtMs: number;
  bytes: number;
}
