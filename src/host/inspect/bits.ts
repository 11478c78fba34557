/**
 * The event bits as grids: 2-level evtchn_pending / evtchn_mask over every
 * port the ABI holds and each vCPU's selector (straight from shared_info),
 * or, under FIFO, the P, M and L bits of every event word and each vCPU's
 * READY word. Bit i of a grid is byte i >> 3, bit i & 7.
 */
import type { BitGrid } from '../../contract/inspect.js';
import { EVTCHN_FIFO_EVENT_WORDS_PER_PAGE, EVTCHN_FIFO_LINKED, EVTCHN_FIFO_MASKED, EVTCHN_FIFO_MAX_QUEUES, EVTCHN_FIFO_PENDING, FIFO_L, FIFO_M, FIFO_P } from '../../core/abi/evtchn.js';
import { FIFO_CB_READY } from '../../core/abi/layout.js';
import type { Domain } from '../../core/hv/domain.js';
import { base64 } from './format.js';

/** The 2-level grids: the two bitmaps and each vCPU's selector (one selector for Xen 2.0). */
export function grids2l(d: Domain): BitGrid[] {
  const layout = d.layout;
  const si = d.sharedInfo;
  const bitmapBytes = layout.nrPorts >> 3;
  const out: BitGrid[] = [
    { name: 'evtchn_pending', length: layout.nrPorts, bits: base64(si.subarray(layout.pendingOffset, layout.pendingOffset + bitmapBytes)), offset: layout.pendingOffset, page: 'shared_info' },
    { name: 'evtchn_mask', length: layout.nrPorts, bits: base64(si.subarray(layout.maskOffset, layout.maskOffset + bitmapBytes)), offset: layout.maskOffset, page: 'shared_info' },
  ];
  const selBytes = layout.bitsPerWord >> 3;
  if (d.xen === '2.0') {
    const at = layout.selectorOffset(0);
    out.push({ name: 'evtchn_pending_sel', length: layout.bitsPerWord, bits: base64(si.subarray(at, at + selBytes)), offset: at, page: 'shared_info' });
    return out;
  }
  for (const v of d.vcpus) {
    const at = layout.selectorOffset(v.id);
    out.push({ name: `evtchn_pending_sel (vCPU ${v.id})`, length: layout.bitsPerWord, bits: base64(si.subarray(at, at + selBytes)), offset: at, page: 'shared_info' });
  }
  return out;
}

/**
 * The FIFO grids: P, M and L of every event word the array holds (`arrayPages`: the names of
 * the event-array page views, page k first), and READY per vCPU with a control block.
 */
export function gridsFifo(d: Domain, arrayPages: string[]): BitGrid[] {
  const array = d.fifoArray ?? [];
  const n = array.length * EVTCHN_FIFO_EVENT_WORDS_PER_PAGE;
  const pending = new Uint8Array(n >> 3);
  const masked = new Uint8Array(n >> 3);
  const linked = new Uint8Array(n >> 3);
  for (let k = 0; k < array.length; k++) {
    const words = array[k]!;
    const first = k * EVTCHN_FIFO_EVENT_WORDS_PER_PAGE;
    for (let i = 0; i < EVTCHN_FIFO_EVENT_WORDS_PER_PAGE; i++) {
      const w = words[i]!;
      if (w === 0) continue;
      const port = first + i;
      const byte = port >> 3;
      const bit = 1 << (port & 7);
      if ((w & FIFO_P) !== 0) pending[byte] = pending[byte]! | bit;
      if ((w & FIFO_M) !== 0) masked[byte] = masked[byte]! | bit;
      if ((w & FIFO_L) !== 0) linked[byte] = linked[byte]! | bit;
    }
  }
  const inWords = (bit: number): BitGrid['words'] => ({ size: 4, bit, perPage: EVTCHN_FIFO_EVENT_WORDS_PER_PAGE, pages: arrayPages });
  const page = arrayPages[0] ?? 'event array';
  const out: BitGrid[] = [
    { name: 'FIFO PENDING (bit 31 of each event word)', length: n, bits: base64(pending), offset: 0, page, words: inWords(EVTCHN_FIFO_PENDING) },
    { name: 'FIFO MASKED (bit 30 of each event word)', length: n, bits: base64(masked), offset: 0, page, words: inWords(EVTCHN_FIFO_MASKED) },
    { name: 'FIFO LINKED (bit 29 of each event word)', length: n, bits: base64(linked), offset: 0, page, words: inWords(EVTCHN_FIFO_LINKED) },
  ];
  for (const v of d.vcpus) {
    const fv = v.fifo;
    if (fv === null || fv.controlPage === null) continue;
    const ready = fv.controlPage[fv.controlIndex + (FIFO_CB_READY >> 2)]!;
    const bytes = new Uint8Array([ready & 0xff, (ready >>> 8) & 0xff]);
    out.push({ name: `FIFO ready (vCPU ${v.id})`, length: EVTCHN_FIFO_MAX_QUEUES, bits: base64(bytes), offset: fv.controlIndex * 4 + FIFO_CB_READY, page: `FIFO control block vCPU ${v.id}` });
  }
  return out;
}
