/**
 * The trace filter language's syntax: tokens, the parser (text to a tree,
 * every field and name checked against filter_fields.ts), and the printer
 * (a tree back to text that parses to the same tree). docs/filter.md
 * describes the language.
 */
import { closestName } from '../util/suggest.js';
import { ERRNO_VALUE_NAMES, lookupField, type FieldSpec, type FilterXen } from './filter_fields.js';

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A value as written: a number (durations already in ns), a bare name (send, VIRQ_TIMER, -EINVAL), or quoted text. */
export type FilterValue = { type: 'number'; value: number } | { type: 'name'; name: string } | { type: 'string'; value: string };

export type FilterExpr =
  | { type: 'all' }
  | { type: 'and'; left: FilterExpr; right: FilterExpr }
  | { type: 'or'; left: FilterExpr; right: FilterExpr }
  | { type: 'not'; expr: FilterExpr }
  | { type: 'present'; field: string }
  | { type: 'compare'; field: string; op: CompareOp; value: FilterValue }
  | { type: 'contains'; field: string; text: string }
  | { type: 'matches'; field: string; pattern: string; flags: string };

/** A parsed filter: its text, its tree, and the Xen its names were resolved for. */
export interface Filter {
  readonly text: string;
  readonly expr: FilterExpr;
  readonly xen: FilterXen;
}

/** Where (0-based offsets into the text, end exclusive) and what went wrong. */
export interface FilterError {
  start: number;
  end: number;
  message: string;
  expected?: string;
  found?: string;
}

export interface FilterOptions {
  /** Whose numbers names stand for: '4' (default) or '2.0' (VIRQ_TIMER is 1 there). */
  xen?: FilterXen;
}

// ---------------------------------------------------------------------------
// Tokens

type TokenKind = 'word' | 'number' | 'string' | 'regex' | 'op' | 'end';

interface Token {
  readonly kind: TokenKind;
  readonly start: number;
  readonly end: number;
  /** The source text. */
  readonly text: string;
  /** number: its value (before any unit); string: its contents; regex: its pattern. */
  readonly value?: number | string;
  /** number: a unit written after it (ms); regex: its flags. */
  readonly suffix?: string;
}

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '~', '!', '(', ')'] as const;
const COMPARE_OPS: ReadonlySet<string> = new Set(['==', '!=', '<', '<=', '>', '>=']);
/** Near misses of an operator, and what was probably meant. */
const LOOKALIKES: Readonly<Record<string, string>> = { '=': '==', '===': '==', '!==': '!=', '&': '&&', '|': '||', '=<': '<=', '=>': '>=', '=~': '~', '~=': '~' };
/** Spellings of &&, || and ! (any case). */
const KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'not']);

const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };
const WORD = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const NAME_AFTER_MINUS = /-[A-Za-z_][A-Za-z0-9_.-]*/y;
const NUMBER = /-?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/y;
const UNIT = /[A-Za-zµ_][A-Za-z0-9_µ]*/y;
const REGEX_FLAGS = /^[imsu]*$/;

class ParseFailure extends Error {
  constructor(readonly error: FilterError) {
    super(error.message);
  }
}

function fail(start: number, end: number, message: string, expected?: string, found?: string): never {
  const e: FilterError = { start, end, message };
  if (expected !== undefined) e.expected = expected;
  if (found !== undefined) e.found = found;
  throw new ParseFailure(e);
}

/** "an op", "a VIRQ". */
function article(what: string): string {
  return `${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what}`;
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'end of filter' : `'${t.text}'`;
}

/** The token starting at or after `pos`; `regex` when a /pattern/ may come (after '~'). */
function lex(text: string, pos: number, regex = false): Token {
  while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  if (pos >= text.length) return { kind: 'end', start: text.length, end: text.length, text: '' };
  const c = text[pos]!;
  const at = (re: RegExp, from = pos): string | undefined => {
    re.lastIndex = from;
    return re.exec(text)?.[0];
  };
  const num = at(NUMBER);
  if (num !== undefined) {
    const unit = at(UNIT, pos + num.length);
    const end = pos + num.length + (unit?.length ?? 0);
    // Number() reads "0x1f" but not "-0x1f".
    const value = num.startsWith('-') ? -Number(num.slice(1)) : Number(num);
    return { kind: 'number', start: pos, end, text: text.slice(pos, end), value, ...(unit === undefined ? {} : { suffix: unit }) };
  }
  const word = at(WORD) ?? at(NAME_AFTER_MINUS);
  if (word !== undefined) return { kind: 'word', start: pos, end: pos + word.length, text: word };
  if (c === '"') return lexString(text, pos);
  if (c === '/' && regex) return lexRegex(text, pos);
  const run = /[=!<>&|~]+/y;
  run.lastIndex = pos;
  const sym = run.exec(text)?.[0];
  if (sym !== undefined && LOOKALIKES[sym] !== undefined) fail(pos, pos + sym.length, `'${sym}' is not an operator — did you mean '${LOOKALIKES[sym]}'?`, 'an operator', `'${sym}'`);
  for (const op of OPERATORS) if (text.startsWith(op, pos)) return { kind: 'op', start: pos, end: pos + op.length, text: op };
  const shown = c === '/' ? "'/' (a /regex/ comes only after '~')" : `'${c}'`;
  return fail(pos, pos + 1, `unexpected character ${shown}`, undefined, `'${c}'`);
}

function lexString(text: string, start: number): Token {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  if (i >= text.length) fail(start, text.length, 'unterminated string: add the closing \'"\'', "'\"'", 'end of filter');
  const raw = text.slice(start, i + 1);
  let value: string;
  try {
    value = JSON.parse(raw) as string;
  } catch {
    fail(start, i + 1, 'bad escape or control character in string (escapes: \\" \\\\ \\n \\t \\uXXXX)');
  }
  return { kind: 'string', start, end: i + 1, text: raw, value };
}

function lexRegex(text: string, start: number): Token {
  let i = start + 1;
  while (i < text.length && text[i] !== '/') i += text[i] === '\\' ? 2 : 1;
  if (i >= text.length) fail(start, text.length, "unterminated regular expression: add the closing '/'", "'/'", 'end of filter');
  const flagsRe = /[A-Za-z]*/y;
  flagsRe.lastIndex = i + 1;
  const flags = flagsRe.exec(text)![0];
  const end = i + 1 + flags.length;
  return { kind: 'regex', start, end, text: text.slice(start, end), value: text.slice(start + 1, i), suffix: flags };
}

function isKeyword(t: Token, keyword: string): boolean {
  return t.kind === 'word' && t.text.toLowerCase() === keyword;
}

// ---------------------------------------------------------------------------
// Parser

/** What the parser wanted when the text ran out: where completion stands. */
export type FilterPosition =
  | { want: 'field' }
  | { want: 'operator'; spec: FieldSpec }
  | { want: 'value'; spec: FieldSpec; op: CompareOp }
  | { want: 'text' }
  | { want: 'logical'; depth: number };

/** Thrown (in completion mode) where the text ends, carrying what would have come next. */
class CompletionPoint extends Error {
  constructor(readonly position: FilterPosition) {
    super('completion point');
  }
}

class Parser {
  private tok: Token;
  private prev: Token | undefined;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly xen: FilterXen,
    /** Stop at the end of the text with where parsing stands, instead of failing there. */
    private readonly completing = false,
  ) {
    this.tok = lex(text, 0);
  }

  parse(): FilterExpr {
    if (this.tok.kind === 'end') {
      if (this.completing) throw new CompletionPoint({ want: 'field' });
      return { type: 'all' };
    }
    const e = this.or();
    const t = this.tok as Token; // moved on by or()
    if (t.kind !== 'end') {
      if (t.text === ')') fail(t.start, t.end, "')' without a matching '('", "'&&', '||' or end of filter", "')'");
      fail(t.start, t.end, `expected '&&', '||' or end of filter after ${describe(this.prev!)}, found ${describe(t)}`, "'&&', '||' or end of filter", describe(t));
    }
    if (this.completing) throw new CompletionPoint({ want: 'logical', depth: 0 });
    return e;
  }

  private next(regex = false): Token {
    this.prev = this.tok;
    this.tok = lex(this.text, this.tok.end, regex);
    return this.prev;
  }

  private or(): FilterExpr {
    let left = this.and();
    while (this.tok.text === '||' || isKeyword(this.tok, 'or')) {
      this.next();
      left = { type: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): FilterExpr {
    let left = this.unary();
    while (this.tok.text === '&&' || isKeyword(this.tok, 'and')) {
      this.next();
      left = { type: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): FilterExpr {
    if ((this.tok.kind === 'op' && this.tok.text === '!') || isKeyword(this.tok, 'not')) {
      this.next();
      return { type: 'not', expr: this.unary() };
    }
    return this.primary();
  }

  private primary(): FilterExpr {
    const t = this.tok;
    if (t.kind === 'end' && this.completing) throw new CompletionPoint({ want: 'field' });
    if (t.kind === 'op' && t.text === '(') {
      this.next();
      this.depth++;
      const e = this.or();
      if (this.tok.kind === 'end' && this.completing) throw new CompletionPoint({ want: 'logical', depth: this.depth });
      if (this.tok.text !== ')') {
        const found = describe(this.tok);
        fail(this.tok.start, this.tok.end, `expected ')' to close the '(' at column ${t.start + 1}, found ${found}`, "')'", found);
      }
      this.next();
      this.depth--;
      return e;
    }
    if (t.kind === 'word' && !KEYWORDS.has(t.text.toLowerCase()) && !t.text.startsWith('-')) return this.condition();
    const after = this.prev === undefined ? '' : ` after ${describe(this.prev)}`;
    const hint = t.kind === 'number' || t.kind === 'string' ? ' (put the field first: port==5)' : '';
    return fail(t.start, t.end, `expected a field${after}, found ${describe(t)}${hint}`, 'a field', describe(t));
  }

  private condition(): FilterExpr {
    const fieldTok = this.next();
    const spec = checkField(fieldTok);
    const field = fieldTok.text;
    const t = this.tok;
    if (t.kind === 'end' && this.completing) throw new CompletionPoint({ want: 'operator', spec });
    if (t.kind === 'number' || t.kind === 'string' || (t.kind === 'word' && !KEYWORDS.has(t.text.toLowerCase()))) {
      fail(t.start, t.end, `expected an operator (==, !=, <, <=, >, >=, ~), '&&' or '||' after '${field}', found ${describe(t)}`, 'an operator', describe(t));
    }
    if (t.kind !== 'op' || (!COMPARE_OPS.has(t.text) && t.text !== '~')) return { type: 'present', field };
    this.next(t.text === '~'); // a /regex/ may follow only '~'
    if (spec.type === 'object') {
      const first = typeof spec.members === 'object' ? [...spec.members.keys()][0] : undefined;
      fail(fieldTok.start, fieldTok.end, `'${field}' has fields of its own: compare one of them${first === undefined ? '' : `, e.g. ${field}.${first}`}`, 'a field with a value', `'${field}'`);
    }
    if (t.text === '~') return this.match(field);
    const op = t.text as CompareOp;
    if (spec.type === 'text' && op !== '==' && op !== '!=') fail(t.start, t.end, `'${op}' compares numbers, but '${field}' is text: use ==, != or ~`, "'==', '!=' or '~'", `'${op}'`);
    return { type: 'compare', field, op, value: this.value(spec, op) };
  }

  private match(field: string): FilterExpr {
    const t = this.tok;
    if (t.kind === 'end' && this.completing) throw new CompletionPoint({ want: 'text' });
    if (t.kind === 'regex') {
      this.next();
      const pattern = t.value as string;
      const flags = t.suffix!;
      if (!REGEX_FLAGS.test(flags)) fail(t.start, t.end, `regular expression flags may be i, m, s and u, found '${flags}'`, 'i, m, s or u', `'${flags}'`);
      try {
        new RegExp(pattern, flags);
      } catch (e) {
        fail(t.start, t.end, `bad regular expression: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`);
      }
      return { type: 'matches', field, pattern, flags };
    }
    if (t.kind === 'string' || t.kind === 'word' || t.kind === 'number') {
      this.next();
      return { type: 'contains', field, text: t.kind === 'string' ? (t.value as string) : t.text };
    }
    return fail(t.start, t.end, `expected text ("...") or a /regex/ after '~', found ${describe(t)}`, 'text or a /regex/', describe(t));
  }

  private value(spec: FieldSpec, op: CompareOp): FilterValue {
    const t = this.tok;
    if (t.kind === 'end' && this.completing) throw new CompletionPoint({ want: 'value', spec, op });
    if (t.kind === 'number') {
      if (spec.type === 'text') fail(t.start, t.end, `'${spec.path}' is text, found the number ${t.text}: quote it ("${t.text}") to compare text`, 'text', describe(t));
      this.next();
      return { type: 'number', value: numberValue(t, spec) };
    }
    if (t.kind === 'word' || t.kind === 'string') {
      this.next();
      const v: FilterValue = t.kind === 'word' ? { type: 'name', name: t.text } : { type: 'string', value: t.value as string };
      checkName(t, spec, op, v, this.xen);
      return v;
    }
    return fail(t.start, t.end, `expected a value after '${op}', found ${describe(t)}`, 'a value', describe(t));
  }
}

function checkField(t: Token): FieldSpec {
  const r = lookupField(t.text);
  if (r.ok) return r.spec;
  const start = t.start + r.at;
  const end = start + Math.max(1, r.segment.length);
  const near = closestName(r.segment, r.candidates);
  return fail(start, end, near === undefined ? r.message : `${r.message} — did you mean '${near}'?`, 'a field', `'${r.segment}'`);
}

function numberValue(t: Token, spec: FieldSpec): number {
  const n = t.value as number;
  if (t.suffix === undefined) return n;
  const scale = DURATION_UNITS[t.suffix];
  if (!spec.duration) fail(t.start, t.end, `'${spec.path}' takes a plain number, found '${t.text}'${scale === undefined ? '' : ' (only times take units)'}`, 'a number', `'${t.text}'`);
  if (scale === undefined) fail(t.start, t.end, `unknown unit '${t.suffix}' in '${t.text}': use ns, us, ms or s`, 'ns, us, ms or s', `'${t.suffix}'`);
  return n * scale;
}

/** The text of a name or string value. */
export function valueText(v: FilterValue): string {
  return v.type === 'name' ? v.name : v.type === 'string' ? v.value : String(v.value);
}

/**
 * What a name or quoted value stands for on a field: a number (VIRQ_TIMER, -EINVAL,
 * DOMID_SELF), the text records hold (ECS_UNBOUND is "unbound"), or, for `type`
 * and `subtype`, the name to compare with type_name / subtype_name. Undefined
 * when the field does not know the name.
 */
export function resolveName(spec: FieldSpec, v: FilterValue, xen: FilterXen): number | string | undefined {
  const text = valueText(v);
  const r = spec.names?.resolve(text, xen);
  if (r !== undefined) return r;
  if (spec.type === 'number') return undefined;
  return spec.names?.closed ? undefined : text;
}

function checkName(t: Token, spec: FieldSpec, op: CompareOp, v: FilterValue, xen: FilterXen): void {
  const text = valueText(v);
  const r = resolveName(spec, v, xen);
  if (r !== undefined) {
    if (spec.nameField !== undefined && op !== '==' && op !== '!=') fail(t.start, t.end, `'${op}' compares numbers: compare ${spec.path} with a number, or use == or != with a name`, 'a number', describe(t));
    return;
  }
  const names = spec.names;
  if (names === undefined) fail(t.start, t.end, `'${spec.path}' is a number, found ${describe(t)}`, 'a number', describe(t));
  const found = describe(t);
  // Hypercalls return errors negated.
  if (names === ERRNO_VALUE_NAMES && names.resolve(`-${text}`, xen) !== undefined) fail(t.start, t.end, `hypercalls return errors negated — did you mean '-${text}'?`, 'a negated errno', found);
  const labels = names.list(xen).map((i) => i.label);
  const near = closestName(text, labels);
  const all = labels.length <= 16 ? ` (one of ${labels.join(', ')})` : '';
  fail(t.start, t.end, `unknown ${names.what} ${found}${near === undefined ? all : ` — did you mean '${near}'?`}`, article(names.what), found);
}

export type ParseResult = { ok: true; filter: Filter } | { ok: false; error: FilterError };

/** Parses a filter; every field and name is checked, so a filter that parses compiles. */
export function parseFilter(text: string, opts: FilterOptions = {}): ParseResult {
  const xen = opts.xen ?? '4';
  try {
    return { ok: true, filter: { text, expr: new Parser(text, xen).parse(), xen } };
  } catch (e) {
    if (e instanceof ParseFailure) return { ok: false, error: e.error };
    throw e;
  }
}

/** Where parsing of `text` stands at its end: what may come next. Undefined when the text has an error first. */
export function positionAtEnd(text: string, xen: FilterXen): FilterPosition | undefined {
  try {
    new Parser(text, xen, true).parse();
  } catch (e) {
    if (e instanceof CompletionPoint) return e.position;
    if (e instanceof ParseFailure) return undefined;
    throw e;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Printer

const PRECEDENCE: Readonly<Record<FilterExpr['type'], number>> = { all: 3, or: 0, and: 1, not: 2, present: 3, compare: 3, contains: 3, matches: 3 };

/** A bare word that reads back as the same name (else the value is quoted). */
export function isBareWord(s: string): boolean {
  return /^-?[A-Za-z_][A-Za-z0-9_.-]*$/.test(s) && !KEYWORDS.has(s.toLowerCase());
}

function printValue(v: FilterValue): string {
  if (v.type === 'number') return String(v.value);
  if (v.type === 'name') return v.name;
  return JSON.stringify(v.value);
}

/** The filter as text, with the fewest parentheses that keep its tree: parseFilter(printFilter(e)) gives e back. */
export function printFilter(e: FilterExpr): string {
  return print(e, 0);
}

function print(e: FilterExpr, min: number): string {
  let s: string;
  switch (e.type) {
    case 'all':
      return '';
    case 'or':
      s = `${print(e.left, 0)} || ${print(e.right, 1)}`;
      break;
    case 'and':
      s = `${print(e.left, 1)} && ${print(e.right, 2)}`;
      break;
    case 'not':
      s = `!${print(e.expr, 2)}`;
      break;
    case 'present':
      return e.field;
    case 'compare':
      return `${e.field}${e.op}${printValue(e.value)}`;
    case 'contains':
      return `${e.field} ~ ${JSON.stringify(e.text)}`;
    case 'matches':
      return `${e.field} ~ /${e.pattern}/${e.flags}`;
  }
  return PRECEDENCE[e.type] < min ? `(${s})` : s;
}
