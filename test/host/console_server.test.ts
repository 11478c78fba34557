// Each domain's console on a loopback TCP port: real sockets on 127.0.0.1 (ports chosen by the
// system), a node:net client standing in for nc or telnet.
import { readFileSync } from 'node:fs';
import { connect, createServer, Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleServer, ConsoleServerError, TelnetInput } from '../../src/host/console_server.js';
import { startLive, type LiveSession } from '../../src/scenario/live.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');

// plan9-boot.yaml answers the root prompt in its steps; this one stops at it.
const PLAN9_AT_ROOT_PROMPT = `name: Plan 9 at its root prompt
xen: "2.0"
domains:
  - name: dom0
  - name: plan9
    kernel: plan9
steps:
  - run: 5ms
  - check: { domain: plan9, console: "root is from (local, tcp)[local]: " }
`;

const toClose: (ConsoleServer | Socket | Server)[] = [];
afterEach(async () => {
  for (const x of toClose.splice(0)) {
    if (x instanceof ConsoleServer) await x.close();
    else if (x instanceof Server) await new Promise((r) => x.close(r));
    else x.destroy();
  }
});

function session(text: string, file = 'test.yaml'): LiveSession {
  return startLive(loadScenario(file, text));
}

async function serve(s: LiveSession, opts: { base?: number; tickMs?: number } = {}): Promise<ConsoleServer> {
  const cs = await ConsoleServer.start(s, { base: 0, tickMs: 5, ...opts });
  toClose.push(cs);
  return cs;
}

function portOf(cs: ConsoleServer, name: string): number {
  const p = cs.ports.find((x) => x.name === name);
  if (p === undefined) throw new Error(`no console for ${name}`);
  return p.port;
}

/** A terminal client: everything received so far, waits for text to arrive, sends bytes. */
class Client {
  text = '';
  readonly closed: Promise<void>;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.text += d.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
  }

  static open(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new Client(s)));
      toClose.push(s);
      s.once('error', reject);
    });
  }

  send(data: string | Uint8Array): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Resolves when the received text matches (after `from`, a length of text already seen). */
  async waitFor(want: string | RegExp, from = 0, ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const seen = this.text.slice(from);
      if (typeof want === 'string' ? seen.includes(want) : want.test(seen)) return seen;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${String(want)}; received ${JSON.stringify(seen.slice(-300))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('ConsoleServer', () => {
  it("offers a Xen 2.0 guest's console: the backlog up to the root prompt, then a typed line and its answer", async () => {
    const cs = await serve(session(PLAN9_AT_ROOT_PROMPT));
    expect(cs.ports.map((p) => [p.name, p.domid, p.kind, p.host])).toEqual([
      ['dom0', 0, 'shell', '127.0.0.1'],
      ['plan9', 1, 'xend', '127.0.0.1'],
    ]);
    const c = await Client.open(portOf(cs, 'plan9'));
    const backlog = await c.waitFor('root is from (local, tcp)[local]: ');
    expect(backlog).toMatch(/^\n\rPlan 9 from Bell Labs on Xen 2.0\n\r/);
    const at = c.text.length;
    c.send('local\r\n'); // a telnet client's Enter: CR LF is one end of line
    const seen = await c.waitFor('term% ', at);
    expect(seen).toMatch(/^local\n\rfossil: root from local disk, \d+ ticks since boot\n\rinit: starting \/bin\/rc\n\rterm% $/);
    const at2 = c.text.length;
    c.send('echo hello over tcp\n'); // nc's Enter: LF
    expect(await c.waitFor('hello over tcp\n\rterm% ', at2)).toBe('echo hello over tcp\n\rhello over tcp\n\rterm% ');
    // The LF after CR was not taken as a second, empty line (which would print another prompt).
    expect(c.text.match(/term% /g)).toHaveLength(2);
  });

  it("offers a modern Mini-OS guest's console through xenconsoled: help lists the commands", async () => {
    const cs = await serve(session(readFileSync(join(SCENARIOS, 'minios-console.yaml'), 'utf8'), 'minios-console.yaml'));
    expect(cs.ports.find((p) => p.name === 'minios')?.kind).toBe('xenconsoled');
    const c = await Client.open(portOf(cs, 'minios'));
    await c.waitFor(/minios: frobnicate: command not found\r\nminios> $/);
    const at = c.text.length;
    c.send('help\r');
    const seen = await c.waitFor('xenstore-read PATH', at);
    expect(seen).toMatch(/^help\r\ncommands:\r\n {2}help {17}this list\r\n/);
    expect(await c.waitFor(/minios> $/, at)).toContain('  evtchn               the ports this kernel has bound');
  });

  it("offers dom0's shell on dom0's console: xl list", async () => {
    const cs = await serve(session(readFileSync(join(SCENARIOS, 'minios-console.yaml'), 'utf8'), 'minios-console.yaml'));
    const c = await Client.open(portOf(cs, 'dom0'));
    await c.waitFor(/dom0# $/);
    const at = c.text.length;
    c.send('xl list\r\n');
    const seen = await c.waitFor(/dom0# $/, at);
    expect(seen).toBe(
      'xl list\r\n' +
        'Name                                        ID   Mem VCPUs     State\r\n' +
        'dom0                                         0    64     1     r-----\r\n' +
        'minios                                       1    64     1     -b----\r\n' +
        'dom0# ',
    );
  });

  it('lets several clients share a console: all see the output, any may type', async () => {
    const cs = await serve(session(PLAN9_AT_ROOT_PROMPT));
    const port = portOf(cs, 'plan9');
    const a = await Client.open(port);
    const b = await Client.open(port);
    await a.waitFor('[local]: ');
    await b.waitFor('[local]: ');
    const [atA, atB] = [a.text.length, b.text.length];
    a.send('local\r');
    await a.waitFor('term% ', atA);
    await b.waitFor('term% ', atB);
    b.send('echo from b\r');
    expect(await a.waitFor('from b\n\rterm% ', atA)).toContain('echo from b\n\rfrom b\n\rterm% ');
    expect(await b.waitFor('from b\n\rterm% ', atB)).toBe(a.text.slice(atA));
  });

  it('strips telnet negotiation and takes CR NUL as Enter', async () => {
    const cs = await serve(session(PLAN9_AT_ROOT_PROMPT));
    const c = await Client.open(portOf(cs, 'plan9'));
    await c.waitFor('[local]: ');
    const at = c.text.length;
    // IAC DO SUPPRESS-GO-AHEAD, IAC WILL TERMINAL-TYPE, IAC SB NAWS 0 80 0 24 IAC SE, then "local" CR NUL.
    c.send(Uint8Array.from([255, 253, 3, 255, 251, 24, 255, 250, 31, 0, 80, 0, 24, 255, 240, ...Buffer.from('local\r\0')]));
    expect(await c.waitFor('term% ', at)).toMatch(/^local\n\rfossil: /);
    c.send('echo ok\r\0');
    const seen = await c.waitFor('ok\n\rterm% ', at);
    // The NUL after each CR went nowhere: no stray command reached rc.
    expect(seen).toMatch(/^local\n\rfossil: root from local disk, \d+ ticks since boot\n\rinit: starting \/bin\/rc\n\rterm% echo ok\n\rok\n\rterm% $/);
  });

  it("closes a destroyed domain's clients with a message, and its listener", async () => {
    const cs = await serve(session(PLAN9_AT_ROOT_PROMPT));
    const port = portOf(cs, 'plan9');
    const [a, b] = [await Client.open(port), await Client.open(port)];
    const d0 = await Client.open(portOf(cs, 'dom0'));
    await d0.waitFor('dom0# ');
    d0.send('xl shutdown plan9\r');
    await Promise.all([a.closed, b.closed]);
    for (const c of [a, b]) {
      expect(c.text).toMatch(/power off\n\r\r\n\[xenlab: plan9 \(domain 1\) has been destroyed; its console is closed\]\r\n$/);
    }
    expect(cs.address(1)).toBeUndefined();
    expect(await refused(port)).toBe(true);
    // dom0's console carries on, with xend's message above its prompt.
    await d0.waitFor('xend: domain 1 (plan9) shut down (poweroff): destroyed\r\ndom0# ');
    expect(cs.address(0)).toBeDefined();
  });

  it('binds 127.0.0.1 only, on base + domid', async () => {
    const s = session(PLAN9_AT_ROOT_PROMPT);
    const cs = await serve(s);
    for (const p of cs.ports) expect(cs.address(p.domid)).toEqual({ address: '127.0.0.1', family: 'IPv4', port: p.port });
    await cs.close();
    // A base of our own: look for two free neighbouring ports, and retry if someone takes them meanwhile.
    for (let attempt = 0; ; attempt++) {
      const base = await freePort();
      if (base >= 65535) continue;
      try {
        const cs2 = await serve(session(PLAN9_AT_ROOT_PROMPT), { base });
        expect(cs2.ports.map((p) => p.port)).toEqual([base, base + 1]);
        for (const p of cs2.ports) expect(cs2.address(p.domid)).toEqual({ address: '127.0.0.1', family: 'IPv4', port: base + p.domid });
        const c = await Client.open(base + 1);
        await c.waitFor('[local]: ');
        return;
      } catch (e) {
        if (!(e instanceof ConsoleServerError && e.code === 'in-use') || attempt > 5) throw e;
      }
    }
  });

  it('reports a port in use clearly and leaves nothing listening', async () => {
    const blocker = createServer();
    toClose.push(blocker);
    await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: 0 }, r));
    const taken = (blocker.address() as { port: number }).port;
    // dom0 would get taken - 1 and plan9 the taken port.
    const err = await ConsoleServer.start(session(PLAN9_AT_ROOT_PROMPT), { base: taken - 1, tickMs: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsoleServerError);
    expect((err as ConsoleServerError).code).toBe('in-use');
    expect((err as Error).message).toContain(`127.0.0.1:${taken} is already in use`);
    expect(await refused(taken - 1)).toBe(true); // dom0's listener was closed again
  });

  it('refuses a base whose ports would pass 65535', async () => {
    const err = await ConsoleServer.start(session(PLAN9_AT_ROOT_PROMPT), { base: 65535 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsoleServerError);
    expect((err as ConsoleServerError).code).toBe('range');
    expect((err as Error).message).toBe('console ports 65535..65536 go past 65535 (the highest domid here is 1): choose a base up to 65534');
  });

  it('paces the virtual clock by the wall clock, or leaves it alone', async () => {
    const paced = session(PLAN9_AT_ROOT_PROMPT);
    await serve(paced, { tickMs: 5 });
    const still = session(PLAN9_AT_ROOT_PROMPT);
    await serve(still, { tickMs: 0 });
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 200));
    const wallMs = Date.now() - t0;
    const ran = paced.now / 1e6 - 5;
    expect(ran).toBeGreaterThan(50);
    expect(ran).toBeLessThanOrEqual(wallMs + 50);
    expect(still.now).toBe(5e6);
  });

  it('shuts down cleanly: clients told and closed, ports closed, the clock stopped', async () => {
    const s = session(PLAN9_AT_ROOT_PROMPT);
    const cs = await serve(s);
    const port = portOf(cs, 'plan9');
    const c = await Client.open(port);
    await c.waitFor('[local]: ');
    await cs.close();
    await c.closed;
    expect(c.text.endsWith('\r\n[xenlab: xenlab is shutting down]\r\n')).toBe(true);
    expect(await refused(port)).toBe(true);
    const t = s.now;
    await new Promise((r) => setTimeout(r, 50));
    expect(s.now).toBe(t);
    await cs.close(); // a second close is harmless
  });
});

describe('TelnetInput', () => {
  const feed = (t: TelnetInput, ...bytes: number[]) => [...t.feed(Uint8Array.from(bytes))];

  it('drops commands, options and subnegotiations, keeps IAC IAC as 0xff', () => {
    const t = new TelnetInput();
    expect(feed(t, 0x61, 255, 251, 1, 0x62, 255, 241, 0x63, 255, 255, 0x64)).toEqual([0x61, 0x62, 0x63, 255, 0x64]);
    expect(feed(t, 255, 250, 24, 0, 0x78, 255, 255, 0x79, 255, 240, 0x7a)).toEqual([0x7a]);
  });

  it('turns CR LF and CR NUL into CR, across chunks too, and keeps a lone LF', () => {
    const t = new TelnetInput();
    expect(feed(t, 0x61, 13, 10, 0x62, 13, 0, 0x63, 10)).toEqual([0x61, 13, 0x62, 13, 0x63, 10]);
    expect(feed(t, 0x64, 13)).toEqual([0x64, 13]);
    expect(feed(t, 10, 0x65)).toEqual([0x65]);
    expect(feed(t, 255)).toEqual([]);
    expect(feed(t, 253)).toEqual([]);
    expect(feed(t, 3, 13, 13, 10)).toEqual([13, 13]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
