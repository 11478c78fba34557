// Fault steps through the checker and the runner: a notification lost or late, a ring made full (a
// scenario ring by its frontend, a console ring by its driver), a backend in dom0 stalled, and what
// the checker says about each when it is written wrong.
import { describe, expect, it } from 'vitest';
import { TraceStore, type TraceRecord } from '../../src/core/sim/trace.js';
import { ScenarioInputError, type Problem } from '../../src/scenario/errors.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const MS = 1e6;

const TWO = `name: f
domains:
  - name: dom0
  - name: guest
  - name: mini
    kernel: minios
steps:
  - { as: guest, op: alloc_unbound, args: { dom: DOMID_SELF, remote_dom: dom0 }, save: { port: gport } }
  - { as: dom0, op: bind_interdomain, args: { remote_dom: guest, remote_port: $gport }, save: { local_port: dport } }
  - run: 1ms
`;

function run(steps: string, head = TWO) {
  const store = new TraceStore();
  const r = runScenario(loadScenario('f.yaml', head + steps), { onMachine: (hv) => void hv.trace.subscribe(store.subscriber) });
  const faults = [...store.records()].filter((x): x is Extract<TraceRecord, { kind: 'fault' }> => x.kind === 'fault');
  return { r, faults };
}

function problems(text: string): Problem[] {
  try {
    loadScenario('f.yaml', text);
  } catch (e) {
    if (e instanceof ScenarioInputError) return e.problems;
    throw e;
  }
  throw new Error('expected the scenario to be refused');
}

describe('lost and late notifications', () => {
  it('drop_notify: the send returns 0 but the guest never sees the event; the next one gets through', () => {
    const { r, faults } = run(`  - fault: { drop_notify: { domain: guest, port: $gport } }
  - { as: dom0, op: send, args: { port: $dport }, expect: { ret: 0 } }
  - run: 1ms
  - { check: { domain: guest, port: $gport, pending: false, delivered: 0 } }
  - { as: dom0, op: send, args: { port: $dport } }
  - run: 1ms
  - { check: { domain: guest, port: $gport, delivered: 1 } }
`);
    expect(r.failures).toEqual([]);
    expect(faults.map((f) => `${f.fault} ${f.event}`)).toEqual(['drop_notify armed', 'drop_notify dropped']);
  });

  it('delay_notify: the event arrives `by` later', () => {
    const { r } = run(`  - fault: { delay_notify: { domain: guest, port: $gport, by: 3ms } }
  - { as: dom0, op: send, args: { port: $dport } }
  - until: { port: { domain: guest, port: $gport, delivered: 1 } }
`);
    expect(r.failures).toEqual([]);
    const waited = r.steps.at(-1)!.out!.waited as number;
    expect(waited).toBeGreaterThanOrEqual(3 * MS);
    expect(waited).toBeLessThan(3 * MS + 10_000);
  });
});

describe('full rings', () => {
  const RING = `  - { as: guest, op: gnttab_setup_table, args: { dom: DOMID_SELF, nr_frames: 1 } }
  - { as: guest, ring_init: { ring: r, gfn: 1024 } }
  - { as: guest, grant_access: { ref: 8, domid: dom0, frame: 1024 } }
  - { as: dom0, op: gnttab_map_grant_ref, args: { host_addr: 0, flags: GNTMAP_host_map, ref: 8, dom: guest }, save: { handle: h } }
  - { as: dom0, ring_attach: { ring: r, handle: $h } }
`;

  it('fill_ring on a scenario ring: the frontend fills every slot and pushes; the next request does not fit', () => {
    const { r, faults } = run(`${RING}  - fault: { fill_ring: { ring: r, notify_port: $gport } }
    expect: { produced: 32, notify: true }
  - { as: guest, ring_request: { ring: r, count: 1 }, expect: { produced: 0 } }
  - run: 1ms
  - { as: dom0, ring_consume: { ring: r }, expect: { consumed: 32 } }
`);
    expect(r.failures).toEqual([]);
    expect(faults.at(-1)).toMatchObject({ fault: 'fill_ring', event: 'filled', count: 32, ring: 'r' });
  });

  it("fill_ring on Mini-OS's console: out[] is full, and xenconsoled drains it when it runs", () => {
    const { r } = run(`  - until: { console: { domain: mini, contains: "minios>" } }
  - fault: { fill_ring: { console: mini, text: "xy" } }
  - run: 1ms
  - check: { domain: mini, console: "xyxyxy" }
`);
    expect(r.failures).toEqual([]);
    expect(r.steps[4]!.out!.filled).toBeGreaterThan(1000);
  });

  it("fill_ring on Plan 9's console under Xen 2.0: the control interface's tx ring fills with CMSG_CONSOLE messages", () => {
    const { r } = run(
      `  - until: { console: { domain: plan9, contains: "root is from" } }
  - fault: { fill_ring: { console: plan9 } }
  - run: 5ms
  - check: { domain: plan9, console: "####" }
`,
      'name: p\nxen: "2.0"\ndomains:\n  - name: dom0\n  - name: plan9\n    kernel: plan9\nsteps:\n',
    );
    expect(r.failures).toEqual([]);
    expect(r.steps[1]!.out!.messages).toBeGreaterThan(0);
  });
});

describe('a stalled backend', () => {
  it('xenconsoled stalled: typed input and its answer wait until the stall ends, then all come through', () => {
    const { r, faults } = run(`  - until: { console: { domain: mini, matches: "^minios> $" } }
  - fault: { stall: { domain: mini, backend: console, for: 10ms } }
  - type: { domain: mini, text: "uptime\\r" }
  - until: { console: { domain: mini, contains: "uptime" }, timeout: 5ms }
  - until: { console: { domain: mini, contains: "uptime" }, timeout: 20ms }
`);
    expect(r.failures.map((f) => f.path)).toEqual(['steps[6].until.console']);
    const came = r.steps[7]!;
    expect(came.ok).toBe(true);
    expect(came.t + (came.out!.waited as number)).toBeGreaterThanOrEqual(r.steps[4]!.t + 10 * MS);
    expect(faults.map((f) => f.event)).toEqual(expect.arrayContaining(['stalled', 'resumed']));
  });

  it('a backend with no channel yet fails the step and says why', () => {
    const { r } = run('  - fault: { stall: { domain: mini, backend: block, for: 1ms } }\n');
    expect(r.failures[0]!.message).toBe("cannot stall mini's block backend: mini has no block channel to dom0 yet: its device connects through xenstore (wait for it with until: { xenbus: { ..., state: Connected } })");
  });
});

describe('the checker on faults', () => {
  const at = (steps: string, head = TWO) => problems(head + steps).map((p) => [p.path, p.message, p.hint]);

  it('suggests the fault a misspelling meant', () => {
    expect(at('  - fault: { drop_notfy: { domain: guest, port: 1 } }\n')[0]).toEqual(['steps[3].fault.drop_notfy', 'unknown key "drop_notfy" in a fault', 'did you mean "drop_notify"?']);
  });

  it('refuses two faults in a step, a count of 0, a delay without by', () => {
    expect(at('  - fault: { drop_notify: { domain: guest, port: 1 }, stall: { domain: mini, backend: console, for: 1ms } }\n')[0]![1]).toBe('a fault step injects one fault, found drop_notify and stall');
    expect(at('  - fault: { drop_notify: { domain: guest, port: 1, count: 0 } }\n')[0]!.slice(0, 2)).toEqual(['steps[3].fault.drop_notify.count', 'expected a number of notifications from 1 to 1000000, found 0']);
    expect(at('  - fault: { delay_notify: { domain: guest, port: 1 } }\n')[0]![1]).toMatch(/^delay_notify needs "by"/);
  });

  it("refuses a backend of the other Xen, and dom0's own", () => {
    expect(at('  - fault: { stall: { domain: mini, backend: xend, for: 1ms } }\n')[0]).toEqual(['steps[3].fault.stall.backend', 'expected a backend of today\'s Xen (console, xenstore, block, network), found "xend"', "xend is Xen 2.0's; today's backends are console, xenstore, block and network"]);
    expect(at('  - fault: { stall: { domain: dom0, backend: console, for: 1ms } }\n')[0]![1]).toBe('dom0 runs the backends: name the guest whose backend stalls');
  });

  it('fill_ring takes a ring or a console, not both', () => {
    expect(at('  - fault: { fill_ring: { ring: r, console: mini } }\n')[0]!.slice(0, 2)).toEqual(['steps[3].fault.fill_ring', 'give ring or console, not both']);
  });
});
