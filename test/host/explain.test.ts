/**
 * The explain panel over real scenario runs: for each situation a student
 * meets, the verdict says why the event was or was not delivered, the
 * steps follow the delivery path in Xen's order with the bits as they are,
 * and the cited records are the trace's real send, pending bit and handler.
 */
import { describe, expect, it } from 'vitest';
import type { Explanation } from '../../src/contract/inspect.js';
import type { TraceRecord } from '../../src/core/sim/trace.js';
import { DOMID_SELF } from '../../src/core/abi/domid.js';
import { VIRQ_DEBUG } from '../../src/core/abi/evtchn.js';
import { explainPort, portStatus } from '../../src/host/inspect/index.js';
import { addGuest, call, newMachine, port } from '../core/helpers.js';
import { runExample } from './inspect_helpers.js';

function step(e: Explanation, check: string): Explanation['steps'][number] {
  const s = e.steps.find((x) => x.check === check);
  expect(s, `step "${check}" among ${e.steps.map((x) => x.check).join(', ')}`).toBeDefined();
  return s!;
}

/** The cited records, decoded. */
function cited(e: Explanation, records: TraceRecord[]): TraceRecord[] {
  return e.records.map((seq) => records[seq]!);
}

const PATH_2L = ['port is bound', 'vCPU', 'evtchn_pending[1]', 'evtchn_mask[1]', 'selector bit', 'evtchn_upcall_pending', 'evtchn_upcall_mask', 'domain runnable', 'guest routes the port to vCPU 0'];

describe('2-level', () => {
  it('delivered: cites the send, Xen setting the pending bit and the handler run', () => {
    // masking.yaml line 41: port 1 was sent to while masked, unmasked with EVTCHNOP_unmask and handled;
    // since then dom0 has sent on its other port (2), which is not this port's cause.
    const { hv, trace, records } = runExample('masking', 41);
    const e = explainPort(hv, 1, 1, trace);
    expect(e.deliverable).toBe(true);
    expect(e.verdict).toMatch(/^Delivered: dom0's EVTCHNOP_send on port 1 \(seq \d+\) made Xen set the pending bit \(seq \d+\) and the guest's handler ran for port 1 \(seq \d+\); nothing is pending now\.$/);
    const [bind, send, pending, handler] = cited(e, records);
    expect(bind).toMatchObject({ kind: 'port', dom: 1, port: 1, state: 'interdomain' });
    expect(send).toMatchObject({ kind: 'hypercall', dom: 0, op: 'send', args: { port: 1 } });
    expect(pending).toMatchObject({ kind: 'bit', dom: 1, field: 'evtchn_pending', index: 1, value: 1, by: 'xen' });
    expect(handler).toMatchObject({ kind: 'handler', dom: 1, port: 1 });
    expect(e.verdict).toContain(`(seq ${e.records[1]})`);
    expect(e.verdict).toContain(`(seq ${e.records[3]})`);
  });

  it('pending but masked: the guest set the mask bit, so Xen set no selector bit and no upcall', () => {
    const { hv, trace, records } = runExample('masking', 23);
    const e = explainPort(hv, 1, 1, trace);
    expect(e.verdict).toBe('Pending but masked: the guest set bit 1 of evtchn_mask; Xen set the pending bit but not the selector, so no upcall. EVTCHNOP_unmask would deliver it.');
    expect(e.deliverable).toBe(false);
    // The steps in the order event_2l.c, vcpu_mark_events_pending, entry.S and Linux's scan test them.
    expect(e.steps.map((s) => s.check)).toEqual(PATH_2L);
    expect(e.steps.map((s) => s.ok)).toEqual([true, true, true, false, false, false, true, true, true]);
    expect(step(e, 'evtchn_pending[1]').detail).toContain('shared_info byte 2048, bit 1');
    expect(step(e, 'evtchn_mask[1]')).toMatchObject({ source: 'xen/common/event_2l.c: evtchn_2l_set_pending' });
    expect(step(e, 'evtchn_mask[1]').detail).toContain('shared_info byte 2560, bit 1');
    expect(cited(e, records).map((r) => [r.kind, r.kind === 'bit' ? `${r.field}=${r.value} by ${r.by}` : r.kind === 'hypercall' ? r.op : ''])).toEqual([
      ['bit', 'evtchn_mask=1 by guest'],
      ['hypercall', 'send'],
      ['bit', 'evtchn_pending=1 by xen'],
    ]);
    // The same bits say the same without a trace.
    const bare = explainPort(hv, 1, 1);
    expect(bare.verdict).toBe(e.verdict);
    expect(bare.records).toEqual([]);
  });

  it('pending and unmasked with a clear selector bit: the mask was cleared without EVTCHNOP_unmask', () => {
    // masking.yaml line 41: port 2 masked, sent to, then its mask bit cleared in shared memory.
    const { hv, trace } = runExample('masking', 41);
    const e = explainPort(hv, 1, 2, trace);
    expect(e.deliverable).toBe(false);
    expect(e.verdict).toMatch(/^Pending and unmasked, but bit 0 of vCPU 0's evtchn_pending_sel is clear, so no scan will look at it: the mask was cleared in shared memory without EVTCHNOP_unmask/);
    expect(step(e, 'selector bit').ok).toBe(false);
  });

  it('upcall_mask set: pending, selector and upcall_pending all set, but the guest has events off', () => {
    const { hv, trace, records } = runExample('upcall-mask', 25);
    const e = explainPort(hv, 1, 1, trace);
    expect(e.deliverable).toBe(false);
    expect(e.verdict).toBe(
      'Pending, but not delivered yet: vCPU 0 has events off: its evtchn_upcall_mask is set (the guest\'s "interrupts off" flag), so Xen does not inject the upcall; it runs as soon as the guest clears the mask. Pending bit, selector bit 0 and evtchn_upcall_pending are all set.',
    );
    expect(step(e, 'evtchn_upcall_mask')).toMatchObject({ ok: false, source: 'xen/arch/x86/x86_64/entry.S: test_all_events (here src/core/hv/upcall.ts: upcallDeliverable, injectUpcall)' });
    expect(step(e, 'evtchn_upcall_pending').ok).toBe(true);
    expect(step(e, 'selector bit').ok).toBe(true);
    expect(cited(e, records)[0]).toMatchObject({ kind: 'bit', dom: 1, vcpu: 0, field: 'evtchn_upcall_mask', value: 1, by: 'guest' });
  });

  it('domain paused: the bits are set but no vCPU runs', () => {
    const { hv, trace, records } = runExample('pause-defers-upcalls', 22);
    const e = explainPort(hv, 1, 1, trace);
    expect(e.deliverable).toBe(false);
    expect(e.verdict).toContain('guest (dom1) is paused by the toolstack (pause count 2): no vCPU runs, so Xen cannot inject the upcall; it runs when the domain is unpaused');
    expect(step(e, 'domain runnable')).toMatchObject({ ok: false, source: 'xen/common/domain.c: domain_pause_by_systemcontroller (controller_pause_count)' });
    expect(cited(e, records).filter((r) => r.kind === 'domain')).toEqual([expect.objectContaining({ kind: 'domain', dom: 1, event: 'pause' })]);
  });

  it('never sent: a bound port nothing has raised since its bind; without a trace, the path is open', () => {
    // upcall-mask.yaml line 25: port 2 is an IPI to vCPU 1, not sent yet (it is on line 27).
    const { hv, trace } = runExample('upcall-mask', 25);
    const e = explainPort(hv, 1, 2, trace);
    expect(e.deliverable).toBe(false);
    expect(e.verdict).toMatch(/^Never raised: nothing has aimed an event at port 2 since it was bound \(seq \d+\); the domain's own vCPUs raise it with EVTCHNOP_send on port 2 \(an IPI to vCPU 1\)\.$/);
    expect(step(e, 'vCPU').detail).toBe('Xen notifies vCPU 1 for this port (notify_vcpu_id, set by bind_ipi; fixed)');
    const bare = explainPort(hv, 1, 2);
    expect(bare.deliverable).toBe(true);
    expect(bare.verdict).toContain('With the bits as they are, an event would be delivered at once.');
  });

  it('unbound: nothing can raise it until the named domain binds it', () => {
    const { hv, trace } = runExample('alloc-unbound', 37);
    const e = explainPort(hv, 1, 2, trace);
    expect(e.verdict).toBe('Unbound: port 2 waits for dom0 to bind it with EVTCHNOP_bind_interdomain; until then nothing can raise it, and a send on it is silently dropped (evtchn_send).');
    expect(e.deliverable).toBe(false);
    expect(e.steps).toEqual([{ check: 'port is bound', ok: false, detail: 'ECS_UNBOUND: waiting for dom0 to bind it; a send on an unbound port is dropped', source: 'xen/common/event_channel.c: evtchn_send' }]);
    expect(portStatus(hv, 1, 2)).toEqual({ domid: 1, port: 2, status: 'unbound', vcpu: 0, pending: false, masked: false, detail: { dom: 0 } });
  });

  it('closed, reserved and invalid ports: nothing raises them', () => {
    const { hv, trace } = runExample('masking', 23);
    expect(explainPort(hv, 1, 3, trace).verdict).toBe('Closed: port 3 of guest (dom1) is not in use (EVTCHNSTAT_closed), so nothing can raise it; EVTCHNOP_send on it fails with -EINVAL.');
    expect(explainPort(hv, 1, 0).verdict).toMatch(/^Reserved: port 0 is ECS_RESERVED/);
    const none = explainPort(hv, 1, 64);
    expect(none.verdict).toBe('No such port: guest (dom1) has ports 0–63, so port 64 fails port_is_valid and every operation on it returns -EINVAL.');
    expect(none.deliverable).toBe(false);
    expect(() => explainPort(hv, 1, -1)).toThrow(RangeError);
    expect(() => portStatus(hv, 1, 64)).toThrow(/port 64 is not valid in guest/);
  });
});

describe('FIFO', () => {
  it('a lower priority waits behind the higher ones that are ready', () => {
    // fifo-priorities.yaml line 27: ports 1 (priority 0), 2 (7), 3 (15) all queued, vCPU 0's events off.
    const { hv, trace } = runExample('fifo-priorities', 27);
    const low = explainPort(hv, 1, 3, trace);
    expect(low.deliverable).toBe(false);
    expect(low.verdict).toContain("Queued on vCPU 0's priority-15 queue, but not delivered yet: vCPU 0 has events off");
    expect(low.verdict).toContain("It waits behind the ready queues of priority 0 (head port 1) and priority 7 (head port 2): Linux's FIFO consumer serves the lowest READY bit first, so port 3 is handled after them.");
    expect(low.steps.map((s) => s.check)).toEqual([
      'port is bound',
      'vCPU',
      'event word',
      'control block',
      'PENDING (P, bit 31)',
      'MASKED (M, bit 30)',
      'LINKED (L, bit 29)',
      'BUSY (B, bit 28)',
      'READY bit 15',
      'queue order',
      'evtchn_upcall_pending',
      'evtchn_upcall_mask',
      'domain runnable',
    ]);
    expect(step(low, 'queue order').ok).toBe(false);
    expect(step(low, 'event word').detail).toBe('event_array[0][3] (byte 12 of event-array page 0): P=1 M=0 L=1 B=0 LINK=0');
    // The highest priority is served first: nothing is ahead of it.
    const hi = explainPort(hv, 1, 1, trace);
    expect(step(hi, 'queue order')).toMatchObject({ ok: true, detail: 'nothing of higher priority is ready: the guest serves this queue next' });
    expect(portStatus(hv, 1, 3)).toMatchObject({ status: 'ipi', pending: true, masked: false, priority: 15, linked: true });
  });

  it('a changed priority does not move a queued event, and a queued event with events on is on its way', () => {
    // fifo-priorities.yaml line 31: port 2 was queued at priority 7, then set to priority 3.
    const { hv, trace } = runExample('fifo-priorities', 31);
    expect(step(explainPort(hv, 1, 2, trace), 'LINKED (L, bit 29)').detail).toContain("on vCPU 0's priority-7 queue, at the head; its priority is now 3, but a linked event stays on the queue it was linked on");
    // Line 47: EVTCHNOP_unmask linked the pending port 2 (now priority 3) and events are on.
    const later = runExample('fifo-priorities', 47);
    const e = explainPort(later.hv, 1, 2, later.trace);
    expect(e.deliverable).toBe(true);
    expect(e.verdict).toBe("Queued and on its way: port 2 is linked on vCPU 0's priority-3 queue with READY bit 3 and evtchn_upcall_pending set; events are on and the domain runs, so the upcall is queued.");
  });

  it('pending but masked: P set, not linked, so no READY bit', () => {
    const { hv, trace } = runExample('fifo-priorities', 43);
    const e = explainPort(hv, 1, 2, trace);
    expect(e.verdict).toBe("Pending but masked: MASKED is set in port 2's event word; Xen set PENDING but did not link it on a queue, so no READY bit and no upcall. EVTCHNOP_unmask would link it and deliver it.");
    expect(step(e, 'MASKED (M, bit 30)').ok).toBe(false);
    expect(step(e, 'LINKED (L, bit 29)').ok).toBe(false);
  });

  it('a closed port whose word is still linked is busy', () => {
    const { hv } = runExample('fifo-priorities', 57);
    expect(explainPort(hv, 1, 1).verdict).toContain('Its event word is still LINKED from before it was closed: the allocator skips the port until the guest unlinks it.');
  });
});

describe('Xen 2.0', () => {
  it("explains the Plan 9 guest's control channel and timer in Xen 2.0.0's words", () => {
    const { hv, trace, records } = runExample('plan9-boot');
    const ctrl = explainPort(hv, 1, hv.domainControllerEvtchn(hv.domain(1)!), trace);
    expect(ctrl.deliverable).toBe(true);
    expect(ctrl.verdict).toMatch(/^Delivered: dom0's EVTCHNOP_send on port 2 \(seq \d+\) made Xen set the pending bit/);
    expect(cited(ctrl, records).find((r) => r.kind === 'hypercall')).toMatchObject({ dom: 0, op: 'send', args: { local_port: 2 } });
    expect(ctrl.steps.map((s) => s.check)).toEqual(['port is bound', 'vCPU', 'evtchn_pending[1]', 'evtchn_mask[1]', 'selector bit', 'evtchn_upcall_pending', 'evtchn_upcall_mask', 'domain runnable', 'guest scan']);
    expect(step(ctrl, 'vCPU').detail).toBe('Xen 2.0 has one vCPU per domain: events go to vcpu_data[0]');
    expect(step(ctrl, 'selector bit').detail).toContain('bit 0 of evtchn_pending_sel (word 0 of evtchn_pending holds ports 0–31)');
    expect(step(ctrl, 'evtchn_pending[1]')).toMatchObject({ source: 'xen/include/xen/event.h (2.0.0): evtchn_set_pending' });
    expect(step(ctrl, 'evtchn_pending[1]').detail).toContain('shared_info byte 4, bit 1');
    const timer = explainPort(hv, 1, 2, trace);
    expect(timer.verdict).toMatch(/^Delivered: Xen raising VIRQ_TIMER \(seq \d+\)/);
    expect(step(timer, 'port is bound').source).toBe('xen/include/xen/event.h (2.0.0): send_guest_virq');
    expect(explainPort(hv, 1, 0, trace).verdict).toContain('VIRQ_MISDIRECT');
  });
});

describe('machines built directly', () => {
  it('shut down: pending, but the vCPUs never run again', () => {
    const { hv, dom0 } = newMachine();
    const g = addGuest(hv, { name: 'guest' });
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    const dp = port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }));
    hv.run(1_000_000);
    expect(hv.shutdown(g, 'poweroff')).toBe(0);
    call(hv, dom0, 'send', { port: dp });
    const e = explainPort(hv, g.domid, gp);
    expect(e.deliverable).toBe(false);
    expect(e.verdict).toContain('guest (dom1) has shut down: its vCPUs never run again, so it is never delivered');
    expect(step(e, 'domain runnable')).toMatchObject({ ok: false, detail: 'guest (dom1) has shut down (poweroff): its vCPUs do not run', source: 'xen/common/domain.c: domain_shutdown / domain_kill' });
  });

  it('names what raises a VIRQ or a PIRQ port', () => {
    const { hv } = newMachine();
    const g = addGuest(hv, { name: 'guest', pirqs: [5] });
    const virq = port(call(hv, g, 'bind_virq', { virq: VIRQ_DEBUG, vcpu: 0 }));
    const pirq = port(call(hv, g, 'bind_pirq', { pirq: 5 }));
    expect(step(explainPort(hv, g.domid, virq), 'port is bound').detail).toBe("ECS_VIRQ: bound to VIRQ_DEBUG; Xen raises it for VIRQ_DEBUG for vCPU 0 (the debug key 'q' was pressed)");
    expect(step(explainPort(hv, g.domid, pirq), 'port is bound')).toMatchObject({ detail: 'ECS_PIRQ: bound to physical IRQ 5; physical IRQ 5 raises it', source: 'xen/common/event_channel.c: send_guest_pirq' });
    expect(portStatus(hv, g.domid, pirq).detail).toEqual({ pirq: 5 });
    expect(portStatus(hv, g.domid, virq).detail).toEqual({ virq: VIRQ_DEBUG });
  });

  it('FIFO without an event word keeps the event in the pending stash; a vCPU without a control block drops it', () => {
    const { hv } = newMachine();
    const g = addGuest(hv, { name: 'raw', vcpus: 2, noKernel: true });
    expect(call(hv, g, 'init_control', { control_gfn: 1100, offset: 0, vcpu: 0 }).ret).toBe(0);
    const p0 = port(call(hv, g, 'bind_ipi', { vcpu: 0 }));
    call(hv, g, 'send', { port: p0 });
    const stash = explainPort(hv, g.domid, p0);
    expect(stash.verdict).toBe(`Waiting for its event word: port ${p0} has none yet, so Xen keeps its pending event in the port's pending stash and raises it when EVTCHNOP_expand_array adds event-array page 0.`);
    expect(step(stash, 'event word').ok).toBe(false);
    expect(call(hv, g, 'expand_array', { array_gfn: 1101 }).ret).toBe(0);
    const p1 = port(call(hv, g, 'bind_ipi', { vcpu: 1 }));
    call(hv, g, 'send', { port: p1 });
    const dropped = explainPort(hv, g.domid, p1);
    expect(dropped.verdict).toBe(`Dropped: vCPU 1 has no FIFO control block (no EVTCHNOP_init_control for it), so evtchn_fifo_set_pending discards events for port ${p1}.`);
    expect(step(dropped, 'control block').ok).toBe(false);
    // The stashed event was linked when its page came.
    expect(portStatus(hv, g.domid, p0)).toMatchObject({ pending: true, linked: true, priority: 7 });
  });
});
