/**
 * Loading big scenarios, for bench/index.ts (`--only=load`): a 10,000-step
 * YAML scenario with every common step shape (hypercalls with `$name`s and
 * `save`, checks, runs, masks, raises, lifecycle) is parsed with positions and
 * checked, as `xenlab validate` and the editor's live check do.
 */
import { loadScenario } from '../src/scenario/stepform.js';
import type { Row } from './table.js';

const nowNs = (): bigint => process.hrtime.bigint();

/** A sound scenario of exactly `steps` steps over 4 guests, cycling through a dozen step shapes. */
export function bigScenario(steps: number): string {
  const lines = ['name: 10,000 steps', 'seed: 7', 'domains:', '  - name: dom0'];
  for (let g = 1; g <= 4; g++) lines.push(`  - name: g${g}`, '    vcpus: 2');
  lines.push('steps:');
  const shapes: ((i: number, g: string) => string)[] = [
    (i, g) => `  - { as: ${g}, op: alloc_unbound, args: { dom: DOMID_SELF, remote_dom: dom0 }, expect: { ret: 0 }, save: { port: p${i} } }`,
    (i, g) => `  - { as: ${g}, op: status, args: { dom: DOMID_SELF, port: $p${i - 1} }, expect: { ret: 0, status: unbound } }`,
    (i, g) => `  - { check: { domain: ${g}, port: $p${i - 2}, state: unbound, pending: false, masked: false } }`,
    (i, g) => `  - { as: ${g}, mask: $p${i - 3} }`,
    (i, g) => `  - { as: ${g}, op: unmask, args: { port: $p${i - 4} }, expect: { ret: 0 } }`,
    (i, g) => `  - { as: ${g}, op: bind_ipi, args: { vcpu: 1 }, expect: { ret: 0 }, save: { port: q${i} } }`,
    (i, g) => `  - { as: ${g}, op: send, args: { port: $q${i - 1} }, expect: { ret: 0 } }`,
    () => '  - run: 1ms',
    (i, g) => `  - { check: { domain: ${g}, vcpu: 1, upcall_mask: false } }`,
    (_i, g) => `  - virq: { domain: ${g}, virq: VIRQ_DEBUG, vcpu: 0 }`,
    (i, g) => `  - { as: ${g}, op: close, args: { port: $q${i - 5} }, expect: { ret: 0 } }`,
    (i, g) => `  - { as: ${g}, op: close, args: { port: $p${i - 11} }, expect: { ret: 0 } }`,
  ];
  for (let i = 0; i < steps; i++) {
    const shape = i % shapes.length;
    const g = `g${1 + (Math.floor(i / shapes.length) % 4)}`;
    // The last partial cycle must not refer to names a shorter cycle never saved.
    lines.push(i - shape + shapes.length > steps ? '  - run: 10us' : shapes[shape]!(i, g));
  }
  return `${lines.join('\n')}\n`;
}

export function benchLoad(rows: Row[]): void {
  const text = bigScenario(10_000);
  loadScenario('big.yaml', text); // warm-up (JIT)
  loadScenario('big.yaml', text);
  const times: number[] = [];
  let steps = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = nowNs();
    steps = loadScenario('big.yaml', text).steps.length;
    times.push(Number(nowNs() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const median = times[2]!;
  rows.push({
    name: '9. load + validate a 10,000-step YAML scenario',
    value: median,
    unit: 'ms',
    target: '< 300',
    pass: steps === 10_000 && median < 300,
    note: `${steps} steps, ${(text.length / 1024).toFixed(0)} KiB; median of 5 (min ${times[0]!.toFixed(1)} ms, max ${times[4]!.toFixed(1)} ms)`,
  });
}
