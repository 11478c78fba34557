/** Renderer entry: a placeholder until the lab UI lands. No Node, no Electron here. */
import './style.css';

const versionLine = document.getElementById('version');
if (versionLine) {
  versionLine.textContent = window.xenlab
    ? `version ${window.xenlab.version}`
    : 'running outside the desktop app (no preload bridge)';
}
