/**
 * A guest kernel written in a scenario's TypeScript: the default kernel
 * (upcalls on at boot, Linux's dispatch loop, deliveries counted) whose boot,
 * event, timer, console-input and (Xen 2.0) control-message hooks call out to the script through
 * `ScriptHandlers`. What the script may do back is the narrow guest API below
 * (hypercalls by name with Xen's argument names, send, mask bits, console
 * output, virtual time, a seeded PRNG). Where the script runs (a QuickJS
 * sandbox, in src/host) is not this layer's business.
 */
import { DOMID_NAMES, SHUTDOWN_REASONS } from '../core/abi/domid.js';
import { virqByName } from '../core/abi/evtchn.js';
import * as grant from '../core/abi/grant.js';
import { XEN2_SHUTDOWN_REASON_NAMES, virqByName as virqByNameXen2 } from '../core/abi/xen2.js';
import { DefaultKernel, type EventAbi } from '../core/guest/kernel.js';
import { GuestCtrlIf } from '../core/guest/ctrl_if.js';
import { cmsgName, cmsgTypeName, copyCtrlMsg, CTRL_MSG_MAX_PAYLOAD, ctrlMsg, payloadOf, setPayload, type CtrlMsg } from '../core/abi/ctrl_if.js';
import type { Domain } from '../core/hv/domain.js';
import { hypercall, type OpSpec, type ResolvedArgs } from '../core/hv/hypercall.js';
import { opsFor } from '../core/hv/hypercall_xen2.js';
import type { Hypervisor } from '../core/hv/hypervisor.js';
import { Prng } from '../core/sim/prng.js';
import { utf8, utf8Decode } from '../core/util/bytes.js';
import { didYouMean } from './errors.js';

/**
 * The script's side of a custom kernel, implemented by the host. Each call
 * runs the script's handler for this kernel's domain; a handler that fails
 * throws (a ScriptError), which stops the run.
 */
export interface ScriptHandlers {
  /** Which optional handlers the script defined: the others cost no call. */
  readonly defined: {
    readonly onEvent: boolean;
    readonly onTimer: boolean;
    readonly onConsoleInput: boolean;
    readonly onControlMessage?: boolean;
    readonly onControlResponse?: boolean;
    readonly onControlSpace?: boolean;
  };
  boot(k: ScriptKernel): void;
  event(k: ScriptKernel, port: number, vcpu: number): void;
  timer(k: ScriptKernel, vcpu: number): void;
  consoleInput(k: ScriptKernel, text: string): void;
  /** A request from the domain controller (Xen 2.0's xend) on the control interface; returns the response's payload. */
  controlMessage?(k: ScriptKernel, msg: ScriptControlMessage): Uint8Array;
  /** The controller's response to a request the kernel sent asking for one (matched by its id, as ctrl_if's tx tasklet does). */
  controlResponse?(k: ScriptKernel, msg: ScriptControlMessage): void;
  /** The tx ring, full when the kernel last tried to send, has room again (ctrl_if_enqueue_space_callback). */
  controlSpace?(k: ScriptKernel): void;
}

/** Whether a kernel's handlers use Xen 2.0's control interface (and so get a control channel from xend). */
export function usesControlInterface(defined: ScriptHandlers['defined']): boolean {
  return defined.onControlMessage === true || defined.onControlResponse === true || defined.onControlSpace === true;
}

/** A control message the script sends (k.control): type and subtype by number or name, a payload of text or bytes. */
export interface ScriptControlRequest {
  readonly type: number | string;
  readonly subtype?: number | string;
  readonly payload?: string | readonly number[];
  /** Ask for the response with an id from ctrl_if's table (onControlResponse gets it); else id 0xFF. */
  readonly reply?: boolean;
}

/** A control message (control_msg_t) as the script sees it. */
export interface ScriptControlMessage {
  readonly type: number;
  readonly subtype: number;
  readonly id: number;
  readonly type_name: string;
  readonly subtype_name: string;
  /** The payload's valid bytes (at most 60). */
  readonly payload: readonly number[];
}

/** Why a script failed: it threw, or ran into the sandbox's time, memory or stack limit (or the sandbox was dead). */
export type ScriptFailure = 'thrown' | 'timeout' | 'memory' | 'stack' | 'dead';

/** A scenario script failed (threw, ran too long, used too much memory); `message` says where. */
export class ScriptError extends Error {
  constructor(
    message: string,
    readonly reason: ScriptFailure = 'thrown',
  ) {
    super(message);
    this.name = 'ScriptError';
  }
}

/** What a hypercall made by name gives the script: Xen's return value and its result fields. */
export interface ScriptCallResult {
  ret: number;
  out: Record<string, unknown>;
}

/** A factory for the runner's `kernels` hook (RunOptions.kernels); one with onControlMessage asks for a control channel. */
export function scriptKernel(kernelName: string, handlers: ScriptHandlers, abi: EventAbi = '2l') {
  const make = (hv: Hypervisor, d: Domain, console?: (bytes: Uint8Array) => void): ScriptKernel => new ScriptKernel(hv, d, kernelName, handlers, abi, console);
  return Object.assign(make, { controlChannel: usesControlInterface(handlers.defined) });
}

export class ScriptKernel extends DefaultKernel {
  private readonly opTable: ReadonlyMap<string, OpSpec>;
  private prng: Prng | undefined;
  /** Xen 2.0, with onControlMessage: the guest's end of the control interface (ctrl_if.c), and its port. */
  ctrl: GuestCtrlIf | undefined;
  ctrlPort = 0;

  constructor(
    hv: Hypervisor,
    d: Domain,
    /** The name the script gave the kernel, for messages. */
    readonly kernelName: string,
    private readonly handlers: ScriptHandlers,
    abi: EventAbi = '2l',
    private readonly console?: (bytes: Uint8Array) => void,
  ) {
    super(hv, d, abi);
    this.opTable = opsFor(d.xen);
  }

  override boot(): void {
    super.boot();
    if (usesControlInterface(this.handlers.defined) && this.d.xen === '2.0') this.openControlInterface();
    this.handlers.boot(this);
  }

  /**
   * ctrl_if_init: the control channel's port from start_info (the toolstack
   * made the channel before boot), and one receiver for every message type,
   * which hands each request to the script's onControlMessage and answers it
   * with what that returns (ctrl_if_send_response).
   */
  private openControlInterface(): void {
    const port = this.hv.domainControllerEvtchn(this.d);
    if (port === 0) return;
    this.ctrlPort = port;
    const ctrl = new GuestCtrlIf(this.d.sharedInfo, () => void this.send(port), { trace: this.hv.trace, dom: this.d.domid });
    this.ctrl = ctrl;
    // Without onControlMessage, ctrl_if's default receiver answers each request with an empty payload.
    if (this.handlers.defined.onControlMessage !== true) return;
    for (let type = 0; type < 256; type++) {
      ctrl.registerReceiver(type, (msg) => {
        const reply = this.handlers.controlMessage!(this, scriptMessage(msg));
        // The response reuses the request's header (type, subtype, id), as drivers do.
        const rsp = copyCtrlMsg(msg);
        setPayload(rsp, reply);
        ctrl.sendResponse(rsp);
      });
    }
  }

  /** Whether typed input goes over the control interface (through xend) rather than to onConsoleInput. */
  get consoleOverControl(): boolean {
    return this.ctrl !== undefined && !this.handlers.defined.onConsoleInput;
  }

  /** After the default kernel counted the event: the control channel's to ctrl_if; the script's onTimer for VIRQ_TIMER's port, else its onEvent. */
  override onEvent(port: number, vcpu: number): void {
    super.onEvent(port, vcpu);
    if (this.ctrl !== undefined && port === this.ctrlPort) {
      this.ctrl.interrupt();
      return;
    }
    const h = this.handlers;
    if (h.defined.onTimer && port !== 0 && this.timerPort[vcpu] === port) h.timer(this, vcpu);
    else if (h.defined.onEvent) h.event(this, port, vcpu);
  }

  /** Text typed at this domain's console (a `type` step, or a live console): the script's onConsoleInput. Returns the bytes taken. */
  consoleInput(bytes: Uint8Array): number {
    if (!this.handlers.defined.onConsoleInput) return 0;
    this.handlers.consoleInput(this, utf8Decode(bytes));
    return bytes.length;
  }

  // ---- the guest API the script calls ----

  /**
   * ctrl_if_send_message_noblock on the control interface: the message on
   * tx_ring and a notify. With `reply`, an id from ctrl_if's table (the lowest
   * free, 0..7) and the response goes to onControlResponse; without, id 0xFF.
   * -EAGAIN when eight requests are out whose responses the kernel has not
   * consumed (TX_FULL); then onControlSpace runs once there is room.
   */
  sendControl(req: ScriptControlRequest): { ret: number; id: number } {
    const ctrl = this.ctrl;
    if (ctrl === undefined) {
      throw new Error(this.d.xen === '2.0' ? `${this.d.name} has no control channel: a kernel gets one from xend when it has onControlMessage, onControlResponse or onControlSpace` : 'the control interface is Xen 2.0\'s (xen: "2.0")');
    }
    if (req === null || typeof req !== 'object') throw new TypeError('control(msg): the message is an object such as { type: "CMSG_CONSOLE", subtype: "CMSG_CONSOLE_DATA", payload: "hello\\n" }');
    const type = controlType(req.type);
    const subtype = controlSubtype(type, req.subtype ?? 0);
    const payload = typeof req.payload === 'string' ? utf8(req.payload) : Array.isArray(req.payload) ? bytesOf(req.payload as readonly unknown[]) : req.payload === undefined ? new Uint8Array(0) : undefined;
    if (payload === undefined) throw new TypeError('control(msg): the payload is text or a list of bytes');
    if (payload.length > CTRL_MSG_MAX_PAYLOAD) throw new RangeError(`control(msg): a payload of ${payload.length} bytes; a control message holds ${CTRL_MSG_MAX_PAYLOAD} (cut longer text into pieces, as XenLinux's console driver does)`);
    const msg = ctrlMsg(type, subtype, 0, payload);
    const h = this.handlers;
    const hnd = req.reply === true ? (rsp: CtrlMsg) => h.controlResponse?.(this, scriptMessage(rsp)) : undefined;
    const ret = ctrl.sendMessageNoblock(msg, hnd);
    if (ret < 0 && h.defined.onControlSpace === true) ctrl.enqueueSpaceCallback(this.onSpace);
    return { ret, id: ret === 0 ? msg.id : -1 };
  }

  /** The task ctrl_if runs when a full tx ring gets a slot back: the script's onControlSpace. */
  private readonly onSpace = (): void => this.handlers.controlSpace?.(this);

  /** A hypercall by op name with Xen's argument names; names (domains, VIRQs, flags, reasons) are resolved as in the step form. */
  hypercallByName(op: string, args: Readonly<Record<string, unknown>>, vcpu = 0): ScriptCallResult {
    const spec = this.opTable.get(op);
    if (spec === undefined) throw new Error(`no hypercall named "${op}"${this.d.xen === '2.0' ? ' in Xen 2.0.0' : ''} (${didYouMean(op, this.opTable.keys()) ?? `ops are: ${[...this.opTable.keys()].join(', ')}`})`);
    this.checkVcpu(vcpu);
    const r = hypercall(this.hv, this.d, spec, this.resolveArgs(spec, args), vcpu);
    return { ret: r.ret, out: r.out ?? {} };
  }

  /** EVTCHNOP_send: 0 or a negative errno. */
  sendPort(port: number, vcpu = 0): number {
    this.checkVcpu(vcpu);
    return this.send(whole(port, 'port'), vcpu);
  }

  print(text: string): void {
    this.console?.(utf8(text));
  }

  /** A float in [0, 1) from this domain's own stream, seeded from the machine's seed: the same seed gives the same numbers. */
  random(): number {
    // Its own stream, so a script's draws do not shift the machine's upcall jitter.
    this.prng ??= new Prng((this.hv.seed ^ Math.imul(this.d.domid + 1, 0x9e3779b9)) >>> 0);
    return this.prng.nextU32() / 4294967296;
  }

  private checkVcpu(vcpu: number): void {
    if (!Number.isInteger(vcpu) || this.d.vcpus[vcpu] === undefined) throw new RangeError(`${this.d.name} has no vCPU ${String(vcpu)} (it has ${this.d.vcpus.length})`);
  }

  private resolveArgs(spec: OpSpec, args: Readonly<Record<string, unknown>>): ResolvedArgs {
    if (args === null || typeof args !== 'object' || Array.isArray(args)) throw new TypeError(`${spec.name}: the arguments are an object such as { port: 1 }`);
    const names = Object.keys(spec.args);
    for (const key of Object.keys(args)) {
      if (!names.includes(key)) throw new TypeError(`${spec.name} has no argument "${key}" (${didYouMean(key, names) ?? (names.length === 0 ? 'it takes none' : `its arguments are: ${names.join(', ')}`)})`);
    }
    const out: Record<string, unknown> = {};
    for (const [name, a] of Object.entries(spec.args)) {
      if (a === undefined) continue;
      const v = args[name];
      if (v === undefined) {
        if (a.default === undefined) throw new TypeError(`${spec.name} needs "${name}" (${a.doc})`);
        out[name] = a.default;
      } else out[name] = a.kind === 'copy_side' ? this.copySide(spec.name, name, v) : this.num(`${spec.name}: ${name}`, a.kind, v);
    }
    return out as ResolvedArgs;
  }

  private copySide(op: string, name: string, v: unknown): Record<string, number> {
    if (v === null || typeof v !== 'object') throw new TypeError(`${op}: ${name} is { ref | gmfn, domid, offset }`);
    const side = v as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (const key of Object.keys(side)) if (!['ref', 'gmfn', 'domid', 'offset'].includes(key)) throw new TypeError(`${op}: ${name} has no field "${key}" (fields are: ref, gmfn, domid, offset)`);
    if (side.ref !== undefined) out.ref = this.num(`${op}: ${name}.ref`, 'u32', side.ref);
    if (side.gmfn !== undefined) out.gmfn = this.num(`${op}: ${name}.gmfn`, 'u64', side.gmfn);
    out.domid = side.domid === undefined ? DOMID_NAMES.DOMID_SELF! : this.num(`${op}: ${name}.domid`, 'domid', side.domid);
    out.offset = side.offset === undefined ? 0 : this.num(`${op}: ${name}.offset`, 'u16', side.offset);
    return out;
  }

  private num(what: string, kind: string, v: unknown): number {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new TypeError(`${what}: expected a whole number, found ${String(v)}`);
      return kind === 'u32' || kind === 'virq' ? v >>> 0 : v;
    }
    if (typeof v === 'boolean') throw new TypeError(`${what}: expected a number, found ${String(v)}`);
    if (kind === 'gnttab_flags' && Array.isArray(v)) return this.num(what, kind, v.join('|'));
    if (typeof v !== 'string') throw new TypeError(`${what}: expected a number, found ${v === null ? 'null' : typeof v}`);
    const xen2 = this.d.xen === '2.0';
    switch (kind) {
      case 'domid': {
        const id = DOMID_NAMES[v] ?? this.hv.domainByName(v)?.domid;
        if (id === undefined) throw new TypeError(`${what}: unknown domain "${v}"`);
        return id;
      }
      case 'virq': {
        const n = xen2 ? virqByNameXen2(v) : virqByName(v);
        if (n === undefined) throw new TypeError(`${what}: unknown VIRQ "${v}"${xen2 ? ' in Xen 2.0.0' : ''}`);
        return n;
      }
      case 'gnttab_flags': {
        let flags = 0;
        for (const part of v.split('|').map((s) => s.trim())) {
          const f = (grant as unknown as Record<string, unknown>)[part];
          if (!/^GNT(MAP|COPY)_/.test(part) || typeof f !== 'number') throw new TypeError(`${what}: unknown flag "${part}"`);
          flags |= f;
        }
        return flags;
      }
      case 'shutdown_reason': {
        const names: readonly string[] = xen2 ? XEN2_SHUTDOWN_REASON_NAMES : SHUTDOWN_REASONS;
        const n = names.indexOf(v);
        if (n < 0) throw new TypeError(`${what}: unknown shutdown reason "${v}" (reasons are: ${names.join(', ')})`);
        return n;
      }
      case 'ns': {
        const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)\s*$/.exec(v);
        if (m === null) throw new TypeError(`${what}: expected a duration such as 1ms or a number of ns, found "${v}"`);
        return Math.round(Number(m[1]) * { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[m[2] as 'ns']);
      }
      default:
        throw new TypeError(`${what}: expected a number, found "${v}"`);
    }
  }
}

/** A control message as the script sees it. */
function scriptMessage(msg: CtrlMsg): ScriptControlMessage {
  return { type: msg.type, subtype: msg.subtype, id: msg.id, type_name: cmsgTypeName(msg.type), subtype_name: cmsgName(msg.type, msg.subtype), payload: Array.from(payloadOf(msg)) };
}

/** A message type by number (0..255) or name (CMSG_CONSOLE). */
function controlType(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255) return v;
  if (typeof v === 'string') for (let t = 0; t < 256; t++) if (cmsgTypeName(t) === v) return t;
  throw new TypeError(`control(msg): unknown message type ${JSON.stringify(v)} (a number 0..255, or a name such as CMSG_CONSOLE)`);
}

/** A subtype by number (0..255) or name (CMSG_CONSOLE_DATA), for its type. */
function controlSubtype(type: number, v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255) return v;
  if (typeof v === 'string') for (let st = 0; st < 256; st++) if (cmsgName(type, st) === v) return st;
  throw new TypeError(`control(msg): unknown subtype ${JSON.stringify(v)} of ${cmsgTypeName(type)} (a number 0..255, or a name such as CMSG_CONSOLE_DATA)`);
}

function bytesOf(list: readonly unknown[]): Uint8Array {
  if (!list.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255)) throw new TypeError('control(msg): a payload list holds bytes (whole numbers 0..255)');
  return Uint8Array.from(list as number[]);
}

function whole(v: number, what: string): number {
  if (!Number.isSafeInteger(v)) throw new TypeError(`${what}: expected a whole number, found ${String(v)}`);
  return v;
}
