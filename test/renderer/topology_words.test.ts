// What the topology view writes about ports and domains: labels in Xen's words (the guest's use
// when known, else the EVTCHNSTAT state), the other end, where events come from, one sentence per
// port for screen readers, a collapsed domain's summary, rates.
import { describe, expect, it } from 'vitest';
import type { TopologyDomain, TopologyPort } from '../../src/contract/session.js';
import { domainMeta, peerText, portLabel, portSentence, portSource, portSummary, rateText, shownPorts } from '../../src/renderer/src/views/topology/words.js';

const port = (p: number, state: string, extra: Partial<TopologyPort> = {}): TopologyPort => ({ port: p, state, vcpu: 0, pending: false, masked: false, ...extra });
const names = (d: number) => ['dom0', 'guest'][d] ?? `dom${d}`;

describe('the topology view’s words', () => {
  it('labels a port by its use, else by its state', () => {
    expect(portLabel(port(1, 'interdomain', { label: 'control channel', remoteDom: 0, remotePort: 2 }))).toBe('control channel');
    expect(portLabel(port(2, 'virq', { virq: 0, label: 'VIRQ_TIMER' }))).toBe('VIRQ_TIMER');
    expect(portLabel(port(3, 'pirq', { pirq: 5 }))).toBe('PIRQ 5');
    expect(portLabel(port(4, 'ipi', { vcpu: 1 }))).toBe('to vCPU 1');
    expect(portLabel(port(5, 'unbound', { remoteDom: 0 }))).toBe('unbound');
    expect([portSource(port(1, 'interdomain')), portSource(port(1, 'virq')), portSource(port(1, 'pirq')), portSource(port(1, 'ipi')), portSource(port(1, 'unbound'))]).toEqual(['channel', 'xen', 'hardware', 'ipi', 'none']);
  });

  it('names the other end, and says everything in one sentence', () => {
    const p = port(1, 'interdomain', { remoteDom: 0, remotePort: 2, pending: true, masked: true, vcpu: 1 });
    expect(peerText(p, names)).toBe('dom0:2');
    expect(peerText(port(2, 'unbound', { remoteDom: 1 }), names)).toBe('for guest');
    const d: TopologyDomain = { domid: 1, name: 'guest', kernel: 'minios', state: 'running', vcpus: 2, abi: 'fifo', ports: [port(0, 'reserved'), p] };
    expect(portSentence(d, p, names)).toBe('port 1 of guest, interdomain, connected to dom0 port 2, notifies vCPU 1, pending, masked');
    expect(domainMeta(d)).toBe('FIFO · 2 vCPUs · 1 port · minios');
    expect(shownPorts(d).map((x) => x.port)).toEqual([1]);
    expect(portSummary(d)).toBe('1 port · 1 pending · 1 masked');
    expect(portSummary({ ...d, ports: [] })).toBe('no ports');
  });

  it('writes rates short', () => {
    expect([rateText(7.4), rateText(950), rateText(1234), rateText(98_765)]).toEqual(['7/s', '950/s', '1.2k/s', '99k/s']);
  });
});
