// `xenlab run FILE --console-port BASE` through the built CLI (bin/xenlab.mjs, as a user runs it):
// it prints where each console listens, stays live until SIGINT, SIGTERM or stdin's end, and
// exits with the run's exit code. Only 127.0.0.1 and ports chosen by the system (base 0).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/xenlab.mjs');
const PLAN9 = join(import.meta.dirname, '../../scenarios/plan9-boot.yaml');
const PORT_LINE = /^console of (\S+) \(domain (\d+)\) on 127\.0\.0\.1:(\d+)$/gm;

interface Live {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcessWithoutNullStreams[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(...args: string[]): Live {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'pipe' });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function until<T>(what: string, f: () => T | undefined, live?: Live, ms = 10000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${live ? `; stdout ${JSON.stringify(live.out().slice(-400))}, stderr ${JSON.stringify(live.err())}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The console lines printed on `text`, once as many as expected are there. */
function ports(text: string, count: number): Map<string, { domid: number; port: number }> | undefined {
  const m = new Map<string, { domid: number; port: number }>();
  for (const x of text.matchAll(PORT_LINE)) m.set(x[1]!, { domid: Number(x[2]), port: Number(x[3]) });
  return m.size >= count ? m : undefined;
}

async function attach(port: number): Promise<{ text: () => string; send: (s: string) => void; closed: Promise<void> }> {
  const s = connect({ host: '127.0.0.1', port });
  sockets.push(s);
  await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString('utf8')));
  s.on('error', () => {});
  const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
  return { text: () => text, send: (t) => void s.write(t), closed };
}

function scenarioFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'xenlab-console-'));
  const f = join(dir, 's.yaml');
  writeFileSync(f, text);
  return f;
}

describe('xenlab run --console-port', () => {
  it('prints each console port after the results, serves the consoles, and exits with the run code on SIGINT', async () => {
    const live = start('run', PLAN9, '--console-port', '0');
    const p = await until('the console lines', () => ports(live.out(), 2), live);
    expect([...p.keys()]).toEqual(['dom0', 'plan9']);
    expect(p.get('plan9')!.domid).toBe(1);
    // The run's results come first, as without the flag.
    expect(live.out().indexOf('11 steps, all held')).toBeLessThan(live.out().indexOf('\nconsole of dom0 (domain 0) on'));

    const c = await attach(p.get('plan9')!.port);
    await until('the backlog', () => (c.text().includes('hello from dom0\n\rterm% ') ? true : undefined));
    expect(c.text()).toContain('root is from (local, tcp)[local]: local\n\r');
    c.send('echo typed over tcp\n');
    await until('the answer', () => (c.text().includes('typed over tcp\n\rterm% ') ? true : undefined));

    const d0 = await attach(p.get('dom0')!.port);
    await until("dom0's prompt", () => (d0.text().endsWith('dom0# ') ? true : undefined));
    d0.send('xl list\r');
    await until('xl list', () => (/plan9 +1 +64 +1 +-b----\r\n/.test(d0.text()) ? true : undefined));

    live.child.kill('SIGINT');
    expect(await live.exited).toBe(0);
    await c.closed;
    expect(c.text()).toMatch(/\[xenlab: xenlab is shutting down\]\r\n$/);
    expect(live.err()).toBe('');
  });

  it("keeps the run's exit code (1 for a failed expectation) and stops on SIGTERM", async () => {
    const f = scenarioFile(`name: fails, then stays live
xen: "2.0"
domains: [{ name: dom0 }, { name: plan9, kernel: plan9 }]
steps:
  - run: 5ms
  - check: { domain: plan9, console: "no such text" }
`);
    const live = start('run', f, '--console-port', '0');
    await until('the console lines', () => ports(live.out(), 2), live);
    expect(live.out()).toContain('FAIL');
    live.child.kill('SIGTERM');
    expect(await live.exited).toBe(1);
  });

  it('stops at the end of standard input', async () => {
    const live = start('run', PLAN9, '--console-port', '0');
    await until('the console lines', () => ports(live.out(), 2), live);
    live.child.stdin.end();
    expect(await live.exited).toBe(0);
  });

  it('with --json, keeps stdout one JSON object and prints the ports on stderr', async () => {
    const live = start('run', PLAN9, '--json', '--console-port', '0');
    const p = await until('the console lines', () => ports(live.err(), 2), live);
    expect(p.get('plan9')!.domid).toBe(1);
    live.child.kill('SIGINT');
    expect(await live.exited).toBe(0);
    expect(JSON.parse(live.out())).toMatchObject({ ok: true, name: 'Plan 9 boots on Xen 2.0' });
  });

  it('exits 2 with a clear message for a bad base, and runs nothing', () => {
    const cases: [string, RegExp][] = [
      ['abc', /^xenlab: --console-port expects a port number from 1 to 65535 \(or 0 for free ports\), found "abc"\n$/],
      ['-5', /xenlab: .*console-port/],
      ['70000', /--console-port expects a port number from 1 to 65535 \(or 0 for free ports\), found "70000"/],
      ['65535', /^xenlab: --console-port: console ports 65535\.\.65536 go past 65535 \(the highest domid here is 1\): choose a base up to 65534\n$/],
    ];
    for (const [v, msg] of cases) {
      const r = spawnSync(process.execPath, [BIN, 'run', PLAN9, '--console-port', v], { encoding: 'utf8', input: '' });
      expect(r.status, v).toBe(2);
      expect(r.stderr, v).toMatch(msg);
      expect(r.stdout, v).toBe('');
    }
  });

  it('exits 2 with a clear message when a port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: 0 }, r));
    const taken = (blocker.address() as { port: number }).port;
    try {
      // Domain 1 (plan9) would listen on the taken port.
      const live = start('run', PLAN9, '--console-port', String(taken - 1));
      expect(await live.exited).toBe(2);
      expect(live.err()).toBe(`xenlab: --console-port: 127.0.0.1:${taken} is already in use (another xenlab or program listens there): choose another --console-port base, or 0 for free ports\n`);
      expect(live.out()).toContain('11 steps, all held');
      expect(live.out()).not.toMatch(PORT_LINE);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('changes nothing without the flag', () => {
    const r = spawnSync(process.execPath, [BIN, 'run', PLAN9], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/console of \S+ \(domain/);
    const help = spawnSync(process.execPath, [BIN, 'run', '--help'], { encoding: 'utf8' });
    expect(help.stdout).toContain('--console-port BASE');
  });
});
