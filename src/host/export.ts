/**
 * Exporting a trace: a scenario run (or a recording replayed) streamed as
 * JSON Lines or as Chrome trace-event JSON, to a file written atomically or
 * to standard output. Records are encoded as each batch arrives and written
 * in pieces of about 1 MiB: memory stays flat however long the trace.
 * Recordings are read here too (they may be far larger than a scenario).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { decodeRecord, type TraceBatch } from '../core/sim/trace.js';
import { ChromeTraceEncoder, type ChromeTraceOptions } from '../scenario/chrome_trace.js';
import type { Scenario } from '../scenario/model.js';
import { looksLikeRecording, parseRecording, replay, recordingToJson, type Recording, type ReplayResult } from '../scenario/recording.js';
import { runScenario, type RunResult } from '../scenario/runner.js';
import { loadScenario } from '../scenario/stepform.js';
import { AtomicFile, FileError, readRecordingText, readScenarioText, reason } from './files.js';

export const EXPORT_FORMATS = ['jsonl', 'chrome-trace'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Where text goes. */
export interface TextSink {
  write(text: string): void;
}

/** Where bytes go. */
export interface ByteTarget {
  write(bytes: Uint8Array): void;
}

/**
 * Encodes text as UTF-8 into a buffer of `size` bytes as it comes, handing
 * the target a full buffer at a time (the same buffer each time: the target
 * copies or writes it before returning). Pieces are encoded at once, so no
 * string outlives its write.
 */
export class ByteSink implements TextSink {
  private readonly buf: Uint8Array;
  private len = 0;
  private readonly utf8 = new TextEncoder();

  constructor(
    private readonly target: ByteTarget,
    size = 1 << 20,
  ) {
    this.buf = new Uint8Array(size);
  }

  write(text: string): void {
    if (text.length === 0) return;
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    if (this.len + text.length * 3 > this.buf.length) {
      this.flush();
      if (text.length * 3 > this.buf.length) {
        this.target.write(this.utf8.encode(text));
        return;
      }
    }
    this.len += this.utf8.encodeInto(text, this.buf.subarray(this.len)).written;
  }

  flush(): void {
    if (this.len === 0) return;
    this.target.write(this.buf.subarray(0, this.len));
    this.len = 0;
  }
}

/** What a trace comes from: a scenario to run, or a recording to replay. */
export type TraceSource = { kind: 'scenario'; file: string; scenario: Scenario } | { kind: 'recording'; file: string; recording: Recording };

/** A recording read from a file; unreadable files throw FileError, bad content RecordingError. */
export function readRecording(file: string): Recording {
  return parseRecording(file, readRecordingText(file));
}

/**
 * FILE as a trace source: a recording if it is JSON that says it is one
 * (it has a "format" key), else a scenario (checked as `xenlab run` checks it).
 */
export function readTraceSource(file: string): TraceSource {
  if (startsWithBrace(file)) {
    const text = readRecordingText(file);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined; // not JSON: a YAML scenario in flow style, maybe
    }
    if (looksLikeRecording(doc)) return { kind: 'recording', file, recording: parseRecording(file, text, doc) };
  }
  return { kind: 'scenario', file, scenario: loadScenario(file, readScenarioText(file)) };
}

/** Whether the file's first non-blank character is "{" (false for anything unreadable: the scenario reader says why). */
function startsWithBrace(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const m = /^\s*(.)/.exec(buf.subarray(0, n).toString('latin1'));
    return m?.[1] === '{';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface ExportResult {
  records: number;
  /** The run's outcome (a scenario's, or the replay's steps). */
  run: RunResult;
  /** For a recording: how the replay compared with it. */
  replay?: ReplayResult;
}

/**
 * Records encoded per write: a batch (all a run's records, when a step runs
 * the clock far) is cut so each piece of text is written, and dropped, young.
 */
const SLICE = 256;

/** An encoder of records as they come, in one of the export formats. */
export interface TraceEncoder {
  batch(b: TraceBatch): void;
  finish(): void;
  readonly records: number;
}

/** Encodes records into `out` in `format` (chrome-trace: with `chrome`'s VIRQ names and otherData). */
export function traceEncoder(format: ExportFormat, out: TextSink, chrome: ChromeTraceOptions = {}): TraceEncoder {
  let records = 0;
  if (format === 'jsonl') {
    return {
      batch(b) {
        const c = b.chunk;
        for (let s = b.start; s < b.end; s += SLICE) {
          let text = '';
          for (let i = s, end = Math.min(b.end, s + SLICE); i < end; i++) text += `${JSON.stringify(decodeRecord(c, i))}\n`;
          out.write(text);
        }
        records += b.end - b.start;
      },
      finish() {},
      get records() {
        return records;
      },
    };
  }
  const enc = new ChromeTraceEncoder(chrome);
  out.write(enc.begin());
  return {
    batch(b) {
      for (let s = b.start; s < b.end; s += SLICE) out.write(enc.batch({ chunk: b.chunk, start: s, end: Math.min(b.end, s + SLICE) }));
      records += b.end - b.start;
    },
    finish() {
      out.write(enc.end());
    },
    get records() {
      return records;
    },
  };
}

/** Streams the trace of `src` in `format` into `sink`. A scenario runs with `seed` if given. */
export function exportTrace(src: TraceSource, format: ExportFormat, out: TextSink, opts: { seed?: number } = {}): ExportResult {
  const sc = src.kind === 'scenario' ? src.scenario : undefined;
  const otherData: Record<string, unknown> =
    src.kind === 'scenario'
      ? { source: 'scenario', file: src.file, name: src.scenario.name, seed: opts.seed ?? src.scenario.seed }
      : { source: 'recording', file: src.file, scenario_file: src.recording.file, seed: src.recording.seed, inputs: src.recording.inputs.length };
  const xen = format === 'jsonl' ? undefined : (sc?.xen ?? recordedXen(src));
  const enc = traceEncoder(format, out, { ...(xen === undefined ? {} : { xen }), otherData });
  const onBatch = (b: TraceBatch): void => enc.batch(b);
  if (src.kind === 'scenario') {
    const run = runScenario(src.scenario, { ...(opts.seed === undefined ? {} : { seed: opts.seed }), onMachine: (hv) => void hv.trace.subscribe(onBatch) });
    enc.finish();
    return { records: enc.records, run };
  }
  const r = replay(src.recording, { onBatch });
  enc.finish();
  return { records: enc.records, run: r.result, replay: r };
}

/**
 * Records already made (a lab session's trace) exported to `target`
 * atomically: nothing is left there if it fails. Returns the bytes written.
 */
export function exportBatchesToFile(batches: Iterable<TraceBatch>, format: ExportFormat, target: string, chrome: ChromeTraceOptions = {}): { records: number; bytes: number } {
  let bytes = 0;
  const file = new AtomicFile(target);
  try {
    const sink = new ByteSink({
      write(b) {
        writeOrFail(file, b);
        bytes += b.length;
      },
    });
    const enc = traceEncoder(format, sink, chrome);
    for (const b of batches) enc.batch(b);
    enc.finish();
    sink.flush();
    commitOrFail(file);
    return { records: enc.records, bytes };
  } catch (e) {
    file.abort();
    throw e;
  }
}

/** The Xen version of a recording's scenario, without running it (for VIRQ names); undefined if it does not load. */
function recordedXen(src: TraceSource): Scenario['xen'] | undefined {
  if (src.kind !== 'recording') return undefined;
  try {
    return loadScenario(src.recording.file, src.recording.scenario).xen;
  } catch {
    return undefined; // replay reports it
  }
}

export interface ExportOptions {
  /** Run a scenario with this seed instead of its own. */
  seed?: number;
  /** Called after each write with the bytes written so far (for progress, or the benchmark's memory samples). */
  onWrite?: (bytes: number) => void;
}

/** Exports to `target` atomically (nothing is left there if it fails), or to standard output when target is undefined. */
export function exportToFile(src: TraceSource, format: ExportFormat, target: string | undefined, opts: ExportOptions = {}): ExportResult {
  let written = 0;
  const counted = (write: (b: Uint8Array) => void): ByteTarget => ({
    write(b) {
      write(b);
      written += b.length;
      opts.onWrite?.(written);
    },
  });
  const run = opts.seed === undefined ? {} : { seed: opts.seed };
  if (target === undefined) {
    // A copy: process.stdout may still hold the bytes when write returns.
    const sink = new ByteSink(counted((b) => void process.stdout.write(b.slice())));
    const r = exportTrace(src, format, sink, run);
    sink.flush();
    return r;
  }
  const file = new AtomicFile(target);
  try {
    const sink = new ByteSink(counted((b) => writeOrFail(file, b)));
    const r = exportTrace(src, format, sink, run);
    sink.flush();
    commitOrFail(file);
    return r;
  } catch (e) {
    file.abort();
    throw e;
  }
}

/** Writes a recording into an AtomicFile opened for it (opened before the run, so a bad target fails early) and commits it. */
export function writeRecording(file: AtomicFile, rec: Recording): void {
  try {
    writeOrFail(file, recordingToJson(rec));
    commitOrFail(file);
  } catch (e) {
    file.abort();
    throw e;
  }
}

function writeOrFail(file: AtomicFile, text: string | Uint8Array): void {
  try {
    file.write(text);
  } catch (e) {
    throw new FileError(`cannot write ${file.target}: ${reason(e)}`);
  }
}

function commitOrFail(file: AtomicFile): void {
  try {
    file.commit();
  } catch (e) {
    throw new FileError(`cannot write ${file.target}: ${reason(e)}`);
  }
}
