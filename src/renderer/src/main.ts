/** The renderer's entry: the stylesheets, then the lab. No Node, no Electron here. */
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { App } from './app.js';
import { startPerfProbe } from './perf_probe.js';

startPerfProbe();
// A cancelled editor request (Monaco's CancellationError, "Canceled") is not a failure.
window.addEventListener('unhandledrejection', (e) => {
  const r = e.reason as { name?: unknown; message?: unknown } | undefined;
  if (r?.name === 'Canceled' && r.message === 'Canceled') e.preventDefault();
});
const root = document.getElementById('app');
if (root !== null) {
  const app = new App(root);
  void app.start();
}
