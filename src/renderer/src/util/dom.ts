/** A few DOM helpers: elements from a tag, properties and children; SVG icons. */

type Props = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;
type Child = Node | string | undefined | null | false;

/** `h('button', { class: 'x', title: 'Run (F5)', onclick: f }, 'Run')`. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v as EventListener);
    else if (k === 'class') el.className = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== undefined && c !== null && c !== false) el.append(c);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** 16×16 line icons, drawn with the current colour. */
const ICONS: Record<string, string> = {
  run: 'M5 3.5v9l7.5-4.5z',
  pause: 'M5 3.5h2v9H5zM9 3.5h2v9H9z',
  step: 'M4 3.5v9l6-4.5zM11 3.5h1.8v9H11z',
  back: 'M12 3.5v9l-6-4.5zM3.2 3.5H5v9H3.2z',
  reset: 'M8 3a5 5 0 1 1-4.6 3H1.8L4.4 3l2.6 3H5.1A3.4 3.4 0 1 0 8 4.6z',
  open: 'M1.5 4h4l1.5 1.5h7.5v7.5h-13z',
  save: 'M2.5 2.5h9l2 2v9h-11zM5 2.5v3.5h5V2.5M4.5 13.5V9h7v4.5',
  search: 'M6.8 2.5a4.3 4.3 0 1 1 0 8.6 4.3 4.3 0 0 1 0-8.6zM10 10l3.5 3.5',
  copy: 'M5.5 5.5h7v8h-7zM3.5 10.5V2.5h7',
  follow: 'M8 2.5v10M4 9l4 4 4-4',
  close: 'M4 4l8 8M12 4l-8 8',
  up: 'M4 10l4-4 4 4',
  down: 'M4 6l4 4 4-4',
  error: 'M8 1.8l6.6 12H1.4zM8 6v4M8 11.6v.8',
  menu: 'M2.5 4h11M2.5 8h11M2.5 12h11',
  folder: 'M1.5 4h4l1.5 1.5h7.5v7.5h-13z',
  file: 'M3.5 1.5h6l3 3v10h-9zM9.5 1.5v3h3',
  grid: 'M2.5 2.5h4.5v4.5H2.5zM9 2.5h4.5v4.5H9zM2.5 9h4.5v4.5H2.5zM9 9h4.5v4.5H9z',
};

export function icon(name: string, title?: string): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', title === undefined ? 'true' : 'false');
  svg.classList.add('icon');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICONS[name] ?? '');
  svg.append(path);
  return svg;
}

/** Runs `fn` at most once per `ms`, with the last arguments (trailing call). */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): ((...args: A) => void) & { flush(): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last: A | undefined;
  const run = (): void => {
    timer = undefined;
    if (last !== undefined) {
      const a = last;
      last = undefined;
      fn(...a);
    }
  };
  const d = ((...args: A) => {
    last = args;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(run, ms);
  }) as ((...args: A) => void) & { flush(): void; cancel(): void };
  d.flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    run();
  };
  d.cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    last = undefined;
  };
  return d;
}

/** 12345678 → "12,345,678". */
export function grouped(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Virtual time in ns, shown with its unit: "0 ns", "12.345 µs", "15.000 ms", "2.500 000 s". */
export function formatNs(ns: number): string {
  if (ns < 1000) return `${ns} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(3)} ms`;
  return `${(ns / 1e9).toFixed(6)} s`;
}
