/**
 * Every xenstored request type, its success and its error paths
 * (tools/xenstored/core.c, domain.c, watch.c, transaction.c): dom0's tools
 * talk over the socket, guests over their rings.
 */
import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/core/abi/domid.js';
import {
  latin1,
  nulStrings,
  XENSTORE_CONNECTED,
  XENSTORE_RECONNECT,
  XS_CONTROL,
  XS_DIRECTORY,
  XS_DIRECTORY_PART,
  XS_ERROR,
  XS_GET_DOMAIN_PATH,
  XS_GET_FEATURE,
  XS_GET_PERMS,
  XS_GET_QUOTA,
  XS_INTRODUCE,
  XS_IS_DOMAIN_INTRODUCED,
  XS_MKDIR,
  XS_READ,
  XS_RELEASE,
  XS_RESET_WATCHES,
  XS_RESUME,
  XS_RM,
  XS_SET_FEATURE,
  XS_SET_PERMS,
  XS_SET_QUOTA,
  XS_SET_TARGET,
  XS_TRANSACTION_END,
  XS_TRANSACTION_START,
  XS_UNWATCH,
  XS_WATCH,
  XS_WATCH_EVENT,
  XS_WRITE,
  XsRingIndexes,
} from '../../src/core/abi/xs_wire.js';
import { answer, XsRig, type Reply } from './xenstore_rig.js';

/** "<path>\0<value>" as WRITE wants it. */
function wr(path: string, value: string): Uint8Array {
  return latin1(`${path}\0${value}`);
}

function isErr(r: Reply, name: string): void {
  expect(r.type, `expected ${name}, got type ${r.type} "${r.text}"`).toBe(XS_ERROR);
  expect(answer(r)).toBe(name);
}

function ok(r: Reply, type: number): void {
  expect(r.type, r.text).toBe(type);
  expect(answer(r)).toBe('OK');
}

describe('the initial tree (setup_structure)', () => {
  it('holds /, /tool, /tool/xenstored and the two special nodes, all owned by dom0', () => {
    const r = new XsRig();
    expect(r.xsd.paths()).toEqual(['/', '/tool', '/tool/xenstored', '@introduceDomain', '@releaseDomain']);
    expect(answer(r.call(XS_DIRECTORY, ['/']))).toBe('tool');
    expect(r.call(XS_GET_PERMS, ['/']).text).toBe('n0\0');
    expect(r.call(XS_GET_PERMS, ['@releaseDomain']).text).toBe('n0\0r32757\0');
    expect(r.call(XS_GET_PERMS, ['@introduceDomain']).text).toBe('n0\0');
  });
});

describe('process_message', () => {
  it('answers an unknown type, WATCH_EVENT, ERROR and the removed 20 with ENOSYS, echoing req_id and tx_id', () => {
    const r = new XsRig();
    for (const t of [20, 27, 99, 0xffff, XS_WATCH_EVENT, XS_ERROR]) isErr(r.call(t, ['x']), 'ENOSYS');
    r.sock.send(99, nulStrings('x'), 4242, 77);
    const m = r.fromSocket.pop()!;
    expect([m.type, m.reqId, m.txId]).toEqual([XS_ERROR, 4242, 77]);
  });

  it('keeps the privileged types to dom0: EACCES for a guest', () => {
    const r = new XsRig();
    const g = r.guest(1);
    for (const t of [XS_CONTROL, XS_INTRODUCE, XS_RELEASE, XS_IS_DOMAIN_INTRODUCED, XS_RESUME, XS_SET_TARGET, XS_SET_FEATURE, XS_GET_QUOTA, XS_SET_QUOTA]) {
      isErr(r.raw(g, t, ['1', '2', '3']), 'EACCES');
    }
  });

  it('answers ENOENT for a tx_id that names no open transaction; WATCH and UNWATCH ignore tx_id', () => {
    const r = new XsRig();
    isErr(r.call(XS_READ, ['/tool'], 5), 'ENOENT');
    ok(r.call(XS_WATCH, ['/tool', 't'], 5), XS_WATCH);
    ok(r.call(XS_UNWATCH, ['/tool', 't'], 5), XS_UNWATCH);
  });

  it('echoes the request tx_id in the reply', () => {
    const r = new XsRig();
    const tx = Number(answer(r.call(XS_TRANSACTION_START, [''])));
    const rep = r.call(XS_READ, ['/tool'], tx);
    expect(rep.txId).toBe(tx);
  });
});

describe('canonicalize (every path argument)', () => {
  it('refuses bad characters, a trailing or doubled slash, an empty path, a missing NUL, "@..." where not allowed: EINVAL', () => {
    const r = new XsRig();
    for (const p of ['/a b', '/a/', '/a//b', '', '/é', '@releaseDomain', '/a*']) isErr(r.call(XS_READ, [p]), 'EINVAL');
    isErr(r.call(XS_READ, latin1('/tool')), 'EINVAL'); // no NUL
    isErr(r.call(XS_READ, ['/tool', 'x']), 'EINVAL'); // two strings
    isErr(r.call(XS_READ, new Uint8Array(0)), 'EINVAL');
    expect(answer(r.call(XS_READ, ['/']))).toBe('');
  });

  it('puts a relative path under the connection home: /local/domain/0 for dom0s socket, the domain for a guest', () => {
    const r = new XsRig();
    ok(r.call(XS_WRITE, wr('rel', 'v')), XS_WRITE);
    expect(r.xsd.readValue('/local/domain/0/rel')).toBe('v');
    const g = r.guest(2);
    expect(r.run<void>((cb) => g.bus.write('data/x', 'y', cb)).err).toBeUndefined();
    expect(r.xsd.readValue('/local/domain/2/data/x')).toBe('y');
  });

  it('limits a guest path to path-max (2048) below its /local/domain/<id>/ prefix: 2047 passes, 2048 is EINVAL; dom0 is not limited', () => {
    const r = new XsRig();
    const g = r.guest(1);
    // Short components, so that no node's child list reaches the node-size quota on the way.
    const deep = ('data' + '/abcdefghi'.repeat(300)).slice(0, 2047);
    expect(deep.length).toBe(2047);
    expect(r.run<void>((cb) => g.bus.write(deep, '1', cb)).err).toBeUndefined();
    expect(r.run<void>((cb) => g.bus.write(deep + 'x', '1', cb)).err).toBe('EINVAL');
    expect(r.run<void>((cb) => g.bus.write(`/local/domain/1/${deep}x`, '1', cb)).err).toBe('EINVAL');
    // One long name, though, makes its parent's child list too big: ENOSPC before path-max matters.
    expect(r.run<void>((cb) => g.bus.write('data/' + 'a'.repeat(2030), '1', cb)).err).toBe('ENOSPC');
    ok(r.call(XS_WRITE, wr('/x/' + 'a'.repeat(3000), '1')), XS_WRITE);
  });
});

describe('XS_READ and XS_WRITE', () => {
  it('writes a value, creating the parents, and reads it back byte for byte (NULs and all)', () => {
    const r = new XsRig();
    const value = '\0\x01bin\xff';
    ok(r.call(XS_WRITE, wr('/a/b/c', value)), XS_WRITE);
    expect(r.call(XS_READ, ['/a/b/c']).text).toBe(value);
    expect(r.call(XS_READ, ['/a/b']).text).toBe('');
    expect(answer(r.call(XS_DIRECTORY, ['/a']))).toBe('b');
    ok(r.call(XS_WRITE, wr('/a/b/c', '')), XS_WRITE);
    expect(r.call(XS_READ, ['/a/b/c']).payload.length).toBe(0);
  });

  it('READ of a missing node is ENOENT; WRITE without any NUL is EINVAL', () => {
    const r = new XsRig();
    isErr(r.call(XS_READ, ['/nope']), 'ENOENT');
    isErr(r.call(XS_WRITE, latin1('/nope')), 'EINVAL');
  });

  it('a guest gets EACCES for what it may not see, ENOENT under what it may', () => {
    const r = new XsRig();
    const g = r.guest(1);
    ok(r.call(XS_WRITE, wr('/secret', 's')), XS_WRITE);
    expect(r.run<string>((cb) => g.bus.read('/secret', cb)).err).toBe('EACCES');
    expect(r.run<string>((cb) => g.bus.read('/secret/none', cb)).err).toBe('EACCES');
    expect(r.run<string>((cb) => g.bus.read('data/none', cb)).err).toBe('ENOENT');
    expect(r.run<void>((cb) => g.bus.write('/secret', 'x', cb)).err).toBe('EACCES');
  });
});

describe('XS_MKDIR', () => {
  it('makes the node and its parents with an empty value; an existing node is fine', () => {
    const r = new XsRig();
    ok(r.call(XS_MKDIR, ['/m/n']), XS_MKDIR);
    expect(r.xsd.childrenOf('/m')).toEqual(['n']);
    ok(r.call(XS_WRITE, wr('/m/n', 'keep')), XS_WRITE);
    ok(r.call(XS_MKDIR, ['/m/n']), XS_MKDIR);
    expect(r.xsd.readValue('/m/n')).toBe('keep');
  });

  it('EINVAL for a bad path, EACCES where a guest may not write', () => {
    const r = new XsRig();
    isErr(r.call(XS_MKDIR, ['/m/']), 'EINVAL');
    const g = r.guest(1);
    expect(r.run<void>((cb) => g.bus.mkdir('/m2', cb)).err).toBe('EACCES');
  });
});

describe('XS_RM', () => {
  it('removes a whole subtree and the name from its parent', () => {
    const r = new XsRig();
    for (const p of ['/r/a/1', '/r/a/2', '/r/b']) r.call(XS_WRITE, wr(p, 'x'));
    ok(r.call(XS_RM, ['/r/a']), XS_RM);
    expect(r.xsd.paths().filter((p) => p.startsWith('/r'))).toEqual(['/r', '/r/b']);
    expect(r.xsd.childrenOf('/r')).toEqual(['b']);
  });

  it('a missing node whose parent exists is fine; a missing parent is ENOENT; "/" is EINVAL', () => {
    const r = new XsRig();
    ok(r.call(XS_RM, ['/tool/none']), XS_RM);
    isErr(r.call(XS_RM, ['/none/none']), 'ENOENT');
    isErr(r.call(XS_RM, ['/']), 'EINVAL');
  });
});

describe('XS_DIRECTORY', () => {
  it('lists children in the order they were made, each with a NUL', () => {
    const r = new XsRig();
    for (const c of ['z', 'a', 'm']) r.call(XS_MKDIR, [`/d/${c}`]);
    expect(r.call(XS_DIRECTORY, ['/d']).text).toBe('z\0a\0m\0');
    expect(r.call(XS_DIRECTORY, ['/d/z']).text).toBe('');
    isErr(r.call(XS_DIRECTORY, ['/none']), 'ENOENT');
  });

  it('a reply over XENSTORE_PAYLOAD_MAX is E2BIG', () => {
    const r = new XsRig();
    for (let i = 0; i < 50; i++) r.call(XS_MKDIR, [`/big/${String(i).padStart(3, '0')}${'n'.repeat(90)}`]);
    isErr(r.call(XS_DIRECTORY, ['/big']), 'E2BIG');
  });
});

describe('XS_DIRECTORY_PART', () => {
  it('answers "<generation>\\0" then whole names from the offset, and an empty string when done', () => {
    const r = new XsRig();
    for (const c of ['aa', 'b']) r.call(XS_MKDIR, [`/p/${c}`]);
    const gen = String(r.xsd.store.nodes.get('/p')!.generation);
    expect(r.call(XS_DIRECTORY_PART, ['/p', '0']).text).toBe(`${gen}\0aa\0b\0\0`);
    expect(r.call(XS_DIRECTORY_PART, ['/p', '3']).text).toBe(`${gen}\0b\0\0`);
    expect(r.call(XS_DIRECTORY_PART, ['/p', '5']).text).toBe(`${gen}\0\0`);
  });

  it('splits a list too long for one reply; the parts rebuild it', () => {
    const r = new XsRig();
    const names = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(3, '0')}${'n'.repeat(90)}`);
    for (const n of names) r.call(XS_MKDIR, [`/big/${n}`]);
    const got: string[] = [];
    let off = 0;
    for (let guard = 0; guard < 10; guard++) {
      const parts = r.call(XS_DIRECTORY_PART, ['/big', String(off)]).text.split('\0');
      parts.shift(); // generation
      parts.pop(); // the last NUL
      const done = parts[parts.length - 1] === '';
      const chunk = done ? parts.slice(0, -1) : parts;
      got.push(...chunk);
      off += chunk.reduce((n, s) => n + s.length + 1, 0);
      if (done) break;
    }
    expect(got).toEqual(names);
  });

  it('EINVAL unless exactly two strings; ENOENT for a missing node', () => {
    const r = new XsRig();
    isErr(r.call(XS_DIRECTORY_PART, ['/tool']), 'EINVAL');
    isErr(r.call(XS_DIRECTORY_PART, ['/tool', '0', 'x']), 'EINVAL');
    isErr(r.call(XS_DIRECTORY_PART, ['/none', '0']), 'ENOENT');
  });
});

describe('XS_GET_PERMS and XS_SET_PERMS', () => {
  it('sets a list and reads it back; the special nodes are allowed', () => {
    const r = new XsRig();
    r.call(XS_MKDIR, ['/q']);
    ok(r.call(XS_SET_PERMS, ['/q', 'b5', 'r6', 'w7', 'n8']), XS_SET_PERMS);
    expect(r.call(XS_GET_PERMS, ['/q']).text).toBe('b5\0r6\0w7\0n8\0');
    ok(r.call(XS_SET_PERMS, ['@introduceDomain', 'n0', 'r3']), XS_SET_PERMS);
    expect(r.call(XS_GET_PERMS, ['@introduceDomain']).text).toBe('n0\0r3\0');
  });

  it('parses ids as strtol base 0 (hex, octal) and prints them as C ints', () => {
    const r = new XsRig();
    r.call(XS_MKDIR, ['/q']);
    ok(r.call(XS_SET_PERMS, ['/q', 'n0x10', 'r010']), XS_SET_PERMS);
    expect(r.call(XS_GET_PERMS, ['/q']).text).toBe('n16\0r8\0');
  });

  it('EINVAL for fewer than two strings or a bad entry; ENOENT for an owner that does not exist', () => {
    const r = new XsRig();
    r.call(XS_MKDIR, ['/q']);
    isErr(r.call(XS_SET_PERMS, ['/q']), 'EINVAL');
    for (const bad of ['x0', 'r', 'r1x', '', 'r08']) isErr(r.call(XS_SET_PERMS, ['/q', bad]), 'EINVAL');
    isErr(r.call(XS_SET_PERMS, ['/q', 'n32753']), 'ENOENT'); // DOMID_IO: no such domain
    isErr(r.call(XS_SET_PERMS, ['/none', 'n0']), 'ENOENT');
  });

  it('GET_PERMS: ENOENT for a missing node, EINVAL for a bad path, EACCES for a guest that may not read it', () => {
    const r = new XsRig();
    isErr(r.call(XS_GET_PERMS, ['/none']), 'ENOENT');
    isErr(r.call(XS_GET_PERMS, ['/a//b']), 'EINVAL');
    const g = r.guest(1);
    expect(r.run<string[]>((cb) => g.bus.getPerms('/tool', cb)).err).toBe('EACCES');
    expect(r.run<string[]>((cb) => g.bus.getPerms('data', cb)).value).toEqual(['n1']);
  });

  it('an entry naming a domain that does not exist is kept, marked ignored, and printed', () => {
    const r = new XsRig();
    r.call(XS_MKDIR, ['/q']);
    ok(r.call(XS_SET_PERMS, ['/q', 'n0', 'r32753']), XS_SET_PERMS);
    expect(r.call(XS_GET_PERMS, ['/q']).text).toBe('n0\0r32753\0');
    expect(r.xsd.store.nodes.get('/q')!.perms[1]!.perms).toBe(1 | 16);
  });
});

describe('XS_WATCH, XS_UNWATCH, XS_RESET_WATCHES', () => {
  it('acks, fires once at once, and refuses a duplicate path+token with EEXIST', () => {
    const r = new XsRig();
    ok(r.call(XS_WATCH, ['/w', 'tok']), XS_WATCH);
    expect(r.socketEvents()).toEqual([['/w', 'tok']]);
    isErr(r.call(XS_WATCH, ['/w', 'tok']), 'EEXIST');
    ok(r.call(XS_WATCH, ['/w', 'tok2']), XS_WATCH);
  });

  it('EINVAL for the wrong number of strings, a negative depth, a bad path', () => {
    const r = new XsRig();
    isErr(r.call(XS_WATCH, ['/w']), 'EINVAL');
    isErr(r.call(XS_WATCH, ['/w', 't', '1', 'x']), 'EINVAL');
    isErr(r.call(XS_WATCH, ['/w', 't', '-1']), 'EINVAL');
    isErr(r.call(XS_WATCH, ['/w/', 't']), 'EINVAL');
  });

  it('UNWATCH removes exactly that watch; ENOENT for none, EINVAL for the wrong shape', () => {
    const r = new XsRig();
    r.call(XS_WATCH, ['/w', 't']);
    ok(r.call(XS_UNWATCH, ['/w', 't']), XS_UNWATCH);
    isErr(r.call(XS_UNWATCH, ['/w', 't']), 'ENOENT');
    isErr(r.call(XS_UNWATCH, ['/w']), 'EINVAL');
  });

  it('RESET_WATCHES drops every watch and transaction of the connection', () => {
    const r = new XsRig();
    const g = r.guest(1);
    r.run<void>((cb) => g.bus.watch('data', 'a', () => {}, cb));
    const tx = r.run<number>((cb) => g.bus.transactionStart(cb)).value;
    expect(r.xsd.watchesOf(1)).toHaveLength(1);
    ok(r.raw(g, XS_RESET_WATCHES, ['']), XS_RESET_WATCHES);
    expect(r.xsd.watchesOf(1)).toHaveLength(0);
    isErr(r.raw(g, XS_READ, ['data'], tx), 'ENOENT');
  });
});

describe('XS_TRANSACTION_START and XS_TRANSACTION_END', () => {
  it('hands out ids from 1, answers EBUSY inside a transaction', () => {
    const r = new XsRig();
    expect(r.call(XS_TRANSACTION_START, ['']).text).toBe('1\0');
    expect(r.call(XS_TRANSACTION_START, ['']).text).toBe('2\0');
    isErr(r.call(XS_TRANSACTION_START, [''], 1), 'EBUSY');
  });

  it('END: EINVAL for anything but "T" or "F", ENOENT without a transaction; "F" discards', () => {
    const r = new XsRig();
    isErr(r.call(XS_TRANSACTION_END, ['T']), 'ENOENT');
    r.call(XS_TRANSACTION_START, ['']);
    isErr(r.call(XS_TRANSACTION_END, ['X'], 1), 'EINVAL');
    isErr(r.call(XS_TRANSACTION_END, latin1('T'), 1), 'EINVAL');
    r.call(XS_WRITE, wr('/t', 'v'), 1);
    ok(r.call(XS_TRANSACTION_END, ['F'], 1), XS_TRANSACTION_END);
    expect(r.xsd.readValue('/t')).toBeUndefined();
    isErr(r.call(XS_TRANSACTION_END, ['T'], 1), 'ENOENT');
  });
});

describe('XS_INTRODUCE', () => {
  it('connects the domain: features on the page, indexes zeroed, @introduceDomain fired', () => {
    const r = new XsRig();
    r.call(XS_WATCH, ['@introduceDomain', 'intro']);
    r.socketEvents();
    const g = r.addGuest(5);
    const idx = new XsRingIndexes(g.page);
    idx.reqProd = 77;
    idx.rspCons = 99;
    ok(r.call(XS_INTRODUCE, ['5', '1234', '15']), XS_INTRODUCE);
    expect([idx.reqCons, idx.reqProd, idx.rspCons, idx.rspProd]).toEqual([0, 0, 0, 0]);
    expect(idx.serverFeatures).toBe(14);
    expect(r.xsd.domains.get(5)!.port).toBe(1005);
    expect(r.socketEvents()).toEqual([['@introduceDomain', 'intro']]);
    expect(answer(r.call(XS_IS_DOMAIN_INTRODUCED, ['5']))).toBe('T');
  });

  it('uses the port Xen put on the page instead of the one given', () => {
    const ports: number[] = [];
    const r = new XsRig({ bindPort: (_d, p) => (ports.push(p), { port: 1, notify: () => {} }) });
    const g = r.addGuest(5);
    new XsRingIndexes(g.page).evtchnPort = 42;
    ok(r.call(XS_INTRODUCE, ['5', '0', '15']), XS_INTRODUCE);
    expect(ports).toEqual([42]);
  });

  it('again: rebinds the port and resets the connection; RECONNECT on the page becomes CONNECTED', () => {
    const r = new XsRig();
    const g = r.guest(5);
    r.run<void>((cb) => g.bus.watch('data', 'w', () => {}, cb));
    const idx = new XsRingIndexes(g.page);
    idx.connection = XENSTORE_RECONNECT;
    const before = g.sends.xsd;
    ok(r.call(XS_INTRODUCE, ['5', '0', '16']), XS_INTRODUCE);
    expect(r.xsd.watchesOf(5)).toHaveLength(0);
    expect(r.xsd.domains.get(5)!.port).toBe(1005);
    expect(idx.connection).toBe(XENSTORE_CONNECTED);
    expect(g.sends.xsd).toBe(before + 1);
  });

  it('EINVAL for fewer than three strings, a bad domid, port 0; the mapping errno when the page cannot be had', () => {
    const r = new XsRig();
    isErr(r.call(XS_INTRODUCE, ['5', '0']), 'EINVAL');
    isErr(r.call(XS_INTRODUCE, ['x', '0', '1']), 'EINVAL');
    isErr(r.call(XS_INTRODUCE, ['70000', '0', '1']), 'EINVAL');
    isErr(r.call(XS_INTRODUCE, ['5', '0', '0']), 'EINVAL');
    isErr(r.call(XS_INTRODUCE, ['5', '0', 'x']), 'EINVAL');
    isErr(r.call(XS_INTRODUCE, ['9', '0', '1']), 'EINVAL'); // the rig has no page for domain 9
    expect(answer(r.call(XS_IS_DOMAIN_INTRODUCED, ['9']))).toBe('F');
  });
});

describe('XS_RELEASE', () => {
  it('drops the connection, deletes the nodes the domain owns, forgets its entries elsewhere, fires @releaseDomain', () => {
    const unbound: number[] = [];
    const r = new XsRig({ unbindPort: (d) => unbound.push(d) });
    const g = r.guest(3);
    r.run<void>((cb) => g.bus.write('data/mine', '1', cb));
    r.call(XS_MKDIR, ['/shared']);
    r.call(XS_SET_PERMS, ['/shared', 'n0', 'r3', 'r4']);
    r.call(XS_WATCH, ['@releaseDomain', 'rel']);
    r.call(XS_WATCH, ['/local/domain/3/data', 'data']);
    r.call(XS_WATCH, ['/local/domain/3/data/mine', 'mine']);
    r.socketEvents();
    ok(r.call(XS_RELEASE, ['3']), XS_RELEASE);
    expect(r.xsd.paths().filter((p) => p.startsWith('/local/domain/3/'))).toEqual([]);
    expect(r.xsd.readValue('/local/domain/3')).toBe(''); // owned by dom0: stays
    expect(r.call(XS_GET_PERMS, ['/shared']).text).toBe('n0\0r4\0');
    // Bottom-up: the node below fires exact matches only, the top of the removed subtree fires subtree matches.
    expect(r.socketEvents()).toEqual([
      ['/local/domain/3/data/mine', 'mine'],
      ['/local/domain/3/data', 'data'],
      ['@releaseDomain', 'rel'],
    ]);
    expect(answer(r.call(XS_IS_DOMAIN_INTRODUCED, ['3']))).toBe('F');
    expect(unbound).toEqual([3]);
  });

  it('EINVAL for dom0 or a bad domid, ENOENT for a domain never introduced', () => {
    const r = new XsRig();
    isErr(r.call(XS_RELEASE, ['0']), 'EINVAL');
    isErr(r.call(XS_RELEASE, ['x']), 'EINVAL');
    isErr(r.call(XS_RELEASE, ['8']), 'ENOENT');
  });
});

describe('XS_GET_DOMAIN_PATH, XS_IS_DOMAIN_INTRODUCED, XS_RESUME, XS_SET_TARGET', () => {
  it('GET_DOMAIN_PATH answers /local/domain/<id> to anyone; EINVAL for garbage or over 65535', () => {
    const r = new XsRig();
    expect(r.call(XS_GET_DOMAIN_PATH, ['7']).text).toBe('/local/domain/7\0');
    const g = r.guest(1);
    expect(r.run<string>((cb) => g.bus.getDomainPath(1, cb)).value).toBe('/local/domain/1');
    isErr(r.call(XS_GET_DOMAIN_PATH, ['7x']), 'EINVAL');
    isErr(r.call(XS_GET_DOMAIN_PATH, ['65536']), 'EINVAL');
    isErr(r.call(XS_GET_DOMAIN_PATH, ['-1']), 'EINVAL');
  });

  it('IS_DOMAIN_INTRODUCED: "T" for DOMID_SELF', () => {
    const r = new XsRig();
    expect(r.call(XS_IS_DOMAIN_INTRODUCED, [String(DOMID_SELF)]).text).toBe('T\0');
    expect(r.call(XS_IS_DOMAIN_INTRODUCED, ['4']).text).toBe('F\0');
    isErr(r.call(XS_IS_DOMAIN_INTRODUCED, ['a']), 'EINVAL');
  });

  it('RESUME clears the shut-down mark; ENOENT for an unknown domain', () => {
    const r = new XsRig();
    r.guest(2);
    r.xsd.domainShutdown(2);
    expect(r.xsd.domains.get(2)!.shutdown).toBe(true);
    ok(r.call(XS_RESUME, ['2']), XS_RESUME);
    expect(r.xsd.domains.get(2)!.shutdown).toBe(false);
    isErr(r.call(XS_RESUME, ['9']), 'ENOENT');
  });

  it('SET_TARGET lets a device model act with its target domain permissions', () => {
    const r = new XsRig();
    const dm = r.guest(2);
    r.guest(3);
    expect(r.run<string>((cb) => dm.bus.read('/local/domain/3/data', cb)).err).toBe('EACCES');
    ok(r.call(XS_SET_TARGET, ['2', '3']), XS_SET_TARGET);
    expect(r.run<string>((cb) => dm.bus.read('/local/domain/3/data', cb)).err).toBeUndefined();
    isErr(r.call(XS_SET_TARGET, ['2']), 'EINVAL');
    isErr(r.call(XS_SET_TARGET, ['2', '9']), 'ENOENT');
  });
});

describe('XS_GET_FEATURE and XS_SET_FEATURE', () => {
  it('answers the own features with no argument (14: error, watch depth, DOMID_ANY)', () => {
    const r = new XsRig();
    expect(r.call(XS_GET_FEATURE, new Uint8Array(0)).text).toBe('14\0');
    const g = r.guest(1);
    expect(r.raw(g, XS_GET_FEATURE, new Uint8Array(0)).text).toBe('14\0');
    isErr(r.raw(g, XS_GET_FEATURE, ['0']), 'EACCES');
  });

  it('SET_FEATURE only before introduction and only offered bits', () => {
    const r = new XsRig();
    ok(r.call(XS_SET_FEATURE, ['6', '2']), XS_SET_FEATURE);
    expect(r.call(XS_GET_FEATURE, ['6']).text).toBe('2\0');
    isErr(r.call(XS_SET_FEATURE, ['6', '1']), 'EINVAL'); // reconnection is not offered
    isErr(r.call(XS_SET_FEATURE, ['6']), 'EINVAL');
    isErr(r.call(XS_SET_FEATURE, ['32753', '2']), 'ENOENT');
    isErr(r.call(XS_GET_FEATURE, ['32753']), 'ENOENT');
    isErr(r.call(XS_GET_FEATURE, ['1', '2']), 'EINVAL');
    r.addGuest(6);
    r.call(XS_INTRODUCE, ['6', '0', '1']);
    expect(new XsRingIndexes(r.guests.get(6)!.page).serverFeatures).toBe(2);
    isErr(r.call(XS_SET_FEATURE, ['6', '2']), 'EBUSY');
  });

  it('a domain without the watch-depth feature may not give a depth', () => {
    const r = new XsRig();
    r.call(XS_SET_FEATURE, ['6', '2']);
    const g = r.guest(6);
    isErr(r.raw(g, XS_WATCH, ['data', 't', '1']), 'EINVAL');
  });
});

describe('XS_GET_QUOTA and XS_SET_QUOTA', () => {
  it('lists the quota names, reads global and per-domain values', () => {
    const r = new XsRig();
    expect(answer(r.call(XS_GET_QUOTA, new Uint8Array(0)))).toBe(
      'nodes watches outstanding memory soft-memory transactions transaction-nodes node-permissions path-max node-size',
    );
    expect(answer(r.call(XS_GET_QUOTA, ['watches']))).toBe('128');
    expect(answer(r.call(XS_GET_QUOTA, ['soft-memory']))).toBe(String(2 * 1024 * 1024));
    expect(answer(r.call(XS_GET_QUOTA, ['1', 'transactions']))).toBe('10');
    isErr(r.call(XS_GET_QUOTA, ['soft-watches']), 'EINVAL');
    isErr(r.call(XS_GET_QUOTA, ['nope']), 'EINVAL');
    isErr(r.call(XS_GET_QUOTA, ['1', '2', '3']), 'EINVAL');
  });

  it('sets a domain quota, which then binds it', () => {
    const r = new XsRig();
    const g = r.guest(1);
    ok(r.call(XS_SET_QUOTA, ['1', 'watches', '3']), XS_SET_QUOTA);
    expect(r.run<void>((cb) => g.bus.watch('data/a', 'a', () => {}, cb)).err).toBeUndefined();
    expect(r.run<void>((cb) => g.bus.watch('data/b', 'b', () => {}, cb)).err).toBeUndefined();
    expect(r.run<void>((cb) => g.bus.watch('data/c', 'c', () => {}, cb)).err).toBe('ENOSPC');
    ok(r.call(XS_SET_QUOTA, ['watches', '7']), XS_SET_QUOTA);
    expect(answer(r.call(XS_GET_QUOTA, ['watches']))).toBe('7');
    isErr(r.call(XS_SET_QUOTA, ['watches']), 'EINVAL');
    isErr(r.call(XS_SET_QUOTA, ['watches', '4294967295']), 'EINVAL');
    isErr(r.call(XS_SET_QUOTA, ['nope', '1']), 'EINVAL');
  });
});

describe('XS_CONTROL', () => {
  it('"print" logs its string and acks; other commands are EINVAL here', () => {
    const r = new XsRig();
    ok(r.call(XS_CONTROL, ['print', 'hello']), XS_CONTROL);
    expect(r.log).toContain('control: hello');
    isErr(r.call(XS_CONTROL, ['print']), 'EINVAL');
    isErr(r.call(XS_CONTROL, ['frobnicate']), 'EINVAL');
    isErr(r.call(XS_CONTROL, new Uint8Array(0)), 'EINVAL');
  });
});

describe('quotas on a guest ring', () => {
  it('node-size: a node of 2048 bytes or more is ENOSPC for a guest, fine for dom0', () => {
    const r = new XsRig();
    const g = r.guest(1);
    // 16 (header) + 8 (one perm) + data + 0 children: 2023 data bytes make 2047.
    expect(r.run<void>((cb) => g.bus.write('data/n', 'x'.repeat(2023), cb)).err).toBeUndefined();
    expect(r.run<void>((cb) => g.bus.write('data/n', 'x'.repeat(2024), cb)).err).toBe('ENOSPC');
    ok(r.call(XS_WRITE, wr('/local/domain/1/data/n', 'x'.repeat(4000))), XS_WRITE);
  });

  it('transactions: a guest may hold nine at once (the quota counts at >= 10)', () => {
    const r = new XsRig();
    const g = r.guest(1);
    const errs: (string | undefined)[] = [];
    for (let i = 0; i < 10; i++) errs.push(r.run<number>((cb) => g.bus.transactionStart(cb)).err);
    expect(errs.slice(0, 9).every((e) => e === undefined)).toBe(true);
    expect(errs[9]).toBe('ENOSPC');
  });

  it('node-permissions: four entries at most for a guest', () => {
    const r = new XsRig();
    const g = r.guest(1);
    r.run<void>((cb) => g.bus.mkdir('data/p', cb));
    expect(r.run<void>((cb) => g.bus.setPerms('data/p', ['n1', 'r0', 'r2', 'r3'], cb)).err).toBeUndefined();
    expect(r.run<void>((cb) => g.bus.setPerms('data/p', ['n1', 'r0', 'r2', 'r3', 'r4'], cb)).err).toBe('ENOSPC');
  });
});
