/**
 * The timeline's rows: Xen's lane on top, then each domain (named from the
 * topology) with its own lane and a lane per vCPU. Domains and vCPUs the
 * topology does not list (destroyed since) get rows when the trace has
 * records for them.
 */
import type { Topology } from '../../../../contract/session.js';
import { laneDom, laneKey, laneVcpu, XEN_LANE } from './marks.js';

export type LaneRole = 'xen' | 'domain' | 'vcpu';

export interface LaneRow {
  key: number;
  role: LaneRole;
  dom: number;
  vcpu: number;
  label: string;
  /** Top, px from the first row's top. */
  y: number;
  h: number;
  /** Counts domains from 0 (Xen: -1), for alternating backgrounds. */
  band: number;
}

export const LANE_H = 18;

export interface LaneLayout {
  rows: LaneRow[];
  byKey: Map<number, LaneRow>;
  height: number;
}

/** Rows for the domains of `topology` and the lanes the trace has records in (`keys`). */
export function layoutLanes(topology: Topology | undefined, keys: Iterable<number>): LaneLayout {
  const names = new Map<number, string>();
  const want = new Set<number>([XEN_LANE]);
  for (const d of topology?.domains ?? []) {
    names.set(d.domid, d.name);
    want.add(laneKey(d.domid, -1));
    for (let v = 0; v < d.vcpus; v++) want.add(laneKey(d.domid, v));
  }
  for (const k of keys) {
    want.add(k);
    // A vCPU lane brings its domain's own lane (the domain's heading).
    if (k !== XEN_LANE) want.add(laneKey(laneDom(k), -1));
  }
  const rows: LaneRow[] = [];
  const byKey = new Map<number, LaneRow>();
  let y = 0;
  let band = -1;
  let lastDom = -2;
  for (const key of [...want].sort((a, b) => a - b)) {
    const dom = key === XEN_LANE ? -1 : laneDom(key);
    const vcpu = key === XEN_LANE ? -1 : laneVcpu(key);
    if (dom !== lastDom && dom >= 0) band++;
    lastDom = dom;
    const role: LaneRole = key === XEN_LANE ? 'xen' : vcpu < 0 ? 'domain' : 'vcpu';
    const label = role === 'xen' ? 'Xen' : role === 'domain' ? `${names.get(dom) ?? `dom${dom}`} (${dom})` : `vCPU ${vcpu}`;
    const row: LaneRow = { key, role, dom, vcpu, label, y, h: LANE_H, band };
    rows.push(row);
    byKey.set(key, row);
    y += LANE_H;
  }
  return { rows, byKey, height: y };
}
