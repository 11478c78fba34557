/**
 * The words the explain panel uses: where each test is made in Xen (and the
 * guest), and what raises a port in its state.
 */
import { ECS_FREE, ECS_INTERDOMAIN, ECS_IPI, ECS_PIRQ, ECS_RESERVED, ECS_UNBOUND, ECS_VIRQ, VIRQS, VIRQ_PER_VCPU } from '../../core/abi/evtchn.js';
import * as xen2 from '../../core/abi/xen2.js';
import type { Domain } from '../../core/hv/domain.js';
import type { Hypervisor } from '../../core/hv/hypervisor.js';

/** Where each test is made, in today's Xen and Linux and in Xen 2.0.0 and XenLinux 2.0. */
export const SRC = {
  send: 'xen/common/event_channel.c: evtchn_send',
  bindVcpu: 'xen/common/event_channel.c: evtchn_bind_vcpu (notify_vcpu_id)',
  virq: 'xen/common/event_channel.c: send_guest_vcpu_virq / send_guest_domain_virq / send_global_virq',
  pirq: 'xen/common/event_channel.c: send_guest_pirq',
  status: 'xen/common/event_channel.c: evtchn_status',
  portValid: 'xen/include/xen/event.h: port_is_valid',
  set2l: 'xen/common/event_2l.c: evtchn_2l_set_pending',
  unmask2l: 'xen/common/event_2l.c: evtchn_2l_unmask',
  markPending: 'xen/arch/x86/domain.c: vcpu_mark_events_pending',
  inject: 'xen/arch/x86/x86_64/entry.S: test_all_events (here src/core/hv/upcall.ts: upcallDeliverable, injectUpcall)',
  pause: 'xen/common/domain.c: domain_pause_by_systemcontroller (controller_pause_count)',
  shutdown: 'xen/common/domain.c: domain_shutdown / domain_kill',
  linux2l: 'Linux drivers/xen/events/events_2l.c: evtchn_2l_handle_events (pending & ~mask & cpu_evtchn_mask)',
  setFifo: 'xen/common/event_fifo.c: evtchn_fifo_set_pending',
  wordFifo: 'xen/common/event_fifo.c: evtchn_fifo_word_from_port / evtchn_fifo_expand_array',
  initFifo: 'xen/common/event_fifo.c: evtchn_fifo_init_control',
  unmaskFifo: 'xen/common/event_fifo.c: evtchn_fifo_unmask',
  linuxFifo: 'Linux drivers/xen/events/events_fifo.c: __evtchn_fifo_handle_events / consume_one_event (lowest READY bit first)',
  send2: 'xen/common/event_channel.c (2.0.0): evtchn_send',
  virq2: 'xen/include/xen/event.h (2.0.0): send_guest_virq',
  pirq2: 'xen/common/event_channel.c (2.0.0): send_guest_pirq',
  set2: 'xen/include/xen/event.h (2.0.0): evtchn_set_pending',
  inject2: "Xen 2.0.0's x86 entry.S: test_all_events (here src/core/hv/upcall.ts: upcallDeliverable)",
  pause2: 'xen/common/dom0_ops.c (2.0.0): DOM0_PAUSEDOMAIN (a paused domain is not scheduled)',
  linux2: 'XenLinux 2.0 arch/xen/kernel/evtchn.c: evtchn_do_upcall (pending & ~mask)',
} as const;

/** "guest (dom1)", or "dom0" when the name says it already. */
export function domLabel(hv: Hypervisor, domid: number): string {
  const d = hv.domain(domid);
  if (d === undefined) return `dom${domid} (no such domain now)`;
  return d.name === `dom${domid}` ? d.name : `${d.name} (dom${domid})`;
}

export function virqName(d: Domain, virq: number): { name: string; meaning: string; perVcpu: boolean } {
  if (d.xen === '2.0') {
    const v = xen2.VIRQS[virq];
    return { name: v?.name ?? `VIRQ ${virq}`, meaning: v?.meaning ?? 'no VIRQ has this number', perVcpu: false };
  }
  const v = VIRQS[virq];
  return { name: v?.name ?? `VIRQ ${virq}`, meaning: v?.meaning ?? 'no VIRQ has this number', perVcpu: v?.type === VIRQ_PER_VCPU };
}

/** What raises `port` of `d` in its state now: a sentence fragment, and where Xen does it. */
export function raisedBy(hv: Hypervisor, d: Domain, port: number): { text: string; source: string } {
  const ports = d.ports;
  const old = d.xen === '2.0';
  switch (ports.state[port]) {
    case ECS_INTERDOMAIN: {
      const rd = ports.remoteDom[port]!;
      const rp = ports.remotePort[port]!;
      return { text: `${domLabel(hv, rd)} raises it with EVTCHNOP_send on its port ${rp}`, source: old ? SRC.send2 : SRC.send };
    }
    case ECS_VIRQ: {
      const virq = ports.remotePort[port]!;
      const v = virqName(d, virq);
      const who = v.perVcpu ? ` for vCPU ${ports.notifyVcpu[port]}` : '';
      return { text: `Xen raises it for ${v.name}${who} (${v.meaning})`, source: old ? SRC.virq2 : SRC.virq };
    }
    case ECS_PIRQ:
      return { text: `physical IRQ ${ports.remotePort[port]} raises it`, source: old ? SRC.pirq2 : SRC.pirq };
    case ECS_IPI:
      return { text: `the domain's own vCPUs raise it with EVTCHNOP_send on port ${port} (an IPI to vCPU ${ports.notifyVcpu[port]})`, source: SRC.send };
    case ECS_UNBOUND:
      return { text: `nothing until ${domLabel(hv, ports.remoteDom[port]!)} binds it with EVTCHNOP_bind_interdomain`, source: old ? SRC.send2 : SRC.send };
    case ECS_RESERVED:
      return { text: 'nothing: Xen reserves port 0 and never delivers on it', source: SRC.status };
    case ECS_FREE:
    default:
      return { text: 'nothing: the port is not in use', source: old ? SRC.send2 : SRC.send };
  }
}
