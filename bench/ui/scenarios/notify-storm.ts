/**
 * A notification storm, for the UI benchmark and the timeline's million-record test: ping and
 * pong bounce an event over an interdomain channel, ROUNDS round trips on every 10 ms timer tick
 * (about 120,000 trace records a second of virtual time: 11 records a notification), for as long as the session runs.
 * pong's end is bound to its vCPU 1, so the timeline has a second vCPU lane to draw.
 */
import { kernel, scenario } from 'xenlab';

const ROUNDS = 55;

const pinger = kernel('pinger', {
  boot(k) {
    k.call('bind_virq', { virq: 'VIRQ_TIMER', vcpu: 0 });
  },
  onTimer(k) {
    const port = k.state.port as number | undefined;
    if (port === undefined) return;
    k.state.left = ROUNDS;
    k.send(port);
  },
  onEvent(k, port) {
    k.state.port = port;
    const left = (k.state.left as number | undefined) ?? 0;
    if (left === 0) return;
    k.state.left = left - 1;
    k.send(port);
  },
});

const ponger = kernel('ponger', {
  onEvent(k, port, vcpu) {
    k.send(port, vcpu);
  },
});

export default scenario({
  name: 'notify storm: ping and pong bounce an event without end',
  description: `${ROUNDS} round trips every 10 ms tick of ping's timer, as long as the session runs.`,
  domains: [{ name: 'dom0' }, { name: 'ping', kernel: pinger }, { name: 'pong', kernel: ponger, vcpus: 2 }],
  steps: [
    { as: 'pong', op: 'alloc_unbound', args: { dom: 'DOMID_SELF', remote_dom: 'ping' }, expect: { ret: 0 }, save: { port: 'pong_port' } },
    { as: 'pong', op: 'bind_vcpu', args: { port: '$pong_port', vcpu: 1 }, expect: { ret: 0 } },
    { as: 'ping', op: 'bind_interdomain', args: { remote_dom: 'pong', remote_port: '$pong_port' }, expect: { ret: 0 } },
    { run: '20ms' },
  ],
});
