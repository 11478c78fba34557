/**
 * Domain lifecycle and event channels (reference section 8,
 * xen/common/domain.c, evtchn_destroy in event_channel.c): pause, shutdown
 * and VIRQ_DOM_EXC, destruction closing every port so peers go UNBOUND.
 */
import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/core/abi/domid.js';
import { EINVAL, ESRCH } from '../../src/core/abi/errno.js';
import { GNTMAP_host_map, GTF_permit_access } from '../../src/core/abi/grant.js';
import { VIRQ_CONSOLE, VIRQ_DOM_EXC, VIRQ_TIMER } from '../../src/core/abi/evtchn.js';
import { grantAccess } from '../../src/core/hv/grant_table.js';
import { FIRST_FREE_GFN } from '../../src/core/hv/hypervisor.js';
import { addGuest, call, ecs, handled, kernel, newMachine, pendingBit, port, record, records, status } from './helpers.js';

/** dom0 with VIRQ_DOM_EXC bound, and a guest connected to dom0 over one channel. */
function setup() {
  const { hv, dom0 } = newMachine();
  const g = addGuest(hv, { name: 'g', vcpus: 2 });
  const exc = port(call(hv, dom0, 'bind_virq', { virq: VIRQ_DOM_EXC, vcpu: 0 }));
  const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
  const dp = port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }));
  hv.run(100_000); // deliver the bind's own pending event
  return { hv, dom0, g, exc, gp, dp };
}

describe('pause / unpause', () => {
  it('a paused domain gets no upcall; pending bits are set and the upcall comes after unpause', () => {
    const { hv, dom0, g, gp, dp } = setup();
    expect(hv.pause(g)).toBe(0);
    call(hv, dom0, 'send', { port: dp });
    expect(pendingBit(g, gp)).toBe(1);
    hv.run(5_000_000);
    expect(kernel(g).deliveries(gp)).toBe(0);
    expect(hv.unpause(g)).toBe(0);
    hv.run(100_000);
    expect(kernel(g).deliveries(gp)).toBe(1);
  });

  it('pauses nest: two pauses need two unpauses', () => {
    const { hv, dom0, g, gp, dp } = setup();
    hv.pause(g);
    hv.pause(g);
    call(hv, dom0, 'send', { port: dp });
    hv.unpause(g);
    hv.run(1_000_000);
    expect(kernel(g).deliveries(gp)).toBe(0);
    hv.unpause(g);
    hv.run(1_000_000);
    expect(kernel(g).deliveries(gp)).toBe(1);
  });

  it('a vCPU paused across timer ticks gets one catch-up VIRQ_TIMER when it runs again, not one per missed tick', () => {
    const { hv, g } = setup();
    const tp = port(call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 0 }));
    hv.run(20_000_000); // two ticks at 10 ms and 20 ms
    expect(kernel(g).deliveries(tp)).toBe(2);
    hv.pause(g);
    hv.run(55_000_000); // ticks at 30..70 ms missed
    expect(kernel(g).deliveries(tp)).toBe(2);
    hv.unpause(g);
    hv.run(100_000);
    expect(kernel(g).deliveries(tp)).toBe(3);
    hv.run(10_000_000); // the next regular tick, at 80 ms
    expect(kernel(g).deliveries(tp)).toBe(4);
  });

  it('unpausing a domain that is not paused returns -EINVAL', () => {
    const { hv, g } = setup();
    expect(hv.unpause(g)).toBe(-EINVAL);
  });

  it('dom0 may still act on a paused domain (the toolstack sets up ports while it is paused)', () => {
    const { hv, dom0, g } = setup();
    hv.pause(g);
    expect(call(hv, dom0, 'alloc_unbound', { dom: g.domid, remote_dom: 0 }).ret).toBe(0);
  });
});

describe('shutdown', () => {
  it('shutdown sends VIRQ_DOM_EXC to dom0 when bound', () => {
    const { hv, dom0, g, exc } = setup();
    const store = record(hv);
    expect(hv.shutdown(g, 'poweroff')).toBe(0);
    expect(pendingBit(dom0, exc)).toBe(1);
    hv.run(100_000);
    expect(kernel(dom0).deliveries(exc)).toBe(1);
    expect(records(store).find((r) => r.kind === 'raise')).toMatchObject({ dom: 0, port: exc, virq: VIRQ_DOM_EXC });
  });

  it('with VIRQ_DOM_EXC unbound the notification is simply lost', () => {
    const { hv, dom0 } = newMachine();
    const g = addGuest(hv);
    const before = Array.from(dom0.sharedInfo);
    expect(hv.shutdown(g, 'crash')).toBe(0);
    expect(Array.from(dom0.sharedInfo)).toEqual(before);
  });

  it('a shut-down domain gets no more upcalls; shutting down again is a no-op returning 0 (domain_shutdown)', () => {
    const { hv, dom0, g, gp, dp } = setup();
    hv.shutdown(g, 'reboot');
    call(hv, dom0, 'send', { port: dp });
    hv.run(1_000_000);
    expect(kernel(g).deliveries(gp)).toBe(0);
    expect(pendingBit(g, gp)).toBe(1);
    const records = hv.trace.count;
    expect(hv.shutdown(g, 'reboot')).toBe(0);
    expect(hv.trace.count).toBe(records); // no second VIRQ_DOM_EXC, nothing recorded
    // Its channels stay as they were.
    expect(ecs(g, gp)).toBe('interdomain');
  });

  it('suspend with a subscribed suspend port signals that port (delivered to its peer) instead of VIRQ_DOM_EXC', () => {
    const { hv, dom0, g, exc, gp, dp } = setup();
    g.suspendEvtchn = gp; // XEN_DOMCTL_subscribe
    hv.shutdown(g, 'suspend');
    expect(pendingBit(dom0, dp)).toBe(1);
    expect(pendingBit(dom0, exc)).toBe(0);
    hv.run(100_000);
    expect(kernel(dom0).deliveries(dp)).toBe(2); // once for the bind, once for the suspend
  });

  it('suspend without a subscribed port sends VIRQ_DOM_EXC', () => {
    const { hv, dom0, g, exc } = setup();
    hv.shutdown(g, 'suspend');
    expect(pendingBit(dom0, exc)).toBe(1);
  });
});

describe('destroy', () => {
  it('every port of the dead domain is closed and its peers go UNBOUND with remote_dom = the dead domain', () => {
    const { hv, dom0, g, dp } = setup();
    // A second channel, bound the other way round, and assorted local ports.
    const dp2 = port(call(hv, dom0, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: g.domid }));
    port(call(hv, g, 'bind_interdomain', { remote_dom: 0, remote_port: dp2 }));
    call(hv, g, 'bind_ipi', { vcpu: 1 });
    call(hv, g, 'bind_virq', { virq: 0, vcpu: 1 });
    const ports = g.ports;
    expect(hv.destroy(g)).toBe(0);
    expect(g.state).toBe('dead');
    for (let p = 1; p < ports.valid; p++) expect(ports.state[p], `port ${p}`).toBe(0);
    expect(ports.active).toBe(0);
    expect(status(hv, dom0, DOMID_SELF, dp).out).toEqual({ status: 'unbound', vcpu: 0, u: { unbound: { dom: g.domid } } });
    expect(status(hv, dom0, DOMID_SELF, dp2).out).toEqual({ status: 'unbound', vcpu: 0, u: { unbound: { dom: g.domid } } });
  });

  it('VIRQ_DOM_EXC reaches dom0 when bound', () => {
    const { hv, g, exc } = setup();
    const store = record(hv);
    hv.destroy(g);
    hv.run(100_000);
    expect(handled(store, 0)).toContain(exc);
    expect(records(store).filter((r) => r.kind === 'raise' && r.virq === VIRQ_DOM_EXC).length).toBeGreaterThanOrEqual(1);
  });

  it('afterwards the domain id gives -ESRCH', () => {
    const { hv, dom0, g, gp } = setup();
    const id = g.domid;
    hv.destroy(g);
    expect(hv.domain(id)).toBeUndefined();
    expect(call(hv, dom0, 'alloc_unbound', { dom: id, remote_dom: 0 }).ret).toBe(-ESRCH);
    expect(call(hv, dom0, 'bind_interdomain', { remote_dom: id, remote_port: gp }).ret).toBe(-ESRCH);
    expect(status(hv, dom0, id, 1).ret).toBe(-ESRCH);
    expect(call(hv, dom0, 'reset', { dom: id }).ret).toBe(-ESRCH);
    expect(call(hv, dom0, 'gnttab_map_grant_ref', { dom: id, ref: 8, flags: GNTMAP_host_map }).out).toMatchObject({ status: 'GNTST_bad_domain' });
  });

  it('the peer may still send on its UNBOUND port (dropped, rc 0) and close it', () => {
    const { hv, dom0, g, dp } = setup();
    hv.destroy(g);
    expect(call(hv, dom0, 'send', { port: dp }).ret).toBe(0);
    expect(call(hv, dom0, 'close', { port: dp }).ret).toBe(0);
  });

  it('destroying twice returns -EINVAL; dom0 cannot destroy or pause itself (-EINVAL); domain ids are not reused', () => {
    const { hv, dom0, g } = setup();
    expect(hv.destroy(dom0)).toBe(-EINVAL); // domain_kill refuses the caller
    expect(hv.pause(dom0)).toBe(-EINVAL); // XEN_DOMCTL_pausedomain likewise
    expect(hv.destroy(g)).toBe(0);
    expect(hv.destroy(g)).toBe(-EINVAL);
    expect(hv.pause(g)).toBe(-EINVAL);
    expect(addGuest(hv).domid).toBe(2);
  });

  it('a destroyed domain gets no further upcalls, not even one already queued', () => {
    const { hv, dom0, g, gp, dp } = setup();
    call(hv, dom0, 'send', { port: dp }); // upcall queued, not yet delivered
    hv.destroy(g);
    hv.run(1_000_000);
    expect(kernel(g).deliveries(gp)).toBe(0);
  });

  it("the dead domain's grant mappings are released: the granter's GTF_reading/GTF_writing are cleared", () => {
    const { hv, dom0, g } = setup();
    grantAccess(hv, dom0, 8, g.domid, FIRST_FREE_GFN, false);
    expect(call(hv, g, 'gnttab_map_grant_ref', { dom: 0, ref: 8, flags: GNTMAP_host_map }).out).toMatchObject({ status: 'GNTST_okay' });
    expect(dom0.grants.entry(8).flags).not.toBe(GTF_permit_access);
    hv.destroy(g);
    expect(dom0.grants.entry(8).flags).toBe(GTF_permit_access);
  });

  it('global VIRQs handled by a destroyed domain revert to the hardware domain', () => {
    const { hv, dom0 } = newMachine();
    const h = addGuest(hv);
    expect(call(hv, dom0, 'set_virq_handler', { domid: h.domid, virq: VIRQ_CONSOLE }).ret).toBe(0);
    expect(call(hv, h, 'bind_virq', { virq: VIRQ_CONSOLE, vcpu: 0 }).ret).toBe(0);
    hv.destroy(h);
    expect(hv.virqHandler(VIRQ_CONSOLE)).toBe(0);
    expect(call(hv, dom0, 'bind_virq', { virq: VIRQ_CONSOLE, vcpu: 0 }).ret).toBe(0);
  });

  it('a destroyed FIFO domain has its FIFO state freed', () => {
    const { hv } = newMachine();
    const f = addGuest(hv, { abi: 'fifo' });
    call(hv, f, 'bind_ipi', { vcpu: 0 });
    hv.destroy(f);
    expect(f.ops.name).toBe('2l');
    expect(f.fifoArray).toBeNull();
  });

  it('a loopback channel inside the dead domain is torn down without touching other domains', () => {
    const { hv, dom0 } = newMachine();
    const g = addGuest(hv);
    const p1 = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: DOMID_SELF }));
    call(hv, g, 'bind_interdomain', { remote_dom: DOMID_SELF, remote_port: p1 });
    const before = Array.from(dom0.ports.state.subarray(0, 64));
    expect(hv.destroy(g)).toBe(0);
    expect(Array.from(dom0.ports.state.subarray(0, 64))).toEqual(before);
  });
});
