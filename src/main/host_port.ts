/**
 * What the shell needs of the lab host, as types only. It matches src/host/lab_host.ts
 * (`createLabHost`, `LabHostOptions`, `DialogProvider`, `LabHost`), which the shell was written
 * against before that file was on this branch; index.ts assigns the real factory to
 * `CreateLabHost`, so a drift between the two fails the type-check.
 */
import type { HostApi, HostMode } from '../contract/api.js';

/** Native file dialogs, for the host's files.pickOpen / files.pickSave (null: cancelled). */
export interface DialogProvider {
  pickOpen(kind: 'scenario' | 'recording'): Promise<string | null>;
  pickSave(kind: 'scenario' | 'recording' | 'trace', suggested: string): Promise<string | null>;
}

export interface LabHostOptions {
  mode: HostMode;
  version: string;
  /** Folders the UI may browse for scenarios and exercises. */
  roots: { name: string; path: string }[];
  /** Where recent files, drafts and settings live (Electron: app.getPath('userData')). */
  dataDir: string;
  dialogs?: DialogProvider;
}

/** One window's lab: the contract's API, and close() when the window goes. */
export interface LabHostLike extends HostApi {
  close(): Promise<void>;
}

export type CreateLabHost = (options: LabHostOptions) => LabHostLike;
