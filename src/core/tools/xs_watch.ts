/**
 * Watches (tools/xenstored/watch.c): which changed name a watch matches, and
 * the XS_WATCH / XS_UNWATCH / XS_RESET_WATCHES requests. A watch fires once
 * as soon as it is set ("simplifies clients and restart"), then on every
 * change at or below its path; a relative path is resolved against the
 * domain's home and events for it come back relative.
 */
import { EEXIST, EINVAL, ENOENT, ENOSPC } from '../abi/errno.js';
import { splitNulStrings, XENSTORE_SERVER_FEATURE_WATCHDEPTH, XS_RESET_WATCHES, XS_UNWATCH, XS_WATCH } from '../abi/xs_wire.js';
import type { XsConnection, XsMsg, XsWatch } from './xs_conn.js';
import { ACC_WATCH } from './xs_quota.js';
import { MATCH_DEPTH, MATCH_EXACT, MATCH_NODEPTH, MATCH_SUBTREE } from './xs_store.js';
import type { Xenstored } from './xenstored.js';

/**
 * is_child: `child` is `parent` or lies below it; with depth >= 0, at most
 * `depth` levels below. "/" is everyone's parent.
 */
export function isChild(child: string, parent: string, depth: number): boolean {
  let len = parent.length;
  let subLevels = len === 1 ? 1 : 0;
  if (!child.startsWith(parent)) return false;
  const next = child.charAt(len);
  if (next !== '/' && next !== '' && len > 1) return false;
  if (depth < 0 || next === '') return true;
  while (subLevels <= depth) {
    const c = child.charAt(len);
    if (c === '') return true;
    if (c === '/') subLevels++;
    len++;
  }
  return false;
}

/** The switch in fire_watches. */
export function watchMatches(w: XsWatch, name: string, match: number): boolean {
  switch (match) {
    case MATCH_EXACT:
      return name === w.node;
    case MATCH_SUBTREE:
      return isChild(name, w.node, w.depth);
    case MATCH_DEPTH:
      return name === w.node || (w.depth > 0 && isChild(name, w.node, w.depth));
    case MATCH_NODEPTH:
      return name === w.node && w.depth < 0;
    default:
      return false;
  }
}

/** C's atoi: optional white space and sign, then digits; 0 if there are none. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) | 0 : 0;
}

/** do_watch: "<path>\0<token>\0" (and "<depth>\0" with the watch-depth feature). */
export function doWatch(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const vec = splitNulStrings(msg.payload);
  let depth = -1;
  if (vec.length === 3 && xsd.featureAvailable(conn, XENSTORE_SERVER_FEATURE_WATCHDEPTH)) {
    depth = atoi(vec[2]!);
    if (depth < 0) return EINVAL;
  } else if (vec.length !== 2) {
    return EINVAL;
  }
  const path = vec[0]!;
  const token = vec[1]!;
  const relative = !path.startsWith('/') && !path.startsWith('@');
  const node = xsd.canonicalize(conn, path, true);
  if (conn.watches.some((w) => w.node === node && w.token === token)) return EEXIST;
  if (xsd.quotaExceeds(conn, ACC_WATCH, conn.watches.length + 1)) return ENOSPC;
  const watch: XsWatch = { node, token, depth, prefixLen: relative ? conn.implicitPath.length + 1 : 0 };
  conn.watches.push(watch);
  xsd.sendAck(conn, XS_WATCH);
  xsd.sendEvent(conn, node.slice(watch.prefixLen), token);
  return 0;
}

/** do_unwatch: the watch with this canonical path and token, or ENOENT. */
export function doUnwatch(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const vec = splitNulStrings(msg.payload);
  if (vec.length !== 2) return EINVAL;
  const node = xsd.canonicalize(conn, vec[0], true);
  const i = conn.watches.findIndex((w) => w.node === node && w.token === vec[1]);
  if (i < 0) return ENOENT;
  conn.watches.splice(i, 1);
  xsd.sendAck(conn, XS_UNWATCH);
  return 0;
}

/** do_reset_watches: every watch and every transaction of the connection goes. */
export function doResetWatches(xsd: Xenstored, conn: XsConnection, _msg: XsMsg): number {
  conn.watches.length = 0;
  conn.transactions.clear();
  conn.transaction = undefined;
  xsd.sendAck(conn, XS_RESET_WATCHES);
  return 0;
}
