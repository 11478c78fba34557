/**
 * The machine as the topology view draws it: each domain with its bound
 * ports (state, vCPU, pending and mask bits, peer), labelled with what the
 * guest uses them for when the machine says so (a VIRQ's name, the Xen 2.0
 * control channel from start_info.domain_controller_evtchn, the xenstore and
 * console ports from start_info.store_evtchn and console.domU.evtchn); the
 * other end of a labelled channel gets the same label with the guest's name.
 * Also EVTCHNOP_status's answer for one port (the port status panel).
 */
import { ECS_FREE, ECS_INTERDOMAIN, ECS_NAMES, ECS_PIRQ, ECS_UNBOUND, ECS_VIRQ, FIFO_L } from '../../core/abi/evtchn.js';
import { START_INFO_CONSOLE_EVTCHN, START_INFO_STORE_EVTCHN } from '../../core/abi/layout.js';
import type { Domain } from '../../core/hv/domain.js';
import { eventPage } from '../../core/hv/event_fifo.js';
import type { Hypervisor } from '../../core/hv/hypervisor.js';
import type { Scenario } from '../../scenario/model.js';
import type { DomainState, Topology, TopologyDomain, TopologyPort } from '../../contract/session.js';
import { virqName } from './record_summary.js';

/** A port's pending and mask bits as the guest's shared memory holds them (FIFO: its event word, if it has one). */
export function portBits(d: Domain, port: number): { pending: boolean; masked: boolean; linked: boolean } {
  if (d.ops.name === 'fifo') {
    const page = eventPage(d, port);
    if (page === undefined) return { pending: false, masked: true, linked: false };
    return { pending: d.ops.isPending(d, port), masked: d.ops.isMasked(d, port), linked: (page[port & 1023]! & FIFO_L) !== 0 };
  }
  if (port >= d.ops.maxPorts) return { pending: false, masked: true, linked: false };
  return { pending: d.ops.isPending(d, port), masked: d.ops.isMasked(d, port), linked: false };
}

function domainState(d: Domain): DomainState {
  if (d.state === 'dead') return 'destroyed';
  if (d.state === 'running' && d.pauseCount > 0) return 'paused';
  return d.state;
}

/** What each port of `d` is for, from its start_info (the guest's view). */
function startInfoLabels(hv: Hypervisor, d: Domain): Map<number, string> {
  const labels = new Map<number, string>();
  if (d.domid === 0) return labels;
  try {
    if (d.xen === '2.0') {
      const p = hv.domainControllerEvtchn(d);
      if (p !== 0) labels.set(p, 'control channel');
    } else {
      const st = d.startInfo;
      const view = new DataView(st.buffer, st.byteOffset, st.byteLength);
      const store = view.getUint32(START_INFO_STORE_EVTCHN, true);
      const cons = view.getUint32(START_INFO_CONSOLE_EVTCHN, true);
      if (store !== 0) labels.set(store, 'xenstore');
      if (cons !== 0) labels.set(cons, 'console');
    }
  } catch {
    // no start_info frame: nothing to read
  }
  return labels;
}

export function topology(hv: Hypervisor, sc: Scenario, kernels: ReadonlyMap<string, string>, position: number): Topology {
  const domains: TopologyDomain[] = [];
  const byId = new Map<number, TopologyDomain>();
  for (const d of hv.domains) {
    const own = startInfoLabels(hv, d);
    const ports: TopologyPort[] = [];
    const table = d.ports;
    for (let p = 0; p < table.valid; p++) {
      const state = table.state[p]!;
      if (state === ECS_FREE) continue;
      const bits = portBits(d, p);
      const tp: TopologyPort = { port: p, state: ECS_NAMES[state]!, vcpu: table.notifyVcpu[p]!, pending: bits.pending, masked: bits.masked };
      if (tp.state === 'free') continue;
      if (state === ECS_INTERDOMAIN) {
        tp.remoteDom = table.remoteDom[p]!;
        tp.remotePort = table.remotePort[p]!;
      } else if (state === ECS_UNBOUND) tp.remoteDom = table.remoteDom[p]!;
      else if (state === ECS_VIRQ) {
        tp.virq = table.remotePort[p]!;
        tp.label = virqName(hv.xen, tp.virq);
      } else if (state === ECS_PIRQ) tp.pirq = table.remotePort[p]!;
      const label = own.get(p);
      if (label !== undefined) tp.label = label;
      ports.push(tp);
    }
    const decl = sc.domains.find((x) => x.domid === d.domid);
    const kernel = d.domid === 0 ? (hv.xen === '2.0' ? 'dom0 (xend)' : 'dom0 (xenstored, xenconsoled)') : (kernels.get(d.name) ?? decl?.kernel ?? 'default');
    const td: TopologyDomain = { domid: d.domid, name: d.name, kernel, state: domainState(d), vcpus: d.vcpus.length, abi: d.ops.name === 'fifo' ? 'fifo' : '2l', ports };
    domains.push(td);
    byId.set(d.domid, td);
  }
  // The other end of a labelled channel: "control channel (plan9)".
  for (const td of domains) {
    for (const tp of td.ports) {
      if (tp.label === undefined || tp.remotePort === undefined || tp.virq !== undefined) continue;
      const peer = byId.get(tp.remoteDom!)?.ports.find((x) => x.port === tp.remotePort);
      if (peer !== undefined && peer.label === undefined) peer.label = `${tp.label} (${td.name})`;
    }
  }
  // Declared domains that are gone.
  for (const decl of sc.domains) {
    if (byId.has(decl.domid)) continue;
    domains.push({ domid: decl.domid, name: decl.name, kernel: kernels.get(decl.name) ?? decl.kernel, state: 'destroyed', vcpus: decl.vcpus, abi: sc.abi, ports: [] });
  }
  domains.sort((a, b) => a.domid - b.domid);
  return { position, domains };
}
