// TypeScript scenarios say what YAML says (until, at/repeat/every, faults, the final expect block),
// with positions in the .ts file; and a custom kernel on Xen 2.0 can take control messages from xend
// (onControlMessage), answering each with what it returns.
import { describe, expect, it } from 'vitest';
import { ScenarioInputError } from '../../src/scenario/errors.js';
import { runScenario } from '../../src/scenario/runner.js';
import { TsScenario } from '../../src/host/ts_scenario.js';

async function load(text: string): Promise<TsScenario> {
  return TsScenario.load('lab.ts', text);
}

describe('the TypeScript API mirrors the step form', () => {
  it('until, repeat/every, a fault and the final expect block run as in YAML', async () => {
    const ts = await load(`import { scenario } from 'xenlab';
export default scenario({
  name: 'lost notification',
  domains: [{ name: 'dom0' }, { name: 'guest' }],
  steps: [
    { as: 'guest', op: 'alloc_unbound', args: { dom: 'DOMID_SELF', remote_dom: 'dom0' }, save: { port: 'g' } },
    { as: 'dom0', op: 'bind_interdomain', args: { remote_dom: 'guest', remote_port: '$g' }, save: { local_port: 'd' } },
    { until: { port: { domain: 'guest', port: '$g', delivered: 0 } } },
    { fault: { drop_notify: { domain: 'guest', port: '$g' } } },
    { as: 'dom0', op: 'send', args: { port: '$d' }, repeat: 2, every: '1ms' },
    { run: '1ms', at: '5ms' },
  ],
  expect: { ports: [{ domain: 'guest', port: '$g', delivered: 1 }], trace: [{ filter: 'kind==fault && event==dropped', count: 1 }] },
});
`);
    const r = runScenario(ts.scenario, { kernels: ts.kernels() });
    expect(r.failures).toEqual([]);
    expect(r.steps.map((s) => s.action)).toEqual(['alloc_unbound', 'bind_interdomain', 'until', 'fault', 'send', 'send', 'run']);
    ts.dispose();
  });

  it('a problem in a new construct points into the .ts file', async () => {
    const text = `import { scenario } from 'xenlab';
export default scenario({
  name: 'bad',
  domains: [{ name: 'dom0' }, { name: 'guest' }],
  steps: [
    { until: { domain: 'guest', state: 'shutdwn' } },
  ],
  expect: { counters: { guest: { upcalls: 'many' } } },
});
`;
    const e = await load(text).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ScenarioInputError);
    const ps = (e as ScenarioInputError).problems.map((p) => [p.path, p.line]);
    expect(ps).toEqual([
      ['steps[0].until.state', 6],
      ['expect.counters.guest.upcalls', 8],
    ]);
  });
});

describe('onControlMessage: a custom kernel on the Xen 2.0 control interface', () => {
  const KERNEL = `import { kernel, scenario } from 'xenlab';
const guest = kernel('ctl', {
  onControlMessage(k, msg) {
    k.println('got ' + msg.type_name + '/' + msg.subtype_name + ' id ' + msg.id + ' [' + String.fromCharCode(...msg.payload) + ']');
    if (msg.type_name === 'CMSG_SHUTDOWN') k.call('sched_shutdown', { reason: msg.subtype });
    return msg.type_name === 'CMSG_CONSOLE' ? 'ok' : undefined;
  },
});
export default scenario({
  name: 'control messages',
  xen: '2.0',
  domains: [{ name: 'dom0' }, { name: 'g', kernel: guest }],
  steps: [
    { type: { domain: 'g', text: 'hi' } },
    { until: { console: { domain: 'g', contains: 'got CMSG_CONSOLE' } } },
    { shutdown: { domain: 'g', reason: 'reboot' } },
    { until: { domain: 'g', state: 'destroyed', timeout: '100ms' } },
  ],
  expect: {
    consoles: { g: { contains: ['got CMSG_CONSOLE/CMSG_CONSOLE_DATA id 0 [hi]', 'got CMSG_SHUTDOWN/CMSG_SHUTDOWN_REBOOT'] }, dom0: { contains: 'shut down (reboot)' } },
    trace: [{ filter: 'kind==ctrl_msg && who==guest && ring==rx && op==put', count: 2 }],
  },
});
`;

  it("gets xend's requests (console input, a shutdown) and answers each with what it returns", async () => {
    const ts = await load(KERNEL);
    const r = runScenario(ts.scenario, { kernels: ts.kernels() });
    expect(r.failures).toEqual([]);
    ts.dispose();
  });

  it('is refused outside Xen 2.0, where there is no control interface', async () => {
    const e = await load(KERNEL.replace("xen: '2.0',", '')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ScenarioInputError);
    expect((e as ScenarioInputError).problems[0]!.message).toBe('kernel "ctl" has onControlMessage: control messages travel on Xen 2.0\'s control interface');
  });
});

describe('k.now() in a custom kernel', () => {
  it('is the virtual time of each call into the kernel, the same however often it is asked, and asked again after a host call', async () => {
    const ts = await load(`import { kernel, scenario } from 'xenlab';
const clock = kernel('clock', {
  boot(k) {
    k.println('boot', k.now());
    k.call('bind_virq', { virq: 'VIRQ_TIMER', vcpu: 0 });
  },
  onTimer(k) {
    const t = k.now();
    let same = true;
    for (let i = 0; i < 100; i++) same = same && k.now() === t;
    k.println('tick', t, same, k.deliveries(1) >= 0, k.now() === t);
  },
});
export default scenario({ name: 'clock', domains: [{ name: 'dom0' }, { name: 'g', kernel: clock }], steps: [{ run: '35ms' }] });
`);
    const r = runScenario(ts.scenario, { kernels: ts.kernels() });
    expect(r.failures).toEqual([]);
    const lines = r.consoles['g']!.trim().split('\n');
    expect(lines[0]).toMatch(/^boot \d+$/);
    const ticks = lines.slice(1).map((l) => l.split(' '));
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    const times = ticks.map((w) => Number(w[1]));
    for (const w of ticks) expect(w.slice(2)).toEqual(['true', 'true', 'true']);
    // Each tick is a new call into the sandbox: its time, not the one before (ticks 10 ms apart).
    times.slice(1).forEach((t, i) => expect(t - times[i]!).toBeGreaterThanOrEqual(9_000_000));
    expect(times[0]).toBeGreaterThan(Number(lines[0]!.split(' ')[1]));
    ts.dispose();
  });
});

