/**
 * A trace record as one line for the event list ("send port=3 → 0",
 * "VIRQ_TIMER → dom 1 port 2", "evtchn_pending[3] = 1 (xen)"), and as the
 * contract's RecordRow.
 */
import { VIRQS } from '../../core/abi/evtchn.js';
import { VIRQS as VIRQS_XEN2 } from '../../core/abi/xen2.js';
import type { TraceRecord } from '../../core/sim/trace.js';
import type { RecordRow } from '../../contract/session.js';

export type XenVersion = '2.0' | '4';

export function virqName(xen: XenVersion, n: number): string {
  return (xen === '2.0' ? VIRQS_XEN2 : VIRQS).find((v) => v.num === n)?.name ?? `VIRQ ${n}`;
}

function kv(obj: Record<string, unknown> | undefined): string {
  if (obj === undefined) return '';
  return Object.entries(obj)
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

function quoted(text: string): string {
  return JSON.stringify(text);
}

export function summarize(r: TraceRecord, xen: XenVersion): string {
  switch (r.kind) {
    case 'hypercall': {
      const args = kv(r.args);
      const out = r.out === undefined ? '' : ` {${kv(r.out)}}`;
      return `${r.op}${args === '' ? '' : ` ${args}`} → ${r.ret}${out}`;
    }
    case 'bit':
      return `${r.field}${r.index >= 0 ? `[${r.index}]` : ''} = ${r.value}${r.vcpu === undefined ? '' : ` (vCPU ${r.vcpu})`} by ${r.by}`;
    case 'upcall':
      return `upcall on vCPU ${r.vcpu}`;
    case 'handler':
      return `handler for port ${r.port} on vCPU ${r.vcpu}`;
    case 'port': {
      let s = `port ${r.port}: ${r.state}`;
      if (r.state === 'interdomain') s += ` ↔ dom ${r.remote_dom} port ${r.remote_port}`;
      else if (r.state === 'unbound') s += ` (for dom ${r.remote_dom})`;
      else if (r.virq !== undefined) s += ` ${virqName(xen, r.virq)}`;
      else if (r.pirq !== undefined) s += ` PIRQ ${r.pirq}`;
      return s;
    }
    case 'raise':
      return `${r.pirq !== undefined ? `PIRQ ${r.pirq}` : virqName(xen, r.virq ?? -1)} → dom ${r.dom} port ${r.port}`;
    case 'grant_entry':
      return `grant ref ${r.ref}: flags 0x${r.flags.toString(16)} domid ${r.domid} frame ${r.frame} by ${r.by}`;
    case 'ring':
      return `${r.ring}: ${r.op} → ${r.result} {${kv(r.idx)}}`;
    case 'domain':
      return `${r.event}${r.name === undefined ? '' : ` ${r.name}`}${r.reason === undefined ? '' : ` (${r.reason})`}`;
    case 'note':
      return r.text;
    case 'ctrl_msg':
      return `${r.who} ${r.op} ${r.ring}[${r.idx}]: ${r.type_name}/${r.subtype_name} id=${r.id} length=${r.length}`;
    case 'xs_msg':
      return `xenstore ${r.dir} ${r.type_name}${r.text === '' ? '' : ` ${quoted(r.text)}`} (req ${r.req_id}, tx ${r.tx_id}, ${r.len} bytes)`;
    case 'cons':
      return `console ${r.dir}: ${r.count} byte${r.count === 1 ? '' : 's'} ${quoted(r.text)}`;
    case 'fault': {
      const where = [r.port === undefined ? '' : `port ${r.port}`, r.backend ?? '', r.ring ?? ''].filter((x) => x !== '').join(' ');
      const extra = [r.delay === undefined ? '' : `by ${r.delay} ns`, r.until === undefined ? '' : `until t=${r.until}`].filter((x) => x !== '').join(', ');
      return `fault ${r.fault} ${r.event}${where === '' ? '' : ` ${where}`} (${r.count})${extra === '' ? '' : ` ${extra}`}`;
    }
  }
}

/** A record as the event list's row: the columns it sorts and filters on, its summary, every field. */
export function recordRow(r: TraceRecord, xen: XenVersion): RecordRow {
  const { seq, t, kind, dom } = r;
  const row: RecordRow = { seq, t, kind, dom, summary: summarize(r, xen), fields: { ...r } };
  const vcpu = (r as { vcpu?: number }).vcpu;
  if (vcpu !== undefined) row.vcpu = vcpu;
  return row;
}
