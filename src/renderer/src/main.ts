/** The renderer's entry: the stylesheets, then the lab. No Node, no Electron here. */
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { App } from './app.js';
import { startPerfProbe } from './perf_probe.js';

startPerfProbe();
const root = document.getElementById('app');
if (root !== null) {
  const app = new App(root);
  void app.start();
}
