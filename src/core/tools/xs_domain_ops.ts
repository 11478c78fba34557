/**
 * The requests about domains and the daemon itself (tools/xenstored/domain.c,
 * control.c): INTRODUCE, RELEASE, RESUME, IS_DOMAIN_INTRODUCED,
 * GET_DOMAIN_PATH, SET_TARGET, GET_FEATURE, SET_FEATURE, GET_QUOTA,
 * SET_QUOTA, CONTROL. The dispatch table keeps all but GET_DOMAIN_PATH and
 * GET_FEATURE to the privileged domain.
 */
import { DOMID_SELF } from '../abi/domid.js';
import { EACCES, EBUSY, EINVAL, ENOENT } from '../abi/errno.js';
import { domainPath } from '../abi/xenbus.js';
import {
  nulStrings,
  splitNulStrings,
  XENSTORE_CONNECTED,
  XENSTORE_RECONNECT,
  XS_CONTROL,
  XS_GET_DOMAIN_PATH,
  XS_GET_FEATURE,
  XS_GET_QUOTA,
  XS_INTRODUCE,
  XS_IS_DOMAIN_INTRODUCED,
  XS_RELEASE,
  XS_RESUME,
  XS_SET_FEATURE,
  XS_SET_QUOTA,
  XS_SET_TARGET,
  XsRingIndexes,
} from '../abi/xs_wire.js';
import { XENSTORE_FEATURES, type XsConnection, type XsMsg } from './xs_conn.js';
import { oneArg } from './xs_node_ops.js';
import { parseQuotaName, Q_VAL_DISABLED, quotaNameList } from './xs_quota.js';
import { atoi } from './xs_watch.js';
import type { XsDomain, Xenstored } from './xenstored.js';

/**
 * parse_domid: strtoul base 10 over the whole string, at most 65535.
 * (An empty string is domain 0, as strtoul leaves nothing unparsed.)
 */
export function parseDomid(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (s === '') return 0;
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(s);
  if (!m) return undefined;
  const v = Number(m[2]);
  if (m[1] === '-' && v !== 0) return undefined; // wraps to a huge unsigned long
  return v > 65535 ? undefined : v;
}

/** find_connected_domain: ENOENT if never introduced, EINVAL if its connection is gone. */
function connectedDomain(xsd: Xenstored, domid: number): XsDomain | number {
  const d = xsd.domains.get(domid);
  if (!d?.introduced) return ENOENT;
  if (!d.conn) return EINVAL;
  return d;
}

/** onearg_domain: one domid, not the store's or dom0's own. */
function oneargDomain(xsd: Xenstored, msg: XsMsg): XsDomain | number {
  const domid = parseDomid(oneArg(msg.payload));
  if (domid === undefined || domid === xsd.storeDomid || domid === xsd.privDomid) return EINVAL;
  return connectedDomain(xsd, domid);
}

/**
 * do_introduce: "<domid>\0<gfn>\0<port>\0". Map the ring (xenstored actually
 * maps the domain's reserved grant and ignores the gfn), prefer a port Xen
 * put in the page, bind it, advertise the features, fire @introduceDomain.
 * Introducing a domain again only rebinds its port. Either way its
 * connection starts afresh and the ring indexes go back to 0.
 */
export function doIntroduce(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const vec = splitNulStrings(msg.payload);
  if (vec.length < 3) return EINVAL;
  const domid = parseDomid(vec[0]);
  if (domid === undefined) return EINVAL;
  let port = atoi(vec[2]!) >>> 0; // an evtchn_port_t: only 0 fails the check
  if (port === 0) return EINVAL;
  const d = xsd.findOrAllocDomain(domid);
  if (!d.introduced) {
    const page = xsd.env.mapRing ? xsd.env.mapRing(domid, atoi(vec[1]!) >>> 0) : EINVAL;
    if (typeof page === 'number') return page;
    const fromXen = new XsRingIndexes(page).evtchnPort;
    if (fromXen !== 0) port = fromXen;
    const bound = xsd.env.bindPort ? xsd.env.bindPort(domid, port) : EINVAL;
    if (typeof bound === 'number') {
      xsd.env.unmapRing?.(domid);
      return bound;
    }
    xsd.connectDomain(d, page, bound);
  } else {
    if (d.port) xsd.env.unbindPort?.(domid, d.port);
    const bound = xsd.env.bindPort ? xsd.env.bindPort(domid, port) : EINVAL;
    d.port = typeof bound === 'number' ? 0 : bound.port;
    if (typeof bound !== 'number') d.ring!.notify = bound.notify;
  }
  xsd.domainConnReset(d);
  const ring = d.ring!;
  if (ring.idx.connection === XENSTORE_RECONNECT) {
    ring.idx.connection = XENSTORE_CONNECTED;
    ring.markMoved();
    xsd.onNotify(domid);
  }
  xsd.sendAck(conn, XS_INTRODUCE);
  return 0;
}

/** do_release: the domain's watches go first (no events for its own nodes), then its connection and its nodes. */
export function doRelease(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const d = oneargDomain(xsd, msg);
  if (typeof d === 'number') return d;
  d.conn!.watches.length = 0;
  xsd.destroyDomain(d);
  xsd.sendAck(conn, XS_RELEASE);
  return 0;
}

/** do_resume: the domain is no longer shut down (after a suspend was cancelled). */
export function doResume(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const d = oneargDomain(xsd, msg);
  if (typeof d === 'number') return d;
  d.shutdown = false;
  xsd.sendAck(conn, XS_RESUME);
  return 0;
}

/** do_get_domain_path: "/local/domain/<domid>", for any domid that parses. */
export function doGetDomainPath(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const domid = parseDomid(oneArg(msg.payload));
  if (domid === undefined) return EINVAL;
  xsd.sendReply(conn, XS_GET_DOMAIN_PATH, nulStrings(domainPath(domid)));
  return 0;
}

/** do_is_domain_introduced: "T" or "F" (DOMID_SELF always "T"). */
export function doIsDomainIntroduced(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const domid = parseDomid(oneArg(msg.payload));
  if (domid === undefined) return EINVAL;
  const yes = domid === DOMID_SELF || xsd.domains.get(domid)?.introduced === true;
  xsd.sendReply(conn, XS_IS_DOMAIN_INTRODUCED, nulStrings(yes ? 'T' : 'F'));
  return 0;
}

/** do_set_target: "<domid>\0<target>\0": the first domain's connection gets the target's permissions too (a stub device model). */
export function doSetTarget(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const vec = splitNulStrings(msg.payload);
  if (vec.length < 2) return EINVAL;
  const domid = parseDomid(vec[0]);
  const tdomid = parseDomid(vec[1]);
  if (domid === undefined || tdomid === undefined) return EINVAL;
  const d = connectedDomain(xsd, domid);
  if (typeof d === 'number') return d;
  const t = connectedDomain(xsd, tdomid);
  if (typeof t === 'number') return t;
  d.conn!.target = t.conn;
  xsd.sendAck(conn, XS_SET_TARGET);
  return 0;
}

/** do_get_feature: no argument, the caller's own features; "<domid>\0", another domain's (dom0 only). */
export function doGetFeature(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const vec = splitNulStrings(msg.payload);
  let features: number;
  if (vec.length === 0) {
    const own = conn.kind === 'ring' ? xsd.domains.get(conn.id) : undefined;
    features = own ? own.features : XENSTORE_FEATURES;
  } else {
    if (xsd.isUnprivileged(conn)) return EACCES;
    if (vec.length > 1) return EINVAL;
    const domid = parseDomid(vec[0]);
    if (domid === undefined) return EINVAL;
    const d = xsd.findOrAllocExistingDomain(domid);
    if (!d) return ENOENT;
    features = d.features;
  }
  xsd.sendReply(conn, XS_GET_FEATURE, nulStrings(String(features >>> 0)));
  return 0;
}

/** do_set_feature: "<domid>\0<features>\0", only before the domain is introduced and only bits xenstored offers. */
export function doSetFeature(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const vec = splitNulStrings(msg.payload);
  if (vec.length !== 2) return EINVAL;
  const domid = parseDomid(vec[0]);
  if (domid === undefined) return EINVAL;
  const features = atoi(vec[1]!) >>> 0;
  const d = xsd.findOrAllocExistingDomain(domid);
  if (!d) return ENOENT;
  if (d.introduced) return EBUSY;
  if (features & ~XENSTORE_FEATURES) return EINVAL;
  d.features = features;
  xsd.sendAck(conn, XS_SET_FEATURE);
  return 0;
}

/** do_get_quota: no argument, the quota names; "<name>\0", the global value; "<domid>\0<name>\0", the domain's. */
export function doGetQuota(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const vec = splitNulStrings(msg.payload);
  if (vec.length > 2) return EINVAL;
  let resp: string;
  if (vec.length === 0) {
    resp = quotaNameList(xsd.quota);
  } else {
    let table: { hard: number[]; soft: number[] } = xsd.quota;
    let name = vec[0]!;
    if (vec.length === 2) {
      const domid = parseDomid(vec[0]);
      if (domid === undefined) return EINVAL;
      const d = xsd.findOrAllocExistingDomain(domid);
      if (!d) return ENOENT;
      table = d.quota;
      name = vec[1]!;
    }
    const q = parseQuotaName(name, xsd.quota);
    if (!q) return EINVAL;
    resp = String((q.soft ? table.soft : table.hard)[q.what]!);
  }
  xsd.sendReply(conn, XS_GET_QUOTA, nulStrings(resp));
  return 0;
}

/** do_set_quota: "<name>\0<value>\0" globally (domains known from now on), or "<domid>\0<name>\0<value>\0". */
export function doSetQuota(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const vec = splitNulStrings(msg.payload);
  if (vec.length < 2 || vec.length > 3) return EINVAL;
  let table: { hard: number[]; soft: number[] } = xsd.quota;
  let rest = vec;
  if (vec.length === 3) {
    const domid = parseDomid(vec[0]);
    if (domid === undefined) return EINVAL;
    const d = xsd.findOrAllocExistingDomain(domid);
    if (!d) return ENOENT;
    table = d.quota;
    rest = vec.slice(1);
  }
  const q = parseQuotaName(rest[0]!, xsd.quota);
  const val = atoi(rest[1]!) >>> 0;
  if (!q || val === Q_VAL_DISABLED) return EINVAL;
  (q.soft ? table.soft : table.hard)[q.what] = val;
  xsd.sendAck(conn, XS_SET_QUOTA);
  return 0;
}

/**
 * do_control: "<command>\0<args>\0...". Only "print <string>" (a line in
 * xenstored's log) is modelled; the other commands (check, log, logfile,
 * memreport, quota, live-update, help) answer EINVAL here.
 */
export function doControl(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const vec = splitNulStrings(msg.payload);
  if (vec.length === 0) return EINVAL;
  if (vec[0] !== 'print' || vec.length !== 2) return EINVAL;
  xsd.log(`control: ${vec[1]!}`);
  xsd.sendAck(conn, XS_CONTROL);
  return 0;
}
