/**
 * A custom kernel on Xen 2.0's control interface: xend's requests reach onControlMessage.
 *
 * Under xen: "2.0" a custom kernel with onControlMessage gets a control channel from xend before it
 * boots, as Plan 9 does. Text typed at its console arrives as CMSG_CONSOLE requests; `shutdown`
 * makes xend send CMSG_SHUTDOWN. Each request is answered with what the handler returns (at most 60
 * bytes of payload), as ctrl_if_send_response does; this kernel shuts itself down when asked, the way
 * XenLinux 2.0's reboot.c does. Steps wait for what happens with until; the final expect block
 * checks what the run did, counting the responses the guest put on the rx ring in the trace.
 */
import { kernel, scenario } from 'xenlab';

const guest = kernel('ctl', {
  onControlMessage(k, msg) {
    const text = String.fromCharCode(...msg.payload);
    k.println(`ctl: ${msg.type_name}/${msg.subtype_name} id ${msg.id}${text === '' ? '' : ` "${text}"`}`);
    if (msg.type_name === 'CMSG_SHUTDOWN') k.call('sched_shutdown', { reason: msg.subtype });
    return undefined; // an empty response
  },
});

export default scenario({
  name: 'control messages reach a custom kernel (Xen 2.0)',
  description: 'xend sends console input and a shutdown request over the control interface; the kernel answers each.',
  xen: '2.0',
  domains: [{ name: 'dom0' }, { name: 'g', kernel: guest }],
  steps: [
    { type: { domain: 'g', text: 'hello' } },
    { until: { console: { domain: 'g', contains: 'CMSG_CONSOLE/CMSG_CONSOLE_DATA' } } },
    { shutdown: { domain: 'g', reason: 'poweroff' } },
    { until: { domain: 'g', state: 'destroyed', timeout: '100ms' } },
  ],
  expect: {
    consoles: { g: { contains: ['"hello"', 'CMSG_SHUTDOWN/CMSG_SHUTDOWN_POWEROFF'] }, dom0: { contains: 'shut down (poweroff): destroyed' } },
    trace: [{ filter: 'kind==ctrl_msg && who==guest && ring==rx && op==put', count: 2 }],
  },
});
