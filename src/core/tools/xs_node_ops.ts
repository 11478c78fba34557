/**
 * The requests on nodes (tools/xenstored/core.c): DIRECTORY,
 * DIRECTORY_PART, READ, WRITE, MKDIR, RM, GET_PERMS, SET_PERMS. Each returns
 * 0 once it has replied, or the errno to answer with.
 */
import { DOMID_ANY } from '../abi/domid.js';
import { EINVAL, ENOENT, ENOSPC, EPERM } from '../abi/errno.js';
import {
  fromLatin1,
  nulStrings,
  splitNulStrings,
  XENSTORE_PAYLOAD_MAX,
  XENSTORE_SERVER_FEATURE_DOMID_ANY,
  XS_DIRECTORY,
  XS_DIRECTORY_PART,
  XS_GET_PERMS,
  XS_MKDIR,
  XS_PERM_IGNORE,
  XS_PERM_OWNER,
  XS_PERM_READ,
  XS_PERM_WRITE,
  XS_READ,
  XS_RM,
  XS_SET_PERMS,
  XS_WRITE,
} from '../abi/xs_wire.js';
import type { XsConnection, XsMsg } from './xs_conn.js';
import { ACC_NPERM } from './xs_quota.js';
import { MATCH_SUBTREE, parentName, parsePerm, permToString, readNode, type XsPerm } from './xs_store.js';
import { atoi } from './xs_watch.js';
import type { Xenstored } from './xenstored.js';

/** onearg: the payload is exactly one string, its NUL the last byte; otherwise undefined (an EINVAL to come). */
export function oneArg(payload: Uint8Array): string | undefined {
  if (payload.length === 0 || payload.indexOf(0) !== payload.length - 1) return undefined;
  return fromLatin1(payload, 0, payload.length - 1);
}

/** The child list as stored: every name followed by a NUL. */
function childBytes(children: readonly string[]): Uint8Array {
  return nulStrings(...children);
}

export function doDirectory(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const r = xsd.getNode(conn, oneArg(msg.payload), XS_PERM_READ, false);
  if (!r.node) return r.err;
  xsd.sendReply(conn, XS_DIRECTORY, childBytes(r.node.children));
  return 0;
}

/**
 * send_directory_part: "<path>\0<offset>\0" → "<generation>\0" and as many
 * whole child names from byte `offset` of the child list as fit in a
 * payload, plus an empty string once the list is done (so "<gen>\0\0" past the end).
 */
export function doDirectoryPart(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const vec = splitNulStrings(msg.payload);
  if (vec.length !== 2) return EINVAL;
  const r = xsd.getNode(conn, vec[0], XS_PERM_READ, false);
  if (!r.node) return r.err;
  const off = atoi(vec[1]!) >>> 0;
  const gen = nulStrings(String(r.node.generation));
  const kids = childBytes(r.node.children);
  if (off >= kids.length) {
    const out = new Uint8Array(gen.length + 1);
    out.set(gen);
    xsd.sendReply(conn, XS_DIRECTORY_PART, out);
    return 0;
  }
  const maxlen = XENSTORE_PAYLOAD_MAX - gen.length - 1;
  let len = 0;
  for (;;) {
    const end = kids.indexOf(0, off + len);
    const strlen = end - (off + len);
    if (len + strlen >= maxlen) break;
    len += strlen + 1;
    if (off + len === kids.length) break;
  }
  const done = off + len === kids.length;
  const out = new Uint8Array(gen.length + len + (done ? 1 : 0));
  out.set(gen);
  out.set(kids.subarray(off, off + len), gen.length);
  xsd.sendReply(conn, XS_DIRECTORY_PART, out);
  return 0;
}

export function doRead(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const r = xsd.getNode(conn, oneArg(msg.payload), XS_PERM_READ, false);
  if (!r.node) return r.err;
  xsd.sendReply(conn, XS_READ, r.node.data);
  return 0;
}

/** do_write: "<path>\0<value>" (the value is every byte after the first NUL); missing parents are made. */
export function doWrite(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const nul = msg.payload.indexOf(0);
  if (nul < 0) return EINVAL;
  const data = msg.payload.slice(nul + 1);
  const r = xsd.getNode(conn, fromLatin1(msg.payload, 0, nul), XS_PERM_WRITE, false);
  let node = r.node;
  if (!node) {
    if (r.err !== ENOENT) return r.err;
    node = xsd.createNode(conn, r.name, data);
  } else {
    node = { ...node, data };
    xsd.writeChecked(conn, node);
  }
  xsd.fireWatches(conn, r.name, node, MATCH_SUBTREE);
  xsd.sendAck(conn, XS_WRITE);
  return 0;
}

/** do_mkdir: an existing node is fine (and fires nothing). */
export function doMkdir(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const r = xsd.getNode(conn, oneArg(msg.payload), XS_PERM_WRITE, false);
  if (!r.node) {
    if (r.err !== ENOENT) return r.err;
    const node = xsd.createNode(conn, r.name, new Uint8Array(0));
    xsd.fireWatches(conn, r.name, node, MATCH_SUBTREE);
  }
  xsd.sendAck(conn, XS_MKDIR);
  return 0;
}

/** do_rm: removing a node that is already gone is fine if its parent exists; "/" cannot go. */
export function doRm(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const r = xsd.getNode(conn, oneArg(msg.payload), XS_PERM_WRITE, false);
  if (!r.node) {
    if (r.err !== ENOENT) return r.err;
    if (!readNode(xsd.store, conn.transaction, parentName(r.name))) return ENOENT;
    xsd.sendAck(conn, XS_RM);
    return 0;
  }
  if (r.name === '/') return EINVAL;
  const ret = xsd.rmNode(conn, r.name);
  if (ret !== 0) return ret;
  xsd.sendAck(conn, XS_RM);
  return 0;
}

/** do_get_perms: "<perm>\0" per entry, owner first; special "@" nodes allowed. */
export function doGetPerms(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const r = xsd.getNode(conn, oneArg(msg.payload), XS_PERM_READ, true);
  if (!r.node) return r.err;
  const strs = r.node.perms.map(permToString);
  if (strs.some((s) => s === undefined)) return EINVAL;
  xsd.sendReply(conn, XS_GET_PERMS, nulStrings(...(strs as string[])));
  return 0;
}

/**
 * do_set_perms: "<path>\0<perm>\0<perm>\0...". Only the owner (or dom0) may,
 * and a domain other than dom0 may not give the node away. Entries naming a
 * domain that does not exist are kept but ignored; an owner that does not
 * exist is ENOENT.
 */
export function doSetPerms(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const vec = splitNulStrings(msg.payload);
  if (vec.length < 2) return EINVAL;
  const num = vec.length - 1;
  if (xsd.quotaExceeds(conn, ACC_NPERM, num)) return ENOSPC;
  const parsed = vec.slice(1).map(parsePerm);
  if (parsed.some((p) => p === undefined)) return EINVAL;
  const perms = (parsed as XsPerm[]).map((p) => allocPermref(xsd, conn, p));
  if (perms[0]!.perms & XS_PERM_IGNORE) return ENOENT;
  const r = xsd.getNode(conn, vec[0], XS_PERM_WRITE | XS_PERM_OWNER, true);
  if (!r.node) return r.err;
  if (xsd.isUnprivileged(conn) && perms[0]!.id !== r.node.perms[0]!.id) return EPERM;
  const node = { ...r.node, perms };
  xsd.writeChecked(conn, node);
  xsd.fireWatches(conn, r.name, node, MATCH_SUBTREE, r.node.perms);
  xsd.sendAck(conn, XS_SET_PERMS);
  return 0;
}

/** domain_alloc_permrefs for one entry: mark it ignored if it names no domain (or DOMID_ANY without the feature). */
function allocPermref(xsd: Xenstored, conn: XsConnection, p: XsPerm): XsPerm {
  if (p.id === DOMID_ANY) return xsd.featureAvailable(conn, XENSTORE_SERVER_FEATURE_DOMID_ANY) ? p : { id: p.id, perms: p.perms | XS_PERM_IGNORE };
  if (xsd.findOrAllocExistingDomain(p.id)) return p;
  return { id: p.id, perms: p.perms | XS_PERM_IGNORE };
}
