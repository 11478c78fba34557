/**
 * Watches (tools/xenstored/watch.c, fire_watches, send_event): fired once
 * when set and on every change at or under the path, relative watches
 * answered relative, depth limits, permission to see the change, special
 * @introduceDomain / @releaseDomain events, duplicate suppression.
 */
import { describe, expect, it } from 'vitest';
import { latin1, XS_MKDIR, XS_RM, XS_SET_PERMS, XS_WATCH, XS_WRITE } from '../../src/core/abi/xs_wire.js';
import { isChild } from '../../src/core/tools/xs_watch.js';
import { answer, XsRig, type RigGuest } from './xenstore_rig.js';

function watchOn(r: XsRig, g: RigGuest, path: string, token: string): string[] {
  const seen: string[] = [];
  expect(r.run<void>((cb) => g.bus.watch(path, token, (p, t) => seen.push(`${p} ${t}`), cb)).err).toBeUndefined();
  return seen;
}

describe('is_child', () => {
  it('matches the path itself and anything below, at a component boundary', () => {
    expect(isChild('/a/b', '/a', -1)).toBe(true);
    expect(isChild('/a', '/a', -1)).toBe(true);
    expect(isChild('/ab', '/a', -1)).toBe(false);
    expect(isChild('/a', '/a/b', -1)).toBe(false);
    expect(isChild('/anything', '/', -1)).toBe(true);
  });

  it('with a depth, at most that many levels below', () => {
    expect(isChild('/a', '/a', 0)).toBe(true);
    expect(isChild('/a/b', '/a', 0)).toBe(false);
    expect(isChild('/a/b', '/a', 1)).toBe(true);
    expect(isChild('/a/b/c', '/a', 1)).toBe(false);
    expect(isChild('/a/b/c', '/a', 2)).toBe(true);
    // Under "/" the first level already counts as one.
    expect(isChild('/', '/', 0)).toBe(true);
    expect(isChild('/x', '/', 0)).toBe(false);
    expect(isChild('/x', '/', 1)).toBe(true);
    expect(isChild('/x/y', '/', 1)).toBe(false);
    expect(isChild('@releaseDomain/5', '@releaseDomain', 1)).toBe(true);
  });
});

describe('a watch fires', () => {
  it('once when set, even on a node that does not exist', () => {
    const r = new XsRig();
    const g = r.guest(1);
    expect(watchOn(r, g, '/local/domain/1/data/none', 'tok')).toEqual(['/local/domain/1/data/none tok']);
  });

  it('on a write at the path or below, not above or beside', () => {
    const r = new XsRig();
    const g = r.guest(1);
    const seen = watchOn(r, g, 'data/w', 'tok');
    seen.length = 0;
    for (const p of ['data/w', 'data/w/x/y', 'data/wx', 'data/v', 'data']) r.run<void>((cb) => g.bus.write(p, '1', cb));
    expect(seen).toEqual(['data/w tok', 'data/w/x/y tok']);
  });

  it('answers a relative watch with relative paths, an absolute one with absolute paths', () => {
    const r = new XsRig();
    const g = r.guest(1);
    const rel = watchOn(r, g, 'data', 'rel');
    const abs = watchOn(r, g, '/local/domain/1/data', 'abs');
    r.run<void>((cb) => g.bus.write('data/k', 'v', cb));
    expect(rel).toEqual(['data rel', 'data/k rel']);
    expect(abs).toEqual(['/local/domain/1/data abs', '/local/domain/1/data/k abs']);
  });

  it('on mkdir of a new node, not of an existing one; on set_perms; on rm of the node or an ancestor', () => {
    const r = new XsRig();
    r.call(XS_WATCH, ['/x/y', 't']);
    r.socketEvents();
    r.call(XS_MKDIR, ['/x/y']);
    r.call(XS_MKDIR, ['/x/y']);
    r.call(XS_SET_PERMS, ['/x/y', 'n0']);
    r.call(XS_RM, ['/x']);
    expect(r.socketEvents()).toEqual([
      ['/x/y', 't'],
      ['/x/y', 't'],
      ['/x/y', 't'],
    ]);
  });

  it('for every change a dom0 write makes: one event per watch per write, in connection order', () => {
    const r = new XsRig();
    const a = r.guest(1);
    const b = r.guest(2);
    r.call(XS_SET_PERMS, ['/local/domain/1/data', 'n1', 'r2']);
    const sa = watchOn(r, a, '/local/domain/1/data', 'A');
    const sb = watchOn(r, b, '/local/domain/1/data', 'B');
    r.call(XS_WRITE, latin1('/local/domain/1/data/z\0q'));
    expect(sa.slice(1)).toEqual(['/local/domain/1/data/z A']);
    expect(sb.slice(1)).toEqual(['/local/domain/1/data/z B']);
  });
});

describe('watch depth (XENSTORE_SERVER_FEATURE_WATCHDEPTH)', () => {
  it('a depth-0 watch sees only the node itself; depth 1 one level more', () => {
    const r = new XsRig();
    r.call(XS_WATCH, ['/d', 't0', '0']);
    r.call(XS_WATCH, ['/d', 't1', '1']);
    r.socketEvents();
    for (const p of ['/d', '/d/a', '/d/a/b']) r.call(XS_WRITE, latin1(`${p}\0v`));
    expect(r.socketEvents()).toEqual([
      ['/d', 't0'],
      ['/d', 't1'],
      ['/d/a', 't1'],
    ]);
  });
});

describe('permission to see the change (watch_permitted)', () => {
  it('a guest hears nothing of a node neither it nor its parent lets it read', () => {
    const r = new XsRig();
    const g = r.guest(1);
    r.call(XS_MKDIR, ['/priv']);
    const seen = watchOn(r, g, '/priv', 'p');
    r.call(XS_WRITE, latin1('/priv/x\0s'));
    r.call(XS_WRITE, latin1('/priv\0s'));
    expect(seen).toEqual(['/priv p']);
  });

  it('readable parent is enough; and losing read access still brings the event that took it away', () => {
    const r = new XsRig();
    const g = r.guest(1);
    r.call(XS_MKDIR, ['/pub/x']);
    r.call(XS_SET_PERMS, ['/pub', 'n0', 'r1']);
    r.call(XS_SET_PERMS, ['/pub/x', 'n0', 'r1']);
    const seen = watchOn(r, g, '/pub', 'p');
    r.call(XS_SET_PERMS, ['/pub/x', 'n0']);
    r.call(XS_WRITE, latin1('/pub/x\0v')); // /pub/x unreadable, but its parent /pub is readable
    r.call(XS_SET_PERMS, ['/pub', 'n0']);
    r.call(XS_WRITE, latin1('/pub\0v'));
    expect(seen).toEqual(['/pub p', '/pub/x p', '/pub/x p', '/pub p']);
  });
});

describe('special watches', () => {
  it('@introduceDomain fires for a new domain (bare name), @introduceDomain/<id> with a depth watch', () => {
    const r = new XsRig();
    r.call(XS_WATCH, ['@introduceDomain', 'i']);
    r.call(XS_WATCH, ['@introduceDomain', 'd', '1']);
    r.socketEvents();
    r.guest(4, { home: false });
    expect(r.socketEvents()).toEqual([
      ['@introduceDomain', 'i'],
      ['@introduceDomain/4', 'd'],
    ]);
  });

  it('a guest may watch @releaseDomain (readable by DOMID_ANY) but hears nothing on @introduceDomain (dom0 only)', () => {
    const r = new XsRig();
    const g = r.guest(1);
    const rel = watchOn(r, g, '@releaseDomain', 'rel');
    const intro = watchOn(r, g, '@introduceDomain', 'intro');
    r.guest(2);
    r.call(9, ['2']);
    expect(rel).toEqual(['@releaseDomain rel', '@releaseDomain rel']);
    expect(intro).toEqual(['@introduceDomain intro']);
  });

  it('shutdown fires @releaseDomain/<id> then @releaseDomain; death fires both and removes the domain', () => {
    const r = new XsRig();
    r.guest(5);
    r.call(XS_WATCH, ['@releaseDomain', 'bare']);
    r.call(XS_WATCH, ['@releaseDomain', 'deep', '1']);
    r.socketEvents();
    r.xsd.domainShutdown(5);
    expect(r.socketEvents()).toEqual([
      ['@releaseDomain/5', 'deep'],
      ['@releaseDomain', 'bare'],
    ]);
    r.xsd.domainDied(5);
    expect(r.socketEvents()).toEqual([
      ['@releaseDomain', 'bare'],
      ['@releaseDomain/5', 'deep'],
    ]);
    expect(r.xsd.domains.has(5)).toBe(false);
  });
});

describe('send_event', () => {
  it('drops an event identical to one still waiting to go out, but not for "@" paths', () => {
    const r = new XsRig();
    const g = r.guest(1);
    r.guest(3, { home: false });
    r.guest(4, { home: false });
    r.call(XS_WRITE, latin1(`/local/domain/1/data/big\0${'x'.repeat(1500)}`));
    const seen = watchOn(r, g, 'data', 'w');
    const rel = watchOn(r, g, '@releaseDomain', 'rel');
    // A reply bigger than the ring fills it; the guest does not take it yet, so what follows waits in xenstored.
    let got = 0;
    g.bus.read('data/big', (_e, v) => (got = v.length));
    r.xsd.onNotify(1);
    r.sock.send(XS_WRITE, latin1('/local/domain/1/data/a\0x'), 900);
    r.sock.send(XS_WRITE, latin1('/local/domain/1/data/a\0y'), 901);
    r.sock.send(9, latin1('3\0'), 902);
    r.sock.send(XS_WRITE, latin1('/local/domain/1/data/a\0z'), 903);
    r.sock.send(9, latin1('4\0'), 904);
    r.settle();
    expect(got).toBe(1500);
    expect(seen).toEqual(['data w', 'data/a w']);
    expect(rel).toEqual(['@releaseDomain rel', '@releaseDomain rel', '@releaseDomain rel']);
    expect(r.log.filter((l) => l.startsWith('dropping duplicate watch'))).toHaveLength(2);
  });

  it('a watch event too long for a payload is not sent at all', () => {
    const r = new XsRig();
    const token = 't'.repeat(4000);
    expect(answer(r.call(XS_WATCH, ['/long', token]))).toBe('OK');
    expect(r.socketEvents()).toHaveLength(1); // "/long\0<token>\0": 4007 bytes
    r.call(XS_WRITE, latin1(`/long/${'a'.repeat(100)}\0v`));
    expect(r.socketEvents()).toHaveLength(0); // 4108 bytes: dropped
  });
});
