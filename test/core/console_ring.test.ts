/**
 * The PV console ring (io/console.h; reference section 10) between a guest
 * (Mini-OS's xencons_ring.c) and xenconsoled (tools/console/daemon/io.c):
 * byte-exact layout, output drained into the domain's console buffer with
 * back-pressure and nothing lost, typed input fed in 80-byte reads, indexes
 * free-running past 2^32, corrupt indexes ignored rather than trusted.
 */
import { describe, expect, it } from 'vitest';
import * as C from '../../src/core/abi/console_ring.js';
import { crlf, XenconsRing } from '../../src/core/guest/xencons_ring.js';
import { utf8 } from '../../src/core/util/bytes.js';
import { TTY_READ_CHUNK, Xenconsoled, type ConsoleConn } from '../../src/core/tools/xenconsoled.js';

const TWO32 = 2 ** 32;

function u32(p: Uint8Array, at: number): number {
  return new DataView(p.buffer, p.byteOffset).getUint32(at, true);
}

/** A guest and xenconsoled on one page; notifies raise flags, settle() delivers them. */
function rig(opts: { start?: number; bufferMax?: number } = {}) {
  const page = new Uint8Array(4096);
  const idx = new C.XenconsIndexes(page);
  if (opts.start !== undefined) idx.inCons = idx.inProd = idx.outCons = idx.outProd = opts.start;
  const pending = { toDaemon: false, toGuest: false };
  const input: number[] = [];
  const guest = new XenconsRing(page, () => (pending.toDaemon = true), (b) => input.push(...b));
  const daemon = new Xenconsoled({ bufferMax: opts.bufferMax ?? 0 });
  const con: ConsoleConn = daemon.attach(7, page, () => (pending.toGuest = true), 70);
  const settle = (): void => {
    for (let i = 0; i < 100_000; i++) {
      if (pending.toDaemon) {
        pending.toDaemon = false;
        daemon.onNotify(7);
      } else if (pending.toGuest) {
        pending.toGuest = false;
        guest.onNotify();
      } else return;
    }
    throw new Error('did not settle');
  };
  return { page, idx, guest, daemon, con, pending, input, settle };
}

function text(s: string): Uint8Array {
  return utf8(s);
}

describe('struct xencons_interface', () => {
  it('has in[1024] @0, out[2048] @1024, four u32 indexes from 3072, connection @3088, size 3092', () => {
    expect(C.XENCONS_INTERFACE_LAYOUT.map((f) => [f.field, f.offset, f.size])).toEqual([
      ['in', 0, 1024],
      ['out', 1024, 2048],
      ['in_cons', 3072, 4],
      ['in_prod', 3076, 4],
      ['out_cons', 3080, 4],
      ['out_prod', 3084, 4],
      ['connection', 3088, 1],
      ['(padding)', 3089, 3],
    ]);
    expect(C.XENCONS_INTERFACE_SIZE).toBe(3092);
    expect([C.XENCONS_IN_SIZE, C.XENCONS_OUT_SIZE]).toEqual([1024, 2048]);
    expect([C.XENCONSOLE_CONNECTED, C.XENCONSOLE_DISCONNECTED]).toEqual([0, 1]);
  });

  it('XenconsIndexes reads and writes each field at its offset, little-endian, modulo 2^32', () => {
    const page = new Uint8Array(4096);
    const x = new C.XenconsIndexes(page);
    x.inCons = 1;
    x.inProd = 2;
    x.outCons = 3;
    x.outProd = TWO32 + 4;
    x.connection = 1;
    expect([u32(page, 3072), u32(page, 3076), u32(page, 3080), u32(page, 3084), page[3088]]).toEqual([1, 2, 3, 4, 1]);
    expect(page.subarray(0, 3072).every((b) => b === 0)).toBe(true);
    expect(page.subarray(3089).every((b) => b === 0)).toBe(true);
  });

  it('masks an index by each ring size', () => {
    expect(C.maskXenconsIdx(2049, C.XENCONS_OUT_SIZE)).toBe(1);
    expect(C.maskXenconsIdx(1025, C.XENCONS_IN_SIZE)).toBe(1);
    expect(C.maskXenconsIdx(0xffffffff, C.XENCONS_OUT_SIZE)).toBe(2047);
  });
});

describe('xenconsoled attaching (console_create_ring)', () => {
  it('marks the page connected', () => {
    const page = new Uint8Array(4096);
    const x = new C.XenconsIndexes(page);
    x.connection = C.XENCONSOLE_DISCONNECTED;
    new Xenconsoled().attach(1, page, () => {});
    expect(x.connection).toBe(C.XENCONSOLE_CONNECTED);
  });

  it('one console per domain; found by domid or by local port; gone when detached', () => {
    const d = new Xenconsoled();
    const page = new Uint8Array(4096);
    d.attach(1, page, () => {}, 11);
    expect(() => d.attach(1, page, () => {})).toThrow(/already/);
    new C.XenconsIndexes(page).outProd = 3;
    page.set(text('abc'), C.XENCONS_OUT);
    d.onPort(11);
    expect(d.get(1).text()).toBe('abc');
    d.detach(1);
    expect(() => d.get(1)).toThrow(/no console/);
    d.onNotify(1); // nobody there: nothing happens
  });
});

describe('output: guest → xenconsoled', () => {
  it('copies into out[] at out_prod, publishes it, and xenconsoled drains it into the buffer and advances out_cons', () => {
    const t = rig();
    t.guest.write(text('hello\n'));
    expect(t.idx.outProd).toBe(6);
    expect(String.fromCharCode(...t.page.subarray(1024, 1030))).toBe('hello\n');
    expect(t.pending.toDaemon).toBe(true);
    t.settle();
    expect(t.idx.outCons).toBe(6);
    expect(t.con.text()).toBe('hello\n');
    expect(t.con.stats.output).toBe(6);
  });

  it('send() returns what fitted and always notifies; sendNoNotify() never does', () => {
    const t = rig();
    expect(t.guest.sendNoNotify(new Uint8Array(3000))).toBe(2048);
    expect(t.pending.toDaemon).toBe(false);
    expect(t.guest.send(text('x'))).toBe(0);
    expect(t.pending.toDaemon).toBe(true);
    expect(t.guest.stats.notifies).toBe(1);
  });

  it('write() keeps what does not fit and sends it as xenconsoled makes room: nothing lost', () => {
    const t = rig();
    const data = Uint8Array.from({ length: 10_000 }, (_, i) => i % 251);
    t.guest.write(data);
    expect(t.guest.pending()).toBe(10_000 - 2048);
    t.settle();
    expect(t.guest.pending()).toBe(0);
    expect([...t.con.take()]).toEqual([...data]);
  });

  it('later writes queue behind earlier ones, in order', () => {
    const t = rig();
    t.guest.write(new Uint8Array(3000).fill(1));
    t.guest.write(new Uint8Array(10).fill(2));
    t.settle();
    const got = t.con.take();
    expect(got.length).toBe(3010);
    expect(got[2999]).toBe(1);
    expect(got[3000]).toBe(2);
  });

  it('wraps around out[] with indexes running past 2^32', () => {
    const t = rig({ start: TWO32 - 1000 });
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) % 256);
    t.guest.write(data);
    t.settle();
    expect([...t.con.take()]).toEqual([...data]);
    expect(t.idx.outProd).toBe(4000);
    expect(t.idx.outCons).toBe(4000);
  });

  it('hands each drained chunk to onOutput (the log and the tty client)', () => {
    const t = rig();
    const chunks: string[] = [];
    t.con.onOutput = (b) => chunks.push(String.fromCharCode(...b));
    t.guest.write(text('a'));
    t.settle();
    t.guest.write(text('bc'));
    t.settle();
    expect(chunks).toEqual(['a', 'bc']);
  });

  it('with a buffer limit, a full buffer leaves the ring alone until the output is read (back-pressure to the guest)', () => {
    const t = rig({ bufferMax: 4096 });
    const data = Uint8Array.from({ length: 12_000 }, (_, i) => i % 256);
    t.guest.write(data);
    t.settle();
    expect(t.con.unread()).toBe(4096);
    expect(t.guest.pending()).toBe(12_000 - 4096 - 2048);
    const got: number[] = [];
    for (let i = 0; i < 10 && got.length < data.length; i++) {
      got.push(...t.con.take(3000));
      t.settle();
    }
    got.push(...t.con.take());
    expect(got).toEqual([...data]);
  });
});

describe('input: xenconsoled → guest', () => {
  it('typed bytes go into in[] in reads of at most 80, as room allows, and the guest takes them in order', () => {
    const t = rig();
    const typed = Uint8Array.from({ length: 3000 }, (_, i) => 32 + (i % 90));
    t.con.type(typed);
    expect(t.idx.inProd).toBe(1024); // the ring is full; the rest waits in the tty
    expect(t.con.inputWaiting()).toBe(3000 - 1024);
    expect(TTY_READ_CHUNK).toBe(80);
    t.settle();
    expect(t.input).toEqual([...typed]);
    expect(t.idx.inCons).toBe(3000);
    expect(t.con.inputWaiting()).toBe(0);
  });

  it('wraps around in[] past 2^32', () => {
    const t = rig({ start: TWO32 - 10 });
    t.con.type(text('0123456789abcdefghij'));
    t.settle();
    expect(String.fromCharCode(...t.input)).toBe('0123456789abcdefghij');
    expect(t.idx.inCons).toBe(10);
  });

  it('input and output interleave without either losing a byte', () => {
    const t = rig();
    t.guest.onInput = (b) => t.guest.write(b); // an echoing guest
    t.con.type(text('echo me'));
    t.settle();
    expect(t.con.text()).toBe('echo me');
  });
});

describe('corrupt indexes', () => {
  it('xenconsoled ignores out_prod - out_cons over 2048 (buffer_append) and takes nothing', () => {
    const t = rig();
    t.idx.outProd = 5000;
    t.daemon.onNotify(7);
    expect(t.con.stats.badIndexes).toBe(1);
    expect(t.idx.outCons).toBe(0);
    expect(t.con.unread()).toBe(0);
  });

  it('xenconsoled gives a "screwed" in[] no input (ring_free_bytes is 0)', () => {
    const t = rig();
    t.idx.inProd = 4000;
    t.con.type(text('x'));
    expect(t.idx.inProd).toBe(4000);
    expect(t.con.inputWaiting()).toBe(1);
  });

  it('the guest stops at indexes more than a ring apart (Mini-OS BUG_ON) instead of crashing', () => {
    const t = rig();
    t.idx.outCons = 3000;
    expect(t.guest.sendNoNotify(text('x'))).toBe(0);
    expect(t.guest.error).toMatch(/out indexes/);
    const u = rig();
    u.idx.inProd = 2000;
    u.guest.onNotify();
    expect(u.guest.error).toMatch(/in indexes/);
    expect(u.input).toEqual([]);
  });
});

describe('console_print line endings', () => {
  it('turns every \\n into \\r\\n', () => {
    expect(String.fromCharCode(...crlf(text('a\nb\n')))).toBe('a\r\nb\r\n');
    const same = text('none');
    expect(crlf(same)).toBe(same);
  });
});
