/** The timeline's toolbar icons (16×16 line drawings, like util/dom.ts's). */
const SVG_NS = 'http://www.w3.org/2000/svg';

const PATHS: Record<string, string> = {
  zoomIn: 'M6.8 2.5a4.3 4.3 0 1 1 0 8.6 4.3 4.3 0 0 1 0-8.6zM10 10l3.5 3.5M4.8 6.8h4M6.8 4.8v4',
  zoomOut: 'M6.8 2.5a4.3 4.3 0 1 1 0 8.6 4.3 4.3 0 0 1 0-8.6zM10 10l3.5 3.5M4.8 6.8h4',
  fit: 'M2.5 5.5v-3h3M10.5 2.5h3v3M13.5 10.5v3h-3M5.5 13.5h-3v-3M5 8h6M5 8l1.6-1.6M5 8l1.6 1.6M11 8l-1.6-1.6M11 8l-1.6 1.6',
};

export function toolIcon(name: string): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  svg.classList.add('icon');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', PATHS[name] ?? '');
  svg.append(path);
  return svg;
}
