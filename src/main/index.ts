/**
 * Electron main process: wiring only. The rules live in modules that run without Electron and
 * are tested in Node: ./security.ts (the checklist), ./app_protocol.ts (app://xenlab),
 * ./shell.ts (windows, IPC, menu, dialogs, files from outside), ./launch_args.ts.
 */
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session } from 'electron';
// The lab host; the assignment to CreateLabHost below checks it fits the shell's port.
import { createLabHost } from '../host/lab_host.js';
import { APP_ENTRY_URL, APP_ORIGIN, APP_SCHEME, APP_SCHEME_PRIVILEGES, serveRendererRequest } from './app_protocol.js';
import type { CreateLabHost } from './host_port.js';
import { APP_ID, APP_NAME } from './identity.js';
import { pathsFromArgv } from './launch_args.js';
import { hardenSession, hardenWebContents, trustedOrigins } from './security.js';
import { LabShell } from './shell.js';

const labHostFactory: CreateLabHost = createLabHost;
const log = (message: string): void => console.warn(message);

const preloadPath = join(import.meta.dirname, '../preload/index.cjs');
const rendererRoot = join(import.meta.dirname, '../renderer');
// Set by `electron-vite dev`: the page comes from Vite's dev server (never in a packaged app).
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const origins = trustedOrigins(APP_ORIGIN, devServerUrl);
// argv[0] is the app; under `electron .` argv[1] is its folder.
const firstArg = process.defaultApp ? 2 : 1;

// Same name, hence the same userData folder, in development and installed.
app.setName(APP_NAME);
if (process.platform === 'win32') app.setAppUserModelId(APP_ID);
// Before 'ready': app:// is a standard, secure origin; every renderer is sandboxed.
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
app.enableSandbox();

if (app.requestSingleInstanceLock()) runApp();
else app.quit(); // The running instance got our files through 'second-instance'.

function runApp(): void {
  let shell: LabShell | undefined;
  const startupPaths = pathsFromArgv(process.argv, process.cwd(), firstArg);

  // macOS: a double-clicked file, possibly before 'ready'.
  app.on('open-file', (event, path) => {
    event.preventDefault();
    if (shell === undefined) startupPaths.push(path);
    else shell.openPaths([path]);
  });
  // A second launch: its files (or just the focus) go to this instance's window.
  app.on('second-instance', (_event, argv, workingDirectory) => {
    shell?.openPaths(pathsFromArgv(argv, workingDirectory, firstArg));
  });
  // Every WebContents (windows, and anything created later) gets the navigation rules.
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, log));
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app
    .whenReady()
    .then(() => {
      protocol.handle(APP_SCHEME, (request) => serveRendererRequest(request, rendererRoot, log));
      hardenSession(session.defaultSession, origins, log);
      const examples = app.isPackaged ? join(process.resourcesPath, 'scenarios') : join(app.getAppPath(), 'scenarios');
      shell = new LabShell(
        {
          newWindow: (options) => new BrowserWindow(options),
          focusedWindow: () => BrowserWindow.getFocusedWindow(),
          ipcMain,
          dialog,
          setMenu: (template) => Menu.setApplicationMenu(Menu.buildFromTemplate(template)),
          addRecentDocument: (path) => app.addRecentDocument(path),
        },
        {
          createLabHost: labHostFactory,
          host: {
            mode: 'electron',
            version: app.getVersion(),
            roots: [{ name: 'Examples', path: examples }],
            dataDir: app.getPath('userData'),
          },
          preloadPath,
          pageUrl: devServerUrl ?? APP_ENTRY_URL,
          origins,
          platform: process.platform,
          appName: APP_NAME,
          devTools: !app.isPackaged,
          home: app.getPath('home'),
          log,
        },
      );
      shell.start();
      shell.openWindow(startupPaths.splice(0));
      app.on('activate', () => {
        if (shell !== undefined && shell.windowCount === 0) shell.openWindow();
      });
    })
    .catch((error: unknown) => {
      console.error('XenLab: startup failed:', error);
      app.exit(1);
    });
}
