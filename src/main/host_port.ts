/**
 * What the shell needs of the lab host: its types, from src/host/lab_host.ts.
 * index.ts assigns the real factory to `CreateLabHost`.
 */
import type { LabHost, LabHostOptions } from '../host/lab_host.js';

export type { DialogProvider, LabHostOptions } from '../host/lab_host.js';

/** One window's lab: the contract's API, and close() when the window goes. */
export type LabHostLike = LabHost;

export type CreateLabHost = (options: LabHostOptions) => LabHostLike;
