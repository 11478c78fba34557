/**
 * What src/preload/index.ts exposes. Move this into src/contract once the
 * contract's API type exists, and have both preload and renderer use that.
 */
interface XenLabBridge {
  readonly version: string;
}

interface Window {
  /** Absent when the page runs outside Electron (e.g. in a plain browser). */
  readonly xenlab?: XenLabBridge;
}
