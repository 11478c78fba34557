import { describe, expect, it } from 'vitest';
import { ScenarioInputError, type Problem } from '../../src/scenario/errors.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const TOPOLOGY = `name: t
domains:
  - name: dom0
  - name: guest
    vcpus: 2
steps:
`;

function problems(text: string): Problem[] {
  try {
    loadScenario('s.yaml', text);
  } catch (e) {
    if (e instanceof ScenarioInputError) return e.problems;
    throw e;
  }
  throw new Error('expected the scenario to be refused');
}

function run(steps: string) {
  return runScenario(loadScenario('s.yaml', TOPOLOGY + steps));
}

describe('the step form checker', () => {
  it('points a YAML syntax error at its line and column', () => {
    const [p] = problems('name: x\ndomains: [\n  - name: dom0\n');
    expect(p).toMatchObject({ file: 's.yaml', line: 3, col: 3 });
  });

  it('suggests the op a misspelt op name meant, at the op value', () => {
    const ps = problems(`${TOPOLOGY}  - { as: guest, op: alloc_unbond, args: { remote_dom: dom0 } }\n`);
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatchObject({ line: 7, path: 'steps[0].op', hint: 'did you mean "alloc_unbound"?' });
  });

  it('suggests the domain a misspelt domain name meant', () => {
    const [p] = problems(`${TOPOLOGY}  - { as: guset, op: bind_ipi }\n`);
    expect(p).toMatchObject({ path: 'steps[0].as', message: 'unknown domain "guset"', hint: 'did you mean "guest"?' });
  });

  it('refuses an unknown argument key and names the missing one', () => {
    const ps = problems(`${TOPOLOGY}  - { as: dom0, op: bind_interdomain, args: { remote_dom: guest, remote_prot: 1 } }\n`);
    expect(ps.map((p) => p.path)).toEqual(['steps[0].args.remote_prot', 'steps[0].args.remote_port']);
    expect(ps[0]!.hint).toBe('did you mean "remote_port"?');
  });

  it('refuses a $name that no earlier step saves', () => {
    const [p] = problems(`${TOPOLOGY}  - { as: dom0, op: send, args: { port: $p } }\n  - { as: guest, op: bind_ipi, save: { port: p } }\n`);
    expect(p).toMatchObject({ path: 'steps[0].args.port', message: '$p is not saved by any earlier step' });
  });

  it('refuses an unknown errno name in expect.ret', () => {
    const [p] = problems(`${TOPOLOGY}  - { as: dom0, op: send, args: { port: 1 }, expect: { ret: -EINVALL } }\n`);
    expect(p!.path).toBe('steps[0].expect.ret');
    expect(p!.hint).toBe('did you mean "EINVAL"?');
  });

  it('refuses a step that does two things', () => {
    const [p] = problems(`${TOPOLOGY}  - { run: 1ms, pause: guest }\n`);
    expect(p!.message).toMatch(/does one thing/);
  });

  it('refuses numbers out of a field range and non-integers', () => {
    const ps = problems(`${TOPOLOGY}  - { as: dom0, op: alloc_unbound, args: { dom: 70000, remote_dom: 0 } }\n  - { as: dom0, op: send, args: { port: 1.5 } }\n`);
    expect(ps.map((p) => p.path)).toEqual(['steps[0].args.dom', 'steps[1].args.port']);
  });

  it('refuses a domain id the scenario does not have as a caller', () => {
    const [p] = problems(`${TOPOLOGY}  - { as: 7, op: bind_ipi }\n`);
    expect(p!.message).toBe('no domain has id 7');
  });

  it('refuses a top-level key it does not know, with a suggestion', () => {
    const [p] = problems(`name: t\nabbi: fifo\ndomains: [{ name: dom0 }]\n`);
    expect(p).toMatchObject({ line: 2, col: 1, path: 'abbi', hint: 'did you mean "abi"?' });
  });

  it('reports every problem of a document, not only the first', () => {
    const ps = problems(`${TOPOLOGY}  - { as: x, op: y }\n  - { run: soon }\n  - { check: { domain: guest, port: 1, pendng: true } }\n`);
    expect(ps.length).toBeGreaterThanOrEqual(3);
  });
});

describe('the step form runner', () => {
  it('saves a result field and uses it in a later step', () => {
    const r = run(`  - { as: guest, op: alloc_unbound, args: { remote_dom: dom0 }, save: { port: g } }
  - { as: dom0, op: bind_interdomain, args: { remote_dom: guest, remote_port: $g }, expect: { ret: 0, local_port: 1 } }
  - { as: guest, op: status, args: { port: $g }, expect: { status: interdomain, u: { interdomain: { dom: dom0, port: 1 } } } }
`);
    expect(r.failures).toEqual([]);
  });

  it('reports a failed expectation at the expected value, with expected and found', () => {
    const r = run(`  - { as: dom0, op: send, args: { port: 1 }, expect: { ret: 0 } }\n`);
    expect(r.ok).toBe(false);
    expect(r.failures[0]).toMatchObject({ line: 7, path: 'steps[0].expect.ret', expected: 0, message: 'ret: expected 0, found -EINVAL' });
  });

  it('compares only the keys written in a check', () => {
    const r = run(`  - { as: guest, op: bind_ipi, args: { vcpu: 1 } }
  - { check: { domain: guest, port: 1, state: ipi, vcpu: 1 } }
  - { check: { domain: guest, vcpu: 1, upcall_mask: false } }
`);
    expect(r.failures).toEqual([]);
  });

  it('delivers upcalls only when time advances', () => {
    const r = run(`  - { as: guest, op: bind_ipi, save: { port: p } }
  - { as: guest, op: send, args: { port: $p } }
  - { check: { domain: guest, port: $p, pending: true, delivered: 0 } }
  - { run: 10us }
  - { check: { domain: guest, port: $p, pending: false, delivered: 1 } }
`);
    expect(r.failures).toEqual([]);
  });

  it('fails, rather than crashes, when a saved value was never produced', () => {
    const r = run(`  - { as: guest, op: bind_virq, args: { virq: 99 }, save: { port: p } }
  - { as: guest, op: send, args: { port: $p } }
`);
    expect(r.ok).toBe(false);
    expect(r.failures.map((f) => f.path)).toEqual(['steps[0].save.port', 'steps[1].args.port']);
  });

  it('refuses a step as a domain that has been destroyed', () => {
    const r = run(`  - destroy: guest\n  - { as: guest, op: bind_ipi }\n`);
    expect(r.failures[0]!.message).toMatch(/does not exist/);
  });
});

const XEN2 = `name: t
xen: "2.0"
domains:
  - name: dom0
  - name: plan9
    kernel: plan9
  - name: bare
steps:
`;

describe('shutdown in Xen 2.0: through xend', () => {
  it("takes xend's reasons (halt goes out as poweroff) and refuses the hypervisor-only ones", () => {
    expect(() => loadScenario('s.yaml', `${XEN2}  - shutdown: { domain: plan9, reason: halt }\n`)).not.toThrow();
    const ps = problems(`${XEN2}  - shutdown: { domain: plan9, reason: crash }\n`);
    expect(ps).toHaveLength(1);
    expect(ps[0]!.message).toMatch(/poweroff, reboot, suspend, halt/);
    const p4 = problems(`${TOPOLOGY}  - shutdown: { domain: guest, reason: halt }\n`);
    expect(p4[0]!.message).toMatch(/poweroff, reboot, suspend, crash, watchdog, soft_reset/);
  });

  it('reads sched_shutdown reasons by name or code, with a hint for a misspelt one', () => {
    const sc = loadScenario('s.yaml', `${XEN2}  - { as: bare, op: sched_shutdown, args: { reason: reboot } }\n  - { as: bare, op: sched_shutdown, args: { reason: 200 } }\n`);
    const args = sc.steps.map((s) => (s.kind === 'hypercall' ? (s.args.get('reason') as { value?: number }).value : undefined));
    expect(args).toEqual([1, 200]);
    expect(problems(`${XEN2}  - { as: bare, op: sched_shutdown, args: { reason: rebot } }\n`)[0]).toMatchObject({ hint: 'did you mean "reboot"?' });
    expect(problems(`${XEN2}  - { as: bare, op: sched_shutdown, args: { reason: 256 } }\n`)[0]!.message).toMatch(/0 to 255/);
    // Xen 4 has no sched_shutdown op in its table.
    expect(problems(`${TOPOLOGY}  - { as: guest, op: sched_shutdown, args: { reason: 0 } }\n`)[0]!.message).toMatch(/unknown op/);
  });

  it('sends CMSG_SHUTDOWN on the control channel instead of stopping the domain; the guest does the rest', () => {
    const r = runScenario(loadScenario('s.yaml', `${XEN2}  - run: 5ms\n  - shutdown: { domain: plan9, reason: reboot }\n    save: { id: req }\n`));
    expect(r.failures).toEqual([]);
    expect(r.steps[1]).toMatchObject({ action: 'shutdown', ret: '0', out: { id: 1 } });
    const d = r.hv.domain(1)!;
    expect(d.state).toBe('running'); // Xen has not been asked anything yet
    expect(new DataView(d.sharedInfo.buffer).getUint32(2048 + 1032, true)).toBe(1); // rx_req_prod: xend's request is on the ring
    r.hv.run(20_000_000);
    expect(r.hv.domain(1)).toBeUndefined();
  });

  it('fails for a domain without a control channel, naming the ways that work', () => {
    const r = runScenario(loadScenario('s.yaml', `${XEN2}  - shutdown: bare\n`));
    expect(r.ok).toBe(false);
    expect(r.failures[0]).toMatchObject({ path: 'steps[0].shutdown' });
    expect(r.failures[0]!.message).toMatch(/bare has no control channel.*sched_shutdown/);
    expect(r.hv.domain(2)!.state).toBe('running');
  });

  it('keeps a console readable after its domain was reaped', () => {
    const r = runScenario(
      loadScenario('s.yaml', `${XEN2}  - run: 5ms\n  - shutdown: plan9\n  - run: 20ms\n  - check: { domain: plan9, console: "power off" }\n  - check: { domain: plan9, port: 1, state: free }\n`),
    );
    expect(r.failures.map((f) => f.message)).toEqual(['domain 1 does not exist (any more)']);
  });
});

const MINIOS = `name: m
domains:
  - name: dom0
  - name: mini
    kernel: minios
  - name: bare
steps:
`;

describe('kernel: minios (the modern control path)', () => {
  it('is refused under Xen 2.0 and for dom0, with a hint', () => {
    const ps = problems(MINIOS.replace('domains:', 'xen: "2.0"\ndomains:'));
    expect(ps).toHaveLength(1);
    expect(ps[0]!.message).toMatch(/minios kernel boots on a modern Xen/);
    expect(ps[0]!.hint).toMatch(/remove xen: "2.0"/);
    const p0 = problems(MINIOS.replace('  - name: dom0\n', '  - name: dom0\n    kernel: minios\n'));
    expect(p0.map((p) => p.message)).toContain('dom0 runs the toolstack (xenstored, xenconsoled), not minios');
  });

  it('boots with its console collected, takes typed input, and leaves other guests without a console', () => {
    const r = runScenario(
      loadScenario(
        's.yaml',
        `${MINIOS}  - run: 5ms\n  - type: { domain: mini, text: "evtchn\\r" }\n  - run: 5ms\n  - check: { domain: mini, console: "port 2: interdomain dom0" }\n  - type: { domain: bare, text: "x" }\n`,
      ),
    );
    expect(r.failures.map((f) => f.message)).toEqual(['bare has no console to type at (give it kernel: minios, or kernel: plan9 under xen: "2.0"; dom0\'s console runs a shell)']);
    expect(r.steps[1]).toMatchObject({ action: 'type', ret: '0', out: { accepted: 7 } });
    expect(Object.keys(r.consoles)).toEqual(['dom0', 'mini']);
    expect(r.consoles.mini).toContain('Xen Minimal OS');
    expect(r.consoles.mini).toContain('evtchn\r\nport 1: interdomain dom0 port 1');
  });
});
