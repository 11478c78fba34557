// The top-level expect block: checked when the steps are done, each failure reported where it is
// written (consoles, ports, counters, trace counts with the filter language), and refused with a
// position when it is written wrong.
import { describe, expect, it } from 'vitest';
import { ScenarioInputError, type Problem } from '../../src/scenario/errors.js';
import { Execution } from '../../src/scenario/execution.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const HEAD = `name: e
domains:
  - name: dom0
  - name: guest
  - name: mini
    kernel: minios
steps:
  - { as: guest, op: alloc_unbound, args: { dom: DOMID_SELF, remote_dom: dom0 }, save: { port: gport } }
  - { as: dom0, op: bind_interdomain, args: { remote_dom: guest, remote_port: $gport }, save: { local_port: dport } }
  - { as: dom0, op: send, args: { port: $dport }, repeat: 3, every: 1ms }
  - run: 5ms
expect:
`;

function run(expectBlock: string) {
  return runScenario(loadScenario('e.yaml', HEAD + expectBlock));
}

function problems(text: string): Problem[] {
  try {
    loadScenario('e.yaml', text);
  } catch (e) {
    if (e instanceof ScenarioInputError) return e.problems;
    throw e;
  }
  throw new Error('expected the scenario to be refused');
}

describe('the final expect block', () => {
  it('holds when everything written holds', () => {
    const r = run(`  consoles:
    mini: { contains: ["Mini-OS", "minios> "], not_contains: panic, matches: "^console: initialised on port \\\\d+$", lines: { min: 5 } }
    dom0: { contains: "dom0#" }
  ports:
    - { domain: guest, port: $gport, state: interdomain, delivered: 3, pending: false }
  counters:
    guest: { upcalls: 3, hypercalls: 1, sends: 0, deliveries: { $gport: 3 } }
    2: { deliveries: { min: 1 } }
  trace:
    - { filter: "kind==upcall && dom==1", count: 3 }
    - { filter: "op==send && dom==0", count: { min: 3 } }
`);
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('reports each difference at file:line:col with its path, saying expected and found', () => {
    const r = run(`  consoles:
    mini: { contains: "kernel panic", not_contains: "minios>", lines: 2 }
  ports:
    - { domain: guest, port: $gport, delivered: 2 }
  counters:
    guest: { upcalls: { max: 1 } }
  trace:
    - { filter: "kind==handler && dom==1", count: { min: 4 } }
`);
    expect(r.ok).toBe(false);
    expect(r.failures.map((f) => [f.path, f.line, f.message.replace(/, found ".*$/s, ', found …')])).toEqual([
      ['expect.consoles.mini.contains', 14, `mini's console: expected to contain "kernel panic", found …`],
      ['expect.consoles.mini.not_contains', 14, `mini's console: expected not to contain "minios>", found it in "minios> "`],
      ['expect.consoles.mini.lines', 14, "mini's console lines: expected 2, found 10"],
      ['expect.ports[0].delivered', 16, 'delivered: expected 2, found 3'],
      ['expect.counters.guest.upcalls', 18, "guest's upcalls: expected at most 1, found 3"],
      ['expect.trace[0].count', 20, 'trace records matching kind==handler && dom==1: expected at least 4, found 3'],
    ]);
    // Step results are untouched: the steps themselves all held.
    expect(r.steps.every((s) => s.ok)).toBe(true);
  });

  it('is compared in the unit that ends the last step (and at once without steps)', () => {
    const e = new Execution(loadScenario('e.yaml', `${HEAD}  counters:\n    guest: { upcalls: 99 }\n`));
    while (!e.scriptDone) {
      expect(e.result().failures).toEqual([]);
      e.next();
    }
    expect(e.result().failures.map((f) => f.path)).toEqual(['expect.counters.guest.upcalls']);
    const none = new Execution(loadScenario('n.yaml', 'name: n\ndomains: [{ name: dom0 }]\nexpect:\n  trace: [ { filter: "kind==domain && event==create", count: 1 } ]\n'));
    expect(none.scriptDone).toBe(true);
    expect(none.result().ok).toBe(true);
  });
});

describe('the checker on the final expect block', () => {
  const at = (text: string) => problems(HEAD + text).map((p) => [p.path, p.line, p.col, p.message, p.hint]);

  it('points a filter error at its column inside the text', () => {
    expect(at('  trace:\n    - { filter: "kind==upcal", count: 1 }\n')[0]!.slice(0, 4)).toEqual(['expect.trace[0].filter', 14, 24, "in the filter, unknown record kind 'upcal' — did you mean 'upcall'?"]);
  });

  it('refuses an unknown domain, with a suggestion', () => {
    expect(at('  consoles:\n    mnii: { contains: x }\n')[0]!.slice(0, 5)).toEqual(['expect.consoles.mnii', 14, 5, 'unknown domain "mnii"', 'did you mean "mini"?']);
  });

  it('refuses a count that is not a count, a range upside down, a bad regular expression, an unknown key', () => {
    expect(at('  counters:\n    guest: { upcalls: many }\n')[0]![3]).toBe('expected how many: a whole number >= 0 or { min, max }, found "many"');
    expect(at('  counters:\n    guest: { upcalls: { min: 5, max: 2 } }\n')[0]![3]).toBe('min 5 is more than max 2');
    expect(at('  consoles:\n    mini: { matches: "[x" }\n')[0]!.slice(0, 1)).toEqual(['expect.consoles.mini.matches']);
    expect(at('  countrs:\n    guest: { upcalls: 1 }\n')[0]!.slice(3)).toEqual(['unknown key "countrs" in the expect block', 'did you mean "counters"?']);
  });

  it('refuses a $name no step saves, in a port check or a deliveries key', () => {
    expect(at('  ports:\n    - { domain: guest, port: $nope, pending: false }\n')[0]!.slice(0, 1)).toEqual(['expect.ports[0].port']);
    expect(at('  counters:\n    guest: { deliveries: { $nope: 1 } }\n')[0]![3]).toBe('$nope is not saved by any earlier step');
  });
});
