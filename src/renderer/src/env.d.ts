/// <reference types="vite/client" />
import type { XenLabBridge } from '../../contract/bridge.js';

declare global {
  interface Window {
    /** The desktop app's preload bridge (the contract over IPC, and the app's version); absent in a browser (web mode). */
    readonly xenlab?: XenLabBridge;
  }
}
