/**
 * Reference solution: XenLinux 2.0's console driver in small. Output goes to a buffer, which is
 * sent in pieces of at most 60 bytes until ctrl_if says the ring is full (-EAGAIN); the rest waits
 * for onControlSpace. Typed input (CMSG_CONSOLE requests from xend) is echoed the same way.
 */
import { kernel, solution, type Guest } from 'xenlab';

const MAX_PAYLOAD = 60;

function flush(k: Guest): void {
  let rest = (k.state.out as string | undefined) ?? '';
  while (rest.length > 0) {
    const piece = rest.slice(0, MAX_PAYLOAD);
    if (k.control({ type: 'CMSG_CONSOLE', subtype: 'CMSG_CONSOLE_DATA', payload: piece }).ret !== 0) break;
    rest = rest.slice(piece.length);
  }
  k.state.out = rest;
}

function write(k: Guest, text: string): void {
  k.state.out = ((k.state.out as string | undefined) ?? '') + text;
  flush(k);
}

const xencons = kernel('xencons', {
  boot(k) {
    let banner = '';
    for (let n = 1; n <= 16; n++) banner += `ctrl_if console: line ${n} of 16, 60-byte CMSG_CONSOLE messages\n`;
    write(k, `${banner}console up\n`);
  },
  onControlSpace(k) {
    flush(k);
  },
  onControlMessage(k, msg) {
    if (msg.type_name === 'CMSG_CONSOLE') write(k, String.fromCharCode(...msg.payload));
  },
});

export default solution({ kernels: { guest: xencons } });
