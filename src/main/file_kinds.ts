/**
 * The kinds of file the desktop app opens and saves, and their extensions: one table for the
 * native dialogs' filters, the command line and the installers' file associations
 * (electron-builder.yml; test/main/packaging.test.ts checks the two agree).
 *
 * The associations use XenLab's own extensions so that installing the app does not take over
 * every .yaml or .json file on the machine: `.xenlab` is a scenario in the step form (YAML text;
 * the CLI reads it like a .yaml), `.xenrec` a recording (the JSON `xenlab run --record` writes).
 * The dialogs still offer .yaml, .yml, .ts and .json.
 */
import type { FileFilter } from 'electron';

/** The extension a file association registers for scenarios (YAML step form). */
export const SCENARIO_ASSOCIATION = 'xenlab';
/** The extension a file association registers for recordings. */
export const RECORDING_ASSOCIATION = 'xenrec';

export const SCENARIO_EXTENSIONS = [SCENARIO_ASSOCIATION, 'yaml', 'yml', 'ts'];
export const RECORDING_EXTENSIONS = [RECORDING_ASSOCIATION, 'json'];

const ALL_FILES: FileFilter = { name: 'All files', extensions: ['*'] };

export type OpenKind = 'scenario' | 'recording';
export type SaveKind = 'scenario' | 'recording' | 'trace';

/** Filters for the open dialogs. */
export const OPEN_FILTERS: Record<OpenKind, FileFilter[]> = {
  scenario: [{ name: 'XenLab scenarios', extensions: SCENARIO_EXTENSIONS }, ALL_FILES],
  recording: [{ name: 'XenLab recordings', extensions: RECORDING_EXTENSIONS }, ALL_FILES],
};

/** Filters for the save dialogs; the one matching the suggested name is put first. */
export const SAVE_FILTERS: Record<SaveKind, FileFilter[]> = {
  scenario: [
    { name: 'YAML scenario', extensions: ['yaml', 'yml'] },
    { name: 'XenLab scenario', extensions: [SCENARIO_ASSOCIATION] },
    { name: 'TypeScript scenario', extensions: ['ts'] },
  ],
  recording: [{ name: 'XenLab recording', extensions: RECORDING_EXTENSIONS }],
  trace: [
    { name: 'JSON Lines trace', extensions: ['jsonl'] },
    { name: 'Chrome trace (ui.perfetto.dev)', extensions: ['json'] },
  ],
};

/** The extension of a file name, lower case, without the dot ('' when it has none). */
export function extensionOf(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

/** SAVE_FILTERS[kind], the filter that holds `suggested`'s extension first. */
export function saveFiltersFor(kind: SaveKind, suggested: string): FileFilter[] {
  const ext = extensionOf(suggested);
  const filters = SAVE_FILTERS[kind];
  const first = filters.findIndex((f) => f.extensions.includes(ext));
  return first <= 0 ? [...filters] : [filters[first]!, ...filters.filter((_, i) => i !== first)];
}
