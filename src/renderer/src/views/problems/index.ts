/**
 * Problems: what is wrong with the scenario (the host's checker, the
 * sandbox) and what failed as it ran (expectations, checks), each with its
 * place; a click goes there in the editor. Never blank: it says when there
 * is nothing wrong.
 */
import type { Problem, RunFailure } from '../../../../contract/session.js';
import type { View, ViewContext, ViewHandle } from '../../shell/registry.js';
import { h, icon } from '../../util/dom.js';
import { COMMAND_KEYS } from '../../../../contract/keys.js';

function mount(container: HTMLElement, ctx: ViewContext): ViewHandle {
  const list = h('div', { class: 'xl-problems', role: 'list', 'data-testid': 'problems' });
  container.append(list);

  const row = (kind: 'problem' | 'failure', p: Problem | RunFailure): HTMLElement => {
    const where = `${p.file.slice(p.file.lastIndexOf('/') + 1)}:${p.line}:${p.col}`;
    const f = kind === 'failure' ? (p as RunFailure) : undefined;
    const detail = f?.expected !== undefined ? `expected ${f.expected}${f.found === undefined ? '' : `, found ${f.found}`}` : 'hint' in p && p.hint !== undefined ? p.hint : '';
    const el = h(
      'div',
      { class: `xl-problem xl-problem-${kind}`, role: 'listitem', tabindex: '0', title: 'Go to it in the scenario' },
      icon('error'),
      h('span', { class: 'xl-problem-msg' }, `${p.path === '' ? '' : `${p.path}: `}${p.message}`),
      detail === '' ? undefined : h('span', { class: 'xl-problem-detail' }, detail),
      h('span', { class: 'xl-problem-where' }, kind === 'failure' ? `${where} · failed at position ${f!.position}` : where),
    );
    const go = (): void => ctx.select({ kind: 'location', line: p.line, col: p.col });
    el.addEventListener('click', go);
    el.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') go();
    });
    return el;
  };

  const render = (): void => {
    const { problems, failures } = ctx.session;
    list.replaceChildren();
    for (const p of problems) list.append(row('problem', p));
    for (const f of failures) list.append(row('failure', f));
    const n = problems.length + failures.length;
    if (n === 0) list.append(h('div', { class: 'xl-empty' }, ctx.session.info === undefined ? 'No problems.' : 'No problems: the scenario loads, and nothing it expects has failed.'));
    ctx.setBadge(n === 0 ? undefined : String(n));
  };
  ctx.session.on('problems', render);
  ctx.session.on('session', render);
  render();
  return {};
}

export const problemsView: View = {
  id: 'problems',
  title: 'Problems',
  area: 'bottom',
  order: 0,
  command: undefined,
  keys: COMMAND_KEYS['view.problems'],
  mount,
};
