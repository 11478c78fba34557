interface Window {
  /** The desktop app's bridge (src/preload); absent when the page runs in a plain browser (web mode). */
  readonly xenlab?: import('../../contract/bridge.js').XenLabBridge;
}
