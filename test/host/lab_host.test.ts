// The lab host through its public face (createLabHost + request/on), with its real session
// worker thread: strict parameter checks, sessions from YAML and TypeScript, events streamed,
// a runaway step stopped by the watchdog, files (atomic, conflicts, roots in web mode,
// symlinks), recent files, drafts, dialogs, recordings and trace export, and the requests
// later parts of the lab will answer.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HostError, type EventName, type Events } from '../../src/contract/api.js';
import { fromBase64 } from '../../src/contract/trace_batch.js';
import { scenarioJsonSchema } from '../../src/scenario/schema.js';
import { createLabHost, createLabHostWith, UNIMPLEMENTED_REQUESTS, type LabHost, type LabHostOptions } from '../../src/host/lab_host.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');
const PLAN9 = readFileSync(join(SCENARIOS, 'plan9-boot.yaml'), 'utf8');

let dir: string;
let root: string;
let outside: string;
const hosts: LabHost[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xenlab-host-'));
  root = join(dir, 'root');
  outside = join(dir, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.yaml'), 'name: secret\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

function host(over: Partial<LabHostOptions> = {}, stallMs?: number, sandboxTimeMs?: number): LabHost {
  const opts: LabHostOptions = { mode: 'web', version: '0.0.0-test', roots: [{ name: 'work', path: root }], dataDir: join(dir, 'data'), ...over };
  const h = stallMs === undefined ? createLabHost(opts) : createLabHostWith(opts, { stallMs, ...(sandboxTimeMs === undefined ? {} : { sandboxTimeMs }) });
  hosts.push(h);
  return h;
}

async function failure(p: Promise<unknown>): Promise<HostError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HostError) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

/** Collects a host's events. */
function listen(h: LabHost) {
  const got: { name: string; payload: unknown }[] = [];
  const names: EventName[] = ['session.status', 'session.trace', 'session.console', 'session.topology', 'session.failure', 'session.ended'];
  for (const n of names) h.on(n, (payload) => got.push({ name: n, payload }));
  return {
    got,
    console(domid: number): string {
      let t = '';
      for (const e of got) {
        if (e.name !== 'session.console') continue;
        const c = e.payload as Events['session.console'];
        if (c.domid === domid) t = c.reset ? new TextDecoder().decode(fromBase64(c.data)) : t + new TextDecoder().decode(fromBase64(c.data));
      }
      return t;
    },
    async until(pred: () => boolean, ms = 5000): Promise<void> {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error('timed out waiting for events');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

describe('requests are checked strictly', () => {
  it('refuses an unknown request, missing, unknown and mistyped parameters with a clear message', async () => {
    const h = host();
    expect(await failure(h.request('no.such' as 'app.info', {}))).toMatchObject({ code: 'bad-request', message: 'unknown request "no.such"' });
    expect((await failure(h.request('session.seek', {} as never))).message).toBe('session.seek.position: expected a whole number, found nothing');
    expect((await failure(h.request('session.seek', { position: -1 }))).message).toMatch(/from 0 to/);
    expect((await failure(h.request('session.control', { action: 'jump' as 'run' }))).message).toMatch(/one of "run", "pause", "step", "stepBack", "reset", found "jump"/);
    expect((await failure(h.request('files.read', { path: '/x', extra: 1 } as never))).message).toMatch(/unknown parameter "extra"/);
    expect((await failure(h.request('session.setSpeed', { speed: { mode: 'warp' } as never }))).message).toMatch(/speed.mode: expected one of "units", "realtime", "max"/);
    expect((await failure(h.request('session.open', null as never))).message).toMatch(/expected an object, found null/);
  });

  it('answers requests that need a session with no-session before one is open', async () => {
    const h = host();
    expect(await failure(h.request('session.control', { action: 'step' }))).toMatchObject({ code: 'no-session' });
  });

  it('implements every request of the contract', () => {
    expect(UNIMPLEMENTED_REQUESTS).toEqual([]);
  });
  it('inspects a domain and explains a port of the open session from its real bits', async () => {
    const h = host();
    expect(await failure(h.request('session.inspect', { domid: 1 }))).toMatchObject({ code: 'no-session' });
    await h.request('session.open', { file: 'plan9-boot.yaml', text: PLAN9, lang: 'yaml' });
    for (let i = 0; i < 3; i++) await h.request('session.control', { action: 'step' });
    const view = await h.request('session.inspect', { domid: 1 });
    expect(view).toMatchObject({ domid: 1, name: 'plan9', layout: 'xen-2.0-x86_32', abi: '2l' });
    expect(view.pages.map((p) => p.name)).toContain('shared_info');
    // Plan 9's control channel is its port 1, bound to dom0's port 2 by xend before it booted.
    expect(await h.request('session.portStatus', { domid: 1, port: 1 })).toMatchObject({ status: 'interdomain', detail: { dom: 0, port: 2 } });
    const why = await h.request('session.explain', { domid: 1, port: 1 });
    expect(why.steps.length).toBeGreaterThan(0);
    expect(why.verdict).not.toBe('');
    expect(await failure(h.request('session.inspect', { domid: 7 }))).toMatchObject({ code: 'not-found' });
  });
});

describe('app and editor', () => {
  it('gives the app info with the embedded default scenario, and the editor support', async () => {
    const h = host();
    const info = await h.request('app.info', {});
    expect(info).toMatchObject({ contractVersion: 1, mode: 'web', version: '0.0.0-test', roots: [{ name: 'work', path: root }] });
    expect(info.defaultScenario.path.endsWith('scenarios/plan9-boot.yaml')).toBe(true);
    expect(info.defaultScenario.text).toBe(PLAN9);
    const support = await h.request('editor.support', {});
    expect(support.jsonSchema).toEqual(scenarioJsonSchema());
    expect(support.typings).toMatch(/declare module 'xenlab'/);
  });
});

describe('sessions', () => {
  it('returns problems with their line and column for a broken scenario, and leaves the session as it was', async () => {
    const h = host();
    const ok = await h.request('session.open', { file: 'a.yaml', text: PLAN9, lang: 'yaml' });
    expect(ok.ok).toBe(true);
    const bad = await h.request('session.open', { file: 'b.yaml', text: 'name: x\ndomains:\n  - name: dom0\nsteps:\n  - bogus: 1\n', lang: 'yaml' });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problems[0]).toMatchObject({ file: 'b.yaml', line: 5, col: 5 });
    const st = await h.request('session.control', { action: 'step' });
    expect(st.position).toBe(1);
    const topo = await h.request('session.topology', {});
    expect(topo.domains.map((d) => d.name)).toEqual(['dom0', 'plan9']);
  });

  it('validates without touching the session', async () => {
    const h = host();
    const r = await h.request('session.validate', { file: 'b.yaml', text: 'name: x\ndomains: 3\nsteps: []\n', lang: 'yaml' });
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems[0]!.line).toBe(2);
    expect((await h.request('session.validate', { file: 'a.yaml', text: PLAN9, lang: 'yaml' })).problems).toEqual([]);
  });

  it('runs Plan 9 in its worker and streams its console, status, topology and trace', async () => {
    const h = host();
    const ev = listen(h);
    const r = await h.request('session.open', { file: 'plan9-boot.yaml', text: PLAN9, lang: 'yaml' });
    expect(r.ok && r.session.consoles.map((c) => c.name)).toEqual(['dom0', 'plan9']);
    await h.request('session.control', { action: 'run' });
    await ev.until(() => ev.console(1).includes('term% '));
    await ev.until(() => ev.got.some((e) => e.name === 'session.trace') && ev.got.some((e) => e.name === 'session.topology'));
    const st = await h.request('session.control', { action: 'pause' });
    expect(st.state).toBe('paused');
    const topo = await h.request('session.topology', {});
    const plan9 = topo.domains.find((d) => d.name === 'plan9')!;
    expect(plan9.ports.find((p) => p.label === 'VIRQ_TIMER')).toBeDefined();
    expect(plan9.ports.find((p) => p.label === 'control channel')).toMatchObject({ port: 1, state: 'interdomain', remoteDom: 0, remotePort: 2 });
    const dom0 = topo.domains.find((d) => d.domid === 0)!;
    expect(dom0.ports.find((p) => p.port === 2)?.label).toBe('control channel (plan9)');
    const ps = await h.request('session.portStatus', { domid: 1, port: 1 });
    expect(ps).toMatchObject({ status: 'interdomain', detail: { dom: 0, port: 2 } });
    const page = await h.request('session.records', { filter: '', from: 0, count: 5 });
    expect(page.rows).toHaveLength(5);
    expect((await h.request('session.record', { seq: 0 })).record.seq).toBe(0);
    expect(await failure(h.request('session.record', { seq: 1e9 }))).toMatchObject({ code: 'not-found' });
  });

  it('runs a TypeScript scenario with custom kernels from its sandbox', async () => {
    const h = host();
    const text = readFileSync(join(SCENARIOS, 'ts/ping-pong.ts'), 'utf8');
    const ev = listen(h);
    const r = await h.request('session.open', { file: 'ping-pong.ts', text, lang: 'typescript' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.session.consoles.map((c) => [c.name, c.kind])).toEqual([
      ['dom0', 'shell'],
      ['ping', 'kernel'],
      ['pong', 'kernel'],
    ]);
    // Each unit is a step or one machine event: 200 of them play the whole ping-pong.
    const st = await h.request('session.seek', { position: 200 });
    expect(st.failures).toBe(0);
    expect(st.scriptDone).toBe(true);
    await ev.until(() => ev.console(2).includes('pong 5'));
  });

  it('reports a TypeScript scenario that does not compile as a problem at its place', async () => {
    const h = host();
    const r = await h.request('session.open', { file: 'bad.ts', text: "import { scenario } from 'xenlab';\nexport default scenario({ name: 'x', domains: [{ name: 'dom0' }], steps: [{ bogus: 1 }] });\n", lang: 'typescript' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]!.file).toBe('bad.ts');
    expect(r.problems[0]!.line).toBe(2);
  });

  it('refuses console input to a destroyed domain with a clear message', async () => {
    const h = host();
    await h.request('session.open', { file: 'd.yaml', text: 'name: d\ndomains:\n  - name: dom0\n  - name: mini\n    kernel: minios\nsteps:\n  - run: 5ms\n  - destroy: mini\n', lang: 'yaml' });
    expect((await h.request('session.seek', { position: 500 })).scriptDone).toBe(true);
    const e = await failure(h.request('session.type', { domid: 1, data: 'help\r' }));
    expect(e).toMatchObject({ code: 'input', message: 'mini (domain 1) has been destroyed: its console takes no more input' });
  });

  it('stops a unit that never ends, says why, and starts afresh on the next request', async () => {
    // A custom kernel that spins in its event handler: its sandbox would stop it after 60 s, the
    // host's watchdog after 8 s (long enough for the worker to load TypeScript on a busy machine).
    const h = host({}, 8000, 60_000);
    const ev = listen(h);
    const spin = [
      "import { kernel, scenario } from 'xenlab';",
      'const spin = kernel(\'spin\', { onEvent() { for (;;) {} } });',
      "export default scenario({ name: 'spin', domains: [{ name: 'dom0' }, { name: 'guest', kernel: spin }],",
      "  steps: [{ as: 'guest', op: 'bind_ipi', args: { vcpu: 0 }, save: { port: 'p' } }, { as: 'guest', op: 'send', args: { port: '$p' } }, { run: '1ms' }] });",
    ].join('\n');
    // Checking it first loads TypeScript's compiler and the sandbox in the worker (that can take a while).
    expect((await h.request('session.validate', { file: 'spin.ts', text: spin, lang: 'typescript' })).problems).toEqual([]);
    expect((await h.request('session.open', { file: 'spin.ts', text: spin, lang: 'typescript' })).ok).toBe(true);
    const e = await failure(h.request('session.seek', { position: 10 }));
    expect(e.code).toBe('internal');
    expect(e.message).toMatch(/did not answer for 8 s .* was stopped; open the scenario again/);
    await ev.until(() => ev.got.some((x) => x.name === 'session.ended'));
    expect(await failure(h.request('session.control', { action: 'step' }))).toMatchObject({ code: 'no-session' });
    const again = await h.request('session.open', { file: 'a.yaml', text: PLAN9, lang: 'yaml' });
    expect(again.ok).toBe(true);
  }, 60_000);

  it('saves a recording and opens it again as a replay; exports the trace', async () => {
    const h = host();
    await h.request('session.open', { file: join(root, 'p.yaml'), text: PLAN9, lang: 'yaml' });
    await h.request('session.control', { action: 'step' });
    await h.request('session.type', { domid: 1, data: 'echo again\r' });
    await h.request('session.seek', { position: 200 });
    const saved = await h.request('session.saveRecording', { path: join(root, 'r.json') });
    expect(saved.bytes).toBeGreaterThan(100);
    expect(readFileSync(join(root, 'r.json'), 'utf8')).toMatch(/"format": "xenlab-recording"/);
    const r = await h.request('session.openRecording', { path: join(root, 'r.json') });
    expect(r.ok && r.session.replay).toBe(true);
    expect(new TextDecoder().decode(fromBase64((await h.request('session.consoleText', { domid: 1 })).data))).toContain('again');
    const st = await h.request('session.control', { action: 'pause' });
    const ex = await h.request('session.exportTrace', { path: join(root, 't.jsonl'), format: 'jsonl' });
    expect(ex.path).toBe(join(root, 't.jsonl'));
    expect(readFileSync(join(root, 't.jsonl'), 'utf8').trim().split('\n')).toHaveLength(st.records);
    expect(await failure(h.request('session.exportTrace', { path: join(outside, 't.jsonl'), format: 'jsonl' }))).toMatchObject({ code: 'denied' });
  });

  it('gives a re-attaching UI its session back', async () => {
    const h = host();
    expect(await h.request('session.sync', { traceFrom: 0 })).toEqual({ session: null, consoles: [], failures: [] });
    await h.request('session.open', { file: 'p.yaml', text: PLAN9, lang: 'yaml' });
    await h.request('session.control', { action: 'step' });
    const s = await h.request('session.sync', { traceFrom: 0 });
    expect(s.session?.name).toBe('Plan 9 boots on Xen 2.0');
    expect(s.status?.position).toBe(1);
    expect(new TextDecoder().decode(fromBase64(s.consoles.find((c) => c.domid === 1)!.data))).toContain('Plan 9');
  });
});

describe('files', () => {
  it('reads, writes atomically, and refuses to overwrite a file changed on disk', async () => {
    const h = host();
    const p = join(root, 'a.yaml');
    writeFileSync(p, 'name: a\n');
    const f = await h.request('files.read', { path: p });
    expect(f).toMatchObject({ path: p, text: 'name: a\n', lang: 'yaml' });
    const w = await h.request('files.write', { path: p, text: 'name: b\n', expectedMtimeMs: f.mtimeMs });
    expect(readFileSync(p, 'utf8')).toBe('name: b\n');
    expect(w.bytes).toBe(8);
    const e = await failure(h.request('files.write', { path: p, text: 'name: c\n', expectedMtimeMs: f.mtimeMs }));
    expect(e.code).toBe('conflict');
    expect(e.message).toMatch(/changed on disk since it was opened/);
    expect(readFileSync(p, 'utf8')).toBe('name: b\n');
    expect(readdirSync(root).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the old file and says why when a write fails', async () => {
    if (process.getuid?.() === 0) return; // root writes anywhere: a read-only folder cannot fail here
    const h = host();
    const ro = join(root, 'ro');
    mkdirSync(ro, { recursive: true });
    writeFileSync(join(ro, 'k.yaml'), 'keep\n');
    chmodSync(ro, 0o555);
    try {
      const e = await failure(h.request('files.write', { path: join(ro, 'k.yaml'), text: 'new\n' }));
      expect(e.code).toBe('io');
      expect(e.message).toMatch(/permission denied/);
      expect(readFileSync(join(ro, 'k.yaml'), 'utf8')).toBe('keep\n');
    } finally {
      chmodSync(ro, 0o755);
    }
  });

  it('says why a write fails when the folder is gone, and leaves nothing', async () => {
    const h = host();
    const e = await failure(h.request('files.write', { path: join(root, 'nope', 'x.yaml'), text: 'x' }));
    expect(e.code).toBe('not-found');
    expect(e.message).toMatch(/the folder must exist/);
  });

  it('in web mode, refuses paths outside the roots, also through a symlink, naming the allowed roots', async () => {
    const h = host();
    const e = await failure(h.request('files.read', { path: join(outside, 'secret.yaml') }));
    expect(e.code).toBe('denied');
    expect(e.message).toContain(`work (${root})`);
    symlinkSync(join(outside, 'secret.yaml'), join(root, 'link.yaml'));
    expect(await failure(h.request('files.read', { path: join(root, 'link.yaml') }))).toMatchObject({ code: 'denied' });
    expect(await failure(h.request('files.write', { path: join(root, 'link.yaml'), text: 'x' }))).toMatchObject({ code: 'denied' });
    expect(readFileSync(join(outside, 'secret.yaml'), 'utf8')).toBe('name: secret\n');
    expect(await failure(h.request('files.read', { path: `${root}/../outside/secret.yaml` }))).toMatchObject({ code: 'denied' });
    expect(await failure(h.request('files.read', { path: 'relative.yaml' }))).toMatchObject({ code: 'bad-request' });
    const listing = await h.request('files.list', { path: root });
    expect(listing.entries.map((x) => x.name)).not.toContain('link.yaml');
  });

  it('in desktop mode, reaches any absolute path', async () => {
    const h = host({ mode: 'electron' });
    expect((await h.request('files.read', { path: join(outside, 'secret.yaml') })).text).toBe('name: secret\n');
  });

  it('lists folders first, and keeps recent files in the data folder', async () => {
    const h = host({ dataDir: join(dir, 'data-recent') });
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'z.yaml'), 'name: z\n');
    const l = await h.request('files.list', { path: root });
    expect(l.entries[0]).toMatchObject({ name: 'sub', kind: 'dir' });
    await h.request('files.read', { path: join(root, 'z.yaml') });
    const recent = await h.request('files.recent', {});
    expect(recent.files[0]!.path).toBe(join(root, 'z.yaml'));
    expect(existsSync(join(dir, 'data-recent', 'recent.json'))).toBe(true);
  });

  it('refuses a binary file with a message', async () => {
    const h = host();
    writeFileSync(join(root, 'bin.yaml'), Buffer.from([1, 0, 2]));
    expect(await failure(h.request('files.read', { path: join(root, 'bin.yaml') }))).toMatchObject({ code: 'input', message: 'this is not a text file (it contains a NUL byte)' });
  });

  it("has no dialogs in web mode, and uses the desktop's", async () => {
    expect(await host().request('files.pickOpen', { kind: 'scenario' })).toEqual({ path: null });
    const h = host({ mode: 'electron', dialogs: { pickOpen: (k) => Promise.resolve(`/picked/${k}`), pickSave: (k, s) => Promise.resolve(`/saved/${k}/${s}`) } });
    expect(await h.request('files.pickOpen', { kind: 'recording' })).toEqual({ path: '/picked/recording' });
    expect(await h.request('files.pickSave', { kind: 'trace', suggested: 't.jsonl' })).toEqual({ path: '/saved/trace/t.jsonl' });
  });
});

describe('exercises', () => {
  const PACK = join(SCENARIOS, 'exercises');
  const SOLUTIONS = join(import.meta.dirname, '../exercises');

  it('lists the shipped pack in order, with goals, hints and checks, TypeScript exercises too', async () => {
    const h = host();
    const { exercises } = await h.request('exercises.list', {});
    expect(exercises).toHaveLength(12);
    expect(exercises.map((e) => basename(e.path))).toEqual([...exercises.map((e) => basename(e.path))].sort());
    expect(exercises[0]?.title).toMatch(/timer/i);
    expect(exercises[0]?.level).toBe(1);
    expect(exercises.find((e) => e.path.endsWith('10-fifo-priorities.ts'))?.checks.length).toBeGreaterThan(0);
    for (const e of exercises) expect(e.goal.length, e.path).toBeGreaterThan(20);
  });

  it('opens a shipped exercise even in web mode with other roots, and refuses a file outside them', async () => {
    const h = host();
    const ex = await h.request('exercises.open', { path: join(PACK, '01-virq-timer.yaml') });
    expect(ex.text).toContain('exercise:');
    expect(ex.path).toBe(join(PACK, '01-virq-timer.yaml'));
    expect(await failure(h.request('exercises.open', { path: join(outside, 'secret.yaml') }))).toMatchObject({ code: 'denied' });
    writeFileSync(join(root, 'plain.yaml'), PLAN9);
    const e = await failure(h.request('exercises.open', { path: join(root, 'plain.yaml') }));
    expect(e.code).toBe('input');
    expect(e.message).toMatch(/not an exercise/);
  });

  it('grades the reference solution at 100% and the wrong one below, in the worker, the session left as it was', async () => {
    const h = host();
    await h.request('session.open', { file: 'plan9-boot.yaml', text: PLAN9, lang: 'yaml' });
    await h.request('session.control', { action: 'step' });
    const before = await h.request('session.sync', { traceFrom: 0 });
    const path = join(PACK, '02-interdomain-channel.yaml');
    const good = join(SOLUTIONS, '02-interdomain-channel', 'solution.yaml');
    const bad = join(SOLUTIONS, '02-interdomain-channel', 'wrong.yaml');
    const pass = await h.request('exercises.check', { path, solution: { file: good, text: readFileSync(good, 'utf8') } });
    expect(pass).toMatchObject({ path, result: 'SUCCESS', percent: 100 });
    expect(pass.console).toMatch(/Test result: SUCCESS/);
    const fail = await h.request('exercises.check', { path, solution: { file: bad, text: readFileSync(bad, 'utf8') } });
    expect(fail.result).toBe('FAILURE');
    expect(fail.percent).toBeLessThan(100);
    expect(fail.checks.some((c) => c.result === 'FAILURE' && c.message.length > 0)).toBe(true);
    const after = await h.request('session.sync', { traceFrom: 0 });
    expect(after.status).toEqual(before.status);
  });

  it('reports a solution that does not load as an ERROR pointing at it', async () => {
    const h = host();
    const path = join(PACK, '02-interdomain-channel.yaml');
    const r = await h.request('exercises.check', { path, solution: { file: '/tmp/mine.yaml', text: 'steps: [ {' } });
    expect(r.result).toBe('ERROR');
    expect(r.checks.some((c) => c.file === '/tmp/mine.yaml' || /mine\.yaml/.test(c.message))).toBe(true);
  });
});

describe('drafts', () => {
  it('keeps unsaved buffers, lists, reads and discards them', async () => {
    const h = host({ dataDir: join(dir, 'data-drafts') });
    await h.request('drafts.save', { key: 'buffer:/a.yaml', file: '/a.yaml', text: 'name: unsaved\n' });
    await h.request('drafts.save', { key: 'untitled', file: 'untitled.yaml', text: 'x' });
    const list = await h.request('drafts.list', {});
    expect(list.drafts.map((d) => d.key).sort()).toEqual(['buffer:/a.yaml', 'untitled']);
    expect(await h.request('drafts.read', { key: 'buffer:/a.yaml' })).toEqual({ file: '/a.yaml', text: 'name: unsaved\n' });
    await h.request('drafts.discard', { key: 'buffer:/a.yaml' });
    expect((await h.request('drafts.list', {})).drafts.map((d) => d.key)).toEqual(['untitled']);
    expect(await failure(h.request('drafts.read', { key: 'buffer:/a.yaml' }))).toMatchObject({ code: 'not-found' });
    // A second host (another window, after a crash) finds them.
    const h2 = host({ dataDir: join(dir, 'data-drafts') });
    expect((await h2.request('drafts.list', {})).drafts).toHaveLength(1);
  });
});
