/**
 * Stands in for src/host/lab_host.ts until that file is merged into this branch: index.ts
 * imports `createLabHost` from here on one line, which the merge points at '../host/lab_host.js'
 * (then this file is deleted). Every request is refused with a message saying so; nothing here
 * pretends to be a lab.
 */
import { HostError } from '../contract/api.js';
import type { CreateLabHost, LabHostLike } from './host_port.js';

export const createLabHost: CreateLabHost = (): LabHostLike => ({
  request: () => Promise.reject(new HostError('internal', 'this build has no lab host yet (src/host/lab_host.ts is not merged)')),
  on: () => () => {},
  close: () => Promise.resolve(),
});
