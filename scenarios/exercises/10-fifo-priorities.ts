/**
 * Exercise 10: FIFO priorities. A TypeScript exercise: the teacher's guest kernel logs the order
 * in which Linux's FIFO consumer hands it events; the student's steps set the ports' priorities.
 * Grade a solution with: xenlab check scenarios/exercises/10-fifo-priorities.ts --solution FILE
 */
import { kernel, scenario } from 'xenlab';

/** Logs each event it takes, and which came first. */
const logger = kernel('logger', {
  onEvent(k, port) {
    if (k.state.first === undefined) {
      k.state.first = port;
      k.println(`first: port ${port}`);
    }
    k.println(`event on port ${port}`);
  },
});

export default scenario({
  name: 'Exercise 10: FIFO priorities',
  description: 'Three IPI ports of one vCPU go pending together; their priorities decide the order the kernel takes them in.',
  abi: 'fifo',
  domains: [{ name: 'dom0' }, { name: 'guest', kernel: logger }],
  steps: [
    // Three IPIs to vCPU 0, in order: bulk is port 1, net port 2, urgent port 3.
    { as: 'guest', op: 'bind_ipi', args: { vcpu: 0 }, save: { port: 'bulk' } },
    { as: 'guest', op: 'bind_ipi', args: { vcpu: 0 }, save: { port: 'net' } },
    { as: 'guest', op: 'bind_ipi', args: { vcpu: 0 }, save: { port: 'urgent' } },
    { solution: 'give the three ports priorities so that urgent is taken first, then net, then bulk' },
    // All three go pending while vCPU 0's upcalls are blocked, the least urgent first.
    { as: 'guest', upcall_mask: { vcpu: 0, value: true } },
    { as: 'guest', op: 'send', args: { port: '$bulk' } },
    { as: 'guest', op: 'send', args: { port: '$net' } },
    { as: 'guest', op: 'send', args: { port: '$urgent' } },
    { as: 'guest', upcall_mask: { vcpu: 0, value: false } },
    { run: '1ms' },
  ],
  exercise: {
    title: 'FIFO priorities',
    level: 3,
    goal:
      "Under the FIFO event ABI every vCPU has 16 queues, one per priority, and a pending event is linked onto its port's queue. " +
      "guest has three IPI ports on vCPU 0 — bulk (port 1), net (port 2) and urgent (port 3) — and the exercise makes all three pending at once, bulk first, urgent last. " +
      "As they are, guest's kernel takes them in the order they arrived. Give the ports priorities (EVTCHNOP_set_priority) so that urgent is taken first, then net, then bulk. " +
      'The kernel logs each event it takes (event on port N).',
    hints: [
      'New ports get priority 7, so all three share one queue and come out in the order they went in.',
      "Linux's FIFO consumer looks at the READY bits of the vCPU's control block and takes the queue of the highest priority that has events, one event at a time.",
      'In event_fifo.c the highest priority is 0 (EVTCHN_FIFO_PRIORITY_MAX) and the lowest 15 (EVTCHN_FIFO_PRIORITY_MIN); 7 is the default.',
    ],
    checks: [
      { id: 'urgent-first', title: 'urgent was taken first', points: 3, console: { domain: 'guest', contains: 'first: port 3' } },
      {
        id: 'order',
        title: 'then net, then bulk',
        points: 2,
        requires: ['urgent-first'],
        console: { domain: 'guest', contains: 'event on port 3\nevent on port 2\nevent on port 1\n' },
      },
    ],
  },
});
