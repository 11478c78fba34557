/**
 * Trace filters (src/core/sim/filter.ts): parsing with precedence and exact
 * error positions and suggestions, evaluation against the records real
 * example scenarios produce (each filter checked against a plain-JS oracle
 * over the same records), completion, "filter by this field" round trips,
 * and property tests (print then parse gives the tree back; &&, ||, ! and !=
 * mean what they say on real records).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OPS, type ArgName } from '../../src/core/hv/hypercall.js';
import { OPS_XEN2 } from '../../src/core/hv/hypercall_xen2.js';
import { compileFilter, fieldFilter, type CompareOp, filterCompletions, formatFilterError, lookupField, parseFilter, printFilter, type Filter, type FilterExpr, type FilterOptions } from '../../src/core/sim/filter.js';
import { HYPERCALL_OP_ITEMS } from '../../src/core/sim/filter_fields.js';
import { TraceStore, type TraceRecord } from '../../src/core/sim/trace.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');
const ROOT = join(import.meta.dirname, '../..');

interface Run {
  name: string;
  xen: '2.0' | '4';
  records: TraceRecord[];
}

/** Every example scenario run once, its trace decoded. */
const RUNS: Run[] = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => {
    const sc = loadScenario(f, readFileSync(join(SCENARIOS, f), 'utf8'));
    const store = new TraceStore();
    runScenario(sc, { onMachine: (hv) => void hv.trace.subscribe(store.subscriber) });
    return { name: f, xen: sc.xen, records: [...store.records()] };
  });
const MODERN = RUNS.filter((r) => r.xen === '4').flatMap((r) => r.records);
const XEN2 = RUNS.filter((r) => r.xen === '2.0').flatMap((r) => r.records);

function parsed(text: string, opts?: FilterOptions): Filter {
  const r = parseFilter(text, opts);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(text)} to parse:\n${formatFilterError(text, r.error)}`);
  return r.filter;
}

function exprOf(text: string): FilterExpr {
  return parsed(text).expr;
}

function select(text: string, records: readonly TraceRecord[], opts?: FilterOptions): TraceRecord[] {
  const p = compileFilter(parsed(text, opts));
  return records.filter((r) => p(r));
}

/** The records an oracle picks; the filter must pick exactly those, and there must be some. */
function expectSelects(text: string, oracle: (r: TraceRecord) => boolean, records: readonly TraceRecord[] = MODERN, opts?: FilterOptions): void {
  const want = records.filter(oracle);
  expect(want.length, `the oracle for ${text} picks no record: the check would prove nothing`).toBeGreaterThan(0);
  expect(select(text, records, opts).map((r) => r.seq + ':' + r.kind)).toEqual(want.map((r) => r.seq + ':' + r.kind));
}

type AnyRecord = Record<string, unknown>;
const field = (r: TraceRecord, k: string): unknown => (r as unknown as AnyRecord)[k];
/** The oracle's idea of a record's port: a hypercall's from args.port, args.local_port, out.port or out.local_port. */
const portOf = (r: TraceRecord): unknown => (r.kind === 'hypercall' ? (r.args.port ?? r.args.local_port ?? r.out?.port ?? r.out?.local_port) : field(r, 'port'));

// ---------------------------------------------------------------------------

describe('parseFilter: the tree', () => {
  it('binds comparisons tighter than !, ! tighter than &&, && tighter than ||; && and || group left', () => {
    expect(exprOf('dom==1 || dom==2 && !port')).toEqual({
      type: 'or',
      left: { type: 'compare', field: 'dom', op: '==', value: { type: 'number', value: 1 } },
      right: {
        type: 'and',
        left: { type: 'compare', field: 'dom', op: '==', value: { type: 'number', value: 2 } },
        right: { type: 'not', expr: { type: 'present', field: 'port' } },
      },
    });
    expect(exprOf('vcpu && port && virq')).toEqual({
      type: 'and',
      left: { type: 'and', left: { type: 'present', field: 'vcpu' }, right: { type: 'present', field: 'port' } },
      right: { type: 'present', field: 'virq' },
    });
    expect(exprOf('!port==5')).toEqual({ type: 'not', expr: { type: 'compare', field: 'port', op: '==', value: { type: 'number', value: 5 } } });
    expect(exprOf('(dom==1 || dom==2) && port')).toMatchObject({ type: 'and', left: { type: 'or' }, right: { type: 'present' } });
  });

  it('reads and, or, not (any case) as &&, ||, !', () => {
    expect(exprOf('not dom==0 and (port or VIRQ)'.replace('VIRQ', 'virq'))).toEqual(exprOf('!dom==0 && (port || virq)'));
    expect(exprOf('dom==0 AND port OR virq')).toEqual(exprOf('dom==0 && port || virq'));
  });

  it('reads numbers in decimal and hex, negative, and durations in ns', () => {
    const v = (text: string): unknown => (exprOf(text) as { value: unknown }).value;
    expect(v('frame==0x1f')).toEqual({ type: 'number', value: 31 });
    expect(v('ret==-22')).toEqual({ type: 'number', value: -22 });
    expect(v('dom!=-0x10')).toEqual({ type: 'number', value: -16 });
    expect(v('t>1ms')).toEqual({ type: 'number', value: 1_000_000 });
    expect(v('t>=1.5us')).toEqual({ type: 'number', value: 1500 });
    expect(v('t<2s')).toEqual({ type: 'number', value: 2e9 });
    expect(v('t<=250ns')).toEqual({ type: 'number', value: 250 });
    expect(v('args.period_ns==10ms')).toEqual({ type: 'number', value: 10_000_000 });
  });

  it('keeps names and quoted text as written', () => {
    expect(exprOf('op==send')).toEqual({ type: 'compare', field: 'op', op: '==', value: { type: 'name', name: 'send' } });
    expect(exprOf('ret!=-EINVAL')).toEqual({ type: 'compare', field: 'ret', op: '!=', value: { type: 'name', name: '-EINVAL' } });
    expect(exprOf('name=="a \\"b\\"\\n"')).toEqual({ type: 'compare', field: 'name', op: '==', value: { type: 'string', value: 'a "b"\n' } });
    expect(exprOf('text ~ "Mini-OS"')).toEqual({ type: 'contains', field: 'text', text: 'Mini-OS' });
    expect(exprOf('text ~ xenstore')).toEqual({ type: 'contains', field: 'text', text: 'xenstore' });
    expect(exprOf('text~/lo+k\\/up/i')).toEqual({ type: 'matches', field: 'text', pattern: 'lo+k\\/up', flags: 'i' });
    expect(exprOf('args.source.ref==9')).toMatchObject({ field: 'args.source.ref' });
  });

  it('takes an empty filter (or only spaces) as "every record"', () => {
    expect(exprOf('')).toEqual({ type: 'all' });
    expect(exprOf('   ')).toEqual({ type: 'all' });
  });
});

describe('parseFilter: errors say where, what was expected and found, and the likely fix', () => {
  const cases: [text: string, start: number, end: number, message: string, opts?: FilterOptions][] = [
    ['dom==1 && prot==5', 10, 14, "unknown field 'prot' — did you mean 'port'?"],
    ['args.remote_dmo==1', 5, 15, "unknown field 'remote_dmo' in 'args' — did you mean 'remote_dom'?"],
    ['op==sned', 4, 8, "unknown op 'sned' — did you mean 'send'?"],
    ['kind==upcal', 6, 11, "unknown record kind 'upcal' — did you mean 'upcall'?"],
    ['virq==VIRQ_TIMR', 6, 15, "unknown VIRQ 'VIRQ_TIMR' — did you mean 'VIRQ_TIMER'?"],
    ['virq==VIRQ_MISDIRECT', 6, 20, "unknown VIRQ 'VIRQ_MISDIRECT'"],
    ['ret==EINVAL', 5, 11, "hypercalls return errors negated — did you mean '-EINVAL'?"],
    ['ret==-EINVL', 5, 11, "unknown errno '-EINVL' — did you mean '-EINVAL'?"],
    ['state==unbond', 7, 13, "unknown port state 'unbond' — did you mean 'unbound'?"],
    ['by==hypervisor', 4, 14, "unknown writer 'hypervisor' (one of xen, guest)"],
    ['dom==1 &&', 9, 9, "expected a field after '&&', found end of filter"],
    ['dom==', 5, 5, "expected a value after '==', found end of filter"],
    ['(dom==1 || dom==2', 17, 17, "expected ')' to close the '(' at column 1, found end of filter"],
    ['dom==1)', 6, 7, "')' without a matching '('"],
    ['dom=1', 3, 4, "'=' is not an operator — did you mean '=='?"],
    ['dom==1 & port', 7, 8, "'&' is not an operator — did you mean '&&'?"],
    ['port 5', 5, 6, "expected an operator (==, !=, <, <=, >, >=, ~), '&&' or '||' after 'port', found '5'"],
    ['5==port', 0, 1, "expected a field, found '5' (put the field first: port==5)"],
    ['op<3', 2, 3, "'<' compares numbers, but 'op' is text: use ==, != or ~"],
    ['name==5', 6, 7, '\'name\' is text, found the number 5: quote it ("5") to compare text'],
    ['port==five', 6, 10, "'port' is a number, found 'five'"],
    ['port>1ms', 5, 8, "'port' takes a plain number, found '1ms' (only times take units)"],
    ['t>1xs', 2, 5, "unknown unit 'xs' in '1xs': use ns, us, ms or s"],
    ['args==1', 0, 4, "'args' has fields of its own: compare one of them, e.g. args.dom"],
    ['name=="guest', 6, 12, 'unterminated string: add the closing \'"\''],
    ['text~/(/', 5, 8, 'bad regular expression: Unterminated group'],
    ['text~/a/g', 5, 9, "regular expression flags may be i, m, s and u, found 'g'"],
    ['text~', 5, 5, 'expected text ("...") or a /regex/ after \'~\', found end of filter'],
    ['dom==1 || && port', 10, 12, "expected a field after '||', found '&&'"],
    ['port==/5/', 6, 7, "unexpected character '/' (a /regex/ comes only after '~')"],
    ['type<XS_READ', 5, 12, "'<' compares numbers: compare type with a number, or use == or != with a name"],
    ['args..port', 5, 6, "empty name in field 'args..port'"],
    ['port.x==1', 5, 6, "'port' has no fields (it is a number)"],
  ];
  for (const [text, start, end, message, opts] of cases) {
    it(`${text} → ${start}..${end}: ${message}`, () => {
      const r = parseFilter(text, opts);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.message).toBe(message);
      expect([r.error.start, r.error.end]).toEqual([start, end]);
    });
  }

  it('names expected and found separately, for the UI', () => {
    const r = parseFilter('dom==1 && prot==5');
    expect(r).toEqual({ ok: false, error: { start: 10, end: 14, message: "unknown field 'prot' — did you mean 'port'?", expected: 'a field', found: "'prot'" } });
    const end = parseFilter('dom==');
    expect(end.ok ? null : [end.error.expected, end.error.found]).toEqual(['a value', 'end of filter']);
  });

  it("resolves VIRQ names by the filter's Xen: VIRQ_MISDIRECT exists only in 2.0", () => {
    expect(parseFilter('virq==VIRQ_MISDIRECT', { xen: '2.0' }).ok).toBe(true);
    expect(parseFilter('virq==VIRQ_ARGO', { xen: '2.0' }).ok).toBe(false);
  });

  it('formats an error as the filter with carets under the fault and the message', () => {
    const text = 'dom==1 && prot==5';
    const r = parseFilter(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatFilterError(text, r.error)).toBe("dom==1 && prot==5\n          ^^^^ unknown field 'prot' — did you mean 'port'?");
    const end = parseFilter('dom==1 &&');
    if (!end.ok) expect(formatFilterError('dom==1 &&', end.error)).toBe("dom==1 &&\n         ^ expected a field after '&&', found end of filter");
  });
});

// ---------------------------------------------------------------------------

describe('compileFilter on the records of the example scenarios', () => {
  it('ran every example scenario, modern and Xen 2.0', () => {
    expect(RUNS.length).toBeGreaterThan(20);
    expect(MODERN.length).toBeGreaterThan(1000);
    expect(XEN2.length).toBeGreaterThan(100);
  });

  it('every field of every record is a known field path', () => {
    const unknown = new Set<string>();
    const walk = (v: unknown, path: string): void => {
      if (path !== '' && !lookupField(path).ok) unknown.add(path);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, m] of Object.entries(v)) walk(m, path === '' ? k : `${path}.${k}`);
    };
    for (const r of [...MODERN, ...XEN2]) walk(r, '');
    expect([...unknown]).toEqual([]);
  });

  it('compares numbers and names: kind, dom, vcpu, op', () => {
    expectSelects('kind==upcall && dom==1', (r) => r.kind === 'upcall' && r.dom === 1);
    expectSelects('kind==handler && vcpu>=1', (r) => r.kind === 'handler' && r.vcpu >= 1);
    expectSelects('op==bind_virq || op==push_requests', (r) => field(r, 'op') === 'bind_virq' || field(r, 'op') === 'push_requests');
    expectSelects('kind != bit && kind != xs_msg && dom < 2', (r) => r.kind !== 'bit' && r.kind !== 'xs_msg' && r.dom < 2);
  });

  it("reads a hypercall's port from args.port, args.local_port, out.port or out.local_port", () => {
    expectSelects('dom==1 && port==1 && op==send', (r) => r.kind === 'hypercall' && r.dom === 1 && r.op === 'send' && r.args.port === 1);
    expectSelects('port==3', (r) => portOf(r) === 3);
    expectSelects('kind==hypercall && port==1', (r) => r.kind === 'hypercall' && portOf(r) === 1);
    expectSelects('op==alloc_unbound && port==1', (r) => r.kind === 'hypercall' && r.op === 'alloc_unbound' && r.out?.port === 1);
    expectSelects('op==send && port==1', (r) => r.kind === 'hypercall' && r.op === 'send' && r.args.local_port === 1, XEN2, { xen: '2.0' });
  });

  it('reads args.*, out.* and ring idx.* paths, and other argument names from args then out', () => {
    expectSelects('args.remote_dom==0', (r) => r.kind === 'hypercall' && r.args.remote_dom === 0);
    expectSelects('remote_dom==0', (r) => (r.kind === 'hypercall' ? r.args.remote_dom : field(r, 'remote_dom')) === 0);
    expectSelects('out.port>=2', (r) => r.kind === 'hypercall' && typeof r.out?.port === 'number' && r.out.port >= 2);
    expectSelects('out.u.interdomain.dom==0', (r) => r.kind === 'hypercall' && (r.out?.u as { interdomain?: { dom: number } } | undefined)?.interdomain?.dom === 0);
    expectSelects('args.source.ref==9', (r) => r.kind === 'hypercall' && (r.args.source as { ref?: number } | undefined)?.ref === 9);
    expectSelects('args.dom==DOMID_SELF', (r) => r.kind === 'hypercall' && r.args.dom === 0x7ff0);
    expectSelects('status==GNTST_okay', (r) => r.kind === 'hypercall' && r.out?.status === 'GNTST_okay');
    expectSelects('out.status==GNTST_bad_gntref', (r) => r.kind === 'hypercall' && r.out?.status === 'GNTST_bad_gntref');
    expectSelects('idx.req_prod>0', (r) => r.kind === 'ring' && (r.idx.req_prod ?? 0) > 0);
    expectSelects('kind==ctrl_msg && idx==3', (r) => r.kind === 'ctrl_msg' && r.idx === 3, XEN2, { xen: '2.0' });
  });

  it('resolves Xen names: errno for ret, VIRQ (per Xen version), port states, message types', () => {
    expectSelects('ret==-EINVAL', (r) => r.kind === 'hypercall' && r.ret === '-EINVAL');
    expectSelects('ret<0', (r) => r.kind === 'hypercall' && r.ret.startsWith('-'));
    expectSelects('ret', (r) => r.kind === 'hypercall' && r.ret !== '0');
    expectSelects('virq==VIRQ_TIMER', (r) => field(r, 'virq') === 0 || (r.kind === 'hypercall' && r.args.virq === 0));
    expectSelects('virq==VIRQ_TIMER', (r) => field(r, 'virq') === 1 || (r.kind === 'hypercall' && r.args.virq === 1), XEN2, { xen: '2.0' });
    expectSelects('virq==TIMER', (r) => field(r, 'virq') === 0 || (r.kind === 'hypercall' && r.args.virq === 0));
    expectSelects('state==ECS_INTERDOMAIN', (r) => r.kind === 'port' && r.state === 'interdomain');
    expect(select('state==ECS_INTERDOMAIN', MODERN)).toEqual(select('state==interdomain', MODERN));
    expectSelects('type==XS_READ', (r) => r.kind === 'xs_msg' && r.type === 2);
    expectSelects('type==CMSG_CONSOLE && who==xend', (r) => r.kind === 'ctrl_msg' && r.type === 0 && r.who === 'xend', XEN2, { xen: '2.0' });
    expectSelects('subtype==CMSG_CONSOLE_DATA', (r) => r.kind === 'ctrl_msg' && r.type === 0 && r.subtype === 0, XEN2, { xen: '2.0' });
    expectSelects('type==2', (r) => (r.kind === 'xs_msg' || r.kind === 'ctrl_msg') && r.type === 2);
    expectSelects('field==evtchn_upcall_pending && value==1 && by==xen', (r) => r.kind === 'bit' && r.field === 'evtchn_upcall_pending' && r.value === 1 && r.by === 'xen');
  });

  it('compares times with durations', () => {
    expectSelects('t > 1ms && t <= 20ms', (r) => r.t > 1e6 && r.t <= 20e6);
  });

  it('~ finds text in any case; ~ /regex/ matches', () => {
    expectSelects('text ~ "MINIMAL os"', (r) => typeof field(r, 'text') === 'string' && (field(r, 'text') as string).toLowerCase().includes('minimal os'));
    expectSelects('text ~ /^\\/local\\/domain\\/\\d+$/', (r) => typeof field(r, 'text') === 'string' && /^\/local\/domain\/\d+$/.test(field(r, 'text') as string));
    expectSelects('ret ~ "EINVAL"', (r) => r.kind === 'hypercall' && r.ret === '-EINVAL');
    expectSelects('op ~ /^bind_/', (r) => typeof field(r, 'op') === 'string' && (field(r, 'op') as string).startsWith('bind_'));
  });

  it('a record lacking a field matches no comparison on it, except != (which is !(==))', () => {
    expect(select('remote_port<1000000', MODERN).every((r) => r.kind === 'port' || r.kind === 'hypercall')).toBe(true);
    expect(select('text ~ ""', MODERN).every((r) => typeof field(r, 'text') === 'string')).toBe(true);
    expectSelects('port!=1', (r) => portOf(r) !== 1);
    expect(select('kind==upcall && port!=1', MODERN).length).toBe(MODERN.filter((r) => r.kind === 'upcall').length);
    expectSelects('port && port!=1', (r) => typeof portOf(r) === 'number' && portOf(r) !== 0 && portOf(r) !== 1);
  });

  it('an empty filter matches every record', () => {
    expect(select('', MODERN).length).toBe(MODERN.length);
  });
});

// ---------------------------------------------------------------------------

describe('filterCompletions', () => {
  const labels = (text: string, caret = text.length): { from: number; labels: string[] } => {
    const c = filterCompletions(text, caret);
    return { from: c.from, labels: c.items.map((i) => i.label) };
  };

  it('offers fields at a field position, those starting with the typed text first', () => {
    const all = labels('');
    expect(all.from).toBe(0);
    expect(all.labels.slice(0, 6)).toEqual(['kind', 'dom', 'vcpu', 'port', 'op', 'ret']);
    expect(labels('dom==1 && po')).toEqual({ from: 10, labels: ['port', 'port1', 'port2', 'remote_port', 'local_port'] });
    expect(labels('(!vc').labels).toEqual(['vcpu']);
    expect(filterCompletions('', 0).items[0]).toEqual({ label: 'kind', detail: 'record kind' });
  });

  it('offers the members of an object after its dot', () => {
    expect(labels('args.').from).toBe(5);
    expect(labels('args.').labels).toContain('remote_dom');
    expect(labels('args.re')).toEqual({ from: 5, labels: ['remote_dom', 'remote_port', 'ref', 'reason'] });
    expect(labels('args.source.').labels).toEqual(['ref', 'gmfn', 'domid', 'offset']);
    expect(labels('idx.req').labels).toEqual(['req_prod', 'req_event', 'req_cons']);
  });

  it('offers operators after a field, by its type', () => {
    expect(labels('dom ')).toEqual({ from: 4, labels: ['==', '!=', '<', '<=', '>', '>=', '&&', '||'] });
    expect(labels('op ').labels).toEqual(['==', '!=', '~', '&&', '||']);
    expect(labels('dom =')).toEqual({ from: 4, labels: ['=='] });
    expect(labels('dom !')).toEqual({ from: 4, labels: ['!='] });
  });

  it("offers the field's named values after an operator", () => {
    expect(labels('kind==').labels).toEqual(['hypercall', 'bit', 'upcall', 'handler', 'port', 'raise', 'grant_entry', 'ring', 'domain', 'note', 'ctrl_msg', 'xs_msg', 'cons', 'fault']);
    const se = labels('op==se');
    expect(se.from).toBe(4);
    expect(se.labels.slice(0, 4)).toEqual(['send', 'set_priority', 'set_periodic_timer', 'set_virq_handler']);
    expect(se.labels.slice(4)).toEqual(expect.arrayContaining(['close', 'gnttab_setup_table', 'push_responses']));
    expect(labels('dom==1 && virq == TIM')).toEqual({ from: 18, labels: ['VIRQ_TIMER'] });
    expect(labels('ret==-EIN').labels).toEqual(['-EINVAL']);
    expect(labels('state!=').labels).toEqual(['free', 'reserved', 'unbound', 'interdomain', 'pirq', 'virq', 'ipi']);
    expect(labels('field==fifo_l').labels).toEqual(['fifo_linked', 'fifo_link']);
    expect(labels('type==XS_TR').labels).toEqual(['XS_TRANSACTION_START', 'XS_TRANSACTION_END']);
    expect(filterCompletions('virq==', 6, { xen: '2.0' }).items[0]?.label).toBe('VIRQ_MISDIRECT');
    expect(filterCompletions('virq==VIRQ_TI', 13).items).toEqual([{ label: 'VIRQ_TIMER', detail: '0: the vCPU timer fired' }]);
  });

  it("offers '&&', '||' (and ')' inside parentheses) after a condition", () => {
    expect(labels('dom==1 ')).toEqual({ from: 7, labels: ['&&', '||'] });
    expect(labels('(dom==1 ')).toEqual({ from: 8, labels: ['&&', '||', ')'] });
    expect(labels('dom==1 &')).toEqual({ from: 7, labels: ['&&'] });
  });

  it('completes at the caret, not at the end of the text', () => {
    expect(labels('kind== && dom==1', 6)).toEqual({ from: 6, labels: labels('kind==').labels });
    expect(labels('dom==1 && po && kind==upcall', 12).labels[0]).toBe('port');
  });

  it('offers nothing after an error earlier in the text', () => {
    expect(labels('prot==1 && ')).toEqual({ from: 11, labels: [] });
  });
});

// ---------------------------------------------------------------------------

/** Every path to a scalar or an object in a record, as the UI shows them. */
function paths(v: unknown, prefix = ''): string[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [prefix];
  const out = prefix === '' ? [] : [prefix];
  for (const [k, m] of Object.entries(v)) out.push(...paths(m, prefix === '' ? k : `${prefix}.${k}`));
  return out;
}

describe('fieldFilter', () => {
  it('writes the filter a user would: names where Xen has them, quotes where needed', () => {
    const byKind = (kind: string, records = MODERN): TraceRecord => records.find((r) => r.kind === kind)!;
    const send = MODERN.find((r) => r.kind === 'hypercall' && r.op === 'send')!;
    expect(fieldFilter(send, 'op')).toBe('op==send');
    expect(fieldFilter(send, 'port')).toBe(`port==${String(portOf(send))}`);
    const einval = MODERN.find((r) => r.kind === 'hypercall' && r.ret === '-EINVAL')!;
    expect(fieldFilter(einval, 'ret')).toBe('ret==-EINVAL');
    const timer = MODERN.find((r) => r.kind === 'raise' && r.virq === 0)!;
    expect(fieldFilter(timer, 'virq')).toBe('virq==VIRQ_TIMER');
    const timer2 = XEN2.find((r) => r.kind === 'port' && r.virq === 1)!;
    expect(fieldFilter(timer2, 'virq', { xen: '2.0' })).toBe('virq==VIRQ_TIMER');
    expect(fieldFilter(byKind('upcall'), 'port')).toBe('!port');
    const cons = byKind('cons');
    expect(fieldFilter(cons, 'text')).toBe(`text==${JSON.stringify((cons as { text: string }).text)}`);
    expect(fieldFilter(byKind('xs_msg'), 'type')).toMatch(/^type==XS_[A-Z_]+$/);
    const status = MODERN.find((r) => r.kind === 'hypercall' && r.op === 'status' && r.out !== undefined)!;
    expect(fieldFilter(status, 'args')).toMatch(/^\(args\.dom==DOMID_SELF && args\.port==\d+\)$/);
  });

  it('round-trips: for every field of every record, the filter parses, matches the record, and picks the records with that value', () => {
    for (const run of RUNS) {
      const opts = { xen: run.xen };
      // A sample of each run keeps this quick; every kind is in it.
      const sample = run.records.filter((r, i) => i % 7 === 0 || r.kind !== run.records[i - 1]?.kind);
      for (const r of sample) {
        for (const path of paths(r)) {
          const text = fieldFilter(r, path, opts);
          const p = parseFilter(text, opts);
          if (!p.ok) throw new Error(`${run.name} #${r.seq} ${path}: ${formatFilterError(text, p.error)}`);
          expect(compileFilter(p.filter)(r), `${run.name} #${r.seq}: ${text}`).toBe(true);
        }
      }
      // Selectivity: a top-level scalar field's filter picks exactly the records with the same value.
      const pick = compileFilter(parsed(fieldFilter(run.records[0]!, 'kind', opts), opts));
      expect(run.records.filter((r) => pick(r)).length).toBe(run.records.filter((r) => r.kind === run.records[0]!.kind).length);
    }
  });
});

// ---------------------------------------------------------------------------

describe('the field and name tables match the machine', () => {
  it("lists every hypercall op of today's and Xen 2.0's tables", () => {
    const machine = new Set([...OPS.keys(), ...OPS_XEN2.keys()]);
    expect(new Set(HYPERCALL_OP_ITEMS.map((i) => i.label))).toEqual(machine);
  });

  it('knows every argument and result name of every op', () => {
    for (const op of [...OPS.values(), ...OPS_XEN2.values()]) {
      for (const a of Object.keys(op.args) as ArgName[]) expect(lookupField(`args.${a}`).ok, `args.${a} (${op.name})`).toBe(true);
      for (const o of op.out) expect(lookupField(`out.${o}`).ok, `out.${o} (${op.name})`).toBe(true);
    }
  });

  it('the filter modules import only trace and ABI tables (the renderer loads them)', () => {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(join(ROOT, file), 'utf8');
      for (const m of src.matchAll(/^import (?!type )[^;]*? from '(\.[^']+)';$/gm)) {
        const target = join(file, '..', m[1]!.replace(/\.js$/, '.ts'));
        visit(target);
      }
    };
    visit('src/core/sim/filter.ts');
    const allowed = /^src\/core\/(abi\/[a-z0-9_]+|sim\/(filter|filter_fields|filter_syntax|trace)|util\/suggest)\.ts$/;
    expect([...seen].filter((f) => !allowed.test(f))).toEqual([]);
  });

  it("docs/filter.md's examples parse", () => {
    const doc = readFileSync(join(ROOT, 'docs/filter.md'), 'utf8');
    const examples = /```text\n([^`]*)```/.exec(doc)![1]!.trim().split('\n').map((line) => line.split(/\s{2,}/)[0]!);
    expect(examples.length).toBeGreaterThan(10);
    for (const e of examples) parsed(e);
  });

  it('docs/filter.md documents every field of the decoded records', () => {
    const doc = readFileSync(join(ROOT, 'docs/filter.md'), 'utf8');
    const recordFields = new Set([...MODERN, ...XEN2].flatMap((r) => Object.keys(r)));
    expect(recordFields.size).toBeGreaterThan(35);
    for (const f of recordFields) expect(doc, f).toContain(`\`${f}\``);
  });
});

// ---------------------------------------------------------------------------

const NUMBER_FIELDS = ['dom', 'vcpu', 'port', 'seq', 't', 'index', 'value', 'remote_dom', 'count', 'len', 'args.port', 'out.port', 'idx.req_prod', 'idx', 'type'];
const NAMED_VALUES: Readonly<Record<string, readonly string[]>> = {
  kind: ['hypercall', 'bit', 'upcall', 'handler', 'port', 'xs_msg'],
  op: ['send', 'bind_virq', 'alloc_unbound', 'push_requests', 'put'],
  state: ['unbound', 'interdomain', 'ECS_VIRQ', 'free'],
  virq: ['VIRQ_TIMER', 'VIRQ_DOM_EXC', 'TIMER'],
  ret: ['-EINVAL', '-ESRCH', '-EPERM'],
  dom: ['DOMID_SELF'],
  type: ['XS_READ', 'XS_WRITE', 'CMSG_CONSOLE'],
  by: ['xen', 'guest'],
};
const TEXT_FIELDS = ['text', 'name', 'ring', 'reason', 'out.status', 'type_name'];

const numberValue = fc.oneof(
  fc.integer({ min: -100, max: 5000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
);
const compareOp = fc.constantFrom<CompareOp>('==', '!=', '<', '<=', '>', '>=');

const condition: fc.Arbitrary<FilterExpr> = fc.oneof(
  fc.record({ type: fc.constant('present' as const), field: fc.constantFrom(...NUMBER_FIELDS, ...TEXT_FIELDS, 'args', 'out', 'ret') }),
  fc.record({ type: fc.constant('compare' as const), field: fc.constantFrom(...NUMBER_FIELDS), op: compareOp, value: numberValue.map((value) => ({ type: 'number' as const, value })) }),
  fc.constantFrom(...Object.keys(NAMED_VALUES)).chain((f) =>
    fc.record({
      type: fc.constant('compare' as const),
      field: fc.constant(f),
      op: fc.constantFrom<CompareOp>('==', '!='),
      value: fc.constantFrom(...NAMED_VALUES[f]!).chain((name) => fc.constantFrom({ type: 'name' as const, name }, { type: 'string' as const, value: name })),
    }),
  ),
  fc.record({ type: fc.constant('compare' as const), field: fc.constantFrom(...TEXT_FIELDS), op: fc.constantFrom<CompareOp>('==', '!='), value: fc.string().map((value) => ({ type: 'string' as const, value })) }),
  fc.record({ type: fc.constant('contains' as const), field: fc.constantFrom(...TEXT_FIELDS, ...NUMBER_FIELDS, 'op', 'kind'), text: fc.string({ maxLength: 6 }) }),
  fc.record({
    type: fc.constant('matches' as const),
    field: fc.constantFrom(...TEXT_FIELDS, 'op', 'kind'),
    pattern: fc.stringMatching(/^([a-z0-9_]{1,3}(\.\*|\+|\\d|\\\/)?[a-z]{0,2})?$/),
    flags: fc.constantFrom('', 'i', 'im', 'su'),
  }),
);

const expr: fc.Arbitrary<FilterExpr> = fc.letrec<{ e: FilterExpr }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    condition,
    fc.record({ type: fc.constant('and' as const), left: tie('e'), right: tie('e') }),
    fc.record({ type: fc.constant('or' as const), left: tie('e'), right: tie('e') }),
    fc.record({ type: fc.constant('not' as const), expr: tie('e') }),
  ),
})).e;

/** A few hundred records of every kind, from every run. */
const SAMPLE = RUNS.flatMap((run) => run.records.filter((_, i) => i % 23 === 0).map((r) => ({ r, xen: run.xen })));

describe('properties', () => {
  it('printing a tree and parsing the text gives the same tree', () => {
    fc.assert(
      fc.property(expr, (e) => {
        const text = printFilter(e);
        const p = parseFilter(text);
        if (!p.ok) throw new Error(formatFilterError(text, p.error));
        expect(p.filter.expr).toEqual(e);
      }),
      { numRuns: 400 },
    );
  });

  it('a && b, a || b, !a and f != v mean conjunction, disjunction, negation and !(f == v) on every sampled record', () => {
    const run = (text: string): ((r: TraceRecord) => boolean) => compileFilter(parsed(text));
    fc.assert(
      fc.property(expr, expr, (a, b) => {
        const [ta, tb] = [printFilter(a), printFilter(b)];
        const [pa, pb] = [run(ta), run(tb)];
        const and = run(`(${ta}) && (${tb})`);
        const or = run(`(${ta}) or (${tb})`);
        const not = run(`!(${ta})`);
        for (const { r } of SAMPLE) {
          expect(and(r)).toBe(pa(r) && pb(r));
          expect(or(r)).toBe(pa(r) || pb(r));
          expect(not(r)).toBe(!pa(r));
        }
      }),
      { numRuns: 150 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...NUMBER_FIELDS), fc.integer({ min: -2, max: 40 }), (f, v) => {
        const ne = run(`${f}!=${v}`);
        const eq = run(`${f}==${v}`);
        for (const { r } of SAMPLE) expect(ne(r)).toBe(!eq(r));
      }),
      { numRuns: 100 },
    );
  });
});
