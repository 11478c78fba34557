/**
 * xenstored's node database and its transactions (tools/xenstored/core.c,
 * transaction.c). A node is a name, a generation, a permission list, a value
 * and an ordered child list. Nodes are never changed in place: a write stores
 * a new node, so a transaction can hold on to what it read.
 *
 * Conflicts are found the way transaction.c finds them: every write takes a
 * fresh number from one global generation counter; a transaction remembers
 * the generation of every node it read (NO_GENERATION for one that did not
 * exist) and its own copies of what it wrote or deleted; at commit, any read
 * node whose generation has moved fails the commit with EAGAIN, otherwise the
 * copies become the global nodes.
 */
import { EAGAIN, ENOSPC } from '../abi/errno.js';
import { XS_PERM_IGNORE, XS_PERM_NONE, XS_PERM_READ, XS_PERM_WRITE } from '../abi/xs_wire.js';

export interface XsPerm {
  /** A domid (DOMID_ANY 0x7FF5 matches every domain). */
  readonly id: number;
  /** XS_PERM_* bits. */
  readonly perms: number;
}

export interface XsNode {
  readonly name: string;
  /** Set from the global counter when the node is written. */
  generation: number;
  /** perms[0] names the owner and the default for everyone else; later entries grant per domain. */
  readonly perms: readonly XsPerm[];
  /** Binary; usually text without a NUL. */
  readonly data: Uint8Array;
  /** Child names (the last path component), in the order they were added. */
  readonly children: readonly string[];
}

/** The generation of a node that does not exist (~0 in C). */
export const NO_GENERATION = -1;

/** sizeof(struct node_hdr): generation u64, num_perms u16, datalen u16, childlen u32. */
export const NODE_HDR_SIZE = 16;
/** sizeof(struct xs_permissions): two unsigned ints. */
export const XS_PERM_SIZE = 8;

/** Bytes of the child list as stored: each name followed by a NUL. */
export function childListBytes(children: readonly string[]): number {
  let n = 0;
  for (const c of children) n += c.length + 1;
  return n;
}

/** calc_node_acc_size: what a node takes in the database, the figure the node-size quota limits. */
export function nodeAccSize(node: XsNode): number {
  return NODE_HDR_SIZE + node.perms.length * XS_PERM_SIZE + node.data.length + childListBytes(node.children);
}

/** get_parent: everything before the last '/', or "/" (also for "@..." names and "/x"). */
export function parentName(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash > 0 ? name.slice(0, slash) : '/';
}

/** The last component of a name that is not "/". */
export function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** child_name: "/" + child under the root, parent + "/" + child elsewhere. */
export function childPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

// ---------------------------------------------------------------------------
// Permission strings: "<r|w|b|n><domid>" (tools/include/xen-tools/xenstore-common.h)

/** xenstore_perm_to_string: the letter for the bits (IGNORE left out), then the id printed as a C int. */
export function permToString(p: XsPerm): string | undefined {
  const letter = { [XS_PERM_WRITE]: 'w', [XS_PERM_READ]: 'r', [XS_PERM_READ | XS_PERM_WRITE]: 'b', [XS_PERM_NONE]: 'n' }[p.perms & ~XS_PERM_IGNORE];
  return letter === undefined ? undefined : `${letter}${p.id | 0}`;
}

const PERM_LETTERS: Readonly<Record<string, number>> = { r: XS_PERM_READ, w: XS_PERM_WRITE, b: XS_PERM_READ | XS_PERM_WRITE, n: XS_PERM_NONE };

/** xenstore_strings_to_perms for one string: undefined where the C code sets EINVAL. */
export function parsePerm(s: string): XsPerm | undefined {
  const perms = PERM_LETTERS[s.charAt(0)];
  if (perms === undefined) return undefined;
  const id = strtol0(s.slice(1));
  return id === undefined ? undefined : { id: id >>> 0, perms };
}

/**
 * strtol(s, &end, 0) demanding that the whole string is used and is not
 * empty: leading white space, a sign, then 0x-hex, 0-octal or decimal digits.
 */
export function strtol0(s: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const digits = m[2]!;
  const v = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits[0] === '0' ? parseInt(digits.slice(1), 8) : Number(digits);
  return m[1] === '-' ? -v : v;
}

// ---------------------------------------------------------------------------
// The database

export class XsStore {
  readonly nodes = new Map<string, XsNode>();
  /** The global generation counter; every write and delete takes the next value. */
  generation = 0;
}

/** Watch matching modes (enum watch_match in watch.h). */
export const MATCH_EXACT = 0;
export const MATCH_SUBTREE = 1;
/** Depth-limited watches, MATCH_SUBTREE semantics (special events with a domid). */
export const MATCH_DEPTH = 2;
/** Watches without a depth, MATCH_EXACT semantics (special events without a domid). */
export const MATCH_NODEPTH = 3;

/** struct accessed_node: what a transaction knows of one node. */
export interface XsAccessed {
  /** The transaction's view: its copy, or undefined for "does not exist here". */
  node: XsNode | undefined;
  /** Generation when first read (NO_GENERATION: absent), 0 when first touched by a write. */
  generation: number;
  /** The node was read before anything else: check its generation at commit. */
  checkGen: boolean;
  modified: boolean;
  /** Permissions when first seen, for firing watches to domains that lose access. */
  oldPerms: readonly XsPerm[] | undefined;
  fireWatch: boolean;
  watchMatch: number;
}

export class XsTransaction {
  /** Accessed nodes, in the order first touched (commit order). */
  readonly accessed = new Map<string, XsAccessed>();
  /** A write failed inside the transaction: committing it answers ENOMEM. */
  fail = false;
  nodeCreated = false;
  constructor(
    readonly id: number,
    /** The global generation when it started. */
    readonly generation: number,
    /** The transaction-nodes quota: touching this many nodes fails with ENOSPC (Infinity: unlimited). */
    readonly maxNodes = Infinity,
  ) {}
}

/** Thrown inside request handling; the request is answered with XS_ERROR and the errno's name. */
export class XsError extends Error {
  constructor(readonly errnum: number) {
    super(`xenstore error ${errnum}`);
  }
}

function account(trans: XsTransaction, name: string, entry: XsAccessed): void {
  // domain_max_chk(conn, ACC_TRANSNODES, trans->nodes + 1): at the limit the access fails and so will the commit.
  if (trans.accessed.size + 1 >= trans.maxNodes) {
    trans.fail = true;
    throw new XsError(ENOSPC);
  }
  trans.accessed.set(name, entry);
}

/** read_node: the node as the transaction (or, without one, the database) sees it. */
export function readNode(store: XsStore, trans: XsTransaction | undefined, name: string): XsNode | undefined {
  if (!trans) return store.nodes.get(name);
  const seen = trans.accessed.get(name);
  if (seen) return seen.node;
  const node = store.nodes.get(name);
  account(trans, name, {
    node,
    generation: node ? node.generation : NO_GENERATION,
    checkGen: true,
    modified: false,
    oldPerms: node?.perms,
    fireWatch: false,
    watchMatch: MATCH_EXACT,
  });
  return node;
}

function touchForChange(trans: XsTransaction, name: string, perms: readonly XsPerm[]): XsAccessed {
  let seen = trans.accessed.get(name);
  if (!seen) {
    seen = { node: undefined, generation: 0, checkGen: false, modified: false, oldPerms: perms, fireWatch: false, watchMatch: MATCH_EXACT };
    account(trans, name, seen);
  }
  seen.modified = true;
  return seen;
}

/** write_node: a new generation for the node, stored globally or in the transaction. */
export function writeNode(store: XsStore, trans: XsTransaction | undefined, node: XsNode): void {
  node.generation = ++store.generation;
  if (!trans) {
    store.nodes.set(node.name, node);
    return;
  }
  touchForChange(trans, node.name, node.perms).node = node;
}

/** The delete side of access_node and db_delete: gone globally, or gone in the transaction's view. */
export function deleteNode(store: XsStore, trans: XsTransaction | undefined, node: XsNode): void {
  ++store.generation;
  if (!trans) {
    store.nodes.delete(node.name);
    return;
  }
  touchForChange(trans, node.name, node.perms).node = undefined;
}

/** queue_watches: remember to fire at commit; a subtree match wins over an exact one. */
export function queueWatches(trans: XsTransaction, name: string, match: number): void {
  const seen = trans.accessed.get(name);
  if (!seen) {
    trans.fail = true;
    return;
  }
  if (!seen.fireWatch) {
    seen.fireWatch = true;
    seen.watchMatch = match;
  } else if (match === MATCH_SUBTREE) {
    seen.watchMatch = MATCH_SUBTREE;
  }
}

/**
 * finalize_transaction: EAGAIN if any node read has changed since; otherwise
 * every modified node is written (fresh generation) or deleted globally, in
 * the order first touched, and its queued watches fire. 0 on success.
 */
export function commitTransaction(
  store: XsStore,
  trans: XsTransaction,
  fire: (name: string, match: number, oldPerms: readonly XsPerm[] | undefined) => void,
): number {
  for (const [name, seen] of trans.accessed) {
    if (!seen.checkGen) continue;
    const now = store.nodes.get(name);
    if ((now ? now.generation : NO_GENERATION) !== seen.generation) return EAGAIN;
  }
  for (const [name, seen] of trans.accessed) {
    if (!seen.modified) continue;
    if (seen.node) {
      seen.node.generation = ++store.generation;
      store.nodes.set(name, seen.node);
    } else if (seen.generation !== NO_GENERATION) {
      // A node created and deleted inside the transaction never reached the database.
      store.nodes.delete(name);
    }
    if (seen.fireWatch) fire(name, seen.watchMatch, seen.oldPerms);
  }
  return 0;
}
