// fails: reused-ids
/**
 * A plausible mistake: taking the id for the request's number. It holds for the first eight
 * (ids 0 to 7), but ctrl_if hands out the lowest free id, so requests 9 to 12 get ids 0 to 3 again
 * and are answered as 1 to 4. Expected: "sent", "responses" and "first-eight" hold; "reused-ids"
 * fails.
 */
import { kernel, solution, type Guest } from 'xenlab';

function sendMore(k: Guest): void {
  let next = (k.state.next as number | undefined) ?? 1;
  while (next <= 12 && k.control({ type: 'CMSG_CONSOLE', subtype: 'CMSG_CONSOLE_DATA', payload: `request ${next}\n`, reply: true }).ret === 0) next++;
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
    k.println(`answer ${msg.id + 1}`);
  },
});

export default solution({ kernels: { guest: asker } });
