// The live session API on its own (no sockets): the steps run as the runner runs them, then the
// clock moves only through advance, consoles stream their output in order, typing reaches each
// kind of console, and unknown or destroyed domains are refused with a clear error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LiveError, startLive, type LiveSession } from '../../src/scenario/live.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');
const MS = 1e6;

const PLAN9 = `name: Plan 9 waits at its root prompt
xen: "2.0"
domains:
  - name: dom0
  - name: plan9
    kernel: plan9
steps: []
`;

const MINIOS = `name: Mini-OS and a plain guest
domains:
  - name: dom0
  - name: minios
    kernel: minios
  - name: plain
steps:
  - run: 5ms
`;

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function live(text: string, file = 'live.yaml'): LiveSession {
  return startLive(loadScenario(file, text));
}

/** Everything a console streams from now on, as text. */
function collect(s: LiveSession, domid: number): { text: () => string; chunks: string[] } {
  const chunks: string[] = [];
  s.onOutput(domid, (b) => chunks.push(dec(b)));
  return { text: () => chunks.join(''), chunks };
}

function liveError(f: () => unknown): LiveError {
  try {
    f();
  } catch (e) {
    if (e instanceof LiveError) return e;
    throw e;
  }
  throw new Error('expected a LiveError');
}

describe('live session', () => {
  it('lists each console with its domain, domid and kind', () => {
    expect(live(PLAN9).consoles()).toEqual([
      { name: 'dom0', domid: 0, kind: 'shell', alive: true },
      { name: 'plan9', domid: 1, kind: 'xend', alive: true },
    ]);
    // A domain with the default kernel has no console.
    expect(live(MINIOS).consoles()).toEqual([
      { name: 'dom0', domid: 0, kind: 'shell', alive: true },
      { name: 'minios', domid: 1, kind: 'xenconsoled', alive: true },
    ]);
  });

  it('runs the steps exactly as the runner does', () => {
    const text = readFileSync(join(SCENARIOS, 'plan9-boot.yaml'), 'utf8');
    const s = live(text, 'plan9-boot.yaml');
    const r = runScenario(loadScenario('plan9-boot.yaml', text));
    expect(s.result.ok).toBe(true);
    expect(s.result.steps).toEqual(r.steps);
    expect(s.result.consoles).toEqual(r.consoles);
    expect(s.now).toBe(15 * MS);
    // The backlog is what the console showed when the steps ended.
    expect(dec(s.output(1))).toBe(r.consoles.plan9);
  });

  it('moves the virtual clock only through advance', () => {
    const s = live(PLAN9);
    expect(s.now).toBe(0);
    s.advance(3 * MS);
    expect(s.now).toBe(3 * MS);
    s.type(1, enc('x'));
    s.type(0, enc('x'));
    expect(s.now).toBe(3 * MS);
    s.advance(0);
    expect(s.now).toBe(3 * MS);
    s.advance(2.5 * MS);
    expect(s.now).toBe(5.5 * MS);
    expect(() => s.advance(-1)).toThrow(RangeError);
    expect(() => s.advance(Number.NaN)).toThrow(RangeError);
  });

  it('streams console output incrementally, in order, and the stream adds up to the backlog', () => {
    const s = live(PLAN9);
    expect(dec(s.output(1))).toBe(''); // nothing has run yet: Plan 9 prints when time runs
    const out = collect(s, 1);
    s.advance(0.5 * MS);
    // Each CMSG_CONSOLE message (at most 60 bytes) arrives as its own chunk.
    expect(out.chunks.length).toBeGreaterThan(2);
    expect(Math.max(...out.chunks.map((c) => c.length))).toBeLessThanOrEqual(60);
    const booted = out.chunks.length;
    s.advance(5 * MS);
    expect(out.chunks.length).toBe(booted); // nothing new, nothing repeated
    expect(out.text()).toContain('Plan 9 from Bell Labs on Xen 2.0');
    expect(out.text().endsWith('root is from (local, tcp)[local]: ')).toBe(true);
    expect(out.text()).toBe(dec(s.output(1)));
    // A listener added later gets only what comes after it.
    const late = collect(s, 1);
    s.type(1, enc('local\r'));
    s.advance(5 * MS);
    expect(late.text()).toMatch(/^local\n\rfossil: root from local disk/);
    expect(out.text()).toBe(dec(s.output(1)));
    expect(out.text().endsWith('init: starting /bin/rc\n\rterm% ')).toBe(true);
  });

  it('types at a Xen 2.0 guest through xend and the control interface', () => {
    const s = live(PLAN9);
    s.advance(5 * MS);
    const out = collect(s, 1);
    expect(s.type(1, enc('tcp\r'))).toBe(4);
    expect(out.text()).toBe(''); // the bytes travel on the rx ring: nothing until time runs
    s.advance(5 * MS);
    expect(out.text()).toContain('ipconfig: no network device');
    s.type(1, enc('echo live\r'));
    s.advance(5 * MS);
    expect(out.text()).toContain('echo live\n\rlive\n\rterm% ');
  });

  it("types at dom0's shell, whose output comes at once with CR LF line ends", () => {
    const s = live(MINIOS);
    const out = collect(s, 0);
    expect(dec(s.output(0))).toMatch(/dom0# $/);
    s.type(0, enc('xl list\r'));
    expect(out.text()).toMatch(/^xl list\r\nName +ID +Mem VCPUs +State\r\n/);
    expect(out.text()).toContain('minios                                       1    64     1     -b----\r\n');
    expect(out.text().endsWith('dom0# ')).toBe(true);
    expect(out.text()).not.toMatch(/[^\r]\n/);
  });

  it("types at a modern guest's console ring through xenconsoled", () => {
    const s = live(MINIOS);
    expect(dec(s.output(1))).toMatch(/minios> $/);
    const out = collect(s, 1);
    s.type(1, enc('help\r'));
    s.advance(5 * MS);
    expect(out.text()).toContain('help\r\ncommands:\r\n');
    expect(out.text()).toContain('xenstore-read PATH');
    expect(out.text().endsWith('minios> ')).toBe(true);
  });

  it('refuses unknown domains and domains without a console', () => {
    const s = live(MINIOS);
    const e1 = liveError(() => s.type(7, enc('x')));
    expect(e1.code).toBe('unknown-domain');
    expect(e1.message).toBe('there is no domain 7 with a console (consoles: dom0 (0), minios (1))');
    const e2 = liveError(() => s.type(2, enc('x')));
    expect(e2.code).toBe('unknown-domain');
    expect(e2.message).toBe('plain (domain 2) has no console (consoles: dom0 (0), minios (1))');
    expect(() => s.output(7)).toThrow(LiveError);
    expect(() => s.onOutput(2, () => {})).toThrow(LiveError);
    expect(s.find('minios')?.domid).toBe(1);
    expect(s.find('plain')).toBeUndefined();
  });

  it('tells when a domain is destroyed, after its last output, and refuses input to it', () => {
    const s = live(PLAN9);
    s.advance(5 * MS);
    const events: string[] = [];
    s.onOutput(1, (b) => events.push(`plan9: ${dec(b)}`));
    s.onOutput(0, (b) => events.push(`dom0: ${dec(b)}`));
    s.onGone(1, (m) => events.push(`gone: ${m}`));
    s.type(0, enc('xl shutdown plan9\r'));
    s.advance(20 * MS);
    const gone = events.findIndex((e) => e.startsWith('gone: '));
    expect(events[gone]).toBe('gone: plan9 (domain 1) has been destroyed');
    expect(events.slice(0, gone).join('')).toContain('power off');
    expect(events.filter((e) => e.startsWith('gone: '))).toHaveLength(1);
    // xend's message lands above dom0's fresh prompt: the prompt line is redrawn.
    expect(events.join('')).toContain('dom0: \r\x1b[Kxend: domain 1 (plan9) shut down (poweroff): destroyed\r\ndom0# ');
    expect(dec(s.output(0))).toContain('Shutting down domain 1\r\nxend: domain 1 (plan9) shut down (poweroff): destroyed\r\ndom0# ');
    expect(s.find(1)?.alive).toBe(false);
    const e = liveError(() => s.type(1, enc('ls\r')));
    expect(e.code).toBe('destroyed');
    expect(e.message).toBe('plan9 (domain 1) has been destroyed: its console takes no more input');
    // What it printed stays readable.
    expect(dec(s.output(1))).toContain('power off');
  });

  it("notices a destroy done by dom0's shell at once", () => {
    const s = live(MINIOS);
    let gone = '';
    s.onGone(1, (m) => (gone = m));
    s.type(0, enc('xl destroy minios\r'));
    expect(gone).toBe('minios (domain 1) has been destroyed');
    expect(() => s.type(1, enc('help\r'))).toThrow('minios (domain 1) has been destroyed: its console takes no more input');
  });

  it('refuses everything once closed, and drops its listeners', () => {
    const s = live(PLAN9);
    let got = 0;
    s.onOutput(1, () => got++);
    s.close();
    expect(liveError(() => s.advance(MS)).code).toBe('closed');
    expect(liveError(() => s.type(0, enc('x'))).code).toBe('closed');
    expect(got).toBe(0);
  });
});
