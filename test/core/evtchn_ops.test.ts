/**
 * Every EVTCHNOP_* through the hypercall table, against the reference
 * (sections 2-4): success paths, every error in Xen's evaluation order
 * (xen/common/event_channel.c, event_fifo.c), and that a failed op changes
 * nothing.
 */
import { describe, expect, it } from 'vitest';
import { DOMID_IO, DOMID_SELF } from '../../src/core/abi/domid.js';
import { EACCES, EBUSY, EEXIST, EINVAL, ENOENT, ENOSPC, ENOSYS, EOPNOTSUPP, EPERM, ESRCH } from '../../src/core/abi/errno.js';
import {
  EVTCHNSTAT_closed,
  EVTCHNSTAT_interdomain,
  EVTCHNSTAT_ipi,
  EVTCHNSTAT_NAMES,
  EVTCHNSTAT_pirq,
  EVTCHNSTAT_unbound,
  EVTCHNSTAT_virq,
  EVTCHN_FIFO_PRIORITY_DEFAULT,
  EVTCHNOP,
  NR_VIRQS,
  VIRQ_ARGO,
  VIRQ_CONSOLE,
  VIRQ_DEBUG,
  VIRQ_DOM_EXC,
  VIRQ_MCA,
  VIRQ_TIMER,
  VIRQS,
} from '../../src/core/abi/evtchn.js';
import * as evtchn from '../../src/core/hv/event_channel.js';
import { OPS } from '../../src/core/hv/hypercall.js';
import { FIRST_FREE_GFN } from '../../src/core/hv/hypervisor.js';
import { addGuest, call, ecs, maskBit, newMachine, pendingBit, pendingSel, port, snapshot, status, writeMaskBit } from './helpers.js';

const ok = { ret: 0 };

/** A machine with dom0, guest g (domid 1, 2 vCPUs, pirq 5) and guest h (domid 2). */
function setup() {
  const m = newMachine();
  const g = addGuest(m.hv, { name: 'g', vcpus: 2, pirqs: [5] });
  const h = addGuest(m.hv, { name: 'h' });
  return { hv: m.hv, dom0: m.dom0, g, h };
}

/** Expects `fn` to fail with `ret` and leave every domain's event-channel state untouched. */
function expectNoChange(hv: ReturnType<typeof setup>['hv'], fn: () => { ret: number }, ret: number): void {
  const before = snapshot(hv);
  expect(fn().ret).toBe(ret);
  expect(snapshot(hv)).toEqual(before);
}

describe('op table', () => {
  it('every EVTCHNOP name maps to Xen command number', () => {
    for (const [name, code] of Object.entries(EVTCHNOP)) expect(OPS.get(name)?.code).toBe(code);
    expect(EVTCHNOP).toMatchObject({ bind_interdomain: 0, bind_virq: 1, bind_pirq: 2, close: 3, send: 4, status: 5, alloc_unbound: 6, bind_ipi: 7, bind_vcpu: 8, unmask: 9, reset: 10, init_control: 11, expand_array: 12, set_priority: 13, reset_cont: 14 });
  });

  it('errno constants have Xen values', () => {
    expect([EPERM, ENOENT, ESRCH, EBUSY, EEXIST, EINVAL, ENOSPC, ENOSYS, EACCES, EOPNOTSUPP]).toEqual([1, 2, 3, 16, 17, 22, 28, 38, 13, 95]);
  });
});

describe('dispatcher', () => {
  it('OUT fields are returned only when rc == 0 (do_event_channel_op copies back on success only)', () => {
    const { hv, g, h } = setup();
    expect(call(hv, g, 'alloc_unbound', { dom: h.domid, remote_dom: 0 })).toEqual({ ret: -EPERM });
    expect(call(hv, g, 'bind_virq', { virq: VIRQ_DOM_EXC, vcpu: 0 })).toEqual({ ret: -EBUSY });
    expect(call(hv, g, 'bind_interdomain', { remote_dom: 0, remote_port: 0 })).toEqual({ ret: -EINVAL });
    expect(call(hv, g, 'status', { dom: 0, port: 1 })).toEqual({ ret: -EPERM });
    expect(call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 1, vcpu: 0 })).toEqual({ ret: -EINVAL });
  });

  it('EVTCHNSTAT_* values: closed 0, unbound 1, interdomain 2, pirq 3, virq 4, ipi 5', () => {
    expect([EVTCHNSTAT_closed, EVTCHNSTAT_unbound, EVTCHNSTAT_interdomain, EVTCHNSTAT_pirq, EVTCHNSTAT_virq, EVTCHNSTAT_ipi]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(EVTCHNSTAT_NAMES).toEqual(['closed', 'unbound', 'interdomain', 'pirq', 'virq', 'ipi']);
  });

  it('a failed op may leave a bucket allocated (get_free_port allocates storage first) but no port changes state', () => {
    const { hv, g } = setup();
    for (let i = 1; i <= 63; i++) call(hv, g, 'bind_ipi', { vcpu: 0 });
    expect(g.ports.valid).toBe(64);
    const before = Array.from(g.ports.state.subarray(0, 64));
    expect(call(hv, g, 'bind_interdomain', { remote_dom: 0, remote_port: 1 }).ret).toBe(-EINVAL);
    expect(g.ports.valid).toBe(128); // as in Xen: buckets are never given back
    expect(Array.from(g.ports.state.subarray(0, 64))).toEqual(before);
    expect(ecs(g, 64)).toBe('free');
    expect(g.ports.active).toBe(63);
  });
});

describe('EVTCHNOP_alloc_unbound', () => {
  it('returns the lowest free port, starting at 1 because port 0 is reserved', () => {
    const { hv, g } = setup();
    expect(ecs(g, 0)).toBe('reserved');
    expect(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 })).toEqual({ ret: 0, out: { port: 1 } });
    expect(port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(2);
    expect(port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(3);
  });

  it('a closed port is reused by the next allocation (lowest free wins)', () => {
    const { hv, g } = setup();
    for (let i = 0; i < 4; i++) call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 });
    expect(call(hv, g, 'close', { port: 2 })).toEqual(ok);
    expect(call(hv, g, 'close', { port: 4 })).toEqual(ok);
    expect(port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(2);
    expect(port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(4);
    expect(port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(5);
  });

  it('makes an UNBOUND port for remote_dom with notify vCPU 0 and nothing pending', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    expect(status(hv, g, DOMID_SELF, p)).toEqual({ ret: 0, out: { status: 'unbound', vcpu: 0, u: { unbound: { dom: 0 } } } });
    expect(pendingBit(g, p)).toBe(0);
  });

  it('DOMID_SELF as remote_dom means the caller, not dom', () => {
    const { hv, dom0, g } = setup();
    const p = port(call(hv, dom0, 'alloc_unbound', { dom: g.domid, remote_dom: DOMID_SELF }));
    expect(g.ports.remoteDom[p]).toBe(dom0.domid);
    expect(status(hv, g, DOMID_SELF, p).out?.u).toEqual({ unbound: { dom: 0 } });
  });

  it('DOMID_SELF as remote_dom of a self-allocation names the caller', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: DOMID_SELF }));
    expect(status(hv, g, g.domid, p).out?.u).toEqual({ unbound: { dom: g.domid } });
  });

  it('remote_dom is not validated: a non-existent domain may be named', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 999 }));
    expect(status(hv, g, DOMID_SELF, p).out?.u).toEqual({ unbound: { dom: 999 } });
  });

  it('dom naming a domain that does not exist returns -ESRCH', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'alloc_unbound', { dom: 7, remote_dom: 0 }), -ESRCH);
    expectNoChange(hv, () => call(hv, g, 'alloc_unbound', { dom: DOMID_IO, remote_dom: 0 }), -ESRCH);
  });

  it('a guest allocating in another domain gets -EPERM and the chosen port stays FREE', () => {
    const { hv, g, h } = setup();
    expectNoChange(hv, () => call(hv, g, 'alloc_unbound', { dom: h.domid, remote_dom: g.domid }), -EPERM);
    expectNoChange(hv, () => call(hv, g, 'alloc_unbound', { dom: 0, remote_dom: g.domid }), -EPERM);
    expect(ecs(h, 1)).toBe('free');
    expect(port(call(hv, h, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(1);
  });

  it('privileged dom0 may allocate in a guest (the toolstack making store/console ports 1 and 2)', () => {
    const { hv, dom0, g } = setup();
    expect(port(call(hv, dom0, 'alloc_unbound', { dom: g.domid, remote_dom: 0 }))).toBe(1);
    expect(port(call(hv, dom0, 'alloc_unbound', { dom: g.domid, remote_dom: 0 }))).toBe(2);
    expect(ecs(g, 1)).toBe('unbound');
    expect(ecs(dom0, 1)).toBe('free');
  });

  it('-ESRCH is checked before the port allocation and permission', () => {
    const { hv, g } = setup();
    const full = addGuest(hv, { maxEvtchnPort: 1 });
    call(hv, full, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 });
    expect(call(hv, g, 'alloc_unbound', { dom: 99, remote_dom: 0 }).ret).toBe(-ESRCH);
  });

  it('an unprivileged caller naming a full domain sees -ENOSPC, not -EPERM (port chosen before the XSM check)', () => {
    const { hv, g } = setup();
    const full = addGuest(hv, { maxEvtchnPort: 2 });
    call(hv, full, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 });
    call(hv, full, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 });
    expectNoChange(hv, () => call(hv, g, 'alloc_unbound', { dom: full.domid, remote_dom: g.domid }), -ENOSPC);
  });

  it('an unprivileged caller naming a dying domain sees -EINVAL, not -EPERM', () => {
    const { hv, g, h } = setup();
    h.state = 'dying'; // between domain_kill and the final destroy
    expect(call(hv, g, 'alloc_unbound', { dom: h.domid, remote_dom: g.domid }).ret).toBe(-EINVAL);
    expect(call(hv, h, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }).ret).toBe(-EINVAL);
  });

  it('a default domU may use ports 1..1023 and gets -ENOSPC for the 1024th', () => {
    const { hv, g } = setup();
    for (let i = 1; i <= 1023; i++) expect(port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(i);
    expectNoChange(hv, () => call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }), -ENOSPC);
    // A freed port below the limit is usable again.
    call(hv, g, 'close', { port: 700 });
    expect(port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(700);
  });

  it('dom0 (max_evtchn_port unlimited) is limited by the 2-level ABI: ports up to 4095', () => {
    const { hv, dom0 } = setup();
    let last = 0;
    for (let i = 1; i <= 4095; i++) last = port(call(hv, dom0, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    expect(last).toBe(4095);
    expect(call(hv, dom0, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }).ret).toBe(-ENOSPC);
  });

  it('max_evtchn_port from the domain config bounds allocation', () => {
    const { hv } = setup();
    const d = addGuest(hv, { maxEvtchnPort: 3 });
    for (let i = 1; i <= 3; i++) expect(port(call(hv, d, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(i);
    expect(call(hv, d, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }).ret).toBe(-ENOSPC);
  });

  it('ports come in buckets of 64: a fresh domain has ports 0..63 valid, the 64th allocation makes 64..127 valid', () => {
    const { hv, g } = setup();
    expect(status(hv, g, DOMID_SELF, 63)).toEqual({ ret: 0, out: { status: 'closed', vcpu: 0 } });
    expect(status(hv, g, DOMID_SELF, 64).ret).toBe(-EINVAL);
    expect(call(hv, g, 'close', { port: 64 }).ret).toBe(-EINVAL);
    for (let i = 1; i <= 63; i++) call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 });
    expect(g.ports.valid).toBe(64);
    expect(port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(64);
    expect(g.ports.valid).toBe(128);
    expect(status(hv, g, DOMID_SELF, 127).out?.status).toBe('closed');
    expect(status(hv, g, DOMID_SELF, 128).ret).toBe(-EINVAL);
    // Buckets are never given back: closing port 64 leaves 64..127 valid.
    call(hv, g, 'close', { port: 64 });
    expect(status(hv, g, DOMID_SELF, 100).out?.status).toBe('closed');
  });
});

describe('EVTCHNOP_bind_interdomain', () => {
  it('connects a new lowest-free local port to the remote unbound port; both ends point at each other', () => {
    const { hv, dom0, g } = setup();
    call(hv, dom0, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }); // dom0 port 1 busy
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    const r = call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp });
    expect(r).toEqual({ ret: 0, out: { local_port: 2 } });
    expect(status(hv, dom0, DOMID_SELF, 2)).toEqual({ ret: 0, out: { status: 'interdomain', vcpu: 0, u: { interdomain: { dom: g.domid, port: gp } } } });
    expect(status(hv, g, DOMID_SELF, gp)).toEqual({ ret: 0, out: { status: 'interdomain', vcpu: 0, u: { interdomain: { dom: 0, port: 2 } } } });
  });

  it('the new local port is always set pending; the remote port is not', () => {
    const { hv, dom0, g } = setup();
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    const lp = port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }));
    expect(pendingBit(dom0, lp)).toBe(1);
    expect(pendingSel(dom0, 0)).toBe(1n);
    expect(pendingBit(g, gp)).toBe(0);
  });

  it('the remote port keeps its notify vCPU and mask bit when it becomes connected', () => {
    const { hv, dom0, g } = setup();
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    expect(call(hv, g, 'bind_vcpu', { port: gp, vcpu: 1 })).toEqual(ok);
    writeMaskBit(g, gp, 1);
    const lp = port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }));
    expect(status(hv, g, DOMID_SELF, gp).out?.vcpu).toBe(1);
    expect(maskBit(g, gp)).toBe(1);
    // A send from dom0 targets vCPU 1 of g, and being masked only sets the pending bit.
    expect(call(hv, dom0, 'send', { port: lp })).toEqual(ok);
    expect(pendingBit(g, gp)).toBe(1);
    expect(pendingSel(g, 1)).toBe(0n);
    writeMaskBit(g, gp, 0);
    expect(call(hv, g, 'close', { port: gp })).toEqual(ok);
  });

  it('an unknown remote_dom returns -ESRCH', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'bind_interdomain', { remote_dom: 42, remote_port: 1 }), -ESRCH);
  });

  it('-ESRCH for the remote domain comes before -ENOSPC for the caller', () => {
    const { hv } = setup();
    const full = addGuest(hv, { maxEvtchnPort: 1 });
    call(hv, full, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 });
    expect(call(hv, full, 'bind_interdomain', { remote_dom: 42, remote_port: 1 }).ret).toBe(-ESRCH);
  });

  it('-ENOSPC for the local port comes before -EINVAL for a bad remote port', () => {
    const { hv, g } = setup();
    const full = addGuest(hv, { maxEvtchnPort: 1 });
    call(hv, full, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 });
    expectNoChange(hv, () => call(hv, full, 'bind_interdomain', { remote_dom: g.domid, remote_port: 4000 }), -ENOSPC);
  });

  it('a remote port that is not valid in the remote domain returns -EINVAL', () => {
    const { hv, dom0, g } = setup();
    expectNoChange(hv, () => call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: 4000 }), -EINVAL);
    expectNoChange(hv, () => call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: 64 }), -EINVAL);
  });

  it('remote port 0 (reserved), a free port, or a port in another state returns -EINVAL', () => {
    const { hv, dom0, g } = setup();
    expectNoChange(hv, () => call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: 0 }), -EINVAL);
    expectNoChange(hv, () => call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: 10 }), -EINVAL);
    const ipi = port(call(hv, g, 'bind_ipi', { vcpu: 0 }));
    expectNoChange(hv, () => call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: ipi }), -EINVAL);
  });

  it('an already connected remote port returns -EINVAL', () => {
    const { hv, dom0, g } = setup();
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }));
    expectNoChange(hv, () => call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }), -EINVAL);
  });

  it('an unbound port reserved for a different domain returns -EINVAL', () => {
    const { hv, dom0, g, h } = setup();
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: h.domid }));
    expectNoChange(hv, () => call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }), -EINVAL);
    // Even a privileged domain cannot bind a port meant for someone else; h can.
    expect(port(call(hv, h, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }))).toBe(1);
  });

  it('loopback: alloc_unbound(SELF, SELF) then bind_interdomain(SELF, p1) gives p2 != p1, each pointing at the other', () => {
    const { hv, g } = setup();
    const p1 = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: DOMID_SELF }));
    const p2 = port(call(hv, g, 'bind_interdomain', { remote_dom: DOMID_SELF, remote_port: p1 }));
    expect(p2).not.toBe(p1);
    expect(status(hv, g, DOMID_SELF, p1).out?.u).toEqual({ interdomain: { dom: g.domid, port: p2 } });
    expect(status(hv, g, DOMID_SELF, p2).out?.u).toEqual({ interdomain: { dom: g.domid, port: p1 } });
    // p2 was made pending by the bind; clear it, then sends cross over.
    g.sharedInfo[2048] = 0;
    expect(call(hv, g, 'send', { port: p1 })).toEqual(ok);
    expect([pendingBit(g, p1), pendingBit(g, p2)]).toEqual([0, 1]);
    g.sharedInfo[2048] = 0;
    expect(call(hv, g, 'send', { port: p2 })).toEqual(ok);
    expect([pendingBit(g, p1), pendingBit(g, p2)]).toEqual([1, 0]);
  });

  it('a dying caller gets -EINVAL from the local port allocation', () => {
    const { hv, g, h } = setup();
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: h.domid }));
    h.state = 'dying';
    expect(call(hv, h, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }).ret).toBe(-EINVAL);
    expect(ecs(g, gp)).toBe('unbound');
  });
});

describe('EVTCHNOP_bind_virq', () => {
  it('binds a per-vCPU VIRQ on the named vCPU; status shows virq and vcpu', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'bind_virq', { virq: VIRQ_DEBUG, vcpu: 1 }));
    expect(status(hv, g, DOMID_SELF, p)).toEqual({ ret: 0, out: { status: 'virq', vcpu: 1, u: { virq: VIRQ_DEBUG } } });
    expect(g.vcpus[1]!.virqToPort[VIRQ_DEBUG]).toBe(p);
    expect(g.vcpus[0]!.virqToPort[VIRQ_DEBUG]).toBe(0);
  });

  it('a per-vCPU VIRQ may be bound once on each vCPU', () => {
    const { hv, g } = setup();
    expect(port(call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 0 }))).toBe(1);
    expect(port(call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 1 }))).toBe(2);
  });

  it('virq >= NR_VIRQS (24) returns -EINVAL, including 0xFFFFFFFF', () => {
    const { hv, g } = setup();
    expect(NR_VIRQS).toBe(24);
    expectNoChange(hv, () => call(hv, g, 'bind_virq', { virq: 24, vcpu: 0 }), -EINVAL);
    expectNoChange(hv, () => call(hv, g, 'bind_virq', { virq: 0xffffffff, vcpu: 0 }), -EINVAL);
  });

  it('a per-domain or global VIRQ with vcpu != 0 returns -EINVAL', () => {
    const { hv, dom0, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'bind_virq', { virq: VIRQ_ARGO, vcpu: 1 }), -EINVAL);
    expectNoChange(hv, () => call(hv, dom0, 'bind_virq', { virq: VIRQ_DOM_EXC, vcpu: 1 }), -EINVAL);
  });

  it('-EINVAL for vcpu != 0 on a non-per-vCPU VIRQ comes before -ENOENT for a missing vCPU', () => {
    const { hv, g } = setup();
    expect(call(hv, g, 'bind_virq', { virq: VIRQ_ARGO, vcpu: 9 }).ret).toBe(-EINVAL);
  });

  it('a vCPU that does not exist returns -ENOENT', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 2 }), -ENOENT);
    expectNoChange(hv, () => call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 31 }), -ENOENT);
  });

  it('bind_virq of a global VIRQ by a non-handler domain returns -EBUSY', () => {
    const { hv, g } = setup();
    for (const virq of [VIRQ_CONSOLE, VIRQ_DOM_EXC, VIRQ_MCA]) expectNoChange(hv, () => call(hv, g, 'bind_virq', { virq, vcpu: 0 }), -EBUSY);
  });

  it('undefined VIRQ numbers 5, 14, 15 and VIRQ_ARCH_0..7 are global: dom0 binds them, a guest gets -EBUSY', () => {
    const { hv, dom0, g } = setup();
    for (const virq of [5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]) {
      expect(VIRQS[virq]!.type).toBe('global');
      expect(call(hv, g, 'bind_virq', { virq, vcpu: 0 }).ret).toBe(-EBUSY);
      expect(call(hv, dom0, 'bind_virq', { virq, vcpu: 0 }).ret).toBe(0);
    }
  });

  it('VIRQ types follow get_virq_type: TIMER, DEBUG, XENOPROF, XENPMU per-vCPU; ARGO per-domain; the rest global', () => {
    const perVcpu = VIRQS.filter((v) => v.type === 'vcpu').map((v) => v.num);
    const perDomain = VIRQS.filter((v) => v.type === 'domain').map((v) => v.num);
    expect(perVcpu).toEqual([0, 1, 7, 13]);
    expect(perDomain).toEqual([11]);
  });

  it('the hardware domain (dom0) is the default handler of global VIRQs and may bind them', () => {
    const { hv, dom0 } = setup();
    const p = port(call(hv, dom0, 'bind_virq', { virq: VIRQ_DOM_EXC, vcpu: 0 }));
    expect(status(hv, dom0, DOMID_SELF, p).out).toEqual({ status: 'virq', vcpu: 0, u: { virq: VIRQ_DOM_EXC } });
  });

  it('a per-domain VIRQ (VIRQ_ARGO) may be bound by a guest', () => {
    const { hv, g } = setup();
    expect(call(hv, g, 'bind_virq', { virq: VIRQ_ARGO, vcpu: 0 })).toEqual({ ret: 0, out: { port: 1 } });
  });

  it('binding a VIRQ already bound on that vCPU returns -EEXIST', () => {
    const { hv, dom0, g } = setup();
    call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 1 });
    expectNoChange(hv, () => call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 1 }), -EEXIST);
    call(hv, g, 'bind_virq', { virq: VIRQ_ARGO, vcpu: 0 });
    expectNoChange(hv, () => call(hv, g, 'bind_virq', { virq: VIRQ_ARGO, vcpu: 0 }), -EEXIST);
    call(hv, dom0, 'bind_virq', { virq: VIRQ_DOM_EXC, vcpu: 0 });
    expectNoChange(hv, () => call(hv, dom0, 'bind_virq', { virq: VIRQ_DOM_EXC, vcpu: 0 }), -EEXIST);
  });

  it('a per-domain VIRQ moved to another vCPU still counts as bound (checked on vCPU 0)', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'bind_virq', { virq: VIRQ_ARGO, vcpu: 0 }));
    call(hv, g, 'bind_vcpu', { port: p, vcpu: 1 });
    expect(call(hv, g, 'bind_virq', { virq: VIRQ_ARGO, vcpu: 0 }).ret).toBe(-EEXIST);
  });

  it('-EEXIST comes before -ENOSPC', () => {
    const { hv } = setup();
    const d = addGuest(hv, { maxEvtchnPort: 1 });
    expect(port(call(hv, d, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 0 }))).toBe(1);
    expect(call(hv, d, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 0 }).ret).toBe(-EEXIST);
    expect(call(hv, d, 'bind_virq', { virq: VIRQ_DEBUG, vcpu: 0 }).ret).toBe(-ENOSPC);
  });

  it('-EBUSY for a global VIRQ comes before -ENOSPC', () => {
    const { hv } = setup();
    const d = addGuest(hv, { maxEvtchnPort: 1 });
    call(hv, d, 'bind_ipi', { vcpu: 0 });
    expect(call(hv, d, 'bind_virq', { virq: VIRQ_DOM_EXC, vcpu: 0 }).ret).toBe(-EBUSY);
  });

  it('after close the VIRQ can be bound again', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'bind_virq', { virq: VIRQ_DEBUG, vcpu: 1 }));
    expect(call(hv, g, 'close', { port: p })).toEqual(ok);
    expect(g.vcpus[1]!.virqToPort[VIRQ_DEBUG]).toBe(0);
    expect(port(call(hv, g, 'bind_virq', { virq: VIRQ_DEBUG, vcpu: 1 }))).toBe(p);
  });

  it('XEN_DOMCTL_set_virq_handler moves a global VIRQ: the new handler binds, dom0 then gets -EBUSY', () => {
    const { hv, dom0, g } = setup();
    expect(call(hv, dom0, 'set_virq_handler', { domid: g.domid, virq: VIRQ_CONSOLE })).toEqual(ok);
    expect(call(hv, dom0, 'bind_virq', { virq: VIRQ_CONSOLE, vcpu: 0 }).ret).toBe(-EBUSY);
    expect(call(hv, g, 'bind_virq', { virq: VIRQ_CONSOLE, vcpu: 0 }).ret).toBe(0);
  });

  it('set_virq_handler refuses (-EBUSY) while the old handler still has the VIRQ bound, -EINVAL for a non-global VIRQ, -EPERM from a guest', () => {
    const { hv, dom0, g } = setup();
    const p = port(call(hv, dom0, 'bind_virq', { virq: VIRQ_CONSOLE, vcpu: 0 }));
    expect(call(hv, dom0, 'set_virq_handler', { domid: g.domid, virq: VIRQ_CONSOLE }).ret).toBe(-EBUSY);
    call(hv, dom0, 'close', { port: p });
    expect(call(hv, dom0, 'set_virq_handler', { domid: g.domid, virq: VIRQ_CONSOLE }).ret).toBe(0);
    expect(call(hv, dom0, 'set_virq_handler', { domid: g.domid, virq: VIRQ_TIMER }).ret).toBe(-EINVAL);
    expect(call(hv, g, 'set_virq_handler', { domid: g.domid, virq: VIRQ_DOM_EXC }).ret).toBe(-EPERM);
  });
});

describe('EVTCHNOP_bind_pirq', () => {
  it('binds a permitted PIRQ on vCPU 0; status shows pirq', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'bind_pirq', { pirq: 5 }));
    expect(status(hv, g, DOMID_SELF, p)).toEqual({ ret: 0, out: { status: 'pirq', vcpu: 0, u: { pirq: 5 } } });
  });

  it('a PIRQ the domain has no I/O permission for returns -EPERM', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'bind_pirq', { pirq: 6 }), -EPERM);
  });

  it('pirq >= nr_pirqs returns -EINVAL, before the permission check', () => {
    const { hv, g } = setup();
    expect(g.nrPirqs).toBe(24 + 32);
    expectNoChange(hv, () => call(hv, g, 'bind_pirq', { pirq: 56 }), -EINVAL);
    expectNoChange(hv, () => call(hv, g, 'bind_pirq', { pirq: 1000 }), -EINVAL);
  });

  it('a PIRQ already bound in the domain returns -EEXIST', () => {
    const { hv, g } = setup();
    call(hv, g, 'bind_pirq', { pirq: 5 });
    expectNoChange(hv, () => call(hv, g, 'bind_pirq', { pirq: 5, flags: 1 }), -EEXIST);
  });

  it('-EEXIST comes before -ENOSPC', () => {
    const { hv } = setup();
    const d = addGuest(hv, { maxEvtchnPort: 1, pirqs: [3, 4] });
    call(hv, d, 'bind_pirq', { pirq: 3 });
    expect(call(hv, d, 'bind_pirq', { pirq: 3 }).ret).toBe(-EEXIST);
    expect(call(hv, d, 'bind_pirq', { pirq: 4 }).ret).toBe(-ENOSPC);
  });

  it('the hardware domain may bind any PIRQ below its nr_pirqs', () => {
    const { hv, dom0 } = setup();
    expect(dom0.nrPirqs).toBe(24 + 256);
    expect(call(hv, dom0, 'bind_pirq', { pirq: 279 }).ret).toBe(0);
    expect(call(hv, dom0, 'bind_pirq', { pirq: 280 }).ret).toBe(-EINVAL);
  });

  it('close unbinds the PIRQ so it can be bound again, and a raised PIRQ marks its port pending', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'bind_pirq', { pirq: 5 }));
    expect(evtchn.sendGuestPirq(hv, g, 5)).toBe(p);
    expect(pendingBit(g, p)).toBe(1);
    call(hv, g, 'close', { port: p });
    expect(evtchn.sendGuestPirq(hv, g, 5)).toBe(0);
    expect(port(call(hv, g, 'bind_pirq', { pirq: 5 }))).toBe(p);
  });
});

describe('EVTCHNOP_bind_ipi', () => {
  it('binds an IPI to the named vCPU; status shows ipi and vcpu', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'bind_ipi', { vcpu: 1 }));
    expect(status(hv, g, DOMID_SELF, p)).toEqual({ ret: 0, out: { status: 'ipi', vcpu: 1 } });
  });

  it('a vCPU that does not exist returns -ENOENT', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'bind_ipi', { vcpu: 2 }), -ENOENT);
  });

  it('a full domain returns -ENOSPC; -ENOENT is checked first', () => {
    const { hv } = setup();
    const d = addGuest(hv, { maxEvtchnPort: 1 });
    call(hv, d, 'bind_ipi', { vcpu: 0 });
    expect(call(hv, d, 'bind_ipi', { vcpu: 0 }).ret).toBe(-ENOSPC);
    expect(call(hv, d, 'bind_ipi', { vcpu: 1 }).ret).toBe(-ENOENT);
  });

  it('send on an IPI port sets the same port pending and notifies its bound vCPU', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'bind_ipi', { vcpu: 1 }));
    expect(call(hv, g, 'send', { port: p })).toEqual(ok);
    expect(pendingBit(g, p)).toBe(1);
    expect(pendingSel(g, 1)).toBe(1n);
    expect(pendingSel(g, 0)).toBe(0n);
  });
});

describe('EVTCHNOP_close', () => {
  it('a port that is not valid returns -EINVAL', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'close', { port: 64 }), -EINVAL);
    expectNoChange(hv, () => call(hv, g, 'close', { port: 0xffffffff }), -EINVAL);
  });

  it('port 0 (reserved) and a free port return -EINVAL', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'close', { port: 0 }), -EINVAL);
    expectNoChange(hv, () => call(hv, g, 'close', { port: 5 }), -EINVAL);
  });

  it('closing twice: the second close returns -EINVAL', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'bind_ipi', { vcpu: 0 }));
    expect(call(hv, g, 'close', { port: p })).toEqual(ok);
    expectNoChange(hv, () => call(hv, g, 'close', { port: p }), -EINVAL);
  });

  it('a Xen-consumer port cannot be closed by the guest (-EINVAL)', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    g.ports.xenConsumer[p] = 1; // as alloc_unbound_xen_event_channel leaves it
    expectNoChange(hv, () => call(hv, g, 'close', { port: p }), -EINVAL);
    expectNoChange(hv, () => call(hv, g, 'send', { port: p }), -EINVAL);
    expectNoChange(hv, () => call(hv, g, 'bind_vcpu', { port: p, vcpu: 1 }), -EINVAL);
    // status works normally; unmask is silently ignored.
    expect(status(hv, g, DOMID_SELF, p).out?.status).toBe('unbound');
    expect(call(hv, g, 'unmask', { port: p })).toEqual(ok);
  });

  it('closing an interdomain port turns the peer UNBOUND with remote = the closing domain', () => {
    const { hv, dom0, g } = setup();
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    const lp = port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }));
    expect(call(hv, dom0, 'close', { port: lp })).toEqual(ok);
    expect(status(hv, g, DOMID_SELF, gp).out).toEqual({ status: 'unbound', vcpu: 0, u: { unbound: { dom: 0 } } });
    expect(status(hv, dom0, DOMID_SELF, lp).out).toEqual({ status: 'closed', vcpu: 0 });
    // The same domain may bind to it again.
    expect(port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }))).toBe(lp);
  });

  it("closing an interdomain port leaves the peer's pending bit, mask bit and notify vCPU alone", () => {
    const { hv, dom0, g } = setup();
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    call(hv, g, 'bind_vcpu', { port: gp, vcpu: 1 });
    const lp = port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }));
    writeMaskBit(g, gp, 1);
    call(hv, dom0, 'send', { port: lp });
    expect(pendingBit(g, gp)).toBe(1);
    call(hv, dom0, 'close', { port: lp });
    expect(pendingBit(g, gp)).toBe(1);
    expect(maskBit(g, gp)).toBe(1);
    expect(status(hv, g, DOMID_SELF, gp).out?.vcpu).toBe(1);
  });

  it('the guest closing its end of a connected channel turns the dom0 end UNBOUND with remote = guest', () => {
    const { hv, dom0, g } = setup();
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    const lp = port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }));
    call(hv, g, 'close', { port: gp });
    expect(status(hv, dom0, DOMID_SELF, lp).out?.u).toEqual({ unbound: { dom: g.domid } });
  });

  it('closing one end of a loopback channel leaves the other UNBOUND for the same domain', () => {
    const { hv, g } = setup();
    const p1 = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: DOMID_SELF }));
    const p2 = port(call(hv, g, 'bind_interdomain', { remote_dom: DOMID_SELF, remote_port: p1 }));
    expect(call(hv, g, 'close', { port: p1 })).toEqual(ok);
    expect(status(hv, g, DOMID_SELF, p2).out).toEqual({ status: 'unbound', vcpu: 0, u: { unbound: { dom: g.domid } } });
    expect(call(hv, g, 'close', { port: p2 })).toEqual(ok);
  });

  it('close clears the pending bit, resets notify vCPU to 0, and leaves the mask bit (the guest owns it)', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'bind_ipi', { vcpu: 1 }));
    writeMaskBit(g, p, 1);
    call(hv, g, 'send', { port: p });
    expect(pendingBit(g, p)).toBe(1);
    expect(call(hv, g, 'close', { port: p })).toEqual(ok);
    expect(pendingBit(g, p)).toBe(0);
    expect(maskBit(g, p)).toBe(1);
    expect(g.ports.notifyVcpu[p]).toBe(0);
    // A fresh allocation of the same port starts with notify vCPU 0 and nothing pending.
    expect(port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(p);
    expect(status(hv, g, DOMID_SELF, p).out?.vcpu).toBe(0);
    expect(pendingBit(g, p)).toBe(0);
  });

  it('closing a per-vCPU VIRQ clears virq_to_evtchn on its vCPU; a global VIRQ on vCPU 0', () => {
    const { hv, dom0, g } = setup();
    const t = port(call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 1 }));
    call(hv, g, 'close', { port: t });
    expect(g.vcpus[1]!.virqToPort[VIRQ_TIMER]).toBe(0);
    const e = port(call(hv, dom0, 'bind_virq', { virq: VIRQ_DOM_EXC, vcpu: 0 }));
    call(hv, dom0, 'close', { port: e });
    expect(dom0.vcpus[0]!.virqToPort[VIRQ_DOM_EXC]).toBe(0);
    expect(call(hv, dom0, 'bind_virq', { virq: VIRQ_DOM_EXC, vcpu: 0 }).ret).toBe(0);
  });

  it('closing an UNBOUND port frees it', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    expect(call(hv, g, 'close', { port: p })).toEqual(ok);
    expect(ecs(g, p)).toBe('free');
    expect(g.ports.active).toBe(0);
  });
});

describe('EVTCHNOP_send', () => {
  it('a port that is not valid returns -EINVAL', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'send', { port: 64 }), -EINVAL);
  });

  it('a free port, port 0, a VIRQ port and a PIRQ port return -EINVAL', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'send', { port: 3 }), -EINVAL);
    expectNoChange(hv, () => call(hv, g, 'send', { port: 0 }), -EINVAL);
    const v = port(call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 0 }));
    expectNoChange(hv, () => call(hv, g, 'send', { port: v }), -EINVAL);
    const p = port(call(hv, g, 'bind_pirq', { pirq: 5 }));
    expectNoChange(hv, () => call(hv, g, 'send', { port: p }), -EINVAL);
  });

  it('send on an UNBOUND port is silently dropped: rc 0 and nothing changes', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    expectNoChange(hv, () => call(hv, g, 'send', { port: p }), 0);
  });

  it("send on an interdomain port sets the remote port pending, targeting the remote port's notify vCPU", () => {
    const { hv, dom0, g } = setup();
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    const lp = port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }));
    call(hv, g, 'bind_vcpu', { port: gp, vcpu: 1 });
    expect(call(hv, dom0, 'send', { port: lp })).toEqual(ok);
    expect(pendingBit(g, gp)).toBe(1);
    expect(pendingSel(g, 1)).toBe(1n);
    expect(pendingSel(g, 0)).toBe(0n);
  });
});

describe('EVTCHNOP_status', () => {
  it('an unknown dom returns -ESRCH', () => {
    const { hv, g } = setup();
    expect(status(hv, g, 77, 1).ret).toBe(-ESRCH);
  });

  it('a port not valid in that domain returns -EINVAL, checked before permission', () => {
    const { hv, g } = setup();
    expect(status(hv, g, DOMID_SELF, 64).ret).toBe(-EINVAL);
    expect(status(hv, g, 0, 5000).ret).toBe(-EINVAL);
  });

  it("a guest asking about another domain's valid port gets -EPERM", () => {
    const { hv, g, h } = setup();
    expect(status(hv, g, 0, 1)).toEqual({ ret: -EPERM });
    expect(status(hv, g, h.domid, 0)).toEqual({ ret: -EPERM });
  });

  it("privileged dom0 may read a guest's port status", () => {
    const { hv, dom0, g } = setup();
    const p = port(call(hv, g, 'bind_ipi', { vcpu: 1 }));
    expect(status(hv, dom0, g.domid, p)).toEqual({ ret: 0, out: { status: 'ipi', vcpu: 1 } });
  });

  it('port 0 and free ports report closed with vcpu 0 and no union', () => {
    const { hv, g } = setup();
    expect(status(hv, g, DOMID_SELF, 0)).toEqual({ ret: 0, out: { status: 'closed', vcpu: 0 } });
    expect(status(hv, g, g.domid, 63)).toEqual({ ret: 0, out: { status: 'closed', vcpu: 0 } });
  });

  it('DOMID_SELF and the caller\'s own id give the same answer', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    expect(status(hv, g, DOMID_SELF, p)).toEqual(status(hv, g, g.domid, p));
  });
});

describe('EVTCHNOP_bind_vcpu', () => {
  it('a vCPU that does not exist returns -ENOENT, checked before the port', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'bind_vcpu', { port: 5000, vcpu: 9 }), -ENOENT);
    const p = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    expectNoChange(hv, () => call(hv, g, 'bind_vcpu', { port: p, vcpu: 2 }), -ENOENT);
  });

  it('a port that is not valid returns -EINVAL', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'bind_vcpu', { port: 64, vcpu: 1 }), -EINVAL);
  });

  it('IPI, free and reserved ports return -EINVAL', () => {
    const { hv, g } = setup();
    const ipi = port(call(hv, g, 'bind_ipi', { vcpu: 0 }));
    expectNoChange(hv, () => call(hv, g, 'bind_vcpu', { port: ipi, vcpu: 1 }), -EINVAL);
    expectNoChange(hv, () => call(hv, g, 'bind_vcpu', { port: 9, vcpu: 1 }), -EINVAL);
    expectNoChange(hv, () => call(hv, g, 'bind_vcpu', { port: 0, vcpu: 1 }), -EINVAL);
  });

  it('a per-vCPU VIRQ port cannot be moved (-EINVAL); a per-domain VIRQ port can', () => {
    const { hv, g } = setup();
    const t = port(call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 0 }));
    expectNoChange(hv, () => call(hv, g, 'bind_vcpu', { port: t, vcpu: 1 }), -EINVAL);
    const a = port(call(hv, g, 'bind_virq', { virq: VIRQ_ARGO, vcpu: 0 }));
    expect(call(hv, g, 'bind_vcpu', { port: a, vcpu: 1 })).toEqual(ok);
    expect(status(hv, g, DOMID_SELF, a).out?.vcpu).toBe(1);
    // send_guest_domain_virq now targets vCPU 1.
    evtchn.sendGuestDomainVirq(hv, g, VIRQ_ARGO);
    expect(pendingBit(g, a)).toBe(1);
    expect(pendingSel(g, 1)).toBe(1n);
    expect(pendingSel(g, 0)).toBe(0n);
  });

  it('a global VIRQ port can be moved by its handler', () => {
    const m = newMachine();
    const hv = m.hv;
    const d0 = hv.createDomain({ name: 'x', vcpus: 2 }); // domid 1, made handler of VIRQ_CONSOLE
    expect(call(hv, m.dom0, 'set_virq_handler', { domid: d0.domid, virq: VIRQ_CONSOLE })).toEqual(ok);
    const p = port(call(hv, d0, 'bind_virq', { virq: VIRQ_CONSOLE, vcpu: 0 }));
    expect(call(hv, d0, 'bind_vcpu', { port: p, vcpu: 1 })).toEqual(ok);
    evtchn.sendGlobalVirq(hv, VIRQ_CONSOLE);
    expect(pendingSel(d0, 1)).toBe(1n);
  });

  it('an UNBOUND port may be moved and keeps the vCPU once connected; a PIRQ port may be moved', () => {
    const { hv, dom0, g } = setup();
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    expect(call(hv, g, 'bind_vcpu', { port: gp, vcpu: 1 })).toEqual(ok);
    call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp });
    expect(status(hv, g, DOMID_SELF, gp).out?.vcpu).toBe(1);
    expect(call(hv, g, 'bind_vcpu', { port: gp, vcpu: 0 })).toEqual(ok);
    const pp = port(call(hv, g, 'bind_pirq', { pirq: 5 }));
    expect(call(hv, g, 'bind_vcpu', { port: pp, vcpu: 1 })).toEqual(ok);
    expect(status(hv, g, DOMID_SELF, pp).out?.vcpu).toBe(1);
    expect(call(hv, g, 'bind_vcpu', { port: pp, vcpu: 1 })).toEqual(ok); // same vCPU: no-op
  });

  it('only future notifications follow: a selector bit already set stays on the old vCPU', () => {
    const { hv, dom0, g } = setup();
    kernelMaskUpcalls(g);
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    const lp = port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }));
    call(hv, dom0, 'send', { port: lp });
    expect(pendingSel(g, 0)).toBe(1n);
    call(hv, g, 'bind_vcpu', { port: gp, vcpu: 1 });
    expect(pendingSel(g, 0)).toBe(1n);
    expect(pendingSel(g, 1)).toBe(0n);
  });
});

/** Keeps the guest from running its upcall handler so bits stay observable. */
function kernelMaskUpcalls(d: ReturnType<typeof setup>['g']): void {
  for (const v of d.vcpus) d.sharedInfo[v.upcallAt + 1] = 1;
}

describe('EVTCHNOP_unmask', () => {
  it('a port that is not valid returns -EINVAL', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'unmask', { port: 64 }), -EINVAL);
  });

  it('a valid but free or reserved port is a silent no-op returning 0 (mask bit untouched)', () => {
    const { hv, g } = setup();
    writeMaskBit(g, 9, 1);
    writeMaskBit(g, 0, 1);
    expectNoChange(hv, () => call(hv, g, 'unmask', { port: 9 }), 0);
    expectNoChange(hv, () => call(hv, g, 'unmask', { port: 0 }), 0);
    expect(maskBit(g, 9)).toBe(1);
  });

  it('a usable port has its mask bit cleared', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'bind_ipi', { vcpu: 0 }));
    writeMaskBit(g, p, 1);
    expect(call(hv, g, 'unmask', { port: p })).toEqual(ok);
    expect(maskBit(g, p)).toBe(0);
  });
});

describe('EVTCHNOP_reset / reset_cont', () => {
  it('an unknown dom returns -ESRCH', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'reset', { dom: 55 }), -ESRCH);
  });

  it('a guest resetting another domain gets -EPERM', () => {
    const { hv, g, h } = setup();
    expectNoChange(hv, () => call(hv, g, 'reset', { dom: 0 }), -EPERM);
    hv.pause(h);
    expectNoChange(hv, () => call(hv, g, 'reset', { dom: h.domid }), -EPERM);
  });

  it('dom0 resetting a guest that is not paused gets -EINVAL; paused, it succeeds', () => {
    const { hv, dom0, g } = setup();
    call(hv, g, 'bind_ipi', { vcpu: 0 });
    expectNoChange(hv, () => call(hv, dom0, 'reset', { dom: g.domid }), -EINVAL);
    expect(hv.pause(g)).toBe(0);
    expect(call(hv, dom0, 'reset', { dom: g.domid })).toEqual(ok);
    expect(ecs(g, 1)).toBe('free');
  });

  it('a domain may reset itself without being paused (DOMID_SELF)', () => {
    const { hv, g } = setup();
    call(hv, g, 'bind_ipi', { vcpu: 0 });
    expect(call(hv, g, 'reset', { dom: DOMID_SELF })).toEqual(ok);
  });

  it('reset_cont with no reset in progress returns -EBUSY, after the -ESRCH/-EPERM/-EINVAL checks', () => {
    const { hv, dom0, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'reset_cont', { dom: DOMID_SELF }), -EBUSY);
    expect(call(hv, g, 'reset_cont', { dom: 99 }).ret).toBe(-ESRCH);
    expect(call(hv, g, 'reset_cont', { dom: 0 }).ret).toBe(-EPERM);
    expect(call(hv, dom0, 'reset_cont', { dom: g.domid }).ret).toBe(-EINVAL);
    hv.pause(g);
    expect(call(hv, dom0, 'reset_cont', { dom: g.domid }).ret).toBe(-EBUSY);
  });

  it('reset closes every port: peers go UNBOUND (remote = reset domain), VIRQs unbound, port 0 stays reserved, next port is 1', () => {
    const { hv, dom0, g } = setup();
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    const lp = port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }));
    call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 1 });
    call(hv, g, 'bind_pirq', { pirq: 5 });
    call(hv, g, 'bind_ipi', { vcpu: 1 });
    expect(call(hv, g, 'reset', { dom: DOMID_SELF })).toEqual(ok);
    for (let p = 1; p < 64; p++) expect(ecs(g, p)).toBe('free');
    expect(ecs(g, 0)).toBe('reserved');
    expect(g.ports.active).toBe(0);
    expect(g.vcpus[1]!.virqToPort[VIRQ_TIMER]).toBe(0);
    expect(g.pirqToPort.size).toBe(0);
    expect(status(hv, dom0, DOMID_SELF, lp).out?.u).toEqual({ unbound: { dom: g.domid } });
    expect(port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(1);
  });

  it('reset of a FIFO domain returns it to the 2-level ABI', () => {
    const { hv } = setup();
    const f = addGuest(hv, { abi: 'fifo' });
    expect(f.ops.name).toBe('fifo');
    call(hv, f, 'bind_ipi', { vcpu: 0 });
    expect(call(hv, f, 'reset', { dom: DOMID_SELF })).toEqual(ok);
    expect(f.ops.name).toBe('2l');
    expect(f.fifoArray).toBeNull();
    expect(call(hv, f, 'expand_array', { array_gfn: FIRST_FREE_GFN }).ret).toBe(-EOPNOTSUPP);
    expect(call(hv, f, 'set_priority', { port: 1, priority: 3 }).ret).toBe(-ENOSYS);
  });
});

describe('EVTCHNOP_init_control', () => {
  it('switches the domain to FIFO on the first call and returns link_bits 17', () => {
    const { hv, g } = setup();
    const r = call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 0, vcpu: 0 });
    expect(r).toEqual({ ret: 0, out: { link_bits: 17 } });
    expect(g.ops.name).toBe('fifo');
    expect(g.fifoArray).toEqual([]);
    expect(g.vcpus.every((v) => v.fifo !== null)).toBe(true);
    expect(g.vcpus[1]!.fifo!.controlPage).toBeNull();
  });

  it('a vCPU that does not exist returns -ENOENT, before the offset checks', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 0, vcpu: 2 }), -ENOENT);
    expect(call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 4, vcpu: 7 })).toEqual({ ret: -ENOENT });
  });

  it('offset > PAGE_SIZE - 72 (4024) returns -EINVAL; 4024 itself is accepted', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 4032, vcpu: 0 }), -EINVAL);
    expect(call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 4024, vcpu: 0 }).ret).toBe(0);
  });

  it('an offset that is not a multiple of 8 returns -EINVAL', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 12, vcpu: 0 }), -EINVAL);
    expectNoChange(hv, () => call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 4028, vcpu: 0 }), -EINVAL);
  });

  it('a bad gfn returns -EINVAL and the domain stays 2-level; expand_array then gives -EOPNOTSUPP (XTF xsa-188)', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'init_control', { control_gfn: g.memory.nrPages, offset: 0, vcpu: 0 }), -EINVAL);
    expect(g.ops.name).toBe('2l');
    expect(call(hv, g, 'expand_array', { array_gfn: FIRST_FREE_GFN }).ret).toBe(-EOPNOTSUPP);
  });

  it('a second control block for the same vCPU returns -EINVAL; another vCPU may register', () => {
    const { hv, g } = setup();
    call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 0, vcpu: 0 });
    expectNoChange(hv, () => call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN + 1, offset: 0, vcpu: 0 }), -EINVAL);
    expect(call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN + 1, offset: 0, vcpu: 1 })).toEqual({ ret: 0, out: { link_bits: 17 } });
  });

  it('switching sets every bound port to the default priority 7', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'bind_ipi', { vcpu: 0 }));
    g.ports.priority[p] = 3;
    call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 0, vcpu: 0 });
    expect(g.ports.priority[p]).toBe(EVTCHN_FIFO_PRIORITY_DEFAULT);
  });

  it('FIFO raises dom0 beyond 4095 ports but leaves a domU at max_evtchn_port 1023', () => {
    const { hv, dom0, g } = setup();
    call(hv, dom0, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 0, vcpu: 0 });
    for (let i = 1; i <= 4096; i++) call(hv, dom0, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 });
    expect(ecs(dom0, 4096)).toBe('unbound');
    call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 0, vcpu: 0 });
    for (let i = 1; i <= 1023; i++) call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 });
    expect(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }).ret).toBe(-ENOSPC);
  });
});

describe('EVTCHNOP_expand_array', () => {
  it('a domain not using FIFO gets -EOPNOTSUPP', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'expand_array', { array_gfn: FIRST_FREE_GFN }), -EOPNOTSUPP);
  });

  it('a bad gfn returns -EINVAL', () => {
    const { hv, g } = setup();
    call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 0, vcpu: 0 });
    expectNoChange(hv, () => call(hv, g, 'expand_array', { array_gfn: g.memory.nrPages + 5 }), -EINVAL);
  });

  it('adds 1024 event words per page, and the 129th page returns -ENOSPC', () => {
    const { hv, g } = setup();
    call(hv, g, 'init_control', { control_gfn: FIRST_FREE_GFN, offset: 0, vcpu: 0 });
    for (let i = 0; i < 128; i++) expect(call(hv, g, 'expand_array', { array_gfn: FIRST_FREE_GFN + 1 + i })).toEqual(ok);
    expect(g.fifoArray!.length).toBe(128);
    expectNoChange(hv, () => call(hv, g, 'expand_array', { array_gfn: FIRST_FREE_GFN + 200 }), -ENOSPC);
    // -ENOSPC comes before the gfn check.
    expect(call(hv, g, 'expand_array', { array_gfn: g.memory.nrPages }).ret).toBe(-ENOSPC);
  });
});

describe('EVTCHNOP_set_priority', () => {
  it('a port that is not valid returns -EINVAL, under either ABI', () => {
    const { hv, g } = setup();
    expectNoChange(hv, () => call(hv, g, 'set_priority', { port: 64, priority: 1 }), -EINVAL);
    const f = addGuest(hv, { abi: 'fifo' });
    expectNoChange(hv, () => call(hv, f, 'set_priority', { port: 64, priority: 1 }), -EINVAL);
  });

  it('under 2-level returns -ENOSYS, even for a bound port', () => {
    const { hv, g } = setup();
    const p = port(call(hv, g, 'bind_ipi', { vcpu: 0 }));
    expectNoChange(hv, () => call(hv, g, 'set_priority', { port: p, priority: 1 }), -ENOSYS);
    expectNoChange(hv, () => call(hv, g, 'set_priority', { port: 5, priority: 99 }), -ENOSYS);
  });

  it('under FIFO a free or reserved port returns -EACCES, before the priority range check', () => {
    const { hv } = setup();
    const f = addGuest(hv, { abi: 'fifo' });
    expectNoChange(hv, () => call(hv, f, 'set_priority', { port: 5, priority: 1 }), -EACCES);
    expectNoChange(hv, () => call(hv, f, 'set_priority', { port: 0, priority: 1 }), -EACCES);
    expectNoChange(hv, () => call(hv, f, 'set_priority', { port: 5, priority: 99 }), -EACCES);
  });

  it('under FIFO a Xen-consumer port returns -EACCES', () => {
    const { hv } = setup();
    const f = addGuest(hv, { abi: 'fifo' });
    const p = port(call(hv, f, 'bind_ipi', { vcpu: 0 }));
    f.ports.xenConsumer[p] = 1;
    expectNoChange(hv, () => call(hv, f, 'set_priority', { port: p, priority: 1 }), -EACCES);
  });

  it('priority > 15 returns -EINVAL; 0..15 are stored', () => {
    const { hv } = setup();
    const f = addGuest(hv, { abi: 'fifo' });
    const p = port(call(hv, f, 'bind_ipi', { vcpu: 0 }));
    expect(f.ports.priority[p]).toBe(7);
    expectNoChange(hv, () => call(hv, f, 'set_priority', { port: p, priority: 16 }), -EINVAL);
    expect(call(hv, f, 'set_priority', { port: p, priority: 0 })).toEqual(ok);
    expect(f.ports.priority[p]).toBe(0);
    expect(call(hv, f, 'set_priority', { port: p, priority: 15 })).toEqual(ok);
    expect(f.ports.priority[p]).toBe(15);
  });

  it('rebinding a port under FIFO resets its priority to 7', () => {
    const { hv } = setup();
    const f = addGuest(hv, { abi: 'fifo' });
    const p = port(call(hv, f, 'bind_ipi', { vcpu: 0 }));
    call(hv, f, 'set_priority', { port: p, priority: 2 });
    call(hv, f, 'close', { port: p });
    hv.run(1_000_000); // let the guest unlink anything still queued
    expect(port(call(hv, f, 'bind_ipi', { vcpu: 0 }))).toBe(p);
    expect(f.ports.priority[p]).toBe(7);
  });
});
