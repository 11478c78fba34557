/** A small typed event emitter: `on` returns the function that unsubscribes. */
export class Emitter<M> {
  private readonly listeners = new Map<keyof M, Set<(payload: never) => void>>();

  on<K extends keyof M>(name: K, fn: (payload: M[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) this.listeners.set(name, (set = new Set()));
    set.add(fn as (payload: never) => void);
    return () => void set.delete(fn as (payload: never) => void);
  }

  emit<K extends keyof M>(name: K, payload: M[K]): void {
    for (const fn of [...(this.listeners.get(name) ?? [])]) (fn as (p: M[K]) => void)(payload);
  }
}
