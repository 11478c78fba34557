/**
 * Strict checking of request parameters: what came over IPC or a WebSocket
 * may be anything (a UI bug, a hostile page). Each check either returns the
 * value typed, or throws HostError('bad-request') naming the request, the
 * parameter, what was expected and what was found.
 */
import { HostError } from '../../contract/api.js';

export type Check<T> = (v: unknown, where: string) => T;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function bad(where: string, expected: string, v: unknown): never {
  throw new HostError('bad-request', `${where}: expected ${expected}, found ${describe(v)}`);
}

export function str(opts: { max?: number; nonEmpty?: boolean } = {}): Check<string> {
  const max = opts.max ?? 64 * 2 ** 20;
  return (v, where) => {
    if (typeof v !== 'string') bad(where, 'a string', v);
    if (v.length > max) bad(where, `a string of at most ${max} characters`, v);
    if (opts.nonEmpty && v.length === 0) bad(where, 'a non-empty string', v);
    return v;
  };
}

export function int(min: number, max: number): Check<number> {
  return (v, where) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) bad(where, `a whole number`, v);
    if (v < min || v > max) bad(where, `a whole number from ${min} to ${max}`, v);
    return v;
  };
}

export function num(min: number, max: number): Check<number> {
  return (v, where) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(where, 'a number', v);
    if (v < min || v > max) bad(where, `a number from ${min} to ${max}`, v);
    return v;
  };
}

export function oneOf<T extends string>(...values: T[]): Check<T> {
  return (v, where) => {
    if (typeof v !== 'string' || !(values as string[]).includes(v)) bad(where, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v);
    return v as T;
  };
}

export function optional<T>(c: Check<T>): Check<T | undefined> & { optional: true } {
  const f = ((v: unknown, where: string) => (v === undefined ? undefined : c(v, where))) as Check<T | undefined> & { optional: true };
  f.optional = true;
  return f;
}

type Shape = Record<string, Check<unknown>>;
type Out<S extends Shape> = { [K in keyof S as S[K] extends { optional: true } ? never : K]: ReturnType<S[K]> } & {
  [K in keyof S as S[K] extends { optional: true } ? K : never]?: Exclude<ReturnType<S[K]>, undefined>;
};

/** An object with exactly these keys (optional ones may be left out); any other key is refused. */
export function obj<S extends Shape>(shape: S): Check<Out<S>> {
  return (v, where) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(where, 'an object', v);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!(k in shape)) throw new HostError('bad-request', `${where}: unknown parameter "${k}" (expected ${Object.keys(shape).join(', ') || 'none'})`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(shape)) {
      const x = check(o[k], `${where}.${k}`);
      if (x !== undefined) out[k] = x;
    }
    return out as Out<S>;
  };
}

/** A tagged union: `key` chooses the shape. */
export function union<K extends string>(key: K, shapes: Record<string, Shape>): Check<Record<string, unknown>> {
  return (v, where) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(where, 'an object', v);
    const tag = (v as Record<string, unknown>)[key];
    const shape = typeof tag === 'string' ? shapes[tag] : undefined;
    if (shape === undefined) bad(`${where}.${key}`, `one of ${Object.keys(shapes).map((x) => JSON.stringify(x)).join(', ')}`, tag);
    return obj({ ...shape, [key]: oneOf(tag as string) })(v, where);
  };
}

export const NONE = obj({});
