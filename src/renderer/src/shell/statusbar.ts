/**
 * The status bar: run state, virtual clock, position (and the step), the
 * rates, records and failures on the left; the scenario's Xen version, ABI
 * and seed, and the connection, on the right.
 */
import type { SessionInfo, SessionStatus } from '../../../contract/session.js';
import { formatNs, grouped, h } from '../util/dom.js';

export class StatusBar {
  private readonly state = h('span', { class: 'xl-state', 'data-testid': 'run-state' }, 'No session');
  private readonly clock = h('span', { class: 'xl-stat', title: 'Virtual time', 'data-testid': 'clock' });
  private readonly position = h('span', { class: 'xl-stat', title: 'Units taken since the start (a unit is a scenario step or one machine event)', 'data-testid': 'position' });
  private readonly rates = h('span', { class: 'xl-stat', title: 'Measured over the last second' });
  private readonly records = h('span', { class: 'xl-stat', title: 'Trace records so far' });
  private readonly failures = h('button', { class: 'xl-stat xl-failures', title: 'Expectations and checks that failed: open the problems panel', 'data-testid': 'failures' });
  private readonly notice = h('span', { class: 'xl-stat xl-status-notice' });
  private readonly meta = h('span', { class: 'xl-stat xl-meta' });
  private readonly conn = h('span', { class: 'xl-stat xl-conn', 'data-testid': 'connection' });

  constructor(el: HTMLElement, onFailures: () => void) {
    this.failures.addEventListener('click', onFailures);
    el.append(
      h('div', { class: 'xl-status-left' }, this.state, this.clock, this.position, this.rates, this.records, this.failures, this.notice),
      h('div', { class: 'xl-status-right' }, this.meta, this.conn),
    );
    this.update(undefined, undefined);
  }

  update(info: SessionInfo | undefined, s: SessionStatus | undefined): void {
    if (s === undefined || info === undefined) {
      this.state.textContent = 'No session';
      this.state.dataset.state = 'none';
      for (const el of [this.clock, this.position, this.rates, this.records, this.failures, this.notice]) el.hidden = true;
      this.meta.textContent = '';
      return;
    }
    for (const el of [this.clock, this.position, this.rates, this.records, this.failures]) el.hidden = false;
    this.state.textContent = s.state === 'running' ? 'Running' : s.state === 'idle' ? 'Idle' : 'Paused';
    this.state.dataset.state = s.state;
    this.clock.textContent = `t = ${formatNs(s.now)}`;
    const step = s.scriptDone ? 'script done' : `step ${Math.min(s.stepIndex + 1, info.steps.length)}/${info.steps.length}`;
    this.position.textContent = `position ${grouped(s.position)} · ${step}`;
    this.rates.textContent = s.state === 'running' ? `${grouped(s.unitsPerSecond)} units/s · ${grouped(s.recordsPerSecond)} records/s` : '';
    this.rates.hidden = s.state !== 'running';
    this.records.textContent = `${grouped(s.records)} records`;
    this.failures.textContent = s.failures === 1 ? '1 failure' : `${grouped(s.failures)} failures`;
    this.failures.classList.toggle('xl-bad', s.failures > 0);
    this.notice.textContent = s.notice ?? '';
    this.notice.hidden = s.notice === undefined;
    this.notice.title = s.notice ?? '';
    this.meta.textContent = `${info.replay ? 'replay · ' : ''}Xen ${info.xen} · ${info.abi === 'fifo' ? 'FIFO' : '2-level'} · seed ${info.seed}`;
  }

  connection(text: string, ok: boolean): void {
    this.conn.textContent = text;
    this.conn.classList.toggle('xl-bad', !ok);
  }
}
