/**
 * The event list's filter box: the trace filter language
 * (src/core/sim/filter.ts) checked as you type — the error's range
 * underlined in place, its message with what was expected and found below,
 * a one-click fix when it suggests a name —, completion at the caret
 * (arrows, Tab or Enter to accept, Escape), the history of applied filters
 * (kept in localStorage), a clear button. Enter applies.
 */
import { filterCompletions, parseFilter, type FilterError, type FilterXen } from '../../../../core/sim/filter.js';
import { h, icon } from '../../util/dom.js';
import { pushHistory, readHistory, suggestionFix } from './format.js';
import { ListPopup, type PopupItem } from './popup.js';

const HISTORY_KEY = 'xenlab.events.filters.v1';

/** Characters after which completion opens by itself: a word being typed, a dot, an operator. */
const OPENS_COMPLETION = /[A-Za-z0-9_.=!<>~&|-]$/;
/** How long after the last key an error in the filter is shown. */
const ERROR_DELAY_MS = 400;

export class FilterBox {
  readonly el: HTMLElement;
  /** The message line under the bar (the view places it). */
  readonly message: HTMLElement;
  readonly input: HTMLInputElement;
  private readonly mirror: HTMLElement;
  private readonly before = document.createTextNode('');
  private readonly mark = h('span', { class: 'xl-ev-fmark' });
  private readonly after = document.createTextNode('');
  private readonly popup: ListPopup;
  private popupKind: 'complete' | 'history' = 'complete';
  private completeFrom = 0;
  private history: string[];
  private error: FilterError | undefined;
  /** The filter the list shows now. */
  applied = '';
  private measureCtx: CanvasRenderingContext2D | null = null;
  private showTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly xen: () => FilterXen,
    private readonly onApply: (text: string) => void,
    /** Escape with nothing to undo: back to the list. */
    private readonly onLeave: () => void = () => {},
  ) {
    this.history = readHistory(localStorage.getItem(HISTORY_KEY));
    this.input = h('input', {
      class: 'xl-ev-finput',
      type: 'text',
      placeholder: 'Filter: dom==1 && op==send   (Ctrl+F; Ctrl+Space: completion; Enter: apply)',
      'aria-label': 'Filter records',
      'aria-autocomplete': 'list',
      role: 'combobox',
      spellcheck: 'false',
      autocomplete: 'off',
      'data-testid': 'event-filter',
    });
    this.mirror = h('div', { class: 'xl-ev-fmirror', 'aria-hidden': 'true' });
    this.mirror.append(this.before, this.mark, this.after);
    this.popup = new ListPopup(this.input, 'Completions', (i) => this.accept(i));
    const historyBtn = h('button', { class: 'xl-icon-button', title: 'Recent filters (Alt+Down)', 'aria-label': 'Recent filters' }, icon('down'));
    const clearBtn = h('button', { class: 'xl-icon-button', title: 'Clear the filter', 'aria-label': 'Clear the filter', 'data-testid': 'event-filter-clear' }, icon('close'));
    const applyBtn = h('button', { class: 'xl-icon-button xl-ev-apply', title: 'Apply the filter (Enter)', 'aria-label': 'Apply the filter' }, icon('run'));
    this.el = h('div', { class: 'xl-ev-filter', 'data-state': 'empty' }, h('div', { class: 'xl-ev-fwrap' }, this.mirror, this.input), historyBtn, clearBtn, applyBtn);
    this.message = h('div', { class: 'xl-ev-fmsg', role: 'status', 'aria-live': 'polite', 'data-testid': 'event-filter-message' });
    this.message.hidden = true;

    this.input.addEventListener('input', () => {
      this.complete(false);
      this.check(true);
    });
    this.input.addEventListener('keydown', (e) => this.onKey(e));
    this.input.addEventListener('scroll', () => (this.mirror.scrollLeft = this.input.scrollLeft));
    this.input.addEventListener('keyup', () => (this.mirror.scrollLeft = this.input.scrollLeft));
    this.input.addEventListener('blur', () => this.popup.close());
    this.input.addEventListener('click', () => this.popup.close());
    historyBtn.addEventListener('mousedown', (e) => e.preventDefault());
    historyBtn.addEventListener('click', () => (this.popup.open && this.popupKind === 'history' ? this.popup.close() : this.showHistory()));
    clearBtn.addEventListener('click', () => {
      this.set('');
      this.apply();
    });
    applyBtn.addEventListener('click', () => this.apply());
  }

  get text(): string {
    return this.input.value;
  }

  /** Sets the text (checked, not applied). */
  set(text: string): void {
    this.input.value = text;
    this.popup.close();
    this.check();
  }

  /** Checks the text again (the session's Xen changed). */
  recheck(): void {
    this.check();
  }

  /** Applies the text when it parses: the list pages it from the host; it joins the history. */
  apply(): boolean {
    this.popup.close();
    const text = this.input.value.trim();
    this.check();
    if (this.error !== undefined) {
      this.input.focus();
      return false;
    }
    this.applied = text;
    if (text !== '') {
      this.history = pushHistory(this.history, text);
      try {
        localStorage.setItem(HISTORY_KEY, JSON.stringify(this.history));
      } catch {
        // not remembered
      }
    }
    this.markDirty();
    this.onApply(text);
    return true;
  }

  /** The host found an error the box did not (it parses for the session's Xen): show it. */
  showHostError(e: { start?: number; end?: number; message: string } | undefined): void {
    if (e === undefined) return this.check();
    this.render({ start: e.start ?? 0, end: e.end ?? this.input.value.length, message: e.message });
  }

  // ---- checking

  /**
   * Parses the text. `typing`: an error is shown once typing stops (and the
   * completion list is closed), not at every half-typed word; a text that
   * parses is shown at once.
   */
  private check(typing = false): void {
    clearTimeout(this.showTimer);
    const text = this.input.value;
    const r = text.trim() === '' ? undefined : parseFilter(text, { xen: this.xen() });
    this.error = r === undefined || r.ok ? undefined : r.error;
    if (this.error === undefined || !typing) return this.render(this.error);
    this.el.dataset.state = 'typing';
    this.markDirty();
    const later = (): void => {
      if (this.popup.open && this.popupKind === 'complete') this.showTimer = setTimeout(later, ERROR_DELAY_MS);
      else this.render(this.error);
    };
    this.showTimer = setTimeout(later, ERROR_DELAY_MS);
  }

  private render(error: FilterError | undefined): void {
    const text = this.input.value;
    this.el.dataset.state = error !== undefined ? 'error' : text.trim() === '' ? 'empty' : 'ok';
    this.markDirty();
    if (error === undefined) {
      this.before.data = text;
      this.mark.textContent = '';
      this.after.data = '';
      this.message.hidden = true;
      this.message.replaceChildren();
      this.input.removeAttribute('aria-invalid');
      this.input.title = '';
      return;
    }
    // The error's range, underlined under the text (an empty range at the end marks one space).
    const start = Math.min(error.start, text.length);
    const end = Math.max(start + 1, Math.min(error.end, text.length));
    this.before.data = text.slice(0, start);
    this.mark.textContent = start < text.length ? text.slice(start, end) : '\u00a0';
    this.after.data = start < text.length ? text.slice(end) : '';
    this.mirror.scrollLeft = this.input.scrollLeft;
    this.input.setAttribute('aria-invalid', 'true');
    this.input.title = error.message;
    const where = `at column ${error.start + 1}`;
    const detail = error.expected !== undefined && error.found !== undefined ? `expected ${error.expected}, found ${error.found} · ${where}` : where;
    const fix = suggestionFix(text, error);
    const fixBtn =
      fix === undefined
        ? undefined
        : h('button', { class: 'xl-ev-fix', title: `Replace with '${fix.name}'`, 'data-testid': 'event-filter-fix' }, `Use '${fix.name}'`);
    fixBtn?.addEventListener('mousedown', (e) => e.preventDefault());
    fixBtn?.addEventListener('click', () => {
      this.set(fix!.text);
      const caret = error.start + fix!.name.length;
      this.input.setSelectionRange(caret, caret);
      this.input.focus();
    });
    this.message.replaceChildren(icon('error'), h('span', { class: 'xl-ev-fmsg-text' }, error.message), h('span', { class: 'xl-ev-fmsg-detail' }, detail), ...(fixBtn === undefined ? [] : [fixBtn]));
    this.message.hidden = false;
  }

  private markDirty(): void {
    const dirty = this.input.value.trim() !== this.applied;
    this.el.classList.toggle('xl-ev-dirty', dirty);
  }

  // ---- completion and history

  private caretX(offset: number): number {
    this.measureCtx ??= document.createElement('canvas').getContext('2d');
    const cs = getComputedStyle(this.input);
    let w = 0;
    if (this.measureCtx !== null) {
      this.measureCtx.font = `${cs.fontSize} ${cs.fontFamily}`;
      w = this.measureCtx.measureText(this.input.value.slice(0, offset)).width;
    }
    const r = this.input.getBoundingClientRect();
    return r.left + parseFloat(cs.paddingLeft) + w - this.input.scrollLeft;
  }

  /** Shows what may be typed at the caret; `explicit` (Ctrl+Space) opens it even between words. */
  private complete(explicit: boolean): void {
    const text = this.input.value;
    const caret = this.input.selectionStart ?? text.length;
    if (!explicit && (this.input.selectionEnd !== caret || !OPENS_COMPLETION.test(text.slice(0, caret)))) {
      this.popup.close();
      return;
    }
    const c = filterCompletions(text, caret, { xen: this.xen() });
    const typed = text.slice(c.from, caret);
    const items = c.items.slice(0, 200);
    if (items.length === 0 || (!explicit && items.length === 1 && items[0]!.label === typed)) {
      this.popup.close();
      return;
    }
    this.popupKind = 'complete';
    this.completeFrom = c.from;
    const r = this.input.getBoundingClientRect();
    this.popup.show(
      items.map((i): PopupItem => ({ label: i.label, detail: i.detail })),
      this.caretX(c.from) - 8,
      r.bottom + 2,
      r.height + 4,
    );
  }

  private showHistory(): void {
    const r = this.input.getBoundingClientRect();
    const items: PopupItem[] = this.history.length === 0 ? [{ label: 'No filter applied yet', detail: 'filters you apply are kept here', disabled: true }] : this.history.map((t) => ({ label: t }));
    this.popupKind = 'history';
    this.popup.show(items, r.left, r.bottom + 2, r.height + 4);
    this.input.focus();
  }

  private accept(i: number): void {
    const item = this.popup.items[i];
    if (item === undefined || item.disabled === true) return;
    if (this.popupKind === 'history') {
      this.set(item.label);
      this.apply();
      return;
    }
    const text = this.input.value;
    const caret = this.input.selectionStart ?? text.length;
    // Replace what was typed of the item (and the rest of the word under the caret).
    const rest = /^[A-Za-z0-9_.-]*/.exec(text.slice(caret))![0];
    const wordLike = /^[A-Za-z0-9_.-]/.test(item.label);
    const end = wordLike ? caret + rest.length : caret;
    const next = text.slice(0, this.completeFrom) + item.label + text.slice(end);
    const at = this.completeFrom + item.label.length;
    this.input.value = next;
    this.input.setSelectionRange(at, at);
    this.popup.close();
    this.check(true);
    // After an operator comes a value: offer the field's names at once.
    if (/[=!<>~]$/.test(item.label)) this.complete(false);
  }

  private onKey(e: KeyboardEvent): void {
    if (this.popup.open) {
      switch (e.key) {
        case 'ArrowDown':
        case 'ArrowUp':
          e.preventDefault();
          this.popup.move(e.key === 'ArrowDown' ? 1 : -1);
          return;
        case 'PageDown':
        case 'PageUp':
          e.preventDefault();
          this.popup.move(e.key === 'PageDown' ? 8 : -8);
          return;
        case 'Tab':
        case 'Enter':
          e.preventDefault();
          this.accept(this.popup.active);
          return;
        case 'Escape':
          e.preventDefault();
          e.stopPropagation();
          this.popup.close();
          return;
      }
    }
    if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault();
      this.complete(true);
    } else if ((e.key === 'ArrowDown' && e.altKey) || (e.key === 'ArrowDown' && this.input.value === '')) {
      e.preventDefault();
      this.showHistory();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      this.apply();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      // Back to the filter the list shows; then back to the list.
      if (this.input.value.trim() !== this.applied) this.set(this.applied);
      else this.onLeave();
    }
  }
}
