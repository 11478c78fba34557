/**
 * Preload: runs in the sandboxed renderer before the page, built as CommonJS
 * (out/preload/index.cjs). Exposes the host API to the page as `window.xenlab`.
 * Minimal for now; the contract's request/stream API will be exposed here.
 */
import { contextBridge } from 'electron';

const api = Object.freeze({
  /** XenLab's version, from package.json at build time. */
  version: __XENLAB_VERSION__,
});

contextBridge.exposeInMainWorld('xenlab', api);
