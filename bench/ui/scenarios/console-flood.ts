/**
 * A guest that floods its console, for the UI benchmark: on every 10 ms tick of its timer it
 * prints LINES lines of 100 bytes (50,000 bytes a tick: 5 MB a second at real time).
 */
import { kernel, scenario } from 'xenlab';

const LINES = 500;
const PAD = '.'.repeat(100);

const flood = kernel('flood', {
  boot(k) {
    k.call('bind_virq', { virq: 'VIRQ_TIMER', vcpu: 0 });
  },
  onTimer(k) {
    const tick = ((k.state.tick as number | undefined) ?? 0) + 1;
    k.state.tick = tick;
    // One call out of the sandbox for the time (it does not move within a handler), not one a line:
    // what is measured is the console path and the page, not the guest's calls.
    const now = k.now();
    let out = '';
    for (let i = 0; i < LINES; i++) {
      const head = `tick ${tick} line ${i} t=${now} `;
      out += head + PAD.slice(head.length + 1) + '\n';
    }
    k.print(out);
  },
});

export default scenario({
  name: 'console flood: a guest prints 5 MB a second',
  description: `${LINES} lines of 100 bytes on every 10 ms timer tick.`,
  domains: [{ name: 'dom0' }, { name: 'flood', kernel: flood }],
  steps: [{ run: '20ms' }],
});
