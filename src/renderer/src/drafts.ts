/**
 * Crash recovery: the buffer is kept as a draft on the host while it has
 * unsaved changes (a second after typing stops, and when the page hides),
 * dropped when it is saved or its changes are undone, and offered back when
 * the lab starts again.
 */
import type { HostApi } from '../../contract/api.js';
import type { DraftInfo } from '../../contract/files.js';
import type { ScenarioDocument } from './document.js';
import { debounce } from './util/dom.js';

export class DraftKeeper {
  private kept = new Set<string>();

  constructor(
    private readonly host: HostApi,
    private readonly doc: ScenarioDocument,
  ) {
    const later = debounce(() => this.sync(), 1000);
    doc.on('changed', () => later());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') later.flush();
    });
    window.addEventListener('pagehide', () => later.flush());
  }

  /** Keeps or drops the draft of the current buffer to match its state. */
  sync(): void {
    const key = this.doc.draftKey;
    if (this.doc.dirty) {
      this.kept.add(key);
      this.host.request('drafts.save', { key, file: this.doc.path ?? this.doc.name, text: this.doc.text }).catch(() => {
        // the data folder cannot be written: the buffer is still in the editor
      });
    } else if (this.kept.has(key)) this.discard(key);
  }

  discard(key: string): void {
    this.kept.delete(key);
    this.host.request('drafts.discard', { key }).catch(() => {});
  }

  /** Drafts left by an earlier run of the lab. */
  async leftOver(): Promise<DraftInfo[]> {
    try {
      return (await this.host.request('drafts.list', {})).drafts;
    } catch {
      return [];
    }
  }
}
