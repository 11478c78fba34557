/**
 * xenstored's per-domain quotas (tools/xenstored/domain.c: quota_adm,
 * quotas). They bind only domains other than the privileged one, and only
 * over their rings (a socket connection has no domain). A value counts as
 * over the quota when it reaches it (`val >= quota`), so a domain may hold
 * one watch fewer than the "watches" figure, and so on.
 *
 * Enforced here: watches, outstanding, transactions, transaction-nodes,
 * node-permissions, path-max, node-size. Listed and settable but not
 * counted: nodes and memory (their accounting is xenstored's memory
 * bookkeeping, which the simulation does not reproduce).
 */

export const ACC_NODES = 0;
export const ACC_WATCH = 1;
export const ACC_OUTST = 2;
export const ACC_MEM = 3;
export const ACC_TRANS = 4;
export const ACC_TRANSNODES = 5;
export const ACC_NPERM = 6;
export const ACC_PATHLEN = 7;
export const ACC_NODESZ = 8;
export const ACC_N = 9;

/** quota_adm[].name: how XS_GET_QUOTA / XS_SET_QUOTA and `xenstore-control quota` name them. */
export const QUOTA_NAMES: readonly string[] = ['nodes', 'watches', 'outstanding', 'memory', 'transactions', 'transaction-nodes', 'node-permissions', 'path-max', 'node-size'];

/** Q_VAL_DISABLED (UINT_MAX): no such quota. */
export const Q_VAL_DISABLED = 0xffffffff;
export const SOFT_PREFIX = 'soft-';

/** The defaults: hard values, and the one soft value (memory, which only logs). */
export function defaultQuotas(): { hard: number[]; soft: number[] } {
  const hard = [1000, 128, 20, 2 * 1024 * 1024 + 512 * 1024, 10, 1024, 5, 2048, 2048];
  const soft = hard.map(() => Q_VAL_DISABLED);
  soft[ACC_MEM] = 2 * 1024 * 1024;
  return { hard, soft };
}

/** parse_quota_name: the quota and whether it is the soft one; undefined for a name with no enabled quota. */
export function parseQuotaName(name: string, global: { hard: readonly number[]; soft: readonly number[] }): { what: number; soft: boolean } | undefined {
  const soft = name.startsWith(SOFT_PREFIX);
  const bare = soft ? name.slice(SOFT_PREFIX.length) : name;
  const what = QUOTA_NAMES.indexOf(bare);
  if (what < 0) return undefined;
  if ((soft ? global.soft : global.hard)[what] === Q_VAL_DISABLED) return undefined;
  return { what, soft };
}

/** The names XS_GET_QUOTA with no argument lists: every enabled hard quota, then its soft one. */
export function quotaNameList(global: { hard: readonly number[]; soft: readonly number[] }): string {
  const out: string[] = [];
  for (let q = 0; q < ACC_N; q++) {
    if (global.hard[q] !== Q_VAL_DISABLED) out.push(QUOTA_NAMES[q]!);
    if (global.soft[q] !== Q_VAL_DISABLED) out.push(SOFT_PREFIX + QUOTA_NAMES[q]!);
  }
  return out.join(' ');
}
