/**
 * The timeline's colours, read from the stylesheet's --tl-* variables (one
 * set per theme), as CSS strings for the 2D context and as packed pixels for
 * the density image.
 */
import { MARK_NAMES, MARK_COUNT } from './marks.js';

export interface Palette {
  bg: string;
  stripe: string;
  gutter: string;
  grid: string;
  axis: string;
  text: string;
  textDim: string;
  separator: string;
  selection: string;
  hover: string;
  edge: string;
  marks: string[];
  /** Packed RGBA as a little-endian Uint32 (what an ImageData's Uint32Array view holds). */
  bg32: number;
  stripe32: number;
  marks32: Uint32Array;
  font: string;
}

/** A colour's RGBA packed for ImageData (ABGR as a little-endian uint32). */
export function packRgba(r: number, g: number, b: number, a: number): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export function readPalette(el: HTMLElement): Palette {
  const cs = getComputedStyle(el);
  const v = (name: string, dflt: string): string => cs.getPropertyValue(name).trim() || dflt;
  const probe = document.createElement('canvas');
  probe.width = probe.height = 1;
  const pctx = probe.getContext('2d', { willReadFrequently: true })!;
  const rgba = (css: string): number => {
    pctx.clearRect(0, 0, 1, 1);
    pctx.fillStyle = css;
    pctx.fillRect(0, 0, 1, 1);
    const d = pctx.getImageData(0, 0, 1, 1).data;
    return packRgba(d[0]!, d[1]!, d[2]!, d[3]!);
  };
  const marks = MARK_NAMES.map((m) => v(`--tl-${m}`, '#888'));
  const marks32 = new Uint32Array(MARK_COUNT);
  marks.forEach((c, i) => (marks32[i] = rgba(c)));
  const bg = v('--tl-bg', '#181818');
  const stripe = v('--tl-stripe', '#1d1d1d');
  return {
    bg,
    stripe,
    gutter: v('--tl-gutter', '#1f1f1f'),
    grid: v('--tl-grid', 'rgba(255,255,255,0.06)'),
    axis: v('--tl-axis', '#1f1f1f'),
    text: v('--fg', '#d4d4d4'),
    textDim: v('--fg-dim', '#9a9a9a'),
    separator: v('--border', '#333'),
    selection: v('--tl-selection', '#ffffff'),
    hover: v('--tl-hover', 'rgba(255,255,255,0.6)'),
    edge: v('--tl-edge', 'rgba(55,148,255,0.7)'),
    marks,
    bg32: rgba(bg),
    stripe32: rgba(stripe),
    marks32,
    font: `11px ${cs.fontFamily || 'sans-serif'}`,
  };
}
