/**
 * The FIFO ABI's guest pages (event_channel.h, event_fifo.c): each vCPU's
 * struct evtchn_fifo_control_block (ready, head[16]) at its offset in the
 * page given to EVTCHNOP_init_control, and the event-array pages given to
 * EVTCHNOP_expand_array, with the event word of every port in use decoded
 * (PENDING, MASKED, LINKED, BUSY and LINK).
 */
import type { PageView } from '../../contract/inspect.js';
import {
  ECS_RESERVED,
  EVTCHN_FIFO_CONTROL_BLOCK_SIZE,
  EVTCHN_FIFO_EVENT_WORDS_PER_PAGE,
  EVTCHN_FIFO_LINK_MASK,
  EVTCHNOP,
  FIFO_B,
  FIFO_L,
  FIFO_M,
  FIFO_P,
} from '../../core/abi/evtchn.js';
import { FIFO_CB_HEAD, FIFO_CB_READY, FIFO_CONTROL_BLOCK_LAYOUT, PAGE_SIZE, type LayoutField } from '../../core/abi/layout.js';
import type { Domain } from '../../core/hv/domain.js';
import { decodeRecord, TK } from '../../core/sim/trace.js';
import { readU32, setBits32 } from './format.js';
import { annotate, pageView, placeLayout } from './page.js';
import type { TraceLookback } from './trace_lookback.js';

/** "P=1 M=0 L=1 B=0 LINK=3": an event word's bits. */
export function describeEventWord(w: number): string {
  const b = (bit: number): number => ((w & bit) !== 0 ? 1 : 0);
  return `P=${b(FIFO_P)} M=${b(FIFO_M)} L=${b(FIFO_L)} B=${b(FIFO_B)} LINK=${w & EVTCHN_FIFO_LINK_MASK}`;
}

/** The guest frames FIFO uses, as the trace names them (the hypercalls that gave them to Xen). */
export interface FifoFrames {
  /** vCPU → the control_gfn of its last successful EVTCHNOP_init_control. */
  control: Map<number, number>;
  /** Event-array page k → its array_gfn. */
  array: number[];
}

function bytesOf(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, PAGE_SIZE);
}

/** Every successful init_control and expand_array in a trace, by domain; kept up to date as the trace grows. */
interface FrameIndex {
  scanned: number;
  control: Map<number, Map<number, number>>;
  arrays: Map<number, number[]>;
}

/** One index per trace: the inspector asks often, and only the records since the last time are read. */
const frameIndexes = new WeakMap<TraceLookback, FrameIndex>();

function frameIndex(trace: TraceLookback): FrameIndex {
  let ix = frameIndexes.get(trace);
  // A trace that got shorter was cut back (a step back): read it again from the start.
  if (ix === undefined || ix.scanned > trace.count) {
    ix = { scanned: 0, control: new Map<number, Map<number, number>>(), arrays: new Map<number, number[]>() };
    frameIndexes.set(trace, ix);
  }
  if (ix.scanned === trace.count) return ix;
  for (const { chunk: c, end } of trace.batches()) {
    const stop = Math.min(end, trace.count - c.firstSeq);
    for (let i = Math.max(0, ix.scanned - c.firstSeq); i < stop; i++) {
      if (c.kind[i] !== TK.hypercall || c.x1[i] !== 0) continue;
      const op = c.x0[i];
      if (op !== EVTCHNOP.init_control && op !== EVTCHNOP.expand_array) continue;
      const r = decodeRecord(c, i);
      if (r.kind !== 'hypercall') continue;
      if (op === EVTCHNOP.init_control) {
        let m = ix.control.get(r.dom);
        if (m === undefined) ix.control.set(r.dom, (m = new Map<number, number>()));
        m.set(Number(r.args.vcpu), Number(r.args.control_gfn));
      } else {
        let a = ix.arrays.get(r.dom);
        if (a === undefined) ix.arrays.set(r.dom, (a = []));
        a.push(Number(r.args.array_gfn));
      }
    }
  }
  ix.scanned = trace.count;
  return ix;
}

/** The frames behind the domain's FIFO pages, from its successful init_control and expand_array calls. */
export function fifoFrames(d: Domain, trace: TraceLookback): FifoFrames {
  const ix = frameIndex(trace);
  const pages = d.fifoArray?.length ?? 0;
  // The array's pages are the newest `pages` expand_array calls (an EVTCHNOP_reset starts the array again).
  const all = ix.arrays.get(d.domid) ?? [];
  return { control: new Map(ix.control.get(d.domid) ?? []), array: all.length >= pages ? all.slice(all.length - pages) : [] };
}

function formatControlBlock(base: number): (page: Uint8Array, f: LayoutField) => string | undefined {
  return (page, f) => {
    if (f.offset === base + FIFO_CB_READY) {
      const ready = readU32(page, f.offset);
      const qs = setBits32(ready);
      return qs.length === 0 ? '0 (no queue ready)' : `0x${ready.toString(16)} (queue${qs.length > 1 ? 's' : ''} ${qs.join(', ')} ready)`;
    }
    if (f.offset >= base + FIFO_CB_HEAD) {
      const port = readU32(page, f.offset);
      return port === 0 ? '0 (empty)' : `port ${port}`;
    }
    return undefined;
  };
}

/** One view per vCPU with a control block: the 72-byte struct at its offset. */
export function controlBlockPages(d: Domain, frames?: FifoFrames): PageView[] {
  const out: PageView[] = [];
  for (const v of d.vcpus) {
    const fv = v.fifo;
    if (fv === null || fv.controlPage === null) continue;
    const page = bytesOf(fv.controlPage);
    const base = fv.controlIndex * 4;
    const fields = annotate(page, placeLayout(FIFO_CONTROL_BLOCK_LAYOUT, base), formatControlBlock(base));
    const gfn = frames?.control.get(v.id);
    out.push(pageView({ name: `FIFO control block vCPU ${v.id}`, page, base, length: EVTCHN_FIFO_CONTROL_BLOCK_SIZE, fields, ...(gfn === undefined ? {} : { gfn, mfn: d.memory.mfn(gfn) }) }));
  }
  return out;
}

/** Event words annotated per view by default: enough for any lab domain, bounded for a huge one. */
export const EVENT_WORD_FIELDS = 2048;

/**
 * One view per event-array page, with the word of each port in use (or still
 * set after its port was freed) annotated, lowest port first, at most
 * `maxFields` words in all (the rest of the bytes are there, unannotated).
 */
export function eventArrayPages(d: Domain, frames?: FifoFrames, maxFields = EVENT_WORD_FIELDS): PageView[] {
  const array = d.fifoArray ?? [];
  const ports = d.ports;
  const out: PageView[] = [];
  let budget = maxFields;
  for (let k = 0; k < array.length; k++) {
    const words = array[k]!;
    const first = k * EVTCHN_FIFO_EVENT_WORDS_PER_PAGE;
    const fields = [];
    let skipped = 0;
    for (let i = 0; i < EVTCHN_FIFO_EVENT_WORDS_PER_PAGE; i++) {
      const port = first + i;
      const w = words[i]!;
      const inUse = port < ports.valid && ports.state[port]! > ECS_RESERVED;
      if (!inUse && w === 0) continue;
      if (budget === 0) {
        skipped++;
        continue;
      }
      budget--;
      fields.push({
        name: `event_array[${k}][${i}]`,
        offset: i * 4,
        size: 4,
        value: describeEventWord(w),
        doc: `event word of port ${port}${inUse ? '' : ' (port free; the word is still set)'}`,
      });
    }
    const gfn = frames?.array[k];
    const note = skipped === 0 ? '' : `; ${skipped} more words in use not annotated`;
    out.push(
      pageView({
        name: `FIFO event array page ${k} (ports ${first}–${first + EVTCHN_FIFO_EVENT_WORDS_PER_PAGE - 1}${note})`,
        page: bytesOf(words),
        base: 0,
        length: PAGE_SIZE,
        fields,
        ...(gfn === undefined || gfn < 0 ? {} : { gfn, mfn: d.memory.mfn(gfn) }),
      }),
    );
  }
  return out;
}
