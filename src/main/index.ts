/**
 * Electron main process. Thin on purpose: the security rules live in
 * ./security.ts (tested without Electron), the lab itself in src/host.
 */
import { join } from 'node:path';
import { app, BrowserWindow, session } from 'electron';
import { hardenSession, hardenWebContents, mainWindowOptions } from './security.js';

const preloadPath = join(import.meta.dirname, '../preload/index.cjs');
const rendererHtml = join(import.meta.dirname, '../renderer/index.html');

function createMainWindow(): BrowserWindow {
  const win = new BrowserWindow(mainWindowOptions(preloadPath));
  win.once('ready-to-show', () => win.show());
  // Set by `electron-vite dev`: the renderer comes from Vite's dev server.
  const devServerUrl = process.env['ELECTRON_RENDERER_URL'];
  const loaded = !app.isPackaged && devServerUrl ? win.loadURL(devServerUrl) : win.loadFile(rendererHtml);
  loaded.catch((error: unknown) => {
    console.error('XenLab: could not load the renderer:', error);
  });
  return win;
}

// Sandbox every renderer, including any created later; must run before 'ready'.
app.enableSandbox();

// Every WebContents (windows, and anything a future feature creates) gets the same rules.
app.on('web-contents-created', (_event, contents) => {
  hardenWebContents(contents);
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app
  .whenReady()
  .then(() => {
    hardenSession(session.defaultSession);
    createMainWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createMainWindow();
    });
  })
  .catch((error: unknown) => {
    console.error('XenLab: startup failed:', error);
    app.exit(1);
  });
