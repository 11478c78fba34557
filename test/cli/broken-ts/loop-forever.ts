// A kernel whose event handler never returns: the run stops with an error naming the handler.
import { kernel, scenario } from 'xenlab';

const spinner = kernel('spinner', {
  onEvent(k, port) {
    let n = 0;
    while (port > 0) n++;
    k.println(`never ${n}`);
  },
});

export default scenario({
  name: 'a handler loops forever',
  domains: [{ name: 'dom0' }, { name: 'guest', kernel: spinner }],
  steps: [{ as: 'guest', op: 'bind_ipi', args: { vcpu: 0 }, save: { port: 'p' } }, { as: 'guest', op: 'send', args: { port: '$p' } }, { run: '1ms' }],
});
