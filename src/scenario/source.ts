/**
 * YAML text to a tree of nodes that remember where they came from, so every
 * later check can point at file:line:col.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { ScenarioInputError, type Pos, type Problem } from './errors.js';

export interface Source {
  readonly file: string;
  readonly root: Node | null;
  readonly lines: LineCounter;
  /** Every position read from it names the file (a solution's steps, spliced into an exercise). */
  readonly stampFile?: boolean;
}

/** Parses YAML, turning syntax errors into positioned problems. */
export function parseYaml(file: string, text: string, opts: { stampFile?: boolean } = {}): Source {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true });
  const problems: Problem[] = [];
  for (const e of doc.errors) {
    const at = lines.linePos(e.pos[0]);
    problems.push({ file, line: at.line, col: at.col, path: '', message: firstLine(e.message), hint: 'YAML syntax' });
  }
  if (problems.length > 0) throw new ScenarioInputError(problems);
  const src = { file, root: doc.contents as Node | null, lines };
  return opts.stampFile === true ? { ...src, stampFile: true } : src;
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? s;
  return line.replace(/ at line \d+, column \d+:?$/, '');
}

/** A node of the document with its path; the vocabulary the checker reads with. */
export class Cursor {
  constructor(
    readonly src: Source,
    readonly node: Node | null,
    readonly path: string,
    /** Where to point when the node itself is missing (its parent or key). */
    private readonly fallback: Pos = { line: 1, col: 1 },
  ) {}

  pos(): Pos {
    const range = this.node?.range;
    if (range === undefined || range === null) return this.stamp(this.fallback);
    const p = this.src.lines.linePos(range[0]);
    return this.stamp({ line: p.line, col: p.col });
  }

  /** A position as this source gives it: with its file when the source says so. */
  stamp(p: Pos): Pos {
    return this.src.stampFile === true && p.file === undefined ? { ...p, file: this.src.file } : p;
  }

  get exists(): boolean {
    return this.node !== null && !(isScalar(this.node) && this.node.value === null);
  }

  isMap(): boolean {
    return isMap(this.node);
  }

  isSeq(): boolean {
    return isSeq(this.node);
  }

  /**
   * Where character `offset` of a one-line scalar's text is: past its opening
   * quote when it is quoted (escapes before it are not counted).
   */
  posInText(offset: number): Pos {
    const p = this.pos();
    const n = this.node;
    const quoted = isScalar(n) && (n.type === 'QUOTE_DOUBLE' || n.type === 'QUOTE_SINGLE');
    return { ...p, col: p.col + offset + (quoted ? 1 : 0) };
  }

  /** The scalar's value, or undefined when this is not a scalar. */
  scalar(): unknown {
    return isScalar(this.node) ? this.node.value : undefined;
  }

  /** What the node is, for "found ..." in messages. */
  describe(): string {
    if (this.node === null) return 'nothing';
    if (isMap(this.node)) return 'a mapping';
    if (isSeq(this.node)) return 'a list';
    const v = this.scalar();
    if (v === null) return 'nothing';
    if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
    return String(v);
  }

  /** The entries of a mapping, in order, with the position of each key. */
  entries(): { key: string; keyPos: Pos; value: Cursor }[] {
    if (!isMap(this.node)) return [];
    return this.node.items.map((pair: Pair) => {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const kr = keyNode?.range;
      const kp = kr ? this.src.lines.linePos(kr[0]) : this.pos();
      const keyPos = this.stamp({ line: kp.line, col: kp.col });
      return { key, keyPos, value: new Cursor(this.src, (pair.value as Node | null) ?? null, this.child(key), keyPos) };
    });
  }

  get(key: string): Cursor {
    const e = this.entries().find((x) => x.key === key);
    return e?.value ?? new Cursor(this.src, null, this.child(key), this.pos());
  }

  has(key: string): boolean {
    return this.entries().some((x) => x.key === key);
  }

  items(): Cursor[] {
    if (!isSeq(this.node)) return [];
    return this.node.items.map((n, i) => new Cursor(this.src, (n as Node | null) ?? null, `${this.path}[${i}]`, this.pos()));
  }

  private child(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }
}
