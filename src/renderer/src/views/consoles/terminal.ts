/**
 * One domain's console in an xterm: made once and kept (tab switches and
 * new sessions reuse it; its content stays), fitted and resized only while
 * visible, drawn by WebGL only while visible (Chromium allows ~16 WebGL
 * contexts a page) and by the DOM renderer otherwise. Output is queued and
 * written once per animation frame; the scrollback is bounded.
 */
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { WebglAddon } from '@xterm/addon-webgl';
import { Terminal } from '@xterm/xterm';
import type { TerminalColors } from '../../shell/theme.js';
import { h } from '../../util/dom.js';

export const SCROLLBACK_LINES = 5000;

/**
 * Output past which a frame's batch counts as a flood: a flooding terminal is written (and so
 * drawn) every other frame. Its text moves too fast to read either way, and drawing every row
 * anew 60 times a second is what took frames past 50 ms at 5 MB/s.
 */
const FLOOD_BYTES = 16 * 1024;
const FLOOD_FRAME_MS = 30;

/** ESC c: "reset to initial state", screen and scrollback cleared. */
const RIS = new Uint8Array([0x1b, 0x63]);

export class DomainTerminal {
  readonly el: HTMLElement;
  readonly term: Terminal;
  private readonly fit = new FitAddon();
  readonly search = new SearchAddon();
  private webgl: WebglAddon | undefined;
  private opened = false;
  private visible = false;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private frame = 0;
  private lastFlood = -Infinity;
  /** False: output does not move the view (the user is reading). */
  follow = true;
  /** WebGL failed here once (no GPU, context limit): stay on the DOM renderer. */
  private static webglBroken = false;

  constructor(
    readonly domid: number,
    public name: string,
    colors: TerminalColors,
    onData: (data: string) => void,
  ) {
    this.el = h('div', { class: 'xl-terminal', 'data-domid': String(domid), 'data-label': name });
    this.el.hidden = true;
    this.term = new Terminal({
      scrollback: SCROLLBACK_LINES,
      // Guests write "\n" for a new line (a custom kernel's println, Mini-OS): start the line over, as a tty with ONLCR does.
      convertEol: true,
      cursorBlink: false,
      fontFamily: "ui-monospace, 'Cascadia Code', 'JetBrains Mono', Menlo, Consolas, monospace",
      fontSize: 13,
      lineHeight: 1.15,
      theme: colors,
      allowProposedApi: false,
    });
    this.term.loadAddon(this.fit);
    this.term.loadAddon(this.search);
    this.term.onData(onData);
  }

  /** Queues output; it is written at the next animation frame. */
  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.queue.push(bytes);
    this.queued += bytes.length;
    this.nextFrame();
  }

  private nextFrame(): void {
    if (this.frame === 0) this.frame = requestAnimationFrame((t) => this.onFrame(t));
  }

  private onFrame(t: number): void {
    this.frame = 0;
    if (this.queued >= FLOOD_BYTES) {
      if (t - this.lastFlood < FLOOD_FRAME_MS) return this.nextFrame();
      this.lastFlood = t;
    }
    this.flush();
  }

  /**
   * Replaces everything shown with `bytes` (after a seek). The reset travels in the output
   * stream as RIS (ESC c), so output xterm is still parsing from earlier writes is cleared
   * with the rest instead of landing after the new text.
   */
  reset(bytes: Uint8Array): void {
    this.queue = [RIS];
    this.queued = RIS.length;
    this.write(bytes);
    this.nextFrame(); // written even when `bytes` is empty: the reset clears the screen
  }

  /** Writes what is queued now (the frame callback; also before reading the buffer). */
  flush(): void {
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (this.queue.length === 0) return;
    const parts = this.queue;
    const total = this.queued;
    this.queue = [];
    this.queued = 0;
    const data = parts.length === 1 ? parts[0]! : new Uint8Array(total);
    if (parts.length > 1) {
      let at = 0;
      for (const p of parts) {
        data.set(p, at);
        at += p.length;
      }
    }
    const buf = this.term.buffer.active;
    const keep = this.follow ? undefined : buf.viewportY;
    this.term.write(data, () => {
      if (keep !== undefined) this.term.scrollToLine(keep);
    });
  }

  /** Shows it, drawn by WebGL when `webgl` (a grid of many draws the rest with the DOM renderer). */
  show(webgl = true): void {
    this.visible = true;
    this.el.hidden = false;
    if (!this.opened) {
      this.opened = true;
      this.term.open(this.el);
    }
    if (webgl) this.attachWebgl();
    else this.detachWebgl();
    this.resize();
  }

  hide(): void {
    this.visible = false;
    this.el.hidden = true;
    this.detachWebgl();
  }

  /** Fits the terminal to its pane (only when visible: a hidden pane has no size). */
  resize(): void {
    if (!this.visible || !this.opened || this.el.clientWidth === 0) return;
    try {
      this.fit.fit();
    } catch {
      // not laid out yet: the next resize fits it
    }
  }

  setColors(c: TerminalColors): void {
    this.term.options.theme = c;
  }

  focus(): void {
    this.term.focus();
  }

  dispose(): void {
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    this.detachWebgl();
    this.term.dispose();
    this.el.remove();
  }

  /** Which renderer draws it now (for tests and the status tooltip). */
  get renderer(): 'webgl' | 'dom' {
    return this.webgl === undefined ? 'dom' : 'webgl';
  }

  private attachWebgl(): void {
    if (this.webgl !== undefined || DomainTerminal.webglBroken || !this.opened) return;
    try {
      const probe = document.createElement('canvas').getContext('webgl2');
      if (probe === null || softwareRenderer(probe)) {
        // No WebGL, or WebGL drawn by the CPU (SwiftShader, llvmpipe): xterm's DOM renderer is cheaper then.
        DomainTerminal.webglBroken = true;
        probe?.getExtension('WEBGL_lose_context')?.loseContext();
        return;
      }
      probe.getExtension('WEBGL_lose_context')?.loseContext();
      const addon = new WebglAddon();
      addon.onContextLoss(() => this.detachWebgl());
      this.term.loadAddon(addon);
      this.webgl = addon;
    } catch {
      DomainTerminal.webglBroken = true;
      this.webgl = undefined;
    }
  }

  private detachWebgl(): void {
    const w = this.webgl;
    this.webgl = undefined;
    try {
      w?.dispose();
    } catch {
      // already gone with its context
    }
  }
}

/** Whether a WebGL context is rasterized in software (no GPU, or a blocklisted one). */
function softwareRenderer(gl: WebGL2RenderingContext): boolean {
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name = info === null ? '' : String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL));
  return /swiftshader|llvmpipe|software/i.test(name);
}
