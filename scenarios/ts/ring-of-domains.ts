/**
 * A token ring: N guests, each with an interdomain channel to the next, computed in code.
 *
 * Every guest allocates an unbound port for the guest before it (its "in" port), then binds to
 * the next guest's (its "out" port). The `relay` kernel forwards whatever arrives on its in port
 * to its out port; it tells them apart with EVTCHNOP_status, which says where a port leads.
 * (Binding marks the new out port pending, so each guest also takes one event there: ignored.)
 * The last guest puts the token in; node0 counts laps and stops the token after LAPS of them.
 */
import { kernel, scenario, type Domain, type Guest } from 'xenlab';

const N = 5;
const LAPS = 3;
const names = Array.from({ length: N }, (_, i) => `node${i}`);
const next = (i: number) => names[(i + 1) % N]!;
const prev = (i: number) => names[(i + N - 1) % N]!;

/** Where a local port leads: the remote domain's id, or -1 if it is not interdomain. */
function remoteOf(k: Guest, port: number): number {
  const r = k.call('status', { dom: 'DOMID_SELF', port });
  const u = r.out.u as { interdomain?: { dom: number } } | undefined;
  return r.ret === 0 && r.out.status === 'interdomain' && u?.interdomain !== undefined ? u.interdomain.dom : -1;
}

const relay = kernel('relay', {
  onEvent(k, port) {
    const me = names.indexOf(k.name);
    const nextDomid = ((me + 1) % N) + 1; // node_i is domain i + 1 (dom0 is 0)
    if (remoteOf(k, port) === nextDomid) return; // the out port's bind notification
    if (k.state.out === undefined) {
      for (let p = 1; p < 8 && k.state.out === undefined; p++) if (remoteOf(k, p) === nextDomid) k.state.out = p;
    }
    const seen = ((k.state.seen as number | undefined) ?? 0) + 1;
    k.state.seen = seen;
    if (me === 0 && seen > LAPS) {
      k.println(`token stopped after ${LAPS} laps, at ${k.now()} ns`);
      return;
    }
    k.println(`token #${seen} in on port ${port}, out to ${next(me)} on port ${String(k.state.out)}`);
    k.send(k.state.out as number);
  },
});

export default scenario(
  {
    name: `ring of ${N} domains passing a token ${LAPS} times around`,
    domains: [{ name: 'dom0' }],
  },
  (lab) => {
    for (const name of names) lab.domain({ name, kernel: relay } satisfies Domain);
    names.forEach((name, i) => lab.step({ as: name, op: 'alloc_unbound', args: { dom: 'DOMID_SELF', remote_dom: prev(i) }, expect: { ret: 0 }, save: { port: `in_${i}` } }));
    names.forEach((name, i) =>
      lab.step({ as: name, op: 'bind_interdomain', args: { remote_dom: next(i), remote_port: `$in_${(i + 1) % N}` }, expect: { ret: 0 }, save: { local_port: `out_${i}` } }),
    );
    lab.step({ as: names[N - 1]!, op: 'send', args: { port: `$out_${N - 1}` }, expect: { ret: 0 } }, { run: '1ms' });
    names.forEach((name, i) => {
      lab.step({ check: { domain: name, port: `$in_${i}`, delivered: i === 0 ? LAPS + 1 : LAPS } });
      lab.step({ check: { domain: name, port: `$out_${i}`, delivered: 1, pending: false } });
    });
    lab.step({ check: { domain: 'node0', console: `token stopped after ${LAPS} laps` } });
  },
);
