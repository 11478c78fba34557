/**
 * Native dialogs: the host's DialogProvider (open and save pickers with XenLab's filters), and
 * the close guard's question. Electron's `dialog` is passed in, so tests hand in a fake one.
 */
import type { BaseWindow, Dialog } from 'electron';
import { OPEN_FILTERS, saveFiltersFor } from './file_kinds.js';
import type { DialogProvider } from './host_port.js';

type DialogApi = Pick<Dialog, 'showOpenDialog' | 'showSaveDialog'>;

const OPEN_TITLES = { scenario: 'Open Scenario', recording: 'Open Recording' } as const;
const SAVE_TITLES = { scenario: 'Save Scenario', recording: 'Save Recording', trace: 'Export Trace' } as const;

/** Open and save pickers attached to `window` (sheets on macOS). */
export function nativeDialogs(dialog: DialogApi, window: BaseWindow): DialogProvider {
  return {
    async pickOpen(kind) {
      const chosen = await dialog.showOpenDialog(window, {
        title: OPEN_TITLES[kind],
        filters: OPEN_FILTERS[kind],
        properties: ['openFile'],
      });
      return chosen.canceled ? null : (chosen.filePaths[0] ?? null);
    },
    async pickSave(kind, suggested) {
      const chosen = await dialog.showSaveDialog(window, {
        title: SAVE_TITLES[kind],
        defaultPath: suggested,
        filters: saveFiltersFor(kind, suggested),
        properties: ['createDirectory', 'showOverwriteConfirmation'],
      });
      return chosen.canceled || !chosen.filePath ? null : chosen.filePath;
    },
  };
}

/** The buttons of the close guard: Discard is 0, Cancel (the default, and Esc) is 1. */
export const DISCARD_BUTTONS = ['Discard Changes', 'Cancel'];

/**
 * Asked when the page's beforeunload handler reports unsaved work (the window is closing or the
 * app quitting): true when the user chose to discard it.
 */
export function confirmDiscardUnsaved(dialog: Pick<Dialog, 'showMessageBoxSync'>, window: BaseWindow): boolean {
  const choice = dialog.showMessageBoxSync(window, {
    type: 'warning',
    title: 'Unsaved changes',
    message: 'Discard unsaved changes?',
    detail: 'The window has changes that are not saved. If you close it, they are lost.',
    buttons: DISCARD_BUTTONS,
    defaultId: 1,
    cancelId: 1,
    noLink: true,
  });
  return choice === 0;
}
