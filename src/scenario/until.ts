/**
 * What an `until` step waits for, evaluated before each unit of its wait:
 * cheaply (a console is looked at only when it has new output; ports, state
 * nodes and domains are read straight from the machine) and without
 * allocating while nothing changes. A condition that has held keeps holding
 * (the step ends at the next unit).
 *
 * A console condition reads a console as `expect` does: from where the last
 * `until` on that console stopped (the start of the run at first), line by
 * line, so output that came before the step (a shell answers a typed command
 * at once) is found too, and what one `until` matched the next does not find
 * again. A line is what lies between two line ends, without them and without
 * carriage returns at either end; the line in progress is tested as it grows,
 * so a prompt without a line end can be waited for. A match consumes its
 * line (the line in progress: as far as it went); a timeout consumes nothing.
 */
import type { Domain } from '../core/hv/domain.js';
import { backendPath, frontendPath, xenbusStateName } from '../core/abi/xenbus.js';
import type { XsNode } from '../core/tools/xs_store.js';
import { utf8Decode } from '../core/util/bytes.js';
import type { NumArg, UntilCondition } from './model.js';
import { portFact, portFacts, type PortFactKey } from './port_facts.js';
import type { StepRunner } from './steps.js';
import type { ConsoleLog } from './console_log.js';

export interface Watch {
  /** Whether the condition holds now; once it has, it does. */
  holds(): boolean;
  /** The step ended with the condition held: a console condition consumes what it matched. */
  commit(): void;
  /** The result's fields once it held. */
  out(): Record<string, unknown>;
  /** What never happened and what was seen instead (for a timeout). */
  missed(): string;
}

/**
 * A watch for `c`, from now. Undefined when it cannot be set up (a $name
 * without value, a domain that does not exist): then, unless `quiet`, the
 * failure is reported.
 */
export function watchUntil(runner: StepRunner, c: UntilCondition, quiet: boolean): Watch | undefined {
  const value = (a: NumArg): number | undefined => (quiet ? runner.peekValue(a) : runner.value(a));
  const id = c.domain === undefined ? 0 : value(c.domain);
  if (id === undefined) return undefined;
  switch (c.kind) {
    case 'console': {
      const name = runner.nameOf(id) ?? `domain ${id}`;
      const test = c.matches !== undefined ? regexTest(new RegExp(c.matches)) : containsTest(c.contains!);
      const what = c.matches !== undefined ? `line matching /${c.matches}/` : `line containing ${JSON.stringify(c.contains)}`;
      const bytes = runner.consoleBytes(name);
      const dom0 = id === 0 ? runner.dom0Console() : undefined;
      const read = runner.consoleRead;
      if (bytes !== undefined) {
        const lines = new ByteLines(bytes, (read.get(name) as number | undefined) ?? 0);
        return new ConsoleWatch(lines, test, name, what, () => read.set(name, lines.consumed()));
      }
      if (dom0 !== undefined) {
        const lines = new TextLines(dom0, (read.get(name) as string | undefined) ?? '');
        return new ConsoleWatch(lines, test, name, what, () => read.set(name, lines.consumedText()));
      }
      if (!quiet) runner.fail(c.domain, `${name} has no console to watch (give it kernel: minios, or kernel: plan9 under xen: "2.0"; dom0's console runs a shell)`);
      return undefined;
    }
    case 'port': {
      const d = runner.hv.domain(id);
      const port = value(c.port);
      if (d === undefined || port === undefined) {
        if (d === undefined && !quiet) runner.fail(c.domain, `domain ${id} does not exist (any more)`);
        return undefined;
      }
      const want: [PortFactKey, unknown][] = [];
      for (const [key, node] of c.checks) if ('scalar' in node) want.push([key as PortFactKey, runner.expectedScalar(node.scalar)]);
      return new PortWatch(d, port, want);
    }
    case 'xenbus': {
      const store = runner.xenstore();
      if (store === undefined) {
        if (!quiet) runner.fail(c, 'there is no xenstore to read (dom0 runs xenstored only on a modern Xen)');
        return undefined;
      }
      const dev = c.device;
      const node = c.node ?? `${dev!.end === 'frontend' ? frontendPath(id, dev!.type, dev!.devid) : backendPath(0, dev!.type, id, dev!.devid)}/state`;
      return new XenbusWatch(store.nodes, node, c.state);
    }
    case 'domain':
      return new DomainWatch(runner.hv.domain(id), runner.nameOf(id) ?? `domain ${id}`, c.state, () => runner.hv.domain(id));
  }
}

// ---- consoles ----

type LineTest = (line: string) => boolean;

function regexTest(re: RegExp): LineTest {
  return (line) => re.test(line);
}

function containsTest(text: string): LineTest {
  return (line) => line.includes(text);
}

/** A console's output as lines, scanned from where the last match left off. */
abstract class Lines {
  /** Where the line in progress starts; what is before `scanned` has been split into lines. */
  protected lineStart = 0;
  protected scanned = 0;
  /** Where a match leaves the console's reading: past the matched line, or at the end of the line in progress. */
  protected matchEnd = 0;
  /** The last line seen (complete or in progress), for messages. */
  last: string | undefined;

  /** Brings the source up to date: false when nothing changed. */
  protected abstract refresh(): boolean;
  protected abstract size(): number;
  protected abstract isNewline(i: number): boolean;
  protected abstract text(start: number, end: number): string;

  /** The first line that passes `test`, or undefined. */
  find(test: LineTest): string | undefined {
    if (!this.refresh()) return undefined;
    const n = this.size();
    for (let i = this.scanned; i < n; i++) {
      if (!this.isNewline(i)) continue;
      const line = this.line(this.lineStart, i);
      this.lineStart = i + 1;
      this.scanned = i + 1;
      if (test(line)) {
        this.matchEnd = i + 1;
        return line;
      }
    }
    this.scanned = n;
    if (this.lineStart < n) {
      const partial = this.line(this.lineStart, n);
      if (test(partial)) {
        this.matchEnd = n;
        return partial;
      }
    }
    return undefined;
  }

  /** Where the console's reading stands after the match. */
  consumed(): number {
    return this.matchEnd;
  }

  /** A line's text without carriage returns at either end. */
  private line(start: number, end: number): string {
    const t = this.text(start, end);
    let a = 0;
    let b = t.length;
    while (a < b && t.charCodeAt(a) === 13) a++;
    while (b > a && t.charCodeAt(b - 1) === 13) b--;
    this.last = a === 0 && b === t.length ? t : t.slice(a, b);
    return this.last;
  }
}

/** A guest's console: bytes that only grow. */
class ByteLines extends Lines {
  /** The length last looked at (-1: not yet, so output already there is read). */
  private seen = -1;

  constructor(
    private readonly bytes: ConsoleLog,
    from: number,
  ) {
    super();
    this.lineStart = this.scanned = this.matchEnd = Math.min(from, bytes.length);
  }

  protected refresh(): boolean {
    if (this.bytes.length === this.seen) return false;
    this.seen = this.bytes.length;
    return true;
  }

  protected size(): number {
    return this.bytes.length;
  }

  protected isNewline(i: number): boolean {
    return this.bytes.at(i) === 10;
  }

  protected text(start: number, end: number): string {
    return utf8Decode(this.bytes.view(start, end));
  }
}

/**
 * dom0's console: its kernel's writes. A message printed above a fresh
 * prompt is inserted before it, so the text can change before its end: the
 * reading goes back to where it changed.
 */
class TextLines extends Lines {
  private seenLen = -1;
  private seenLast: string | undefined;
  private current = '';

  constructor(
    private readonly writes: readonly string[],
    /** The text as it was up to where the last match left off. */
    private readonly before: string,
  ) {
    super();
  }

  protected refresh(): boolean {
    const w = this.writes;
    if (w.length === this.seenLen && w[w.length - 1] === this.seenLast) return false;
    const first = this.seenLen < 0;
    this.seenLen = w.length;
    this.seenLast = w[w.length - 1];
    const text = w.join('');
    const old = first ? this.before : this.current;
    if (!text.startsWith(old)) {
      let p = 0;
      const max = Math.min(text.length, old.length);
      while (p < max && text.charCodeAt(p) === old.charCodeAt(p)) p++;
      const from = first ? p : Math.min(this.scanned, p);
      this.scanned = from;
      this.lineStart = first ? p : Math.min(this.lineStart, text.lastIndexOf('\n', p - 1) + 1);
    } else if (first) this.lineStart = this.scanned = old.length;
    this.current = text;
    return true;
  }

  protected size(): number {
    return this.current.length;
  }

  protected isNewline(i: number): boolean {
    return this.current.charCodeAt(i) === 10;
  }

  protected text(start: number, end: number): string {
    return this.current.slice(start, end);
  }

  /** The text up to where the match left the reading. */
  consumedText(): string {
    return this.current.slice(0, this.matchEnd);
  }
}

class ConsoleWatch implements Watch {
  private matched: string | undefined;

  constructor(
    private readonly lines: Lines,
    private readonly test: LineTest,
    private readonly name: string,
    private readonly what: string,
    readonly commit: () => void,
  ) {}

  holds(): boolean {
    if (this.matched === undefined) this.matched = this.lines.find(this.test);
    return this.matched !== undefined;
  }

  out(): Record<string, unknown> {
    return { line: this.matched };
  }

  missed(): string {
    const last = this.lines.last;
    return `${this.name}'s console showed no ${this.what}; ${last === undefined ? 'it printed nothing more' : `its last line: ${JSON.stringify(last)}`}`;
  }
}

// ---- ports, xenstore, domains ----

class PortWatch implements Watch {
  private held = false;

  constructor(
    private readonly d: Domain,
    private readonly port: number,
    private readonly want: readonly [PortFactKey, unknown][],
  ) {}

  holds(): boolean {
    if (this.held) return true;
    for (const [key, value] of this.want) if (portFact(this.d, this.port, key) !== value) return false;
    this.held = true;
    return true;
  }

  out(): Record<string, unknown> {
    return {};
  }

  commit(): void {}

  missed(): string {
    const facts = portFacts(this.d, this.port);
    const wanted = this.want.map(([k, v]) => `${k} ${String(v)}`).join(', ');
    const found = this.want.map(([k]) => `${k} ${String(facts[k])}`).join(', ');
    const also = (['state', 'pending', 'masked'] as const).filter((k) => !this.want.some(([w]) => w === k)).map((k) => `${k} ${String(facts[k])}`);
    return `port ${this.port} of ${this.d.name} never reached ${wanted}; it has ${found}${also.length > 0 ? ` (${also.join(', ')})` : ''}`;
  }
}

class XenbusWatch implements Watch {
  private held = false;
  private node: XsNode | undefined;
  private generation = -2;
  private state = -1;

  constructor(
    private readonly nodes: ReadonlyMap<string, XsNode>,
    private readonly path: string,
    private readonly want: number,
  ) {}

  /** The node's XenbusState as drivers read it (leading decimal digits), -1 while it does not exist. */
  private read(): number {
    const n = this.nodes.get(this.path);
    if (n !== this.node || n?.generation !== this.generation) {
      this.node = n;
      this.generation = n?.generation ?? -2;
      let v = -1;
      if (n !== undefined) {
        v = 0;
        for (let i = 0; i < n.data.length && n.data[i]! >= 48 && n.data[i]! <= 57; i++) v = v * 10 + n.data[i]! - 48;
      }
      this.state = v;
    }
    return this.state;
  }

  holds(): boolean {
    if (!this.held && this.read() === this.want) this.held = true;
    return this.held;
  }

  out(): Record<string, unknown> {
    return {};
  }

  commit(): void {}

  missed(): string {
    const s = this.read();
    return `${this.path} never reached ${xenbusStateName(this.want)}; ${s < 0 ? 'it does not exist' : `it is ${xenbusStateName(s)}`}`;
  }
}

class DomainWatch implements Watch {
  private held = false;

  constructor(
    /** The domain when the watch began (undefined: it was gone already). */
    private readonly d: Domain | undefined,
    private readonly name: string,
    private readonly want: string,
    private readonly current: () => Domain | undefined,
  ) {}

  private reached(): boolean {
    const d = this.d;
    if (d === undefined) return this.want === 'destroyed' || this.want === 'dying';
    switch (this.want) {
      case 'running':
        return d.state === 'running' && d.pauseCount === 0;
      case 'paused':
        return d.state === 'running' && d.pauseCount > 0;
      case 'shutdown':
        return d.state === 'shutdown' || (d.dying && d.shutdownCode >= 0);
      case 'dying':
        return d.dying;
      default:
        return d.state === 'dead' || this.current() !== d;
    }
  }

  holds(): boolean {
    if (!this.held && this.reached()) this.held = true;
    return this.held;
  }

  out(): Record<string, unknown> {
    return {};
  }

  commit(): void {}

  missed(): string {
    const d = this.d;
    const now = d === undefined ? 'it does not exist' : d.state === 'dead' ? 'it has been destroyed' : d.state === 'running' && d.pauseCount > 0 ? 'it is paused' : `it is ${d.state}`;
    return `${this.name} never reached ${this.want}; ${now}`;
  }
}
