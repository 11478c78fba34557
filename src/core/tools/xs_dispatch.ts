/**
 * wire_funcs (tools/xenstored/core.c): the handler for each message type,
 * whether it ignores tx_id (XS_FLAG_NOTID) and whether only the privileged
 * domain may send it (XS_FLAG_PRIV). WATCH_EVENT, ERROR and the removed
 * type 20 have no handler: a client sending them gets ENOSYS.
 */
import {
  XS_CONTROL,
  XS_DIRECTORY,
  XS_DIRECTORY_PART,
  XS_GET_DOMAIN_PATH,
  XS_GET_FEATURE,
  XS_GET_PERMS,
  XS_GET_QUOTA,
  XS_INTRODUCE,
  XS_IS_DOMAIN_INTRODUCED,
  XS_MKDIR,
  XS_READ,
  XS_RELEASE,
  XS_RESET_WATCHES,
  XS_RESUME,
  XS_RM,
  XS_SET_FEATURE,
  XS_SET_PERMS,
  XS_SET_QUOTA,
  XS_SET_TARGET,
  XS_TRANSACTION_END,
  XS_TRANSACTION_START,
  XS_TYPE_COUNT,
  XS_UNWATCH,
  XS_WATCH,
  XS_WRITE,
} from '../abi/xs_wire.js';
import type { XsConnection, XsMsg } from './xs_conn.js';
import {
  doControl,
  doGetDomainPath,
  doGetFeature,
  doGetQuota,
  doIntroduce,
  doIsDomainIntroduced,
  doRelease,
  doResume,
  doSetFeature,
  doSetQuota,
  doSetTarget,
} from './xs_domain_ops.js';
import { doDirectory, doDirectoryPart, doGetPerms, doMkdir, doRead, doRm, doSetPerms, doWrite } from './xs_node_ops.js';
import { doTransactionEnd, doTransactionStart } from './xs_trans_ops.js';
import { doResetWatches, doUnwatch, doWatch } from './xs_watch.js';
import type { Xenstored } from './xenstored.js';

/** A request handler: 0 once it has replied, or the errno to reply with. */
export type XsHandler = (xsd: Xenstored, conn: XsConnection, msg: XsMsg) => number;

export interface WireFunc {
  readonly fn: XsHandler;
  /** XS_FLAG_NOTID: the request is never part of a transaction. */
  readonly notid: boolean;
  /** XS_FLAG_PRIV: EACCES for anyone but the privileged domain. */
  readonly priv: boolean;
}

const f = (fn: XsHandler, flags: { notid?: boolean; priv?: boolean } = {}): WireFunc => ({ fn, notid: flags.notid ?? false, priv: flags.priv ?? false });

export const WIRE_FUNCS: readonly (WireFunc | undefined)[] = (() => {
  const t: (WireFunc | undefined)[] = new Array<WireFunc | undefined>(XS_TYPE_COUNT).fill(undefined);
  t[XS_CONTROL] = f(doControl, { priv: true });
  t[XS_DIRECTORY] = f(doDirectory);
  t[XS_READ] = f(doRead);
  t[XS_GET_PERMS] = f(doGetPerms);
  t[XS_WATCH] = f(doWatch, { notid: true });
  t[XS_UNWATCH] = f(doUnwatch, { notid: true });
  t[XS_TRANSACTION_START] = f(doTransactionStart);
  t[XS_TRANSACTION_END] = f(doTransactionEnd);
  t[XS_INTRODUCE] = f(doIntroduce, { priv: true });
  t[XS_RELEASE] = f(doRelease, { priv: true });
  t[XS_GET_DOMAIN_PATH] = f(doGetDomainPath);
  t[XS_WRITE] = f(doWrite);
  t[XS_MKDIR] = f(doMkdir);
  t[XS_RM] = f(doRm);
  t[XS_SET_PERMS] = f(doSetPerms);
  t[XS_IS_DOMAIN_INTRODUCED] = f(doIsDomainIntroduced, { priv: true });
  t[XS_RESUME] = f(doResume, { priv: true });
  t[XS_SET_TARGET] = f(doSetTarget, { priv: true });
  t[XS_RESET_WATCHES] = f(doResetWatches);
  t[XS_DIRECTORY_PART] = f(doDirectoryPart);
  t[XS_GET_FEATURE] = f(doGetFeature);
  t[XS_SET_FEATURE] = f(doSetFeature, { priv: true });
  t[XS_GET_QUOTA] = f(doGetQuota, { priv: true });
  t[XS_SET_QUOTA] = f(doSetQuota, { priv: true });
  return t;
})();
