/**
 * Drafts: unsaved editor buffers kept in the data folder as they are typed,
 * so a crash, a closed tab or a power cut loses nothing. Each draft is one
 * JSON file named by a hash of its key, written atomically; the UI offers
 * them back at start and discards one when its buffer is saved.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { HostError } from '../../contract/api.js';
import type { DraftInfo } from '../../contract/files.js';
import { reason } from '../files.js';
import type { FileService } from './file_service.js';

interface DraftDoc {
  key: string;
  file: string;
  text: string;
  savedAtMs: number;
}

function isDraft(x: unknown): x is DraftDoc {
  const d = x as DraftDoc;
  return typeof d === 'object' && d !== null && typeof d.key === 'string' && typeof d.file === 'string' && typeof d.text === 'string' && typeof d.savedAtMs === 'number';
}

export class Drafts {
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly files: FileService,
  ) {
    this.dir = join(dataDir, 'drafts');
  }

  private fileOf(key: string): string {
    return join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }

  save(key: string, file: string, text: string): void {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw new HostError('io', `cannot keep a draft in ${this.dir}: ${reason(e)}`);
    }
    const doc: DraftDoc = { key, file, text, savedAtMs: Date.now() };
    this.files.writeAtomic(this.fileOf(key), JSON.stringify(doc), `the draft of ${file}`);
  }

  private load(path: string): DraftDoc | undefined {
    try {
      const doc = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      return isDraft(doc) ? doc : undefined;
    } catch {
      return undefined; // unreadable: not offered
    }
  }

  list(): DraftInfo[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: DraftInfo[] = [];
    for (const n of names) {
      const d = this.load(join(this.dir, n));
      if (d !== undefined) out.push({ key: d.key, file: d.file, savedAtMs: d.savedAtMs, bytes: Buffer.byteLength(d.text) });
    }
    return out.sort((a, b) => b.savedAtMs - a.savedAtMs);
  }

  read(key: string): { file: string; text: string } {
    const d = this.load(this.fileOf(key));
    if (d === undefined || d.key !== key) throw new HostError('not-found', `there is no draft for ${key}`);
    return { file: d.file, text: d.text };
  }

  discard(key: string): void {
    try {
      unlinkSync(this.fileOf(key));
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw new HostError('io', `cannot remove the draft of ${key}: ${reason(e)}`);
    }
  }
}
