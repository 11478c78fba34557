/**
 * XenLab benchmarks: `npm run bench` prints a fixed-width table,
 * `npm run bench -- --json` prints the same rows as JSON.
 * `--only=hot|trace|domains|ports|console|rings|boot|replay|seek|load|filter|inspect|exercises|topology|events` runs one group (for profiling).
 *
 * Every event counted below is a guest handler call (Guest.onEvent), read back
 * from the kernels' delivery counters after the timed loop and checked against
 * the number of sends that had to deliver.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DOMID_SELF } from '../src/core/abi/domid.js';
import { VIRQ_TIMER } from '../src/core/abi/evtchn.js';
import type { Domain } from '../src/core/hv/domain.js';
import { Hypervisor } from '../src/core/hv/hypervisor.js';
import { sendFast } from '../src/core/hv/hypercall.js';
import { GuestCtrlIf } from '../src/core/guest/ctrl_if.js';
import { defaultKernel, DefaultKernel } from '../src/core/guest/kernel.js';
import { XenCons } from '../src/core/guest/xencons.js';
import { xen2Dom0Kernel, type Xen2Dom0Kernel } from '../src/core/tools/dom0.js';
import { XU_BUFFER_SIZE } from '../src/core/tools/xu.js';
import { TRACE_CHUNK, TraceChunk, TraceStore } from '../src/core/sim/trace.js';
import { benchBoot } from './boot.js';
import { benchEvents } from './events.js';
import { benchInspect } from './inspect.js';
import { benchLoad } from './load.js';
import { benchExercises } from './exercises.js';
import { benchFilter } from './filter.js';
import { benchReplay } from './replay.js';
import { benchSeek } from './seek.js';
import { benchRings } from './rings.js';
import { benchTopology } from './topology.js';
import { fmtNum, printTable, type Row } from './table.js';

const argv = process.argv.slice(2);
const JSON_OUT = argv.includes('--json');
const ONLY = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const rows: Row[] = [];

/** Forced GC: --expose-gc when node was started with it, otherwise switched on at run time. */
const gc: () => void = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

function fullGc(): void {
  for (let i = 0; i < 3; i++) gc();
}

/** JS heap plus ArrayBuffer backing stores (typed arrays live outside the JS heap). */
function memUsed(): { heap: number; buffers: number; total: number } {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, total: m.heapUsed + m.arrayBuffers };
}

const nowNs = (): bigint => process.hrtime.bigint();
const kernelOf = (d: Domain): DefaultKernel => d.kernel as DefaultKernel;

function call(d: Domain, op: string, args: Record<string, number>): number {
  const r = kernelOf(d).call(op, args);
  if (r.ret < 0) throw new Error(`${d.name}: ${op} failed: ${r.ret}`);
  const out = r.out as Record<string, number> | undefined;
  return out?.port ?? out?.local_port ?? r.ret;
}

/** An inter-domain channel: `from` sends on the returned port, `to` receives on `toPort`. */
function connect(from: Domain, to: Domain): { fromPort: number; toPort: number } {
  const toPort = call(to, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: from.domid });
  const fromPort = call(from, 'bind_interdomain', { remote_dom: to.domid, remote_port: toPort });
  return { fromPort, toPort };
}

// ---------------------------------------------------------------------------
// 1 and 2: send -> set pending -> upcall -> guest handler (2-level)

interface Pair {
  hv: Hypervisor;
  d0: Domain;
  guest: Domain;
  sendPorts: number[];
  recvPorts: number[];
}

function makePair(nPorts: number): Pair {
  const hv = new Hypervisor({ seed: 1 });
  const d0 = hv.createDomain({ name: 'dom0' }, defaultKernel());
  const guest = hv.createDomain({ name: 'guest' }, defaultKernel());
  const sendPorts: number[] = [];
  const recvPorts: number[] = [];
  for (let i = 0; i < nPorts; i++) {
    const c = connect(d0, guest);
    sendPorts.push(c.fromPort);
    recvPorts.push(c.toPort);
  }
  hv.run(1_000_000); // dom0 takes the events bind_interdomain raised on its ends
  return { hv, d0, guest, sendPorts, recvPorts };
}

function totalDeliveries(p: Pair): number {
  const k = kernelOf(p.guest);
  let n = 0;
  for (const port of p.recvPorts) n += k.deliveries(port);
  return n;
}

/** Enough virtual time for the upcall (latency 1000 ns + jitter < 500 ns) to run. */
const RUN_NS = 2000;

/** One round: dom0 sends once on each of `n` ports, then time advances; returns sends made. */
function roundBatched(p: Pair): number {
  const { hv, d0, sendPorts } = p;
  const n = sendPorts.length;
  for (let i = 0; i < n; i++) sendFast(hv, d0, sendPorts[i]!);
  hv.run(RUN_NS);
  return n;
}

function roundSingle(p: Pair): number {
  sendFast(p.hv, p.d0, p.sendPorts[0]!);
  p.hv.run(RUN_NS);
  return 1;
}

interface HotResult {
  events: number;
  sends: number;
  ns: number;
  /** CPU time of the process (all threads, GC included) over the timed loop. */
  cpuNs: number;
  records: number;
  ok: boolean;
}

/**
 * Warms up, then runs rounds until `minNs` of wall time have passed. With
 * `trace`, a TraceStore records everything; it is swapped for a fresh one
 * between slices so memory stays bounded (the old chunks become garbage, and
 * collecting them is part of the time measured).
 */
function timeHot(p: Pair, round: (p: Pair) => number, trace: boolean, minNs: number): HotResult {
  let store: TraceStore | null = null;
  let unsub: (() => void) | null = null;
  let records = 0;
  const swapStore = (): void => {
    if (store !== null) records += store.count;
    const next = new TraceStore();
    const u = p.hv.trace.subscribe(next.subscriber);
    unsub?.();
    store = next;
    unsub = u;
  };
  if (trace) swapStore();
  // Warm-up: let the JIT settle.
  const warmEnd = nowNs() + 200_000_000n;
  while (nowNs() < warmEnd) for (let i = 0; i < 64; i++) round(p);

  const before = totalDeliveries(p);
  if (trace) {
    swapStore();
    records = 0;
  }
  let sends = 0;
  const cpu0 = process.cpuUsage();
  const t0 = nowNs();
  const end = t0 + BigInt(minNs);
  let t = t0;
  const perSlice = Math.max(1, Math.floor(4096 / p.sendPorts.length));
  while (t < end) {
    for (let i = 0; i < perSlice * 8; i++) sends += round(p);
    if (trace && store !== null && (store as TraceStore).count > 2_000_000) swapStore();
    t = nowNs();
  }
  const ns = Number(t - t0);
  const cpu = process.cpuUsage(cpu0);
  if (trace) {
    records += (store as TraceStore | null)?.count ?? 0;
    (unsub as (() => void) | null)?.();
  }
  const events = totalDeliveries(p) - before;
  return { events, sends, ns, cpuNs: (cpu.user + cpu.system) * 1000, records, ok: events === sends };
}

/** Bytes one trace record takes in a chunk's columns. */
function traceBytesPerRecord(): number {
  const c = new TraceChunk(0);
  let bytes = 0;
  for (const v of Object.values(c)) if (ArrayBuffer.isView(v)) bytes += v.byteLength;
  return bytes / TRACE_CHUNK;
}

function benchHot(trace: boolean): void {
  const variants: { label: string; ports: number; round: (p: Pair) => number }[] = [
    { label: 'batched x64', ports: 64, round: roundBatched },
    { label: 'batched x1000', ports: 1000, round: roundBatched },
    { label: '1 event/upcall', ports: 1, round: roundSingle },
  ];
  const target = trace ? 2e6 : 10e6;
  const bpr = traceBytesPerRecord();
  for (const v of variants) {
    const p = makePair(v.ports);
    const r = timeHot(p, v.round, trace, 600_000_000);
    const rate = (r.events / r.ns) * 1e9;
    const name = `${trace ? '2' : '1'}. send->handler 2l, trace ${trace ? 'mem' : 'off'}, ${v.label}`;
    const verified = r.ok ? `${r.events} events verified` : `MISMATCH: ${r.events} deliveries for ${r.sends} sends`;
    // A busy machine shows up as CPU time well under wall time; the per-CPU-second rate is then the steadier figure.
    const note = `${verified} in ${fmtNum(r.ns / 1e9)} s; ${fmtNum((r.events / r.cpuNs) * 1e9)} per CPU-second (CPU ${((100 * r.cpuNs) / r.ns).toFixed(0)}% of wall)`;
    rows.push({ name, value: rate, unit: 'events/s', target: `>= ${fmtNum(target)}`, pass: r.ok && rate >= target, note });
    if (trace) {
      const rpe = r.records / r.events;
      rows.push({ name: `   trace records per event (${v.label})`, value: rpe, unit: 'records', target: '-', pass: null });
      rows.push({ name: `   trace bytes per event (${v.label})`, value: rpe * bpr, unit: 'B', target: '-', pass: null, note: `${bpr} B/record` });
    }
  }
}

// ---------------------------------------------------------------------------
// 3: 10,000 domains, each with VIRQ_TIMER and a channel to a FIFO dom0

function benchDomains(): void {
  const N = 10_000;
  fullGc();
  const m0 = memUsed();
  const t0 = nowNs();
  const hv = new Hypervisor({ seed: 1 });
  const d0 = hv.createDomain({ name: 'dom0' }, defaultKernel('fifo'));
  for (let i = 1; i <= N; i++) {
    const g = hv.createDomain({ name: `guest${i}` }, defaultKernel());
    call(g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 0 });
    connect(d0, g);
  }
  const ns = Number(nowNs() - t0);
  fullGc();
  const m1 = memUsed();
  if (hv.domains.length !== N + 1 || d0.ports.active !== N) throw new Error('domain bench: wrong set-up');
  rows.push({ name: `3. create ${N} domains (VIRQ_TIMER + channel to FIFO dom0)`, value: ns / 1e9, unit: 's', target: '< 2', pass: ns < 2e9 });
  const heap = m1.total;
  rows.push({
    name: '   heap used after forced GC (JS heap + buffers)',
    value: heap / 2 ** 20,
    unit: 'MiB',
    target: '< 1024',
    pass: heap < 2 ** 30,
    note: `JS heap ${fmtNum(m1.heap / 2 ** 20)} MiB, buffers ${fmtNum(m1.buffers / 2 ** 20)} MiB; growth ${fmtNum((m1.total - m0.total) / 2 ** 20)} MiB`,
  });
  rows.push({ name: '   memory per domain (growth / domains)', value: (m1.total - m0.total) / N / 1024, unit: 'KiB', target: '-', pass: null });
  // Keep hv alive until measured.
  if (hv.now < 0) console.log(hv);
}

// ---------------------------------------------------------------------------
// 4: memory per port in use, 2-level (4096 ports) and FIFO (131072 ports)

/**
 * Ports bound per measurement, over all replicas. A forced GC leaves a few
 * hundred KiB of noise in heapUsed, so one domain binding 64 ports cannot be
 * seen; K identical domains binding s ports each, with K * s = 2^18, can.
 */
const PORTS_PER_STEP = 1 << 18;

/** Heap growth per port when each of K domains binds `ports` ports (bind_ipi), from their state just after boot. */
function portGrowth(abi: '2l' | 'fifo', ports: number): { perPort: number; perDomain: number; domains: number; structural: number } {
  const K = Math.max(1, Math.round(PORTS_PER_STEP / ports));
  const hv = new Hypervisor({ seed: 1 });
  hv.createDomain({ name: 'dom0' });
  const maxEvtchnPort = abi === '2l' ? 4095 : 131071;
  const doms: Domain[] = [];
  for (let i = 0; i < K; i++) doms.push(hv.createDomain({ name: `d${i}`, maxEvtchnPort }, defaultKernel(abi)));
  const tableBefore = doms[0]!.ports.bytes();
  const pagesBefore = doms[0]!.memory.touched;
  fullGc();
  const base = memUsed().total;
  for (const d of doms) for (let b = 0; b < ports; b++) call(d, 'bind_ipi', { vcpu: 0 });
  fullGc();
  const grown = memUsed().total - base;
  const d = doms[0]!;
  if (d.ports.active !== ports) throw new Error('port bench: wrong set-up');
  // What the structures themselves should take: port-table columns and event-array pages added.
  const structural = d.ports.bytes() - tableBefore + (d.memory.touched - pagesBefore) * 4096;
  return { perPort: grown / (K * ports), perDomain: grown / K, domains: K, structural };
}

function benchPorts(abi: '2l' | 'fifo', steps: number[]): void {
  portGrowth(abi, steps[0]!); // warm-up: the bind path compiled before anything is measured
  let prev = 0;
  for (const ports of steps) {
    const r = portGrowth(abi, ports);
    rows.push({
      name: `4. ${abi === '2l' ? '2-level' : 'FIFO'} domain, ${ports} ports in use`,
      value: r.perPort,
      unit: 'B/port',
      target: 'grows',
      pass: r.perDomain > prev,
      note: `+${fmtNum(r.perDomain / 1024)} KiB per domain (mean of ${r.domains}); port table + event pages ${fmtNum(r.structural / 1024)} KiB`,
    });
    prev = r.perDomain;
  }
}

// ---------------------------------------------------------------------------
// 5: the Xen 2.0 console over the control interface, both directions, on the real machine

/** A guest with the 2.0 control interface and console driver, nothing else (the writer is the bench). */
class ConsoleGuest extends DefaultKernel {
  ctrlPort = 0;
  ctrl!: GuestCtrlIf;
  cons!: XenCons;
  override boot(): void {
    super.boot();
    this.ctrlPort = this.hv.domainControllerEvtchn(this.d);
    this.ctrl = new GuestCtrlIf(this.d.sharedInfo, () => void this.send(this.ctrlPort));
    this.cons = new XenCons(this.ctrl);
  }
  override onEvent(port: number, vcpu: number): void {
    super.onEvent(port, vcpu);
    if (port === this.ctrlPort) this.ctrl.interrupt();
  }
}

/** The byte stream both directions carry: pseudo-random with a period (PAT_LEN) that no chunk size divides. */
const PAT_LEN = (1 << 20) + 4093;
const PATTERN = (() => {
  const p = new Uint8Array(PAT_LEN + 65536);
  let x = 0x9e3779b9;
  for (let i = 0; i < p.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    p[i] = i < PAT_LEN ? x & 0xff : p[i - PAT_LEN]!;
  }
  return p;
})();

/** Counts bytes in arrival order, checking each against the pattern. */
class StreamCheck {
  pos = 0;
  bad = -1;
  take(bytes: Uint8Array): void {
    let at = this.pos % PAT_LEN;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== PATTERN[at] && this.bad < 0) this.bad = this.pos + i;
      if (++at === PAT_LEN) at = 0;
    }
    this.pos += bytes.length;
  }
}

function consoleMachine(client: StreamCheck) {
  const hv = new Hypervisor({ seed: 1, xen: '2.0' });
  const dom0 = hv.createDomain({ name: 'dom0' }, xen2Dom0Kernel());
  const x = dom0.kernel as Xen2Dom0Kernel;
  const g = hv.createDomain({ name: 'guest' });
  x.createControlChannel(g, {
    write(b) {
      client.take(b);
      return b.length;
    },
  });
  hv.boot(g, (h, d) => new ConsoleGuest(h, d));
  hv.run(1_000_000);
  return { hv, x, g, k: g.kernel as ConsoleGuest };
}

interface StreamResult {
  bytes: number;
  ns: number;
  virtualNs: number;
  ok: boolean;
  note: string;
}

/**
 * Guest → dom0: a process writes `total` bytes through the tty (XenCons.ttyWrite, 4 KiB at a time).
 * When the 4 KiB wbuf is full the writer waits while virtual time advances (event by event: xend's
 * upcall, its responses, the guest's upcall and tx tasklet freeing ring slots).
 */
function consoleOutput(total: number): StreamResult {
  const check = new StreamCheck();
  const { hv, x, g, k } = consoleMachine(check);
  const cons = k.cons;
  const v0 = hv.now;
  const t0 = nowNs();
  let written = 0;
  while (written < total) {
    const at = written % PAT_LEN;
    const n = cons.ttyWrite(PATTERN.subarray(at, at + Math.min(4096, total - written)));
    written += n;
    if (n === 0 && !hv.step()) throw new Error('console output bench: wbuf full and nothing queued');
  }
  while (cons.pending() > 0 && hv.step());
  hv.run(100_000);
  const ns = Number(nowNs() - t0);
  const dc = x.xend.get(g.domid);
  const ok = check.pos === total && check.bad < 0 && dc.console.outputDropped === 0 && cons.kernelDropped === 0;
  const note = `${fmtNum(total / 2 ** 20)} MiB ${ok ? 'arrived in order' : `MISMATCH: ${check.pos} bytes, first bad at ${check.bad}`}; ${cons.messagesSent} messages; virtual ${fmtNum(total / ((hv.now - v0) / 1e9) / 1e6)} MB/s`;
  return { bytes: total, ns, virtualNs: hv.now - v0, ok, note };
}

/**
 * dom0 → guest: bytes typed at xend's console (consoleInput, 4 KiB at a time into its 64 KiB wbuf),
 * cut into CMSG_CONSOLE requests on the rx ring and read by the guest's rx tasklet into its tty.
 */
function consoleInput(total: number): StreamResult {
  const check = new StreamCheck();
  const { hv, x, g, k } = consoleMachine(new StreamCheck());
  k.cons.open((b) => check.take(b));
  const v0 = hv.now;
  const t0 = nowNs();
  const wbuf = x.xend.get(g.domid).console.wbuf;
  let fed = 0;
  while (fed < total) {
    // The client sends only what xend's buffer has room for (xend would drop the rest).
    const room = XU_BUFFER_SIZE - wbuf.used();
    const at = fed % PAT_LEN;
    const n = room === 0 ? 0 : x.xend.consoleInput(g.domid, PATTERN.subarray(at, at + Math.min(4096, total - fed, room)));
    fed += n;
    if (n === 0 && !hv.step()) throw new Error('console input bench: xend buffer full and nothing queued');
  }
  while (check.pos < total && hv.step());
  const ns = Number(nowNs() - t0);
  const dc = x.xend.get(g.domid);
  const ok = check.pos === total && check.bad < 0 && dc.console.inputDropped === 0;
  const note = `${fmtNum(total / 2 ** 20)} MiB ${ok ? 'arrived in order' : `MISMATCH: ${check.pos} bytes, first bad at ${check.bad}`}; virtual ${fmtNum(total / ((hv.now - v0) / 1e9) / 1e6)} MB/s`;
  return { bytes: total, ns, virtualNs: hv.now - v0, ok, note };
}

function benchConsole(): void {
  const target = 20;
  for (const [label, fn] of [
    ['guest output -> xend console (ttyWrite)', consoleOutput],
    ['xend console input -> guest tty', consoleInput],
  ] as const) {
    fn(4 << 20); // warm-up
    const r = fn(48 << 20);
    const mbs = r.bytes / (r.ns / 1e9) / 1e6;
    rows.push({ name: `5. Xen 2.0 console, ${label}`, value: mbs, unit: 'MB/s', target: `>= ${target}`, pass: r.ok && mbs >= target, note: `${r.note}; ${fmtNum(r.ns / 1e9)} s` });
  }
}

// ---------------------------------------------------------------------------


async function main(): Promise<void> {
  const t0 = nowNs();
  if (ONLY === undefined || ONLY === 'hot') benchHot(false);
  if (ONLY === undefined || ONLY === 'trace') benchHot(true);
  if (ONLY === undefined || ONLY === 'domains') benchDomains();
  if (ONLY === undefined || ONLY === 'ports') {
    benchPorts('2l', [64, 1024, 4095]);
    benchPorts('fifo', [1024, 16384, 131071]);
  }
  if (ONLY === undefined || ONLY === 'console') benchConsole();
  if (ONLY === undefined || ONLY === 'rings') benchRings(rows); // xenstore and console rings (bench/rings.ts)
  if (ONLY === undefined || ONLY === 'boot') benchBoot(rows); // 1,000 guests booting at once (bench/boot.ts)
  if (ONLY === undefined || ONLY === 'replay') benchReplay(rows); // 1M-record replay with hash check, chrome-trace export (bench/replay.ts)
  if (ONLY === undefined || ONLY === 'seek') await benchSeek(rows); // the lab session seeking in a 1M-record run (bench/seek.ts)
  if (ONLY === undefined || ONLY === 'load') benchLoad(rows); // a 10,000-step scenario parsed and checked (bench/load.ts)
  if (ONLY === undefined || ONLY === 'filter') benchFilter(rows); // trace filters over 1M decoded records (bench/filter.ts)
  if (ONLY === undefined || ONLY === 'inspect') benchInspect(rows); // the inspector and explain on large domains (bench/inspect.ts)
  if (ONLY === undefined || ONLY === 'exercises') await benchExercises(rows); // the exercise pack graded (bench/exercises.ts)
  if (ONLY === undefined || ONLY === 'topology') benchTopology(rows); // the topology view's layout and notification scan (bench/topology.ts)
  if (ONLY === undefined || ONLY === 'events') benchEvents(rows); // the event list's pages over 1.3M records (bench/events.ts)
  const secs = Number(nowNs() - t0) / 1e9;
  if (JSON_OUT) {
    console.log(JSON.stringify({ node: process.version, seconds: secs, rows: rows.map((r) => ({ ...r, name: r.name.trim() })) }, null, 2));
  } else {
    printTable(rows);
    console.log(`\nnode ${process.version}, ${secs.toFixed(1)} s`);
  }
}

await main();
