/**
 * A small reference model of Xen event channels for the property tests,
 * written from /work/shared/reference/xen-event-channels.md and nothing else:
 * it does not import or call anything in src/core. It holds, per domain, the
 * port table (§2), the 2-level bitmaps and per-vCPU selector/upcall bytes
 * (§5), the FIFO event words and queues (§6), and a model of the guest kernel
 * (Linux-style dispatch as the reference describes in §5.6 and §6.5, with the
 * routing rules of XenLab's DefaultKernel), so that it can predict every
 * hypercall result, every shared bit and every delivery count.
 *
 * Besides the exact state it keeps a small amount of observation-level
 * bookkeeping (`owed`, `hazard`) that the harness uses for the "no event lost"
 * invariant, which is checked independently of the exact bit model.
 */

// errno values (§0) — negated on return
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ENOSYS = 38;
export const EACCES = 13;
export const EBUSY = 16;

export const DOMID_SELF = 0x7ff0;
export const NR_VIRQS = 24;
export const VIRQ_TIMER = 0;
export const VIRQ_DOM_EXC = 3;
/** Per-vCPU VIRQs (§4): TIMER, DEBUG, XENOPROF, XENPMU. */
const PER_VCPU_VIRQS = new Set([0, 1, 7, 13]);
/** Per-domain VIRQs (§4): ARGO. Everything else is global. */
const PER_DOMAIN_VIRQS = new Set([11]);
export const virqType = (virq: number): 'vcpu' | 'domain' | 'global' =>
  PER_VCPU_VIRQS.has(virq) ? 'vcpu' : PER_DOMAIN_VIRQS.has(virq) ? 'domain' : 'global';

export const BUCKET = 64;
export const L2_PORTS = 4096;
export const FIFO_PORTS = 1 << 17;
/** The DefaultKernel gives a FIFO domain one event-array page at boot: ports 0..1023 have words. */
export const FIFO_WORDS = 1024;
export const NR_PIRQS_DOMU = 24 + 32;
export const NR_PIRQS_DOM0 = 24 + 256;

export type PState = 'free' | 'reserved' | 'unbound' | 'interdomain' | 'pirq' | 'virq' | 'ipi';
const STATUS_NAME: Record<PState, string> = {
  free: 'closed',
  reserved: 'closed',
  unbound: 'unbound',
  interdomain: 'interdomain',
  pirq: 'pirq',
  virq: 'virq',
  ipi: 'ipi',
};

export interface MPort {
  state: PState;
  /** UNBOUND: who may bind; INTERDOMAIN: peer domain. */
  remoteDom: number;
  /** INTERDOMAIN: peer port. */
  remotePort: number;
  virq: number;
  pirq: number;
  /** notify_vcpu_id */
  vcpu: number;
  priority: number;
  /** FIFO fifo_lastq: the queue the event was last linked on. */
  lastV: number;
  lastPrio: number;
}

export interface FifoWord {
  p: boolean;
  m: boolean;
  l: boolean;
  link: number;
}

export interface MVcpu {
  /** evtchn_upcall_pending / evtchn_upcall_mask */
  up: boolean;
  um: boolean;
  /** evtchn_pending_sel as two u32 halves of a 64-bit word. */
  sel: [number, number];
  virqToPort: number[];
  /** Periodic timer started by a VIRQ_TIMER bind; never stopped in these tests. */
  timerArmed: boolean;
  // FIFO (present while the domain uses FIFO)
  ready: number;
  head: number[];
  tails: number[];
  // guest kernel state
  localHead: number[];
  timerPort: number;
}

export interface MDomain {
  id: number;
  alive: boolean;
  privileged: boolean;
  abi: '2l' | 'fifo';
  maxEvtchnPort: number;
  nrPirqs: number;
  pirqsAllowed: Set<number>;
  pirqToPort: Map<number, number>;
  /** valid_evtchns */
  valid: number;
  ports: MPort[];
  vcpus: MVcpu[];
  pend: Uint32Array;
  mask: Uint32Array;
  fifo: FifoWord[];
  /** guest kernel: which vCPU each port is routed to (Linux's cpu_evtchn_mask). */
  route: Uint8Array;
  deliveries: number[];
  /** Observation bookkeeping: a notification reached the port since its last delivery. */
  owed: boolean[];
  /** ... and since then something happened that may legitimately leave it undelivered (a lost edge). */
  hazard: boolean[];
}

export interface StatusOut {
  ret: number;
  status?: string;
  vcpu?: number;
  u?: Record<string, unknown>;
}

export interface DomSpec {
  vcpus: number;
  abi: '2l' | 'fifo';
  maxEvtchnPort?: number;
  pirqs?: number[];
}

const bit = (a: Uint32Array, p: number): boolean => ((a[p >>> 5]! >>> (p & 31)) & 1) !== 0;
const setBit = (a: Uint32Array, p: number, v: boolean): void => {
  a[p >>> 5] = v ? a[p >>> 5]! | (1 << (p & 31)) : a[p >>> 5]! & ~(1 << (p & 31));
};

function newPort(): MPort {
  return { state: 'free', remoteDom: 0, remotePort: 0, virq: 0, pirq: 0, vcpu: 0, priority: 7, lastV: 0, lastPrio: 7 };
}

export class Model {
  readonly doms: MDomain[] = [];

  /** Builds a domain as the domain builder + DefaultKernel boot leave it. */
  addDomain(spec: DomSpec): MDomain {
    const id = this.doms.length;
    const dom0 = id === 0;
    const d: MDomain = {
      id,
      alive: true,
      privileged: dom0,
      abi: spec.abi,
      maxEvtchnPort: spec.maxEvtchnPort ?? (dom0 ? 0x7fffffff : 1023),
      nrPirqs: dom0 ? NR_PIRQS_DOM0 : NR_PIRQS_DOMU,
      pirqsAllowed: new Set(dom0 ? Array.from({ length: NR_PIRQS_DOM0 }, (_, i) => i) : (spec.pirqs ?? [])),
      pirqToPort: new Map(),
      valid: 0,
      ports: [],
      vcpus: [],
      pend: new Uint32Array(L2_PORTS / 32),
      mask: new Uint32Array(L2_PORTS / 32),
      fifo: [],
      route: new Uint8Array(L2_PORTS),
      deliveries: [],
      owed: [],
      hazard: [],
    };
    for (let v = 0; v < spec.vcpus; v++) {
      d.vcpus.push({
        up: false,
        um: false, // DefaultKernel.boot clears the mask the builder set
        sel: [0, 0],
        virqToPort: new Array<number>(NR_VIRQS).fill(0),
        timerArmed: false,
        ready: 0,
        head: new Array<number>(16).fill(0),
        tails: new Array<number>(16).fill(0),
        localHead: new Array<number>(16).fill(0),
        timerPort: 0,
      });
    }
    if (spec.abi === 'fifo') for (let p = 0; p < FIFO_WORDS; p++) d.fifo.push({ p: false, m: false, l: false, link: 0 });
    this.grow(d, 0);
    d.ports[0]!.state = 'reserved';
    this.doms.push(d);
    return d;
  }

  dom(id: number): MDomain | undefined {
    const d = this.doms[id];
    return d?.alive ? d : undefined;
  }

  private lookup(caller: MDomain, id: number): MDomain | undefined {
    return id === DOMID_SELF ? caller : this.dom(id);
  }

  private grow(d: MDomain, port: number): void {
    const valid = (Math.floor(port / BUCKET) + 1) * BUCKET;
    while (d.valid < valid) {
      d.ports.push(newPort());
      d.deliveries.push(0);
      d.owed.push(false);
      d.hazard.push(false);
      d.valid++;
    }
  }

  isBound(d: MDomain, p: number): boolean {
    const s = d.ports[p]?.state;
    return s !== undefined && s !== 'free' && s !== 'reserved';
  }

  masked(d: MDomain, p: number): boolean {
    return d.abi === 'fifo' ? (d.fifo[p]?.m ?? true) : bit(d.mask, p);
  }

  pending(d: MDomain, p: number): boolean {
    return d.abi === 'fifo' ? (d.fifo[p]?.p ?? false) : bit(d.pend, p);
  }

  // ---- allocation (§2.5) ----

  private freePort(d: MDomain): number {
    const limit = Math.min(d.maxEvtchnPort + 1, d.abi === 'fifo' ? FIFO_PORTS : L2_PORTS);
    for (let p = 1; p < limit; p++) {
      if (p >= d.valid) {
        if (d.abi === 'fifo' && p >= FIFO_WORDS) throw new Error('model: port beyond the FIFO event array the tests set up');
        this.grow(d, p);
        return p;
      }
      const port = d.ports[p]!;
      if (port.state !== 'free') continue;
      if (d.abi === 'fifo' && d.fifo[p]!.l) continue; // still linked: busy
      return p;
    }
    return -ENOSPC;
  }

  private bind(d: MDomain, p: number, state: PState, vcpu: number): MPort {
    const port = d.ports[p]!;
    port.state = state;
    port.remoteDom = 0;
    port.remotePort = 0;
    port.virq = 0;
    port.pirq = 0;
    port.vcpu = vcpu;
    port.priority = 7;
    d.owed[p] = false;
    d.hazard[p] = false;
    return port;
  }

  // ---- set pending / unmask (§5.2, §5.3, §6.3, §6.4) ----

  private markEventsPending(v: MVcpu): void {
    v.up = true;
  }

  /** A notification: Xen's set-pending, plus the observation bookkeeping. */
  notifications = 0;

  notify(d: MDomain, vcpu: number, p: number): void {
    if (!this.isBound(d, p)) return;
    this.notifications++;
    if (this.masked(d, p)) d.hazard[p] = true;
    // 2L: the guest only scans a selector word for ports routed to the scanning vCPU.
    if (d.abi === '2l' && d.route[p] !== vcpu && !this.pending(d, p)) d.hazard[p] = true;
    d.owed[p] = true;
    this.setPending(d, vcpu, p);
  }

  private setPending(d: MDomain, vcpu: number, p: number): void {
    const v = d.vcpus[vcpu]!;
    if (d.abi === '2l') {
      if (bit(d.pend, p)) return;
      setBit(d.pend, p, true);
      if (bit(d.mask, p)) return;
      this.raiseSelector(v, p);
      return;
    }
    const w = d.fifo[p];
    if (w === undefined) throw new Error('model: FIFO port without an event word');
    w.p = true;
    if (w.m || w.l) return;
    w.l = true;
    const port = d.ports[p]!;
    const last = d.vcpus[port.lastV]!;
    if (last.tails[port.lastPrio] === p) last.tails[port.lastPrio] = 0;
    const q = port.priority;
    port.lastV = vcpu;
    port.lastPrio = q;
    const tail = v.tails[q]!;
    let linked = false;
    if (tail !== 0 && d.fifo[tail]!.l) {
      d.fifo[tail]!.link = p;
      linked = true;
    }
    v.tails[q] = p;
    if (linked) return;
    v.head[q] = p;
    if ((v.ready & (1 << q)) !== 0) return;
    v.ready |= 1 << q;
    this.markEventsPending(v);
  }

  private raiseSelector(v: MVcpu, p: number): void {
    const word = p >>> 6;
    const half = word >>> 5;
    const b = 1 << (word & 31);
    if ((v.sel[half]! & b) !== 0) return;
    v.sel[half] = v.sel[half]! | b;
    this.markEventsPending(v);
  }

  // ---- the guest kernel (DefaultKernel as a Linux-style guest) ----

  private deliver(d: MDomain, p: number): void {
    if (d.abi === '2l') setBit(d.pend, p, false);
    else d.fifo[p]!.p = false;
    d.deliveries[p] = (d.deliveries[p] ?? 0) + 1;
    d.owed[p] = false;
    d.hazard[p] = false;
  }

  /** One injected upcall on `vcpu`: clear upcall_pending, dispatch, repeat while set again. */
  upcall(d: MDomain, vcpu: number): void {
    const v = d.vcpus[vcpu]!;
    do {
      v.up = false;
      if (d.abi === 'fifo') this.fifoHandle(d, v);
      else this.handle2l(d, v, vcpu);
    } while (v.up);
  }

  private handle2l(d: MDomain, v: MVcpu, vcpu: number): void {
    const active = (p: number): boolean => bit(d.pend, p) && !bit(d.mask, p) && d.route[p] === vcpu;
    if (v.timerPort !== 0 && active(v.timerPort)) this.deliver(d, v.timerPort);
    const [lo, hi] = v.sel;
    if ((lo | hi) === 0) return;
    v.sel = [0, 0];
    for (let w = 0; w < 64; w++) {
      const on = w < 32 ? (lo >>> w) & 1 : (hi >>> (w - 32)) & 1;
      if (on === 0) continue;
      for (let p = w * 64; p < w * 64 + 64; p++) if (active(p)) this.deliver(d, p);
    }
  }

  private fifoHandle(d: MDomain, v: MVcpu): void {
    let ready = v.ready;
    v.ready = 0;
    while (ready !== 0) {
      const q = 31 - Math.clz32(ready & -ready);
      let h = v.localHead[q]!;
      if (h === 0) h = v.head[q]!;
      const w = h === 0 ? undefined : d.fifo[h];
      if (w === undefined) {
        v.localHead[q] = 0;
        ready &= ~(1 << q);
      } else {
        const next = w.link;
        const wasP = w.p;
        const wasM = w.m;
        w.l = false;
        w.link = 0;
        if (next === 0) ready &= ~(1 << q);
        if (wasP && !wasM) this.deliver(d, h);
        v.localHead[q] = next;
      }
      ready |= v.ready;
      v.ready = 0;
    }
  }

  /** Guest writes its mask bit directly (no hypercall, no re-raise). Returns false when the port has no mask bit. */
  guestMask(d: MDomain, p: number, value: boolean): boolean {
    if (d.abi === 'fifo') {
      const w = d.fifo[p];
      if (w === undefined) return false;
      if (value && d.owed[p]) d.hazard[p] = true;
      w.m = value;
      return true;
    }
    if (p < 0 || p >= L2_PORTS) return false;
    if (value && d.owed[p]) d.hazard[p] = true;
    setBit(d.mask, p, value);
    return true;
  }

  setUpcallMask(d: MDomain, vcpu: number, value: boolean): void {
    d.vcpus[vcpu]!.um = value;
  }

  // ---- hypercalls (§3), checks in Xen's order ----

  allocUnbound(caller: MDomain, dom: number, remoteDom: number): number {
    const d = this.lookup(caller, dom);
    if (d === undefined) return -ESRCH;
    const p = this.freePort(d);
    if (p < 0) return p;
    if (!(caller === d || caller.privileged)) return -EPERM;
    const port = this.bind(d, p, 'unbound', 0);
    port.remoteDom = remoteDom === DOMID_SELF ? caller.id : remoteDom;
    if (d === caller) d.route[p] = 0; // the guest routes a channel it made itself to vCPU 0, as Linux
    return p;
  }

  bindInterdomain(ld: MDomain, remoteDom: number, remotePort: number): number {
    const rd = this.lookup(ld, remoteDom);
    if (rd === undefined) return -ESRCH;
    const lp = this.freePort(ld);
    if (lp < 0) return lp;
    if (remotePort < 0 || remotePort >= rd.valid) return -EINVAL;
    const rport = rd.ports[remotePort]!;
    if (rport.state !== 'unbound' || rport.remoteDom !== ld.id) return -EINVAL;
    const local = this.bind(ld, lp, 'interdomain', 0);
    local.remoteDom = rd.id;
    local.remotePort = remotePort;
    rport.state = 'interdomain';
    rport.remoteDom = ld.id;
    rport.remotePort = lp;
    ld.route[lp] = 0; // Linux binds every new interdomain channel to vCPU 0
    this.notify(ld, 0, lp);
    return lp;
  }

  bindVirq(d: MDomain, virq: number, vcpu: number): number {
    if (virq < 0 || virq >= NR_VIRQS) return -EINVAL;
    const type = virqType(virq);
    if (type !== 'vcpu' && vcpu !== 0) return -EINVAL;
    const v = d.vcpus[vcpu];
    if (v === undefined) return -ENOENT;
    if (type === 'global' && d.id !== 0) return -EBUSY; // handler = hardware domain (dom0)
    if (v.virqToPort[virq] !== 0) return -EEXIST;
    const p = this.freePort(d);
    if (p < 0) return p;
    this.bind(d, p, 'virq', vcpu).virq = virq;
    v.virqToPort[virq] = p;
    if (virq === VIRQ_TIMER) {
      v.timerArmed = true;
      v.timerPort = p;
    }
    d.route[p] = vcpu;
    return p;
  }

  bindIpi(d: MDomain, vcpu: number): number {
    if (d.vcpus[vcpu] === undefined) return -ENOENT;
    const p = this.freePort(d);
    if (p < 0) return p;
    this.bind(d, p, 'ipi', vcpu);
    d.route[p] = vcpu;
    return p;
  }

  bindPirq(d: MDomain, pirq: number): number {
    if (pirq < 0 || pirq >= d.nrPirqs) return -EINVAL;
    if (!d.pirqsAllowed.has(pirq)) return -EPERM;
    if (d.pirqToPort.has(pirq)) return -EEXIST;
    const p = this.freePort(d);
    if (p < 0) return p;
    this.bind(d, p, 'pirq', 0).pirq = pirq;
    d.pirqToPort.set(pirq, p);
    d.route[p] = 0;
    return p;
  }

  /** evtchn_close (§3.6); `byGuest` adds the guest kernel's own bookkeeping after a successful close. */
  close(d: MDomain, p: number, byGuest: boolean): number {
    if (p < 0 || p >= d.valid) return -EINVAL;
    const port = d.ports[p]!;
    switch (port.state) {
      case 'free':
      case 'reserved':
        return -EINVAL;
      case 'pirq':
        d.pirqToPort.delete(port.pirq);
        break;
      case 'virq': {
        const v = virqType(port.virq) === 'vcpu' ? d.vcpus[port.vcpu]! : d.vcpus[0]!;
        if (v.virqToPort[port.virq] === p) v.virqToPort[port.virq] = 0;
        break;
      }
      case 'interdomain': {
        const rd = this.dom(port.remoteDom);
        if (rd !== undefined && !(rd === d && port.remotePort === p)) {
          const r = rd.ports[port.remotePort]!;
          r.state = 'unbound';
          r.remoteDom = d.id;
          r.remotePort = 0;
        }
        break;
      }
      default:
        break;
    }
    // evtchn_free: pending cleared, notify vCPU 0; the mask bit is the guest's.
    if (d.abi === '2l') setBit(d.pend, p, false);
    else d.fifo[p]!.p = false;
    port.state = 'free';
    port.vcpu = 0;
    port.remoteDom = 0;
    port.remotePort = 0;
    port.virq = 0;
    port.pirq = 0;
    d.owed[p] = false;
    d.hazard[p] = false;
    if (byGuest) {
      for (const v of d.vcpus) if (v.timerPort === p) v.timerPort = 0;
      d.route[p] = 0;
    }
    return 0;
  }

  send(d: MDomain, p: number): number {
    if (p < 0 || p >= d.valid) return -EINVAL;
    const port = d.ports[p]!;
    switch (port.state) {
      case 'interdomain': {
        const rd = this.dom(port.remoteDom)!;
        this.notify(rd, rd.ports[port.remotePort]!.vcpu, port.remotePort);
        return 0;
      }
      case 'ipi':
        this.notify(d, port.vcpu, p);
        return 0;
      case 'unbound':
        return 0;
      default:
        return -EINVAL;
    }
  }

  status(caller: MDomain, dom: number, p: number): StatusOut {
    const d = this.lookup(caller, dom);
    if (d === undefined) return { ret: -ESRCH };
    if (p < 0 || p >= d.valid) return { ret: -EINVAL };
    if (!(caller === d || caller.privileged)) return { ret: -EPERM };
    const port = d.ports[p]!;
    const out: StatusOut = { ret: 0, status: STATUS_NAME[port.state], vcpu: port.vcpu };
    if (port.state === 'unbound') out.u = { unbound: { dom: port.remoteDom } };
    else if (port.state === 'interdomain') out.u = { interdomain: { dom: port.remoteDom, port: port.remotePort } };
    else if (port.state === 'pirq') out.u = { pirq: port.pirq };
    else if (port.state === 'virq') out.u = { virq: port.virq };
    return out;
  }

  bindVcpu(d: MDomain, p: number, vcpu: number): number {
    if (d.vcpus[vcpu] === undefined) return -ENOENT;
    if (p < 0 || p >= d.valid) return -EINVAL;
    const port = d.ports[p]!;
    switch (port.state) {
      case 'virq':
        if (virqType(port.virq) === 'vcpu') return -EINVAL;
        break;
      case 'unbound':
      case 'interdomain':
      case 'pirq':
        break;
      default:
        return -EINVAL;
    }
    port.vcpu = vcpu;
    if (d.owed[p]) d.hazard[p] = true; // a 2L selector bit already set stays on the old vCPU (§3.9)
    d.route[p] = vcpu;
    return 0;
  }

  unmask(d: MDomain, p: number): number {
    if (p < 0 || p >= d.valid) return -EINVAL;
    if (!this.isBound(d, p)) return 0;
    const port = d.ports[p]!;
    if (d.abi === '2l') {
      if (!bit(d.mask, p)) return 0;
      setBit(d.mask, p, false);
      if (bit(d.pend, p)) this.raiseSelector(d.vcpus[port.vcpu]!, p);
      return 0;
    }
    const w = d.fifo[p]!;
    w.m = false;
    if (w.p) this.setPending(d, port.vcpu, p);
    return 0;
  }

  reset(caller: MDomain, dom: number): number {
    const d = this.lookup(caller, dom);
    if (d === undefined) return -ESRCH;
    if (!(caller === d || caller.privileged)) return -EPERM;
    if (d !== caller) return -EINVAL; // never paused by the toolstack in these tests
    for (let p = 1; p < d.valid; p++) if (this.isBound(d, p)) this.close(d, p, false);
    // The guest forgets its own routing after its own reset.
    d.route.fill(0);
    for (const v of d.vcpus) v.timerPort = 0;
    if (d.abi === 'fifo') {
      d.abi = '2l';
      d.fifo = [];
      for (const v of d.vcpus) {
        v.ready = 0;
        v.head.fill(0);
        v.tails.fill(0);
      }
    }
    return 0;
  }

  setPriority(d: MDomain, p: number, prio: number): number {
    if (p < 0 || p >= d.valid) return -EINVAL;
    if (d.abi !== 'fifo') return -ENOSYS;
    if (!this.isBound(d, p)) return -EACCES;
    if (prio < 0 || prio > 15) return -EINVAL;
    d.ports[p]!.priority = prio;
    return 0;
  }

  // ---- things Xen raises ----

  raiseVcpuVirq(d: MDomain, vcpu: number, virq: number): void {
    const p = d.vcpus[vcpu]!.virqToPort[virq]!;
    if (p !== 0) this.notify(d, vcpu, p);
  }

  raiseDomainVirq(d: MDomain, virq: number): void {
    const p = d.vcpus[0]!.virqToPort[virq]!;
    if (p !== 0) this.notify(d, d.ports[p]!.vcpu, p);
  }

  raisePirq(d: MDomain, pirq: number): void {
    const p = d.pirqToPort.get(pirq);
    if (p !== undefined) this.notify(d, d.ports[p]!.vcpu, p);
  }

  /** domain_kill + final destroy (§8): every port closed highest first, VIRQ_DOM_EXC to dom0 twice. */
  destroy(d: MDomain): void {
    for (let p = d.valid - 1; p > 0; p--) if (this.isBound(d, p)) this.close(d, p, false);
    d.alive = false;
    const dom0 = this.dom(0)!;
    this.raiseDomainVirq(dom0, VIRQ_DOM_EXC);
    this.raiseDomainVirq(dom0, VIRQ_DOM_EXC);
  }

  /** Every vCPU that has an upcall due takes it (the harness makes sure one is queued). */
  takeUpcalls(): void {
    for (const d of this.doms) {
      if (!d.alive) continue;
      d.vcpus.forEach((v, i) => {
        if (v.up && !v.um) this.upcall(d, i);
      });
    }
  }

  /** One tick of every armed periodic timer. */
  tick(): void {
    for (const d of this.doms) {
      if (!d.alive) continue;
      d.vcpus.forEach((v, i) => {
        if (v.timerArmed) this.raiseVcpuVirq(d, i, VIRQ_TIMER);
      });
    }
  }
}
