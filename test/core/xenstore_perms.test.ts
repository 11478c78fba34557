/**
 * Node permissions as xenstored checks them (perm_for_conn, get_node,
 * errno_from_parents, construct_node, do_set_perms): owner plus per-domain
 * r/w/b/n entries, dom0 may do anything, the owner entry's bits are
 * everyone else's, and a domain learns nothing of nodes it may not see.
 */
import { describe, expect, it } from 'vitest';
import { latin1, XS_GET_PERMS, XS_MKDIR, XS_SET_PERMS, XS_WRITE } from '../../src/core/abi/xs_wire.js';
import { parsePerm, permToString, strtol0 } from '../../src/core/tools/xs_store.js';
import { answer, XsRig } from './xenstore_rig.js';

function setup() {
  const r = new XsRig();
  const a = r.guest(1);
  const b = r.guest(2);
  r.call(XS_MKDIR, ['/n']);
  return { r, a, b };
}

function perms(r: XsRig, path: string, ...p: string[]): void {
  expect(answer(r.call(XS_SET_PERMS, [path, ...p]))).toBe('OK');
}

describe('perm_for_conn', () => {
  it('"n0": nobody but dom0', () => {
    const { r, a } = setup();
    perms(r, '/n', 'n0');
    expect(r.run<string>((cb) => a.bus.read('/n', cb)).err).toBe('EACCES');
  });

  it('the owner entry bits are everyone else\'s: "r0" lets every domain read, not write', () => {
    const { r, a, b } = setup();
    perms(r, '/n', 'r0');
    expect(r.run<string>((cb) => a.bus.read('/n', cb)).err).toBeUndefined();
    expect(r.run<string>((cb) => b.bus.read('/n', cb)).err).toBeUndefined();
    expect(r.run<void>((cb) => a.bus.write('/n', 'x', cb)).err).toBe('EACCES');
  });

  it('a later entry for the domain wins over the default: n0 w1 b2', () => {
    const { r, a, b } = setup();
    perms(r, '/n', 'n0', 'w1', 'b2');
    expect(r.run<string>((cb) => a.bus.read('/n', cb)).err).toBe('EACCES');
    expect(r.run<void>((cb) => a.bus.write('/n', 'x', cb)).err).toBeUndefined();
    expect(r.run<string>((cb) => b.bus.read('/n', cb)).value).toBe('x');
  });

  it('the first matching entry decides: n0 r1 b1 leaves domain 1 read-only', () => {
    const { r, a } = setup();
    perms(r, '/n', 'n0', 'r1', 'b1');
    expect(r.run<string>((cb) => a.bus.read('/n', cb)).err).toBeUndefined();
    expect(r.run<void>((cb) => a.bus.write('/n', 'x', cb)).err).toBe('EACCES');
  });

  it('the owner may do anything whatever its own bits say ("n1" owned by 1)', () => {
    const { r, a, b } = setup();
    perms(r, '/n', 'n1');
    expect(r.run<void>((cb) => a.bus.write('/n', 'mine', cb)).err).toBeUndefined();
    expect(r.run<string>((cb) => a.bus.read('/n', cb)).value).toBe('mine');
    expect(r.run<string>((cb) => b.bus.read('/n', cb)).err).toBe('EACCES');
  });

  it('DOMID_ANY (32757) in an entry matches every domain', () => {
    const { r, a, b } = setup();
    perms(r, '/n', 'n0', 'r32757');
    expect(r.run<string>((cb) => a.bus.read('/n', cb)).err).toBeUndefined();
    expect(r.run<string>((cb) => b.bus.read('/n', cb)).err).toBeUndefined();
  });

  it('dom0 ignores every entry', () => {
    const { r } = setup();
    perms(r, '/n', 'n5');
    expect(answer(r.call(XS_WRITE, latin1('/n\0dom0')))).toBe('OK');
  });
});

describe('what a missing node tells (errno_from_parents)', () => {
  it('ENOENT if the nearest existing parent grants the access asked for, EACCES if not', () => {
    const { r, a } = setup();
    perms(r, '/n', 'n0', 'r1');
    expect(r.run<string>((cb) => a.bus.read('/n/x/y', cb)).err).toBe('ENOENT');
    perms(r, '/n', 'n0');
    expect(r.run<string>((cb) => a.bus.read('/n/x/y', cb)).err).toBe('EACCES');
    // Writing asks for write on the parent: read access to it is not enough to learn ENOENT.
    perms(r, '/n', 'n0', 'r1');
    expect(r.run<void>((cb) => a.bus.rm('/n/x/y', cb)).err).toBe('EACCES');
  });
});

describe('construct_node: who owns what is created', () => {
  it('a guest owns the nodes it creates, parents included, with the rest of the entries copied', () => {
    const { r, a } = setup();
    perms(r, '/n', 'n0', 'b1', 'r2');
    expect(r.run<void>((cb) => a.bus.write('/n/a/b', 'v', cb)).err).toBeUndefined();
    expect(r.call(XS_GET_PERMS, ['/n/a']).text).toBe('n1\0b1\0r2\0');
    expect(r.call(XS_GET_PERMS, ['/n/a/b']).text).toBe('n1\0b1\0r2\0');
  });

  it('dom0 keeps the parent permissions as they are', () => {
    const { r } = setup();
    perms(r, '/n', 'r7', 'w3');
    r.call(XS_WRITE, latin1('/n/c/d\0v'));
    expect(r.call(XS_GET_PERMS, ['/n/c/d']).text).toBe('r7\0w3\0');
  });
});

describe('do_set_perms', () => {
  it('only the owner (or dom0) may: a domain with write access but not ownership gets EACCES', () => {
    const { r, a, b } = setup();
    perms(r, '/n', 'n1', 'b2');
    expect(r.run<void>((cb) => b.bus.setPerms('/n', ['n1', 'r2'], cb)).err).toBe('EACCES');
    expect(r.run<void>((cb) => a.bus.setPerms('/n', ['n1', 'r2'], cb)).err).toBeUndefined();
  });

  it('a guest may not give its node away: EPERM', () => {
    const { r, a } = setup();
    perms(r, '/n', 'n1');
    expect(r.run<void>((cb) => a.bus.setPerms('/n', ['n2'], cb)).err).toBe('EPERM');
    expect(r.call(XS_GET_PERMS, ['/n']).text).toBe('n1\0');
  });

  it('a guest may not use DOMID_ANY without the feature: the entry is ignored', () => {
    const { r, a } = setup();
    perms(r, '/n', 'n1');
    r.call(24, ['3', '2']); // SET_FEATURE before domain 3 exists: error only
    const c = r.guest(3);
    expect(r.run<void>((cb) => c.bus.write('data/x', '1', cb)).err).toBeUndefined();
    expect(r.run<void>((cb) => c.bus.setPerms('data/x', ['n3', 'r32757'], cb)).err).toBeUndefined();
    expect(r.run<string>((cb) => a.bus.read('/local/domain/3/data/x', cb)).err).toBe('EACCES');
  });
});

describe('permission strings', () => {
  it('formats r, w, b, n and the id as a C int; the ignore bit is not shown', () => {
    expect(permToString({ id: 3, perms: 1 })).toBe('r3');
    expect(permToString({ id: 3, perms: 2 })).toBe('w3');
    expect(permToString({ id: 3, perms: 3 })).toBe('b3');
    expect(permToString({ id: 3, perms: 0 })).toBe('n3');
    expect(permToString({ id: 3, perms: 1 | 16 })).toBe('r3');
    expect(permToString({ id: 0xffffffff, perms: 0 })).toBe('n-1');
    expect(permToString({ id: 3, perms: 8 })).toBeUndefined();
  });

  it('parses with strtol base 0', () => {
    expect(parsePerm('b12')).toEqual({ id: 12, perms: 3 });
    expect(parsePerm('r0x1f')).toEqual({ id: 31, perms: 1 });
    expect(parsePerm('w017')).toEqual({ id: 15, perms: 2 });
    expect(parsePerm('n-1')).toEqual({ id: 0xffffffff, perms: 0 });
    expect(parsePerm('n 5')).toEqual({ id: 5, perms: 0 });
    for (const bad of ['', 'x1', 'r', 'r1 ', 'r08', 'r0x', 'r1a']) expect(parsePerm(bad), bad).toBeUndefined();
    expect(strtol0('+7')).toBe(7);
  });
});
