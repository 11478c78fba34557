/**
 * The xenstore and xenbus ABI (xen/include/public/io/xs_wire.h, io/xenbus.h;
 * reference section 11): message numbers, the 16-byte header, the ring page
 * at its byte offsets, limits, features and the errno-name table.
 */
import { describe, expect, it } from 'vitest';
import * as X from '../../src/core/abi/xs_wire.js';
import {
  backendPath,
  consolePath,
  domainPath,
  frontendPath,
  parseXenbusState,
  XENBUS_STATE_NAMES,
  xenbusStateName,
  XenbusStateClosed,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitialising,
  XenbusStateInitWait,
  XenbusStateReconfigured,
  XenbusStateReconfiguring,
  XenbusStateUnknown,
} from '../../src/core/abi/xenbus.js';

function u32(p: Uint8Array, at: number): number {
  return new DataView(p.buffer, p.byteOffset).getUint32(at, true);
}

describe('enum xsd_sockmsg_type', () => {
  it('numbers every type as xs_wire.h does, 20 left empty for the removed XS_RESTRICT', () => {
    const expected: [string, number][] = [
      ['XS_CONTROL', 0],
      ['XS_DIRECTORY', 1],
      ['XS_READ', 2],
      ['XS_GET_PERMS', 3],
      ['XS_WATCH', 4],
      ['XS_UNWATCH', 5],
      ['XS_TRANSACTION_START', 6],
      ['XS_TRANSACTION_END', 7],
      ['XS_INTRODUCE', 8],
      ['XS_RELEASE', 9],
      ['XS_GET_DOMAIN_PATH', 10],
      ['XS_WRITE', 11],
      ['XS_MKDIR', 12],
      ['XS_RM', 13],
      ['XS_SET_PERMS', 14],
      ['XS_WATCH_EVENT', 15],
      ['XS_ERROR', 16],
      ['XS_IS_DOMAIN_INTRODUCED', 17],
      ['XS_RESUME', 18],
      ['XS_SET_TARGET', 19],
      ['XS_RESET_WATCHES', 21],
      ['XS_DIRECTORY_PART', 22],
      ['XS_GET_FEATURE', 23],
      ['XS_SET_FEATURE', 24],
      ['XS_GET_QUOTA', 25],
      ['XS_SET_QUOTA', 26],
    ];
    for (const [name, n] of expected) {
      expect((X as unknown as Record<string, number>)[name], name).toBe(n);
      expect(X.xsTypeName(n)).toBe(name);
      expect(X.xsTypeByName(name)).toBe(n);
    }
    expect(X.XS_DEBUG).toBe(X.XS_CONTROL);
    expect(X.xsTypeByName('XS_DEBUG')).toBe(0);
    expect(X.XS_TYPE_COUNT).toBe(27);
    expect(X.XS_INVALID).toBe(0xffff);
    expect(X.xsTypeName(20)).toBe('type 20');
    expect(X.xsTypeName(27)).toBe('type 27');
    expect(X.xsTypeByName('XS_RESTRICT')).toBeUndefined();
    expect([X.XS_WATCH_PATH, X.XS_WATCH_TOKEN]).toEqual([0, 1]);
  });
});

describe('errors as names (xsd_errors)', () => {
  it('lists the sixteen errnos in the header order, with Xen errno values', () => {
    expect(X.XSD_ERRORS.map((e) => e.name)).toEqual([
      'EINVAL',
      'EACCES',
      'EEXIST',
      'EISDIR',
      'ENOENT',
      'ENOMEM',
      'ENOSPC',
      'EIO',
      'ENOTEMPTY',
      'ENOSYS',
      'EROFS',
      'EBUSY',
      'EAGAIN',
      'EISCONN',
      'E2BIG',
      'EPERM',
    ]);
    expect(X.XSD_ERRORS.map((e) => e.errnum)).toEqual([22, 13, 17, 21, 2, 12, 28, 5, 39, 38, 30, 16, 11, 106, 7, 1]);
  });

  it('maps an errno to its name and back; an untranslatable one becomes EINVAL', () => {
    expect(X.xsdErrorName(2)).toBe('ENOENT');
    expect(X.xsdErrorName(11)).toBe('EAGAIN');
    expect(X.xsdErrorName(95)).toBe('EINVAL'); // EOPNOTSUPP is not in the table
    expect(X.xsdErrorValue('EACCES')).toBe(13);
    expect(X.xsdErrorValue('EWHATEVER')).toBeUndefined();
  });
});

describe('struct xsd_sockmsg', () => {
  it('is four little-endian u32s: type, req_id, tx_id, len', () => {
    expect([X.XSD_SOCKMSG_TYPE, X.XSD_SOCKMSG_REQ_ID, X.XSD_SOCKMSG_TX_ID, X.XSD_SOCKMSG_LEN, X.XSD_SOCKMSG_SIZE]).toEqual([0, 4, 8, 12, 16]);
    const m = X.encodeSockmsg(X.XS_WRITE, 0x01020304, 0xa0b0c0d0, X.nulStrings('a'));
    expect([...m.subarray(0, 16)]).toEqual([11, 0, 0, 0, 4, 3, 2, 1, 0xd0, 0xc0, 0xb0, 0xa0, 2, 0, 0, 0]);
    expect([...m.subarray(16)]).toEqual([0x61, 0]);
    expect(X.readSockmsg(m)).toEqual({ type: 11, reqId: 0x01020304, txId: 0xa0b0c0d0, len: 2 });
    expect(X.XSD_SOCKMSG_LAYOUT.map((f) => [f.field, f.offset, f.size])).toEqual([
      ['type', 0, 4],
      ['req_id', 4, 4],
      ['tx_id', 8, 4],
      ['len', 12, 4],
    ]);
  });

  it('writes a header at an offset without touching its neighbours', () => {
    const b = new Uint8Array(24).fill(0xee);
    X.writeSockmsg(b, { type: 2, reqId: 3, txId: 4, len: 5 }, 4);
    expect([...b.subarray(0, 4)]).toEqual([0xee, 0xee, 0xee, 0xee]);
    expect(X.readSockmsg(b, 4)).toEqual({ type: 2, reqId: 3, txId: 4, len: 5 });
    expect([...b.subarray(20)]).toEqual([0xee, 0xee, 0xee, 0xee]);
  });
});

describe('struct xenstore_domain_interface', () => {
  it('has req[1024] @0, rsp[1024] @1024, then eight u32s from 2048', () => {
    expect(X.XENSTORE_RING_SIZE).toBe(1024);
    expect(X.XENSTORE_DOMAIN_INTERFACE_LAYOUT.map((f) => [f.field, f.offset, f.size])).toEqual([
      ['req', 0, 1024],
      ['rsp', 1024, 1024],
      ['req_cons', 2048, 4],
      ['req_prod', 2052, 4],
      ['rsp_cons', 2056, 4],
      ['rsp_prod', 2060, 4],
      ['server_features', 2064, 4],
      ['connection', 2068, 4],
      ['error', 2072, 4],
      ['evtchn_port', 2076, 4],
    ]);
    expect(X.XENSTORE_DOMAIN_INTERFACE_SIZE).toBe(2080);
    let end = 0;
    for (const f of X.XENSTORE_DOMAIN_INTERFACE_LAYOUT) {
      expect(f.offset).toBe(end);
      end = f.offset + f.size;
    }
    expect(end).toBe(2080);
  });

  it('XsRingIndexes reads and writes each field at its offset, little-endian, modulo 2^32', () => {
    const page = new Uint8Array(4096);
    const r = new X.XsRingIndexes(page);
    r.reqCons = 1;
    r.reqProd = 2;
    r.rspCons = 3;
    r.rspProd = 2 ** 32 + 4;
    r.serverFeatures = 14;
    r.connection = X.XENSTORE_RECONNECT;
    r.error = X.XENSTORE_ERROR_PROTO;
    r.evtchnPort = 0xdeadbeef;
    expect([2048, 2052, 2056, 2060, 2064, 2068, 2072, 2076].map((o) => u32(page, o))).toEqual([1, 2, 3, 4, 14, 1, 3, 0xdeadbeef]);
    expect(page[2048]).toBe(1);
    expect(page.subarray(0, 2048).every((b) => b === 0)).toBe(true);
    expect(page.subarray(2080).every((b) => b === 0)).toBe(true);
    expect([r.reqCons, r.reqProd, r.rspCons, r.rspProd, r.serverFeatures, r.connection, r.error, r.evtchnPort]).toEqual([1, 2, 3, 4, 14, 1, 3, 0xdeadbeef]);
  });

  it('masks a free-running index to the ring', () => {
    expect(X.maskXenstoreIdx(1023)).toBe(1023);
    expect(X.maskXenstoreIdx(1024)).toBe(0);
    expect(X.maskXenstoreIdx(0xffffffff)).toBe(1023);
  });

  it('has the limits, feature bits, connection and error values of the header', () => {
    expect([X.XENSTORE_PAYLOAD_MAX, X.XENSTORE_ABS_PATH_MAX, X.XENSTORE_REL_PATH_MAX]).toEqual([4096, 3072, 2048]);
    expect([
      X.XENSTORE_SERVER_FEATURE_RECONNECTION,
      X.XENSTORE_SERVER_FEATURE_ERROR,
      X.XENSTORE_SERVER_FEATURE_WATCHDEPTH,
      X.XENSTORE_SERVER_FEATURE_DOMID_ANY,
    ]).toEqual([1, 2, 4, 8]);
    expect([X.XENSTORE_CONNECTED, X.XENSTORE_RECONNECT]).toEqual([0, 1]);
    expect([X.XENSTORE_ERROR_NONE, X.XENSTORE_ERROR_COMM, X.XENSTORE_ERROR_RINGIDX, X.XENSTORE_ERROR_PROTO]).toEqual([0, 1, 2, 3]);
    expect(X.XENSTORE_ERROR_NAMES[2]).toBe('XENSTORE_ERROR_RINGIDX');
    expect([X.XS_PERM_NONE, X.XS_PERM_READ, X.XS_PERM_WRITE, X.XS_PERM_ENOENT_OK, X.XS_PERM_OWNER, X.XS_PERM_IGNORE]).toEqual([0, 1, 2, 4, 8, 16]);
  });
});

describe('payload strings', () => {
  it('joins strings each with a NUL and splits them back, dropping bytes after the last NUL', () => {
    expect([...X.nulStrings('ab', '', 'c')]).toEqual([0x61, 0x62, 0, 0, 0x63, 0]);
    expect(X.splitNulStrings(X.nulStrings('ab', '', 'c'))).toEqual(['ab', '', 'c']);
    expect(X.splitNulStrings(Uint8Array.of(0x61, 0, 0x62))).toEqual(['a']);
    expect(X.splitNulStrings(new Uint8Array(0))).toEqual([]);
  });

  it('keeps every byte value through latin1 and back', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect([...X.latin1(X.fromLatin1(all))]).toEqual([...all]);
  });
});

describe('XenbusState (io/xenbus.h)', () => {
  it('numbers the states 0..8', () => {
    expect([
      XenbusStateUnknown,
      XenbusStateInitialising,
      XenbusStateInitWait,
      XenbusStateInitialised,
      XenbusStateConnected,
      XenbusStateClosing,
      XenbusStateClosed,
      XenbusStateReconfiguring,
      XenbusStateReconfigured,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(XENBUS_STATE_NAMES[4]).toBe('XenbusStateConnected');
    expect(xenbusStateName(2)).toBe('XenbusStateInitWait');
    expect(xenbusStateName(9)).toBe('state 9');
  });

  it('parses a state value as drivers do (decimal text; garbage is Unknown)', () => {
    expect(parseXenbusState('4')).toBe(4);
    expect(parseXenbusState('6\n')).toBe(6);
    expect(parseXenbusState('x')).toBe(0);
  });

  it('builds the device paths of xenstore-paths.pandoc', () => {
    expect(domainPath(3)).toBe('/local/domain/3');
    expect(frontendPath(3, 'vif', 0)).toBe('/local/domain/3/device/vif/0');
    expect(backendPath(0, 'vbd', 3, 51712)).toBe('/local/domain/0/backend/vbd/3/51712');
    expect(consolePath(3)).toBe('/local/domain/3/console');
  });
});
