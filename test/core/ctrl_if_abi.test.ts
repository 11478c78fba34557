/**
 * domain_controller.h at 2.0.0 (reference sections 1.2 and 2): control_msg_t
 * and control_if_t at their byte offsets in the shared_info page, every
 * CMSG_* number, and every payload struct byte for byte.
 */
import { describe, expect, it } from 'vitest';
import * as A from '../../src/core/abi/ctrl_if.js';
import { XEN2_SHARED_INFO_LAYOUT, type LayoutField } from '../../src/core/abi/layout.js';

function u32(p: Uint8Array, at: number): number {
  return new DataView(p.buffer, p.byteOffset).getUint32(at, true);
}

function u16(p: Uint8Array, at: number): number {
  return new DataView(p.buffer, p.byteOffset).getUint16(at, true);
}

/** Sorted, non-overlapping, inside `size`, and (when `exact`) covering every byte. */
function expectTiles(fields: readonly LayoutField[], size: number, exact = true): void {
  let at = 0;
  for (const fl of fields) {
    if (exact) expect(fl.offset, `${fl.field} starts where the previous ends`).toBe(at);
    else expect(fl.offset, fl.field).toBeGreaterThanOrEqual(at);
    at = fl.offset + fl.size;
  }
  if (exact) expect(at).toBe(size);
  else expect(at).toBeLessThanOrEqual(size);
}

describe('control_msg_t and control_if_t', () => {
  it('control_msg_t is 64 bytes: type@0 subtype@1 id@2 length@3 msg[60]@4', () => {
    expect([A.CTRL_MSG_TYPE, A.CTRL_MSG_SUBTYPE, A.CTRL_MSG_ID, A.CTRL_MSG_LENGTH, A.CTRL_MSG_PAYLOAD]).toEqual([0, 1, 2, 3, 4]);
    expect(A.CTRL_MSG_MAX_PAYLOAD).toBe(60);
    expect(A.CTRL_MSG_SIZE).toBe(64);
    expectTiles(A.CONTROL_MSG_LAYOUT, 64);
  });

  it('writes and reads a message at a slot, all 64 bytes, length as stored', () => {
    const page = new Uint8Array(4096);
    const m = A.ctrlMsg(A.CMSG_SHUTDOWN, A.CMSG_SHUTDOWN_REBOOT, 0x42, Uint8Array.of(1, 2, 3));
    A.writeCtrlMsg(page, A.txSlotOffset(3), m);
    const at = 2048 + 3 * 64;
    expect([...page.subarray(at, at + 7)]).toEqual([6, 1, 0x42, 3, 1, 2, 3]);
    page[at + 3] = 200; // a malformed length is kept as stored
    const back = A.readCtrlMsg(page, at);
    expect(back.length).toBe(200);
    expect(back.msg.length).toBe(60);
    expect([...A.payloadOf(back)]).toEqual([1, 2, 3, ...new Array<number>(57).fill(0)]);
  });

  it('setPayload refuses more than 60 bytes', () => {
    expect(() => A.ctrlMsg(0, 0, 0, new Uint8Array(61))).toThrow(RangeError);
    expect(A.ctrlMsg(0, 0, 0, new Uint8Array(60)).length).toBe(60);
  });

  it('CONTROL_RING_SIZE 8, MASK_CONTROL_IDX = i & 7, across 2^32', () => {
    expect(A.CONTROL_RING_SIZE).toBe(8);
    expect(A.maskControlIdx(0)).toBe(0);
    expect(A.maskControlIdx(13)).toBe(5);
    expect(A.maskControlIdx(0xffffffff)).toBe(7);
  });

  it('control_if_t is 1040 bytes at page offset 2048: tx_ring@0, rx_ring@512, indexes @1024/1028/1032/1036', () => {
    expect(A.CONTROL_IF_PAGE_OFFSET).toBe(2048);
    expect([A.CONTROL_IF_TX_RING, A.CONTROL_IF_RX_RING]).toEqual([0, 512]);
    expect([A.CONTROL_IF_TX_REQ_PROD, A.CONTROL_IF_TX_RESP_PROD, A.CONTROL_IF_RX_REQ_PROD, A.CONTROL_IF_RX_RESP_PROD]).toEqual([1024, 1028, 1032, 1036]);
    expect(A.CONTROL_IF_SIZE).toBe(1040);
    const layout = A.controlIfLayout(0);
    expectTiles(layout, 1040);
    const byName = new Map(A.controlIfLayout().map((fl) => [fl.field, fl.offset]));
    expect(byName.get('tx_ring[0]')).toBe(2048);
    expect(byName.get('rx_ring[0]')).toBe(2560);
    expect(byName.get('rx_ring[7]')).toBe(2560 + 7 * 64);
    expect(byName.get('tx_req_prod')).toBe(3072);
    expect(byName.get('tx_resp_prod')).toBe(3076);
    expect(byName.get('rx_req_prod')).toBe(3080);
    expect(byName.get('rx_resp_prod')).toBe(3084);
    // And the shared_info table of layout.ts agrees on where the block is.
    const entry = XEN2_SHARED_INFO_LAYOUT.find((fl) => fl.field === 'control_if_t');
    expect(entry).toMatchObject({ offset: 2048, size: 1040 });
  });

  it('the indexes are little-endian u32 in the page and wrap modulo 2^32', () => {
    const page = new Uint8Array(4096);
    const s = new A.ControlIfIndexes(page);
    s.txReqProd = 0x11223344;
    s.txRespProd = 2 ** 32 + 5;
    s.rxReqProd = -1;
    s.rxRespProd = 7;
    expect([...page.subarray(3072, 3076)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(u32(page, 3076)).toBe(5);
    expect(u32(page, 3080)).toBe(0xffffffff);
    expect(u32(page, 3084)).toBe(7);
    expect([s.txReqProd, s.txRespProd, s.rxReqProd, s.rxRespProd]).toEqual([0x11223344, 5, 0xffffffff, 7]);
  });

  it('works on a page that is a view into larger memory', () => {
    const mem = new Uint8Array(3 * 4096);
    const page = mem.subarray(4096, 8192);
    new A.ControlIfIndexes(page).rxReqProd = 9;
    expect(u32(mem, 4096 + 3080)).toBe(9);
  });
});

describe('message types and subtypes (2.0.0)', () => {
  it('top-level types: console 0, blkif be 1 / fe 2, netif be 3 / fe 4, shutdown 6, mem_request 7', () => {
    expect([A.CMSG_CONSOLE, A.CMSG_BLKIF_BE, A.CMSG_BLKIF_FE, A.CMSG_NETIF_BE, A.CMSG_NETIF_FE, A.CMSG_SHUTDOWN, A.CMSG_MEM_REQUEST]).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(A.cmsgTypeName(5)).toBe('type 5');
    expect(A.cmsgTypeName(8)).toBe('type 8'); // USB came later
  });

  it('subtypes: 0-31 from the controller, 32 and up from the driver', () => {
    expect(A.CMSG_CONSOLE_DATA).toBe(0);
    expect([A.CMSG_BLKIF_FE_INTERFACE_STATUS, A.CMSG_BLKIF_FE_DRIVER_STATUS, A.CMSG_BLKIF_FE_INTERFACE_CONNECT, A.CMSG_BLKIF_FE_INTERFACE_DISCONNECT, A.CMSG_BLKIF_FE_INTERFACE_QUERY]).toEqual([0, 32, 33, 34, 35]);
    expect([A.CMSG_BLKIF_BE_CREATE, A.CMSG_BLKIF_BE_DESTROY, A.CMSG_BLKIF_BE_CONNECT, A.CMSG_BLKIF_BE_DISCONNECT, A.CMSG_BLKIF_BE_VBD_CREATE, A.CMSG_BLKIF_BE_VBD_DESTROY, A.CMSG_BLKIF_BE_VBD_GROW, A.CMSG_BLKIF_BE_VBD_SHRINK, A.CMSG_BLKIF_BE_DRIVER_STATUS]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 32]);
    expect([A.CMSG_NETIF_FE_INTERFACE_STATUS, A.CMSG_NETIF_FE_DRIVER_STATUS, A.CMSG_NETIF_FE_INTERFACE_CONNECT, A.CMSG_NETIF_FE_INTERFACE_DISCONNECT, A.CMSG_NETIF_FE_INTERFACE_QUERY]).toEqual([0, 32, 33, 34, 35]);
    expect([A.CMSG_NETIF_BE_CREATE, A.CMSG_NETIF_BE_DESTROY, A.CMSG_NETIF_BE_CONNECT, A.CMSG_NETIF_BE_DISCONNECT, A.CMSG_NETIF_BE_DRIVER_STATUS]).toEqual([0, 1, 2, 3, 32]);
    expect([A.CMSG_SHUTDOWN_POWEROFF, A.CMSG_SHUTDOWN_REBOOT, A.CMSG_SHUTDOWN_SUSPEND]).toEqual([0, 1, 2]);
    expect(A.CMSG_MEM_REQUEST_SET).toBe(0);
    expect([A.SHUTDOWN_poweroff, A.SHUTDOWN_reboot, A.SHUTDOWN_suspend]).toEqual([0, 1, 2]);
    expect(A.cmsgName(A.CMSG_SHUTDOWN, 3)).toBe('CMSG_SHUTDOWN/3'); // SYSRQ is not in 2.0.0
    expect(A.cmsgName(A.CMSG_BLKIF_BE, A.CMSG_BLKIF_BE_VBD_GROW)).toBe('CMSG_BLKIF_BE_VBD_GROW');
  });

  it('status values and their texts', () => {
    expect([A.BLKIF_INTERFACE_STATUS_CLOSED, A.BLKIF_INTERFACE_STATUS_DISCONNECTED, A.BLKIF_INTERFACE_STATUS_CONNECTED, A.BLKIF_INTERFACE_STATUS_CHANGED]).toEqual([0, 1, 2, 3]);
    expect([A.NETIF_INTERFACE_STATUS_CLOSED, A.NETIF_INTERFACE_STATUS_DISCONNECTED, A.NETIF_INTERFACE_STATUS_CONNECTED, A.NETIF_INTERFACE_STATUS_CHANGED]).toEqual([0, 1, 2, 3]);
    expect([A.BLKIF_DRIVER_STATUS_DOWN, A.BLKIF_DRIVER_STATUS_UP, A.NETIF_DRIVER_STATUS_DOWN, A.NETIF_DRIVER_STATUS_UP]).toEqual([0, 1, 0, 1]);
    expect(A.BLKIF_BE_STATUS_ERRORS).toHaveLength(10);
    expect(A.BLKIF_BE_STATUS_ERRORS[A.BLKIF_BE_STATUS_MAPPING_ERROR]).toBe('Could not map domain memory');
    expect(A.BLKIF_BE_STATUS_ERRORS[A.BLKIF_BE_STATUS_EXTENT_NOT_FOUND]).toBe('Extent not found for VBD');
    expect(A.NETIF_BE_STATUS_ERRORS).toHaveLength(7);
    expect(A.NETIF_BE_STATUS_ERRORS[A.NETIF_BE_STATUS_OUT_OF_MEMORY]).toBe('Out of memory');
    expect(A.NETIF_BE_STATUS_MAPPING_ERROR).toBe(6);
  });
});

describe('payload structs, byte for byte (x86_32, packed)', () => {
  it('sizes as domain_controller.h states them, each fitting the 60-byte payload', () => {
    const sizes = Object.fromEntries(A.PAYLOAD_STRUCTS.map((s) => [s.name, s.size]));
    expect(sizes).toEqual({
      blkif_fe_interface_status_t: 12,
      blkif_fe_driver_status_t: 8,
      blkif_fe_interface_connect_t: 16,
      blkif_fe_interface_disconnect_t: 4,
      blkif_fe_interface_query_t: 12,
      blkif_extent_t: 20,
      blkif_be_create_t: 12,
      blkif_be_destroy_t: 12,
      blkif_be_connect_t: 24,
      blkif_be_disconnect_t: 12,
      blkif_be_vbd_create_t: 16,
      blkif_be_vbd_destroy_t: 16,
      blkif_be_vbd_grow_t: 36,
      blkif_be_vbd_shrink_t: 16,
      blkif_be_driver_status_t: 4,
      netif_fe_interface_status_t: 18,
      netif_fe_driver_status_t: 8,
      netif_fe_interface_connect_t: 24,
      netif_fe_interface_disconnect_t: 4,
      netif_fe_interface_query_t: 18,
      netif_be_create_t: 20,
      netif_be_destroy_t: 12,
      netif_be_connect_t: 32,
      netif_be_disconnect_t: 12,
      netif_be_driver_status_t: 4,
      mem_request_t: 8,
    });
    for (const s of A.PAYLOAD_STRUCTS) {
      expect(s.size).toBeLessThanOrEqual(60);
      expectTiles(s.layout, s.size); // packed: the fields (with padding) cover every byte
    }
  });

  it('blkif_fe_interface_status_t: handle@0 status@4 evtchn u16@8 domid u16@10', () => {
    const b = A.BLKIF_FE_INTERFACE_STATUS.encode({ handle: 0x01020304, status: A.BLKIF_INTERFACE_STATUS_CONNECTED, evtchn: 0x0506, domid: 0x0708 });
    expect([...b]).toEqual([4, 3, 2, 1, 2, 0, 0, 0, 6, 5, 8, 7]);
    expect(A.BLKIF_FE_INTERFACE_STATUS.decode(b)).toEqual({ handle: 0x01020304, status: 2, evtchn: 0x0506, domid: 0x0708 });
  });

  it('blkif_fe_driver_status_t: status@0 max_handle@4', () => {
    const b = A.BLKIF_FE_DRIVER_STATUS.encode({ status: A.BLKIF_DRIVER_STATUS_UP, max_handle: 3 });
    expect([u32(b, 0), u32(b, 4)]).toEqual([1, 3]);
  });

  it('blkif_fe_interface_connect_t: handle@0, pad, shmem_frame@8 then MEMORY_PADDING', () => {
    const b = A.BLKIF_FE_INTERFACE_CONNECT.encode({ handle: 9, shmem_frame: 0xabcdef });
    expect([u32(b, 0), u32(b, 4), u32(b, 8), u32(b, 12)]).toEqual([9, 0, 0xabcdef, 0]);
    expect(A.BLKIF_FE_INTERFACE_CONNECT.decode(b)).toEqual({ handle: 9, shmem_frame: 0xabcdef });
  });

  it('blkif_fe_interface_disconnect_t and _query_t', () => {
    expect(u32(A.BLKIF_FE_INTERFACE_DISCONNECT.encode({ handle: 77 }), 0)).toBe(77);
    const q = A.BLKIF_FE_INTERFACE_QUERY.encode({ handle: 1, status: 2, evtchn: 3, domid: 4 });
    expect([u32(q, 0), u32(q, 4), u16(q, 8), u16(q, 10)]).toEqual([1, 2, 3, 4]);
  });

  it('blkif_be_create/destroy/disconnect_t: domid u16@0, pad@2, blkif_handle@4, status@8', () => {
    for (const s of [A.BLKIF_BE_CREATE, A.BLKIF_BE_DESTROY, A.BLKIF_BE_DISCONNECT]) {
      const b = s.encode({ domid: 0x1234, blkif_handle: 5, status: A.BLKIF_BE_STATUS_INTERFACE_EXISTS });
      expect([u16(b, 0), u16(b, 2), u32(b, 4), u32(b, 8)]).toEqual([0x1234, 0, 5, 2]);
      expect(s.decode(b)).toEqual({ domid: 0x1234, blkif_handle: 5, status: 2 });
    }
  });

  it('blkif_be_connect_t: shmem_frame@8 (+pad), evtchn u32@16, status@20', () => {
    const b = A.BLKIF_BE_CONNECT.encode({ domid: 3, blkif_handle: 0, shmem_frame: 0x5000, evtchn: 0x10002, status: 0 });
    expect([u16(b, 0), u32(b, 4), u32(b, 8), u32(b, 12), u32(b, 16), u32(b, 20)]).toEqual([3, 0, 0x5000, 0, 0x10002, 0]);
  });

  it('blkif_be_vbd_create_t: vdevice@8 readonly@10 status@12; destroy/shrink pad at 10', () => {
    const c = A.BLKIF_BE_VBD_CREATE.encode({ domid: 1, blkif_handle: 2, vdevice: 0x301, readonly: 1, status: 5 });
    expect([u16(c, 0), u32(c, 4), u16(c, 8), u16(c, 10), u32(c, 12)]).toEqual([1, 2, 0x301, 1, 5]);
    for (const s of [A.BLKIF_BE_VBD_DESTROY, A.BLKIF_BE_VBD_SHRINK]) {
      const b = s.encode({ domid: 1, blkif_handle: 2, vdevice: 0x302, status: 6 });
      expect([u16(b, 8), u16(b, 10), u32(b, 12)]).toEqual([0x302, 0, 6]);
      expect(s.fields.map((fl) => fl.name)).toContain('__pad1');
    }
  });

  it('blkif_be_vbd_grow_t: the 20-byte extent at 8 (u64 sectors), vdevice@28, status@32', () => {
    const b = A.BLKIF_BE_VBD_GROW.encode({
      domid: 2,
      blkif_handle: 0,
      'extent.sector_start': 0x1_0000_0002n,
      'extent.sector_length': 2048n,
      'extent.device': 0x0803,
      vdevice: 0x0301,
      status: 0,
    });
    const v = new DataView(b.buffer);
    expect(v.getBigUint64(8, true)).toBe(0x1_0000_0002n);
    expect(v.getBigUint64(16, true)).toBe(2048n);
    expect([u16(b, 24), u16(b, 26), u16(b, 28), u16(b, 30), u32(b, 32)]).toEqual([0x0803, 0, 0x0301, 0, 0]);
    expect(A.BLKIF_BE_VBD_GROW.decode(b)['extent.sector_start']).toBe(0x1_0000_0002n);
    const e = A.BLKIF_EXTENT.encode({ sector_start: 1n, sector_length: 2n, device: 3 });
    expect([...e.subarray(0, 1), ...e.subarray(8, 9), u16(e, 16)]).toEqual([1, 2, 3]);
  });

  it('blkif_be_driver_status_t and netif_be_driver_status_t: one u32', () => {
    expect(u32(A.BLKIF_BE_DRIVER_STATUS.encode({ status: 1 }), 0)).toBe(1);
    expect(u32(A.NETIF_BE_DRIVER_STATUS.encode({ status: 1 }), 0)).toBe(1);
  });

  it('netif_fe_interface_status_t and _query_t: evtchn u16@8, mac[6]@10, domid u16@16', () => {
    const mac = Uint8Array.of(0xaa, 0x00, 0x00, 0x12, 0x34, 0x56);
    for (const s of [A.NETIF_FE_INTERFACE_STATUS, A.NETIF_FE_INTERFACE_QUERY]) {
      const b = s.encode({ handle: 1, status: A.NETIF_INTERFACE_STATUS_CONNECTED, evtchn: 12, mac, domid: 0 });
      expect([u32(b, 0), u32(b, 4), u16(b, 8), ...b.subarray(10, 16), u16(b, 16)]).toEqual([1, 2, 12, ...mac, 0]);
      expect(s.decode(b).mac).toEqual(mac);
    }
  });

  it('netif_fe_driver_status_t, _interface_connect_t (tx@8, rx@16 with pads), _disconnect_t', () => {
    const d = A.NETIF_FE_DRIVER_STATUS.encode({ status: 1, max_handle: 0 });
    expect([u32(d, 0), u32(d, 4)]).toEqual([1, 0]);
    const c = A.NETIF_FE_INTERFACE_CONNECT.encode({ handle: 0, tx_shmem_frame: 0x111, rx_shmem_frame: 0x222 });
    expect([u32(c, 0), u32(c, 4), u32(c, 8), u32(c, 12), u32(c, 16), u32(c, 20)]).toEqual([0, 0, 0x111, 0, 0x222, 0]);
    expect(u32(A.NETIF_FE_INTERFACE_DISCONNECT.encode({ handle: 4 }), 0)).toBe(4);
  });

  it('netif_be_create_t: mac[6]@8, pad@14, status@16; destroy/disconnect 12 bytes', () => {
    const mac = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const b = A.NETIF_BE_CREATE.encode({ domid: 7, netif_handle: 1, mac, status: 3 });
    expect([u16(b, 0), u32(b, 4), ...b.subarray(8, 14), u16(b, 14), u32(b, 16)]).toEqual([7, 1, ...mac, 0, 3]);
    for (const s of [A.NETIF_BE_DESTROY, A.NETIF_BE_DISCONNECT]) {
      const x = s.encode({ domid: 7, netif_handle: 1, status: 4 });
      expect([u16(x, 0), u32(x, 4), u32(x, 8)]).toEqual([7, 1, 4]);
    }
  });

  it('netif_be_connect_t: tx@8 rx@16 (each + pad), evtchn u16@24, pad@26, status@28', () => {
    const b = A.NETIF_BE_CONNECT.encode({ domid: 2, netif_handle: 0, tx_shmem_frame: 0xa, rx_shmem_frame: 0xb, evtchn: 0xffff, status: 0 });
    expect([u16(b, 0), u32(b, 8), u32(b, 12), u32(b, 16), u32(b, 20), u16(b, 24), u16(b, 26), u32(b, 28)]).toEqual([2, 0xa, 0, 0xb, 0, 0xffff, 0, 0]);
  });

  it('mem_request_t: target@0 (pages), status@4', () => {
    const b = A.MEM_REQUEST.encode({ target: 64 * 256, status: 0 });
    expect([u32(b, 0), u32(b, 4)]).toEqual([16384, 0]);
  });

  it('decode reads a short payload as zero-filled and ignores bytes past the struct', () => {
    expect(A.MEM_REQUEST.decode(Uint8Array.of(5))).toEqual({ target: 5, status: 0 });
    expect(A.BLKIF_BE_DRIVER_STATUS.decode(Uint8Array.of(1, 0, 0, 0, 9, 9))).toEqual({ status: 1 });
  });

  it('payloadStruct maps each (type, subtype) with a struct; console, shutdown and unknown pairs have none', () => {
    expect(A.payloadStruct(A.CMSG_BLKIF_BE, A.CMSG_BLKIF_BE_CONNECT)).toBe(A.BLKIF_BE_CONNECT);
    expect(A.payloadStruct(A.CMSG_NETIF_FE, A.CMSG_NETIF_FE_INTERFACE_QUERY)).toBe(A.NETIF_FE_INTERFACE_QUERY);
    expect(A.payloadStruct(A.CMSG_MEM_REQUEST, A.CMSG_MEM_REQUEST_SET)).toBe(A.MEM_REQUEST);
    expect(A.payloadStruct(A.CMSG_CONSOLE, A.CMSG_CONSOLE_DATA)).toBeUndefined();
    expect(A.payloadStruct(A.CMSG_SHUTDOWN, A.CMSG_SHUTDOWN_POWEROFF)).toBeUndefined();
    expect(A.payloadStruct(9, 0)).toBeUndefined();
    let mapped = 0;
    for (let t = 0; t < 8; t++) for (let s = 0; s < 64; s++) if (A.payloadStruct(t, s)) mapped++;
    expect(mapped).toBe(25); // every struct but blkif_extent_t, which is only ever embedded
  });

  it('layout tables carry a description for every field', () => {
    for (const table of [A.CONTROL_MSG_LAYOUT, A.controlIfLayout(), ...A.PAYLOAD_STRUCTS.map((s) => s.layout)]) {
      for (const fl of table) expect(fl.description.length, fl.field).toBeGreaterThan(0);
    }
  });
});
