/**
 * The contract over the web mode's WebSocket (src/web/server.ts): requests
 * matched to answers by id, events handed to listeners. When the connection
 * drops, pending requests fail with a message, the state becomes 'lost' and
 * it reconnects (backing off to 2 s); the page names itself with a client id
 * so the server gives it back its session.
 */
import { HostError, type EventName, type Events, type HostApi, type Params, type RequestName, type Result, type WireEvent, type WireResponse } from '../../../contract/api.js';
import { Emitter } from '../util/emitter.js';

export type ConnectionState = 'connecting' | 'open' | 'lost';

export interface ConnectionEvents {
  state: { state: ConnectionState; reconnected: boolean; attempt: number };
}

/** Requests that would rather wait for the connection than fail (reads, with no effect if sent twice). */
const WAITS_FOR_CONNECTION = new Set<string>(['app.info', 'editor.support', 'session.sync', 'files.recent', 'drafts.list', 'exercises.list']);

export class WsHost implements HostApi {
  readonly connection = new Emitter<ConnectionEvents>();
  state: ConnectionState = 'connecting';
  private ws: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  private readonly events = new Emitter<{ [E in EventName]: Events[E] }>();
  private readonly waiting: (() => void)[] = [];
  private attempt = 0;
  private everOpen = false;

  constructor(private readonly url: string) {
    this.connect();
  }

  request<K extends RequestName>(name: K, params: Params<K>): Promise<Result<K>> {
    if (this.state !== 'open') {
      if (!WAITS_FOR_CONNECTION.has(name)) return Promise.reject(new HostError('internal', 'the connection to the lab is lost; it is being restored'));
      return new Promise((resolve, reject) => this.waiting.push(() => void this.request(name, params).then(resolve, reject)));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws!.send(JSON.stringify({ id, name, params }));
    });
  }

  on<E extends EventName>(name: E, listener: (payload: Events[E]) => void): () => void {
    return this.events.on(name, listener);
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.connection.emit('state', { state, reconnected: state === 'open' && this.everOpen && this.attempt > 0, attempt: this.attempt });
  }

  private connect(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      const again = this.everOpen;
      this.everOpen = true;
      this.state = 'open';
      this.connection.emit('state', { state: 'open', reconnected: again, attempt: this.attempt });
      this.attempt = 0;
      for (const w of this.waiting.splice(0)) w();
    };
    ws.onmessage = (e: MessageEvent<string>) => {
      let m: WireResponse | WireEvent;
      try {
        m = JSON.parse(e.data) as WireResponse | WireEvent;
      } catch {
        return;
      }
      if ('event' in m) {
        this.events.emit(m.event as EventName, m.payload as never);
        return;
      }
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new HostError(m.error.code, m.error.message));
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      for (const p of this.pending.values()) p.reject(new HostError('internal', 'the connection to the lab was lost before it answered'));
      this.pending.clear();
      this.attempt++;
      this.setState('lost');
      setTimeout(() => this.connect(), Math.min(2000, 125 * 2 ** Math.min(this.attempt, 4)));
    };
  }
}
