/** File kinds and dialog filters (src/main/file_kinds.ts). No Electron here. */
import { describe, expect, it } from 'vitest';
import { extensionOf, OPEN_FILTERS, saveFiltersFor } from '../../src/main/file_kinds.js';

describe('file kinds', () => {
  it('reads extensions in lower case, without the dot, on either separator', () => {
    expect(extensionOf('/a/b/boot.XENLAB')).toBe('xenlab');
    expect(extensionOf('C:\\labs\\run.rec.json')).toBe('json');
    expect(extensionOf('/a.b/Makefile')).toBe('');
    expect(extensionOf('.hidden')).toBe('');
    expect(extensionOf('trailing.')).toBe('');
  });

  it("offers the suggested name's type first when saving", () => {
    expect(saveFiltersFor('trace', 'x.jsonl').map((f) => f.extensions)).toEqual([['jsonl'], ['json']]);
    expect(saveFiltersFor('trace', 'x.json').map((f) => f.extensions)).toEqual([['json'], ['jsonl']]);
    expect(saveFiltersFor('scenario', 'lab.ts')[0]?.extensions).toEqual(['ts']);
    expect(saveFiltersFor('scenario', 'lab.xenlab')[0]?.extensions).toEqual(['xenlab']);
    expect(saveFiltersFor('scenario', 'untitled').map((f) => f.extensions)).toEqual([['yaml', 'yml'], ['xenlab'], ['ts']]);
  });

  it('lets every open dialog fall back to all files', () => {
    for (const filters of Object.values(OPEN_FILTERS)) expect(filters.at(-1)).toEqual({ name: 'All files', extensions: ['*'] });
  });
});
