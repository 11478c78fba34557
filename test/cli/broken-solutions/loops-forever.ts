/**
 * A solution to exercise 6 whose kernel never returns from boot: the sandbox stops it at its time
 * limit and the grade is ERROR, saying so.
 */
import { kernel, solution } from 'xenlab';

const spinner = kernel('spinner', {
  boot(k) {
    let n = 0;
    while (k.vcpus > 0) n++;
    k.println(`never ${n}`);
  },
  onControlMessage() {
    return undefined;
  },
});

export default solution({ kernels: { guest: spinner } });
