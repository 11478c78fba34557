/**
 * Transactions (tools/xenstored/transaction.c): a private view, commit when
 * nothing read has changed since, EAGAIN otherwise; watches fire at commit;
 * the examples in the comment at the top of transaction.c.
 */
import { describe, expect, it } from 'vitest';
import { latin1, XS_DIRECTORY, XS_READ, XS_RM, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_WATCH, XS_WRITE } from '../../src/core/abi/xs_wire.js';
import { answer, XsRig } from './xenstore_rig.js';

function start(r: XsRig): number {
  return Number(answer(r.call(XS_TRANSACTION_START, [''])));
}
function end(r: XsRig, tx: number, commit = true): string {
  return answer(r.call(XS_TRANSACTION_END, [commit ? 'T' : 'F'], tx));
}
function write(r: XsRig, path: string, v: string, tx = 0): string {
  return answer(r.call(XS_WRITE, latin1(`${path}\0${v}`), tx));
}
function read(r: XsRig, path: string, tx = 0): string {
  return answer(r.call(XS_READ, [path], tx));
}

describe('a transaction', () => {
  it('sees its own writes; nobody else does until it commits', () => {
    const r = new XsRig();
    write(r, '/a', '1');
    const tx = start(r);
    expect(write(r, '/a', '2', tx)).toBe('OK');
    expect(write(r, '/b/c', 'new', tx)).toBe('OK');
    expect(read(r, '/a', tx)).toBe('2');
    expect(read(r, '/a')).toBe('1');
    expect(read(r, '/b/c')).toBe('ENOENT');
    expect(end(r, tx)).toBe('OK');
    expect(read(r, '/a')).toBe('2');
    expect(read(r, '/b/c')).toBe('new');
  });

  it('keeps reading what it first read, whatever happens outside', () => {
    const r = new XsRig();
    write(r, '/a', '1');
    const tx = start(r);
    expect(read(r, '/a', tx)).toBe('1');
    write(r, '/a', '2');
    expect(read(r, '/a', tx)).toBe('1');
  });

  it('abort ("F") throws everything away', () => {
    const r = new XsRig();
    const tx = start(r);
    write(r, '/x', '1', tx);
    r.call(XS_RM, ['/tool'], tx);
    expect(end(r, tx, false)).toBe('OK');
    expect(read(r, '/x')).toBe('ENOENT');
    expect(answer(r.call(XS_DIRECTORY, ['/']))).toBe('tool');
  });

  it('rm inside, then commit: the subtree goes', () => {
    const r = new XsRig();
    write(r, '/d/e', '1');
    const tx = start(r);
    expect(answer(r.call(XS_RM, ['/d'], tx))).toBe('OK');
    expect(read(r, '/d/e', tx)).toBe('ENOENT');
    expect(read(r, '/d/e')).toBe('1');
    expect(end(r, tx)).toBe('OK');
    expect(read(r, '/d/e')).toBe('ENOENT');
  });

  it('a node created and deleted inside never reaches the store', () => {
    const r = new XsRig();
    const tx = start(r);
    write(r, '/tmp/x', '1', tx);
    r.call(XS_RM, ['/tmp'], tx);
    expect(end(r, tx)).toBe('OK');
    expect(r.xsd.paths().some((p) => p.startsWith('/tmp'))).toBe(false);
  });
});

describe('conflicts (the examples of transaction.c)', () => {
  it('1. read A, write B, nothing else happens: commits', () => {
    const r = new XsRig();
    write(r, '/A', 'a');
    write(r, '/B', 'b');
    const tx = start(r);
    read(r, '/A', tx);
    write(r, '/B', 'b2', tx);
    expect(end(r, tx)).toBe('OK');
    expect(read(r, '/B')).toBe('b2');
  });

  it('2. read A in the transaction, A written outside: EAGAIN, nothing written', () => {
    const r = new XsRig();
    write(r, '/A', 'a');
    write(r, '/B', 'b');
    const tx = start(r);
    read(r, '/A', tx);
    write(r, '/A', 'outside');
    write(r, '/B', 'b2', tx);
    expect(end(r, tx)).toBe('EAGAIN');
    expect(read(r, '/B')).toBe('b');
    expect(end(r, tx)).toBe('ENOENT'); // the transaction is gone either way
  });

  it('3. read A in the transaction, A deleted outside: EAGAIN', () => {
    const r = new XsRig();
    write(r, '/A', 'a');
    const tx = start(r);
    read(r, '/A', tx);
    r.call(XS_RM, ['/A']);
    write(r, '/B', 'b', tx);
    expect(end(r, tx)).toBe('EAGAIN');
  });

  it('4. two transactions each reading what the other writes: the first to commit wins, the second gets EAGAIN', () => {
    const r = new XsRig();
    write(r, '/A', 'a');
    write(r, '/B', 'b');
    const t1 = start(r);
    const t2 = start(r);
    read(r, '/A', t1);
    read(r, '/B', t2);
    write(r, '/B', 'from1', t1);
    write(r, '/A', 'from2', t2);
    expect(end(r, t1)).toBe('OK');
    expect(end(r, t2)).toBe('EAGAIN');
    expect([read(r, '/A'), read(r, '/B')]).toEqual(['a', 'from1']);
  });

  it('reading a node that does not exist counts too: created outside, the commit fails', () => {
    const r = new XsRig();
    const tx = start(r);
    expect(read(r, '/new', tx)).toBe('ENOENT');
    write(r, '/new', 'x');
    write(r, '/other', 'y', tx);
    expect(end(r, tx)).toBe('EAGAIN');
  });

  it('creating children of the same parent in two transactions conflicts (the parent child list was read)', () => {
    const r = new XsRig();
    r.call(12, ['/p']);
    const t1 = start(r);
    const t2 = start(r);
    write(r, '/p/one', '1', t1);
    write(r, '/p/two', '2', t2);
    expect(end(r, t1)).toBe('OK');
    expect(end(r, t2)).toBe('EAGAIN');
  });

  it('an unrelated write outside does not disturb it', () => {
    const r = new XsRig();
    write(r, '/A', 'a');
    const tx = start(r);
    read(r, '/A', tx);
    write(r, '/Z', 'z');
    expect(end(r, tx)).toBe('OK');
  });
});

describe('watches and transactions', () => {
  it('changes inside fire nothing until the commit, then each once', () => {
    const r = new XsRig();
    r.call(XS_WATCH, ['/w', 'tok']);
    r.socketEvents();
    const tx = start(r);
    write(r, '/w/a', '1', tx);
    write(r, '/w/a', '2', tx);
    write(r, '/w/b', '3', tx);
    expect(r.socketEvents()).toEqual([]);
    end(r, tx);
    expect(r.socketEvents()).toEqual([
      ['/w/a', 'tok'],
      ['/w/b', 'tok'],
    ]);
  });

  it('an aborted or conflicting transaction fires nothing', () => {
    const r = new XsRig();
    write(r, '/A', 'a');
    r.call(XS_WATCH, ['/w', 'tok']);
    const t1 = start(r);
    write(r, '/w/a', '1', t1);
    end(r, t1, false);
    const t2 = start(r);
    read(r, '/A', t2);
    write(r, '/w/a', '1', t2);
    write(r, '/A', 'b');
    r.socketEvents();
    expect(end(r, t2)).toBe('EAGAIN');
    expect(r.socketEvents()).toEqual([]);
  });
});

describe('guest transactions over the ring', () => {
  it('Xenbus.transaction retries on EAGAIN until the commit goes through', () => {
    const r = new XsRig();
    const g = r.guest(1);
    r.run<void>((cb) => g.bus.write('data/counter', '0', cb));
    let interfere = true;
    const res = r.run<number>((cb) =>
      g.bus.transaction((tx, done) => {
        g.bus.read(
          'data/counter',
          (_e, v) => {
            if (interfere) {
              interfere = false;
              r.call(XS_WRITE, latin1('/local/domain/1/data/counter\x00100'));
            }
            g.bus.write('data/counter', String(Number(v) + 1), () => done(), tx);
          },
          tx,
        );
      }, cb),
    );
    expect(res).toEqual({ err: undefined, value: 2 });
    expect(r.xsd.readValue('/local/domain/1/data/counter')).toBe('101');
  });

  it('switchState writes a XenbusState in a transaction and leaves an equal one alone', () => {
    const r = new XsRig();
    const g = r.guest(1);
    r.run<void>((cb) => g.bus.write('data/state', '1', cb));
    r.call(XS_WATCH, ['/local/domain/1/data/state', 's']);
    r.socketEvents();
    expect(r.run<void>((cb) => g.bus.switchState('data/state', 4, cb)).err).toBeUndefined();
    expect(r.xsd.readValue('/local/domain/1/data/state')).toBe('4');
    expect(r.run<void>((cb) => g.bus.switchState('data/state', 4, cb)).err).toBeUndefined();
    expect(r.socketEvents()).toEqual([['/local/domain/1/data/state', 's']]);
  });

  it('touching more nodes than transaction-nodes allows fails the access with ENOSPC and the commit with ENOMEM', () => {
    const r = new XsRig();
    const g = r.guest(1);
    r.call(26, ['1', 'transaction-nodes', '4']);
    const tx = r.run<number>((cb) => g.bus.transactionStart(cb)).value;
    const errs = ['data/a', 'data/b', 'data/c', 'data/d'].map((p) => r.run<string>((cb) => g.bus.read(p, cb, tx)).err);
    expect(errs).toEqual(['ENOENT', 'ENOENT', 'ENOSPC', 'ENOSPC']);
    expect(r.run<boolean>((cb) => g.bus.transactionEnd(tx, false, cb)).err).toBe('ENOMEM');
  });
});
