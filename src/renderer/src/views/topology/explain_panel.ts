/**
 * The topology view's side panel. For a port: EVTCHNOP_status's answer
 * (session.portStatus) and why an event on it was or was not delivered
 * (session.explain): the verdict, each test the delivery path makes with
 * what the bits say and where Xen (or the guest) makes it, and the trace
 * records behind the verdict (a click selects one, for the event list and
 * the timeline). For a domain: what it is and its ports. Kept up to date as
 * the session moves: at most one request at a time, at most every
 * REFRESH_MS, and the last answer wins.
 */
import type { Explanation, PortStatus } from '../../../../contract/inspect.js';
import type { TopologyDomain } from '../../../../contract/session.js';
import { asHostError } from '../../host/connect.js';
import type { ViewContext } from '../../shell/registry.js';
import { formatNs, h, icon } from '../../util/dom.js';
import { DOMAIN_STATE_TEXT, domainMeta, peerText, portLabel, shownPorts } from './words.js';

export const REFRESH_MS = 250;

type Subject = { kind: 'port'; domid: number; port: number } | { kind: 'domain'; domid: number };

interface RecordInfo {
  kind: string;
  t: number;
  dom: number;
  summary: string;
}

export class ExplainPanel {
  readonly el: HTMLElement;
  private readonly title = h('div', { class: 'xl-explain-title', role: 'heading', 'aria-level': '2' });
  private readonly body = h('div', { class: 'xl-explain-body' });
  private readonly foot = h('div', { class: 'xl-explain-foot' });
  private subject: Subject | undefined;
  /** Bumped for each new subject or request: older answers are dropped. */
  private ticket = 0;
  private inFlight = false;
  private dirty = false;
  private lastAsked = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly records = new Map<number, RecordInfo>();
  /** The record selected (here or in another view): marked in the list. */
  private selectedRecord = -1;
  /** Called after each answer is drawn (tests and the view's own bookkeeping). */
  onUpdate: (() => void) | undefined;

  constructor(
    private readonly ctx: ViewContext,
    onClose: () => void,
  ) {
    const close = h('button', { class: 'xl-icon-button', title: 'Close (Escape)', 'aria-label': 'Close the explanation' }, icon('close'));
    close.addEventListener('click', onClose);
    this.el = h('aside', { class: 'xl-explain', 'aria-label': 'Port status and explanation', 'data-testid': 'explain' }, h('div', { class: 'xl-explain-head' }, this.title, close), this.body, this.foot);
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') onClose();
    });
  }

  get current(): Subject | undefined {
    return this.subject;
  }

  /** A record was selected somewhere: mark it where it is listed. */
  markRecord(seq: number): void {
    this.selectedRecord = seq;
    for (const b of this.body.querySelectorAll<HTMLElement>('.xl-explain-record[data-seq]')) {
      if (Number(b.dataset.seq) === seq) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
  }

  /** A new session: record summaries from the last one mean nothing now. */
  reset(): void {
    this.records.clear();
    this.selectedRecord = -1;
    this.clear();
  }

  clear(): void {
    this.subject = undefined;
    this.ticket++;
    this.body.replaceChildren();
    this.foot.textContent = '';
    this.title.textContent = '';
  }

  show(subject: Subject): void {
    const same = this.subject !== undefined && this.subject.kind === subject.kind && this.subject.domid === subject.domid && (subject.kind === 'domain' || (this.subject.kind === 'port' && this.subject.port === subject.port));
    this.subject = subject;
    if (!same) {
      this.ticket++;
      this.body.replaceChildren(h('div', { class: 'xl-explain-wait' }, 'Asking the machine…'));
    }
    this.refreshNow();
  }

  /** The session moved (a step, a topology change): refresh, throttled. */
  moved(): void {
    if (this.subject === undefined) return;
    if (this.inFlight) {
      this.dirty = true;
      return;
    }
    const wait = this.lastAsked + REFRESH_MS - performance.now();
    if (wait <= 0) this.refreshNow();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.refreshNow();
      }, wait);
    }
  }

  private refreshNow(): void {
    const s = this.subject;
    if (s === undefined) return;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.lastAsked = performance.now();
    this.inFlight = true;
    this.dirty = false;
    const ticket = ++this.ticket;
    const done = (): void => {
      this.inFlight = false;
      if (this.dirty) this.moved();
    };
    if (s.kind === 'domain') {
      this.drawDomain(s.domid);
      done();
      return;
    }
    const position = this.ctx.session.status?.position;
    Promise.all([this.ctx.host.request('session.portStatus', { domid: s.domid, port: s.port }), this.ctx.host.request('session.explain', { domid: s.domid, port: s.port })])
      .then(async ([status, why]) => {
        const recs = await this.recordInfos(why.records);
        if (ticket !== this.ticket) return;
        this.drawPort(status, why, recs, position);
      })
      .catch((e: unknown) => {
        if (ticket !== this.ticket) return;
        const t = this.ctx.session.topology;
        this.title.textContent = `Port ${s.port} of ${t?.domains.find((d) => d.domid === s.domid)?.name ?? `dom${s.domid}`}`;
        this.body.replaceChildren(h('div', { class: 'xl-explain-error', role: 'alert' }, asHostError(e).message));
      })
      .finally(() => {
        // An answer overtaken by a newer subject leaves the newer request's bookkeeping alone.
        if (ticket === this.ticket) done();
        this.onUpdate?.();
      });
  }

  /** One-line summaries of the records an explanation cites (kept: a seq always names the same record in a session). */
  private async recordInfos(seqs: readonly number[]): Promise<Map<number, RecordInfo>> {
    const want = seqs.filter((s) => !this.records.has(s));
    await Promise.all(
      want.map((seq) =>
        this.ctx.host.request('session.record', { seq }).then(
          ({ record }) => {
            this.records.set(seq, { kind: String(record.kind ?? '?'), t: Number(record.t ?? 0), dom: Number(record.dom ?? -1), summary: String(record.summary ?? '') });
          },
          () => undefined, // gone after a step back: listed by its number only
        ),
      ),
    );
    return this.records;
  }

  private domainName(domid: number): string {
    return this.ctx.session.topology?.domains.find((d) => d.domid === domid)?.name ?? `dom${domid}`;
  }

  private drawPort(st: PortStatus, why: Explanation, recs: Map<number, RecordInfo>, position: number | undefined): void {
    const name = this.domainName(st.domid);
    this.title.replaceChildren(h('span', {}, `Port ${st.port}`), h('span', { class: 'xl-explain-sub' }, ` of ${name} (dom${st.domid})`));
    const facts: [string, string][] = [['status', `EVTCHNSTAT_${st.status}`]];
    for (const [k, v] of Object.entries(st.detail)) facts.push([k, k === 'dom' ? `${this.domainName(v)} (${v})` : String(v)]);
    facts.push(['vCPU', String(st.vcpu)], ['pending', st.pending ? 'yes' : 'no'], ['masked', st.masked ? 'yes' : 'no']);
    if (st.priority !== undefined) facts.push(['priority', String(st.priority)]);
    if (st.linked !== undefined) facts.push(['linked', st.linked ? 'yes' : 'no']);
    const status = h('dl', { class: 'xl-explain-facts', 'aria-label': 'EVTCHNOP_status' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-fact': k }, v)]));
    const verdict = h('p', { class: `xl-explain-verdict ${why.deliverable ? 'xl-ok' : 'xl-not'}`, 'data-testid': 'verdict' }, why.verdict);
    const steps = h(
      'ol',
      { class: 'xl-explain-steps', 'aria-label': 'The tests the delivery path makes, in order' },
      ...why.steps.map((s) =>
        h(
          'li',
          { class: s.ok ? 'xl-ok' : 'xl-not', 'data-check': s.check },
          h('span', { class: 'xl-explain-mark', 'aria-label': s.ok ? 'passes' : 'fails' }, s.ok ? '✓' : '✗'),
          h('div', { class: 'xl-explain-step' }, h('div', { class: 'xl-explain-check' }, s.check), h('div', { class: 'xl-explain-detail' }, s.detail), h('cite', { class: 'xl-explain-source', title: 'Where this test is made' }, s.source)),
        ),
      ),
    );
    const list = h('div', { class: 'xl-explain-records', role: 'list', 'aria-label': 'Trace records behind the verdict' });
    for (const seq of why.records) {
      const r = recs.get(seq);
      const b = h(
        'button',
        { class: 'xl-explain-record', role: 'listitem', 'data-seq': String(seq), title: 'Select this record (the event list and the timeline show it)', 'aria-current': seq === this.selectedRecord ? 'true' : undefined },
        h('span', { class: 'xl-explain-seq' }, `#${seq}`),
        h('span', { class: 'xl-explain-kind' }, r === undefined ? '' : `${r.kind} · ${this.domainName(r.dom)}`),
        h('span', { class: 'xl-explain-sum' }, r === undefined ? 'not in the trace now' : r.summary),
        h('span', { class: 'xl-explain-t' }, r === undefined ? '' : formatNs(r.t)),
      );
      b.addEventListener('click', () => this.ctx.select({ kind: 'record', seq }));
      list.append(b);
    }
    const sections = [h('section', { class: 'xl-explain-section' }, h('h3', {}, 'Why'), verdict, steps)];
    if (why.records.length > 0) sections.push(h('section', { class: 'xl-explain-section' }, h('h3', {}, 'Records behind it'), list));
    sections.push(h('section', { class: 'xl-explain-section' }, h('h3', {}, 'EVTCHNOP_status'), status));
    this.body.replaceChildren(...sections);
    this.foot.textContent = position === undefined ? '' : `As of position ${position.toLocaleString('en-US')}`;
  }

  private drawDomain(domid: number): void {
    const d = this.ctx.session.topology?.domains.find((x) => x.domid === domid);
    this.title.replaceChildren(h('span', {}, d?.name ?? `dom${domid}`), h('span', { class: 'xl-explain-sub' }, ` (dom${domid})`));
    if (d === undefined) {
      this.body.replaceChildren(h('div', { class: 'xl-explain-error' }, `Domain ${domid} is not in this session's machine.`));
      return;
    }
    const facts: [string, string][] = [
      ['state', DOMAIN_STATE_TEXT[d.state]],
      ['kernel', d.kernel],
      ['event ABI', d.abi === 'fifo' ? 'FIFO (event_fifo.c)' : '2-level (event_2l.c)'],
      ['vCPUs', String(d.vcpus)],
    ];
    this.body.replaceChildren(
      h('section', { class: 'xl-explain-section' }, h('p', { class: 'xl-explain-meta' }, domainMeta(d)), h('dl', { class: 'xl-explain-facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
      h('section', { class: 'xl-explain-section' }, h('h3', {}, 'Ports'), this.portList(d)),
    );
    this.foot.textContent = 'Select a port for its status and why its events were or were not delivered.';
  }

  private portList(d: TopologyDomain): HTMLElement {
    const ports = shownPorts(d);
    if (ports.length === 0) return h('p', { class: 'xl-explain-meta' }, d.state === 'destroyed' ? 'None: the domain is gone.' : 'None bound yet.');
    const list = h('div', { class: 'xl-explain-records', role: 'list' });
    for (const p of ports) {
      const b = h(
        'button',
        { class: 'xl-explain-record', role: 'listitem', 'data-port': String(p.port) },
        h('span', { class: 'xl-explain-seq' }, String(p.port)),
        h('span', { class: 'xl-explain-kind' }, p.state),
        h('span', { class: 'xl-explain-sum' }, `${portLabel(p)} ${peerText(p, (x) => this.domainName(x))}`.trim()),
        h('span', { class: 'xl-explain-t' }, [p.pending ? 'pending' : '', p.masked ? 'masked' : ''].filter(Boolean).join(' · ')),
      );
      b.addEventListener('click', () => this.ctx.select({ kind: 'port', domid: d.domid, port: p.port }));
      list.append(b);
    }
    return list;
  }
}
