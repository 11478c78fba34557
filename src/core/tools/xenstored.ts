/**
 * xenstored, the store daemon (tools/xenstored/core.c, domain.c, watch.c,
 * transaction.c): a tree of nodes with values and permissions, served to each
 * introduced domain over its ring page and to dom0's tools over a socket.
 *
 * The machine around it is the caller's business, given as an environment:
 * `mapRing` stands for mapping the domain's grant GNTTAB_RESERVED_XENSTORE,
 * `bindPort` for xenevtchn_bind_interdomain (it returns xenstored's local
 * port and a notify() that sends on it). When that local port fires, the
 * caller calls `onNotify(domid)` (or `onPort(localPort)`); xenstored then
 * reads every complete request, answers, writes what fits, and sends one
 * event if it moved an index.
 */
import { DOMID_ANY, DOMID_FIRST_RESERVED } from '../abi/domid.js';
import { E2BIG, EACCES, EINVAL, ENOENT, ENOMEM, ENOSPC, ENOSYS } from '../abi/errno.js';
import {
  EIO,
  encodeSockmsg,
  nulStrings,
  readSockmsg,
  XENSTORE_CONNECTED,
  XENSTORE_ERROR_PROTO,
  XENSTORE_ERROR_RINGIDX,
  XENSTORE_PAYLOAD_MAX,
  XENSTORE_SERVER_FEATURE_ERROR,
  XS_ERROR,
  XS_PERM_IGNORE,
  XS_PERM_NONE,
  XS_PERM_OWNER,
  XS_PERM_READ,
  XS_PERM_WRITE,
  XS_TYPE_COUNT,
  XS_WATCH_EVENT,
  XSD_SOCKMSG_SIZE,
  XENSTORE_ERROR_NAMES,
  xsdErrorName,
} from '../abi/xs_wire.js';
import { TK, XS_REQ, XS_RSP, XS_TEXT_MAX, traceText, type Trace } from '../sim/trace.js';
import { domainPath } from '../abi/xenbus.js';
import { XENSTORE_FEATURES, XsConnection, type XsMsg, type XsWatch } from './xs_conn.js';
import { WIRE_FUNCS } from './xs_dispatch.js';
import { ACC_NODESZ, ACC_OUTST, ACC_PATHLEN, defaultQuotas } from './xs_quota.js';
import { XsRing } from './xs_ring.js';
import {
  baseName,
  deleteNode,
  MATCH_DEPTH,
  MATCH_EXACT,
  MATCH_NODEPTH,
  MATCH_SUBTREE,
  nodeAccSize,
  parentName,
  queueWatches,
  readNode,
  writeNode,
  XsError,
  XsStore,
  type XsNode,
  type XsPerm,
} from './xs_store.js';
import { watchMatches } from './xs_watch.js';

// Module-local copies of imported constants and helpers on the request path: read once here,
// they cost nothing per request whatever the module loader does with imports.
const HDR = XSD_SOCKMSG_SIZE;
const PAYLOAD_MAX = XENSTORE_PAYLOAD_MAX;
const TYPE_COUNT = XS_TYPE_COUNT;
const PERM_READ = XS_PERM_READ;
const PERM_WRITE = XS_PERM_WRITE;
const PERM_OWNER = XS_PERM_OWNER;
const PERM_IGNORE = XS_PERM_IGNORE;
const encodeMsg = encodeSockmsg;
const readHeader = readSockmsg;
const wire = WIRE_FUNCS;
const readStored = readNode;
const writeStored = writeNode;

export { XENSTORE_FEATURES, type XsMsg } from './xs_conn.js';

/** How xenstored reaches the machine. Every member is optional; the defaults suit a unit test. */
export interface XenstoredEnv {
  /**
   * map_interface: the domain's ring page, or an errno. Real xenstored maps the
   * domain's grant GNTTAB_RESERVED_XENSTORE and ignores the gfn XS_INTRODUCE carries.
   */
  mapRing?(domid: number, gfn: number): Uint8Array | number;
  unmapRing?(domid: number): void;
  /** xenevtchn_bind_interdomain(domid, remotePort): xenstored's local port and a notify on it, or an errno. */
  bindPort?(domid: number, remotePort: number): { port: number; notify: () => void } | number;
  unbindPort?(domid: number, localPort: number): void;
  /** xenmanage_get_domain_info: whether the domain exists (default: any domid below DOMID_FIRST_RESERVED). */
  domainExists?(domid: number): boolean;
  /** A line of xenstored's log (trace and syslog messages). */
  log?(line: string): void;
}

export interface XenstoredOptions {
  /** priv_domid: the domain that may do anything (dom0). */
  privDomid?: number;
  /** store_domid: where xenstored runs; socket clients' relative paths point under its home. */
  storeDomid?: number;
  env?: XenstoredEnv;
  /** Where xs_msg records go (the machine's trace); none: nothing is recorded. */
  trace?: Trace;
}

/** struct domain of domain.c, reduced: what xenstored knows of one domain. */
export interface XsDomain {
  readonly domid: number;
  introduced: boolean;
  shutdown: boolean;
  features: number;
  /** xenstored's local port bound to the domain's store channel (0: none). */
  port: number;
  conn: XsConnection | undefined;
  ring: XsRing | undefined;
  /** This domain's quotas (copied from the global ones when the domain became known). */
  readonly quota: { hard: number[]; soft: number[] };
}

/** Where a special node's event goes: its bare name, its name + "/<domid>", or both (fire_special_watches). */
const WATCH_NODOM = 1;
const WATCH_DOM = 2;
const WATCH_BOTH = WATCH_NODOM | WATCH_DOM;

/** valid_chars: what a path may contain. */
const VALID_PATH = /^[A-Za-z0-9\-/_@]*$/;
/** The "/local/domain/<id>/" prefix the path-max quota does not count (sscanf "%5u"). */
const LOCAL_PREFIX = /^\/local\/domain\/\d{1,5}\//;

export interface GetNodeResult {
  /** The canonical name (set whenever the path itself was valid). */
  readonly name: string;
  readonly node: XsNode | undefined;
  /** 0 when node is set; otherwise ENOENT, EACCES, ... as the client is allowed to know it. */
  readonly err: number;
}

/** A tools connection over the daemon's Unix socket (xenstore-read and friends, libxl). */
export class XsSocket {
  readonly inbox: XsMsg[] = [];
  constructor(
    private readonly xsd: Xenstored,
    readonly conn: XsConnection,
    readonly onMessage: (m: XsMsg) => void,
  ) {}

  /** Writes a request to the socket; the reply (and any watch events) come back through onMessage. */
  send(type: number, payload: Uint8Array, reqId = 0, txId = 0): void {
    this.xsd.socketInput(this, { type, reqId, txId, payload });
  }

  close(): void {
    this.xsd.closeSocket(this);
  }
}

export class Xenstored {
  readonly store = new XsStore();
  readonly privDomid: number;
  readonly storeDomid: number;
  readonly env: XenstoredEnv;
  /** Every connection, in creation order: the order watch events are generated in. */
  readonly connections: XsConnection[] = [];
  readonly domains = new Map<number, XsDomain>();
  /** The global quotas; a domain copies them when it becomes known. */
  readonly quota = defaultQuotas();
  /** Requests processed, by type (for the inspector and the bench). */
  readonly processed = new Uint32Array(TYPE_COUNT + 1);
  private readonly sockets = new Map<XsConnection, XsSocket>();
  private readonly pending = new Set<XsConnection>();
  private running = false;
  /** Where every request read and every reply or watch event queued is recorded, when it is on. */
  trace: Trace | undefined;

  constructor(opts: XenstoredOptions = {}) {
    this.privDomid = opts.privDomid ?? 0;
    this.storeDomid = opts.storeDomid ?? this.privDomid;
    this.env = opts.env ?? {};
    this.trace = opts.trace;
    this.setupStructure();
  }

  // -------------------------------------------------------------------------
  // Entry points

  /**
   * init_domain: serve a domain whose ring xenstored finds by itself (dom0's
   * own page at start-up, a dom0less domain): connect it, mark the page
   * XENSTORE_CONNECTED and send it an event.
   */
  introduceDomain(domid: number, page: Uint8Array, notify: () => void, localPort = 0): XsDomain {
    const d = this.findOrAllocDomain(domid);
    if (!d.introduced) this.connectDomain(d, page, { port: localPort, notify });
    d.ring!.idx.connection = XENSTORE_CONNECTED;
    d.ring!.notify();
    return d;
  }

  /** The domain's store channel fired at xenstored's end. */
  onNotify(domid: number): void {
    const d = this.domains.get(domid);
    if (d?.conn) this.kick(d.conn);
  }

  /** Same, found by xenstored's local port. */
  onPort(localPort: number): void {
    for (const d of this.domains.values()) if (d.port === localPort && d.conn) this.kick(d.conn);
  }

  /** A new tools connection (the Unix socket); its domid is 0, as a socket connection's is. */
  openSocket(onMessage: (m: XsMsg) => void): XsSocket {
    const conn = new XsConnection(0, domainPath(this.storeDomid), 'socket');
    const s = new XsSocket(this, conn, onMessage);
    this.sockets.set(conn, s);
    this.connections.push(conn);
    return s;
  }

  /** @internal XsSocket.send. A payload over XENSTORE_PAYLOAD_MAX drops the connection, as handle_input does. */
  socketInput(s: XsSocket, msg: XsMsg): void {
    if (s.conn.ignored) return;
    if (msg.payload.length > PAYLOAD_MAX) {
      this.log(`Client tried to feed us ${msg.payload.length}`);
      this.ignoreConnection(s.conn, XENSTORE_ERROR_PROTO);
      return;
    }
    s.inbox.push(msg);
    this.kick(s.conn);
  }

  /** @internal XsSocket.close. */
  closeSocket(s: XsSocket): void {
    this.dropConnection(s.conn);
    this.sockets.delete(s.conn);
  }

  /** The domain was seen shut down (check_domains after VIRQ_DOM_EXC): @releaseDomain/<domid>, then @releaseDomain. */
  domainShutdown(domid: number): void {
    const d = this.domains.get(domid);
    if (!d?.introduced || d.shutdown) return;
    d.shutdown = true;
    this.fireSpecialWatches('@releaseDomain', domid, WATCH_DOM);
    this.fireSpecialWatches('@releaseDomain', 0, WATCH_NODOM);
    this.run();
  }

  /** The domain is dead (check_domains): its connection goes, its nodes with it, and @releaseDomain fires. */
  domainDied(domid: number): void {
    const d = this.domains.get(domid);
    if (!d?.introduced || !d.conn) return;
    this.destroyDomain(d);
    this.run();
  }

  // -------------------------------------------------------------------------
  // Reading the store without a connection (the inspector, tests)

  /** A node's value as text, or undefined. */
  readValue(path: string): string | undefined {
    const n = this.store.nodes.get(path);
    return n === undefined ? undefined : String.fromCharCode(...n.data);
  }

  /** A node's children, or undefined. */
  childrenOf(path: string): readonly string[] | undefined {
    return this.store.nodes.get(path)?.children;
  }

  /** Every node name, sorted. */
  paths(): string[] {
    return [...this.store.nodes.keys()].sort();
  }

  /** A domain's watches (path, token), oldest first. */
  watchesOf(domid: number): readonly XsWatch[] {
    return this.domains.get(domid)?.conn?.watches ?? [];
  }

  // -------------------------------------------------------------------------
  // The main loop: every connection with input or output gets serviced until none has.

  private kick(conn: XsConnection): void {
    this.pending.add(conn);
    this.run();
  }

  /** Marks a connection for servicing, for code that queues output (watch events) on it. */
  private mark(conn: XsConnection): void {
    this.pending.add(conn);
  }

  /** Services pending connections; re-entered calls (a synchronous notify loop) just add to the set. */
  private run(): void {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.size > 0) {
        const batch = [...this.pending];
        this.pending.clear();
        for (const conn of batch) this.service(conn);
      }
    } finally {
      this.running = false;
    }
  }

  private service(conn: XsConnection): void {
    const sock = this.sockets.get(conn);
    if (sock) {
      this.serviceSocket(sock);
      return;
    }
    const ring = this.domains.get(conn.id)?.ring;
    if (ring && this.domains.get(conn.id)?.conn === conn) this.serviceRing(conn, ring);
  }

  private serviceSocket(s: XsSocket): void {
    const conn = s.conn;
    while (s.inbox.length > 0 && !conn.ignored) this.processMessage(conn, s.inbox.shift()!);
    while (conn.out.length > 0) {
      const o = conn.out.shift()!;
      if (!o.watchEvent) conn.outstanding--;
      const h = readHeader(o.bytes);
      s.onMessage({ type: h.type, reqId: h.reqId, txId: h.txId, payload: o.bytes.subarray(HDR) });
    }
  }

  /** handle_input and handle_output for one domain until neither makes progress, then one event. */
  private serviceRing(conn: XsConnection, ring: XsRing): void {
    let progress = true;
    while (progress && !conn.ignored) {
      progress = false;
      while (!conn.ignored && this.canRead(conn, ring) && this.handleInput(conn, ring)) progress = true;
      while (!conn.ignored && conn.out.length > 0 && ring.canWrite() && this.writeMessage(conn, ring)) progress = true;
    }
    if (ring.takeMoved()) ring.notify();
  }

  /** conn_can_read / domain_can_read: not ignored, under the outstanding-replies quota, bytes waiting. */
  private canRead(conn: XsConnection, ring: XsRing): boolean {
    if (this.quotaExceeds(conn, ACC_OUTST, conn.outstanding)) return false;
    return ring.canRead();
  }

  /**
   * handle_input: the 16-byte header first (a length over XENSTORE_PAYLOAD_MAX
   * is a protocol error), then the payload; a complete message is processed.
   * True if anything was read or processed.
   */
  private handleInput(conn: XsConnection, ring: XsRing): boolean {
    const inb = conn.input;
    let progress = false;
    if (inb.inHdr) {
      if (inb.used < HDR) {
        const n = ring.read(inb.hdr, inb.used, HDR - inb.used);
        if (n < 0) return this.ignoreConnection(conn, XENSTORE_ERROR_RINGIDX);
        inb.used += n;
        if (inb.used < HDR) return n > 0;
      }
      const len = readHeader(inb.hdr).len;
      if (len > PAYLOAD_MAX) {
        this.log(`Client tried to feed us ${len}`);
        return this.ignoreConnection(conn, XENSTORE_ERROR_PROTO);
      }
      inb.payload = new Uint8Array(len);
      inb.used = 0;
      inb.inHdr = false;
      progress = true;
    }
    const want = inb.payload.length - inb.used;
    const n = ring.read(inb.payload, inb.used, want);
    if (n < 0) return this.ignoreConnection(conn, XENSTORE_ERROR_RINGIDX);
    inb.used += n;
    if (inb.used !== inb.payload.length) return progress || n > 0;
    const h = readHeader(inb.hdr);
    inb.inHdr = true;
    inb.used = 0;
    this.processMessage(conn, { type: h.type, reqId: h.reqId, txId: h.txId, payload: inb.payload });
    return true;
  }

  /** write_messages: as much of the oldest queued message as fits. True if anything was written. */
  private writeMessage(conn: XsConnection, ring: XsRing): boolean {
    const o = conn.out[0]!;
    const n = ring.write(o.bytes, o.used, o.bytes.length - o.used);
    if (n < 0) {
      this.ignoreConnection(conn, XENSTORE_ERROR_RINGIDX);
      return false;
    }
    o.used += n;
    if (o.used === o.bytes.length) {
      conn.out.shift();
      if (!o.watchEvent) conn.outstanding--;
    }
    return n > 0;
  }

  /**
   * ignore_connection: record why in the page's `error` field (if the domain
   * has the error feature), stop serving it, drop its watches, transactions
   * and buffers. A socket connection is closed instead. Returns false.
   */
  private ignoreConnection(conn: XsConnection, err: number): false {
    this.log(`CONN d${conn.id} ignored, reason ${err}`);
    if (this.trace?.on) this.trace.emit(TK.note, conn.id, -1, -1, 0, 0, 0, { text: `xenstored: connection of domain ${conn.id} ignored (${XENSTORE_ERROR_NAMES[err] ?? err})` });
    const d = this.domains.get(conn.id);
    if (d?.conn === conn && d.ring && d.features & XENSTORE_SERVER_FEATURE_ERROR) d.ring.idx.error = err;
    conn.ignored = true;
    conn.reset();
    if (conn.kind === 'socket') this.dropConnection(conn);
    return false;
  }

  private dropConnection(conn: XsConnection): void {
    conn.ignored = true;
    conn.reset();
    const i = this.connections.indexOf(conn);
    if (i >= 0) this.connections.splice(i, 1);
    this.pending.delete(conn);
  }

  // -------------------------------------------------------------------------
  // process_message

  /** One request: type check, privilege check, transaction lookup, the handler; an errno becomes XS_ERROR. */
  processMessage(conn: XsConnection, msg: XsMsg): void {
    if (this.trace?.on) this.traceMsg(conn.id, XS_REQ, msg.type, msg.reqId, msg.txId, msg.payload);
    conn.current = msg;
    this.processed[Math.min(msg.type, TYPE_COUNT)]!++;
    const entry = msg.type < TYPE_COUNT ? wire[msg.type] : undefined;
    if (!entry) {
      this.log(`Client unknown operation ${msg.type}`);
      this.sendError(conn, ENOSYS);
      return;
    }
    if (entry.priv && this.isUnprivileged(conn)) {
      this.sendError(conn, EACCES);
      return;
    }
    if (!entry.notid && msg.txId !== 0) {
      const trans = conn.transactions.get(msg.txId);
      if (!trans) {
        this.sendError(conn, ENOENT);
        return;
      }
      conn.transaction = trans;
    }
    let ret: number;
    try {
      ret = entry.fn(this, conn, msg);
    } catch (e) {
      if (!(e instanceof XsError)) throw e;
      ret = e.errnum;
    } finally {
      conn.transaction = undefined;
    }
    if (ret !== 0) this.sendError(conn, ret);
    conn.current = undefined;
  }

  // -------------------------------------------------------------------------
  // Replies and events

  /** send_reply: header echoing the request's req_id and tx_id; a reply over XENSTORE_PAYLOAD_MAX becomes E2BIG. */
  sendReply(conn: XsConnection, type: number, payload: Uint8Array): void {
    const req = conn.current;
    if (!req) return;
    if (payload.length > PAYLOAD_MAX) {
      this.sendError(conn, E2BIG);
      return;
    }
    conn.current = undefined;
    if (this.trace?.on) this.traceMsg(conn.id, XS_RSP, type, req.reqId, req.txId, payload);
    conn.out.push({ bytes: encodeMsg(type, req.reqId, req.txId, payload), used: 0, watchEvent: false });
    conn.outstanding++;
    this.mark(conn);
  }

  /** send_error: XS_ERROR carrying the errno's name. */
  sendError(conn: XsConnection, errnum: number): void {
    this.sendReply(conn, XS_ERROR, nulStrings(xsdErrorName(errnum)));
  }

  /** send_ack: "OK". */
  sendAck(conn: XsConnection, type: number): void {
    this.sendReply(conn, type, OK);
  }

  /**
   * send_event: "<path>\0<token>\0" with a zero req_id and tx_id. Too long is
   * dropped; so is an event identical to one still queued (special "@" paths excepted).
   */
  sendEvent(conn: XsConnection, path: string, token: string): void {
    const payload = nulStrings(path, token);
    if (payload.length > PAYLOAD_MAX) return;
    const bytes = encodeMsg(XS_WATCH_EVENT, 0, 0, payload);
    if (path[0] !== '@') {
      for (const o of conn.out) {
        if (o.watchEvent && sameBytes(o.bytes, bytes)) {
          this.log(`dropping duplicate watch ${path} ${token} for domain ${conn.id}`);
          return;
        }
      }
    }
    if (this.trace?.on) this.traceMsg(conn.id, XS_RSP, XS_WATCH_EVENT, 0, 0, payload);
    conn.out.push({ bytes, used: 0, watchEvent: true });
    this.mark(conn);
  }

  // -------------------------------------------------------------------------
  // Watches

  /**
   * fire_watches: inside a transaction, remember for the commit; otherwise,
   * for every connection that may read the node or its parent (or could under
   * the old permissions), an event for each of its watches that matches.
   */
  fireWatches(conn: XsConnection | undefined, name: string, node: XsNode | undefined, match: number, oldPerms?: readonly XsPerm[]): void {
    if (conn?.transaction) {
      queueWatches(conn.transaction, name, match);
      return;
    }
    for (const c of this.connections) {
      if (c.watches.length === 0 || !this.watchPermitted(c, name, node, oldPerms)) continue;
      for (const w of c.watches) if (watchMatches(w, name, match)) this.sendEvent(c, name.slice(w.prefixLen), w.token);
    }
  }

  /** watch_permitted: the node or its parent readable by the watcher (now, or under the old permissions). */
  private watchPermitted(conn: XsConnection, name: string, node: XsNode | undefined, oldPerms: readonly XsPerm[] | undefined): boolean {
    if (oldPerms && this.permFor(conn, oldPerms) & PERM_READ) return true;
    const n = node ?? this.store.nodes.get(name);
    if (!n) return false;
    if (this.permFor(conn, n.perms) & PERM_READ) return true;
    const parent = this.store.nodes.get(parentName(n.name));
    return parent !== undefined && (this.permFor(conn, parent.perms) & PERM_READ) !== 0;
  }

  /** fire_special_watches: @introduceDomain / @releaseDomain, bare and with "/<domid>". */
  fireSpecialWatches(name: string, domid: number, flags: number): void {
    const node = this.store.nodes.get(name);
    if (!node) {
      this.log(`special node ${name} not found`);
      return;
    }
    if (flags & WATCH_NODOM) this.fireWatches(undefined, name, node, MATCH_NODEPTH);
    if (flags & WATCH_DOM) this.fireWatches(undefined, `${name}/${domid}`, node, MATCH_DEPTH);
  }

  // -------------------------------------------------------------------------
  // Permissions, paths, nodes

  /** domain_is_unprivileged: a connection other than the privileged domain's. */
  isUnprivileged(conn: XsConnection | undefined): boolean {
    return conn !== undefined && conn.id !== this.privDomid;
  }

  /**
   * perm_for_conn: the privileged domain and the owner get everything
   * (read, write, owner); otherwise the first entry after the owner naming
   * this domain (or DOMID_ANY) decides; otherwise the owner entry's bits,
   * which are everyone else's.
   */
  permFor(conn: XsConnection | undefined, perms: readonly XsPerm[]): number {
    const all = PERM_READ | PERM_WRITE | PERM_OWNER;
    if (!this.isUnprivileged(conn) || permAllows(conn!, perms[0]!)) return all;
    for (let i = 1; i < perms.length; i++) {
      const p = perms[i]!;
      if (!(p.perms & PERM_IGNORE) && permAllows(conn!, p)) return p.perms & all;
    }
    return perms[0]!.perms & all;
  }

  /** feature_available: the domain's negotiated features; a socket gets them all. */
  featureAvailable(conn: XsConnection, feature: number): boolean {
    const d = conn.kind === 'ring' ? this.domains.get(conn.id) : undefined;
    return ((d ? d.features : XENSTORE_FEATURES) & feature) !== 0;
  }

  /**
   * canonicalize: EINVAL for a missing path, a character outside
   * [A-Za-z0-9-/_@], "@..." where special names are not allowed, a trailing
   * or doubled '/', or (for an unprivileged domain) a path over the path-max
   * quota not counting its "/local/domain/<id>/" prefix. A relative path is
   * put under the connection's home.
   */
  canonicalize(conn: XsConnection, path: string | undefined, allowSpecial: boolean): string {
    if (path === undefined || !VALID_PATH.test(path) || (path[0] === '@' && !allowSpecial)) throw new XsError(EINVAL);
    const name = path[0] !== '/' && path[0] !== '@' ? `${conn.implicitPath}/${path}` : path;
    if ((name.endsWith('/') && name !== '/') || name.includes('//')) throw new XsError(EINVAL);
    const limit = this.quotaLimit(conn, ACC_PATHLEN);
    if (name.length >= limit && name.length - (LOCAL_PREFIX.exec(name)?.[0].length ?? 0) >= limit) throw new XsError(EINVAL);
    return name;
  }

  /**
   * get_node: the node if it exists and the connection has `perm` on it.
   * Otherwise ENOENT or EACCES — but EACCES whenever the nearest existing
   * parent would not grant `perm` either, so a domain learns nothing about
   * nodes it may not see.
   */
  getNode(conn: XsConnection, path: string | undefined, perm: number, allowSpecial: boolean): GetNodeResult {
    const name = this.canonicalize(conn, path, allowSpecial);
    const node = readStored(this.store, conn.transaction, name);
    let err = 0;
    if (!node) err = ENOENT;
    else if ((this.permFor(conn, node.perms) & perm) !== perm) err = EACCES;
    if (err === 0) return { name, node, err };
    return { name, node: undefined, err: this.errnoFromParents(conn, name, err, perm) };
  }

  /** errno_from_parents. */
  private errnoFromParents(conn: XsConnection, name: string, errnum: number, perm: number): number {
    if (errnum === ENOMEM) return errnum;
    return this.askParents(conn, name) & perm ? errnum : EACCES;
  }

  /** ask_parents: the connection's permissions on the nearest existing ancestor (XS_PERM_NONE if even "/" is gone). */
  askParents(conn: XsConnection, name: string): number {
    let n = name;
    let node: XsNode | undefined;
    do {
      n = parentName(n);
      node = readStored(this.store, conn.transaction, n);
    } while (!node && n !== '/');
    if (!node) {
      this.log('corrupt: No permissions file at root');
      return XS_PERM_NONE;
    }
    return this.permFor(conn, node.perms);
  }

  /** The node-size quota (write_node_raw): ENOSPC, which also dooms the transaction. */
  checkNodeSize(conn: XsConnection | undefined, node: XsNode): void {
    if (!conn || !this.quotaExceeds(conn, ACC_NODESZ, nodeAccSize(node))) return;
    if (conn.transaction) conn.transaction.fail = true;
    throw new XsError(ENOSPC);
  }

  /** write_node with the quota check. */
  writeChecked(conn: XsConnection | undefined, node: XsNode): void {
    this.checkNodeSize(conn, node);
    writeStored(this.store, conn?.transaction, node);
  }

  /**
   * create_node (construct_node): find the nearest existing ancestor, then
   * make every missing node down to `name`. New nodes copy their parent's
   * permissions; an unprivileged domain becomes the owner of what it
   * creates. Written bottom-up, the existing ancestor last (its child list grew).
   */
  createNode(conn: XsConnection | undefined, name: string, data: Uint8Array): XsNode {
    const trans = conn?.transaction;
    const missing: string[] = [];
    let pname = name;
    let parent: XsNode | undefined;
    while (!parent) {
      missing.push(pname);
      pname = parentName(pname);
      parent = readStored(this.store, trans, pname);
      if (!parent && pname === '/') throw new XsError(ENOENT);
    }
    const top = missing[missing.length - 1]!;
    const owner = this.isUnprivileged(conn) ? conn!.id : parent.perms[0]!.id;
    const perms: XsPerm[] = parent.perms.map((p, i) => (i === 0 ? { id: owner, perms: p.perms } : p));
    const writes: XsNode[] = [];
    for (let i = 0; i < missing.length; i++) {
      const child = i > 0 ? [baseName(missing[i - 1]!)] : [];
      writes.push({ name: missing[i]!, generation: 0, perms, data: i === 0 ? data : EMPTY, children: child });
    }
    writes.push({ ...parent, children: [...parent.children, baseName(top)] });
    for (const n of writes) this.checkNodeSize(conn, n);
    if (trans) trans.nodeCreated = true;
    for (const n of writes) writeStored(this.store, trans, n);
    return writes[0]!;
  }

  /**
   * rm_node: delete the subtree bottom-up, firing each deleted node's watches
   * (exact for the nodes below, subtree for the top), then take the name out
   * of the parent's child list. EINVAL if the parent is missing.
   */
  rmNode(conn: XsConnection | undefined, name: string): number {
    const trans = conn?.transaction;
    const parent = readStored(this.store, trans, parentName(name));
    if (!parent) return EINVAL;
    this.deleteTree(conn, name, name);
    const base = baseName(name);
    if (!parent.children.includes(base)) {
      this.log(`corrupt: Can't find child '${base}' in ${parent.name}`);
      return EIO;
    }
    writeStored(this.store, trans, { ...parent, children: parent.children.filter((c) => c !== base) });
    return 0;
  }

  private deleteTree(conn: XsConnection | undefined, name: string, top: string): void {
    const node = readStored(this.store, conn?.transaction, name);
    if (!node) return;
    for (const c of node.children) this.deleteTree(conn, name === '/' ? `/${c}` : `${name}/${c}`, top);
    deleteNode(this.store, conn?.transaction, node);
    this.fireWatches(conn, name, node, name === top ? MATCH_SUBTREE : MATCH_EXACT);
  }

  // -------------------------------------------------------------------------
  // Quotas

  /** The hard quota that binds the connection (Infinity: none; only an unprivileged domain's ring is limited, and 0 means unlimited). */
  quotaLimit(conn: XsConnection, what: number): number {
    if (conn.kind !== 'ring' || !this.isUnprivileged(conn)) return Infinity;
    const d = this.domains.get(conn.id);
    const q = d ? d.quota.hard[what]! : this.quota.hard[what]!;
    return q === 0 ? Infinity : q;
  }

  /** domain_max_chk / domain_quota_val_exceeds: over the quota at `val >= quota`. */
  quotaExceeds(conn: XsConnection, what: number, val: number): boolean {
    return val >= this.quotaLimit(conn, what);
  }

  // -------------------------------------------------------------------------
  // Domains

  /** find_or_alloc_domain. */
  findOrAllocDomain(domid: number): XsDomain {
    let d = this.domains.get(domid);
    if (!d) {
      d = {
        domid,
        introduced: false,
        shutdown: false,
        features: XENSTORE_FEATURES,
        port: 0,
        conn: undefined,
        ring: undefined,
        quota: { hard: [...this.quota.hard], soft: [...this.quota.soft] },
      };
      this.domains.set(domid, d);
    }
    return d;
  }

  /** find_or_alloc_existing_domain: only for a domain the hypervisor knows. */
  findOrAllocExistingDomain(domid: number): XsDomain | undefined {
    return this.domains.get(domid) ?? (this.domainExists(domid) ? this.findOrAllocDomain(domid) : undefined);
  }

  domainExists(domid: number): boolean {
    return this.env.domainExists ? this.env.domainExists(domid) : domid < DOMID_FIRST_RESERVED;
  }

  /** new_domain: the connection, the ring, the features on the page; @introduceDomain for others than dom0. */
  connectDomain(d: XsDomain, page: Uint8Array, bound: { port: number; notify: () => void }): void {
    d.port = bound.port;
    d.shutdown = false;
    d.ring = new XsRing(page, bound.notify);
    d.conn = new XsConnection(d.domid, domainPath(d.domid), 'ring');
    d.introduced = true;
    this.connections.push(d.conn);
    d.ring.idx.serverFeatures = d.features;
    if (d.domid !== this.privDomid) this.fireSpecialWatches('@introduceDomain', d.domid, WATCH_BOTH);
  }

  /** domain_conn_reset: forget watches, transactions and buffers, zero the ring indexes. */
  domainConnReset(d: XsDomain): void {
    d.conn?.reset();
    d.ring?.resetIndexes();
  }

  /**
   * The connection goes (talloc_free(domain->conn)), then destroy_domain:
   * nodes the domain owns are deleted, other nodes forget its permission
   * entries, the channel is unbound, the page unmapped, @releaseDomain fires.
   */
  destroyDomain(d: XsDomain): void {
    if (d.conn) this.dropConnection(d.conn);
    d.conn = undefined;
    this.domainTreeRemove(d.domid);
    this.domains.delete(d.domid);
    if (!d.introduced) return;
    d.introduced = false;
    if (d.port) this.env.unbindPort?.(d.domid, d.port);
    if (d.ring) this.env.unmapRing?.(d.domid);
    d.ring = undefined;
    this.fireSpecialWatches('@releaseDomain', d.domid, WATCH_BOTH);
  }

  /** domain_tree_remove: walk "/" (then the special nodes) top-down. */
  private domainTreeRemove(domid: number): void {
    const visit = (name: string): void => {
      const node = this.store.nodes.get(name);
      if (!node) return;
      if (node.perms[0]!.id === domid && name !== '/') {
        if (this.rmNode(undefined, name) !== 0) this.log(`error when deleting orphaned node ${name}`);
        return;
      }
      const kept = node.perms.filter((p, i) => i === 0 || p.id !== domid);
      // write_node_raw: the permissions change without a new generation.
      if (kept.length !== node.perms.length) this.store.nodes.set(name, { ...node, perms: kept });
      for (const c of [...node.children]) visit(name === '/' ? `/${c}` : `${name}/${c}`);
    };
    visit('/');
    visit('@releaseDomain');
    visit('@introduceDomain');
  }

  // -------------------------------------------------------------------------

  /** setup_structure: "/", "/tool", "/tool/xenstored" and the two special nodes; only dom0 may touch them, anyone may watch @releaseDomain. */
  private setupStructure(): void {
    const priv: XsPerm[] = [{ id: this.privDomid, perms: XS_PERM_NONE }];
    const manual = (name: string, children: string[], perms: XsPerm[] = priv): void => writeStored(this.store, undefined, { name, generation: 0, perms, data: EMPTY, children });
    manual('/', ['tool']);
    manual('/tool', ['xenstored']);
    manual('/tool/xenstored', []);
    manual('@releaseDomain', [], [...priv, { id: DOMID_ANY, perms: PERM_READ }]);
    manual('@introduceDomain', []);
  }

  log(line: string): void {
    this.env.log?.(line);
  }

  /** An xs_msg record: the header's fields and the payload's first string (up to its NUL, at most 64 characters). */
  private traceMsg(dom: number, dir: number, type: number, reqId: number, txId: number, payload: Uint8Array): void {
    const lim = Math.min(payload.length, XS_TEXT_MAX);
    let end = 0;
    while (end < lim && payload[end] !== 0) end++;
    this.trace!.emit(TK.xs_msg, dom, dir, type | 0, reqId | 0, txId | 0, payload.length, { text: traceText(payload, 0, end, XS_TEXT_MAX) });
  }
}

const EMPTY = new Uint8Array(0);
const OK = nulStrings('OK');

/** perm_allows_conn: the entry names the connection's domain, its target, or DOMID_ANY. */
function permAllows(conn: XsConnection, p: XsPerm): boolean {
  return p.id === conn.id || (conn.target !== undefined && p.id === conn.target.id) || p.id === DOMID_ANY;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
