/**
 * Xen 2.0.0's seven EVTCHNOP_* commands (reference 5.2, 5.4, 5.5; checked
 * against xen/common/event_channel.c at 2.0.0): each success path, each
 * error in the order 2.0.0 checks, idempotent binds, port 0 and
 * VIRQ_MISDIRECT, the port table that doubles from 16 to 1024, the
 * evtchn_op_t bytes, and trace names in both modes.
 */
import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/core/abi/domid.js';
import { EBUSY, EINVAL, ENOSPC, ENOSYS, EPERM, ESRCH } from '../../src/core/abi/errno.js';
import { EVTCHNOP as EVTCHNOP_TODAY } from '../../src/core/abi/evtchn.js';
import * as xen2 from '../../src/core/abi/xen2.js';
import type { Domain } from '../../src/core/hv/domain.js';
import { raisePirqXen2, sendGuestPirqXen2, sendGuestVirqXen2 } from '../../src/core/hv/event_channel_xen2.js';
import { OPS } from '../../src/core/hv/hypercall.js';
import { eventChannelOpBytesXen2, eventChannelOpXen2, OPS_XEN2, OPS_XEN2_BY_CMD, opsFor, XEN2_OP_CODE_BASE } from '../../src/core/hv/hypercall_xen2.js';
import type { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { HYPERCALL_OP_CODES, HYPERCALL_OP_NAMES, TraceStore, type TraceRecord } from '../../src/core/sim/trace.js';
import { ecs, newMachine, call as callToday } from './helpers.js';
import { guest2, k2, newXen2, op2, pending2, port2, portState, sel2, status2, upcallPending2 } from './xen2_helpers.js';

/** Uses up every free port of `d` with alloc_unbound (waiting for dom0) until the table is full. */
function fill(hv: Hypervisor, d: Domain): number[] {
  const got: number[] = [];
  for (;;) {
    const r = op2(hv, d, 'alloc_unbound', { dom: 0 });
    if (r.ret !== 0) {
      expect(r.ret).toBe(-ENOSPC);
      return got;
    }
    got.push(r.out!.port as number);
  }
}

/** Grows `d`'s table to at least `n` ports, then frees them again (the table keeps its size). */
function grow(hv: Hypervisor, d: Domain, n: number): void {
  const got: number[] = [];
  while (d.ports.valid < n) got.push(port2(op2(hv, d, 'alloc_unbound', { dom: 0 })));
  for (const p of got) expect(op2(hv, d, 'close', { port: p }).ret).toBe(0);
}

describe('the op table', () => {
  it('has the seven 2.0.0 event-channel commands and sched_op shutdown, with their 2.0.0 argument and result names', () => {
    expect([...OPS_XEN2.keys()].sort()).toEqual(['alloc_unbound', 'bind_interdomain', 'bind_pirq', 'bind_virq', 'close', 'sched_shutdown', 'send', 'status']);
    const shape = Object.fromEntries([...OPS_XEN2.values()].map((o) => [o.name, [Object.keys(o.args), o.out, o.code]]));
    expect(shape).toEqual({
      bind_interdomain: [['dom1', 'dom2', 'port1', 'port2'], ['port1', 'port2'], 400],
      bind_virq: [['virq'], ['port'], 401],
      bind_pirq: [['pirq', 'flags'], ['port'], 402],
      close: [['dom', 'port'], [], 403],
      send: [['local_port'], [], 404],
      status: [['dom', 'port'], ['status', 'u'], 405],
      alloc_unbound: [['dom'], ['port'], 406],
      sched_shutdown: [['reason'], [], 452],
    });
    expect(OPS_XEN2_BY_CMD.map((o) => o.name)).toEqual(['bind_interdomain', 'bind_virq', 'bind_pirq', 'close', 'send', 'status', 'alloc_unbound']);
    expect(opsFor('2.0')).toBe(OPS_XEN2);
    expect(opsFor('4')).toBe(OPS);
  });

  it('registers trace names at 400 + cmd without taking the names from today’s ops', () => {
    for (const o of OPS_XEN2.values()) expect(HYPERCALL_OP_NAMES.get(o.code)).toBe(o.name);
    expect(HYPERCALL_OP_CODES.get('send')).toBe(EVTCHNOP_TODAY.send);
    expect(HYPERCALL_OP_CODES.get('close')).toBe(EVTCHNOP_TODAY.close);
    expect(HYPERCALL_OP_CODES.get('bind_interdomain')).toBe(EVTCHNOP_TODAY.bind_interdomain);
  });

  it('an unknown command is -ENOSYS', () => {
    const { hv, dom0 } = newXen2();
    for (const cmd of [7, 8, 9, 14, 255, 0xffffffff]) expect(eventChannelOpXen2(hv, dom0, cmd, {}).ret, `cmd ${cmd}`).toBe(-ENOSYS);
    const op = new Uint8Array(32);
    new DataView(op.buffer).setUint32(0, 9, true);
    expect(eventChannelOpBytesXen2(hv, dom0, op)).toBe(-ENOSYS);
  });
});

describe('port 0 and VIRQ_MISDIRECT', () => {
  it('port 0 is bound to VIRQ_MISDIRECT at creation, reads as virq 0, and cannot be closed, even by dom0', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    expect(status2(hv, g, DOMID_SELF, 0)).toEqual({ ret: 0, out: { status: 'virq', u: { virq: 0 } } });
    expect(op2(hv, g, 'close', { port: 0 }).ret).toBe(-EINVAL);
    expect(op2(hv, dom0, 'close', { dom: g.domid, port: 0 }).ret).toBe(-EINVAL);
    expect(ecs(g, 0)).toBe('virq');
  });

  it('bind_virq(VIRQ_MISDIRECT) returns port 0 and allocates nothing', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    const before = portState(hv);
    expect(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_MISDIRECT })).toEqual({ ret: 0, out: { port: 0 } });
    expect(portState(hv)).toEqual(before);
  });

  it('the first port a fresh domain allocates is 1', () => {
    const { hv } = newXen2();
    expect(port2(op2(hv, guest2(hv), 'alloc_unbound', { dom: 0 }))).toBe(1);
  });

  it('a VIRQ that is not bound is delivered to port 0 (virq_to_evtchn[virq] is 0)', () => {
    const { hv } = newXen2();
    const g = guest2(hv, { noKernel: true });
    sendGuestVirqXen2(hv, g, xen2.VIRQ_DEBUG);
    expect(pending2(g, 0)).toBe(1);
    expect(sel2(g)).toBe(1);
    expect(upcallPending2(g)).toBe(1);
  });
});

describe('the port table', () => {
  it('starts at 16 ports and doubles (32, 64, ... 1024) as each fills; then -ENOSPC', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    const sizes: number[] = [g.ports.valid];
    let p = 0;
    for (;;) {
      const r = op2(hv, g, 'alloc_unbound', { dom: 0 });
      if (r.ret !== 0) {
        expect(r.ret).toBe(-ENOSPC);
        break;
      }
      expect(r.out!.port).toBe(++p); // the lowest free port, every time
      if (g.ports.valid !== sizes[sizes.length - 1]) {
        sizes.push(g.ports.valid);
        expect(p, 'the first new port').toBe(g.ports.valid / 2);
      }
    }
    expect(sizes).toEqual([16, 32, 64, 128, 256, 512, 1024]);
    expect(p).toBe(1023);
    expect(g.ports.valid).toBe(1024);
  });

  it('a port p is valid iff p < the table size: status, close and send of p >= size are -EINVAL', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    expect(status2(hv, g, DOMID_SELF, 15)).toEqual({ ret: 0, out: { status: 'closed' } });
    expect(status2(hv, g, DOMID_SELF, 16).ret).toBe(-EINVAL);
    expect(op2(hv, g, 'close', { port: 16 }).ret).toBe(-EINVAL);
    expect(op2(hv, g, 'send', { local_port: 16 }).ret).toBe(-EINVAL);
    grow(hv, g, 17);
    expect(g.ports.valid).toBe(32);
    expect(status2(hv, g, DOMID_SELF, 16)).toEqual({ ret: 0, out: { status: 'closed' } });
    expect(status2(hv, g, DOMID_SELF, 32).ret).toBe(-EINVAL);
  });

  it('a closed port is reused first (lowest free)', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    for (let i = 0; i < 5; i++) op2(hv, g, 'alloc_unbound', { dom: 0 });
    expect(op2(hv, g, 'close', { port: 3 }).ret).toBe(0);
    expect(port2(op2(hv, g, 'alloc_unbound', { dom: 0 }))).toBe(3);
    expect(port2(op2(hv, g, 'alloc_unbound', { dom: 0 }))).toBe(6);
  });
});

describe('EVTCHNOP_alloc_unbound', () => {
  it('makes a port of the caller UNBOUND, waiting for `dom`', () => {
    const { hv } = newXen2();
    const a = guest2(hv);
    const p = port2(op2(hv, a, 'alloc_unbound', { dom: 0 }));
    expect(ecs(a, p)).toBe('unbound');
    expect(status2(hv, a, DOMID_SELF, p)).toEqual({ ret: 0, out: { status: 'unbound', u: { unbound: { dom: 0 } } } });
  });

  it('stores `dom` as given: DOMID_SELF is not translated, and a domain that does not exist is not an error', () => {
    const { hv } = newXen2();
    const a = guest2(hv);
    const self = port2(op2(hv, a, 'alloc_unbound', { dom: DOMID_SELF }));
    const ghost = port2(op2(hv, a, 'alloc_unbound', { dom: 77 }));
    expect(status2(hv, a, DOMID_SELF, self).out).toEqual({ status: 'unbound', u: { unbound: { dom: 0x7ff0 } } });
    expect(status2(hv, a, DOMID_SELF, ghost).out).toEqual({ status: 'unbound', u: { unbound: { dom: 77 } } });
  });

  it('-ENOSPC when all 1024 ports are in use', () => {
    const { hv } = newXen2();
    const a = guest2(hv);
    expect(fill(hv, a).length).toBe(1023);
    const before = portState(hv);
    expect(op2(hv, a, 'alloc_unbound', { dom: 0 }).ret).toBe(-ENOSPC);
    expect(portState(hv)).toEqual(before);
  });
});

describe('EVTCHNOP_bind_interdomain', () => {
  it('dom0 (privileged) binds two other domains, allocating both ports; no pending bit is set', () => {
    const { hv, dom0 } = newXen2();
    const a = guest2(hv);
    const b = guest2(hv);
    const r = op2(hv, dom0, 'bind_interdomain', { dom1: a.domid, dom2: b.domid });
    expect(r).toEqual({ ret: 0, out: { port1: 1, port2: 1 } });
    expect(status2(hv, a, DOMID_SELF, 1).out).toEqual({ status: 'interdomain', u: { interdomain: { dom: b.domid, port: 1 } } });
    expect(status2(hv, b, DOMID_SELF, 1).out).toEqual({ status: 'interdomain', u: { interdomain: { dom: a.domid, port: 1 } } });
    for (const d of [a, b]) {
      expect(pending2(d, 1)).toBe(0);
      expect(sel2(d)).toBe(0);
      expect(upcallPending2(d)).toBe(0);
    }
  });

  it('dom0 binds DOMID_SELF to DOMID_SELF: a loopback channel with two distinct ports', () => {
    const { hv, dom0 } = newXen2();
    const r = op2(hv, dom0, 'bind_interdomain', { dom1: DOMID_SELF, dom2: DOMID_SELF });
    expect(r).toEqual({ ret: 0, out: { port1: 1, port2: 2 } });
    expect(status2(hv, dom0, DOMID_SELF, 1).out).toEqual({ status: 'interdomain', u: { interdomain: { dom: 0, port: 2 } } });
    expect(status2(hv, dom0, DOMID_SELF, 2).out).toEqual({ status: 'interdomain', u: { interdomain: { dom: 0, port: 1 } } });
  });

  it('dom0 may name the ports (here the builder-style remote port 1)', () => {
    const { hv, dom0 } = newXen2();
    const a = guest2(hv);
    grow(hv, dom0, 20);
    expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid, port1: 19, port2: 1 })).toEqual({ ret: 0, out: { port1: 19, port2: 1 } });
  });

  it('an unprivileged guest connects to a port that waits for it (alloc_unbound on the other side)', () => {
    const { hv } = newXen2();
    const a = guest2(hv);
    const b = guest2(hv);
    const pa = port2(op2(hv, a, 'alloc_unbound', { dom: b.domid }));
    const r = op2(hv, b, 'bind_interdomain', { dom2: a.domid, port2: pa });
    expect(r).toEqual({ ret: 0, out: { port1: 1, port2: pa } });
    expect(status2(hv, a, DOMID_SELF, pa).out).toEqual({ status: 'interdomain', u: { interdomain: { dom: b.domid, port: 1 } } });
    expect(pending2(a, pa)).toBe(0);
    expect(pending2(b, 1)).toBe(0);
  });

  it('the caller’s own UNBOUND port is accepted as port1 when it waits for dom2', () => {
    const { hv, dom0 } = newXen2();
    const a = guest2(hv);
    const pa = port2(op2(hv, a, 'alloc_unbound', { dom: 0 }));
    const p0 = port2(op2(hv, dom0, 'alloc_unbound', { dom: a.domid }));
    expect(op2(hv, a, 'bind_interdomain', { dom2: 0, port1: pa, port2: p0 })).toEqual({ ret: 0, out: { port1: pa, port2: p0 } });
  });

  it('is idempotent: the existing pair comes back, with a wildcard on either side, and nothing is allocated', () => {
    const { hv, dom0 } = newXen2();
    const a = guest2(hv);
    const { port1, port2: p2 } = op2(hv, dom0, 'bind_interdomain', { dom2: a.domid }).out as { port1: number; port2: number };
    const before = portState(hv);
    expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid, port1 })).toEqual({ ret: 0, out: { port1, port2: p2 } });
    expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid, port1, port2: p2 })).toEqual({ ret: 0, out: { port1, port2: p2 } });
    expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid, port2: p2 })).toEqual({ ret: 0, out: { port1, port2: p2 } });
    expect(op2(hv, a, 'bind_interdomain', { dom2: 0, port1: p2 })).toEqual({ ret: 0, out: { port1: p2, port2: port1 } });
    expect(op2(hv, a, 'bind_interdomain', { dom2: 0, port2: port1 })).toEqual({ ret: 0, out: { port1: p2, port2: port1 } });
    expect(portState(hv)).toEqual(before);
  });

  describe('errors, in 2.0.0 order', () => {
    it('1. an unprivileged caller must name DOMID_SELF as dom1 (-EPERM), even its own id; checked before anything else', () => {
      const { hv } = newXen2();
      const a = guest2(hv);
      expect(op2(hv, a, 'bind_interdomain', { dom1: a.domid, dom2: 0 }).ret).toBe(-EPERM);
      expect(op2(hv, a, 'bind_interdomain', { dom1: 0, dom2: 99, port1: 0x80000000 }).ret).toBe(-EPERM);
    });

    it('2. a port of 2^31 or more (negative as a C int) is -EINVAL, before the domains are looked up', () => {
      const { hv, dom0 } = newXen2();
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: 99, port1: 0x80000000 }).ret).toBe(-EINVAL);
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: 99, port2: 0xffffffff }).ret).toBe(-EINVAL);
    });

    it('3. a domain that does not exist is -ESRCH (either one)', () => {
      const { hv, dom0 } = newXen2();
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: 99 }).ret).toBe(-ESRCH);
      expect(op2(hv, dom0, 'bind_interdomain', { dom1: 99, dom2: 0 }).ret).toBe(-ESRCH);
    });

    it('4. port1: allocation fails (-ENOSPC) or a named port is outside the table (-EINVAL)', () => {
      const { hv, dom0 } = newXen2();
      const a = guest2(hv);
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid, port1: 16 }).ret).toBe(-EINVAL);
      fill(hv, dom0);
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid }).ret).toBe(-ENOSPC);
    });

    it('5. port2: allocation fails (-ENOSPC) or a named port is outside the table (-EINVAL)', () => {
      const { hv, dom0 } = newXen2();
      const a = guest2(hv, { noKernel: true });
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid, port2: 16 }).ret).toBe(-EINVAL);
      fill(hv, a);
      const before = portState(hv);
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid }).ret).toBe(-ENOSPC);
      expect(portState(hv)).toEqual(before);
    });

    it('6. port1 bound to something else: UNBOUND for another domain, INTERDOMAIN elsewhere or to another port, VIRQ/PIRQ: -EINVAL', () => {
      const { hv, dom0 } = newXen2();
      const a = guest2(hv);
      const b = guest2(hv);
      const waitsForB = port2(op2(hv, dom0, 'alloc_unbound', { dom: b.domid }));
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid, port1: waitsForB }).ret).toBe(-EINVAL);
      const toB = op2(hv, dom0, 'bind_interdomain', { dom2: b.domid }).out!.port1 as number;
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid, port1: toB }).ret).toBe(-EINVAL);
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: b.domid, port1: toB, port2: 5 }).ret).toBe(-EINVAL);
      const virq = port2(op2(hv, dom0, 'bind_virq', { virq: xen2.VIRQ_DOM_EXC }));
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid, port1: virq }).ret).toBe(-EINVAL);
      const pirq = port2(op2(hv, dom0, 'bind_pirq', { pirq: 3 }));
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid, port1: pirq }).ret).toBe(-EINVAL);
    });

    it('7. port2 FREE needs privilege (-EPERM): in 2.0.0 an unprivileged caller can never bind a FREE port2, DOMID_SELF or not', () => {
      const { hv } = newXen2();
      const a = guest2(hv);
      const b = guest2(hv);
      const before = portState(hv);
      expect(op2(hv, a, 'bind_interdomain', { dom2: b.domid }).ret).toBe(-EPERM);
      expect(op2(hv, a, 'bind_interdomain', { dom2: DOMID_SELF }).ret).toBe(-EPERM);
      expect(op2(hv, a, 'bind_interdomain', { dom2: b.domid, port2: 3 }).ret).toBe(-EPERM);
      expect(portState(hv)).toEqual(before);
    });

    it('7. port2 UNBOUND for someone else, INTERDOMAIN elsewhere or to another port, VIRQ: -EINVAL', () => {
      const { hv, dom0 } = newXen2();
      const a = guest2(hv);
      const b = guest2(hv);
      const c = guest2(hv);
      const waitsForC = port2(op2(hv, a, 'alloc_unbound', { dom: c.domid }));
      expect(op2(hv, b, 'bind_interdomain', { dom2: a.domid, port2: waitsForC }).ret).toBe(-EINVAL);
      const ac = op2(hv, dom0, 'bind_interdomain', { dom1: a.domid, dom2: c.domid }).out as { port1: number; port2: number };
      expect(op2(hv, b, 'bind_interdomain', { dom2: a.domid, port2: ac.port1 }).ret).toBe(-EINVAL);
      const cPort = port2(op2(hv, c, 'alloc_unbound', { dom: a.domid }));
      expect(op2(hv, c, 'bind_interdomain', { dom2: a.domid, port1: cPort, port2: ac.port1 }).ret).toBe(-EINVAL);
      expect(op2(hv, dom0, 'bind_interdomain', { dom2: a.domid, port2: 0 + port2(op2(hv, a, 'bind_virq', { virq: xen2.VIRQ_TIMER })) }).ret).toBe(-EINVAL);
    });

    it('a failed bind changes no port, but a table grown on the way stays grown (as in 2.0.0)', () => {
      const { hv } = newXen2();
      const a = guest2(hv);
      const b = guest2(hv);
      for (let i = 1; i < 16; i++) op2(hv, a, 'alloc_unbound', { dom: 0 });
      expect(a.ports.valid).toBe(16);
      const states = Array.from(a.ports.state.subarray(0, 16));
      expect(op2(hv, a, 'bind_interdomain', { dom2: b.domid }).ret).toBe(-EPERM);
      expect(a.ports.valid).toBe(32);
      expect(Array.from(a.ports.state.subarray(0, 32))).toEqual([...states, ...new Array<number>(16).fill(0)]);
    });
  });
});

describe('EVTCHNOP_bind_virq', () => {
  it('binds a VIRQ to the lowest free port; binding it again returns the same port', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    const p = port2(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_TIMER }));
    expect(p).toBe(1);
    expect(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_TIMER })).toEqual({ ret: 0, out: { port: 1 } });
    expect(status2(hv, g, DOMID_SELF, p).out).toEqual({ status: 'virq', u: { virq: 1 } });
    expect(port2(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_DEBUG }))).toBe(2);
    expect(g.vcpus[0]!.virqToPort.subarray(0, 7)).toEqual(Int32Array.from([0, 1, 2, 0, 0, 0, 0]));
  });

  it('any domain may bind any of the seven (dom0-only VIRQs simply never reach a domU)', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    for (let virq = 1; virq < 7; virq++) expect(port2(op2(hv, g, 'bind_virq', { virq }))).toBe(virq);
  });

  it('a VIRQ of 7 or more is -EINVAL (also 2^32-1)', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    expect(op2(hv, g, 'bind_virq', { virq: 7 }).ret).toBe(-EINVAL);
    expect(op2(hv, g, 'bind_virq', { virq: 0xffffffff }).ret).toBe(-EINVAL);
  });

  it('-ENOSPC when no port is left; an already-bound VIRQ still returns its port', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    const timer = port2(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_TIMER }));
    fill(hv, g);
    expect(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_DEBUG }).ret).toBe(-ENOSPC);
    expect(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_TIMER })).toEqual({ ret: 0, out: { port: timer } });
    expect(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_MISDIRECT })).toEqual({ ret: 0, out: { port: 0 } });
  });
});

describe('EVTCHNOP_bind_pirq', () => {
  it('dom0 binds a PIRQ; binding it again returns the same port', () => {
    const { hv, dom0 } = newXen2();
    const p = port2(op2(hv, dom0, 'bind_pirq', { pirq: 5 }));
    expect(op2(hv, dom0, 'bind_pirq', { pirq: 5 })).toEqual({ ret: 0, out: { port: p } });
    expect(status2(hv, dom0, DOMID_SELF, p).out).toEqual({ status: 'pirq', u: { pirq: 5 } });
  });

  it('errors in order: PIRQ >= 128 -EINVAL, then no free port -ENOSPC, then no permission -EPERM', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    expect(op2(hv, dom0, 'bind_pirq', { pirq: 128 }).ret).toBe(-EINVAL);
    expect(op2(hv, g, 'bind_pirq', { pirq: 0xffffffff }).ret).toBe(-EINVAL);
    const before = portState(hv);
    expect(op2(hv, g, 'bind_pirq', { pirq: 9 }).ret).toBe(-EPERM);
    expect(portState(hv)).toEqual(before);
    fill(hv, g);
    expect(op2(hv, g, 'bind_pirq', { pirq: 9 }).ret).toBe(-ENOSPC);
  });

  it('sharing: a PIRQ bound without BIND_PIRQ__WILL_SHARE is -EBUSY for the next guest; shared ones go up to 7 guests', () => {
    const { hv } = newXen2();
    const gs = Array.from({ length: 8 }, () => guest2(hv, { pirqs: [9] }));
    const p0 = port2(op2(hv, gs[0]!, 'bind_pirq', { pirq: 9 }));
    expect(op2(hv, gs[1]!, 'bind_pirq', { pirq: 9, flags: 1 }).ret).toBe(-EBUSY);
    expect(op2(hv, gs[0]!, 'close', { port: p0 }).ret).toBe(0);
    for (let i = 0; i < 7; i++) expect(op2(hv, gs[i]!, 'bind_pirq', { pirq: 9, flags: 1 }).ret, `guest ${i}`).toBe(0);
    expect(op2(hv, gs[7]!, 'bind_pirq', { pirq: 9, flags: 1 }).ret).toBe(-EBUSY);
    expect(op2(hv, gs[7]!, 'bind_pirq', { pirq: 9, flags: 0 }).ret).toBe(-EBUSY);
    // The IRQ reaches every guest bound to it.
    raisePirqXen2(hv, 9);
    for (let i = 0; i < 7; i++) expect(pending2(gs[i]!, gs[i]!.pirqToPort.get(9)!), `guest ${i}`).toBe(1);
    expect(sendGuestPirqXen2(hv, gs[7]!, 9)).toBe(0);
    expect(pending2(gs[7]!, 0)).toBe(0);
  });
});

describe('EVTCHNOP_close', () => {
  it('an inter-domain port: the peer goes UNBOUND, waiting for the closer; no event is raised; the closed port keeps its pending bit', () => {
    const { hv, dom0 } = newXen2();
    const a = guest2(hv, { noKernel: true });
    const b = guest2(hv, { noKernel: true });
    const { port1, port2: pb } = op2(hv, dom0, 'bind_interdomain', { dom1: a.domid, dom2: b.domid }).out as { port1: number; port2: number };
    expect(op2(hv, b, 'send', { local_port: pb }).ret).toBe(0);
    expect(pending2(a, port1)).toBe(1);
    const bShared = Array.from(b.sharedInfo);
    expect(op2(hv, a, 'close', { port: port1 }).ret).toBe(0);
    expect(status2(hv, a, DOMID_SELF, port1).out).toEqual({ status: 'closed' });
    expect(status2(hv, b, DOMID_SELF, pb).out).toEqual({ status: 'unbound', u: { unbound: { dom: a.domid } } });
    expect(Array.from(b.sharedInfo)).toEqual(bShared);
    expect(pending2(a, port1)).toBe(1); // 2.0.0's close does not touch the bitmap
    // The peer can be reconnected by the closer.
    expect(op2(hv, a, 'bind_interdomain', { dom2: b.domid, port2: pb }).ret).toBe(0);
  });

  it('a VIRQ port: the VIRQ is unbound (back to port 0) and can be bound again', () => {
    const { hv } = newXen2();
    const g = guest2(hv, { noKernel: true });
    const p = port2(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_DEBUG }));
    expect(op2(hv, g, 'close', { port: p }).ret).toBe(0);
    expect(g.vcpus[0]!.virqToPort[xen2.VIRQ_DEBUG]).toBe(0);
    sendGuestVirqXen2(hv, g, xen2.VIRQ_DEBUG);
    expect(pending2(g, 0)).toBe(1);
    expect(pending2(g, p)).toBe(0);
    expect(port2(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_DEBUG }))).toBe(p);
  });

  it('a PIRQ port: the guest binding is released', () => {
    const { hv, dom0 } = newXen2();
    const p = port2(op2(hv, dom0, 'bind_pirq', { pirq: 4 }));
    expect(hv.pirqActions.get(4)?.guests).toEqual([0]);
    expect(op2(hv, dom0, 'close', { port: p }).ret).toBe(0);
    expect(hv.pirqActions.has(4)).toBe(false);
    expect(dom0.pirqToPort.has(4)).toBe(false);
  });

  it('dom0 may close a port of another domain', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    const p = port2(op2(hv, g, 'alloc_unbound', { dom: 0 }));
    expect(op2(hv, dom0, 'close', { dom: g.domid, port: p }).ret).toBe(0);
    expect(ecs(g, p)).toBe('free');
  });

  it('errors in order: another dom unprivileged -EPERM (even naming itself), no such dom -ESRCH, port <= 0 or >= size -EINVAL, FREE -EINVAL', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    const p = port2(op2(hv, g, 'alloc_unbound', { dom: 0 }));
    const before = portState(hv);
    expect(op2(hv, g, 'close', { dom: g.domid, port: p }).ret).toBe(-EPERM);
    expect(op2(hv, g, 'close', { dom: 77, port: 0 }).ret).toBe(-EPERM);
    expect(op2(hv, dom0, 'close', { dom: 77, port: 0 }).ret).toBe(-ESRCH);
    expect(op2(hv, g, 'close', { port: 0 }).ret).toBe(-EINVAL);
    expect(op2(hv, g, 'close', { port: 0x80000000 }).ret).toBe(-EINVAL);
    expect(op2(hv, g, 'close', { port: 16 }).ret).toBe(-EINVAL);
    expect(op2(hv, g, 'close', { port: 5 }).ret).toBe(-EINVAL);
    expect(portState(hv)).toEqual(before);
  });
});

describe('EVTCHNOP_send', () => {
  it('marks the remote end pending: bit at 4 + port/8, selector bit port>>5 at 132, upcall_pending at 0', () => {
    const { hv, dom0 } = newXen2();
    const a = guest2(hv, { noKernel: true });
    a.sharedInfo[1] = 0; // upcalls enabled
    grow(hv, a, 64);
    const { port1 } = op2(hv, dom0, 'bind_interdomain', { dom2: a.domid, port2: 45 }).out as { port1: number };
    expect(op2(hv, dom0, 'send', { local_port: port1 }).ret).toBe(0);
    expect(a.sharedInfo[4 + (45 >> 3)]).toBe(1 << (45 & 7));
    expect(sel2(a)).toBe(1 << (45 >> 5));
    expect(a.sharedInfo[0]).toBe(1);
    // Nothing else in the page changed.
    const expected = new Uint8Array(4096);
    expected[0] = 1;
    expected[4 + (45 >> 3)] = 1 << (45 & 7);
    expected[132] = 2;
    expect(Array.from(a.sharedInfo)).toEqual(Array.from(expected));
  });

  it('works both ways and on a loopback channel', () => {
    const { hv, dom0 } = newXen2();
    const { port1, port2: p2 } = op2(hv, dom0, 'bind_interdomain', { dom2: DOMID_SELF }).out as { port1: number; port2: number };
    expect(op2(hv, dom0, 'send', { local_port: port1 }).ret).toBe(0);
    expect(pending2(dom0, p2)).toBe(1);
    expect(pending2(dom0, port1)).toBe(0);
  });

  it('-EINVAL for anything but an INTERDOMAIN port: UNBOUND, VIRQ (port 0 too), PIRQ, FREE, out of range, negative', () => {
    const { hv, dom0 } = newXen2();
    const unbound = port2(op2(hv, dom0, 'alloc_unbound', { dom: 1 }));
    const virq = port2(op2(hv, dom0, 'bind_virq', { virq: xen2.VIRQ_DOM_EXC }));
    const pirq = port2(op2(hv, dom0, 'bind_pirq', { pirq: 1 }));
    const before = portState(hv);
    for (const p of [unbound, virq, pirq, 0, 10, 16, 0x80000000]) expect(op2(hv, dom0, 'send', { local_port: p }).ret, `port ${p}`).toBe(-EINVAL);
    expect(portState(hv)).toEqual(before);
  });
});

describe('EVTCHNOP_status', () => {
  it('errors in order: another dom unprivileged -EPERM, no such dom -ESRCH, port < 0 or >= size -EINVAL', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    expect(status2(hv, g, 0, 0).ret).toBe(-EPERM);
    expect(status2(hv, g, g.domid, 0).ret).toBe(-EPERM);
    expect(status2(hv, dom0, 42, 0).ret).toBe(-ESRCH);
    expect(status2(hv, dom0, g.domid, 16).ret).toBe(-EINVAL);
    expect(status2(hv, dom0, g.domid, 0xffffffff).ret).toBe(-EINVAL);
    expect(status2(hv, dom0, g.domid, 0).out).toEqual({ status: 'virq', u: { virq: 0 } });
  });
});

describe('evtchn_op_t in guest memory (32 bytes, packed)', () => {
  function opBytes(cmd: number, fill: (v: DataView) => void): Uint8Array {
    const b = new Uint8Array(32);
    const v = new DataView(b.buffer);
    v.setUint32(0, cmd, true);
    fill(new DataView(b.buffer, 8, 24));
    return b;
  }

  it('bind_interdomain reads dom1 @8, dom2 @10 (u16) and writes port1 @12, port2 @16', () => {
    const { hv, dom0 } = newXen2();
    const a = guest2(hv);
    const b = opBytes(0, (v) => {
      v.setUint16(0, DOMID_SELF, true);
      v.setUint16(2, a.domid, true);
    });
    expect(eventChannelOpBytesXen2(hv, dom0, b)).toBe(0);
    const v = new DataView(b.buffer);
    expect([v.getUint16(8, true), v.getUint16(10, true), v.getUint32(12, true), v.getUint32(16, true)]).toEqual([0x7ff0, a.domid, 1, 1]);
  });

  it('a failed op writes nothing back (copy_to_user only on success)', () => {
    const { hv } = newXen2();
    const a = guest2(hv);
    const b = opBytes(0, (v) => {
      v.setUint16(0, DOMID_SELF, true);
      v.setUint16(2, 0, true);
    });
    const copy = Array.from(b);
    expect(eventChannelOpBytesXen2(hv, a, b)).toBe(-EPERM);
    expect(Array.from(b)).toEqual(copy);
  });

  it('status writes status @16 and the union @20 (interdomain dom u16 @20, port @24); bind_virq port @12; bind_pirq port @16; alloc_unbound port @12', () => {
    const { hv, dom0 } = newXen2();
    const a = guest2(hv);
    op2(hv, dom0, 'bind_interdomain', { dom2: a.domid });
    const st = opBytes(5, (v) => {
      v.setUint16(0, DOMID_SELF, true);
      v.setUint32(4, 1, true);
    });
    expect(eventChannelOpBytesXen2(hv, dom0, st)).toBe(0);
    const sv = new DataView(st.buffer);
    expect([sv.getUint32(16, true), sv.getUint16(20, true), sv.getUint32(24, true)]).toEqual([xen2.EVTCHNSTAT_interdomain, a.domid, 1]);

    const bv = opBytes(1, (v) => v.setUint32(0, xen2.VIRQ_DOM_EXC, true));
    expect(eventChannelOpBytesXen2(hv, dom0, bv)).toBe(0);
    expect(new DataView(bv.buffer).getUint32(12, true)).toBe(2);

    const bp = opBytes(2, (v) => v.setUint32(0, 7, true));
    expect(eventChannelOpBytesXen2(hv, dom0, bp)).toBe(0);
    expect(new DataView(bp.buffer).getUint32(16, true)).toBe(3);

    const au = opBytes(6, (v) => v.setUint16(0, a.domid, true));
    expect(eventChannelOpBytesXen2(hv, dom0, au)).toBe(0);
    expect(new DataView(au.buffer).getUint32(12, true)).toBe(4);

    const sd = opBytes(4, (v) => v.setUint32(0, 1, true));
    expect(eventChannelOpBytesXen2(hv, dom0, sd)).toBe(0);
    expect(pending2(a, 1)).toBe(1);

    const cl = opBytes(3, (v) => {
      v.setUint16(0, DOMID_SELF, true);
      v.setUint32(4, 4, true);
    });
    expect(eventChannelOpBytesXen2(hv, dom0, cl)).toBe(0);
    expect(ecs(dom0, 4)).toBe('free');
  });
});

describe('trace records name the op of each mode', () => {
  function hypercalls(store: TraceStore): Extract<TraceRecord, { kind: 'hypercall' }>[] {
    return [...store.records()].filter((r): r is Extract<TraceRecord, { kind: 'hypercall' }> => r.kind === 'hypercall');
  }

  it('Xen 2.0: send carries local_port, close carries dom and port, bind_interdomain its four fields and both ports', () => {
    const { hv, dom0 } = newXen2();
    const a = guest2(hv);
    const store = new TraceStore();
    hv.trace.subscribe(store.subscriber);
    op2(hv, dom0, 'bind_interdomain', { dom2: a.domid });
    op2(hv, dom0, 'send', { local_port: 1 });
    k2(dom0).send(1);
    op2(hv, dom0, 'close', { port: 1 });
    eventChannelOpXen2(hv, dom0, 12, {});
    hv.run(0);
    const hc = hypercalls(store).map((r) => ({ op: r.op, args: r.args, ret: r.ret, out: r.out }));
    expect(hc).toEqual([
      { op: 'bind_interdomain', args: { dom1: DOMID_SELF, dom2: a.domid, port1: 0, port2: 0 }, ret: '0', out: { port1: 1, port2: 1 } },
      { op: 'send', args: { local_port: 1 }, ret: '0', out: undefined },
      { op: 'send', args: { local_port: 1 }, ret: '0', out: undefined },
      { op: 'close', args: { dom: DOMID_SELF, port: 1 }, ret: '0', out: undefined },
      { op: 'event_channel_op(cmd 12)', args: { cmd: 12 }, ret: '-ENOSYS', out: undefined },
    ]);
    expect(hypercalls(store)[1]!.seq).toBeLessThan(hypercalls(store)[2]!.seq);
    expect(XEN2_OP_CODE_BASE).toBe(400);
  });

  it('today: send and close still decode as today’s ops with { port }', () => {
    const { hv, dom0 } = newMachine();
    const store = new TraceStore();
    hv.trace.subscribe(store.subscriber);
    const p = callToday(hv, dom0, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }).out!.port as number;
    callToday(hv, dom0, 'send', { port: p });
    callToday(hv, dom0, 'close', { port: p });
    hv.run(0);
    expect(hypercalls(store).map((r) => [r.op, r.args])).toEqual([
      ['alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }],
      ['send', { port: p }],
      ['close', { port: p }],
    ]);
  });
});
