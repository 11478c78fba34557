/**
 * Ping-pong over an interdomain event channel, with two custom guest kernels.
 *
 * pong allocates an unbound port for ping; ping binds to it. Binding marks ping's new port
 * pending (it covers sends made while the port was unbound), so ping's kernel takes an event
 * first and serves. From then on each side answers the other on the same port: ponger always,
 * pinger until it has served ROUNDS times. The steps, computed in a loop, check that every ping
 * and every pong was delivered once, and what each console printed.
 */
import { kernel, scenario, type Step } from 'xenlab';

const ROUNDS = 5;

const pinger = kernel('pinger', {
  onEvent(k, port) {
    const served = (k.state.served as number | undefined) ?? 0;
    if (served === ROUNDS) {
      k.println(`ping: last pong back at ${k.now()} ns; done`);
      return;
    }
    k.state.served = served + 1;
    k.println(`ping ${served + 1} on port ${port}`);
    k.send(port);
  },
});

const ponger = kernel('ponger', {
  onEvent(k, port) {
    k.println(`pong ${k.deliveries(port)}`);
    k.send(port);
  },
});

const checks: Step[] = [];
for (const [domain, port, delivered] of [['ping', '$ping_port', ROUNDS + 1], ['pong', '$pong_port', ROUNDS]] as const) {
  checks.push({ check: { domain, port, state: 'interdomain', pending: false, delivered } });
}
for (let i = 1; i <= ROUNDS; i++) checks.push({ check: { domain: 'pong', console: `pong ${i}` } });

export default scenario({
  name: 'ping-pong: two custom kernels bounce an event over an interdomain channel',
  description: `ping serves ${ROUNDS} times; pong answers every ping on the same channel.`,
  domains: [{ name: 'dom0' }, { name: 'ping', kernel: pinger }, { name: 'pong', kernel: ponger }],
  steps: [
    { as: 'pong', op: 'alloc_unbound', args: { dom: 'DOMID_SELF', remote_dom: 'ping' }, expect: { ret: 0 }, save: { port: 'pong_port' } },
    { as: 'ping', op: 'bind_interdomain', args: { remote_dom: 'pong', remote_port: '$pong_port' }, expect: { ret: 0 }, save: { local_port: 'ping_port' } },
    { run: '1ms' },
    ...checks,
    { check: { domain: 'ping', console: `ping ${ROUNDS} on port` } },
    { check: { domain: 'ping', console: 'done' } },
  ],
});
