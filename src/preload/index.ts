/**
 * Preload: runs in the sandboxed renderer before the page, built as CommonJS
 * (out/preload/index.cjs). Gives the page `window.xenlab` (the contract's HostApi and the
 * version, type XenLabBridge in src/contract/bridge.ts) and nothing else of ipcRenderer.
 * The logic is in ./bridge.ts, tested without Electron.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createIsolatedBridge, installXenlab } from './bridge.js';

/** Replaced at build time by electron.vite.config.ts (`define`) with package.json's version. */
declare const __XENLAB_VERSION__: string;

const bridge = createIsolatedBridge(ipcRenderer, __XENLAB_VERSION__);

try {
  contextBridge.executeInMainWorld({ func: installXenlab, args: [bridge] });
} catch (error) {
  // Without executeInMainWorld the API is exposed as is: errors then reach the page without `code`.
  console.error('XenLab: could not install window.xenlab in the page; exposing it without error codes:', error);
  contextBridge.exposeInMainWorld('xenlab', {
    version: bridge.version,
    request: async (name: string, params: unknown) => {
      const response = await bridge.invoke(name, params);
      if (response.ok) return response.result;
      throw new Error(response.error.message);
    },
    on: (event: string, listener: (payload: unknown) => void) => bridge.on(event, listener),
  });
}
