/**
 * Events: one row per trace record, like Wireshark's packet list — number,
 * virtual time, domain, vCPU, kind (coloured) and a summary —, filtered in
 * the trace filter language (docs/filter.md) checked as you type, with
 * completion and a history; a detail pane with every field of the selected
 * record, where a right-click filters by a field. Follows new records
 * unless scrolled away; rows after a step back's position go. Selecting a
 * row tells the other views (a record selection); a record selected
 * elsewhere is scrolled to.
 */
import type { RecordRow, SessionInfo } from '../../../../contract/session.js';
import { fieldFilter } from '../../../../core/sim/filter.js';
import type { Selection, View, ViewContext, ViewHandle } from '../../shell/registry.js';
import { grouped, h, icon } from '../../util/dom.js';
import { DetailPane } from './detail.js';
import { FilterBox } from './filter_box.js';
import { cellField, composeFilter, copyText, domainLabel, formatTime, isFilterField, type ColumnId, type ComposeMode } from './format.js';
import { EventList, type RowData } from './list.js';
import { RecordPager } from './pager.js';
import { contextMenu, type PopupItem } from './popup.js';
import './events.css';
import { COMMAND_KEYS } from '../../../../contract/keys.js';

type FieldRecord = Parameters<typeof fieldFilter>[0];

const DETAIL_WIDTH_KEY = 'xenlab.events.detailWidth';
const CLEAR = { label: 'Clear the filter', filter: '' };

function mount(container: HTMLElement, ctx: ViewContext): ViewHandle {
  const session = ctx.session;
  let info: SessionInfo | undefined = session.info;
  const names = new Map<number, string>();
  const xen = (): '2.0' | '4' => info?.xen ?? '4';

  // ---- the parts

  const pager = new RecordPager({
    records: (filter, from, count) => ctx.host.request('session.records', { filter, from, count }),
    recordIndex: (filter, seq) => ctx.host.request('session.recordIndex', { filter, seq }),
  });
  let visibleFirst = 0;
  let visibleEnd = 0;
  const source = {
    count: () => (list.follow ? pager.followTotal() : (pager.total ?? 0)),
    fill(i: number, out: RowData): boolean {
      const r = pager.row(i);
      if (r !== undefined) {
        out.seq = r.seq;
        out.t = r.t;
        out.dom = r.dom;
        out.vcpu = r.vcpu ?? -1;
        out.kind = r.kind;
        out.summary = r.summary;
        return true;
      }
      const tr = session.trace;
      if (pager.filtered || i >= tr.count) return false;
      // Without a filter, row i is record i: its columns are here already; its summary comes with its page.
      out.seq = i;
      out.t = tr.cols.t[i]!;
      out.dom = tr.cols.dom[i]!;
      out.vcpu = tr.cols.vcpu[i]!;
      out.kind = info?.traceKinds[tr.cols.kind[i]!] ?? '';
      out.summary = undefined;
      return true;
    },
    domainNames: () => names,
    visible(first: number, end: number): void {
      visibleFirst = first;
      visibleEnd = end;
      // Following, the list shows the rows here up to the end; the pager fetches the true end.
      const total = pager.total ?? 0;
      if (list.follow) pager.setVisible(Math.max(0, total - (end - first)), total);
      else pager.setVisible(first, end);
    },
  };

  const list = new EventList(source, {
    select: (index) => selectIndex(index),
    contextMenu: (index, column, x, y) => cellMenu(index, column, x, y),
    follow: (on) => followBtn.setAttribute('aria-pressed', String(on)),
    copy: (index) => {
      const r = pager.row(index);
      if (r !== undefined) copy(`${r.seq}\t${formatTime(r.t)}\t${r.dom}\t${r.vcpu ?? ''}\t${r.kind}\t${r.summary}`, 'the row');
    },
  });
  const filter = new FilterBox(xen, (text) => applyFilter(text), () => list.focus());
  const detail = new DetailPane(
    {
      fieldMenu: (row, x, y, from) => fieldMenu(row.path, detail.record, row.value, x, y, from),
      // Told to every view, this one too (which scrolls to it as it would for a timeline click).
      selectSeq: (seq) => ctx.select({ kind: 'record', seq }),
    },
    () => names,
  );

  const count = h('span', { class: 'xl-ev-count', 'data-testid': 'event-count', 'aria-live': 'polite' });
  const followBtn = h('button', { class: 'xl-icon-button xl-toggle', title: 'Follow new records (scroll to the newest)', 'aria-pressed': 'true', 'aria-label': 'Follow new records', 'data-testid': 'event-follow' }, icon('follow'));
  followBtn.addEventListener('click', () => list.setFollow(!list.follow));
  const notice = h('div', { class: 'xl-ev-notice', role: 'status', 'data-testid': 'event-notice' });
  notice.hidden = true;
  const emptyText = h('span', {});
  const emptyClear = h('button', { class: 'xl-ev-link' }, 'Clear the filter');
  emptyClear.addEventListener('click', () => {
    filter.set('');
    filter.apply();
  });
  const empty = h('div', { class: 'xl-ev-empty', 'data-testid': 'event-empty' }, emptyText, ' ', emptyClear);
  const splitter = h('div', { class: 'xl-ev-split', role: 'separator', 'aria-orientation': 'vertical', title: 'Drag to resize the detail pane' });
  const body = h('div', { class: 'xl-ev-body' }, h('div', { class: 'xl-ev-main' }, list.el, empty), splitter, detail.el);
  container.append(h('div', { class: 'xl-view-bar xl-ev-bar' }, filter.el, h('div', { class: 'xl-view-tools' }, count, followBtn)), filter.message, notice, body);
  container.classList.add('xl-ev-view');
  // Ctrl+F in the view goes to the filter (the list has nothing else to find with).
  container.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'f') {
      e.preventDefault();
      filter.input.focus();
      filter.input.select();
    }
  });
  setDetailWidth(Number(localStorage.getItem(DETAIL_WIDTH_KEY) ?? 320));
  dragSplitter();

  // ---- selection

  /** The selected record (kept across filters), its place in the list (-1: not in it, or not known yet). */
  let selSeq = -1;
  let detailAsk = 0;

  function selectIndex(index: number): void {
    const r = pager.row(index);
    const d: RowData = { seq: -1, t: 0, dom: -1, vcpu: -1, kind: '', summary: undefined };
    const known = source.fill(index, d);
    list.select(index, known ? d.seq : -1, 'none');
    if (!known) return; // its page is on its way: selected when it comes
    setSelected(d.seq, r, true);
  }

  /** `seq` is the selection now: the detail pane shows it, the other views hear of it (`tell`). */
  function setSelected(seq: number, row: RecordRow | undefined, tell: boolean): void {
    const changed = seq !== selSeq;
    selSeq = seq;
    hideNotice();
    if (row !== undefined) detail.show({ ...row.fields, summary: row.summary }, '');
    if (changed || row === undefined) fetchDetail(seq);
    if (tell && changed) ctx.select({ kind: 'record', seq });
  }

  /** The whole record (with its cause) from the host; the latest asked wins. */
  function fetchDetail(seq: number): void {
    const ask = ++detailAsk;
    setTimeout(() => {
      if (ask !== detailAsk) return;
      ctx.host.request('session.record', { seq }).then(
        (r) => {
          if (ask === detailAsk && seq === selSeq) detail.show(r.record, '');
        },
        (e: unknown) => {
          if (ask === detailAsk && seq === selSeq) detail.show(undefined, e instanceof Error ? e.message : String(e));
        },
      );
    }, 60);
  }

  /** Selects record `seq` and scrolls to it (a selection from another view, the cause link). */
  function selectSeq(seq: number, tell: boolean): void {
    if (info === undefined) return;
    setSelected(seq, undefined, tell);
    list.select(-1, seq, 'none');
    void pager.locate(seq).then((at) => {
      if (at === undefined || seq !== selSeq) return;
      if (at.matches) list.select(at.index, seq, 'center');
      else if (seq >= session.trace.count) showNotice(`Record ${grouped(seq)} is not in the list yet (the trace here has ${grouped(session.trace.count)} records).`);
      else showNotice(`Record ${grouped(seq)} is not in the list: the filter hides it.`, CLEAR);
    });
  }

  ctx.onSelect((sel: Selection) => {
    if (info === undefined) return;
    if (sel.kind === 'record') {
      if (sel.seq !== selSeq) selectSeq(sel.seq, false);
    } else if (sel.kind === 'port') {
      // A port chosen elsewhere (the topology, the inspector): its records are one click away.
      const f = `dom==${sel.domid} && port==${sel.port}`;
      if (filter.applied !== f) showNotice(`Port ${sel.port} of ${domainLabel(sel.domid, names)} is selected.`, { label: `Show its records: ${f}`, filter: f });
    } else if (sel.kind === 'domain') {
      const f = `dom==${sel.domid}`;
      if (filter.applied !== f) showNotice(`${domainLabel(sel.domid, names)} is selected.`, { label: `Show its records: ${f}`, filter: f });
    }
  });

  /** A line above the list; `action` applies a filter ('' clears it). */
  function showNotice(text: string, action?: { label: string; filter: string }): void {
    const go = action === undefined ? undefined : h('button', { class: 'xl-ev-link', 'data-testid': 'event-notice-action' }, action.label);
    go?.addEventListener('click', () => {
      filter.set(action!.filter);
      filter.apply();
    });
    const close = h('button', { class: 'xl-icon-button xl-ev-notice-close', title: 'Dismiss', 'aria-label': 'Dismiss' }, icon('close'));
    close.addEventListener('click', hideNotice);
    notice.replaceChildren(h('span', {}, text), ...(go === undefined ? [] : [go]), close);
    notice.hidden = false;
  }
  function hideNotice(): void {
    notice.hidden = true;
  }

  // ---- filtering

  let applyStart = -1;
  /** The time the last filter took to show, ms (also on the element, for the e2e figures). */
  function applyFilter(text: string): void {
    applyStart = performance.now();
    container.dataset.applying = 'true';
    hideNotice();
    pager.setFilter(text, session.trace.count);
    if (selSeq >= 0) {
      const seq = selSeq;
      list.select(-1, seq, 'none');
      void pager.locate(seq).then((at) => {
        if (at === undefined || seq !== selSeq) return;
        if (at.matches) list.select(at.index, seq, 'center');
        else showNotice(`The selected record ${grouped(seq)} is not in the list: the filter hides it.`, CLEAR);
      });
    } else if (!list.follow) list.top();
    list.focus();
  }

  function applyDone(): void {
    if (applyStart < 0 || pager.total === undefined) return;
    const total = pager.total;
    if (total > 0 && visibleEnd > visibleFirst && pager.row(visibleFirst) === undefined && pager.row(Math.min(total, visibleEnd) - 1) === undefined) return;
    const ms = performance.now() - applyStart;
    applyStart = -1;
    container.dataset.applyMs = String(Math.round(ms));
    delete container.dataset.applying;
  }

  function compose(clause: string, mode: ComposeMode): void {
    filter.set(composeFilter(filter.applied, clause, mode, xen()));
    filter.apply();
  }

  /** The menu for a field: filter by it (replace, and, and not) when a filter can name it, copy its value. */
  function fieldMenu(path: string, record: Readonly<Record<string, unknown>> | undefined, value: unknown, x: number, y: number, from: HTMLElement): void {
    let clause: string | undefined;
    if (record !== undefined && isFilterField(path)) {
      try {
        clause = fieldFilter(record as unknown as FieldRecord, path, { xen: xen() });
      } catch {
        clause = undefined;
      }
    }
    const cur = filter.applied;
    const off = clause === undefined;
    const why = off ? `'${path}' is not a field the filter language names` : undefined;
    const items: (PopupItem & { run?: () => void })[] = [
      { label: 'Filter by this value', code: clause ?? '', disabled: off, detail: why, run: () => compose(clause!, 'replace') },
      { label: 'Add to filter (and)', code: clause === undefined ? '' : cur === '' ? clause : `… && ${clause}`, disabled: off, detail: why, run: () => compose(clause!, 'and') },
      { label: 'Exclude (and not)', code: clause === undefined ? '' : composeFilter(cur === '' ? '' : '…', clause, 'exclude', xen()), disabled: off, detail: why, run: () => compose(clause!, 'exclude') },
      { label: '', separator: true },
      { label: 'Copy value', code: short(copyText(value)), run: () => copy(copyText(value), `the value of ${path}`) },
    ];
    contextMenu(items, x, y, from);
  }

  function cellMenu(index: number, column: ColumnId, x: number, y: number): void {
    const r = pager.row(index);
    if (r === undefined) return;
    selectIndex(index);
    const path = cellField(column, r.kind);
    const value = column === 'summary' && path !== 'kind' ? readPath(r.fields, path) : column === 'time' ? r.t : readPath(r.fields, path);
    fieldMenu(path, r.fields, value, x, y, list.scroller);
  }

  function copy(text: string, what: string): void {
    navigator.clipboard.writeText(text).then(
      () => ctx.notify(`Copied ${what}`),
      () => ctx.notify('The clipboard refused the copy', 'error'),
    );
  }

  // ---- the session

  /** Sets an element's text only when it changes (this runs for every trace batch). */
  function setText(el: HTMLElement, text: string): boolean {
    if (el.textContent === text) return false;
    el.textContent = text;
    return true;
  }

  function refresh(): void {
    const total = pager.total;
    const all = session.trace.count;
    const counted =
      info === undefined ? '' : !pager.filtered ? `${grouped(all)} record${all === 1 ? '' : 's'}` : total === undefined ? `filtering ${grouped(all)} records…` : `${grouped(total)} of ${grouped(all)} records`;
    setText(count, counted);
    count.title = pager.filtered ? `Records matching ${pager.filter}, of all the trace's records so far` : "The trace's records so far";
    let text = '';
    if (info === undefined) text = 'No session. Open a scenario (Ctrl+O) and run it (F5): its trace records show here, one row each.';
    else if (pager.error !== undefined && (total ?? 0) === 0) text = `The lab could not list the records: ${pager.error.message}`;
    else if (all === 0) text = 'No records yet: Run (F5) or Step (F10), and each thing the machine does shows here.';
    else if (total === undefined) text = 'Filtering…';
    else if (total === 0) text = `No record matches ${pager.filter} (of ${grouped(all)}).`;
    setText(emptyText, text);
    empty.hidden = text === '';
    emptyClear.hidden = !(pager.filtered && total === 0 && info !== undefined && all > 0);
    if (pager.error?.start !== undefined) filter.showHostError(pager.error);
    // A row chosen before its page came: now it has its record.
    if (list.selected >= 0 && list.selectedSeq < 0) {
      const r = pager.row(list.selected);
      if (r !== undefined) {
        list.select(list.selected, r.seq, 'none');
        setSelected(r.seq, r, true);
      }
    }
    applyDone();
    list.invalidate();
  }
  pager.onChange = refresh;

  session.on('session', (i) => {
    info = i;
    names.clear();
    for (const c of i?.consoles ?? []) names.set(c.domid, c.name);
    selSeq = -1;
    list.select(-1, -1, 'none');
    detail.show(undefined, '');
    hideNotice();
    filter.recheck();
    list.setFollow(true);
    pager.setFilter(filter.applied, 0);
  });
  session.on('trace', (t) => {
    pager.setTraceCount(t.count, t.truncated);
    if (selSeq >= t.count) {
      const gone = selSeq;
      selSeq = -1;
      list.select(-1, -1, 'none');
      detail.show(undefined, `Record ${grouped(gone)} is gone: the session stepped back before it.`);
    }
    // A selection before the cut keeps its place: the records (and matches) before it are the same.
  });
  session.on('ended', () => {
    info = undefined;
    selSeq = -1;
    list.select(-1, -1, 'none');
    detail.show(undefined, '');
    hideNotice();
    pager.setFilter(filter.applied, 0);
  });
  session.on('topology', (topo) => {
    let changed = false;
    for (const d of topo.domains) {
      if (names.get(d.domid) !== d.name) {
        names.set(d.domid, d.name);
        changed = true;
      }
    }
    if (changed) list.invalidate(true);
  });
  if (info !== undefined) {
    for (const c of info.consoles) names.set(c.domid, c.name);
    pager.setFilter('', session.trace.count);
  }
  refresh();

  // ---- layout

  function setDetailWidth(px: number): void {
    const w = Number.isFinite(px) ? Math.max(180, Math.min(900, px)) : 320;
    container.style.setProperty('--ev-detail-w', `${Math.round(w)}px`);
  }

  function dragSplitter(): void {
    splitter.addEventListener('pointerdown', (down) => {
      down.preventDefault();
      splitter.setPointerCapture(down.pointerId);
      const right = body.getBoundingClientRect().right;
      let w = detail.el.getBoundingClientRect().width;
      const move = (e: PointerEvent): void => {
        w = Math.max(180, Math.min(body.clientWidth - 240, right - e.clientX));
        setDetailWidth(w);
        list.measure();
      };
      const up = (): void => {
        splitter.removeEventListener('pointermove', move);
        splitter.removeEventListener('pointerup', up);
        try {
          localStorage.setItem(DETAIL_WIDTH_KEY, String(Math.round(w)));
        } catch {
          // not remembered
        }
      };
      splitter.addEventListener('pointermove', move);
      splitter.addEventListener('pointerup', up);
    });
  }

  exposeForTests(list, pager);

  return {
    shown() {
      list.setShown(true);
    },
    hidden() {
      list.setShown(false);
      pager.setVisible(0, 0);
    },
    resized() {
      list.measure();
    },
  };
}

function readPath(fields: Record<string, unknown>, path: string): unknown {
  let v: unknown = fields;
  for (const seg of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
  return v;
}

function short(s: string): string {
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

declare global {
  interface Window {
    /** With debug=1 in the page's address: the event list's counters, for end-to-end tests. */
    __xenlabEvents?: { requests(): number; rowsInDom(): number; drawing(): { frames: number; maxMs: number; totalMs: number } };
  }
}

function exposeForTests(list: EventList, pager: RecordPager): void {
  if (new URLSearchParams(location.search).get('debug') !== '1') return;
  window.__xenlabEvents = {
    requests: () => pager.requests,
    rowsInDom: () => list.scroller.querySelectorAll('.xl-ev-row:not([hidden])').length,
    drawing: () => ({ ...list.stats }),
  };
}

export const eventsView: View = {
  id: 'events',
  title: 'Events',
  area: 'bottom',
  order: 10,
  command: 'view.events',
  keys: COMMAND_KEYS['view.events'],
  mount,
};

