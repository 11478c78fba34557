/** A solution to exercise 7 whose response handler throws: the run stops, and the grade is ERROR. */
import { kernel, solution } from 'xenlab';

const asker = kernel('asker', {
  boot(k) {
    k.control({ type: 'CMSG_CONSOLE', payload: 'request 1\n', reply: true });
  },
  onControlResponse(k, msg) {
    throw new Error(`no table for id ${msg.id}`);
  },
});

export default solution({ kernels: { guest: asker } });
