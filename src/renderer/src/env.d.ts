/// <reference types="vite/client" />
import type { HostApi } from '../../contract/api.js';

declare global {
  interface Window {
    /** The desktop app's preload bridge (the contract over IPC); absent in a browser (web mode). */
    readonly xenlab?: HostApi;
  }
}
