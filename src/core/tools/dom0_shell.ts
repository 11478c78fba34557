/**
 * An interactive shell on dom0's console in the style of Xen's tools, shared
 * by both dom0 kernels (Xen 2.0's running xend, the modern one running
 * xenstored and xenconsoled). Commands: help, `xl list|pause|unpause|
 * shutdown|destroy|dmesg`, `lsevtchn [DOM]` (xen-lsevtchn's format) and, when
 * the kernel has a xenstored, xenstore-ls/read/write/rm over its tools
 * socket. Line editing: backspace, a history recalled with up/down arrows
 * (ESC [ A / ESC [ B), tab completion of command names. Output is text with
 * "\n" line ends, handed to the host's `write`.
 */
import { ECS_INTERDOMAIN, ECS_IPI, ECS_PIRQ, ECS_RESERVED, ECS_UNBOUND, ECS_VIRQ } from '../abi/evtchn.js';
import { retName } from '../abi/errno.js';
import type { Domain } from '../hv/domain.js';
import type { Hypervisor } from '../hv/hypervisor.js';
import { utf8Decode } from '../util/bytes.js';

export const DOM0_PROMPT = 'dom0# ';

/** One xenstore request's outcome: the reply's payload, or the error name (ENOENT, EACCES...). */
export type XsResult = { ok: true; payload: Uint8Array } | { ok: false; error: string };

/** What the shell needs from the kernel it runs in. */
export interface Dom0ShellHost {
  readonly hv: Hypervisor;
  /** Console output. */
  write(text: string): void;
  /** `xl shutdown`: asks the domain to shut down; a message on failure, else undefined. */
  shutdown(d: Domain): string | undefined;
  /** `xl destroy`: returns 0 or a negated errno. */
  destroy(d: Domain): number;
  /** What has gone to the hypervisor's console so far (without the (XEN) banner). */
  dmesg(): readonly string[];
  /** A request over xenstored's tools socket; absent when there is no xenstored (Xen 2.0). */
  xs?: (type: 'directory' | 'read' | 'write' | 'rm', path: string, value?: string) => XsResult;
}

const XL_SUBCOMMANDS = ['list', 'pause', 'unpause', 'shutdown', 'destroy', 'dmesg', 'help'];
const XS_COMMANDS = ['xenstore-ls', 'xenstore-read', 'xenstore-write', 'xenstore-rm'];

export class Dom0Shell {
  private line = '';
  /** Lines entered, oldest first; `hpos` is where up/down stand (history.length = the line being edited). */
  readonly history: string[] = [];
  private hpos = 0;
  /** Escape-sequence state: 0 none, 1 after ESC, 2 after ESC [. */
  private esc = 0;

  constructor(private readonly host: Dom0ShellHost) {}

  get commands(): string[] {
    return ['help', 'xl', 'lsevtchn', ...(this.host.xs !== undefined ? XS_COMMANDS : [])];
  }

  /**
   * True while the console ends with a fresh prompt (nothing typed after it):
   * a kernel message then goes above the prompt, as readline redraws it.
   */
  atEmptyPrompt = false;

  /** The banner (if any), then the prompt as a write of its own; at boot. */
  start(banner?: string): void {
    if (banner !== undefined) this.out(`${banner}\n`);
    this.prompt();
  }

  private prompt(): void {
    this.out(DOM0_PROMPT);
    this.atEmptyPrompt = true;
  }

  private out(text: string): void {
    this.atEmptyPrompt = false;
    this.host.write(text);
  }

  /** Bytes typed at dom0's console. */
  input(bytes: Uint8Array): void {
    for (const b of bytes) this.key(b);
  }

  private key(b: number): void {
    if (this.esc === 1) {
      this.esc = b === 0x5b ? 2 : 0;
      return;
    }
    if (this.esc === 2) {
      this.esc = 0;
      if (b === 0x41) this.recall(-1);
      else if (b === 0x42) this.recall(1);
      return;
    }
    if (b === 0x1b) this.esc = 1;
    else if (b === 0x0d || b === 0x0a) {
      this.out('\n');
      const line = this.line.trim();
      this.line = '';
      if (line !== '' && this.history[this.history.length - 1] !== line) this.history.push(line);
      this.hpos = this.history.length;
      this.run(line);
      this.prompt();
    } else if (b === 0x7f || b === 0x08) {
      if (this.line.length > 0) {
        this.line = this.line.slice(0, -1);
        this.out('\b \b');
      }
    } else if (b === 0x09) this.complete();
    else if (b >= 0x20 && b < 0x7f) {
      const ch = String.fromCharCode(b);
      this.line += ch;
      this.out(ch);
    }
  }

  /** Replaces the line being edited with what is shown. */
  private replaceLine(text: string): void {
    this.out('\b \b'.repeat(this.line.length) + text);
    this.line = text;
  }

  private recall(dir: -1 | 1): void {
    const to = this.hpos + dir;
    if (to < 0 || to > this.history.length) return;
    this.hpos = to;
    this.replaceLine(to === this.history.length ? '' : this.history[to]!);
  }

  /** Tab: a unique prefix of a command (or of an xl subcommand) is completed; several candidates are listed. */
  private complete(): void {
    const xl = /^xl\s+(\S*)$/.exec(this.line);
    let candidates: string[];
    let word: string;
    if (xl !== null) {
      word = xl[1]!;
      candidates = XL_SUBCOMMANDS.filter((c) => c.startsWith(word));
    } else if (!/\s/.test(this.line)) {
      word = this.line;
      candidates = this.commands.filter((c) => c.startsWith(word));
    } else return;
    if (candidates.length === 1) {
      const rest = `${candidates[0]!.slice(word.length)} `;
      this.line += rest;
      this.out(rest);
    } else if (candidates.length > 1) {
      // The longest common prefix first, as readline does; then the list.
      let common = candidates[0]!;
      for (const c of candidates) while (!c.startsWith(common)) common = common.slice(0, -1);
      if (common.length > word.length) {
        const rest = common.slice(word.length);
        this.line += rest;
        this.out(rest);
      } else this.out(`\n${candidates.join('  ')}\n${DOM0_PROMPT}${this.line}`);
    }
  }

  /** Runs one command line (no prompt). */
  run(line: string): void {
    if (line === '') return;
    const [cmd = '', ...args] = line.split(/\s+/);
    switch (cmd) {
      case 'help':
        return this.help();
      case 'xl':
        return this.xl(args);
      case 'lsevtchn':
        return this.lsevtchn(args);
      case 'xenstore-ls':
      case 'xenstore-read':
      case 'xenstore-write':
      case 'xenstore-rm':
        if (this.host.xs !== undefined) return this.xenstore(cmd, args);
        break; // no xenstored under Xen 2.0
    }
    this.out(`-sh: ${cmd}: command not found\n`);
  }

  private help(): void {
    let t =
      'commands:\n' +
      '  help                        this list\n' +
      '  xl list                     the domains: name, id, memory, vCPUs, state\n' +
      '  xl pause|unpause DOM        pause or unpause a domain (DOM: name or id)\n' +
      '  xl shutdown|destroy DOM     ask a domain to shut down, or destroy it\n' +
      '  xl dmesg                    the hypervisor console\n' +
      '  lsevtchn [DOM]              the domain\'s event channels (default dom0)\n';
    if (this.host.xs !== undefined)
      t +=
        '  xenstore-ls [PATH]          the store tree under PATH (default /)\n' +
        '  xenstore-read PATH          a node\'s value\n' +
        '  xenstore-write PATH VALUE   write a node\n' +
        '  xenstore-rm PATH            remove a node and its children\n';
    this.out(t);
  }

  /** A domain by name or id, or undefined with xl's complaint printed. */
  private findDomain(prog: string, arg: string): Domain | undefined {
    const d = /^\d+$/.test(arg) ? this.host.hv.domain(Number(arg)) : this.host.hv.domainByName(arg);
    if (d === undefined) this.out(`${prog}: ${arg} is an invalid domain identifier\n`);
    return d;
  }

  private xl(args: string[]): void {
    const [sub, ...rest] = args;
    const hv = this.host.hv;
    switch (sub) {
      case undefined:
      case 'help':
        this.out('usage: xl <subcommand> [args]\n  subcommands: list pause unpause shutdown destroy dmesg\n');
        return;
      case 'list': {
        if (rest.length > 0) {
          this.out('usage: xl list\n');
          return;
        }
        this.out(`${xlRow('Name', 'ID', 'Mem', 'VCPUs', 'State')}\n`);
        for (const d of hv.domains) this.out(`${xlRow(d.name, String(d.domid), String((d.memory.nrPages * 4) >> 10), String(d.vcpus.length), xlState(d))}\n`);
        return;
      }
      case 'dmesg':
        this.out(`(XEN) Xen version ${hv.xen === '2.0' ? '2.0.0' : '4'} (xenlab)\n`);
        for (const l of this.host.dmesg()) this.out(`(XEN) ${l.replace(/\n$/, '')}\n`);
        return;
      case 'pause':
      case 'unpause':
      case 'shutdown':
      case 'destroy': {
        if (rest.length !== 1) {
          this.out(`usage: xl ${sub} <Domain>\n`);
          return;
        }
        const d = this.findDomain('xl', rest[0]!);
        if (d === undefined) return;
        if (sub === 'shutdown') {
          const err = this.host.shutdown(d);
          this.out(err === undefined ? `Shutting down domain ${d.domid}\n` : `xl: shutdown of ${d.name} failed: ${err}\n`);
          return;
        }
        const ret = sub === 'pause' ? hv.pause(d) : sub === 'unpause' ? hv.unpause(d) : this.host.destroy(d);
        if (ret < 0) this.out(`libxl: error: ${sub} of domain ${d.domid} (${d.name}) failed: ${retName(ret)}\n`);
        return;
      }
      default:
        this.out(`xl: unknown command '${sub}'\n`);
    }
  }

  /** xen-lsevtchn: every valid, bound port with its vCPU and what it is bound to. */
  private lsevtchn(args: string[]): void {
    if (args.length > 1) {
      this.out('usage: lsevtchn [domid]\n');
      return;
    }
    const d = args[0] === undefined ? this.host.hv.domain(0) : this.findDomain('lsevtchn', args[0]);
    if (d === undefined) return;
    const p = d.ports;
    for (let port = 0; port < p.valid; port++) {
      const st = p.state[port]!;
      if (st <= ECS_RESERVED) continue;
      let what: string;
      if (st === ECS_UNBOUND) what = `Interdomain (Waiting connection) - Remote Domain ${p.remoteDom[port]}`;
      else if (st === ECS_INTERDOMAIN) what = `Interdomain (Connected) - Remote Domain ${p.remoteDom[port]}, Port ${p.remotePort[port]}`;
      else if (st === ECS_PIRQ) what = `Physical IRQ ${p.remotePort[port]}`;
      else if (st === ECS_VIRQ) what = `Virtual IRQ ${p.remotePort[port]}`;
      else if (st === ECS_IPI) what = 'IPI';
      else what = `state ${st}`;
      this.out(`${String(port).padStart(4)}: VCPU ${p.notifyVcpu[port]}: ${what}\n`);
    }
  }

  private xenstore(cmd: string, args: string[]): void {
    const xs = this.host.xs!;
    const usage: Record<string, [number, number, string]> = {
      'xenstore-ls': [0, 1, '[path]'],
      'xenstore-read': [1, 1, 'path'],
      'xenstore-write': [2, 2, 'path value'],
      'xenstore-rm': [1, 1, 'path'],
    };
    const [min, max, u] = usage[cmd]!;
    if (args.length < min || args.length > max) {
      this.out(`Usage: ${cmd} ${u}\n`);
      return;
    }
    const path = args[0] ?? '/';
    if (cmd === 'xenstore-read') {
      const r = xs('read', path);
      this.out(r.ok ? `${decode(r.payload)}\n` : `${cmd}: couldn't read path ${path}\n`);
    } else if (cmd === 'xenstore-write') {
      const r = xs('write', path, args[1]!);
      if (!r.ok) this.out(`${cmd}: could not write path ${path}\n`);
    } else if (cmd === 'xenstore-rm') {
      const r = xs('rm', path);
      if (!r.ok) this.out(`${cmd}: could not remove path ${path}\n`);
    } else {
      const r = xs('directory', path);
      if (!r.ok) {
        this.out(`${cmd}: xs_directory (${path}): ${r.error}\n`);
        return;
      }
      this.ls(path, r.payload, 0);
    }
  }

  /** xenstore-ls: `name = "value"`, one space of indent per level. */
  private ls(path: string, dirPayload: Uint8Array, depth: number): void {
    const xs = this.host.xs!;
    for (const name of decode(dirPayload).split('\0').filter((s) => s !== '')) {
      const child = path === '/' ? `/${name}` : `${path}/${name}`;
      const v = xs('read', child);
      this.out(`${' '.repeat(depth)}${name} = "${v.ok ? decode(v.payload) : ''}"\n`);
      const sub = xs('directory', child);
      if (sub.ok) this.ls(child, sub.payload, depth + 1);
    }
  }
}

function decode(b: Uint8Array): string {
  return utf8Decode(b).replace(/\0$/, '');
}

/** xl list's columns: "%-40s %5d %5lu %5d     %s". */
function xlRow(name: string, id: string, mem: string, vcpus: string, state: string): string {
  return `${name.padEnd(40)} ${id.padStart(5)} ${mem.padStart(5)} ${vcpus.padStart(5)}     ${state}`;
}

/**
 * xl's six state flags r b p s c d. dom0 is running (it runs xl); another
 * live domain's vCPUs only run inside upcalls here, so it shows blocked.
 */
export function xlState(d: Domain): string {
  const f = ['-', '-', '-', '-', '-', '-'];
  if (d.dying) f[5] = 'd';
  else if (d.state === 'shutdown') f[3] = 's';
  else if (d.pauseCount > 0) f[2] = 'p';
  else if (d.domid === 0) f[0] = 'r';
  else f[1] = 'b';
  return f.join('');
}
