/**
 * XS_TRANSACTION_START and XS_TRANSACTION_END (tools/xenstored/transaction.c).
 * A transaction belongs to its connection; requests carry its id in tx_id.
 * Ending it ("T" commit, "F" abort) always closes it, whatever the answer:
 * EAGAIN means somebody changed what it read, and the client starts over.
 */
import { EBUSY, EINVAL, ENOENT, ENOMEM, ENOSPC } from '../abi/errno.js';
import { nulStrings, XS_TRANSACTION_END, XS_TRANSACTION_START } from '../abi/xs_wire.js';
import type { XsConnection, XsMsg } from './xs_conn.js';
import { oneArg } from './xs_node_ops.js';
import { ACC_TRANS, ACC_TRANSNODES } from './xs_quota.js';
import { commitTransaction, XsTransaction } from './xs_store.js';
import type { Xenstored } from './xenstored.js';

/** do_transaction_start: no nesting (EBUSY), the transactions quota, then the next free non-zero id as "<id>\0". */
export function doTransactionStart(xsd: Xenstored, conn: XsConnection, _msg: XsMsg): number {
  if (conn.transaction) return EBUSY;
  if (xsd.quotaExceeds(conn, ACC_TRANS, conn.transactions.size + 1)) return ENOSPC;
  let id: number;
  do {
    id = conn.nextTransactionId;
    conn.nextTransactionId = (conn.nextTransactionId + 1) >>> 0;
  } while (id === 0 || conn.transactions.has(id));
  const trans = new XsTransaction(id, ++xsd.store.generation, xsd.quotaLimit(conn, ACC_TRANSNODES));
  conn.transactions.set(id, trans);
  xsd.sendReply(conn, XS_TRANSACTION_START, nulStrings(String(id)));
  return 0;
}

/** do_transaction_end: "T\0" commits, "F\0" aborts; the tx_id names the transaction. */
export function doTransactionEnd(xsd: Xenstored, conn: XsConnection, msg: XsMsg): number {
  const arg = oneArg(msg.payload);
  if (arg !== 'T' && arg !== 'F') return EINVAL;
  const trans = conn.transaction;
  if (!trans) return ENOENT;
  conn.transaction = undefined;
  conn.transactions.delete(trans.id);
  if (arg === 'T') {
    if (trans.fail) return ENOMEM;
    const ret = commitTransaction(xsd.store, trans, (name, match, oldPerms) => xsd.fireWatches(conn, name, undefined, match, oldPerms));
    if (ret !== 0) return ret;
  }
  xsd.sendAck(conn, XS_TRANSACTION_END);
  return 0;
}
