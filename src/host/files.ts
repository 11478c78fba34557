/**
 * Files as the host reads and writes them: scenario text read with a size
 * limit and a check that it is text, and outputs written atomically (a
 * temporary file beside the target, fsynced, renamed into place), so a failed
 * run never leaves half a file where a good one was.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { decodeRecord, type TraceBatch } from '../core/sim/trace.js';
import { ScenarioInputError } from '../scenario/errors.js';

export const MAX_SCENARIO_BYTES = 16 * 2 ** 20;

/** A file that cannot be read or written; the message says which and why. */
export class FileError extends Error {}

/** Why a file operation failed, in words. */
export function reason(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'ENOSPC') return 'no space left on the device';
  return e instanceof Error ? e.message : String(e);
}

/** A scenario's text: at most MAX_SCENARIO_BYTES, and no NUL byte (binary files are refused with a position). */
export function readScenarioText(file: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new FileError(`cannot read ${file}: ${reason(e)}`);
  }
  if (size > MAX_SCENARIO_BYTES) throw new FileError(`${file} is ${(size / 2 ** 20).toFixed(1)} MiB; a scenario may be at most ${MAX_SCENARIO_BYTES / 2 ** 20} MiB`);
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new FileError(`cannot read ${file}: ${reason(e)}`);
  }
  const nul = buf.indexOf(0);
  if (nul >= 0) {
    const line = buf.subarray(0, nul).toString('utf8').split('\n').length;
    throw new ScenarioInputError([{ file, line, col: 1, path: '', message: 'this is not a text file (it contains a NUL byte)', hint: 'scenarios are YAML text' }]);
  }
  return buf.toString('utf8');
}

/** The most a recording may take (its kept records make it ~12 bytes per trace record). */
export const MAX_RECORDING_BYTES = 256 * 2 ** 20;

/** A recording's text (JSON): at most MAX_RECORDING_BYTES. What it holds is checked by src/scenario/recording.ts. */
export function readRecordingText(file: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new FileError(`cannot read ${file}: ${reason(e)}`);
  }
  if (size > MAX_RECORDING_BYTES) throw new FileError(`${file} is ${(size / 2 ** 20).toFixed(1)} MiB; a recording may be at most ${MAX_RECORDING_BYTES / 2 ** 20} MiB`);
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new FileError(`cannot read ${file}: ${reason(e)}`);
  }
}

/** A file written in pieces to a temporary name and renamed into place on commit; abort leaves the target as it was. */
export class AtomicFile {
  private readonly tmp: string;
  private readonly fd: number;

  constructor(readonly target: string) {
    this.tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
    try {
      this.fd = openSync(this.tmp, 'w');
    } catch (e) {
      throw new FileError(`cannot write ${target}: ${reason(e)}`);
    }
  }

  write(data: string | Uint8Array): void {
    if (typeof data === 'string') writeSync(this.fd, data);
    else for (let at = 0; at < data.length; ) at += writeSync(this.fd, data, at, data.length - at);
  }

  commit(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.target);
  }

  abort(): void {
    try {
      closeSync(this.fd);
      unlinkSync(this.tmp);
    } catch {
      // nothing left to clean
    }
  }
}

/** Trace records as JSON Lines, written atomically. */
export class JsonlWriter {
  private readonly file: AtomicFile;
  private pending: string[] = [];
  private pendingBytes = 0;

  constructor(target: string) {
    this.file = new AtomicFile(target);
  }

  batch(b: TraceBatch): void {
    for (let i = b.start; i < b.end; i++) {
      const line = JSON.stringify(decodeRecord(b.chunk, i));
      this.pending.push(line);
      this.pendingBytes += line.length + 1;
    }
    if (this.pendingBytes > 1 << 20) this.drain();
  }

  private drain(): void {
    if (this.pending.length === 0) return;
    this.file.write(`${this.pending.join('\n')}\n`);
    this.pending = [];
    this.pendingBytes = 0;
  }

  commit(): void {
    this.drain();
    this.file.commit();
  }

  abort(): void {
    this.file.abort();
  }
}
