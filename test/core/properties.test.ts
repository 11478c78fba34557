/**
 * Property-based tests of the event-channel core against the reference model
 * in test/core/properties/model.ts (written from
 * /work/shared/reference/xen-event-channels.md, §2, §3, §5, §6). Each run
 * builds dom0 and 1–3 guests (1–3 vCPUs, 2-level or FIFO), plays a long
 * random command list and checks, after every command, everything listed in
 * test/core/properties/harness.ts.
 *
 * A failure prints the shrunk command list and, in the error, a transcript of
 * the commands as they were resolved (which port, which domain, what came back).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resetStats, Runner, stats, type Cmd, type WorldSpec } from './properties/harness.js';

// ---------------------------------------------------------------- generators

const abi = fc.constantFrom<'2l' | 'fifo'>('2l', 'fifo');

function world(opts: { abi?: fc.Arbitrary<'2l' | 'fifo'>; guests?: { min: number; max: number } } = {}): fc.Arbitrary<WorldSpec> {
  const a = opts.abi ?? abi;
  const g = opts.guests ?? { min: 1, max: 3 };
  return fc.record({
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    doms: fc.tuple(
      fc.record({ vcpus: fc.integer({ min: 1, max: 3 }), abi: a }),
      fc.array(
        fc.record({
          vcpus: fc.integer({ min: 1, max: 3 }),
          abi: a,
          // A small max_evtchn_port now and then, so that allocation runs out (-ENOSPC, §2.5).
          maxEvtchnPort: fc.constantFrom(1023, 1023, 1023, 12, 70),
          pirqs: fc.constant([5, 6]),
        }),
        { minLength: g.min, maxLength: g.max },
      ),
    ).map(([d0, gs]) => [d0, ...gs]),
  });
}

const d = fc.nat({ max: 3 });
const pick = fc.nat({ max: 9999 });
const vcpu = fc.nat({ max: 3 }); // 3 may not exist: -ENOENT
const virqs = fc.constantFrom(0, 0, 0, 1, 1, 3, 3, 11, 11, 13, 2, 5, 24); // TIMER, DEBUG, DOM_EXC, ARGO, XENPMU, CONSOLE, undefined-global, invalid
const raisable = fc.constantFrom(0, 1, 13, 11, 3, 2);
const pirqs = fc.constantFrom(0, 5, 5, 6, 7, 55, 56, 300);

interface Weights {
  bind?: number;
  send?: number;
  mask?: number;
  run?: number;
  destroy?: number;
  reset?: number;
  fill?: number;
}

function command(w: Weights = {}): fc.Arbitrary<Cmd> {
  const bind = w.bind ?? 6;
  const send = w.send ?? 12;
  const mask = w.mask ?? 3;
  return fc.oneof(
    { weight: bind, arbitrary: fc.record({ op: fc.constant('alloc_unbound' as const), d, dom: fc.nat({ max: 7 }), remote: fc.nat({ max: 7 }) }) },
    { weight: bind + 2, arbitrary: fc.record({ op: fc.constant('bind_interdomain' as const), d, pick }) },
    { weight: bind, arbitrary: fc.record({ op: fc.constant('bind_virq' as const), d, virq: virqs, vcpu }) },
    { weight: Math.ceil(bind / 2), arbitrary: fc.record({ op: fc.constant('bind_ipi' as const), d, vcpu }) },
    { weight: Math.ceil(bind / 3), arbitrary: fc.record({ op: fc.constant('bind_pirq' as const), d, pirq: pirqs }) },
    { weight: w.fill ?? 1, arbitrary: fc.record({ op: fc.constant('fill' as const), d, n: fc.integer({ min: 1, max: 70 }), remote: fc.nat({ max: 7 }) }) },
    { weight: w.fill ?? 1, arbitrary: fc.record({ op: fc.constant('grow_fail' as const), d, by: d }) },
    { weight: bind, arbitrary: fc.record({ op: fc.constant('connect' as const), d, peer: d, byDom0: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('close' as const), d, port: pick }) },
    { weight: send, arbitrary: fc.record({ op: fc.constant('send' as const), d, port: pick }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('bind_vcpu' as const), d, port: pick, vcpu }) },
    { weight: mask, arbitrary: fc.record({ op: fc.constant('unmask' as const), d, port: pick }) },
    { weight: Math.ceil(mask / 2), arbitrary: fc.record({ op: fc.constant('mask_peer_send' as const), d, port: pick }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('status' as const), d, dom: fc.nat({ max: 7 }), port: pick }) },
    { weight: w.reset ?? 1, arbitrary: fc.record({ op: fc.constant('reset' as const), d, dom: fc.nat({ max: 7 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('set_priority' as const), d, port: pick, priority: fc.integer({ min: 0, max: 16 }) }) },
    { weight: mask, arbitrary: fc.record({ op: fc.constant('mask' as const), d, port: pick }) },
    { weight: mask, arbitrary: fc.record({ op: fc.constant('clear_mask' as const), d, port: pick }) },
    { weight: mask, arbitrary: fc.record({ op: fc.constant('upcall_mask' as const), d, vcpu, on: fc.boolean() }) },
    { weight: 5, arbitrary: fc.record({ op: fc.constant('raise_virq' as const), d, virq: raisable, vcpu }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('move_virq' as const), d, virq: fc.constantFrom(11, 3, 2), vcpu: fc.integer({ min: 1, max: 2 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('raise_pirq' as const), d, pirq: pirqs }) },
    { weight: w.run ?? 6, arbitrary: fc.record({ op: fc.constant('run' as const), periods: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'run_short' as const }) },
    { weight: w.destroy ?? 1, arbitrary: fc.record({ op: fc.constant('destroy' as const), d }) },
  );
}

/** A long command list; no minimum length, so that a failing list shrinks down to the commands that matter. */
function commands(cmd: fc.Arbitrary<Cmd>, maxLength: number): fc.Arbitrary<Cmd[]> {
  return fc.array(cmd, { maxLength, size: 'max' });
}

function play(spec: WorldSpec, cmds: Cmd[]): void {
  const r = new Runner(spec);
  for (const c of cmds) r.exec(c);
  // A last long run so that whatever is still owed must have arrived.
  r.exec({ op: 'run', periods: 1 });
  r.finish();
}

type Stat = keyof typeof stats;

/**
 * fc.assert with a fixed seed, then a check that the run actually exercised
 * what the property is about (a property that never meets its precondition
 * proves nothing).
 */
function assertProperty(spec: fc.Arbitrary<WorldSpec>, cmds: fc.Arbitrary<Cmd[]>, numRuns: number, seed: number, atLeast: Partial<Record<Stat, number>>): void {
  resetStats();
  fc.assert(fc.property(spec, cmds, play), { numRuns, seed });
  if (process.env.XENLAB_PROPERTY_STATS) console.log(JSON.stringify(stats));
  for (const [k, n] of Object.entries(atLeast) as [Stat, number][]) expect(stats[k], `${k} exercised`).toBeGreaterThanOrEqual(n);
}

// ---------------------------------------------------------------- properties

describe('event channels: random op sequences against a reference model', () => {
  it('2-level domains: results, shared bits, deliveries and status agree; no event lost or invented', () => {
    assertProperty(world({ abi: fc.constant('2l') }), commands(command(), 150), 80, 0x2e1, {
      interdomainBinds: 220,
      deliveries: 330,
      livenessChecked: 250,
      maskedRunChecks: 240,
      maskedNotifications: 40,
      droppedUnboundSends: 40,
      failedOps: 690,
      bucketGrowthOnFailure: 19,
      closes: 68,
    });
  });

  it('FIFO domains: results, event words, queues, deliveries and status agree; no event lost or invented', () => {
    assertProperty(world({ abi: fc.constant('fifo') }), commands(command(), 150), 80, 0xf1f0, {
      interdomainBinds: 280,
      deliveries: 400,
      livenessChecked: 290,
      maskedRunChecks: 290,
      maskedNotifications: 43,
      droppedUnboundSends: 60,
      failedOps: 880,
      bucketGrowthOnFailure: 24,
      closes: 80,
    });
  });

  it('mixed ABIs with destroy and reset: peers go unbound, nothing else changes', () => {
    assertProperty(world({ guests: { min: 2, max: 3 } }), commands(command({ destroy: 3, reset: 3 }), 150), 60, 0xd35, {
      destroys: 28,
      resets: 21,
      interdomainBinds: 128,
      deliveries: 150,
      livenessChecked: 128,
      failedOps: 580,
    });
  });

  it('notification-heavy: masks and upcall masks interleaved with sends and runs', () => {
    assertProperty(world(), commands(command({ bind: 3, send: 14, mask: 7, run: 8 }), 200), 80, 0x5e4d, {
      deliveries: 220,
      livenessChecked: 140,
      maskedRunChecks: 480,
      maskedNotifications: 90,
      droppedUnboundSends: 98,
      failedOps: 830,
    });
  });

  it('failures and port exhaustion: a failed op changes nothing but bucket growth', () => {
    assertProperty(world(), commands(command({ fill: 6, bind: 8, send: 3, run: 2 }), 100), 40, 0xfa11, {
      failedOps: 640,
      bucketGrowthOnFailure: 53,
      interdomainBinds: 147,
    });
  });
});
