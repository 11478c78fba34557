/**
 * Stands in for the lab host (src/host/lab_host.ts, built on another branch and not here yet):
 * it records the requests it gets, answers them from a table a test fills in, and emits events
 * when a test says so. It exercises the shell's wiring, not the lab.
 */
import { HostError, type EventName, type Events, type Params, type RequestName, type Result } from '../../src/contract/api.js';
import type { LabHostLike, LabHostOptions } from '../../src/main/host_port.js';

type Answer = (params: unknown) => unknown;

export class TestHost implements LabHostLike {
  readonly requests: { name: string; params: unknown }[] = [];
  readonly answers = new Map<string, Answer>();
  closed = false;
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();

  constructor(readonly options: LabHostOptions) {}

  request<K extends RequestName>(name: K, params: Params<K>): Promise<Result<K>> {
    this.requests.push({ name, params });
    const answer = this.answers.get(name);
    if (answer === undefined) return Promise.reject(new HostError('bad-request', `unknown request '${name}'`));
    try {
      return Promise.resolve(answer(params) as Result<K>);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  on<E extends EventName>(name: E, listener: (payload: Events[E]) => void): () => void {
    const set = this.listeners.get(name) ?? new Set();
    this.listeners.set(name, set);
    const l = listener as (payload: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  }

  emit<E extends EventName>(name: E, payload: Events[E]): void {
    for (const listener of this.listeners.get(name) ?? []) listener(payload);
  }

  listenerCount(): number {
    return [...this.listeners.values()].reduce((n, s) => n + s.size, 0);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
