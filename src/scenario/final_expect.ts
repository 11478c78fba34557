/**
 * The top-level `expect` block, checked when the steps are done: each
 * console's text, ports as a check compares them, what the machine counted
 * per domain, and how many trace records a filter selects. Counters and
 * filters read the trace, so a scenario that has them subscribes to it from
 * the start (before any domain exists); one that has none costs nothing.
 */
import type { Hypervisor } from '../core/hv/hypervisor.js';
import { compileFilter, type RecordPredicate } from '../core/sim/filter.js';
import { decodeRecord, HYPERCALL_OP_NAMES, TK, type TraceBatch } from '../core/sim/trace.js';
import type { CountSpec, FinalExpect } from './model.js';
import type { StepRunner } from './steps.js';

/** What the trace counted for one domain. */
interface DomainCounts {
  upcalls: number;
  hypercalls: number;
  sends: number;
  deliveries: number;
  /** Handler runs by port. */
  byPort: Map<number, number>;
}

export class FinalExpectations {
  private readonly counts = new Map<number, DomainCounts>();
  private readonly filters: RecordPredicate[];
  private readonly matched: number[];
  private readonly sendCodes: ReadonlySet<number>;

  constructor(
    private readonly exp: FinalExpect,
    hv: Hypervisor,
  ) {
    this.filters = exp.trace.map((t) => compileFilter(t.filter));
    this.matched = exp.trace.map(() => 0);
    this.sendCodes = new Set([...HYPERCALL_OP_NAMES].filter(([, name]) => name === 'send').map(([code]) => code));
    if (exp.counters.length > 0 || exp.trace.length > 0) hv.trace.subscribe((b) => this.batch(b));
  }

  private domain(dom: number): DomainCounts {
    let c = this.counts.get(dom);
    if (c === undefined) this.counts.set(dom, (c = { upcalls: 0, hypercalls: 0, sends: 0, deliveries: 0, byPort: new Map() }));
    return c;
  }

  private batch(b: TraceBatch): void {
    const c = b.chunk;
    const counting = this.exp.counters.length > 0;
    const filters = this.filters;
    for (let i = b.start; i < b.end; i++) {
      if (counting) {
        const kind = c.kind[i]!;
        if (kind === TK.upcall) this.domain(c.dom[i]!).upcalls++;
        else if (kind === TK.handler) {
          const d = this.domain(c.dom[i]!);
          d.deliveries++;
          const port = c.port[i]!;
          d.byPort.set(port, (d.byPort.get(port) ?? 0) + 1);
        } else if (kind === TK.hypercall) {
          const d = this.domain(c.dom[i]!);
          d.hypercalls++;
          // x0: the op's code, x1: its return value (filled in before the machine hands the record over).
          if (this.sendCodes.has(c.x0[i]!) && c.x1[i] === 0) d.sends++;
        }
      }
      if (filters.length > 0) {
        const r = decodeRecord(c, i);
        for (let f = 0; f < filters.length; f++) if (filters[f]!(r)) this.matched[f]!++;
      }
    }
  }

  /** Compares everything with what is written; each difference is a failure where it is written. */
  check(run: StepRunner): void {
    run.hv.trace.flush();
    const exp = this.exp;
    const texts = run.consoleTexts();
    for (const con of exp.consoles) {
      const text = texts[con.name];
      if (text === undefined) {
        run.fail(con, `${con.name} has no console (give it kernel: minios, or kernel: plan9 under xen: "2.0"; dom0's console runs a shell)`);
        continue;
      }
      const tail = JSON.stringify(text.slice(-200));
      for (const c of con.contains) if (!text.includes(c.text)) run.fail(c, `${con.name}'s console: expected to contain ${JSON.stringify(c.text)}, found ${tail}`, c.text, text);
      for (const c of con.notContains) {
        const at = text.indexOf(c.text);
        if (at >= 0) run.fail(c, `${con.name}'s console: expected not to contain ${JSON.stringify(c.text)}, found it in ${JSON.stringify(lineAround(text, at))}`, c.text, text);
      }
      const lines = splitLines(text);
      for (const m of con.matches) {
        const re = new RegExp(m.text);
        if (!lines.some((l) => re.test(l))) run.fail(m, `${con.name}'s console: expected a line matching /${m.text}/, found none in ${tail}`, m.text, text);
      }
      if (con.lines !== undefined) this.compare(run, con.lines, lines.length, `${con.name}'s console lines`);
    }
    for (const p of exp.ports) run.checkNow(p);
    for (const c of exp.counters) {
      const n = this.counts.get(c.domid) ?? { upcalls: 0, hypercalls: 0, sends: 0, deliveries: 0, byPort: new Map<number, number>() };
      if (c.upcalls !== undefined) this.compare(run, c.upcalls, n.upcalls, `${c.name}'s upcalls`);
      if (c.hypercalls !== undefined) this.compare(run, c.hypercalls, n.hypercalls, `${c.name}'s hypercalls`);
      if (c.sends !== undefined) this.compare(run, c.sends, n.sends, `${c.name}'s sends (EVTCHNOP_send returning 0)`);
      if (c.deliveries === undefined) continue;
      if ('min' in c.deliveries) this.compare(run, c.deliveries, n.deliveries, `${c.name}'s deliveries (all ports)`);
      else {
        for (const d of c.deliveries) {
          const port = run.value(d.port);
          if (port !== undefined) this.compare(run, d.count, n.byPort.get(port) ?? 0, `${c.name}'s deliveries on port ${port}`);
        }
      }
    }
    exp.trace.forEach((t, i) => this.compare(run, t.count, this.matched[i]!, `trace records matching ${t.filter.text}`));
  }

  private compare(run: StepRunner, want: CountSpec, got: number, what: string): void {
    if (got >= want.min && got <= want.max) return;
    run.fail(want, `${what}: expected ${countWords(want)}, found ${got}`, countWords(want), got);
  }
}

/** "3", "at least 1", "at most 5", "2 to 4". */
function countWords(c: CountSpec): string {
  if (c.min === c.max) return String(c.min);
  if (c.max === Infinity) return `at least ${c.min}`;
  if (c.min === 0) return `at most ${c.max}`;
  return `${c.min} to ${c.max}`;
}

/** The output's lines, without their ends or carriage returns; a line in progress counts. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n').map((l) => l.replace(/^\r+|\r+$/g, ''));
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

function lineAround(text: string, at: number): string {
  const start = text.lastIndexOf('\n', at) + 1;
  const end = text.indexOf('\n', at);
  return text.slice(start, end < 0 ? undefined : end).replace(/\r/g, '');
}
