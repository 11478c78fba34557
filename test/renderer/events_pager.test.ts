// The event list's pager against a real lab session (the host's own paging, no worker): rows
// for the part of the list in view and nothing else, a filter's count and rows, a record located
// among the matches, rows dropped when the session steps back, the end of a growing trace, and
// requests bounded — two in flight at most, none started closer together than the interval,
// none again for a page the host refused. Time is the test's own clock.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordIndex, RecordsPage } from '../../src/contract/session.js';
import { compileScenario } from '../../src/host/lab/compile.js';
import { LabSession, type SessionSink } from '../../src/host/lab/session.js';
import { RecordPager, type PagerHost } from '../../src/renderer/src/views/events/pager.js';

const sink: SessionSink = { event() {}, busy() {} };
let sessions: LabSession[] = [];
afterEach(() => {
  for (const s of sessions) s.close();
  sessions = [];
});

async function session(file: string): Promise<LabSession> {
  const c = await compileScenario(file, readFileSync(join(import.meta.dirname, '../../scenarios', file), 'utf8'), 'yaml');
  if (!c.ok) throw new Error(JSON.stringify(c.problems));
  const s = LabSession.start(c.compiled, sink);
  sessions.push(s);
  return s;
}

/** The test's clock and timers: `advance` runs what falls due. */
class Clock {
  t = 1000;
  private timers: { at: number; fn: () => void }[] = [];
  now = (): number => this.t;
  later = (fn: () => void, ms: number): void => void this.timers.push({ at: this.t + ms, fn });
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** The session's paging as the pager's host, counting requests and those in flight. */
function hostOf(s: LabSession, opts: { hold?: boolean; refuse?: boolean } = {}) {
  const log = { records: [] as { filter: string; from: number; count: number }[], inFlight: 0, maxInFlight: 0, release: [] as (() => void)[] };
  const answer = <T>(f: () => T): Promise<T> => {
    log.inFlight++;
    log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
    return new Promise<T>((resolve, reject) => {
      const go = (): void => {
        log.inFlight--;
        if (opts.refuse === true) reject(new Error('there is no session'));
        else resolve(f());
      };
      if (opts.hold === true) log.release.push(go);
      else go();
    });
  };
  const host: PagerHost = {
    records: (filter, from, count) => {
      log.records.push({ filter, from, count });
      return answer<RecordsPage>(() => s.records(filter, from, count));
    },
    recordIndex: (filter, seq) => answer<RecordIndex>(() => s.recordIndex(filter, seq)),
  };
  return { host, log };
}

describe('the event list pager', () => {
  it('fetches the pages in view once, and the rows are the host’s records', async () => {
    const s = await session('minios-shutdown.yaml');
    s.seek(100);
    const count = s.status().records;
    const clock = new Clock();
    const { host, log } = hostOf(s);
    const p = new RecordPager(host, { now: clock.now, later: clock.later });
    p.setFilter('', count);
    expect(p.total).toBe(count);
    expect(log.records).toHaveLength(0); // nothing in view, nothing asked
    p.setVisible(90, 120);
    await clock.advance(200);
    expect(log.records.map((r) => r.from)).toEqual([0, 100]);
    for (let i = 90; i < 120; i++) expect(p.row(i)!.seq).toBe(i);
    expect(p.row(90)!.summary).toBe(s.records('', 90, 1).rows[0]!.summary);
    // Looking at the same rows again asks nothing.
    for (let k = 0; k < 10; k++) p.setVisible(95, 115);
    await clock.advance(500);
    expect(log.records).toHaveLength(2);
  });

  it("with a filter: the host's count and the matching rows; a record located among them", async () => {
    const s = await session('minios-shutdown.yaml');
    s.seek(100);
    const count = s.status().records;
    const clock = new Clock();
    const { host } = hostOf(s);
    const p = new RecordPager(host, { now: clock.now, later: clock.later });
    p.setFilter('kind==hypercall && op==send', count);
    expect(p.total).toBeUndefined();
    p.setVisible(0, 0);
    await clock.advance(100);
    const all = s.records('', 0, 1000).rows;
    const sends = all.filter((r) => r.kind === 'hypercall' && (r.fields.op as string) === 'send');
    expect(p.total).toBe(sends.length);
    p.setVisible(0, sends.length);
    await clock.advance(100);
    expect(Array.from({ length: sends.length }, (_, i) => p.row(i)!.seq)).toEqual(sends.map((r) => r.seq));
    expect(await p.locate(sends[3]!.seq)).toEqual({ index: 3, matches: true, total: sends.length });
    expect(await p.locate(sends[3]!.seq + 1)).toEqual({ index: 4, matches: false, total: sends.length });
    // Without a filter, a record is where its seq says.
    p.setFilter('', count);
    expect(await p.locate(17)).toEqual({ index: 17, matches: true, total: count });
  });

  it('drops the rows after a step back, and the filtered count with them', async () => {
    const s = await session('minios-shutdown.yaml');
    s.seek(100);
    const count = s.status().records;
    const clock = new Clock();
    const { host } = hostOf(s);
    const p = new RecordPager(host, { now: clock.now, later: clock.later, pageRows: 50 });
    p.setFilter('kind==handler', count);
    p.setVisible(0, 50);
    await clock.advance(100);
    const before = p.total!;
    expect(before).toBeGreaterThan(5);
    // Back to a position where about half the trace exists.
    let pos = s.position;
    while (s.status().records > count / 2 && pos > 0) s.seek(--pos);
    const cut = s.status().records;
    expect(cut).toBeLessThan(count);
    p.setTraceCount(cut, cut);
    await clock.advance(200);
    const handlers = s.records('kind==handler', 0, 1000).rows;
    expect(p.total).toBe(handlers.length);
    expect(p.total).toBeLessThan(before);
    for (let i = 0; i < 50; i++) expect(p.row(i)?.seq).toBe(handlers[i]?.seq);
  });

  it('follows a growing trace: the end is fetched for its new rows, and the rows shown stop at what is here', async () => {
    const s = await session('plan9-boot.yaml');
    s.seek(200);
    const clock = new Clock();
    const { host, log } = hostOf(s);
    const p = new RecordPager(host, { now: clock.now, later: clock.later, tailIntervalMs: 60, minIntervalMs: 40 });
    const count = s.status().records;
    p.setFilter('', count);
    p.setVisible(count - 20, count);
    await clock.advance(50);
    expect(p.followTotal()).toBe(count);
    const asked = log.records.length;
    // The trace grows: for a moment the list shows up to the rows it has, then the new ones come.
    while (s.status().records === count) s.seek(s.position + 1);
    const grown = s.status().records;
    expect(grown - count).toBeLessThan(100);
    expect(grown).toBeGreaterThan(count);
    p.setTraceCount(grown);
    expect(p.followTotal()).toBe(count);
    p.setVisible(grown - 20, grown);
    await clock.advance(200);
    expect(p.followTotal()).toBe(grown);
    expect(p.row(grown - 1)!.seq).toBe(grown - 1);
    // Only the new rows were asked for.
    const tail = log.records.slice(asked);
    expect(tail.length).toBeGreaterThan(0);
    expect(tail.every((r) => r.from >= count - (count % 100))).toBe(true);
    // Far behind (more than the last two pages): the rows are shown at once, their summaries as they come.
    s.seek(s.position + 100);
    p.setTraceCount(s.status().records);
    expect(p.followTotal()).toBe(s.status().records);
  });

  it('keeps requests bounded: two in flight, one started per interval, however fast the view moves', async () => {
    const s = await session('plan9-boot.yaml');
    s.seek(300);
    const count = s.status().records;
    const clock = new Clock();
    const { host, log } = hostOf(s, { hold: true });
    const p = new RecordPager(host, { now: clock.now, later: clock.later, minIntervalMs: 40, pageRows: 50 });
    p.setFilter('', count);
    // A drag across the whole list: a new range every 16 ms "frame" for a second.
    for (let f = 0; f < 60; f++) {
      const first = Math.floor((f / 60) * (count - 30));
      p.setVisible(first, first + 30);
      await clock.advance(16);
      if (f % 4 === 3) for (const go of log.release.splice(0)) go();
    }
    expect(log.maxInFlight).toBeLessThanOrEqual(2);
    expect(log.records.length).toBeLessThanOrEqual(Math.ceil((60 * 16) / 40) + 1);
    expect(log.records.length).toBeGreaterThan(5);
  });

  it('does not ask again at once for a page the host refused, and says why', async () => {
    const s = await session('minios-shutdown.yaml');
    s.seek(50);
    const clock = new Clock();
    const { host, log } = hostOf(s, { refuse: true });
    const p = new RecordPager(host, { now: clock.now, later: clock.later });
    let changes = 0;
    p.onChange = () => changes++;
    p.setFilter('', s.status().records);
    p.setVisible(0, 20);
    await clock.advance(1000);
    expect(log.records).toHaveLength(1);
    expect(p.error?.message).toBe('there is no session');
    expect(changes).toBeGreaterThan(0);
    p.setVisible(0, 21);
    await clock.advance(1500);
    expect(log.records).toHaveLength(2);
  });

  it("shows the host's error for a filter it cannot parse", async () => {
    const s = await session('xen2-shutdown.yaml');
    s.seek(50);
    const clock = new Clock();
    const { host } = hostOf(s);
    const p = new RecordPager(host, { now: clock.now, later: clock.later });
    // VIRQ_ARGO is not a Xen 2.0 VIRQ: the host (parsing for the session's Xen) says where.
    p.setFilter('virq==VIRQ_ARGO', s.status().records);
    await clock.advance(100);
    expect(p.total).toBe(0);
    expect(p.error?.start).toBe(6);
    expect(p.error?.message).toMatch(/VIRQ/);
  });
});
