/**
 * Reference solution: a table from id to request number, filled when a request goes out and read
 * when its response comes back. Requests refused with -EAGAIN wait for onControlSpace.
 */
import { kernel, solution, type Guest } from 'xenlab';

const REQUESTS = 12;

function sendMore(k: Guest): void {
  const byId = (k.state.byId ??= {}) as Record<number, number>;
  let next = (k.state.next as number | undefined) ?? 1;
  while (next <= REQUESTS) {
    const r = k.control({ type: 'CMSG_CONSOLE', subtype: 'CMSG_CONSOLE_DATA', payload: `request ${next}\n`, reply: true });
    if (r.ret !== 0) break; // the ring is full: onControlSpace sends the rest
    byId[r.id] = next;
    next++;
  }
  k.state.next = next;
}

const asker = kernel('asker', {
  boot(k) {
    sendMore(k);
  },
  onControlSpace(k) {
    sendMore(k);
  },
  onControlResponse(k, msg) {
    const byId = k.state.byId as Record<number, number>;
    k.println(`answer ${byId[msg.id]}`);
  },
});

export default solution({ kernels: { guest: asker } });
