/**
 * A guest and xend on one shared_info page, wired by hand: each side's
 * notify() only raises a flag (an event-channel pending bit), and the test
 * decides when the other side takes it — so any interleaving can be driven.
 */
import { ControlIfIndexes } from '../../src/core/abi/ctrl_if.js';
import { GuestCtrlIf } from '../../src/core/guest/ctrl_if.js';
import { XenCons } from '../../src/core/guest/xencons.js';
import { Xend, type DomChannel } from '../../src/core/tools/xend.js';

export const DOM = 1;

export interface Rig {
  page: Uint8Array;
  shared: ControlIfIndexes;
  guest: GuestCtrlIf;
  xend: Xend;
  dc: DomChannel;
  /** Pending notifications (a port's pending bit: several sends count once). */
  pending: { toXend: boolean; toGuest: boolean };
  /** Sends made by each side. */
  sends: { guest: number; xend: number };
  /** Deliver a pending notification to the guest (its upcall → ctrl_if_interrupt); false if none. */
  guestIrq(): boolean;
  /** Deliver a pending notification to xend (handleNotification); false if none. */
  xendNotify(): boolean;
  /** Deliver notifications until neither side has one pending. */
  settle(limit?: number): void;
}

/** Sets all four producers to `start`, as a domain that has run for a long time. */
export function setProducers(page: Uint8Array, start: number): void {
  const s = new ControlIfIndexes(page);
  s.txReqProd = start;
  s.txRespProd = start;
  s.rxReqProd = start;
  s.rxRespProd = start;
}

export function rig(start?: number): Rig {
  const page = new Uint8Array(4096);
  if (start !== undefined) setProducers(page, start);
  const pending = { toXend: false, toGuest: false };
  const sends = { guest: 0, xend: 0 };
  const guest = new GuestCtrlIf(page, () => {
    sends.guest++;
    pending.toXend = true;
  });
  const xend = new Xend();
  const dc = xend.createDomChannel(DOM, page, () => {
    sends.xend++;
    pending.toGuest = true;
  });
  const r: Rig = {
    page,
    shared: new ControlIfIndexes(page),
    guest,
    xend,
    dc,
    pending,
    sends,
    guestIrq() {
      if (!pending.toGuest) return false;
      pending.toGuest = false;
      guest.interrupt();
      return true;
    },
    xendNotify() {
      if (!pending.toXend) return false;
      pending.toXend = false;
      xend.notification(DOM);
      return true;
    },
    settle(limit = 10_000) {
      for (let i = 0; i < limit; i++) {
        const a = r.xendNotify();
        const b = r.guestIrq();
        if (!a && !b) return;
      }
      throw new Error('the two sides did not settle');
    },
  };
  return r;
}

/** A rig with the console driver on the guest, a collecting client on xend's console, and an open tty. */
export function consoleRig(start?: number) {
  const r = rig(start);
  const cons = new XenCons(r.guest);
  const output: number[] = [];
  const input: number[] = [];
  r.dc.console.connect({
    write(bytes) {
      output.push(...bytes);
      return bytes.length;
    },
  });
  cons.open((bytes) => input.push(...bytes));
  return { ...r, cons, output, input };
}

export function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export function textOf(bytes: ArrayLike<number>): string {
  return String.fromCharCode(...Array.from(bytes));
}
