// fails: all-lines
/**
 * A plausible mistake: sending every piece and ignoring what k.control returns. The ring holds 8
 * requests; from the 9th piece on, each send is refused with -EAGAIN and its bytes are lost.
 * Expected: "over-ctrl-if" and "echo" hold; "all-lines" fails.
 */
import { kernel, solution, type Guest } from 'xenlab';

function write(k: Guest, text: string): void {
  for (let at = 0; at < text.length; at += 60) k.control({ type: 'CMSG_CONSOLE', subtype: 'CMSG_CONSOLE_DATA', payload: text.slice(at, at + 60) });
}

const xencons = kernel('xencons', {
  boot(k) {
    let banner = '';
    for (let n = 1; n <= 16; n++) banner += `ctrl_if console: line ${n} of 16, 60-byte CMSG_CONSOLE messages\n`;
    write(k, `${banner}console up\n`);
  },
  onControlMessage(k, msg) {
    if (msg.type_name === 'CMSG_CONSOLE') write(k, String.fromCharCode(...msg.payload));
  },
});

export default solution({ kernels: { guest: xencons } });
